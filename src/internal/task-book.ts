import type { Clock } from '../clock';
import { MezanError } from '../errors';
import type { Logger } from '../logger';
import type { RandomSource } from '../random';
import type { TerminalTaskStatus } from '../task-status';
import type { EventSink } from './event-sink';
import { GroupedReadyQueue } from './grouped-ready-queue';
import { ReadyQueue, type ReadyItem } from './ready-queue';
import { TaskIndex } from './task-index';
import { retryDelay, shouldRetry, taskFailedError } from './retry-policy';
import type { RunOrder, RunOutcome, TaskSubmission } from './task-protocol';
import { threadTargetOf } from '../threads/in-thread';

/** Where an unfinished task is, as the executor sees it. @internal */
export type TaskEntryState = 'waiting' | 'queued' | 'delayed' | 'dispatched' | 'done';

/**
 * The executor's record of one unfinished task: the submission itself, which the book adopts (no
 * copy), with where the task is. The engine makes it with every field below already set (see
 * `TaskRecord`), so that every record has one shape; the book (re)sets them on admission.
 * @internal
 */
export interface TaskEntry extends TaskSubmission, ReadyItem, RunOrder {
  /** Changed by `reprioritize` while the task waits or is queued. */
  priority: number;
  /** Clock time past which a task that has not started ends with `E_QUEUE_TIMEOUT`; `undefined` once it starts. */
  queueDeadline: number | undefined;
  /** Admission order, for the deadlock policy `youngest`. */
  admittedSeq: number;
  /** Clock time of the current attempt's dispatch, for the deadlock policy `least-work`. */
  dispatchedAt: number;
  attempt: number;
  state: TaskEntryState;
  /** How many dependencies have not completed yet. */
  waitingOn: number;
  /** Tasks waiting on this one. */
  dependents: TaskEntry[] | undefined;
  /** The worker an attempt was dispatched to. */
  workerId: string | undefined;
}

/** A retry the executor must schedule: requeue `taskId` after `delayMs`. @internal */
export interface RetryPlan {
  readonly taskId: string;
  readonly delayMs: number;
}

/**
 * A change to the start deadlines (`queueTimeoutMs`) the executor keeps timers for, to apply in
 * order: arm one (`expireQueued(taskId)` after `delayMs`), or drop one that no longer matters (its
 * task started or settled). @internal
 */
export type DeadlineChange =
  { readonly kind: 'set'; readonly taskId: string; readonly delayMs: number } | { readonly kind: 'clear'; readonly taskId: string };

/**
 * Where a watched task stands for the wait-for graph: it needs a worker slot (`queued`, or waiting
 * for its dependencies or a retry delay), it has one (`dispatched`), or it is `gone` (settled).
 * @internal
 */
export type WatchedState = 'queued' | 'dispatched' | 'gone';

/** A change of a watched task, for the deadlock detector; `threads`: the engine's thread count, for a thread task. @internal */
export interface WatchedChange {
  readonly taskId: string;
  readonly state: WatchedState;
  readonly threads?: number;
}

/** What cancelling a task took. @internal */
export type CancelResult =
  | { readonly kind: 'settled'; readonly wasDelayed: boolean }
  | { readonly kind: 'on-worker'; readonly workerId: string }
  | { readonly kind: 'unknown' };

/** Exact task counts, by where tasks are and how they ended. @internal */
export interface TaskCounts {
  submitted: number;
  completed: number;
  failed: number;
  cancelled: number;
  timedOut: number;
  deadlocked: number;
  /** Queued tasks the engine refused after escalating (submissions refused after shutdown are counted by the engine). */
  rejected: number;
  waiting: number;
  queued: number;
  delayed: number;
  dispatched: number;
}

/** How many admitted tasks have reached a terminal status. @internal */
export function settledCount(counts: Readonly<TaskCounts>): number {
  return counts.completed + counts.failed + counts.cancelled + counts.timedOut + counts.deadlocked + counts.rejected;
}

