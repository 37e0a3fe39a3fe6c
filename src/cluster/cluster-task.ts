import type { MezanError } from '../errors';
import { TaskHandle, type TaskHandleHooks } from '../task-handle';

/** What a {@link ClusterTask} tells the node that submitted it. @internal */
export interface ClusterTaskOwner {
  cancelTask(task: ClusterTask, reason: unknown): boolean;
  taskSettled(task: ClusterTask, error: MezanError | undefined): void;
  reprioritize(task: ClusterTask, priority: number): void;
}

/**
 * A named task submitted to the cluster, on the node that submitted it: what its handle shows and
 * calls. The task itself is a BullMQ job, run by whichever node takes it; this record only waits to
 * hear how it ended, and settles the handle once.
 * @internal
 */
export class ClusterTask implements TaskHandleHooks {
  readonly handle: TaskHandle<unknown>;
  /** Removes the listener on the caller's `signal`, once the task settled. */
  unlisten: (() => void) | undefined = undefined;
  /** When its job was added to the queue (`performance.now()`); `undefined` until then. */
  sentAt: number | undefined = undefined;

  constructor(
    /** The job's id: the task's id in the whole cluster. */
    readonly id: string,
    readonly name: string,
    readonly meta: unknown,
    readonly owner: ClusterTaskOwner,
  ) {
    this.handle = new TaskHandle<unknown>(this, 'queued');
  }

  cancel(_handle: TaskHandle<unknown>, reason: unknown): boolean {
    return this.owner.cancelTask(this, reason);
  }

  settled(_handle: TaskHandle<unknown>, error: MezanError | undefined): void {
    this.owner.taskSettled(this, error);
  }

  setPriority(_handle: TaskHandle<unknown>, priority: number): void {
    this.owner.reprioritize(this, priority);
  }
}
