import { MezanError, type MezanErrorCode } from '../errors';
import type { EngineEvent } from '../engine-events';
import type { EventSink } from '../internal/event-sink';
import type { TerminalTaskStatus } from '../task-status';
import type { ClusterTask, HeldTaskEvent } from './cluster-task';

/**
 * The node that took job `jobId` last (BullMQ's `processedBy`) and how many times it was taken in
 * all (`attemptsStarted`), read from the job; `undefined` once it is gone. @internal
 */
export type ReadRun = (jobId: string) => Promise<{ readonly node: string | undefined; readonly started: number } | undefined>;

/** What a running node sends with a cluster task's `ctx.progress`, as the job's BullMQ progress. @internal */
export interface ClusterProgress {
  readonly fraction: number;
  readonly message?: string;
  readonly attempt: number;
  readonly node: string;
}

/** What a node that gives a job back unrun (it is shutting down, or does not define its task) sets as its progress first: that start was no attempt. @internal */
export interface GivenBack {
  readonly givenBack: true;
  readonly node: string;
}

/**
 * What a node that runs a job given back before sets as its progress first: the start its
 * submitter heard is a run, not one more give-back (see `ClusterTask.givenBackLast`). @internal
 */
export interface ClusterStarted {
  readonly started: true;
  readonly attempt: number;
  readonly node: string;
}

/** Whether a job's progress is a {@link ClusterStarted}. @internal */
export function isStarted(progress: unknown): boolean {
  return typeof progress === 'object' && progress !== null && (progress as Partial<ClusterStarted>).started === true;
}

/** What a node whose attempt failed and will be retried sets as the job's progress first: the submitter's `task.retrying`. @internal */
export interface ClusterRetrying {
  readonly retrying: true;
  readonly attempt: number;
  readonly node: string;
  readonly code: MezanErrorCode;
  readonly message: string;
  readonly delayMs: number;
}

/** Whether a job's progress is a {@link ClusterRetrying}. @internal */
export function isRetrying(progress: unknown): progress is ClusterRetrying {
  if (typeof progress !== 'object' || progress === null) return false;
  const { retrying, attempt, node, code, message, delayMs } = progress as Record<string, unknown>;
  return (
    retrying === true &&
    typeof attempt === 'number' &&
    typeof node === 'string' &&
    typeof code === 'string' &&
    typeof message === 'string' &&
    typeof delayMs === 'number'
  );
}

/** Whether a job's progress is a {@link GivenBack}. @internal */
export function isGivenBack(progress: unknown): boolean {
  return typeof progress === 'object' && progress !== null && (progress as Partial<GivenBack>).givenBack === true;
}

/** The workerId of a cluster task's attempt in its submitter's events: the node that runs it. */
function workerOf(node: string | undefined): string {
  return `cluster:${node ?? 'unknown'}`;
}

/**
 * The submitting engine's task events for the cluster tasks it submitted, from what the queue's
 * events say (`active`, `progress`, the end): `task.queued`, `task.started`, `task.progress` and
 * the terminal event, into the engine's task sink (its `events$` and the monitor's timings), as for
 * a local task. Built only while the sink is active. Each task's events keep their order: a
 * `task.started` waits for the job's read (which node, which attempt), and what follows is held
 * behind it; the task's end sends out at once whatever is held (a start whose read is not back names
 * the node as known so far), then the terminal event: by the time its handle's caller resumes, the
 * task's events are out, as a local task's are, and none is left in flight when the engine stops.
 * @internal
 */
export class ClusterTaskEvents {
  readonly #sink: EventSink;
  readonly #now: () => number;
  readonly #readRun: ReadRun;
  readonly #onError: (error: unknown) => void;
  /** Who waits for a task's held events to be out (see {@link ClusterTaskEvents.whenSent}). */
  readonly #sent = new WeakMap<ClusterTask, { readonly promise: Promise<void>; readonly resolve: () => void }>();

  constructor(sink: EventSink, now: () => number, readRun: ReadRun, onError: (error: unknown) => void) {
    this.#sink = sink;
    this.#now = now;
    this.#readRun = readRun;
    this.#onError = onError;
  }

