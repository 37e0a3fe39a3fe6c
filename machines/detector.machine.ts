import { setup } from 'xstate';
import type { DetectorEvent, DetectorInput } from '../actors/detector.actor';

// Whatever the detector is told, it is left deadlocked or not by what it then finds.
const TO_WHAT_IS_FOUND = [{ guard: 'leavesDeadlockOpen', target: 'deadlocked' }, { target: 'watching' }] as const;

/**
 * The statechart of the deadlock detector: `watching` the wait-for graph, or `deadlocked` from the
 * moment it found a deadlock until it sees the graph free of it again. It changes on a turn's
 * notices only (`graph.notices`: waits begun and ended, awaits, the executor's answers, after which
 * it looks from each task that blocked). An explicit or delayed check (`deadlock.check`) changes
 * nothing by itself: a deadlock it finds is resolved once the executor has answered what the victim
 * policy weighs (a notice), or at once by a compensation slot, which ends it in the same step; and a
 * deadlock's end comes with a notice. It draws the detector and states its
 * rules; the detector actor itself (`actors/detector.actor.ts`) runs them as plain code, because it
 * takes a batch in every turn in which a contended pool changes, and its tests hold it to this chart.
 */
export const detectorMachine = setup({
  types: {
    events: {} as DetectorEvent,
    input: {} as DetectorInput,
  },
  guards: {
    // Decided by the detector actor from what it found; the chart only draws the choices, and is
    // never run as an actor.
    leavesDeadlockOpen: () => false,
  },
}).createMachine({
  id: 'detector',
  initial: 'watching',
  states: {
    watching: {
      on: {
        'graph.notices': TO_WHAT_IS_FOUND,
        'deadlock.check': { target: 'watching' },
      },
    },
    deadlocked: {
      on: {
        'graph.notices': TO_WHAT_IS_FOUND,
        'deadlock.check': { target: 'deadlocked' },
      },
    },
  },
});
