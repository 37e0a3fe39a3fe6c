import type { ActorLogic, ActorScope, EventObject } from 'xstate';
import { Redis } from 'ioredis';
import type { AnyActorSystem } from './any-actor-system';
import { ClusterLeases, DEFAULT_LEASE_TTL_MS, permitsKey } from './cluster-leases';
import { PoolCore, type PoolEvent, type PoolHolding, type PoolInput, type PoolSnapshot } from './pool.actor';
import type { ResourceWaiter } from '../src/internal/waiter-queue';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';

/** What a cluster pool is created with: a pool's input, and where its units are counted. @internal */
export interface ClusterPoolInput extends PoolInput {
  /** The connection to the cluster's Redis; the pool does not own it (nor close it). */
  readonly redis: Redis;
  /** The cluster's name: the pool's permits are kept under {@link clusterPoolKey}. */
  readonly cluster: string;
  /** This node's name, unique in the cluster. */
  readonly node: string;
  /** The clock its retries are timed on, and its events stamped with. */
  readonly clock: Clock;
  /**
   * How long a node's permits live unrefreshed: a node that dies holds its units this long at most.
   * @default 10000
   */
  readonly leaseTtlMs?: number;
  /** How long a request whose units are taken waits before it asks Redis again. @default 50 */
  readonly retryMs?: number;
  /** Where Redis errors are logged. */
  readonly logger?: Logger;
  /** Told of the pool's holdings and queue after each change, for detection across nodes. */
  readonly waits?: ClusterPoolWaits;
}

/**
 * What hears a cluster pool's holdings and queue after each change: this node's part of the
 * cluster's wait-for graph (actors/cluster-deadlocks.ts). Plain data, never changed afterwards.
 * @internal
 */
export interface ClusterPoolWaits {
  update(pool: string, capacity: number, holdings: readonly PoolHolding[], waiting: readonly ResourceWaiter[]): void;
}

/** Events a cluster pool accepts: a pool's, and what its Redis side tells it. @internal */
export type ClusterPoolEvent =
  | PoolEvent
  | { readonly type: 'cluster-pool.reserved'; readonly requestId: string }
  | { readonly type: 'cluster-pool.lost'; readonly leaseId: string };

type ClusterPoolScope = ActorScope<PoolSnapshot, ClusterPoolEvent>;

/** The Redis key of the sorted set of a cluster pool's permits: `semaphore:mezan:<cluster>:pool:<name>`. @internal */
export function clusterPoolKey(cluster: string, name: string): string {
  return permitsKey(clusterPoolSemaphore(cluster, name));
}

function clusterPoolSemaphore(cluster: string, name: string): string {
  return `mezan:${cluster}:pool:${name}`;
}

/**
 * Opens the connection an engine's cluster pools share. Commands wait while it reconnects (a
 * request keeps waiting for its units; a held lease's refreshes resume, or it lapses).
 * @param onError - told of each connection error (ioredis retries by itself)
 * @internal
 */
export function openClusterPoolConnection(url: string, onError: (error: unknown) => void): Redis {
  return new Redis(url, { maxRetriesPerRequest: null }).on('error', onError);
}

/** One cluster pool's live parts: the pool's own book (its FIFO queue, leases, statistics, graph) and its permits in Redis. */
interface ClusterPoolParts {
  readonly core: PoolCore;
  readonly leases: ClusterLeases;
  readonly clock: Clock;
  readonly name: string;
  readonly waits: ClusterPoolWaits | undefined;
}

const parts = new WeakMap<object, ClusterPoolParts>();

/** Asks Redis for the units of the request at the head of the queue, the next to be granted, unless it already is. */
function seekHead({ core, leases }: ClusterPoolParts): void {
  const head = core.head;
  if (head !== undefined && !leases.isSought(head.requestId)) leases.reserve(head.requestId, head.units, head.taskId);
}

