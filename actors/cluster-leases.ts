/**
 * The Redis side of a cluster pool: the units of one pool that the nodes of a cluster share, kept
 * by `redis-semaphore`'s multi-permit semaphore (a sorted set of permits, acquired, refreshed and
 * released by Lua scripts that run atomically on the server). A node's permits are refreshed by
 * the node while held; when the node dies (or stalls past the lease's time to live) they lapse, and
 * the other nodes' requests can take them.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MultiSemaphore } from 'redis-semaphore';
import type { Clock } from '../src/clock';

/** What {@link ClusterLeases} is created with. @internal */
export interface ClusterLeasesInput {
  /** The connection its scripts run on; the leases do not own it (nor close it). */
  readonly redis: Redis;
  /** The semaphore's name; its permits are the sorted set {@link permitsKey}(`key`). */
  readonly key: string;
  /** The pool's units, cluster-wide. */
  capacity: number;
  /** The node's name: it starts every permit's identifier, so that a look at the set says who holds what ({@link readPermit}). */
  readonly node: string;
  /** How long a permit lives unrefreshed; it is refreshed three times as often. */
  readonly leaseTtlMs: number;
  /** How long a request whose units are not free waits before it tries again. */
  readonly retryMs: number;
  /** Where retries after a Redis error are timed. */
  readonly clock: Clock;
  /** A request's units are reserved: it may be granted. */
  readonly onReserved: (requestId: string) => void;
  /** A granted lease's permits lapsed (they could not be refreshed in time): its units are gone. */
  readonly onLost: (leaseId: string) => void;
  /** A Redis error while reserving (the reservation is tried again after `retryMs`) or releasing. */
  readonly onError: (error: unknown, during: 'reserve' | 'release') => void;
}

/**
 * The Redis key of the sorted set that holds the permits of semaphore `key` (`redis-semaphore`
 * prefixes its keys with `semaphore:`).
 *
 * @internal
 */
export function permitsKey(key: string): string {
  return `semaphore:${key}`;
}

/** Who holds a permit of a cluster pool: a node's task (or an agent's message, `@agent:<name>#<n>`). @internal */
export interface PermitHolder {
  readonly node: string;
  readonly task: string;
}

/**
 * A permit's identifier: its node and task, each URI-encoded (a node's or a task's name may hold a
 * colon), then a UUID that tells apart two requests of one task. `redis-semaphore` stores each of
 * a request's units as this identifier and `_<n>`.
 */
function permitIdentifier(node: string, task: string): string {
  return `${encodeURIComponent(node)}:${encodeURIComponent(task)}:${randomUUID()}`;
}

const PERMIT = /^([^:]*):([^:]*):[0-9a-f-]{36}_[0-9]+$/;

/**
 * The node and task of a permit, read from its member of the sorted set {@link permitsKey}: one unit.
 * @returns `undefined` for a member that no {@link ClusterLeases} wrote
 * @internal
 */
export function readPermit(member: string): PermitHolder | undefined {
  const match = PERMIT.exec(member);
  if (match === null) return undefined;
  try {
    return { node: decodeURIComponent(match[1]!), task: decodeURIComponent(match[2]!) };
  } catch {
    return undefined;
  }
}

/** How long a cluster pool's permit lives unrefreshed when its pool gives no `leaseMs`. @internal */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/** One request's permits, from the start of its reservation to the end of its lease. */
interface Permits {
  readonly requestId: string;
  readonly units: number;
  readonly taskId: string;
  readonly semaphore: MultiSemaphore;
  readonly controller: AbortController;
  /** `reserving` while the semaphore is being acquired; `reserved` once acquired; `leased` once granted. */
  state: 'reserving' | 'reserved' | 'leased';
  leaseId: string | undefined;
  retryTimer: unknown;
}

/**
 * The permits one node holds or seeks in one cluster pool, by request and by lease. Every method
 * returns at once: Redis answers later, through the callbacks of {@link ClusterLeasesInput}.
 *
 * @internal
 */
export class ClusterLeases {
  readonly #input: ClusterLeasesInput;
  readonly #byRequest = new Map<string, Permits>();
  readonly #byLease = new Map<string, Permits>();
  #closed = false;

  constructor(input: ClusterLeasesInput) {
    this.#input = input;
  }

  /** The pool's units, cluster-wide; new reservations count against this. */
  set capacity(capacity: number) {
    this.#input.capacity = capacity;
  }

