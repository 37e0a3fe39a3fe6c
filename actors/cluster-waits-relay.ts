import type { ClusterPoolWaits } from './cluster-pool.actor';
import type { ClusterRuns } from './cluster-worker';
import type { ClusterAwaits } from './detector.actor';
import type { PoolHolding } from './pool.actor';
import type { ResourceWaiter } from '../src/internal/waiter-queue';
import type { GraphPoolChangesEvent } from '../src/internal/resource-protocol';
import { LocalPoolWaits } from '../src/cluster/local-pool-waits';

/** A cluster pool's holdings and queue after a change, for the cross-node detector part. @internal */
export interface ClusterPoolWaitsEvent {
  readonly type: 'cluster-waits.pool';
  readonly pool: string;
  readonly capacity: number;
  readonly holdings: readonly PoolHolding[];
  readonly waiting: readonly ResourceWaiter[];
}

/** A task of this node began (`active`) or ended an await of task `awaited`. @internal */
export interface ClusterAwaitEvent {
  readonly type: 'cluster-waits.await';
  readonly taskId: string;
  readonly awaited: string;
  readonly active: boolean;
}

/** A local pool's changes of one transition, as this node's detector heard them. @internal */
export interface LocalPoolChangedEvent {
  readonly type: 'cluster-waits.local-pool';
  readonly change: GraphPoolChangesEvent;
}

/** What the cross-node detector part hears of this node's waits. @internal */
export type ClusterWaitsEvent = ClusterPoolWaitsEvent | ClusterAwaitEvent | LocalPoolChangedEvent;

/**
 * Where this node's cluster pools and detector tell their waits (as {@link ClusterPoolWaits} and
 * {@link ClusterAwaits}), sent on as events to the cross-node detector part
 * (actors/cluster-deadlocks.actor.ts), and its working side which local task runs which cluster
 * task's attempt ({@link ClusterRuns}), kept here alone: the part asks for it ({@link jobOf}) only
 * when it publishes its edges, which is rare, where a message per attempt cost each job two of
 * them. It outlives that part: it keeps each pool's last waits, the awaits still pending and the
 * attempts still running, and tells the waits again to a part the supervisor restarted, which would
 * otherwise know nothing of what began before it.
 * @internal
 */
export class ClusterWaitsRelay implements ClusterPoolWaits, ClusterAwaits, ClusterRuns {
  #target: { send(event: ClusterWaitsEvent): void } | undefined;
  readonly #pools = new Map<string, ClusterPoolWaitsEvent>();
  /** The pending awaits: by waiting task, the tasks it awaits. */
  readonly #awaits = new Map<string, Set<string>>();
  /** The attempts running: by local task, its cluster task's job id. */
  readonly #runs = new Map<string, string>();
  /** The local pools in which requests wait. */
  readonly #localPools = new LocalPoolWaits('');

  update(pool: string, capacity: number, holdings: readonly PoolHolding[], waiting: readonly ResourceWaiter[]): void {
    const event: ClusterPoolWaitsEvent = { type: 'cluster-waits.pool', pool, capacity, holdings, waiting };
    this.#pools.set(pool, event);
    this.#target?.send(event);
  }

  awaits(taskId: string, awaited: string, active: boolean): void {
    let awaitedByTask = this.#awaits.get(taskId);
    if (active) {
      if (awaitedByTask === undefined) this.#awaits.set(taskId, (awaitedByTask = new Set()));
      awaitedByTask.add(awaited);
    } else {
      if (awaitedByTask?.delete(awaited) !== true) return;
      if (awaitedByTask.size === 0) this.#awaits.delete(taskId);
    }
    this.#target?.send({ type: 'cluster-waits.await', taskId, awaited, active });
  }

  localPoolChanged(change: GraphPoolChangesEvent): void {
    this.#localPools.apply(change);
    this.#target?.send({ type: 'cluster-waits.local-pool', change });
  }

  runs(taskId: string, jobId: string, active: boolean): void {
    if (active) this.#runs.set(taskId, jobId);
    else this.#runs.delete(taskId);
  }

  /** The cluster task (job) whose attempt local task `taskId` runs, if it runs one. */
  jobOf(taskId: string): string | undefined {
    return this.#runs.get(taskId);
  }

  /** Sends from now on to `target` (a part just spawned), first telling it the waits known so far. */
  connect(target: { send(event: ClusterWaitsEvent): void }): void {
    this.#target = target;
    for (const event of this.#pools.values()) target.send(event);
    for (const [taskId, awaited] of this.#awaits) {
      for (const task of awaited) target.send({ type: 'cluster-waits.await', taskId, awaited: task, active: true });
    }
    for (const change of this.#localPools.replay()) target.send({ type: 'cluster-waits.local-pool', change });
  }
}
