import type { GraphPoolChangesEvent, ResourceGraphEvent } from '../internal/resource-protocol';

/** A task's units of a local pool, held. */
export interface LocalPoolHolding {
  readonly taskId: string;
  readonly units: number;
}

/** A task's wait for units of a local pool, with the id this node's cluster part gave it. */
export interface LocalPoolRequest {
  readonly taskId: string;
  readonly units: number;
  /** Names this wait and no later one: a victim decision about it fails nothing once it ended. */
  readonly requestId: string;
}

/** One local pool while requests wait in it: its capacity, its holders, its waits. */
export interface LocalPoolState {
  readonly capacity: number;
  readonly holdings: readonly LocalPoolHolding[];
  readonly waiting: readonly LocalPoolRequest[];
}

interface ContendedPool {
  capacity: number;
  readonly holds: Map<string, number>;
  readonly requests: Map<string, LocalPoolRequest>;
}

/**
 * This node's local pools as their changes tell them to its detector (`graph.pool-changes`: a pool
 * tells its holders and waits only while requests wait in it), kept for the cluster's wait-for
 * graph: a deadlock may go through a local pool and the cluster (a cluster task that holds a local
 * pool while it awaits another cluster task, which waits for that pool), which neither the node's
 * detector (blind to awaits of cluster tasks) nor the cluster's (blind to local pools) sees whole.
 * Gives each wait an id of its own as it begins.
 * @internal
 */
export class LocalPoolWaits {
  readonly #pools = new Map<string, ContendedPool>();
  readonly #requestPrefix: string;
  #requestCount = 0;

  /** @param requestPrefix begins the ids it gives waits: unique to its owner's life. */
  constructor(requestPrefix: string) {
    this.#requestPrefix = requestPrefix;
  }

  /** Applies a pool's changes of one transition; once no request waits, the pool is forgotten. */
  apply(event: GraphPoolChangesEvent): void {
    if (!event.contended) {
      this.#pools.delete(event.resource);
      return;
    }
    let pool = this.#pools.get(event.resource);
    if (pool === undefined) this.#pools.set(event.resource, (pool = { capacity: event.capacity, holds: new Map(), requests: new Map() }));
    pool.capacity = event.capacity;
    for (const change of event.changes) this.#applyChange(pool, change);
  }

  #applyChange(pool: ContendedPool, { type, taskId, units }: ResourceGraphEvent): void {
    if (type === 'graph.holds') {
      if (units === 0) pool.holds.delete(taskId);
      else pool.holds.set(taskId, units);
      return;
    }
    if (units === 0) pool.requests.delete(taskId);
    else {
      const before = pool.requests.get(taskId);
      // A wait that grows or shrinks stays the same wait.
      pool.requests.set(taskId, { taskId, units, requestId: before?.requestId ?? `${this.#requestPrefix}${++this.#requestCount}` });
    }
  }

  /** Whether a request waits in some local pool. */
  get contended(): boolean {
    return this.#pools.size > 0;
  }

  /** Whether task `taskId`'s wait `requestId` is still pending. */
  isWaiting(taskId: string, requestId: string): boolean {
    for (const pool of this.#pools.values()) if (pool.requests.get(taskId)?.requestId === requestId) return true;
    return false;
  }

  /** The pools in which requests wait, by name. */
  *pools(): IterableIterator<[string, LocalPoolState]> {
    for (const [name, { capacity, holds, requests }] of this.#pools) {
      const holdings = [...holds].map(([taskId, units]) => ({ taskId, units }));
      yield [name, { capacity, holdings, waiting: [...requests.values()] }];
    }
  }

  /** What it knows, as the changes that tell it to one that knows nothing: a pool's holders and its waits each. */
  replay(): GraphPoolChangesEvent[] {
    return [...this.#pools].map(([resource, { capacity, holds, requests }]) => ({
      type: 'graph.pool-changes',
      resource,
      capacity,
      contended: true,
      changes: [
        ...[...requests.values()].map(({ taskId, units }) => ({ type: 'graph.requests', resource, taskId, units }) as const),
        ...[...holds].map(([taskId, units]) => ({ type: 'graph.holds', resource, taskId, units }) as const),
      ],
    }));
  }
}
