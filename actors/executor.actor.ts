import { describeThrown } from '../src/internal/describe-thrown';
import { createActor, type ActorLogic, type ActorRef, type ActorScope, type AnyActorLogic, type AnyActorRef, type Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { TaskFacts } from '../src/detection/deadlock-resolver';
import type { EventSink } from '../src/internal/event-sink';
import { TaskBook, type TaskCounts, type WatchedChange } from '../src/internal/task-book';
import type { RunOrder, TaskSubmission, WorkerReportEvent } from '../src/internal/task-protocol';
import type { NoticeReceiver, TaskServices, TaskVictimEvent } from '../src/internal/task-services';
import type { Logger } from '../src/logger';
import type { RandomSource } from '../src/random';
import type { ResolvedRateLimit } from '../src/engine-options';
import { RateLimiter } from '../src/internal/rate-limiter';
import { timerLogic, type TimerCommand } from './timer.actor';
import { workerLogic, type WorkerInput, type WorkerRef, type WorkerStats } from './worker.actor';
import type { ThreadSettings } from '../src/threads/thread-pool';

/** The executor's input. @internal */
export interface ExecutorInput {
  /** How many tasks run at once: the slots of the main-thread worker. */
  readonly concurrency: number;
  /** At most `limit` starts per `intervalMs`, for the engine or per task group; none when absent. */
  readonly rateLimit?: ResolvedRateLimit;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly sink: EventSink;
  /** What running tasks can reach: resource pools, the supervisor, nested submission. */
  readonly services: TaskServices;
  /**
   * The worker threads thread tasks (`inThread`) run on: a worker {@link THREAD_WORKER_ID} with one
   * slot per thread, spawned with the first thread task. Without it thread tasks run on `main`.
   */
  readonly threads?: ThreadSettings;
}

/** One worker as the executor publishes it: its slots, and how many of them are free. @internal */
export interface WorkerSlots {
  readonly id: string;
  readonly ref: WorkerRef;
  /** How many tasks it may run at once. */
  readonly capacity: number;
  /** How many more attempts it can take now: its demand. */
  readonly free: number;
  /** Set between a crash and the restart: a crashed worker takes nothing. */
  readonly down: boolean;
}

/** The states of the executor; the statechart `machines/executor.machine.ts` draws them. */
export type ExecutorState = 'idle' | 'working';

/**
 * What the executor publishes after each of its transitions: a summary made anew, never mutated
 * afterwards. Nobody reads the executor's book itself.
 */
export type ExecutorSnapshot = Snapshot<undefined> & {
  readonly value: ExecutorState;
  readonly context: {
    /** Exact task counts, by where tasks are and how they ended. */
    readonly counts: Readonly<TaskCounts>;
    /** How many admitted tasks have reached a terminal status. */
    readonly settled: number;
    /** How many tasks are unfinished. */
    readonly unfinished: number;
    /** The most tasks ever queued at once. */
    readonly peakQueued: number;
    readonly workers: readonly WorkerSlots[];
    /** Compensation slots in service. */
    readonly extraSlots: number;
    /** Tasks whose functions shutdown abandoned still running (they ignored their abort signal). */
    readonly abandoned: readonly string[];
  };
  /** The executor's children: its workers by id, and its timers. */
  readonly children: Readonly<Record<string, AnyActorRef>>;
};

/** Events the executor accepts. @internal */
export type ExecutorEvent =
  /**
   * New tasks; `cancelled` names tasks whose callers cancelled them: those among `submissions` settle
   * `cancelled` without being looked at, the others (admitted before) are cancelled as by `task.cancel`.
   */
  | { readonly type: 'task.submit'; readonly submissions: readonly TaskSubmission[]; readonly cancelled?: ReadonlyMap<string, MezanError> }
  | { readonly type: 'task.cancel'; readonly taskId: string; readonly reason: MezanError }
  /** A new priority for a task that is waiting or queued (`handle.setPriority`). */
  | { readonly type: 'task.reprioritize'; readonly taskId: string; readonly priority: number }
  | { readonly type: 'retry.due'; readonly taskId: string }
  /** A task's start deadline (`queueTimeoutMs`) is due. */
  | { readonly type: 'queue.deadline'; readonly taskId: string }
  /** The rate limit allows a start again. */
  | { readonly type: 'rate.due' }
  | WorkerReportEvent
  /** Cancels every task not on a worker (shutdown with `drain: 'cancel'`, or escalation with `rejected`). */
  | { readonly type: 'executor.cancel-pending'; readonly reason: MezanError; readonly status?: 'cancelled' | 'rejected' }
  /** Aborts every task on a worker (shutdown's terminating phase). */
  | { readonly type: 'executor.abort-running'; readonly reason: MezanError }
  /** Lets go of the functions still running after terminating waited for them (see `worker.abandon`). */
  | { readonly type: 'executor.abandon-running' }
  /** The deadlock detector starts or stops watching a task some task awaits; where it stands now is reported at once. */
  | { readonly type: 'task.watch'; readonly taskId: string; readonly watching: boolean }
  /** Asks what a deadlock victim policy weighs of these tasks; answered with {@link TasksDescribedEvent} to `replyTo`. */
  | { readonly type: 'tasks.describe'; readonly taskIds: readonly string[]; readonly replyTo: NoticeReceiver }
  /** Asks for `executor.quiescent` to the parent if nothing is left to do, now and each time it is so from then on. */
  | { readonly type: 'executor.probe' }
  /** The deadlock detector chose this task as a deadlock victim. */
  | TaskVictimEvent
  /** Fault injection: makes a worker crash. */
  | { readonly type: 'worker.crash'; readonly workerId: string }
  /** Fault injection: slows a worker's sleeps by `factor` until clock time `until`. */
  | { readonly type: 'worker.slow'; readonly workerId: string; readonly factor: number; readonly until: number }
  /** Restarts a crashed worker (the supervisor's decision). */
  | { readonly type: 'worker.restart'; readonly workerId: string }
  /** Adds a compensation slot (the deadlock detector's answer to worker-slot starvation). */
  | { readonly type: 'slots.add-extra' }
  | { readonly type: `xstate.done.actor.${string}`; readonly output?: unknown }
  /** A worker failed (a bug in it, not in user code, which it contains): a crash like any other. */
  | { readonly type: `xstate.error.actor.${string}`; readonly error?: unknown }
  | { readonly type: 'xstate.stop' };

/** What the executor emits to whoever holds it: `idle` when no task is unfinished, `quiescent` when moreover every worker is idle. @internal */
export type ExecutorEmitted = { readonly type: 'idle' } | { readonly type: 'quiescent' };

/**
 * What the executor tells others: its parent, the supervisor, hears of quiescence and crashes; the
 * deadlock detector (the parent without one) of compensation slots and watched tasks. @internal
 */
export type ExecutorNotice =
  | { readonly type: 'executor.quiescent' }
  /** A worker crashed; `taskIds` were on it (their attempts failed with `E_WORKER_CRASHED`). */
  | { readonly type: 'worker.crashed'; readonly workerId: string; readonly taskIds: readonly string[] }
  /** A compensation slot was retired. */
  | { readonly type: 'slots.retired-extra' }
  /** Watched tasks changed their need for a worker slot (see `task.watch`). */
  | { readonly type: 'tasks.watched'; readonly changes: readonly WatchedChange[] };

/** The executor's answer to `tasks.describe`: each task's facts, `undefined` for a task no longer unfinished. @internal */
export interface TasksDescribedEvent {
  readonly type: 'tasks.described';
  readonly facts: ReadonlyArray<{ readonly taskId: string; readonly facts: TaskFacts | undefined }>;
}

/** The id of the main-thread worker. */
export const MAIN_WORKER_ID = 'main';

/** The id of the worker whose tasks run on worker threads. */
export const THREAD_WORKER_ID = 'thread';

/** A reference to the executor actor. @internal */
export type ExecutorRef = ActorRef<ExecutorSnapshot, ExecutorEvent, ExecutorEmitted>;

type ExecutorScope = ActorScope<ExecutorSnapshot, ExecutorEvent, AnyActorSystem, ExecutorEmitted>;

/** A worker's slots as the executor keeps them (mutable, private); published as {@link WorkerSlots}. */
interface WorkerEntry {
  readonly id: string;
  /** Whether it runs thread tasks (and only those). */
  readonly thread: boolean;
  ref: WorkerRef;
  capacity: number;
  free: number;
  down: boolean;
}

/** What a transition of the executor sends once it is over, in order. */
type OutboxItem =
  { readonly notice: ExecutorNotice } | { readonly emitted: ExecutorEmitted } | { readonly to: NoticeReceiver; readonly reply: TasksDescribedEvent };

/** The empty outbox, never added to: `#post` makes a new one for the first item. */
const NO_OUTBOX: OutboxItem[] = [];

/** What the executor emits, as outbox items made once: an idle engine emits both for every task. */
const EMITTED = Object.freeze({
  idle: Object.freeze({ emitted: Object.freeze({ type: 'idle' } as const) }),
  quiescent: Object.freeze({ emitted: Object.freeze({ type: 'quiescent' } as const) }),
});

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

/** The timer keys of a task's start deadline and of its retry delay: distinct whatever the task ids. */
const deadlineKey = (taskId: string): string => `queue:${taskId}`;
const retryKey = (taskId: string): string => `retry:${taskId}`;
const RATE_TIMER_KEY = 'rate';

/**
 * The live part of one executor actor: the book of tasks, its workers' slots, its timers. Only its
 * own transitions touch it.
 */
class ExecutorCore {
  readonly book: TaskBook;
  readonly workers: WorkerEntry[] = [];
  readonly #workersById = new Map<string, WorkerEntry>();
  readonly #timers: AnyActorRef;
  readonly #clock: Clock;
  readonly #sink: EventSink;
  readonly #logger: Logger;
  readonly #input: ExecutorInput;
  readonly #workerLogic: AnyActorLogic;
  readonly #self: AnyActorRef;
  state: ExecutorState = 'idle';
  extraSlots = 0;
  /** Replaced, never changed in place: snapshots share it. */
  abandoned: readonly string[] = [];
  /** Workers told to abandon their functions whose report has not come yet. */
  #abandonReportsDue = 0;
  /** Notices for the parent and emitted events of the current transition, in order; sent once it is over. */
  #outbox: OutboxItem[] = NO_OUTBOX;
  readonly #rateLimit: ResolvedRateLimit | undefined;
  /** The engine-wide limiter (`per: 'engine'`). */
  #engineLimiter: RateLimiter | undefined = undefined;
  /** One limiter per task group (`per: 'group'`), made as groups appear. */
  readonly #groupLimiters = new Map<string, RateLimiter>();
  /** When the rate timer is set to fire; `undefined` when it is not set. */
  #rateTimerDue: number | undefined = undefined;
  #childrenCache: Readonly<Record<string, AnyActorRef>> | undefined = undefined;
  /** The last two published lists of workers, newest first. */
  readonly #recentWorkerLists: [WorkerSlots[] | undefined, WorkerSlots[] | undefined] = [undefined, undefined];
  /** Set by the first `executor.probe`: from then on the parent hears each time the executor is quiescent. */
  #quiescenceWanted = false;
  /** Set when the published summary is out of date. */
  changed = true;

  constructor(input: ExecutorInput, self: AnyActorRef, workerLogicToRun: AnyActorLogic) {
    this.#input = input;
    this.#self = self;
    this.#clock = input.clock;
    this.#sink = input.sink;
    this.#logger = input.logger.child({ actor: self.id });
    this.#workerLogic = workerLogicToRun;
    this.#rateLimit = input.rateLimit;
    if (input.rateLimit?.per === 'engine') this.#engineLimiter = new RateLimiter(input.rateLimit.limit, input.rateLimit.intervalMs);
    this.book = new TaskBook({
      sink: input.sink,
      random: input.random,
      clock: input.clock,
      logger: this.#logger,
      byGroup: input.rateLimit?.per === 'group',
      threads: input.threads !== undefined,
    });
    this.#timers = createActor(timerLogic, { id: 'timers', parent: self, input: { clock: input.clock } });
    const main: WorkerEntry = {
      id: MAIN_WORKER_ID,
      thread: false,
      ref: this.#spawnWorker(MAIN_WORKER_ID, input.concurrency, undefined),
      capacity: input.concurrency,
      free: input.concurrency,
      down: false,
    };
    this.workers.push(main);
    this.#workersById.set(MAIN_WORKER_ID, main);
  }

  /** Starts the children made in the constructor (XState starts an actor's children after the actor itself). */
  startChildren(): void {
    this.#timers.start();
    for (const worker of this.workers) worker.ref.start();
  }

  stopChildren(scope: ExecutorScope): void {
    for (const worker of this.workers) scope.stopChild(worker.ref);
    scope.stopChild(this.#timers);
  }

  #spawnWorker(workerId: string, slots: number, initialStats: Readonly<WorkerStats> | undefined, threads?: ThreadSettings): WorkerRef {
    const input: WorkerInput = {
      workerId,
      slots,
      initialStats,
      threads,
      clock: this.#input.clock,
      sink: this.#input.sink,
      services: this.#input.services,
      logger: this.#input.logger.child({ actor: workerId }),
    };
    return createActor(this.#workerLogic, { id: workerId, parent: this.#self, input }) as WorkerRef;
  }

  snapshot(): ExecutorSnapshot {
    const workers = this.#publishedWorkers();
    return {
      status: 'active',
      output: undefined,
      error: undefined,
      value: this.state,
      context: {
        counts: { ...this.book.counts },
        settled: this.book.settled,
        unfinished: this.book.size,
        peakQueued: this.book.peakQueued,
        workers,
        extraSlots: this.extraSlots,
        abandoned: this.abandoned,
      },
      children: this.#children(),
    };
  }

  /**
   * The workers as published: the last two lists are remembered and handed out again while they
   * still match (they are values, never changed), because an idle engine's executor goes back and
   * forth between the same two (a slot taken, then free again) for every task.
   */
  #publishedWorkers(): readonly WorkerSlots[] {
    for (const list of this.#recentWorkerLists) if (list !== undefined && this.#matches(list)) return list;
    const list = this.workers.map((worker): WorkerSlots => ({
      id: worker.id,
      ref: worker.ref,
      capacity: worker.capacity,
      free: worker.free,
      down: worker.down,
    }));
    this.#recentWorkerLists[1] = this.#recentWorkerLists[0];
    this.#recentWorkerLists[0] = list;
    return list;
  }

  #matches(list: readonly WorkerSlots[]): boolean {
    const workers = this.workers;
    if (list.length !== workers.length) return false;
    for (let index = 0; index < workers.length; index++) {
      const published = list[index]!;
      const worker = workers[index]!;
      if (published.ref !== worker.ref || published.free !== worker.free || published.capacity !== worker.capacity || published.down !== worker.down)
        return false;
    }
    return true;
  }

  /** The children by id, made anew only when a worker was replaced (a restart), as published objects never change. */
  #children(): Readonly<Record<string, AnyActorRef>> {
    const cached = this.#childrenCache;
    if (cached !== undefined && this.workers.every((worker) => cached[worker.id] === worker.ref)) return cached;
    const children: Record<string, AnyActorRef> = { timers: this.#timers };
    for (const worker of this.workers) children[worker.id] = worker.ref;
    return (this.#childrenCache = children);
  }

  /**
   * Applies one event; a fault in the executor's own code is logged as an error and the executor
   * goes on with the next event, rather than fail and leave every task unsettled. (User code never
   * runs here: it runs in the workers, and what it returns or throws is contained there.)
   */
  receiveGuarded(event: ExecutorEvent): void {
    try {
      this.receive(event);
    } catch (error) {
      this.changed = true;
      this.#logger.error('the executor failed on an event; it goes on with the next one', {
        event: event.type,
        error: describeThrown(error),
        stack: stackOf(error),
      });
    }
  }

  /** Applies one event. */
  receive(event: ExecutorEvent): void {
    switch (event.type) {
      case 'task.submit':
        // Even a submission that settles at once (cancelled, or failed dependencies) passes through `working`.
        this.state = 'working';
        this.book.admit(event.submissions, event.cancelled);
        if (event.cancelled !== undefined) this.#cancelAdmitted(event.cancelled);
        this.#dispatchReadyTasks();
        this.#reportWatched();
        break;
      case 'worker.report':
        this.#applyWorkerReport(event);
        if (this.state === 'working') this.#dispatchReadyTasks();
        this.#retireFreeExtraSlots();
        this.#reportWatched();
        if (this.state === 'idle') this.#noticeIfQuiescent();
        break;
      case 'retry.due':
        // A retry timer is cleared when its task settles, so only a task of a working executor is due.
        this.book.requeue(event.taskId);
        this.#dispatchReadyTasks();
        this.#reportWatched();
        break;
      case 'task.cancel':
        this.#cancel(event.taskId, event.reason);
        this.#dispatchReadyTasks();
        this.#reportWatched();
        break;
      case 'task.reprioritize':
        this.book.reprioritize(event.taskId, event.priority);
        return;
      case 'queue.deadline':
        this.book.expireQueued(event.taskId);
        this.#reportWatched();
        break;
      case 'rate.due':
        this.#rateTimerDue = undefined;
        this.#dispatchReadyTasks();
        this.#reportWatched();
        break;
      case 'executor.cancel-pending':
        for (const taskId of this.book.cancelPending(event.reason, event.status)) this.#clearRetry(taskId);
        this.#reportWatched();
        this.#noticeIfQuiescent();
        break;
      case 'executor.abandon-running':
        this.#abandonRunning();
        break;
      case 'executor.abort-running':
        for (const { taskId, workerId } of this.book.dispatched()) {
          this.#workersById.get(workerId)?.ref.send({ type: 'task.abort', taskId, reason: event.reason });
        }
        return;
      case 'task.watch':
        this.book.watch(event.taskId, event.watching);
        this.#reportWatched();
        return;
      case 'tasks.describe': {
        const facts = event.taskIds.map((taskId) => ({ taskId, facts: this.book.describe(taskId) }));
        this.#post({ to: event.replyTo, reply: { type: 'tasks.described', facts } });
        return;
      }
      case 'executor.probe':
        this.#quiescenceWanted = true;
        this.#noticeIfQuiescent();
        return;
      case 'task.victim': {
        const workerId = this.book.describe(event.taskId)?.workerId;
        if (workerId !== undefined) this.#workersById.get(workerId)?.ref.send(event);
        return;
      }
      case 'worker.crash':
        this.#workersById.get(event.workerId)?.ref.send({ type: 'worker.crash' });
        return;
      case 'worker.slow':
        this.#workersById.get(event.workerId)?.ref.send({ type: 'worker.slow', factor: event.factor, until: event.until });
        return;
      case 'worker.restart':
        this.#restartWorker(event.workerId);
        this.#dispatchReadyTasks();
        this.#retireFreeExtraSlots();
        this.#reportWatched();
        this.#noticeIfQuiescent();
        break;
      case 'slots.add-extra':
        this.#addExtraSlot();
        this.#dispatchReadyTasks();
        this.#reportWatched();
        break;
      case 'xstate.stop':
        return;
      default: {
        const failed = event.type.startsWith(ERROR_PREFIX);
        if (failed || event.type.startsWith(DONE_PREFIX)) {
          const workerId = event.type.slice(failed ? ERROR_PREFIX.length : DONE_PREFIX.length);
          if (failed && this.#workersById.has(workerId))
            this.#logger.error(`worker ${workerId} failed: it is restarted as after a crash`, {
              error: describeThrown((event as { error?: unknown }).error),
            });
          this.#failCrashedWorker(workerId);
          this.#dispatchReadyTasks();
          this.#reportWatched();
          this.#noticeIfQuiescent();
        }
      }
    }
    this.changed = true;
    this.#applyDeadlineChanges();
    this.#updateState();
  }

  /** Arms and drops the timers of start deadlines (`queueTimeoutMs`). */
  #applyDeadlineChanges(): void {
    for (const change of this.book.takeDeadlineChanges()) {
      if (change.kind === 'clear') {
        this.#timers.send({ type: 'timer.clear', key: deadlineKey(change.taskId) } satisfies TimerCommand);
        continue;
      }
      const due: ExecutorEvent = { type: 'queue.deadline', taskId: change.taskId };
      this.#timers.send({ type: 'timer.set', key: deadlineKey(change.taskId), delayMs: change.delayMs, event: due } satisfies TimerCommand);
    }
  }

  /** Sends what this transition produced, in order; called by XState once the transition is over. */
  flushOutbox(scope: ExecutorScope): void {
    const outbox = this.#outbox;
    this.#outbox = NO_OUTBOX;
    const parent = this.#self._parent;
    const detector = this.#input.services.detector ?? parent;
    for (const item of outbox) {
      if ('emitted' in item) scope.emit(item.emitted);
      else if ('reply' in item) item.to.send(item.reply);
      else if (item.notice.type === 'tasks.watched' || item.notice.type === 'slots.retired-extra') detector?.send(item.notice);
      else parent?.send(item.notice);
    }
  }

  get hasOutbox(): boolean {
    return this.#outbox.length > 0;
  }

  #notify(notice: ExecutorNotice): void {
    this.#post({ notice });
  }

  #emit(item: (typeof EMITTED)[keyof typeof EMITTED]): void {
    this.#post(item);
  }

  /** Adds to the outbox, made to the size of its first items (most transitions post none, one or two). */
  #post(item: OutboxItem): void {
    const outbox = this.#outbox;
    // Pushing onto a list of one grows it to 17 slots; an idle engine posts two (idle, quiescent).
    if (outbox.length === 0) this.#outbox = [item];
    else if (outbox.length === 1) this.#outbox = [outbox[0]!, item];
    else outbox.push(item);
  }

  /** What entering `idle` does: at start, and each time the last unfinished task settles. */
  enterIdle(): void {
    if (this.#sink.active) this.#sink.publish({ type: 'engine.idle', at: this.#clock.now() }, this.book.counts);
    this.#emit(EMITTED.idle);
    this.#noticeIfQuiescent();
  }

  /** `working` while a task is unfinished; entering `idle` publishes, emits `idle`, and `quiescent` when so. */
  #updateState(): void {
    if (this.state === 'idle') {
      if (this.book.size > 0) this.state = 'working';
      return;
    }
    if (this.book.size > 0) return;
    this.state = 'idle';
    this.enterIdle();
  }

  #isQuiescent(): boolean {
    if (this.#abandonReportsDue > 0 || this.book.size > 0) return false;
    for (const worker of this.workers) if (!worker.down && worker.free !== worker.capacity) return false;
    return true;
  }

  /**
   * Shutdown gave up waiting for functions that ignore their abort signal: every worker lets go of
   * its running functions and reports them abandoned (quiescence waits for those reports, so that the
   * shutdown report lists them), every slot counts as free, and a task the book still has on a worker
   * (its report lost to a fault) is settled, so that shutdown always ends.
   */
  #abandonRunning(): void {
    for (const worker of this.workers) {
      if (worker.down) continue;
      this.#abandonReportsDue++;
      worker.free = worker.capacity;
      worker.ref.send({ type: 'worker.abandon' });
    }
    this.book.settleDispatched(new MezanError('E_SHUTDOWN', 'Abandoned by shutdown: its worker never reported it'));
    this.changed = true;
    this.#noticeIfQuiescent();
  }

  #noticeIfQuiescent(): void {
    if (!this.#isQuiescent()) return;
    this.#emit(EMITTED.quiescent);
    // The supervisor cares only while it drains, and says so with its first probe: until then an
    // idle engine does not cost it a machine step per task.
    if (this.#quiescenceWanted) this.#notify({ type: 'executor.quiescent' });
  }

  #dispatchReadyTasks(): void {
    const { book } = this;
    if (book.threadReadyCount > 0) this.#dispatchThreadTasks();
    if (book.readyCount === 0) return;
    if (this.#rateLimit !== undefined) {
      this.#dispatchRateLimited();
      return;
    }
    const now = this.#clock.now();
    for (const worker of this.workers) {
      if (worker.down || worker.free === 0 || worker.thread) continue;
      const count = Math.min(worker.free, book.readyCount);
      const orders: RunOrder[] = new Array(count);
      for (let i = 0; i < count; i++) orders[i] = book.takeReady(worker.id, now)!;
      worker.free -= count;
      worker.ref.send({ type: 'task.dispatch', orders });
      if (book.readyCount === 0) return;
    }
  }

  /** Hands ready thread tasks to the thread worker, spawned with the first of them. */
  #dispatchThreadTasks(): void {
    const worker = this.#workersById.get(THREAD_WORKER_ID) ?? this.#spawnThreadWorker();
    if (worker === undefined || worker.down || worker.free === 0) return;
    if (this.#rateLimit !== undefined) {
      this.#dispatchRateLimitedTo(worker, this.#clock.now());
      return;
    }
    const { book } = this;
    const count = Math.min(worker.free, book.threadReadyCount);
    const now = this.#clock.now();
    const orders: RunOrder[] = new Array(count);
    for (let i = 0; i < count; i++) orders[i] = book.takeReady(worker.id, now, undefined, true)!;
    worker.free -= count;
    worker.ref.send({ type: 'task.dispatch', orders });
  }

  #spawnThreadWorker(): WorkerEntry | undefined {
    const threads = this.#input.threads;
    if (threads === undefined) return undefined;
    const worker: WorkerEntry = {
      id: THREAD_WORKER_ID,
      thread: true,
      ref: this.#spawnWorker(THREAD_WORKER_ID, threads.count, undefined, threads),
      capacity: threads.count,
      free: threads.count,
      down: false,
    };
    this.workers.push(worker);
    this.#workersById.set(THREAD_WORKER_ID, worker);
    worker.ref.start();
    this.changed = true;
    return worker;
  }

  /**
   * Dispatch under a rate limit: the best ready task whose limit allows a start goes first; when
   * ready tasks are left with free slots, a timer wakes the executor when the next start is allowed.
   */
  #dispatchRateLimited(): void {
    const { book } = this;
    const now = this.#clock.now();
    let slotsLeft = false;
    for (const worker of this.workers) {
      if (worker.down || worker.free === 0 || worker.thread) continue;
      if (this.#dispatchRateLimitedTo(worker, now)) slotsLeft = true;
      if (book.readyCount === 0) return;
    }
    if (slotsLeft) this.#armRateTimer(now);
  }

  /**
   * Hands `worker` the best ready tasks of its kind the rate limit allows now.
   * @returns whether it is left with free slots (the rate timer is armed then for a thread worker)
   */
  #dispatchRateLimitedTo(worker: WorkerEntry, now: number): boolean {
    const { book } = this;
    const engineLimiter = this.#engineLimiter;
    const allowed = (group: string | undefined): boolean => group === undefined || this.#groupLimiter(group).available(now) > 0;
    const orders: RunOrder[] = [];
    while (orders.length < worker.free && (worker.thread ? book.threadReadyCount : book.readyCount) > 0) {
      if (engineLimiter !== undefined && engineLimiter.available(now) === 0) break;
      const order = book.takeReady(worker.id, now, engineLimiter === undefined ? allowed : undefined, worker.thread);
      if (order === undefined) break;
      if (engineLimiter !== undefined) engineLimiter.record(now);
      else if (order.group !== undefined) this.#groupLimiter(order.group).record(now);
      orders.push(order);
    }
    if (orders.length > 0) {
      worker.free -= orders.length;
      worker.ref.send({ type: 'task.dispatch', orders });
    }
    const slotsLeft = worker.free > 0 && (worker.thread ? book.threadReadyCount : book.readyCount) > 0;
    if (slotsLeft && worker.thread) this.#armRateTimer(now);
    return worker.free > 0;
  }

  #groupLimiter(group: string): RateLimiter {
    let limiter = this.#groupLimiters.get(group);
    if (limiter === undefined) this.#groupLimiters.set(group, (limiter = new RateLimiter(this.#rateLimit!.limit, this.#rateLimit!.intervalMs)));
    return limiter;
  }

  /** Wakes the executor when the earliest blocked limiter allows a start again. */
  #armRateTimer(now: number): void {
    let due = Number.POSITIVE_INFINITY;
    if (this.#engineLimiter !== undefined) due = this.#engineLimiter.nextStartAt(now);
    else for (const limiter of this.#groupLimiters.values()) if (limiter.available(now) === 0) due = Math.min(due, limiter.nextStartAt(now));
    // A timer already set to fire no later does; an earlier start (another group's) resets it.
    if (due === Number.POSITIVE_INFINITY || (this.#rateTimerDue !== undefined && this.#rateTimerDue <= due)) return;
    this.#rateTimerDue = due;
    const event: ExecutorEvent = { type: 'rate.due' };
    this.#timers.send({ type: 'timer.set', key: RATE_TIMER_KEY, delayMs: Math.max(0, due - now), event } satisfies TimerCommand);
  }

  #applyWorkerReport(event: WorkerReportEvent): void {
    const { book } = this;
    for (const outcome of event.outcomes) {
      const retry = book.applyOutcome(outcome, event.workerId);
      if (retry !== undefined) this.#scheduleRetry(retry.taskId, retry.delayMs);
    }
    const worker = this.#workersById.get(event.workerId);
    // Never more free slots than it has: once shutdown abandoned its functions, all of them count as free.
    if (worker !== undefined && !worker.down) worker.free = Math.min(worker.capacity, worker.free + event.freed);
    if (worker?.thread === true) this.#noticeThreadCrashes(worker.id, event.outcomes);
    if (event.abandoned !== undefined) {
      this.#abandonReportsDue = Math.max(0, this.#abandonReportsDue - 1);
      if (event.abandoned.length > 0) this.abandoned = [...this.abandoned, ...event.abandoned];
    }
  }

  /** Tasks cancelled while their submissions were on the way, which had been admitted before. */
  #cancelAdmitted(cancelled: ReadonlyMap<string, MezanError>): void {
    for (const [taskId, reason] of cancelled) if (this.book.has(taskId)) this.#cancel(taskId, reason);
  }

  #cancel(taskId: string, reason: MezanError): void {
    const result = this.book.cancel(taskId, reason);
    if (result.kind === 'settled' && result.wasDelayed) this.#clearRetry(taskId);
    else if (result.kind === 'on-worker') this.#workersById.get(result.workerId)?.ref.send({ type: 'task.abort', taskId, reason });
  }

  #scheduleRetry(taskId: string, delayMs: number): void {
    const due: ExecutorEvent = { type: 'retry.due', taskId };
    const command: TimerCommand = { type: 'timer.set', key: retryKey(taskId), delayMs, event: due };
    this.#timers.send(command);
  }

  #clearRetry(taskId: string): void {
    this.#timers.send({ type: 'timer.clear', key: retryKey(taskId) } satisfies TimerCommand);
  }

  /**
   * Threads that crashed under attempts of the thread worker: each is a crash of a worker for the
   * supervisor, which counts it in its restart intensity (and escalates past it), as for `main`. The
   * worker itself goes on (Piscina has replaced the thread), so its restart changes nothing.
   */
  #noticeThreadCrashes(workerId: string, outcomes: WorkerReportEvent['outcomes']): void {
    for (const outcome of outcomes) {
      if (outcome.kind === 'crashed') this.#notify({ type: 'worker.crashed', workerId, taskIds: [outcome.taskId] });
    }
  }

  /** A worker reached its final state: it crashed. Its attempts fail with `E_WORKER_CRASHED`; their retry policies apply. */
  #failCrashedWorker(workerId: string): void {
    const worker = this.#workersById.get(workerId);
    if (worker === undefined || worker.down) return;
    worker.down = true;
    worker.free = 0;
    const error = new MezanError('E_WORKER_CRASHED', `Worker ${worker.id} crashed`, { details: { workerId: worker.id } });
    const { plans, taskIds } = this.book.failWorker(worker.id, error);
    for (const retry of plans) this.#scheduleRetry(retry.taskId, retry.delayMs);
    this.#notify({ type: 'worker.crashed', workerId, taskIds });
  }

  #restartWorker(workerId: string): void {
    const worker = this.#workersById.get(workerId);
    if (worker === undefined || !worker.down) return;
    // The new worker carries the old one's statistics on, so per-worker counts still add up exactly.
    const initialStats = worker.ref.getSnapshot().context.stats;
    worker.ref = this.#spawnWorker(worker.id, worker.capacity, initialStats, worker.thread ? this.#input.threads : undefined);
    worker.ref.start();
    worker.down = false;
    worker.free = worker.capacity;
  }

  /** The worker compensation slots go to: the first one in service. */
  #compensatedWorker(): WorkerEntry | undefined {
    return this.workers.find((worker) => !worker.down) ?? this.workers[0];
  }

  #addExtraSlot(): void {
    const worker = this.#compensatedWorker();
    if (worker === undefined) return;
    this.extraSlots++;
    worker.capacity++;
    if (!worker.down) worker.free++;
    worker.ref.send({ type: 'worker.resize', slots: worker.capacity });
  }

  /** Compensation slots leave as soon as they are free with nothing ready to run. */
  #retireFreeExtraSlots(): void {
    if (this.extraSlots === 0 || this.book.readyCount > 0) return;
    const worker = this.#compensatedWorker();
    if (worker === undefined || worker.free === 0) return;
    const retired = Math.min(worker.free, this.extraSlots);
    this.extraSlots -= retired;
    worker.capacity -= retired;
    worker.free -= retired;
    worker.ref.send({ type: 'worker.resize', slots: worker.capacity });
    for (let i = 0; i < retired; i++) this.#notify({ type: 'slots.retired-extra' });
  }

  /**
   * Tells the deadlock detector what became of the tasks it watches; nothing when it watches none. A
   * thread task's change says how many threads there are: the slot it asks for is one of theirs.
   */
  #reportWatched(): void {
    const changes = this.book.takeWatchedChanges();
    if (changes.length === 0) return;
    const threads = this.#input.threads?.count;
    const { book } = this;
    this.#notify({
      type: 'tasks.watched',
      changes: threads === undefined ? changes : changes.map((change) => (book.isThreadTask(change.taskId) ? { ...change, threads } : change)),
    });
  }
}

