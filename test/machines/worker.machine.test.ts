import fc from 'fast-check';
import type { WorkerActorSnapshot, WorkerState } from '../../actors/worker.actor';
import { workerMachine } from '../../machines/worker.machine';
import { MezanError } from '../../src/errors';
import type { RunOrder } from '../../src/internal/task-protocol';
import type { TaskFunction } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';
import { flush } from '../fixtures/flush';
import { manual } from '../fixtures/manual-function';
import { turnBurst } from '../fixtures/order-bursts';
import { mainRunEnvironment } from '../fixtures/run-environment';
import { order, sleeps } from '../fixtures/run-order';
import { TurnClock } from '../fixtures/turn-clock';
import { hostWorker } from '../fixtures/worker-host';
import { zeroWorkerStats } from '../fixtures/worker-stats';
import { guardNames, readChart, recordSteps, transitionLabel, type ActorStep } from '../fixtures/chart-transitions';

// The worker actor (`actors/worker.actor.ts`) is plain code; `machines/worker.machine.ts` is the
// statechart that draws it. These tests hold the one to the other: every change of state the actor
// makes is a transition of the chart, and the scenarios below take every transition of the chart.

// ---------------------------------------------------------------------------------------------
// The chart
// ---------------------------------------------------------------------------------------------

const { diagram, stateKey, transitions: CHART } = readChart(workerMachine);
const label = transitionLabel;

/**
 * What the chart's guards mean, read from the snapshot the actor reached: `holdsNothing` is "no slot
 * is taken after the report".
 */
const GUARDS: Record<string, (reached: WorkerActorSnapshot) => boolean> = {
  holdsNothing: (reached) => reached.context.stats.running === 0,
};

// ---------------------------------------------------------------------------------------------
// The actor, watched
// ---------------------------------------------------------------------------------------------

type Step = ActorStep<WorkerActorSnapshot>;

/** A worker under the smallest parent, with every event it processes recorded through XState's `inspect`. */
function watchWorker<C extends VirtualClock = VirtualClock>(clock: C = new VirtualClock() as C) {
  const { inspect, steps, initial } = recordSteps<WorkerActorSnapshot>('worker');
  const { actor, worker } = hostWorker({ ...mainRunEnvironment(clock), slots: 4 }, { inspect });
  return {
    clock,
    actor,
    worker,
    steps,
    initial,
    state: () => worker.getSnapshot().value,
    dispatch: (...orders: RunOrder[]) => worker.send({ type: 'task.dispatch', orders }),
    abort: (taskId: string) => worker.send({ type: 'task.abort', taskId, reason: new MezanError('E_CANCELLED', 'cancelled') }),
  };
}

type Watched = ReturnType<typeof watchWorker>;

/**
 * Checks every step against the chart; returns the chart transitions the steps took.
 * Throws (a failed expectation) at the first step the chart does not allow.
 */
