import { assign, enqueueActions, sendParent, setup, type ActorRefFrom } from 'xstate';
import { timerLogic, type TimerCommand } from '../actors/timer.actor';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { RandomSource } from '../src/random';
import type { EventSink } from '../src/internal/event-sink';
import { TaskBook, type WatchedState } from '../src/internal/task-book';
import type { RunOrder, TaskSubmission, WorkerReportEvent } from '../src/internal/task-protocol';
import type { TaskServices, TaskVictimEvent } from '../src/internal/task-services';
import { workerMachine, type WorkerInput, type WorkerStats } from './worker.machine';

/** The executor's input. @internal */
export interface ExecutorInput {
  readonly workerCount: number;
  /** The most attempts one dispatch hands a worker when the queue is deep. */
  readonly maxBatch: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly sink: EventSink;
  /** What running tasks can reach: resource pools, the supervisor, nested submission. */
  readonly services: TaskServices;
}

/** One worker as the executor tracks it. @internal */
export interface WorkerSlot {
  readonly id: string;
  /** Replaced when the worker is restarted after a crash. */
  ref: ActorRefFrom<typeof workerMachine>;
  /** Whether the worker can take a dispatch now. */
  idle: boolean;
  /** Set between a crash and the restart: a crashed worker takes nothing. */
  down: boolean;
  /** A compensation worker, added to resolve starvation and retired once idle. */
  readonly extra: boolean;
}

