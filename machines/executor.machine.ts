import { assertEvent, assign, enqueueActions, sendParent, setup, type ActorRefFrom } from 'xstate';
import { timerLogic, type TimerCommand } from '../actors/timer.actor';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { RandomSource } from '../src/random';
import type { EventSink } from '../src/internal/event-sink';
import { TaskBook, type WatchedState } from '../src/internal/task-book';
import type { RunOrder, TaskSubmission, WorkerReportEvent } from '../src/internal/task-protocol';
import type { TaskServices, TaskVictimEvent } from '../src/internal/task-services';
import { workerMachine, type WorkerInput } from './worker.machine';

/** The executor's input. @internal */
export interface ExecutorInput {
  /** How many tasks run at once: the slots of the main-thread worker. */
  readonly concurrency: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly sink: EventSink;
  /** What running tasks can reach: resource pools, the supervisor, nested submission. */
  readonly services: TaskServices;
}

/** One worker as the executor tracks it: its slots, and how many of them are free. @internal */
export interface WorkerSlots {
  readonly id: string;
  /** Replaced when the worker is restarted after a crash. */
  ref: ActorRefFrom<typeof workerMachine>;
  /** How many tasks it may run at once. */
  capacity: number;
  /** How many more attempts it can take now: its demand. */
  free: number;
  /** Set between a crash and the restart: a crashed worker takes nothing. */
  down: boolean;
}

/** The executor's context. Its `book` and `workers` are private structures only its own actions touch. @internal */
export interface ExecutorContext {
  readonly book: TaskBook;
  readonly workers: WorkerSlots[];
  readonly workersById: Map<string, WorkerSlots>;
  readonly workerInput: Omit<WorkerInput, 'workerId' | 'logger' | 'slots'> & { readonly logger: Logger };
  /** Tasks a crashed worker took down, until the supervisor is told. */
  readonly lostOnCrash: Map<string, readonly string[]>;
  /** Compensation slots in service: added to resolve starvation, retired once free. */
  readonly extraSlots: { count: number };
  readonly timers: ActorRefFrom<typeof timerLogic>;
  readonly sink: EventSink;
  readonly clock: Clock;
}

/** Events the executor accepts. @internal */
export type ExecutorEvent =
  /** New tasks; `cancelled` names those whose caller cancelled them before they were sent. */
  | { readonly type: 'task.submit'; readonly submissions: readonly TaskSubmission[]; readonly cancelled?: ReadonlyMap<string, MezanError> }
  | { readonly type: 'task.cancel'; readonly taskId: string; readonly reason: MezanError }
  | { readonly type: 'retry.due'; readonly taskId: string }
  | WorkerReportEvent
  /** Cancels every task not on a worker (shutdown with `drain: 'cancel'`, or escalation with `rejected`). */
  | { readonly type: 'executor.cancel-pending'; readonly reason: MezanError; readonly status?: 'cancelled' | 'rejected' }
  /** Aborts every task on a worker (shutdown's terminating phase). */
  | { readonly type: 'executor.abort-running'; readonly reason: MezanError }
  /** The supervisor starts or stops watching a task some task awaits. */
  | { readonly type: 'task.watch'; readonly taskId: string; readonly watching: boolean }
  /** Asks for `executor.quiescent` to the parent if nothing is left to do. */
  | { readonly type: 'executor.probe' }
  /** The supervisor chose this task as a deadlock victim. */
  | TaskVictimEvent
  /** Fault injection: makes a worker crash. */
  | { readonly type: 'worker.crash'; readonly workerId: string }
  /** Fault injection: slows a worker's sleeps by `factor` until clock time `until`. */
  | { readonly type: 'worker.slow'; readonly workerId: string; readonly factor: number; readonly until: number }
  /** Restarts a crashed worker (the supervisor's decision). */
  | { readonly type: 'worker.restart'; readonly workerId: string }
  /** Adds a compensation slot (the supervisor's answer to worker-slot starvation). */
  | { readonly type: 'slots.add-extra' }
  | { readonly type: `xstate.done.actor.${string}`; readonly output?: unknown };