const cores = new WeakMap<AnyActorRef, ExecutorCore>();

/**
 * Makes the logic of the executor: it owns the ready queue, dependencies, retries and cancellation,
 * and hands ready attempts to workers on demand: each worker gets, in one message, as many as it
 * has free slots, so the next attempt started is always the best ready one. It is the only
 * authority on a task until the task is dispatched; from then on the worker's report decides.
 *
 * Custom actor logic rather than a machine: its transitions are plain code, because they run once
 * per burst of tasks and a machine's macrostep costs microseconds. The statechart it follows is
 * `machines/executor.machine.ts`, which tests hold it to.
 *
 * @param workerLogicToRun - the logic of its workers (tests pass a stand-in)
 * @internal
 */
export function createExecutorLogic(
  workerLogicToRun: AnyActorLogic = workerLogic,
): ActorLogic<ExecutorSnapshot, ExecutorEvent, ExecutorInput, AnyActorSystem, ExecutorEmitted> {
  return {
    config: 'mezan.executor',
    getInitialSnapshot(scope, input) {
      const core = new ExecutorCore(input, scope.self, workerLogicToRun);
      cores.set(scope.self, core);
      core.changed = false;
      return core.snapshot();
    },
    start(_snapshot, scope) {
      const core = cores.get(scope.self)!;
      core.startChildren();
      // The executor starts idle, and says so as each time it becomes idle.
      core.enterIdle();
      core.flushOutbox(scope);
    },
    transition(snapshot, event, scope) {
      const core = cores.get(scope.self);
      if (core === undefined || snapshot.status !== 'active') return snapshot;
      if (event.type === 'xstate.stop') {
        core.stopChildren(scope);
        return { ...snapshot, status: 'stopped' };
      }
      core.receiveGuarded(event);
      if (core.hasOutbox) scope.defer(() => core.flushOutbox(scope));
      if (!core.changed) return snapshot;
      core.changed = false;
      return core.snapshot();
    },
    getPersistedSnapshot(snapshot) {
      return snapshot;
    },
  };
}

/** The executor's logic, with real workers. @internal */
export const executorLogic = createExecutorLogic();

/** The stack of an error, if it has one that can be read. */
function stackOf(error: unknown): string | undefined {
  try {
    return error instanceof Error ? error.stack : undefined;
  } catch {
    return undefined;
  }
}
