import fc from 'fast-check';
import { createActor, fromCallback } from 'xstate';
import { poolLogic, zeroResourceStats, type PoolSnapshot, type PoolState } from '../../actors/pool.actor';
import { MezanError } from '../../src/errors';
import type { ResourceBatchedEvent, ResourceEvent, ResourceRepliesEvent, ResourceReplyEvent } from '../../src/internal/resource-protocol';
import { guardNames, recordSteps, transitionLabel, type ActorStep } from '../fixtures/chart-transitions';
import { checkPoolAgainstChart, RESOURCE_CHART, RESOURCE_GUARDS } from '../fixtures/resource-chart';

// The pool actor (`actors/pool.actor.ts`) is plain code; `machines/resource.machine.ts` is the
// statechart that draws it. These tests hold the one to the other: every state the actor reaches on
// an event is the target of the chart's transition for it, and the scenarios below take every
// transition of the chart.

// ---------------------------------------------------------------------------------------------
// The chart
// ---------------------------------------------------------------------------------------------

const { diagram, stateKey, transitions: DRAWN } = RESOURCE_CHART;
/** The chart's transitions on a local pool's events: a cluster pool's own two are tested with it (test/actors/cluster-pool.actor.test.ts). */
const CHART = DRAWN.filter((transition) => !transition.event.startsWith('cluster-pool.'));
const label = transitionLabel;
const GUARDS = RESOURCE_GUARDS;

// ---------------------------------------------------------------------------------------------
// The actor, watched
// ---------------------------------------------------------------------------------------------

type Step = ActorStep<PoolSnapshot>;

/** A pool named `db`, with every event it processes recorded through XState's `inspect`. */
function watchPool(capacity = 2) {
  const { inspect, steps, initial } = recordSteps<PoolSnapshot>('db');
  const replies: ResourceReplyEvent[] = [];
  /** The messages the requester got: an answer each, or a batch's answers to it in one. */
  const messages: Array<ResourceReplyEvent | ResourceRepliesEvent> = [];
  const requester = createActor(
    fromCallback<ResourceReplyEvent | ResourceRepliesEvent>(({ receive }) =>
      receive((message) => {
        messages.push(message);
        if (message.type === 'resource.replies') replies.push(...message.replies);
        else replies.push(message);
      }),
    ),
  ).start();
  const pool = createActor(poolLogic, { id: 'db', input: { name: 'db', capacity }, inspect }).start();
  const send = (event: ResourceEvent): Step => {
    const before = steps.length;
    pool.send(event);
    // Each event makes exactly one step (the pool sends itself nothing).
    expect(steps.length).toBe(before + 1);
    return steps.at(-1)!;
  };
  return {
    pool,
    steps,
    replies,
    initial,
    state: () => pool.getSnapshot().value,
    request: (requestId: string, taskId: string, units: number, at = 0) =>
      send({ type: 'resource.request', requestId, taskId, units, at, replyTo: requester }),
    release: (leaseId: string, at = 0) => send({ type: 'resource.release', leaseId, at }),
    cancel: (requestId: string, at = 0) => send({ type: 'resource.cancel', requestId, at }),
    revoke: (taskId: string, at = 0) => send({ type: 'resource.revoke', taskId, at, reason: new MezanError('E_DEADLOCK', 'victim') }),
    setCapacity: (capacity: number, at = 0) => send({ type: 'resource.set-capacity', capacity, at }),
    messages,
    /** The events of a batch: `['request', requestId, taskId, units]`, `['release', leaseId]`, `['cancel', requestId]`. */
    batch: (...parts: ReadonlyArray<readonly ['request', string, string, number] | readonly ['release' | 'cancel', string]>) =>
      send({
        type: 'resource.batch',
        events: parts.map((part): ResourceBatchedEvent =>
          part[0] === 'request'
            ? { type: 'resource.request', requestId: part[1], taskId: part[2], units: part[3], at: 0, replyTo: requester }
            : part[0] === 'release'
              ? { type: 'resource.release', leaseId: part[1], at: 0 }
              : { type: 'resource.cancel', requestId: part[1], at: 0 },
        ),
      }),
  };
}

type Watched = ReturnType<typeof watchPool>;