function checkAgainstChart(watched: Watched): Set<string> {
  const taken = new Set<string>();
  const initial = watched.initial();
  expect(initial?.value).toBe(stateKey(diagram.root.initial!));
  expect(initial?.status).toBe('active');
  watched.steps.forEach((step, index) => {
    const where = `step ${index}: ${step.from} --${step.event}--> ${step.to}`;
    const { stats } = step.reached.context;
    // The state and the slots taken tell the same story.
    expect({ where, idleWithSlotsTaken: step.to === 'idle' && stats.running !== 0 }).toEqual({ where, idleWithSlotsTaken: false });
    expect({ where, busyWithNoSlotTaken: step.to === 'busy' && stats.running === 0 }).toEqual({ where, busyWithNoSlotTaken: false });
    // Done exactly in the chart's final state, with the chart's output.
    const final = diagram.root.children.find((state) => state.key === step.to)?.type === 'final';
    expect({ where, done: step.reached.status === 'done' }).toEqual({ where, done: final });
    if (final) expect(step.reached.output).toEqual(workerMachine.config.output);
    const candidates = CHART.filter((transition) => transition.source === step.from && transition.event === step.event);
    if (candidates.length === 0) {
      // The chart ignores the event here: the actor must not change state (it may update its statistics).
      expect({ where, to: step.to }).toEqual({ where, to: step.from });
      // A final state takes nothing at all.
      if (step.from === 'crashed') expect({ where, changed: step.changed }).toEqual({ where, changed: false });
      return;
    }
    // The transition the chart takes: the first whose guard holds; none when every guard fails.
    const chosen = candidates.find((transition) => transition.guard === undefined || GUARDS[transition.guard]!(step.reached));
    expect({ where, to: step.to }).toEqual({ where, to: chosen?.target ?? step.from });
    if (chosen !== undefined && step.changed) taken.add(label(chosen));
  });
  return taken;
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

const SCENARIOS: Record<string, (watched: Watched) => Promise<void>> = {
  'a dispatch of instant tasks': async ({ clock, dispatch, state }) => {
    dispatch(
      order('a', () => 1),
      order('b', () => Promise.resolve(2)),
      order('c', () => {
        throw new Error('c');
      }),
    );
    await clock.runAll();
    expect(state()).toBe('idle');
  },

  'a second dispatch while busy, and a report that leaves slots taken': async ({ clock, dispatch, state }) => {
    dispatch(order('slow', sleeps(100)));
    await clock.advanceBy(10);
    dispatch(order('quick', sleeps(5)));
    await clock.advanceBy(5);
    expect(state()).toBe('busy');
    await clock.runAll();
    expect(state()).toBe('idle');
  },

  'a timeout whose function keeps its slot until it returns': async ({ clock, dispatch, state }) => {
    const stuck = manual();
    dispatch(order('stuck', stuck.fn, { timeoutMs: 10 }));
    await clock.advanceBy(10);
    expect(state()).toBe('busy');
    stuck.resolve('late');
    await flush();
    expect(state()).toBe('idle');
  },

  'cancels of a started function, of a stubborn one, of an order not started yet': async ({ clock, dispatch, abort, state }) => {
    const stubborn = manual();
    dispatch(
      order('sleeper', sleeps(50)),
      order('stubborn', stubborn.fn),
      order('unstarted', () => 1),
    );
    abort('unstarted');
    await flush();
    await clock.advanceBy(5);
    abort('sleeper');
    abort('stubborn');
    abort('nobody');
    await clock.advanceBy(5);
    expect(state()).toBe('busy');
    stubborn.resolve('done anyway');
    await flush();
    expect(state()).toBe('idle');
    abort('sleeper');
  },

  'a task id reused while its old attempt still runs': async ({ clock, dispatch, abort, state }) => {
    const old = manual();
    dispatch(order('x', old.fn, { timeoutMs: 5 }));
    await clock.advanceBy(5);
    dispatch(order('x', sleeps(5), { attempt: 2 }));
    await flush();
    abort('x');
    await flush();
    expect(state()).toBe('busy');
    old.resolve('old');
    await flush();
    expect(state()).toBe('idle');
  },

  'a victim, a slowdown, a resize and pool replies, while idle and while busy': async ({ clock, worker, dispatch, state }) => {
    const error = new MezanError('E_DEADLOCK', 'victim');
    const others = (): void => {
      worker.send({ type: 'worker.slow', factor: 2, until: 1_000 });
      worker.send({ type: 'worker.resize', slots: 6 });
      worker.send({ type: 'task.victim', taskId: 'nobody', error });
      worker.send({ type: 'resource.cancelled', requestId: 'nobody#1.1#1', resource: 'db' });
      worker.send({ type: 'resource.revoked', requestId: 'nobody#1.1#2', leaseId: undefined, taskId: 'nobody', resource: 'db', reason: error });
    };
    others();
    expect(state()).toBe('idle');
    const stuck = manual();
    dispatch(order('stuck', stuck.fn), order('sleeper', sleeps(10)));
    await flush();
    others();
    worker.send({ type: 'task.victim', taskId: 'stuck', error });
    expect(state()).toBe('busy');
    await clock.runAll();
    stuck.resolve('recovered');
    await flush();
    expect(state()).toBe('idle');
  },

  'a crash while busy, its functions returning afterwards': async ({ clock, worker, dispatch, state }) => {
    const stuck = manual();
    dispatch(order('stuck', stuck.fn), order('sleeper', sleeps(10), { timeoutMs: 5 }));
    await flush();
    worker.send({ type: 'worker.crash' });
    expect(state()).toBe('crashed');
    stuck.resolve('late');
    await clock.runAll();
  },

  'a crash while idle': async ({ clock, worker, dispatch, state }) => {
    dispatch(order('a', sleeps(3)));
    await clock.runAll();
    worker.send({ type: 'worker.crash' });
    expect(state()).toBe('crashed');
  },

  'a shutdown while busy (its parent stopped)': async ({ clock, actor, dispatch }) => {
    const stuck = manual();
    dispatch(
      order('stuck', stuck.fn),
      order('instant', () => 1),
    );
    await flush();
    actor.stop();
    stuck.resolve('late');
    await clock.runAll();
  },
};

/** With a clock that has turns: reports at the end of the turn. */
async function turnScenario({ clock, dispatch, state }: Watched & { clock: TurnClock }): Promise<void> {
  const { slow, orders } = turnBurst();
  dispatch(...orders);
  await clock.advanceBy(10);
  await clock.endTurn();
  expect(state()).toBe('busy');
  slow.resolve('slow');
  await flush();
  expect(state()).toBe('idle');
}

// ---------------------------------------------------------------------------------------------
// Random scenarios
// ---------------------------------------------------------------------------------------------

type Action =
  | {
      readonly kind: 'dispatch';
      readonly tasks: ReadonlyArray<{
        readonly how: 'instant' | 'throws' | 'sleeps' | 'stubborn';
        readonly ms: number;
        readonly timeoutMs: number | undefined;
      }>;
    }
  | { readonly kind: 'abort' | 'victim' | 'release'; readonly pick: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'resize'; readonly slots: number }
  | { readonly kind: 'slow'; readonly factor: number }
  | { readonly kind: 'crash' };

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('dispatch' as const),
      tasks: fc.array(
        fc.record({
          how: fc.constantFrom('instant' as const, 'throws' as const, 'sleeps' as const, 'stubborn' as const),
          ms: fc.integer({ min: 0, max: 20 }),
          timeoutMs: fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('abort' as const, 'victim' as const, 'release' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resize' as const), slots: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('slow' as const), factor: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const) }) },
);

/** Plays random actions on a worker, then lets every function return and every timer fire. */
async function play(watched: Watched, actions: readonly Action[]): Promise<void> {
  const { clock, worker, dispatch, abort } = watched;
  const ids: string[] = [];
  const stubborn: Array<() => void> = [];
  let serial = 0;
  for (const action of actions) {
    switch (action.kind) {
      case 'dispatch':
        dispatch(
          ...action.tasks.map(({ how, ms, timeoutMs }) => {
            // Now and then a task id comes back, as the executor may reuse a settled task's id.
            const taskId = serial % 5 === 4 && ids.length > 0 ? ids[serial % ids.length]! : `t${serial}`;
            serial++;
            ids.push(taskId);
            let fn: TaskFunction;
            if (how === 'instant') fn = () => taskId;
            else if (how === 'throws') fn = () => Promise.reject(new Error(taskId));
            else if (how === 'sleeps') fn = sleeps(ms);
            else {
              const held = manual();
              stubborn.push(() => held.resolve(taskId));
              fn = held.fn;
            }
            return order(taskId, fn, { timeoutMs });
          }),
        );
        break;
      case 'abort':
        if (ids.length > 0) abort(ids[action.pick % ids.length]!);
        break;
      case 'victim':
        if (ids.length > 0)
          worker.send({ type: 'task.victim', taskId: ids[action.pick % ids.length]!, error: new MezanError('E_DEADLOCK', 'victim') });
        break;
      case 'release':
        // Once the functions dispatched so far have started (a release before its start would be lost).
        await flush();
        if (stubborn.length > 0) stubborn.splice(action.pick % stubborn.length, 1)[0]!();
        await flush();
        break;
      case 'advance':
        await clock.advanceBy(action.ms);
        break;
      case 'resize':
        worker.send({ type: 'worker.resize', slots: action.slots });
        break;
      case 'slow':
        worker.send({ type: 'worker.slow', factor: action.factor, until: clock.now() + 10 });
        break;
      case 'crash':
        worker.send({ type: 'worker.crash' });
        break;
    }
  }
  await flush();
  for (const release of stubborn) release();
  await clock.runAll();
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('workerMachine, the chart of the worker actor', () => {
  it('has exactly the states idle (initial), busy and crashed (final)', () => {
    expect(diagram.root.initial).toBe('worker.idle');
    expect(diagram.root.children.map((state) => [state.key, state.type])).toEqual([
      ['idle', 'atomic'],
      ['busy', 'atomic'],
      ['crashed', 'final'],
    ]);
    expect(workerMachine.config.output).toEqual({ crashed: true });
  });

  it('draws the worker’s rules: dispatch makes it busy, a report that leaves nothing taken makes it idle, a crash ends it', () => {
    expect(CHART.map(label)).toEqual([
      'idle --task.dispatch--> busy',
      'idle --worker.crash--> crashed',
      'busy --task.dispatch--> busy',
      'busy --worker.flush [holdsNothing]--> idle',
      'busy --worker.flush--> busy',
      'busy --worker.crash--> crashed',
    ]);
    expect(Object.keys(GUARDS).sort()).toEqual(guardNames(CHART));
  });

  describe('the worker actor makes only the chart’s transitions', () => {
    it.each(Object.keys(SCENARIOS))('%s', async (name) => {
      const watched = watchWorker();
      await SCENARIOS[name]!(watched);
      expect(watched.steps.length).toBeGreaterThan(0);
      checkAgainstChart(watched);
    });

    it('with a clock that has turns', async () => {
      const watched = watchWorker(new TurnClock());
      await turnScenario(watched);
      expect(checkAgainstChart(watched)).toEqual(
        new Set(['idle --task.dispatch--> busy', 'busy --worker.flush--> busy', 'busy --worker.flush [holdsNothing]--> idle']),
      );
    });

    it('in random scenarios of dispatches, returns, cancels, victims, timeouts, resizes, slowdowns and crashes', async () => {
      const taken = new Set<string>();
      await fc.assert(
        fc.asyncProperty(fc.array(actionArbitrary, { maxLength: 30 }), async (actions) => {
          const watched = watchWorker();
          await play(watched, actions);
          for (const transition of checkAgainstChart(watched)) taken.add(transition);
          // Once every function has returned, the worker holds nothing: idle, or crashed.
          expect(['idle', 'crashed']).toContain(watched.state());
        }),
        { seed: 20240611, numRuns: 200 },
      );
      // The random runs reach every transition too, so the check above is not vacuous.
      expect([...taken].sort()).toEqual(CHART.map(label).sort());
    });
  });

  it('has every transition of the chart taken by the scenarios', async () => {
    const taken = new Set<string>();
    for (const scenario of Object.values(SCENARIOS)) {
      const watched = watchWorker();
      await scenario(watched);
      for (const transition of checkAgainstChart(watched)) taken.add(transition);
    }
    expect([...taken].sort()).toEqual(CHART.map(label).sort());
  });

  it('notices a step the chart does not allow (the check itself is sound)', () => {
    const reached = (value: WorkerState, running: number): WorkerActorSnapshot => {
      const context = {
        workerId: 'main',
        stats: { ...zeroWorkerStats(4), running },
      };
      if (value === 'crashed') return { status: 'done', output: { crashed: true }, error: undefined, value, context };
      return { status: 'active', output: undefined, error: undefined, value, context };
    };
    const check = (steps: Step[]) => () => checkAgainstChart({ initial: () => reached('idle', 0), steps } as unknown as Watched);
    // A flush that makes an idle worker busy; a flush that stays busy with no slot taken; a resize
    // that changes the state; a crashed worker that takes a dispatch.
    expect(check([{ from: 'idle', event: 'worker.flush', to: 'busy', changed: true, reached: reached('busy', 1) }])).toThrow();
    expect(check([{ from: 'busy', event: 'worker.flush', to: 'busy', changed: true, reached: reached('busy', 0) }])).toThrow();
    expect(check([{ from: 'busy', event: 'worker.resize', to: 'idle', changed: true, reached: reached('idle', 0) }])).toThrow();
    expect(check([{ from: 'crashed', event: 'task.dispatch', to: 'busy', changed: true, reached: reached('busy', 1) }])).toThrow();
    expect(check([{ from: 'idle', event: 'task.dispatch', to: 'busy', changed: true, reached: reached('busy', 2) }])()).toEqual(
      new Set(['idle --task.dispatch--> busy']),
    );
  });
});