/** What the executor emits to whoever holds it: `idle` when no task is unfinished, `quiescent` when moreover every worker is idle. @internal */
export type ExecutorEmitted = { readonly type: 'idle' } | { readonly type: 'quiescent' };

/** What the executor tells its parent, the supervisor. @internal */
export type ExecutorNotice =
  | { readonly type: 'executor.quiescent' }
  /** A worker crashed; `taskIds` were on it (their attempts failed with `E_WORKER_CRASHED`). */
  | { readonly type: 'worker.crashed'; readonly workerId: string; readonly taskIds: readonly string[] }
  /** A compensation slot was retired. */
  | { readonly type: 'slots.retired-extra' }
  /** Watched tasks changed their need for a worker slot (see `task.watch`). */
  | { readonly type: 'tasks.watched'; readonly changes: ReadonlyArray<{ readonly taskId: string; readonly state: WatchedState }> };

/** The id of the main-thread worker. */
export const MAIN_WORKER_ID = 'main';

/** The input of the worker named `workerId`: the shared environment, and its own id, slots and logger. */
function workerInputFor(shared: ExecutorContext['workerInput'], workerId: string, slots: number): WorkerInput {
  return { ...shared, workerId, slots, logger: shared.logger.child({ actor: workerId }) };
}

function isQuiescent(context: ExecutorContext): boolean {
  return context.book.size === 0 && context.workers.every((worker) => worker.down || worker.free === worker.capacity);
}

function scheduleRetry(context: ExecutorContext, taskId: string, delayMs: number): void {
  const due: ExecutorEvent = { type: 'retry.due', taskId };
  const command: TimerCommand = { type: 'timer.set', key: taskId, delayMs, event: due };
  context.timers.send(command);
}

function workerIdOf(event: { readonly type: string }): string {
  return event.type.slice('xstate.done.actor.'.length);
}

/** The worker compensation slots go to: the first one in service. */
function compensatedWorker(context: ExecutorContext): WorkerSlots | undefined {
  return context.workers.find((worker) => !worker.down) ?? context.workers[0];
}

/**
 * The executor: owns the ready queue, dependencies, retries and cancellation, and hands ready
 * attempts to workers on demand: each worker gets, in one message, as many as it has free slots,
 * so the next attempt started is always the best ready one. It is the only authority on a task
 * until the task is dispatched; from then on the worker's report decides.
 */