/** The executor's context. Its `book` and `idleWorkers` are private structures only its own actions touch. @internal */
export interface ExecutorContext {
  readonly book: TaskBook;
  readonly workers: WorkerSlot[];
  readonly workersById: Map<string, WorkerSlot>;
  readonly workerInput: Omit<WorkerInput, 'workerId' | 'logger'> & { readonly logger: Logger };
  /** Tasks a crashed worker took down, until the supervisor is told. */
  readonly lostOnCrash: Map<string, readonly string[]>;
  /** How many compensation workers were ever added: names them. */
  readonly extrasAdded: number;
  /** The final statistics of retired compensation workers: their work still counts. */
  readonly retired: Array<{ readonly id: string; readonly stats: Readonly<WorkerStats> }>;
  readonly idleWorkers: WorkerSlot[];
  readonly timers: ActorRefFrom<typeof timerLogic>;
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly maxBatch: number;
  /** Moving average of attempt run times: batching is for instant tasks, not for slow ones. */
  readonly tuning: { recentRunMs: number };
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
  /** Adds a compensation worker (the supervisor's answer to worker-slot starvation). */
  | { readonly type: 'worker.add-extra' }
  | { readonly type: `xstate.done.actor.${string}`; readonly output?: unknown };

/** What the executor emits to whoever holds it: `idle` when no task is unfinished, `quiescent` when moreover every worker is idle. @internal */
export type ExecutorEmitted = { readonly type: 'idle' } | { readonly type: 'quiescent' };

/** What the executor tells its parent, the supervisor. @internal */
export type ExecutorNotice =
  | { readonly type: 'executor.quiescent' }
  /** A worker crashed; `taskIds` were on it (their attempts failed with `E_WORKER_CRASHED`). */
  | { readonly type: 'worker.crashed'; readonly workerId: string; readonly taskIds: readonly string[] }
  | { readonly type: 'worker.retired'; readonly workerId: string }
  /** Watched tasks changed their need for a worker slot (see `task.watch`). */
  | { readonly type: 'tasks.watched'; readonly changes: ReadonlyArray<{ readonly taskId: string; readonly state: WatchedState }> };

const RUN_MS_SMOOTHING = 0.2;
/** Attempts that run at least this long are dispatched one at a time, so priorities and latency stay exact. */
const INSTANT_TASK_MS = 1;

function batchSize(context: ExecutorContext): number {
  if (context.tuning.recentRunMs >= INSTANT_TASK_MS) return 1;
  const share = Math.floor(context.book.readyCount / context.workers.length);
  return Math.max(1, Math.min(context.maxBatch, share));
}

/** The input of the worker named `workerId`: the shared environment, and its own id and logger. */
function workerInputFor(shared: ExecutorContext['workerInput'], workerId: string): WorkerInput {
  return { ...shared, workerId, logger: shared.logger.child({ actor: workerId }) };
}

function isQuiescent(context: ExecutorContext): boolean {
  return context.book.size === 0 && context.workers.every((slot) => slot.idle || slot.down);
}

function scheduleRetry(context: ExecutorContext, taskId: string, delayMs: number): void {
  const due: ExecutorEvent = { type: 'retry.due', taskId };
  const command: TimerCommand = { type: 'timer.set', key: taskId, delayMs, event: due };
  context.timers.send(command);
}

function workerIdOf(event: { readonly type: string }): string {
  return event.type.slice('xstate.done.actor.'.length);
}

/**
 * The executor: owns the ready queue (a priority heap), dependencies, retries and cancellation, and
 * hands ready attempts to idle workers, a small batch at a time when the queue is deep. It is the
 * only authority on a task until the task is dispatched; from then on the worker's report decides.
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
      if (event.type === 'task.submit') context.book.admit(event.submissions, event.cancelled);
    },
    dispatchReadyTasks: ({ context }) => {
      const { book, idleWorkers } = context;
      if (idleWorkers.length === 0 || book.readyCount === 0) return;
      const now = context.clock.now();
      while (idleWorkers.length > 0 && book.readyCount > 0) {
        const slot = idleWorkers.pop()!;
        slot.idle = false;
        const size = batchSize(context);
        const orders: RunOrder[] = [];
        for (let i = 0; i < size; i++) {
          const order = book.takeReady(slot.id, now);
          if (order === undefined) break;
          orders.push(order);
        }
        slot.ref.send({ type: 'task.dispatch', orders });
      }
    },
    applyWorkerReport: ({ context, event }) => {
      if (event.type !== 'worker.report') return;
      const { book, tuning } = context;
      for (const outcome of event.outcomes) {
        if (outcome.started) {
          tuning.recentRunMs += RUN_MS_SMOOTHING * (outcome.endedAt - outcome.startedAt - tuning.recentRunMs);
        }
        const retry = book.applyOutcome(outcome, event.workerId);
        if (retry !== undefined) scheduleRetry(context, retry.taskId, retry.delayMs);
      }
      const slot = context.workersById.get(event.workerId);
      if (event.idle && slot !== undefined && !slot.idle && !slot.down) {
        slot.idle = true;
        context.idleWorkers.push(slot);
      }
    },
    cancelTask: ({ context, event }) => {
      if (event.type !== 'task.cancel') return;
      const result = context.book.cancel(event.taskId, event.reason);
      if (result.kind === 'settled' && result.wasDelayed) {
        context.timers.send({ type: 'timer.clear', key: event.taskId });
      } else if (result.kind === 'on-worker') {
        context.workersById.get(result.workerId)?.ref.send({ type: 'task.abort', taskId: event.taskId, reason: event.reason });
      }
    },
    requeueRetry: ({ context, event }) => {
      if (event.type === 'retry.due') context.book.requeue(event.taskId);
    },
    cancelPending: ({ context, event }) => {
      if (event.type !== 'executor.cancel-pending') return;
      for (const taskId of context.book.cancelPending(event.reason, event.status)) {
        context.timers.send({ type: 'timer.clear', key: taskId });
      }
    },
    abortRunning: ({ context, event }) => {
      if (event.type !== 'executor.abort-running') return;
      for (const { taskId, workerId } of context.book.abortDispatched(event.reason)) {
        context.workersById.get(workerId)?.ref.send({ type: 'task.abort', taskId, reason: event.reason });
      }
    },
    forwardVictim: ({ context, event }) => {
      if (event.type !== 'task.victim') return;
      const workerId = context.book.describe(event.taskId)?.workerId;
      if (workerId !== undefined) context.workersById.get(workerId)?.ref.send(event);
    },
    slowWorker: ({ context, event }) => {
      if (event.type !== 'worker.slow') return;
      context.workersById.get(event.workerId)?.ref.send({ type: 'worker.slow', factor: event.factor, until: event.until });
    },
    crashWorker: ({ context, event }) => {
      if (event.type !== 'worker.crash') return;
      context.workersById.get(event.workerId)?.ref.send({ type: 'worker.crash' });
    },
    /** A worker reached its final state: it crashed. Its attempts fail with `E_WORKER_CRASHED`; their retry policies apply. */
    failCrashedWorker: ({ context, event }) => {
      const slot = context.workersById.get(workerIdOf(event));
      if (slot === undefined || slot.down) return;
      slot.down = true;
      slot.idle = false;
      const index = context.idleWorkers.indexOf(slot);
      if (index >= 0) context.idleWorkers.splice(index, 1);
      const error = new MezanError('E_WORKER_CRASHED', `Worker ${slot.id} crashed`, { details: { workerId: slot.id } });
      const { plans, taskIds } = context.book.failWorker(slot.id, error);
      for (const retry of plans) scheduleRetry(context, retry.taskId, retry.delayMs);
      context.lostOnCrash.set(slot.id, taskIds);
    },
    notifyCrash: sendParent(({ context, event }): ExecutorNotice => {
      const workerId = workerIdOf(event);
      const taskIds = context.lostOnCrash.get(workerId) ?? [];
      context.lostOnCrash.delete(workerId);
      return { type: 'worker.crashed', workerId, taskIds };
    }),
    restartWorker: assign(({ context, event, spawn }) => {
      if (event.type !== 'worker.restart') return {};
      const slot = context.workersById.get(event.workerId);
      if (slot === undefined || !slot.down) return {};
      // The new worker carries the old one's statistics on, so per-worker counts still add up exactly.
      const initialStats = slot.ref.getSnapshot().context.stats;
      slot.ref = spawn('worker', {
        id: slot.id,
        input: { ...workerInputFor(context.workerInput, slot.id), initialStats },
      });
      slot.down = false;
      slot.idle = true;
      context.idleWorkers.push(slot);
      return {};
    }),
    addExtraWorker: assign(({ context, spawn }) => {
      const id = `worker-extra-${context.extrasAdded + 1}`;
      const slot: WorkerSlot = {
        id,
        ref: spawn('worker', { id, input: workerInputFor(context.workerInput, id) }),
        idle: true,
        down: false,
        extra: true,
      };
      context.workers.push(slot);
      context.workersById.set(id, slot);
      context.idleWorkers.push(slot);
      return { extrasAdded: context.extrasAdded + 1 };
    }),
    /** Compensation workers leave as soon as they are idle with nothing ready to run. */
    retireIdleExtras: enqueueActions(({ context, enqueue }) => {
      if (context.book.readyCount > 0) return;
      for (const slot of [...context.workers]) {
        if (!slot.extra || !slot.idle) continue;
        context.workers.splice(context.workers.indexOf(slot), 1);
        context.workersById.delete(slot.id);
        context.retired.push({ id: slot.id, stats: slot.ref.getSnapshot().context.stats });
        context.idleWorkers.splice(context.idleWorkers.indexOf(slot), 1);
        enqueue.stopChild(slot.ref);
        enqueue.sendParent({ type: 'worker.retired', workerId: slot.id } satisfies ExecutorNotice);
      }
    }),
    publishIdle: ({ context }) => {
      if (context.sink.active) context.sink.publish({ type: 'engine.idle', at: context.clock.now() });
    },
    watchTask: ({ context, event }) => {
      if (event.type === 'task.watch') context.book.watch(event.taskId, event.watching);
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
    const workers: WorkerSlot[] = [];
    for (let index = 1; index <= input.workerCount; index++) {
      const id = `worker-${index}`;
      const ref = spawn('worker', { id, input: workerInputFor(workerInput, id) });
      workers.push({ id, ref, idle: true, down: false, extra: false });
    }
    return {
      workerInput,
      lostOnCrash: new Map(),
      extrasAdded: 0,
      retired: [],
      book: new TaskBook({ sink: input.sink, random: input.random, now: () => input.clock.now(), logger: input.logger.child({ actor: self.id }) }),
      workers,
      workersById: new Map(workers.map((slot) => [slot.id, slot])),
      // Reversed so that the first dispatch goes to worker-1.
      idleWorkers: [...workers].reverse(),
      timers: spawn('timers', { id: 'timers', input: { clock: input.clock } }),
      sink: input.sink,
      clock: input.clock,
      maxBatch: input.maxBatch,
      // Assume slow tasks until reports show otherwise: the first dispatches go one at a time.
      tuning: { recentRunMs: INSTANT_TASK_MS },
    };
  },
  initial: 'idle',
  on: {
    'worker.crash': { actions: 'crashWorker' },
    'worker.slow': { actions: 'slowWorker' },
    'task.victim': { actions: 'forwardVictim' },
    'xstate.done.actor.*': { actions: ['failCrashedWorker', 'notifyCrash', 'dispatchReadyTasks', 'reportWatched', 'emitQuiescentIfSo'] },
    'worker.restart': { actions: ['restartWorker', 'dispatchReadyTasks', 'reportWatched', 'emitQuiescentIfSo'] },
    'worker.add-extra': { actions: ['addExtraWorker', 'dispatchReadyTasks', 'reportWatched'] },
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
        'worker.report': { actions: ['applyWorkerReport', 'retireIdleExtras', 'reportWatched', 'emitQuiescentIfSo'] },
      },
    },
    working: {
      always: { guard: 'hasNoTasks', target: 'idle' },
      on: {
        'task.submit': { actions: ['admitSubmissions', 'dispatchReadyTasks', 'reportWatched'] },
        'worker.report': { actions: ['applyWorkerReport', 'dispatchReadyTasks', 'retireIdleExtras', 'reportWatched'] },
        'retry.due': { actions: ['requeueRetry', 'dispatchReadyTasks', 'reportWatched'] },
      },
    },
  },
});
