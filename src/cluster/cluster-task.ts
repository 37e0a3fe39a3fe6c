import type { MezanError } from '../errors';
import type { EngineEvent } from '../engine-events';
import { TaskHandle, type TaskHandleHooks } from '../task-handle';
import type { TaskStatus } from '../task-status';
import type { ClusterJobData } from './cluster-job';
import type { GateData, GatePlace } from '../../actors/cluster-gates';

/** One of a cluster task's events held back behind a start's read: built once it may go out. @internal */
export interface HeldTaskEvent {
  /** Whether what it waits for (its start's read) is done. */
  ready: boolean;
  readonly build: () => EngineEvent;
}

/** What a {@link ClusterTask} tells the node that submitted it. @internal */
export interface ClusterTaskOwner {
  cancelTask(task: ClusterTask, reason: unknown): boolean;
  taskSettled(task: ClusterTask, error: MezanError | undefined): void;
  reprioritize(task: ClusterTask, priority: number): void;
}

/**
 * A cluster task's job, as its submitter sends it: the task's name, its data, BullMQ's attempts,
 * and for a gated dependant its flow (its gates, and the dependencies whose jobs must be in Redis
 * first, for the gates to read).
 * @internal
 */
export interface ClusterOutgoingJob {
  readonly task: string;
  readonly data: ClusterJobData;
  readonly attempts: number;
  readonly flow?: { readonly places: ReadonlyArray<GatePlace & GateData>; readonly after: readonly ClusterTask[] };
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
  /** Its job must not run: it was cancelled, or a dependency it needed did not complete. */
  withdrawn = false;
  /** Its job is a flow that waits for gates (`cluster-gates.ts`), not a plain job. */
  gated = false;
  /** When its job was added to the queue (the engine clock's time); `undefined` until then. */
  sentAt: number | undefined = undefined;
  /** Its job's add is on its way to Redis: from then on it reaches the cluster, unless the add fails. */
  adding = false;
  /** What its job is made of, from when it is submitted until it was added. */
  outgoing: ClusterOutgoingJob | undefined = undefined;
  /** Its priority, as mezan counts them (for its `task.queued` event). */
  priority = 0;
  /** BullMQ's priority for its job, kept while it waits for its dependencies (its job is added after). */
  queuePriority: number;
  /** For its submitter's events: when it was heard to start (engine clock), on which node, which attempt. */
  startedAt: number | undefined = undefined;
  node: string | undefined = undefined;
  attempt = 1;
  /** How many times a node took its job (BullMQ's `active` events heard), and how many of those it gave back unrun. */
  starts = 0;
  givenBack = 0;
  /**
   * Its job's last progress heard says it was given back: a start heard now may be one more
   * give-back (a node that does not define the task takes it again each time it is back), so it
   * waits for the node that runs it to say so (`ClusterStarted`), or for any other word of the run.
   */
  givenBackLast = false;
  /** A start heard after a give-back, not yet said to run: neither published nor counted as running. */
  startUnconfirmed = false;
  /** Counted as running by its node's tally: heard to start, not back in the queue, not settled. */
  isRunning = false;
  /** A retry was announced and its attempt is not back in the queue yet. */
  retryPending = false;
  /**
   * Its submitter's events held back, in order, behind a start whose node is being read (see
   * `ClusterTaskEvents`); `undefined` when none is: an event is then published at once.
   */
  heldEvents: HeldTaskEvent[] | undefined = undefined;
  /** Whether its job is in Redis, or will never be (it could not be added, or was cancelled before). */
  #sendingOver = false;
  /** Made when asked (by a dependant's flow): resolves once sending is over. */
  #added: Promise<void> | undefined = undefined;
  #resolveAdded: (() => void) | undefined = undefined;
  /** Called once it settled: the dependants it gates, made only for a task something depends on. */
  #onSettled: Array<() => void> | undefined = undefined;

  constructor(
    /** The job's id: the task's id in the whole cluster. */
    readonly id: string,
    readonly name: string,
    readonly meta: unknown,
    readonly owner: ClusterTaskOwner,
    queuePriority: number,
    status: Extract<TaskStatus, 'queued' | 'waiting'> = 'queued',
    /** Which submission of its id this is: what its withdrawn mark holds (`submissionOf`). */
    readonly submission: string = id,
  ) {
    this.queuePriority = queuePriority;
    this.handle = new TaskHandle<unknown>(this, status);
  }

  /** Resolves once its job is in Redis, or could not be added (its dependants' gates read it there). */
  whenAdded(): Promise<void> {
    if (this.#sendingOver) return Promise.resolve();
    return (this.#added ??= new Promise<void>((resolve) => {
      this.#resolveAdded = resolve;
    }));
  }

  /** @internal Its job is in Redis, or will never be. */
  sendingOver(): void {
    this.#sendingOver = true;
    this.#resolveAdded?.();
  }

  /** Calls `listener` once this task has settled (at once if it has). */
  whenSettled(listener: () => void): void {
    if (this.handle.isSettled) listener();
    else (this.#onSettled ??= []).push(listener);
  }

  /** @internal Tells the dependants it gates that it settled. */
  notifySettled(): void {
    const listeners = this.#onSettled;
    this.#onSettled = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
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
