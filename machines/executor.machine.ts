import { enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { timerLogic, type TimerCommand } from '../actors/timer.actor';
import type { Clock } from '../src/clock';
import type { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { RandomSource } from '../src/random';
import type { EventSink } from '../src/internal/event-sink';
import { TaskBook } from '../src/internal/task-book';
import type { RunOrder, TaskSubmission, WorkerReportEvent } from '../src/internal/task-protocol';
import { workerMachine } from './worker.machine';

/** The executor's input. @internal */
export interface ExecutorInput {
  readonly workerCount: number;
  /** The most attempts one dispatch hands a worker when the queue is deep. */
  readonly maxBatch: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly sink: EventSink;
}

/** One worker as the executor tracks it. @internal */
export interface WorkerSlot {
  readonly id: string;
  readonly ref: ActorRefFrom<typeof workerMachine>;
  /** Whether the worker can take a dispatch now. */
  idle: boolean;
}

/** The executor's context. Its `book` and `idleWorkers` are private structures only its own actions touch. @internal */
export interface ExecutorContext {
  readonly book: TaskBook;
  readonly workers: readonly WorkerSlot[];
  readonly workersById: ReadonlyMap<string, WorkerSlot>;
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
  | { readonly type: 'task.submit'; readonly submissions: readonly TaskSubmission[] }
  | { readonly type: 'task.cancel'; readonly taskId: string; readonly reason: MezanError }
  | { readonly type: 'retry.due'; readonly taskId: string }
  | WorkerReportEvent;

/** What the executor emits to whoever holds it: `idle` when no task is unfinished, `quiescent` when moreover every worker is idle. @internal */
export type ExecutorEmitted = { readonly type: 'idle' } | { readonly type: 'quiescent' };

const RUN_MS_SMOOTHING = 0.2;
/** Attempts that run at least this long are dispatched one at a time, so priorities and latency stay exact. */
const INSTANT_TASK_MS = 1;

function batchSize(context: ExecutorContext): number {
  if (context.tuning.recentRunMs >= INSTANT_TASK_MS) return 1;
  const share = Math.floor(context.book.readyCount / context.workers.length);
  return Math.max(1, Math.min(context.maxBatch, share));
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
      if (event.type === 'task.submit') context.book.admit(event.submissions);
    },
    dispatchReadyTasks: ({ context }) => {
      const { book, idleWorkers } = context;
      while (idleWorkers.length > 0 && book.readyCount > 0) {
        const slot = idleWorkers.pop()!;
        slot.idle = false;
        const size = batchSize(context);
        const orders: RunOrder[] = [];
        for (let i = 0; i < size; i++) {
          const order = book.takeReady(slot.id);
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
        if (retry !== undefined) {
          const due: ExecutorEvent = { type: 'retry.due', taskId: retry.taskId };
          const command: TimerCommand = { type: 'timer.set', key: retry.taskId, delayMs: retry.delayMs, event: due };
          context.timers.send(command);
        }
      }
      const slot = context.workersById.get(event.workerId);
      if (event.idle && slot !== undefined && !slot.idle) {
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
    publishIdle: ({ context }) => {
      if (context.sink.active) context.sink.publish({ type: 'engine.idle', at: context.clock.now() });
    },
    emitIdle: enqueueActions(({ enqueue }) => enqueue.emit({ type: 'idle' })),
    emitQuiescentIfSo: enqueueActions(({ context, enqueue }) => {
      if (context.book.size === 0 && context.idleWorkers.length === context.workers.length) enqueue.emit({ type: 'quiescent' });
    }),
  },
  guards: {
    hasNoTasks: ({ context }) => context.book.size === 0,
  },
}).createMachine({
  id: 'executor',
  context: ({ input, spawn, self }) => {
    const workers: WorkerSlot[] = [];
    for (let index = 1; index <= input.workerCount; index++) {
      const id = `worker-${index}`;
      const ref = spawn('worker', {
        id,
        input: { workerId: id, clock: input.clock, sink: input.sink, logger: input.logger.child({ actor: id }) },
      });
      workers.push({ id, ref, idle: true });
    }
    return {
      book: new TaskBook({ sink: input.sink, random: input.random, now: () => input.clock.now(), logger: input.logger.child({ actor: self.id }) }),
      workers,
      workersById: new Map(workers.map((slot) => [slot.id, slot])),
      // Reversed so that the first dispatch goes to worker-1.
      idleWorkers: [...workers].reverse(),
      timers: spawn('timers', { id: 'timers', input: { clock: input.clock } }),
      sink: input.sink,
      clock: input.clock,
      maxBatch: input.maxBatch,
      tuning: { recentRunMs: 0 },
    };
  },
  initial: 'idle',
  states: {
    idle: {
      entry: ['publishIdle', 'emitIdle', 'emitQuiescentIfSo'],
      on: {
        'task.submit': { target: 'working', actions: ['admitSubmissions', 'dispatchReadyTasks'] },
        'worker.report': { actions: ['applyWorkerReport', 'emitQuiescentIfSo'] },
        'task.cancel': { actions: 'cancelTask' },
      },
    },
    working: {
      always: { guard: 'hasNoTasks', target: 'idle' },
      on: {
        'task.submit': { actions: ['admitSubmissions', 'dispatchReadyTasks'] },
        'worker.report': { actions: ['applyWorkerReport', 'dispatchReadyTasks'] },
        'task.cancel': { actions: ['cancelTask', 'dispatchReadyTasks'] },
        'retry.due': { actions: ['requeueRetry', 'dispatchReadyTasks'] },
      },
    },
  },
});
