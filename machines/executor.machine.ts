import { setup } from 'xstate';
import type { ExecutorEmitted, ExecutorEvent, ExecutorInput } from '../actors/executor.actor';
import { timerLogic } from '../actors/timer.actor';
import { workerLogic } from '../actors/worker.actor';

/**
 * The statechart of the executor: `idle` while no task is unfinished, `working` from a submission
 * until the last unfinished task settles. Entering `idle` emits `idle` (and `quiescent` when every
 * worker is idle too). It spawns the workers and its retry timers. It draws the executor and states
 * its rules; the executor actor itself (`actors/executor.actor.ts`) runs them as plain code, because
 * its transitions happen once per burst of tasks, and its tests hold it to this chart.
 */
export const executorMachine = setup({
  types: {
    events: {} as ExecutorEvent,
    input: {} as ExecutorInput,
    emitted: {} as ExecutorEmitted,
  },
  actors: {
    worker: workerLogic,
    timers: timerLogic,
  },
  guards: {
    // Decided by the executor actor from its book (no task unfinished); the chart only draws the
    // choice, and is never run as an actor.
    hasNoTasks: () => false,
  },
}).createMachine({
  id: 'executor',
  initial: 'idle',
  states: {
    idle: {
      on: {
        'task.submit': { target: 'working' },
      },
    },
    working: {
      always: { guard: 'hasNoTasks', target: 'idle' },
    },
  },
});
