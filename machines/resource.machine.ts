import { setup } from 'xstate';
import type { PoolEvent, PoolInput } from '../actors/pool.actor';

// The states an event can leave the pool in, tried in this order: the one that fits what it left behind.
const TO_WHAT_IS_LEFT = [
  { guard: 'leavesRequestsWaiting', target: 'contended' },
  { guard: 'leavesNoUnitFree', target: 'exhausted' },
  { target: 'available' },
] as const;
// Likewise, for an event that cannot leave requests waiting where there were none.
const TO_FREE_UNITS_LEFT = [{ guard: 'leavesNoUnitFree', target: 'exhausted' }, { target: 'available' }] as const;

/**
 * The statechart of a resource pool: `available` (free units, nobody waiting), `exhausted` (no free
 * unit, nobody waiting) or `contended` (requests queued, served in strict FIFO order). Every event
 * leads to the state that fits what it left behind. It draws the pool and states its rules; the pool
 * actor itself (`actors/pool.actor.ts`) runs them as plain code, because it takes two events per task
 * that takes a unit, and its tests hold it to this chart.
 */
export const resourceMachine = setup({
  types: {
    events: {} as PoolEvent,
    input: {} as PoolInput,
  },
  guards: {
    // Decided by the pool actor from its queue and its free units after the event; the chart only
    // draws the choices, and is never run as an actor.
    leavesRequestsWaiting: () => false,
    leavesNoUnitFree: () => false,
  },
}).createMachine({
  id: 'resource',
  initial: 'available',
  states: {
    available: {
      on: {
        // Denied, granted (perhaps the last free units), or queued behind the units it does not find.
        'resource.request': TO_WHAT_IS_LEFT,
        'resource.release': { target: 'available' },
        'resource.revoke': { target: 'available' },
        'resource.set-capacity': TO_FREE_UNITS_LEFT,
      },
    },
    exhausted: {
      on: {
        // Denied, or queued.
        'resource.request': [{ guard: 'leavesRequestsWaiting', target: 'contended' }, { target: 'exhausted' }],
        'resource.release': TO_FREE_UNITS_LEFT,
        'resource.revoke': TO_FREE_UNITS_LEFT,
        'resource.set-capacity': TO_FREE_UNITS_LEFT,
      },
    },
    // Requests queue behind the head even when they would fit: strict FIFO, so the head cannot starve.
    // Whatever frees room grants the waiters that now fit, in the same step.
    contended: {
      on: {
        'resource.request': { target: 'contended' },
        'resource.release': TO_WHAT_IS_LEFT,
        'resource.cancel': TO_WHAT_IS_LEFT,
        'resource.revoke': TO_WHAT_IS_LEFT,
        'resource.set-capacity': TO_WHAT_IS_LEFT,
      },
    },
  },
});
