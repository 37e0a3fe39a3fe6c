import { assign, sendParent, sendTo, setup } from 'xstate';
import { runTaskLogic, type RunnerInput, type RunnerReportEvent } from '../actors/run-task.actor';
import type { TaskAbortEvent, TaskDispatchEvent, WorkerReportEvent } from '../src/internal/task-protocol';
import type { TaskVictimEvent } from '../src/internal/task-services';

/** A worker's own statistics; exact, because only the worker updates them. */
export interface WorkerStats {
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

/** The worker machine's input: its runner's environment, and the statistics a restarted worker carries on. @internal */
export interface WorkerInput extends RunnerInput {
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

/** Events a worker accepts. @internal */
export type WorkerEvent = TaskDispatchEvent | TaskAbortEvent | TaskVictimEvent | RunnerReportEvent | WorkerCrashEvent | WorkerSlowEvent;

/**
 * A worker: one slot of concurrency. `idle` until the executor dispatches attempts; `busy` while its
 * runner works through them; `aborting` while a timed-out or cancelled function has not returned
 * yet (the slot stays taken, so concurrency figures stay true). It keeps its own statistics and
 * forwards every outcome to the executor.
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
    recordReport: assign({
      stats: ({ context, event }) => {
        const report = event as RunnerReportEvent;
        const stats = { ...context.stats };
        for (const outcome of report.outcomes) {
          if (outcome.kind === 'completed') stats.tasksCompleted++;
          else if (outcome.kind === 'cancelled') stats.tasksCancelled++;
          else if (outcome.kind !== 'requeue') stats.tasksFailed++;
        }
        stats.busyMs += report.busyMs;
        stats.attempts += report.attempts;
        if (report.lastTaskMs !== undefined) stats.lastTaskMs = report.lastTaskMs;
        return stats;
      },
    }),
    crashRunner: sendTo('runner', { type: 'runner.crash' as const }),
    reportToExecutor: sendParent(({ context, event }): WorkerReportEvent => {
      const report = event as RunnerReportEvent;
      return { type: 'worker.report', workerId: context.workerId, outcomes: report.outcomes, idle: report.state === 'idle' };
    }),
  },
  guards: {
    runnerIdle: ({ event }) => (event as RunnerReportEvent).state === 'idle',
    runnerAborting: ({ event }) => (event as RunnerReportEvent).state === 'aborting',
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({
    workerId: input.workerId,
    runnerInput: { workerId: input.workerId, clock: input.clock, sink: input.sink, logger: input.logger, services: input.services },
    stats: input.initialStats ?? { tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0, lastTaskMs: undefined },
  }),
  invoke: {
    id: 'runner',
    src: 'runTask',
    input: ({ context }) => context.runnerInput,
  },
  initial: 'idle',
  on: {
    'worker.crash': { target: '.crashed', actions: 'crashRunner' },
    'task.dispatch': { target: '.busy', actions: 'forwardToRunner' },
    'task.abort': { actions: 'forwardToRunner' },
    'task.victim': { actions: 'forwardToRunner' },
    'worker.slow': { actions: 'forwardToRunner' },
    'runner.report': [
      { guard: 'runnerIdle', target: '.idle', actions: ['recordReport', 'reportToExecutor'] },
      { guard: 'runnerAborting', target: '.aborting', actions: ['recordReport', 'reportToExecutor'] },
      { target: '.busy', actions: ['recordReport', 'reportToExecutor'] },
    ],
  },
  states: {
    idle: {},
    busy: {},
    aborting: {},
    // Final: the executor learns of the crash from the worker's done event and fails its attempts.
    crashed: { type: 'final' },
  },
  output: { crashed: true },
});