/**
 * The logic of a cluster pool (`resources: { db: { capacity, scope: 'cluster' } }`): `capacity`
 * units shared by every node of a cluster, counted in Redis, offered to this node's tasks through
 * the same protocol as a local pool (`resource.request` / `release` / `cancel` / `revoke` /
 * `set-capacity`, answered `resource.granted` / `denied` / `cancelled` / `revoked`), so that a
 * task's `ctx.acquire('db')` is the same whichever the pool.
 *
 * This node's requests queue in the pool's own FIFO queue (a {@link PoolCore} behind a gate); the
 * request at its head asks Redis for its units (`actors/cluster-leases.ts`), and is granted once
 * they are reserved there, so units held cluster-wide never exceed the capacity. Between nodes,
 * fairness is what the semaphore gives: each node's head asks again every `retryMs` until units
 * are free. A lease's permits are refreshed while it is held; they lapse `leaseTtlMs` after its
 * node died, and the other nodes proceed. If a lease's permits lapse while its node lives (a
 * process stalled past the time to live, or Redis lost them), its holder hears `resource.revoked`
 * with `E_LEASE_LOST`: it no longer holds the units.
 *
 * The wait-for graph it tells its observer has this node's holders and waiters, with the pool's
 * cluster-wide capacity: a deadlock found in it is a real one (the other nodes' holdings can only
 * lower the units free). One that needs another node's tasks to close is the cluster's detector's
 * (actors/cluster-deadlocks.ts), which hears of this pool's holdings and queue through `waits`.
 *
 * @internal
 */
export const clusterPoolLogic: ActorLogic<PoolSnapshot, ClusterPoolEvent, ClusterPoolInput, AnyActorSystem, EventObject> = {
  config: 'mezan.cluster-pool',
  getInitialSnapshot(scope: ClusterPoolScope, input: ClusterPoolInput) {
    const { self } = scope;
    const logger = input.logger?.child({ actor: `resource:${input.name}`, scope: 'cluster' });
    const leases = new ClusterLeases({
      redis: input.redis,
      key: clusterPoolSemaphore(input.cluster, input.name),
      capacity: input.capacity,
      node: input.node,
      leaseTtlMs: input.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      retryMs: input.retryMs ?? 50,
      clock: input.clock,
      onReserved: (requestId) => self.send({ type: 'cluster-pool.reserved', requestId }),
      onLost: (leaseId) => self.send({ type: 'cluster-pool.lost', leaseId }),
      onError: (error, during) => logger?.warn(`Redis failed during ${during} in cluster pool ${input.name}`, { error }),
    });
    const core = new PoolCore(input, {
      isReserved: (requestId) => leases.isReserved(requestId),
      granted: (requestId, leaseId) => leases.granted(requestId, leaseId),
      leaseEnded: (leaseId) => leases.leaseEnded(leaseId),
      requestDropped: (requestId) => leases.withdraw(requestId),
    });
    parts.set(self, { core, leases, clock: input.clock, name: input.name, waits: input.waits });
    return core.snapshot();
  },
  transition(snapshot, event, scope) {
    const pool = parts.get(scope.self);
    if (pool === undefined || snapshot.status !== 'active') return snapshot;
    const { core, leases, clock } = pool;
    let changed: boolean;
    switch (event.type) {
      case 'xstate.stop':
        parts.delete(scope.self);
        void leases.close();
        return snapshot;
      case 'cluster-pool.reserved':
        changed = core.admitReserved(clock.now());
        break;
      case 'cluster-pool.lost': {
        const reason = new MezanError('E_LEASE_LOST', `A lease of cluster pool \`${pool.name}\` lapsed: its units are no longer held`, {
          details: { resource: pool.name, leaseId: event.leaseId },
        });
        changed = core.revokeLease(event.leaseId, clock.now(), reason);
        break;
      }
      default:
        changed = core.receive(event);
        if (event.type === 'resource.set-capacity') leases.capacity = core.capacity;
    }
    const next = changed ? core.snapshot() : snapshot;
    scope.defer(() => {
      if (core.hasOutbox) core.flushOutbox();
      seekHead(pool);
      if (changed) pool.waits?.update(pool.name, core.capacity, next.context.holdings, core.waiting());
    });
    return next;
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
