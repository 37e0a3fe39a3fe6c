import { setup } from 'xstate';
import type { ClusterPoolEvent } from '../actors/cluster-pool.actor';
import type { PoolInput } from '../actors/pool.actor';

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
 * leads to the state that fits what it left behind; a batch (a simulation's requests, releases and
 * cancels of one burst of promise jobs, applied in order) to whatever its events left. It draws the pool and states its rules; the pool
 * actor itself (`actors/pool.actor.ts`) runs them as plain code, because it takes two events per task
 * that takes a unit, and its tests hold it to this chart.
 *
 * A cluster pool (`actors/cluster-pool.actor.ts`, `scope: 'cluster'`) follows the same chart, with
 * two events of its own, from its units' count in Redis: `cluster-pool.reserved` (the head
 * request's units are reserved there: it is granted) and `cluster-pool.lost` (a held lease lapsed
 * there: its holder is told, and its units are free). A request it takes always queues first, until
 * Redis reserves its units, so it is `contended` while any request waits for Redis.
 */
export const resourceMachine = setup({
  types: {
    events: {} as ClusterPoolEvent,
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
        'cluster-pool.lost': { target: 'available' },
        'resource.batch': TO_WHAT_IS_LEFT,
      },
    },
    exhausted: {
      on: {
        // Denied, or queued.
        'resource.request': [{ guard: 'leavesRequestsWaiting', target: 'contended' }, { target: 'exhausted' }],
        'resource.release': TO_FREE_UNITS_LEFT,
        'resource.revoke': TO_FREE_UNITS_LEFT,
        'resource.set-capacity': TO_FREE_UNITS_LEFT,
        'cluster-pool.lost': TO_FREE_UNITS_LEFT,
        'resource.batch': TO_WHAT_IS_LEFT,
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
        // A cluster pool's head request is granted once Redis reserved its units.
        'cluster-pool.reserved': TO_WHAT_IS_LEFT,
        // The units a lapsed lease frees go to no waiter until Redis reserves them for the head.
        'cluster-pool.lost': { target: 'contended' },
        'resource.batch': TO_WHAT_IS_LEFT,
      },
    },
  },
});