/** Expects the event to have been ignored: no new snapshot. */
function ignored(step: Step): void {
  expect({ event: step.event, changed: step.changed }).toEqual({ event: step.event, changed: false });
}

/** Checks every step against the chart; returns the chart transitions the steps took. */
function checkAgainstChart(watched: Pick<Watched, 'initial' | 'steps'>): Set<string> {
  return checkPoolAgainstChart(watched.initial(), watched.steps);
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

const SCENARIOS: Record<string, (watched: Watched) => void> = {
  'grants, a denial, and releases while units are free': ({ request, release, state }) => {
    request('r1', 'a', 1); // available -> available
    request('bad', 'b', 7); // denied: available -> available
    request('r2', 'b', 1); // the last free unit: available -> exhausted
    expect(state()).toBe('exhausted');
    request('bad2', 'c', 0); // denied: exhausted -> exhausted
    release('db#1'); // exhausted -> available
    release('db#2'); // available -> available
    expect(state()).toBe('available');
  },

  'a queue that forms, grows, and drains as units come back': ({ request, release, state }) => {
    request('r1', 'a', 1);
    request('r2', 'b', 2); // does not fit: available -> contended
    request('r3', 'c', 1); // behind the head: contended -> contended
    release('db#1'); // grants r2 only: contended -> contended
    expect(state()).toBe('contended');
    release('db#2'); // grants r3, one unit left: contended -> available
    request('r4', 'd', 1); // the last unit: available -> exhausted
    request('r5', 'e', 1); // exhausted -> contended
    release('db#3'); // grants r5, none left: contended -> exhausted
    expect(state()).toBe('exhausted');
  },

  'cancels that leave requests waiting or no unit free, and cancels the pool ignores': ({ request, cancel, state }) => {
    request('r1', 'a', 1);
    request('big', 'b', 2);
    request('c1', 'c', 1);
    request('d1', 'd', 1);
    cancel('d1'); // still waiting: contended -> contended
    cancel('big'); // grants c1, none left: contended -> exhausted
    expect(state()).toBe('exhausted');
    request('e1', 'e', 2); // queued: exhausted -> contended
    cancel('e1'); // contended -> exhausted
    cancel('e1'); // no longer queued: ignored
    cancel('c1'); // granted, not queued: ignored
  },

  'a cancel that leaves units free': ({ request, cancel, state }) => {
    request('r1', 'a', 1);
    request('big', 'b', 2);
    cancel('big'); // contended -> available
    expect(state()).toBe('available');
    cancel('nobody'); // ignored
  },

  'revokes in every state': ({ request, revoke, state }) => {
    request('a1', 'a', 1);
    revoke('a'); // available -> available
    request('a2', 'a', 2);
    revoke('a'); // exhausted -> available
    request('a3', 'a', 2);
    request('b1', 'b', 2);
    request('c1', 'c', 1);
    revoke('b'); // c1 still waits: contended -> contended
    revoke('a'); // grants c1, a unit left: contended -> available
    expect(state()).toBe('available');
    revoke('nobody'); // ignored
  },

  'revokes while requests wait that leave no unit free, or units free': ({ request, revoke, state }) => {
    request('a1', 'a', 2);
    request('b1', 'b', 2);
    revoke('a'); // grants b1: contended -> exhausted
    expect(state()).toBe('exhausted');
    request('c1', 'c', 1);
    revoke('b'); // grants c1, a unit left: contended -> available
    expect(state()).toBe('available');
  },

  'a smaller capacity keeps its holders, who then release and are revoked with no unit free': ({ request, release, revoke, setCapacity, state }) => {
    setCapacity(4); // available -> available
    request('a1', 'a', 2);
    request('b1', 'b', 1);
    setCapacity(3); // available -> exhausted
    setCapacity(3); // exhausted -> exhausted
    request('c1', 'c', 1);
    setCapacity(5); // grants c1: contended -> available
    setCapacity(4); // available -> exhausted
    expect(state()).toBe('exhausted');
    setCapacity(2); // exhausted -> exhausted, two units above it
    release('db#2'); // exhausted -> exhausted: 3 of 2 still held
    revoke('c'); // exhausted -> exhausted: 2 of 2
    setCapacity(3); // exhausted -> available
    setCapacity(-1); // ignored
    setCapacity(1.5); // ignored
    expect(state()).toBe('available');
  },

  'a revoke and a release that bring an over-full pool back under its capacity': ({ request, release, revoke, setCapacity, state }) => {
    request('a1', 'a', 1);
    request('b1', 'b', 1);
    setCapacity(1); // exhausted, 2 of 1 held
    revoke('a'); // exhausted -> exhausted: 1 of 1
    release('db#2'); // exhausted -> available
    request('c1', 'c', 1);
    setCapacity(3);
    request('d1', 'd', 2);
    setCapacity(0); // exhausted -> exhausted, 3 of 0 held
    revoke('c');
    release('db#4');
    expect(state()).toBe('exhausted');
    setCapacity(1); // exhausted -> available
    expect(state()).toBe('available');
  },

  'resizes while requests wait: too small to grant, large enough for some, for all, and smaller, denying': ({ request, setCapacity, state }) => {
    request('a1', 'a', 2);
    request('b1', 'b', 2);
    request('c1', 'c', 1);
    setCapacity(3); // b1 does not fit yet: contended -> contended
    setCapacity(4); // grants b1, c1 still waits: contended -> contended
    expect(state()).toBe('contended');
    setCapacity(5); // grants c1, none free: contended -> exhausted
    request('d1', 'd', 5);
    setCapacity(4); // denies d1, none free: contended -> exhausted
    request('e1', 'e', 3);
    setCapacity(2); // denies e1, none free (4 of 2 held): contended -> exhausted
    expect(state()).toBe('exhausted');
  },

  'a resize while requests wait that leaves units free': ({ request, setCapacity, state }) => {
    request('a1', 'a', 1);
    request('b1', 'b', 2);
    setCapacity(4); // grants b1, a unit left: contended -> available
    expect(state()).toBe('available');
    request('c1', 'c', 1);
    request('d1', 'd', 3);
    setCapacity(2); // denies d1, none free (4 of 2): contended -> exhausted
    expect(state()).toBe('exhausted');
  },

  'a release while others still wait': ({ request, release, state }) => {
    request('a1', 'a', 1);
    request('b1', 'b', 1);
    request('c1', 'c', 2);
    request('d1', 'd', 1);
    release('db#1'); // c1 does not fit yet: contended -> contended
    release('db#1'); // already released: ignored
    expect(state()).toBe('contended');
    release('db#2'); // grants c1, d1 waits: contended -> contended
    release('db#3'); // grants d1: contended -> available
    expect(state()).toBe('available');
  },

  'batches in every state, each event applied as if alone, the answers to one requester in one message': ({ batch, state, messages }) => {
    batch(['request', 'r1', 'a', 1]); // available -> available
    batch(['request', 'r2', 'b', 1]); // available -> exhausted
    batch(['request', 'bad', 'c', 7]); // denied: exhausted -> exhausted
    batch(['request', 'r3', 'c', 1]); // exhausted -> contended
    batch(['request', 'r4', 'd', 1]); // contended -> contended
    const before = messages.length;
    batch(['release', 'db#1'], ['cancel', 'r4']); // grants r3, withdraws r4: contended -> exhausted
    expect(messages.slice(before)).toEqual([
      {
        type: 'resource.replies',
        replies: [
          { type: 'resource.granted', requestId: 'r3', leaseId: 'db#3', resource: 'db', units: 1, at: 0 },
          { type: 'resource.cancelled', requestId: 'r4', resource: 'db' },
        ],
      },
    ]);
    batch(['release', 'db#2']); // exhausted -> available
    batch(['request', 'r5', 'e', 2]); // available -> contended
    batch(['cancel', 'r5']); // contended -> available
    expect(state()).toBe('available');
  },

  'a pool stopped while requests wait': ({ pool, request, steps }) => {
    request('a1', 'a', 2);
    request('b1', 'b', 1);
    pool.stop(); // its xstate.stop: no transition of the chart, the snapshot kept
    expect(steps.at(-1)).toMatchObject({ event: 'xstate.stop', changed: false });
  },
};

// ---------------------------------------------------------------------------------------------
// Random scenarios
// ---------------------------------------------------------------------------------------------

type BatchedAction =
  { readonly kind: 'request'; readonly task: number; readonly units: number } | { readonly kind: 'release' | 'cancel'; readonly pick: number };

type Action =
  | BatchedAction
  | { readonly kind: 'batch'; readonly parts: readonly BatchedAction[] }
  | { readonly kind: 'revoke'; readonly task: number }
  | { readonly kind: 'capacity'; readonly capacity: number };

const requestArbitrary = fc.record({
  kind: fc.constant('request' as const),
  task: fc.integer({ min: 0, max: 4 }),
  units: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1.5, 9) }),
});
const releaseArbitrary = fc.record({ kind: fc.constant('release' as const), pick: fc.nat() });
const cancelArbitrary = fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() });

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: requestArbitrary },
  { weight: 4, arbitrary: releaseArbitrary },
  { weight: 2, arbitrary: cancelArbitrary },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      parts: fc.array(fc.oneof(requestArbitrary, releaseArbitrary, cancelArbitrary), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), task: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('capacity' as const),
      capacity: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 2.5) }),
    }),
  },
);