/** Whether `dependent` runs whatever `dependency`'s outcome: every entry naming it says `allow: 'settled'`. */
function toleratesFailureOf(dependent: TaskEntry, dependency: TaskEntry): boolean {
  let named = false;
  for (const ref of dependent.dependsOn) {
    if (ref.reporter !== dependency.reporter) continue;
    if (ref.allow !== 'settled') return false;
    named = true;
  }
  return named;
}

function watchedStateOf(state: TaskEntryState): WatchedState {
  if (state === 'dispatched') return 'dispatched';
  return state === 'done' ? 'gone' : 'queued';
}

/**
 * The executor's private bookkeeping: every unfinished task, the ready queue (a heap ordered by
 * priority, then submission order), dependencies, retries and exact counts. Only the executor's own
 * actions touch it; a finished task is dropped at once, so nothing here grows with finished work.
 *
 * @internal
 */
export class TaskBook {
  readonly counts: TaskCounts = {
    submitted: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    timedOut: 0,
    deadlocked: 0,
    rejected: 0,
    waiting: 0,
    queued: 0,
    delayed: 0,
    dispatched: 0,
  };
  /** The most tasks ever queued at once (ready, waiting for a worker). */
  peakQueued = 0;
  readonly #entries = new TaskIndex<TaskEntry>();
  /** Tasks the supervisor watches (some task awaits them), and what became of them since asked. */
  readonly #watched = new Set<string>();
  #watchedChanges: WatchedChange[] = [];
  /** One lane per priority; one such queue per task group when a rate limit applies per group. */
  readonly #ready: ReadyQueue<TaskEntry> | GroupedReadyQueue<TaskEntry>;
  /** The ready thread tasks (`inThread`), when the engine has threads; otherwise they are in `#ready`. */
  readonly #threadReady: ReadyQueue<TaskEntry> | GroupedReadyQueue<TaskEntry> | undefined;
  #deadlines: DeadlineChange[] = [];
  readonly #sink: EventSink;
  readonly #random: RandomSource;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #logger: Logger;
  /** Read once: winston builds a log record even for a disabled level, too dear for every task. */
  readonly #debug: boolean;

  /**
   * @param options.byGroup - keep ready tasks by group, so that `takeReady` can pass over groups that may not start
   * @param options.threads - keep ready thread tasks apart, for the thread worker
   */
  constructor(options: { sink: EventSink; random: RandomSource; clock: Pick<Clock, 'now'>; logger: Logger; byGroup?: boolean; threads?: boolean }) {
    this.#ready = options.byGroup === true ? new GroupedReadyQueue<TaskEntry>() : new ReadyQueue<TaskEntry>();
    this.#threadReady =
      options.threads !== true ? undefined : options.byGroup === true ? new GroupedReadyQueue<TaskEntry>() : new ReadyQueue<TaskEntry>();
    this.#sink = options.sink;
    this.#random = options.random;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#debug = options.logger.isLevelEnabled?.('debug') ?? true;
  }

  /** How many admitted tasks have reached a terminal status. */
  get settled(): number {
    return settledCount(this.counts);
  }

  /** How many tasks are unfinished. */
  get size(): number {
    return this.#entries.size;
  }

  /** How many tasks are ready to run. */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** How many thread tasks are ready to run (always 0 without threads: they are then in the main queue). */
  get threadReadyCount(): number {
    return this.#threadReady === undefined ? 0 : this.#threadReady.size;
  }

  /** Whether `taskId` is a thread task that runs on the thread worker (not on the main thread, for want of threads). */
  isThreadTask(taskId: string): boolean {
    const entry = this.#entries.get(taskId);
    return this.#threadReady !== undefined && entry !== undefined && threadTargetOf(entry.fn) !== undefined;
  }