export const executorMachine = setup({
  types: {
    context: {} as ExecutorContext,
    events: {} as ExecutorEvent,
    input: {} as ExecutorInput,
    emitted: {} as ExecutorEmitted,
  },
  actors: {
    worker: workerMachine,
    timers: timerLogic,
  },
  actions: {
    admitSubmissions: ({ context, event }) => {
      assertEvent(event, 'task.submit');
      context.book.admit(event.submissions, event.cancelled);
    },
    dispatchReadyTasks: ({ context }) => {
      const { book } = context;
      if (book.readyCount === 0) return;
      const now = context.clock.now();
      for (const worker of context.workers) {
        if (worker.down || worker.free === 0) continue;
        const count = Math.min(worker.free, book.readyCount);
        const orders: RunOrder[] = new Array(count);
        for (let i = 0; i < count; i++) orders[i] = book.takeReady(worker.id, now)!;
        worker.free -= count;
        worker.ref.send({ type: 'task.dispatch', orders });
        if (book.readyCount === 0) return;
      }
    },
    applyWorkerReport: ({ context, event }) => {
      assertEvent(event, 'worker.report');
      const { book } = context;
      for (const outcome of event.outcomes) {
        const retry = book.applyOutcome(outcome, event.workerId);
        if (retry !== undefined) scheduleRetry(context, retry.taskId, retry.delayMs);
      }
      const worker = context.workersById.get(event.workerId);
      if (worker !== undefined && !worker.down) worker.free += event.freed;
    },
    cancelTask: ({ context, event }) => {
      assertEvent(event, 'task.cancel');
      const result = context.book.cancel(event.taskId, event.reason);
      if (result.kind === 'settled' && result.wasDelayed) {
        context.timers.send({ type: 'timer.clear', key: event.taskId });
      } else if (result.kind === 'on-worker') {
        context.workersById.get(result.workerId)?.ref.send({ type: 'task.abort', taskId: event.taskId, reason: event.reason });
      }
    },
    requeueRetry: ({ context, event }) => {
      assertEvent(event, 'retry.due');
      context.book.requeue(event.taskId);
    },
    cancelPending: ({ context, event }) => {
      assertEvent(event, 'executor.cancel-pending');
      for (const taskId of context.book.cancelPending(event.reason, event.status)) {
        context.timers.send({ type: 'timer.clear', key: taskId });
      }
    },
    abortRunning: ({ context, event }) => {
      assertEvent(event, 'executor.abort-running');
      for (const { taskId, workerId } of context.book.dispatched()) {
        context.workersById.get(workerId)?.ref.send({ type: 'task.abort', taskId, reason: event.reason });
      }
    },
    forwardVictim: ({ context, event }) => {
      assertEvent(event, 'task.victim');
      const workerId = context.book.describe(event.taskId)?.workerId;
      if (workerId !== undefined) context.workersById.get(workerId)?.ref.send(event);
    },
    slowWorker: ({ context, event }) => {
      assertEvent(event, 'worker.slow');
      context.workersById.get(event.workerId)?.ref.send({ type: 'worker.slow', factor: event.factor, until: event.until });
    },
    crashWorker: ({ context, event }) => {
      assertEvent(event, 'worker.crash');
      context.workersById.get(event.workerId)?.ref.send({ type: 'worker.crash' });
    },
    /** A worker reached its final state: it crashed. Its attempts fail with `E_WORKER_CRASHED`; their retry policies apply. */
    failCrashedWorker: ({ context, event }) => {
      const worker = context.workersById.get(workerIdOf(event));
      if (worker === undefined || worker.down) return;
      worker.down = true;
      worker.free = 0;
      const error = new MezanError('E_WORKER_CRASHED', `Worker ${worker.id} crashed`, { details: { workerId: worker.id } });
      const { plans, taskIds } = context.book.failWorker(worker.id, error);
      for (const retry of plans) scheduleRetry(context, retry.taskId, retry.delayMs);
      context.lostOnCrash.set(worker.id, taskIds);
    },
    notifyCrash: sendParent(({ context, event }): ExecutorNotice => {
      const workerId = workerIdOf(event);
      const taskIds = context.lostOnCrash.get(workerId) ?? [];
      context.lostOnCrash.delete(workerId);
      return { type: 'worker.crashed', workerId, taskIds };
    }),
    restartWorker: assign(({ context, event, spawn }) => {
      assertEvent(event, 'worker.restart');
      const worker = context.workersById.get(event.workerId);
      if (worker === undefined || !worker.down) return {};
      // The new worker carries the old one's statistics on, so per-worker counts still add up exactly.
      const initialStats = worker.ref.getSnapshot().context.stats;
      worker.ref = spawn('worker', {
        id: worker.id,
        input: { ...workerInputFor(context.workerInput, worker.id, worker.capacity), initialStats },
      });
      worker.down = false;
      worker.free = worker.capacity;
      return {};
    }),
    addExtraSlot: ({ context }) => {
      const worker = compensatedWorker(context);
      if (worker === undefined) return;
      context.extraSlots.count++;
      worker.capacity++;
      if (!worker.down) worker.free++;
      worker.ref.send({ type: 'worker.resize', slots: worker.capacity });
    },
    /** Compensation slots leave as soon as they are free with nothing ready to run. */
    retireFreeExtraSlots: enqueueActions(({ context, enqueue }) => {
      if (context.extraSlots.count === 0 || context.book.readyCount > 0) return;
      const worker = compensatedWorker(context);
      if (worker === undefined || worker.free === 0) return;
      const retired = Math.min(worker.free, context.extraSlots.count);
      context.extraSlots.count -= retired;
      worker.capacity -= retired;
      worker.free -= retired;
      worker.ref.send({ type: 'worker.resize', slots: worker.capacity });
      for (let i = 0; i < retired; i++) enqueue.sendParent({ type: 'slots.retired-extra' } satisfies ExecutorNotice);
    }),
    publishIdle: ({ context }) => {
      if (context.sink.active) context.sink.publish({ type: 'engine.idle', at: context.clock.now() });
    },
    watchTask: ({ context, event }) => {
      assertEvent(event, 'task.watch');
      context.book.watch(event.taskId, event.watching);
    },
    /** Tells the supervisor what became of the tasks it watches; nothing when it watches none. */
    reportWatched: enqueueActions(({ context, enqueue }) => {
      const changes = context.book.takeWatchedChanges();
      if (changes.length > 0) enqueue.sendParent({ type: 'tasks.watched', changes } satisfies ExecutorNotice);
    }),
    emitIdle: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'idle' })),
    emitQuiescentIfSo: enqueueActions(({ context, enqueue }) => {
      if (!isQuiescent(context)) return;
      enqueue.emit({ type: 'quiescent' });
      enqueue.sendParent({ type: 'executor.quiescent' } satisfies ExecutorNotice);
    }),
  },
  guards: {
    hasNoTasks: ({ context }) => context.book.size === 0,
  },
}).createMachine({
  id: 'executor',
  context: ({ input, spawn, self }) => {
    const workerInput = { clock: input.clock, sink: input.sink, logger: input.logger, services: input.services };
    const ref = spawn('worker', { id: MAIN_WORKER_ID, input: workerInputFor(workerInput, MAIN_WORKER_ID, input.concurrency) });
    const main: WorkerSlots = { id: MAIN_WORKER_ID, ref, capacity: input.concurrency, free: input.concurrency, down: false };
    return {
      workerInput,
      lostOnCrash: new Map(),
      extraSlots: { count: 0 },
      book: new TaskBook({ sink: input.sink, random: input.random, now: () => input.clock.now(), logger: input.logger.child({ actor: self.id }) }),
      workers: [main],
      workersById: new Map([[MAIN_WORKER_ID, main]]),
      timers: spawn('timers', { id: 'timers', input: { clock: input.clock } }),
      sink: input.sink,
      clock: input.clock,
    };
  },
  initial: 'idle',
  on: {
    'worker.crash': { actions: 'crashWorker' },
    'worker.slow': { actions: 'slowWorker' },
    'task.victim': { actions: 'forwardVictim' },
    'xstate.done.actor.*': { actions: ['failCrashedWorker', 'notifyCrash', 'dispatchReadyTasks', 'reportWatched', 'emitQuiescentIfSo'] },
    'worker.restart': { actions: ['restartWorker', 'dispatchReadyTasks', 'retireFreeExtraSlots', 'reportWatched', 'emitQuiescentIfSo'] },
    'slots.add-extra': { actions: ['addExtraSlot', 'dispatchReadyTasks', 'reportWatched'] },
    'task.watch': { actions: 'watchTask' },
    'executor.abort-running': { actions: 'abortRunning' },
    'executor.probe': { actions: 'emitQuiescentIfSo' },
    'executor.cancel-pending': { actions: ['cancelPending', 'reportWatched', 'emitQuiescentIfSo'] },
    'task.cancel': { actions: ['cancelTask', 'dispatchReadyTasks', 'reportWatched'] },
  },
  states: {
    idle: {
      entry: ['publishIdle', 'emitIdle', 'emitQuiescentIfSo'],
      on: {
        'task.submit': { target: 'working', actions: ['admitSubmissions', 'dispatchReadyTasks', 'reportWatched'] },
        'worker.report': { actions: ['applyWorkerReport', 'retireFreeExtraSlots', 'reportWatched', 'emitQuiescentIfSo'] },
      },
    },
    working: {
      always: { guard: 'hasNoTasks', target: 'idle' },
      on: {
        'task.submit': { actions: ['admitSubmissions', 'dispatchReadyTasks', 'reportWatched'] },
        'worker.report': { actions: ['applyWorkerReport', 'dispatchReadyTasks', 'retireFreeExtraSlots', 'reportWatched'] },
        'retry.due': { actions: ['requeueRetry', 'dispatchReadyTasks', 'reportWatched'] },
      },
    },
  },
});