  /** Whether request `requestId`'s units are reserved (and not granted yet). */
  isReserved(requestId: string): boolean {
    return this.#byRequest.get(requestId)?.state === 'reserved';
  }

  /** Whether request `requestId` is being reserved or is reserved. */
  isSought(requestId: string): boolean {
    return this.#byRequest.has(requestId);
  }

  /** Starts reserving `units` for request `requestId` of task `taskId`; `onReserved` is called once they are. */
  reserve(requestId: string, units: number, taskId: string): void {
    if (this.#closed || this.#byRequest.has(requestId)) return;
    const { redis, key, node, leaseTtlMs, retryMs } = this.#input;
    const permits: Permits = {
      requestId,
      units,
      taskId,
      controller: new AbortController(),
      state: 'reserving',
      leaseId: undefined,
      retryTimer: undefined,
      semaphore: new MultiSemaphore(redis, key, this.#input.capacity, units, {
        identifier: permitIdentifier(node, taskId),
        lockTimeout: leaseTtlMs,
        // Three refreshes per time to live: one late or failed refresh does not lose the lease.
        refreshInterval: Math.max(1, Math.floor(leaseTtlMs / 3)),
        // Tried until acquired or aborted: the requester owns its timeout (it sends resource.cancel).
        acquireTimeout: Number.POSITIVE_INFINITY,
        retryInterval: retryMs,
        onLockLost: () => this.#lost(permits),
      }),
    };
    this.#byRequest.set(requestId, permits);
    this.#acquire(permits);
  }

  /** Reserved request `requestId` was granted as `leaseId`: its permits are the lease's now. */
  granted(requestId: string, leaseId: string): void {
    const permits = this.#byRequest.get(requestId);
    if (permits === undefined) return;
    this.#byRequest.delete(requestId);
    permits.state = 'leased';
    permits.leaseId = leaseId;
    this.#byLease.set(leaseId, permits);
  }

  /** Lease `leaseId` ended: its permits go back to the cluster. */
  leaseEnded(leaseId: string): void {
    const permits = this.#byLease.get(leaseId);
    if (permits === undefined) return;
    this.#byLease.delete(leaseId);
    this.#release(permits);
  }

  /** Request `requestId` is no longer wanted: its reservation stops, and permits it got go back. */
  withdraw(requestId: string): void {
    const permits = this.#byRequest.get(requestId);
    if (permits === undefined) return;
    this.#byRequest.delete(requestId);
    this.#release(permits);
  }

  /** Stops every reservation and gives every permit back; resolves once Redis has answered. */
  close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#byRequest.values(), ...this.#byLease.values()];
    this.#byRequest.clear();
    this.#byLease.clear();
    return Promise.all(all.map((permits) => this.#release(permits))).then(() => undefined);
  }

  #acquire(permits: Permits): void {
    permits.semaphore.tryAcquire(permits.controller.signal).then(
      (acquired) => {
        if (this.#byRequest.get(permits.requestId) !== permits) {
          // Withdrawn while the script ran: what it took goes back.
          if (acquired) void this.#release(permits);
          return;
        }
        if (acquired) {
          permits.state = 'reserved';
          this.#input.onReserved(permits.requestId);
        } else this.#retryLater(permits);
      },
      (error: unknown) => {
        if (this.#byRequest.get(permits.requestId) !== permits) return;
        this.#input.onError(error, 'reserve');
        this.#retryLater(permits);
      },
    );
  }

  #retryLater(permits: Permits): void {
    permits.retryTimer = this.#input.clock.setTimeout(() => {
      permits.retryTimer = undefined;
      if (this.#byRequest.get(permits.requestId) === permits) this.#acquire(permits);
    }, this.#input.retryMs);
  }

  #release(permits: Permits): Promise<void> {
    permits.controller.abort();
    if (permits.retryTimer !== undefined) this.#input.clock.clearTimeout(permits.retryTimer);
    permits.retryTimer = undefined;
    return permits.semaphore.release().catch((error: unknown) => this.#input.onError(error, 'release'));
  }

  #lost(permits: Permits): void {
    if (permits.state === 'leased') {
      if (this.#byLease.get(permits.leaseId!) !== permits) return;
      this.#byLease.delete(permits.leaseId!);
      this.#input.onLost(permits.leaseId!);
      return;
    }
    // Lapsed between its reservation and its grant: reserve again, from the start.
    if (this.#byRequest.get(permits.requestId) !== permits) return;
    this.#byRequest.delete(permits.requestId);
    void this.#release(permits);
    this.reserve(permits.requestId, permits.units, permits.taskId);
  }
}