  /** The ready queue a task goes to: the threads' for a thread task when the engine has threads. */
  #queueOf(entry: TaskEntry): ReadyQueue<TaskEntry> | GroupedReadyQueue<TaskEntry> {
    return this.#threadReady !== undefined && threadTargetOf(entry.fn) !== undefined ? this.#threadReady : this.#ready;
  }

  /** Whether `taskId` is an unfinished task. */
  has(taskId: string): boolean {
    return this.#entries.has(taskId);
  }

  /**
   * Starts (or stops) reporting the changes of a task's need for a worker slot, for the deadlock
   * detector, which watches the tasks others await. Starting reports where the task stands now.
   */
  watch(taskId: string, watching: boolean): void {
    const entry = this.#entries.get(taskId);
    if (!watching || entry === undefined) {
      this.#watched.delete(taskId);
      if (watching) this.#watchedChanges.push({ taskId, state: 'gone' });
      return;
    }
    this.#watched.add(taskId);
    this.#watchedChanges.push({ taskId, state: watchedStateOf(entry.state) });
  }

  /** The changes of watched tasks since the last call. */
  takeWatchedChanges(): WatchedChange[] {
    const changes = this.#watchedChanges;
    if (changes.length > 0) this.#watchedChanges = [];
    return changes;
  }

  #noteWatched(entry: TaskEntry, state: WatchedState): void {
    if (this.#watched.size === 0) return;
    const taskId = entry.id;
    if (this.#watched.has(taskId)) {
      this.#watchedChanges.push({ taskId, state });
      if (state === 'gone') this.#watched.delete(taskId);
    }
  }

  /** What a deadlock victim policy weighs of an unfinished task (the executor's answer to `tasks.describe`). */
  describe(taskId: string):
    | {
        readonly state: TaskEntryState;
        readonly priority: number;
        readonly admittedSeq: number;
        readonly dispatchedAt: number;
        readonly workerId: string | undefined;
      }
    | undefined {
    const entry = this.#entries.get(taskId);
    if (entry === undefined) return undefined;
    return {
      state: entry.state,
      priority: entry.priority,
      admittedSeq: entry.admittedSeq,
      dispatchedAt: entry.dispatchedAt,
      workerId: entry.workerId,
    };
  }

  /**
   * Records new tasks: each waits for its dependencies or joins the ready queue. Those in
   * `cancelled` were cancelled before they arrived: they settle `cancelled` at once.
   */
  admit(submissions: readonly TaskSubmission[], cancelled?: ReadonlyMap<string, MezanError>): void {
    // Read only if needed: most submissions never need the time, and reading the clock costs.
    let now: number | undefined;
    for (let submitted = 0; submitted < submissions.length; submitted++) {
      const submission = submissions[submitted]!;
      // The submission becomes the entry: from here on only the executor touches it.
      const entry = submission as TaskEntry;
      entry.admittedSeq = this.counts.submitted;
      entry.dispatchedAt = 0;
      entry.attempt = 1;
      entry.state = 'waiting';
      entry.waitingOn = 0;
      entry.dependents = undefined;
      entry.workerId = undefined;
      entry.queueTicket = -1;
      entry.queueDeadline = undefined;
      this.counts.submitted++;
      this.#entries.add(entry);
      this.counts.waiting++;
      const cancelReason = cancelled?.get(entry.id);
      if (cancelReason !== undefined) {
        this.#settle(entry, 'cancelled', undefined, cancelReason, undefined, undefined, (now ??= this.#clock.now()));
        continue;
      }
      if (entry.queueTimeoutMs !== undefined) {
        entry.queueDeadline = (now ??= this.#clock.now()) + entry.queueTimeoutMs;
        this.#deadlines.push({ kind: 'set', taskId: entry.id, delayMs: entry.queueTimeoutMs });
      }
      let failedDependency: { id: string; status: string } | undefined;
      const { dependsOn } = entry;
      // Indexed loops: this runs for every task, and a for-of here allocated iterators.
      for (let index = 0; index < dependsOn.length; index++) {
        const dependency = dependsOn[index]!;
        // The engine hands the dependency's own record when it has it; it was admitted before this one.
        const known = dependency.task as TaskEntry | undefined;
        const live = known !== undefined ? (known.state === 'done' ? undefined : known) : this.#entries.get(dependency.id);
        if (live !== undefined && live.reporter === dependency.reporter) {
          entry.waitingOn++;
          (live.dependents ??= []).push(entry);
        } else if (dependency.reporter.status !== 'completed' && dependency.allow !== 'settled') {
          failedDependency ??= { id: dependency.id, status: dependency.reporter.status };
        }
      }
      if (failedDependency !== undefined) {
        this.#failWaiting(entry, failedDependency.id, failedDependency.status);
      } else if (entry.waitingOn === 0) {
        this.#enqueue(entry);
      } else {
        entry.reporter.markStatus('waiting');
      }
    }
  }

  /**
   * Takes the next ready task off the queue and marks it dispatched to `workerId` at clock time `now`.
   * @param allowed - with tasks kept by group, the groups that may start now (the best task among them is taken)
   * @param thread - take a thread task (for the thread worker) rather than a main-thread one
   */
  takeReady(
    workerId: string,
    now: number = this.#clock.now(),
    allowed?: (group: string | undefined) => boolean,
    thread = false,
  ): RunOrder | undefined {
    const ready = thread ? this.#threadReady : this.#ready;
    if (ready === undefined) return undefined;
    const entry = ready instanceof GroupedReadyQueue ? ready.pop(allowed) : ready.pop();
    if (entry === undefined) return undefined;
    this.counts.queued--;
    this.counts.dispatched++;
    entry.state = 'dispatched';
    entry.workerId = workerId;
    entry.dispatchedAt = now;
    if (entry.queueDeadline !== undefined) {
      entry.queueDeadline = undefined;
      this.#deadlines.push({ kind: 'clear', taskId: entry.id });
    }
    this.#noteWatched(entry, 'dispatched');
    entry.reporter.markStatus('running');
    return entry;
  }

  /**
   * Cancels a task. One that is not on a worker settles `cancelled` at once; one on a worker must be
   * aborted there, and settles when that worker reports it.
   */
  cancel(taskId: string, reason: MezanError): CancelResult {
    const entry = this.#entries.get(taskId);
    if (entry === undefined || entry.state === 'done') return { kind: 'unknown' };
    if (entry.state === 'dispatched') {
      return { kind: 'on-worker', workerId: entry.workerId! };
    }
    const wasDelayed = entry.state === 'delayed';
    if (entry.state === 'queued') this.#queueOf(entry).remove(entry);
    this.#settle(entry, 'cancelled', undefined, reason, undefined, undefined, this.#clock.now());
    return { kind: 'settled', wasDelayed };
  }

  /**
   * Applies the end of an attempt a worker reported.
   * @returns the retry to schedule, when the attempt failed and its policy allows another
   */
  applyOutcome(outcome: RunOutcome, workerId: string): RetryPlan | undefined {
    const entry = this.#entries.get(outcome.taskId);
    if (entry === undefined || entry.state !== 'dispatched' || entry.attempt !== outcome.attempt) {
      this.#logger.warn('ignored a report for a task not on a worker', { taskId: outcome.taskId, workerId });
      return undefined;
    }
    this.counts.dispatched--;
    entry.state = 'delayed'; // transient: #settle or the retry below moves it on
    this.counts.delayed++;
    const durationMs = outcome.started ? outcome.endedAt - outcome.startedAt : undefined;
    switch (outcome.kind) {
      case 'completed':
        this.#settle(entry, 'completed', outcome.value, undefined, workerId, durationMs, outcome.endedAt);
        return undefined;
      case 'timeout':
        this.#settle(entry, 'timeout', undefined, outcome.error as MezanError, workerId, durationMs, outcome.endedAt);
        return undefined;
      case 'cancelled':
        this.#settle(entry, 'cancelled', undefined, outcome.error as MezanError, workerId, durationMs, outcome.endedAt);
        return undefined;
      case 'failed':
        return this.#failAttempt(entry, outcome.error, workerId, durationMs, outcome.endedAt, undefined);
      case 'deadlock':
      case 'crashed':
        return this.#failAttempt(entry, outcome.error, workerId, durationMs, outcome.endedAt, outcome.error as MezanError);
    }
    return undefined;
  }

  /**
   * Cancels every task not on a worker (waiting, queued, or between retries) with `reason`.
   * @returns the ids of the tasks that were between retries, whose timers can go
   */
  cancelPending(reason: MezanError, status: 'cancelled' | 'rejected' = 'cancelled'): string[] {
    const delayed: string[] = [];
    const pending = [...this.#entries.values()].filter((entry) => entry.state !== 'dispatched' && entry.state !== 'done');
    // Every dependent of a pending task is pending too and gets the same reason below; without this
    // its dependency's cancellation would first fail it with E_DEPENDENCY_FAILED.
    for (const entry of pending) entry.dependents = undefined;
    for (const entry of pending) {
      if (entry.state === 'delayed') delayed.push(entry.id);
      if (entry.state === 'queued') this.#queueOf(entry).remove(entry);
      this.#settle(entry, status, undefined, reason, undefined, undefined, this.#clock.now());
    }
    return delayed;
  }

  /**
   * Settles every task still on a worker, `cancelled` with `reason`: shutdown gave up on them (their
   * worker's report never came, which only a fault of the engine's own could cause, as an abort
   * reports at once).
   */
  settleDispatched(reason: MezanError): void {
    const now = this.#clock.now();
    for (const entry of [...this.#entries.values()]) {
      if (entry.state === 'dispatched') this.#settle(entry, 'cancelled', undefined, reason, entry.workerId, undefined, now);
    }
  }

  /** Every task on a worker, with its worker. */
  dispatched(): Array<{ readonly taskId: string; readonly workerId: string }> {
    const found: Array<{ taskId: string; workerId: string }> = [];
    for (const entry of this.#entries.values()) {
      if (entry.state === 'dispatched') found.push({ taskId: entry.id, workerId: entry.workerId! });
    }
    return found;
  }

  /**
   * Fails the attempts on a worker that is gone (crashed) with `error`; their retry policies apply.
   * @returns the retries to schedule
   */
  failWorker(workerId: string, error: MezanError): { plans: RetryPlan[]; taskIds: string[] } {
    const plans: RetryPlan[] = [];
    const taskIds: string[] = [];
    const now = this.#clock.now();
    for (const { taskId, workerId: holder } of this.dispatched()) {
      if (holder !== workerId) continue;
      const entry = this.#entries.get(taskId)!;
      taskIds.push(taskId);
      const plan = this.applyOutcome(
        { kind: 'crashed', taskId, attempt: entry.attempt, value: undefined, error, started: true, startedAt: entry.dispatchedAt, endedAt: now },
        workerId,
      );
      if (plan !== undefined) plans.push(plan);
    }
    return { plans, taskIds };
  }

  /** Start deadlines armed and dropped since the last call, in order. */
  takeDeadlineChanges(): readonly DeadlineChange[] {
    const changes = this.#deadlines;
    if (changes.length > 0) this.#deadlines = [];
    return changes;
  }

  /**
   * A task's start deadline is due: if it has still not started, it ends `timeout` with
   * `E_QUEUE_TIMEOUT`, its function never called.
   */
  expireQueued(taskId: string): void {
    const entry = this.#entries.get(taskId);
    if (entry === undefined || entry.queueDeadline === undefined) return;
    if (entry.state !== 'waiting' && entry.state !== 'queued') return;
    const early = entry.queueDeadline - this.#clock.now();
    if (early > 0) {
      // Node's timers may fire up to a millisecond before Date.now() reaches their due time.
      this.#deadlines.push({ kind: 'set', taskId: entry.id, delayMs: Math.max(1, Math.ceil(early)) });
      return;
    }
    if (entry.state === 'queued') this.#queueOf(entry).remove(entry);
    const error = new MezanError('E_QUEUE_TIMEOUT', `Task "${entry.name}" did not start within ${entry.queueTimeoutMs} ms`, {
      details: { taskId: entry.id, queueTimeoutMs: entry.queueTimeoutMs },
    });
    this.#settle(entry, 'timeout', undefined, error, undefined, undefined, this.#clock.now());
  }

  /**
   * Gives a task that has not started its current attempt a new priority: waiting for dependencies,
   * between retries, or queued (then it goes behind those queued at its new priority).
   */
  reprioritize(taskId: string, priority: number): void {
    const entry = this.#entries.get(taskId);
    if (entry === undefined || (entry.state !== 'waiting' && entry.state !== 'queued' && entry.state !== 'delayed')) return;
    if (entry.state !== 'queued') {
      entry.priority = priority;
      return;
    }
    const ready = this.#queueOf(entry);
    ready.remove(entry);
    entry.priority = priority;
    ready.push(entry);
  }

  /** Puts a task whose retry delay has passed back on the ready queue. */
  requeue(taskId: string): void {
    const entry = this.#entries.get(taskId);
    if (entry === undefined || entry.state !== 'delayed') return;
    this.counts.delayed--;
    this.#enqueue(entry);
  }

  #failAttempt(
    entry: TaskEntry,
    error: unknown,
    workerId: string,
    durationMs: number | undefined,
    at: number,
    verdict: MezanError | undefined,
  ): RetryPlan | undefined {
    let retry = false;
    try {
      retry = shouldRetry(entry.retry, error, entry.attempt);
    } catch (retryIfError) {
      this.#logger.error('retryIf threw; not retrying', { taskId: entry.id, error: retryIfError });
    }
    if (!retry) {
      // A crash or a deadlock is the engine's verdict, not the function's: its code is kept.
      const failure = verdict ?? taskFailedError(entry.id, entry.name, entry.attempt, error);
      this.#settle(entry, verdict?.code === 'E_DEADLOCK' ? 'deadlock' : 'failed', undefined, failure, workerId, durationMs, at);
      return undefined;
    }
    const delayMs = retryDelay(entry.retry, entry.attempt, this.#random);
    const code = verdict?.code ?? 'E_TASK_FAILED';
    if (this.#debug) this.#logger.debug('task retrying', { taskId: entry.id, taskName: entry.name, attempt: entry.attempt, workerId, delayMs });
    if (this.#sink.active) {
      this.#sink.publish(
        {
          type: 'task.retrying',
          at,
          taskId: entry.id,
          name: entry.name,
          attempt: entry.attempt,
          workerId,
          delayMs,
          code,
          error,
        },
        this.counts,
      );
    }
    entry.attempt++;
    entry.workerId = undefined;
    entry.reporter.markStatus('queued');
    this.#noteWatched(entry, 'queued');
    if (delayMs > 0) return { taskId: entry.id, delayMs };
    this.counts.delayed--;
    this.#enqueue(entry);
    return undefined;
  }

  #enqueue(entry: TaskEntry): void {
    if (entry.state === 'waiting') this.counts.waiting--;
    entry.state = 'queued';
    this.#noteWatched(entry, 'queued');
    if (++this.counts.queued > this.peakQueued) this.peakQueued = this.counts.queued;
    if (this.#threadReady === undefined) this.#ready.push(entry);
    else this.#queueOf(entry).push(entry);
    entry.reporter.markStatus('queued');
    if (this.#sink.active) {
      this.#sink.publish(
        {
          type: 'task.queued',
          at: this.#clock.now(),
          taskId: entry.id,
          name: entry.name,
          attempt: entry.attempt,
          priority: entry.priority,
        },
        this.counts,
      );
    }
  }

  #failWaiting(entry: TaskEntry, dependencyId: string, dependencyStatus: string): void {
    const error = new MezanError(
      'E_DEPENDENCY_FAILED',
      `Task "${entry.name}" did not run: its dependency "${dependencyId}" ended ${dependencyStatus}`,
      { details: { taskId: entry.id, dependency: dependencyId, dependencyStatus } },
    );
    this.#settle(entry, 'failed', undefined, error, undefined, undefined, this.#clock.now());
  }

  #settle(
    entry: TaskEntry,
    status: TerminalTaskStatus,
    value: unknown,
    error: MezanError | undefined,
    workerId: string | undefined,
    durationMs: number | undefined,
    at: number,
  ): void {
    switch (entry.state) {
      case 'waiting':
        this.counts.waiting--;
        break;
      case 'queued':
        this.counts.queued--;
        break;
      case 'delayed':
        this.counts.delayed--;
        break;
      case 'dispatched':
        this.counts.dispatched--;
        break;
      case 'done':
        return;
    }
    entry.state = 'done';
    this.#entries.delete(entry);
    if (entry.queueDeadline !== undefined) {
      entry.queueDeadline = undefined;
      this.#deadlines.push({ kind: 'clear', taskId: entry.id });
    }
    this.#noteWatched(entry, 'gone');
    switch (status) {
      case 'completed':
        this.counts.completed++;
        break;
      case 'failed':
        this.counts.failed++;
        break;
      case 'cancelled':
        this.counts.cancelled++;
        break;
      case 'timeout':
        this.counts.timedOut++;
        break;
      case 'deadlock':
        this.counts.deadlocked++;
        break;
      case 'rejected':
        this.counts.rejected++;
        break;
    }
    if (this.#sink.active) this.#publishSettled(entry, status, error, workerId, durationMs, at);
    if (this.#debug)
      this.#logger.debug('task settled', { taskId: entry.id, taskName: entry.name, status, attempt: entry.attempt, workerId, code: error?.code });
    entry.reporter.settle(status, value, error);
    const dependents = entry.dependents;
    entry.dependents = undefined;
    if (dependents === undefined) return;
    for (const dependent of dependents) {
      if (dependent.state !== 'waiting') continue;
      if (status !== 'completed' && !toleratesFailureOf(dependent, entry)) this.#failWaiting(dependent, entry.id, status);
      else if (--dependent.waitingOn === 0) this.#enqueue(dependent);
    }
  }

  #publishSettled(
    entry: TaskEntry,
    status: TerminalTaskStatus,
    error: MezanError | undefined,
    workerId: string | undefined,
    durationMs: number | undefined,
    at: number,
  ): void {
    // Literal objects rather than a spread of common fields: one allocation each, in the same key order.
    const taskId = entry.id;
    const { name, attempt } = entry;
    switch (status) {
      case 'completed':
        this.#sink.publish({ at, taskId, name, attempt, type: 'task.completed', workerId: workerId!, durationMs: durationMs ?? 0 }, this.counts);
        return;
      case 'failed':
        this.#sink.publish(
          { at, taskId, name, attempt, type: 'task.failed', workerId, durationMs, code: error!.code, error: error!.cause ?? error },
          this.counts,
        );
        return;
      case 'cancelled':
        this.#sink.publish(
          { at, taskId, name, attempt, type: 'task.cancelled', workerId, code: error?.code === 'E_SHUTDOWN' ? 'E_SHUTDOWN' : 'E_CANCELLED' },
          this.counts,
        );
        return;
      case 'deadlock':
        this.#sink.publish({ at, taskId, name, attempt, type: 'task.deadlock', workerId, code: 'E_DEADLOCK' }, this.counts);
        return;
      case 'timeout':
        this.#sink.publish(
          {
            at,
            taskId,
            name,
            attempt,
            type: 'task.timeout',
            workerId,
            durationMs: durationMs ?? 0,
            code: error?.code === 'E_QUEUE_TIMEOUT' ? 'E_QUEUE_TIMEOUT' : 'E_TIMEOUT',
          },
          this.counts,
        );
        return;
      case 'rejected':
        this.#sink.publish({ at, taskId, name, attempt, type: 'task.rejected', code: 'E_SHUTDOWN' }, this.counts);
        return;
    }
  }
}