  /** The job was sent (attempt 1), or is back in the queue for attempt `attempt` after a retry's delay. */
  queued(task: ClusterTask, attempt = 1): void {
    if (!this.#sink.active) return;
    this.#publish(task, { type: 'task.queued', at: this.#now(), taskId: task.id, name: task.name, attempt, priority: task.priority });
  }

  /**
   * The job was taken by a node: its `starts`-th start (the node counts them before this call).
   * The attempt is its starts less those given back unrun; the node is read from the job, and
   * named only if no later start came before the read (BullMQ's `attemptsStarted` tells).
   */
  started(task: ClusterTask): void {
    const starts = task.starts;
    const attempt = starts - task.givenBack;
    // Kept even while nobody listens: a subscriber who comes later hears the right attempt. Its node is read anew.
    task.attempt = attempt;
    task.node = undefined;
    if (!this.#sink.active) return;
    const at = this.#now();
    task.startedAt = at;
    let node: string | undefined;
    const held: HeldTaskEvent = {
      ready: false,
      // Sent out before its read is back (the task ended meanwhile): the node a later event of this attempt named, if any.
      build: () => ({ type: 'task.started', at, taskId: task.id, name: task.name, attempt, workerId: workerOf(node ?? this.#nodeOf(task, attempt)) }),
    };
    (task.heldEvents ??= []).push(held);
    void this.#readRun(task.id).then(
      (read) => {
        if (!task.heldEvents?.includes(held)) return;
        node = read !== undefined && read.started === starts ? read.node : undefined;
        if (task.attempt === attempt && node !== undefined) task.node = node;
        held.ready = true;
        this.#sendReady(task);
      },
      (error: unknown) => {
        this.#onError(error);
        held.ready = true;
        this.#sendReady(task);
      },
    );
  }

  /** The node a later event told for attempt `attempt` of `task`, if it is still the task's attempt. */
  #nodeOf(task: ClusterTask, attempt: number): string | undefined {
    return task.attempt === attempt ? task.node : undefined;
  }

  progress(task: ClusterTask, progress: unknown): void {
    if (!this.#sink.active || !isClusterProgress(progress)) return;
    const { fraction, message, attempt, node } = progress;
    // A context outlives its attempt (a timer, a stray promise): an earlier attempt's late progress
    // is no news of the task, and must not make its later events name that attempt or its node.
    if (attempt < task.attempt) return;
    task.node = node;
    task.attempt = attempt;
    this.#publish(task, { type: 'task.progress', ...this.#during(task, attempt, node), fraction, message });
  }

  /** An attempt failed on `retrying.node` and another follows after `retrying.delayMs`. */
  retrying(task: ClusterTask, retrying: ClusterRetrying): void {
    // Its job waits for the next attempt: when it is back in the queue, that attempt is queued.
    task.retryPending = true;
    if (!this.#sink.active) return;
    const { attempt, node, code, message, delayMs } = retrying;
    const error = new MezanError(code, message, { details: { taskId: task.id } });
    this.#publish(task, { type: 'task.retrying', ...this.#during(task, attempt, node), delayMs, code, error });
  }

  /** What an event about a running attempt carries besides its own fields. */
  #during(task: ClusterTask, attempt: number, node: string): { at: number; taskId: string; name: string; attempt: number; workerId: string } {
    return { at: this.#now(), taskId: task.id, name: task.name, attempt, workerId: workerOf(node) };
  }

  settled(task: ClusterTask, status: TerminalTaskStatus, error: MezanError | undefined): void {
    if (!this.#sink.active) return;
    const at = this.#now();
    const attempt = task.attempt;
    const ran = task.startedAt !== undefined;
    const durationMs = ran ? at - task.startedAt! : undefined;
    // The node is known once the start's read is done: the terminal event is built after it.
    const build = (): EngineEvent => {
      const base = { at, taskId: task.id, name: task.name, attempt };
      const workerId = ran ? workerOf(task.node) : undefined;
      switch (status) {
        case 'completed':
          return { ...base, type: 'task.completed', workerId: workerOf(task.node), durationMs: durationMs ?? 0 };
        case 'failed':
          return { ...base, type: 'task.failed', workerId, durationMs, code: error!.code, error };
        case 'timeout':
          return {
            ...base,
            type: 'task.timeout',
            workerId,
            durationMs: durationMs ?? 0,
            code: error!.code === 'E_QUEUE_TIMEOUT' ? 'E_QUEUE_TIMEOUT' : 'E_TIMEOUT',
          };
        case 'deadlock':
          return { ...base, type: 'task.deadlock', workerId, code: 'E_DEADLOCK' };
        case 'rejected':
          return { ...base, type: 'task.rejected', code: 'E_SHUTDOWN' };
        case 'cancelled':
          return { ...base, type: 'task.cancelled', workerId, code: error?.code === 'E_SHUTDOWN' ? 'E_SHUTDOWN' : 'E_CANCELLED' };
      }
    };
    // The end does not wait for a start's read: what is held goes out first, in order.
    const held = task.heldEvents;
    if (held !== undefined) {
      this.#allSent(task);
      for (const event of held) this.#sink.publish(event.build());
    }
    this.#sink.publish(build());
  }

  /**
   * Resolves once the task's held events are out (its start's read is back); `undefined` when none
   * is held. Its submitter settles a handle on an end it heard after this, so that the terminal
   * event, sent out as the handle settles, names the node its start's read told.
   */
  whenSent(task: ClusterTask): Promise<void> | undefined {
    if (task.heldEvents === undefined) return undefined;
    let sent = this.#sent.get(task);
    if (sent === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((resolved) => (resolve = resolved));
      this.#sent.set(task, (sent = { promise, resolve }));
    }
    return sent.promise;
  }

  /** The task's held events are all out: whoever waits for them (see {@link ClusterTaskEvents.whenSent}) goes on. */
  #allSent(task: ClusterTask): void {
    task.heldEvents = undefined;
    this.#sent.get(task)?.resolve();
    this.#sent.delete(task);
  }

  /** Publishes now, or holds it behind a start whose read is not back. */
  #publish(task: ClusterTask, event: EngineEvent): void {
    if (task.heldEvents === undefined) this.#sink.publish(event);
    else task.heldEvents.push({ ready: true, build: () => event });
  }

  /** Sends out the task's held events that may go, in order, up to the first still waiting for its read. */
  #sendReady(task: ClusterTask): void {
    const held = task.heldEvents;
    if (held === undefined) return;
    while (held.length > 0 && held[0]!.ready) this.#sink.publish(held.shift()!.build());
    if (held.length === 0) this.#allSent(task);
  }
}

function isClusterProgress(value: unknown): value is ClusterProgress {
  if (typeof value !== 'object' || value === null) return false;
  const { fraction, message, attempt, node } = value as Record<string, unknown>;
  return (
    typeof fraction === 'number' && (message === undefined || typeof message === 'string') && typeof attempt === 'number' && typeof node === 'string'
  );
}
