import { setup } from 'xstate';
import type { WorkerEvent, WorkerInput } from '../actors/worker.actor';

/**
 * The statechart of a worker: `idle` while no slot is taken, `busy` from a dispatch until a report
 * finds every slot free again, and `crashed` (final) after a crash. It draws the worker and states
 * its rules; the worker actor itself (`actors/worker.actor.ts`) runs them as plain code, because its
 * transitions happen once per burst of tasks, and its tests hold it to this chart.
 */
export const workerMachine = setup({
  types: {
    events: {} as WorkerEvent,
    input: {} as WorkerInput,
    output: {} as { readonly crashed: true },
  },
  guards: {
    // Decided by the worker actor from its runner (no slot taken after the report); the chart only
    // draws the choice, and is never run as an actor.
    holdsNothing: () => false,
  },
}).createMachine({
  id: 'worker',
  initial: 'idle',
  states: {
    idle: {
      on: {
        'task.dispatch': { target: 'busy' },
        'worker.crash': { target: 'crashed' },
      },
    },
    busy: {
      on: {
        'task.dispatch': { target: 'busy' },
        'worker.flush': [{ guard: 'holdsNothing', target: 'idle' }, { target: 'busy' }],
        'worker.crash': { target: 'crashed' },
      },
    },
    // Final: the executor learns of the crash from the worker's done event and fails its attempts.
    crashed: { type: 'final' },
  },
  output: { crashed: true },
});
