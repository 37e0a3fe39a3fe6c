import type { ClusterTaskCounts } from '../engine-snapshots';
import type { TerminalTaskStatus } from '../task-status';
import type { ClusterTask } from './cluster-task';

/**
 * The counts of the cluster tasks one engine submitted, kept by its node as their handles change
 * (never read from Redis): every one submitted, those heard to run, and how those that settled
 * ended. Exact: a handle settles once, and a task counts as running from the start its submitter
 * heard until it is heard back in the queue or settles.
 * @internal
 */
export class ClusterTaskTally {
  #submitted = 0;
  #running = 0;
  #settled = 0;
  readonly #ended: Record<TerminalTaskStatus, number> = { completed: 0, failed: 0, cancelled: 0, timeout: 0, deadlock: 0, rejected: 0 };

  /** A cluster task was submitted (before it may be refused, as rejected). */
  submitted(): void {
    this.#submitted++;
  }

  /** Task `task` was heard to start on a node (`true`), or to be back in the queue (`false`). */
  running(task: ClusterTask, running: boolean): void {
    if (task.isRunning === running) return;
    task.isRunning = running;
    this.#running += running ? 1 : -1;
  }

  /** Task `task`'s handle settled with `status`. */
  settled(task: ClusterTask, status: TerminalTaskStatus): void {
    this.running(task, false);
    this.#ended[status]++;
    this.#settled++;
  }

  /** The counts now, as `engine.progress()`, `engine.stats()` and the shutdown report show them. */
  counts(): ClusterTaskCounts {
    const ended = this.#ended;
    return {
      submitted: this.#submitted,
      pending: this.#submitted - this.#settled - this.#running,
      running: this.#running,
      completed: ended.completed,
      failed: ended.failed,
      cancelled: ended.cancelled,
      timedOut: ended.timeout,
      deadlocked: ended.deadlock,
      rejected: ended.rejected,
    };
  }
}