/**
 * Plays random actions on a pool. Knowing from the replies which leases are live and which requests
 * queued, it checks that exactly the events the pool must ignore (an unknown lease, a request not
 * queued, a task with nothing here, an invalid capacity) leave its snapshot as it was.
 */
function play(watched: Watched, actions: readonly Action[]): void {
  const leases = new Map<string, string>();
  const queued = new Map<string, string>();
  const requestIds: string[] = [];
  let seen = 0;
  const settle = (): void => {
    for (const reply of watched.replies.slice(seen)) {
      if (reply.type === 'resource.granted') leases.set(reply.leaseId, queued.get(reply.requestId)!);
      else if (reply.type === 'resource.revoked' && reply.leaseId !== undefined) leases.delete(reply.leaseId);
      queued.delete(reply.requestId);
    }
    seen = watched.replies.length;
  };
  const expectChanged = (step: Step, changed: boolean): void =>
    expect({ event: step.event, changed: step.changed }).toEqual({ event: step.event, changed });
  for (const [index, action] of actions.entries()) {
    switch (action.kind) {
      case 'request': {
        const requestId = `r${index}`;
        requestIds.push(requestId);
        // Until a reply says otherwise, a request is queued (a denial or a grant comes at once).
        queued.set(requestId, `t${action.task}`);
        // A request is always answered or queued, so it always changes the snapshot.
        expectChanged(watched.request(requestId, `t${action.task}`, action.units), true);
        break;
      }
      case 'release': {
        const live = [...leases.keys()];
        const leaseId = live[action.pick % (live.length + 1)] ?? `db#${action.pick % 40}`;
        const known = leases.delete(leaseId);
        expectChanged(watched.release(leaseId), known);
        break;
      }
      case 'cancel': {
        const requestId = requestIds[action.pick % (requestIds.length + 1)] ?? 'unknown';
        expectChanged(watched.cancel(requestId), queued.has(requestId));
        break;
      }
      case 'revoke': {
        const taskId = `t${action.task}`;
        const present = [...leases.values(), ...queued.values()].includes(taskId);
        expectChanged(watched.revoke(taskId), present);
        for (const [leaseId, holder] of leases) if (holder === taskId) leases.delete(leaseId);
        break;
      }
      case 'capacity':
        expectChanged(watched.setCapacity(action.capacity), Number.isInteger(action.capacity) && action.capacity >= 0);
        break;
      case 'batch': {
        // Each part as it would be sent alone, read from what was known before the batch: the batch
        // changes the snapshot when any of them would have (a part ignored alone cannot count once
        // an earlier part of the batch changed things, as that one already does).
        let changes = false;
        const parts = action.parts.map((part, partIndex): readonly ['request', string, string, number] | readonly ['release' | 'cancel', string] => {
          if (part.kind === 'request') {
            const requestId = `r${index}.${partIndex}`;
            requestIds.push(requestId);
            queued.set(requestId, `t${part.task}`);
            changes = true;
            return ['request', requestId, `t${part.task}`, part.units];
          }
          if (part.kind === 'release') {
            const live = [...leases.keys()];
            const leaseId = live[part.pick % (live.length + 1)] ?? `db#${part.pick % 40}`;
            if (leases.delete(leaseId)) changes = true;
            return ['release', leaseId];
          }
          const requestId = requestIds[part.pick % (requestIds.length + 1)] ?? 'unknown';
          if (queued.has(requestId)) changes = true;
          return ['cancel', requestId];
        });
        expectChanged(watched.batch(...parts), changes);
        break;
      }
    }
    settle();
  }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('resourceMachine, the chart of the pool actor', () => {
  it('has exactly the states available (initial), exhausted and contended', () => {
    expect(diagram.root.initial).toBe('resource.available');
    expect(diagram.root.children.map((state) => [state.key, state.type])).toEqual([
      ['available', 'atomic'],
      ['exhausted', 'atomic'],
      ['contended', 'atomic'],
    ]);
  });

  it('draws the pool’s rules: requests queue only behind a full pool or a queue, and whatever frees room grants in the same step', () => {
    expect(CHART.map(label)).toEqual([
      'available --resource.request [leavesRequestsWaiting]--> contended',
      'available --resource.request [leavesNoUnitFree]--> exhausted',
      'available --resource.request--> available',
      'available --resource.release--> available',
      'available --resource.revoke--> available',
      'available --resource.set-capacity [leavesNoUnitFree]--> exhausted',
      'available --resource.set-capacity--> available',
      'available --resource.batch [leavesRequestsWaiting]--> contended',
      'available --resource.batch [leavesNoUnitFree]--> exhausted',
      'available --resource.batch--> available',
      'exhausted --resource.request [leavesRequestsWaiting]--> contended',
      'exhausted --resource.request--> exhausted',
      'exhausted --resource.release [leavesNoUnitFree]--> exhausted',
      'exhausted --resource.release--> available',
      'exhausted --resource.revoke [leavesNoUnitFree]--> exhausted',
      'exhausted --resource.revoke--> available',
      'exhausted --resource.set-capacity [leavesNoUnitFree]--> exhausted',
      'exhausted --resource.set-capacity--> available',
      'exhausted --resource.batch [leavesRequestsWaiting]--> contended',
      'exhausted --resource.batch [leavesNoUnitFree]--> exhausted',
      'exhausted --resource.batch--> available',
      'contended --resource.request--> contended',
      'contended --resource.release [leavesRequestsWaiting]--> contended',
      'contended --resource.release [leavesNoUnitFree]--> exhausted',
      'contended --resource.release--> available',
      'contended --resource.cancel [leavesRequestsWaiting]--> contended',
      'contended --resource.cancel [leavesNoUnitFree]--> exhausted',
      'contended --resource.cancel--> available',
      'contended --resource.revoke [leavesRequestsWaiting]--> contended',
      'contended --resource.revoke [leavesNoUnitFree]--> exhausted',
      'contended --resource.revoke--> available',
      'contended --resource.set-capacity [leavesRequestsWaiting]--> contended',
      'contended --resource.set-capacity [leavesNoUnitFree]--> exhausted',
      'contended --resource.set-capacity--> available',
      'contended --resource.batch [leavesRequestsWaiting]--> contended',
      'contended --resource.batch [leavesNoUnitFree]--> exhausted',
      'contended --resource.batch--> available',
    ]);
    expect(DRAWN.filter((transition) => !CHART.includes(transition)).map(label)).toEqual([
      'available --cluster-pool.lost--> available',
      'exhausted --cluster-pool.lost [leavesNoUnitFree]--> exhausted',
      'exhausted --cluster-pool.lost--> available',
      'contended --cluster-pool.reserved [leavesRequestsWaiting]--> contended',
      'contended --cluster-pool.reserved [leavesNoUnitFree]--> exhausted',
      'contended --cluster-pool.reserved--> available',
      'contended --cluster-pool.lost--> contended',
    ]);
    expect(Object.keys(GUARDS).sort()).toEqual(guardNames(CHART));
  });

  describe('the pool actor makes only the chart’s transitions', () => {
    it.each(Object.keys(SCENARIOS))('%s', (name) => {
      const watched = watchPool();
      SCENARIOS[name]!(watched);
      expect(watched.steps.length).toBeGreaterThan(0);
      checkAgainstChart(watched);
    });

    it('in random scenarios of requests, releases, cancels, revokes, resizes and batches', () => {
      const taken = new Set<string>();
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 4 }), fc.array(actionArbitrary, { maxLength: 40, size: 'medium' }), (capacity, actions) => {
          const watched = watchPool(capacity);
          play(watched, actions);
          for (const transition of checkAgainstChart(watched)) taken.add(transition);
        }),
        { seed: 20240611, numRuns: 200 },
      );
      // The random runs reach every transition too, so the check above is not vacuous.
      expect([...taken].sort()).toEqual(CHART.map(label).sort());
    });
  });

  it('has every transition of the chart taken by the scenarios', () => {
    const taken = new Set<string>();
    for (const scenario of Object.values(SCENARIOS)) {
      const watched = watchPool();
      scenario(watched);
      for (const transition of checkAgainstChart(watched)) taken.add(transition);
    }
    expect([...taken].sort()).toEqual(CHART.map(label).sort());
  });

  it('publishes no new snapshot for the events the pool ignores', () => {
    const { request, release, cancel, revoke, setCapacity } = watchPool();
    request('a1', 'a', 1);
    request('b1', 'b', 2);
    ignored(release('db#9'));
    ignored(release('nope'));
    ignored(cancel('a1')); // granted, not queued
    ignored(cancel('unknown'));
    ignored(revoke('nobody'));
    for (const capacity of [-1, 1.5, NaN, Infinity]) ignored(setCapacity(capacity));
    cancel('b1');
    ignored(cancel('b1')); // cancelled before
    release('db#1');
    ignored(release('db#1')); // released before
  });

  it('starts in the chart’s initial state with units; with none it starts exhausted, which the chart does not draw', () => {
    // The engine gives every pool a positive capacity; only a pool made by hand can have none.
    expect(watchPool(1).initial()?.value).toBe(stateKey(diagram.root.initial!));
    expect(watchPool(0).initial()?.value).toBe('exhausted');
  });

  it('notices a step the chart does not allow (the check itself is sound)', () => {
    const reached = (value: PoolState, capacity: number, inUse: number, queueLength: number): PoolSnapshot => ({
      status: 'active',
      output: undefined,
      error: undefined,
      value,
      context: { name: 'db', capacity, rank: undefined, stats: { ...zeroResourceStats(), inUse, queueLength }, holdings: [] },
    });
    const initial = reached('available', 2, 0, 0);
    const check = (steps: Step[]) => () => checkAgainstChart({ initial: () => initial, steps });
    // A release that exhausts an available pool; a request that frees an exhausted one; a request
    // that ends contention; a cancel of an uncontended pool that changes its snapshot; a step whose
    // state does not fit its snapshot; a release that leaves requests waiting yet is not contended.
    expect(
      check([{ from: 'available', event: 'resource.release', to: 'exhausted', changed: true, reached: reached('exhausted', 2, 2, 0) }]),
    ).toThrow();
    expect(
      check([{ from: 'exhausted', event: 'resource.request', to: 'available', changed: true, reached: reached('available', 2, 1, 0) }]),
    ).toThrow();
    expect(
      check([{ from: 'contended', event: 'resource.request', to: 'available', changed: true, reached: reached('available', 2, 1, 0) }]),
    ).toThrow();
    expect(
      check([{ from: 'available', event: 'resource.cancel', to: 'available', changed: true, reached: reached('available', 2, 0, 0) }]),
    ).toThrow();
    expect(
      check([{ from: 'available', event: 'resource.request', to: 'available', changed: true, reached: reached('available', 2, 2, 0) }]),
    ).toThrow();
    expect(
      check([{ from: 'contended', event: 'resource.release', to: 'exhausted', changed: true, reached: reached('exhausted', 2, 2, 1) }]),
    ).toThrow();
    expect(
      check([
        { from: 'available', event: 'resource.request', to: 'contended', changed: true, reached: reached('contended', 2, 1, 1) },
        { from: 'contended', event: 'resource.cancel', to: 'available', changed: true, reached: reached('available', 2, 1, 0) },
        { from: 'available', event: 'resource.cancel', to: 'available', changed: false, reached: reached('available', 2, 1, 0) },
      ])(),
    ).toEqual(new Set(['available --resource.request [leavesRequestsWaiting]--> contended', 'contended --resource.cancel--> available']));
  });
});
