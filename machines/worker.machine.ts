import { assertEvent, assign, sendParent, sendTo, setup } from 'xstate';
import { runTaskLogic, type RunnerInput, type RunnerReportEvent } from '../actors/run-task.actor';
import type { TaskAbortEvent, TaskDispatchEvent, WorkerReportEvent } from '../src/internal/task-protocol';
import type { TaskVictimEvent } from '../src/internal/task-services';

/** A worker's own statistics; exact, because only the worker updates them. */
export interface WorkerStats {
  /** How many tasks it may run at once (the engine's `concurrency`, plus compensation slots in service). */
  slots: number;
  /** How many of its slots are taken now: functions that have not returned, and orders about to start. */
  running: number;
  /** Attempts whose function returned a value. */
  tasksCompleted: number;
  /** Attempts whose function threw or that timed out (retried attempts included). */
  tasksFailed: number;
  /** Attempts cancelled while on this worker (started or not). */
  tasksCancelled: number;
  /** Functions that returned or threw (each attempt counts once). */
  attempts: number;
  /** Milliseconds of clock time its functions ran, aborted ones included. */
  busyMs: number;
  /** How long its last function ran, in milliseconds; `undefined` before the first. */
  lastTaskMs: number | undefined;
}

/** The worker machine's input: its runner's environment, its slots, and the statistics a restarted worker carries on. @internal */
export interface WorkerInput extends RunnerInput {
  readonly slots: number;
  readonly initialStats?: Readonly<WorkerStats>;
}

/** The worker machine's context. @internal */
export interface WorkerContext {
  readonly workerId: string;
  readonly runnerInput: RunnerInput;
  readonly stats: Readonly<WorkerStats>;
}

/** Makes the worker crash, as a fault injection (tests and simulations). @internal */
export interface WorkerCrashEvent {
  readonly type: 'worker.crash';
}

/** Slows the worker down (a simulated fault): its sleeps stretch by `factor` until clock time `until`. @internal */
export interface WorkerSlowEvent {
  readonly type: 'worker.slow';
  readonly factor: number;
  readonly until: number;
}

/** The executor changed how many slots the worker has (compensation slots added or retired). @internal */
export interface WorkerResizeEvent {
  readonly type: 'worker.resize';
  readonly slots: number;
}

/** Events a worker accepts. @internal */
export type WorkerEvent =
  TaskDispatchEvent | TaskAbortEvent | TaskVictimEvent | RunnerReportEvent | WorkerCrashEvent | WorkerSlowEvent | WorkerResizeEvent;

/**
 * A worker: an execution context (the main thread) that runs as many tasks at once as it has slots.
 * The executor hands it attempts only for free slots, in one message per dispatch; its runner calls
 * them and reports their outcomes once per turn. `idle` while no slot is taken, `busy` otherwise; a
 * timed-out or cancelled function that has not returned keeps its slot, so concurrency figures stay
 * true. It keeps its own statistics and forwards every outcome to the executor.
 */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    input: {} as WorkerInput,
    output: {} as { readonly crashed: true },
  },
  actors: {
    runTask: runTaskLogic,
  },
  actions: {
    forwardToRunner: sendTo('runner', ({ event }) => {
      if (event.type === 'task.dispatch') return { type: 'run' as const, orders: event.orders };
      return event as TaskAbortEvent | TaskVictimEvent | WorkerSlowEvent;
    }),
    countDispatch: assign({
      stats: ({ context, event }) => {
        assertEvent(event, 'task.dispatch');
        return { ...context.stats, running: context.stats.running + event.orders.length };
      },
    }),
    recordReport: assign({
      stats: ({ context, event }) => {
        assertEvent(event, 'runner.report');
        const stats = { ...context.stats, running: event.inUse };
        for (const outcome of event.outcomes) {
          if (outcome.kind === 'completed') stats.tasksCompleted++;
          else if (outcome.kind === 'cancelled') stats.tasksCancelled++;
          else stats.tasksFailed++;
        }
        stats.busyMs += event.busyMs;
        stats.attempts += event.attempts;
        if (event.lastTaskMs !== undefined) stats.lastTaskMs = event.lastTaskMs;
        return stats;
      },
    }),
    resize: assign({
      stats: ({ context, event }) => {
        assertEvent(event, 'worker.resize');
        return { ...context.stats, slots: event.slots };
      },
    }),
    crashRunner: sendTo('runner', { type: 'runner.crash' as const }),
    reportToExecutor: sendParent(({ context, event }): WorkerReportEvent => {
      assertEvent(event, 'runner.report');
      return { type: 'worker.report', workerId: context.workerId, outcomes: event.outcomes, freed: event.freed };
    }),
  },
  guards: {
    runnerIdle: ({ event }) => event.type === 'runner.report' && event.inUse === 0,
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({
    workerId: input.workerId,
    runnerInput: { workerId: input.workerId, clock: input.clock, sink: input.sink, logger: input.logger, services: input.services },
    stats: {
      ...(input.initialStats ?? { tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0, lastTaskMs: undefined }),
      slots: input.slots,
      running: 0,
    },
  }),
  invoke: {
    id: 'runner',
    src: 'runTask',
    input: ({ context }) => context.runnerInput,
  },
  initial: 'idle',
  on: {
    'worker.crash': { target: '.crashed', actions: 'crashRunner' },
    'task.dispatch': { target: '.busy', actions: ['countDispatch', 'forwardToRunner'] },
    'task.abort': { actions: 'forwardToRunner' },
    'task.victim': { actions: 'forwardToRunner' },
    'worker.slow': { actions: 'forwardToRunner' },
    'worker.resize': { actions: 'resize' },
    'runner.report': [
      { guard: 'runnerIdle', target: '.idle', actions: ['recordReport', 'reportToExecutor'] },
      { target: '.busy', actions: ['recordReport', 'reportToExecutor'] },
    ],
  },
  states: {
    idle: {},
    busy: {},
    // Final: the executor learns of the crash from the worker's done event and fails its attempts.
    crashed: { type: 'final' },
  },
  output: { crashed: true },
});
