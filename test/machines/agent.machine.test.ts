import fc from 'fast-check';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { AgentActorSnapshot, AgentStats, AgentStatus } from '../../actors/agent.actor';
import { zeroAgentStats } from '../../actors/agent.actor';
import { agentMachine } from '../../machines/agent.machine';
import { createEngine, MezanError, VirtualClock } from '../../src';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';
import { guardNames, readChart, recordSteps, transitionLabel, type ActorStep } from '../fixtures/chart-transitions';

// The agent actor (`actors/agent.actor.ts`) is plain code; `machines/agent.machine.ts` is the
// statechart that draws it. These tests hold the one to the other: every change of state the actor
// makes is a transition of the chart, and the scenarios below take every transition of the chart.

const { diagram, stateKey, transitions: CHART } = readChart(agentMachine);
const label = transitionLabel;

/** Restarts the agents of these tests allow: the third crash stops one (the window is never over). */
const MAX_RESTARTS = 2;

/** Messages being handled, read from the counts: every message given is handled, failed, dropped, waiting or running. */
const runningOf = (stats: AgentStats): number => stats.received - stats.handled - stats.failed - stats.dropped - stats.mailboxDepth;

type Step = ActorStep<AgentActorSnapshot>;

/** An agent in an engine on virtual time, with every event it processes recorded through the engine's `inspect`. */
function watchAgent(overflow: 'reject' | 'drop-oldest' = 'reject') {
  const clock = new VirtualClock();
  const { inspect: record, steps, initial } = recordSteps<AgentActorSnapshot>('agent:a');
  let ref: AnyActorRef | undefined;
  const inspect = (inspection: InspectionEvent): void => {
    if (inspection.type === '@xstate.actor' && (inspection.actorRef as AnyActorRef).id === 'agent:a') ref = inspection.actorRef as AnyActorRef;
    record(inspection);
  };
  const engine = createEngine({ clock, logger: false, concurrency: 1, inspect });
  const { receive, calls } = manualHandler();
  const agent = engine.spawnAgent({
    name: 'a',
    receive,
    concurrency: 2,
    mailbox: { capacity: 3, overflow },
    restart: { maxRestarts: MAX_RESTARTS, withinMs: 1e9 },
  });
  const asks: Array<Promise<unknown>> = [];
  return {
    clock,
    engine,
    agent,
    calls,
    steps,
    initial,
    asks,
    ask: (message: unknown, timeoutMs?: number, signal?: AbortSignal) => void asks.push(settledOutcome(agent.ask(message, { timeoutMs, signal }))),
    crash: () => engine.inject({ type: 'agent.crash', agent: 'a' }),
    /** What the deadlock detector sends when it chooses the ask of message `id` (the n-th message given to the agent) as a victim. */
    victim: (id: number) => ref!.send({ type: 'agent.victim', id, error: new MezanError('E_DEADLOCK', 'chosen') }),
    /** Settles the oldest unsettled call (those a crash or a stop let go included: they change nothing). */
    settleNext: async (ok = true) => {
      await flush();
      const call = calls.shift();
      if (ok) call?.resolve('done');
      else call?.reject(new Error('no'));
      await flush();
    },
  };
}

type Watched = ReturnType<typeof watchAgent>;

/**
 * Checks every step against the chart; returns the chart transitions the steps took. `pastRestartLimit`
 * is read from a model: crashes of an agent that was idle or busy, counted; the third is past the limit.
 */
function checkAgainstChart(watched: Pick<Watched, 'initial' | 'steps'>): Set<string> {
  const taken = new Set<string>();
  const initial = watched.initial();
  expect(initial?.value).toBe(stateKey(diagram.root.initial!));
  let crashes = 0;
  watched.steps.forEach((step: Step, index) => {
    const where = `step ${index}: ${step.from} --${step.event}--> ${step.to}`;
    const { stats } = step.reached.context;
    const running = runningOf(stats);
    // The state and the counts tell the same story. A stopped agent stays an active actor (to answer what
    // was queued behind its stop) until its supervisor stops it.
    const ends = step.event === 'xstate.stop' && step.from === 'stopped';
    expect({ where, status: step.reached.status }).toEqual({ where, status: ends ? 'stopped' : 'active' });
    if (step.to === 'idle') expect({ where, running, waiting: stats.mailboxDepth }).toEqual({ where, running: 0, waiting: 0 });
    if (step.to === 'busy') expect({ where, running: running > 0 }).toEqual({ where, running: true });
    if (step.to === 'restarting' || step.to === 'stopped') expect({ where, running }).toEqual({ where, running: 0 });
    if (step.to === 'stopped') expect({ where, waiting: stats.mailboxDepth }).toEqual({ where, waiting: 0 });
    if (step.event === 'agent.crash' && (step.from === 'idle' || step.from === 'busy')) crashes++;
    const guards: Record<string, boolean> = { leavesNothingRunning: running === 0, pastRestartLimit: crashes > MAX_RESTARTS };
    const candidates = CHART.filter((transition) => transition.source === step.from && transition.event === step.event);
    if (candidates.length === 0) {
      // The chart ignores the event here: the actor must not change state (a stopped one may count a message it refused).
      expect({ where, to: step.to }).toEqual({ where, to: step.from });
      if (step.from !== 'stopped') expect({ where, changed: step.changed }).toEqual({ where, changed: false });
      return;
    }
    const chosen = candidates.find((transition) => transition.guard === undefined || guards[transition.guard]);
    expect({ where, to: step.to }).toEqual({ where, to: chosen?.target ?? step.from });
    if (chosen !== undefined && step.changed) taken.add(label(chosen));
  });
  return taken;
}

const SCENARIOS: Record<string, (watched: Watched) => Promise<void>> = {
  'messages handled two at a time, more waiting, some refused, one timed out while waiting': async (watched) => {
    const { ask, agent, clock, settleNext } = watched;
    for (let n = 0; n < 6; n++) ask(n, n === 3 ? 5 : undefined);
    agent.send('extra');
    await clock.advanceBy(5);
    for (let n = 0; n < 6; n++) await settleNext(n % 2 === 0);
    expect(agent.status).toBe('idle');
  },

  'crashes while idle and while busy, messages arriving and withdrawn while restarting, a late handler': async (watched) => {
    const { ask, agent, clock, crash, settleNext } = watched;
    crash();
    ask('while restarting');
    const controller = new AbortController();
    ask('withdrawn while restarting', undefined, controller.signal);
    controller.abort();
    await clock.advanceBy(0);
    expect(agent.status).toBe('busy');
    crash();
    expect(agent.status).toBe('restarting');
    // The handler the crash let go settles late: nothing changes.
    await settleNext();
    await clock.advanceBy(0);
    expect(agent.status).toBe('idle');
    ask('again');
    ask('and again');
    ask('and a third, waiting');
    await flush();
    crash();
    expect(agent.status).toBe('stopped');
    ask('too late');
    await flush();
  },

  'asks chosen as deadlock victims: one waiting, one being handled, one while restarting': async (watched) => {
    const { ask, agent, clock, crash, victim, settleNext } = watched;
    ask(1);
    ask(2);
    ask(3);
    await flush();
    victim(3);
    victim(1);
    expect(agent.stats()).toMatchObject({ dropped: 1, mailboxDepth: 0 });
    crash();
    ask(4);
    victim(4);
    await clock.advanceBy(0);
    await settleNext();
    expect(agent.status).toBe('idle');
  },

  'a crash past the limit while idle': async (watched) => {
    const { agent, clock, crash } = watched;
    for (let crashes = 0; crashes < MAX_RESTARTS; crashes++) {
      crash();
      await clock.advanceBy(0);
    }
    crash();
    expect(agent.status).toBe('stopped');
  },

  'restarts into busy, then stopped while busy': async (watched) => {
    const { ask, agent, clock, crash } = watched;
    ask(1);
    await flush();
    crash();
    ask(2);
    await clock.advanceBy(0);
    expect(agent.status).toBe('busy');
    await agent.stop();
  },

  'stopped while idle': async ({ agent }) => {
    await agent.stop();
  },

  'stopped while restarting': async ({ agent, crash }) => {
    crash();
    await agent.stop();
    expect(agent.status).toBe('stopped');
  },

  'shut down with the engine while busy': async (watched) => {
    const { ask, engine, clock } = watched;
    ask(1);
    const report = engine.shutdown({ graceMs: 10 });
    await clock.runAll();
    await report;
  },
};

type Action =
  | { readonly kind: 'ask'; readonly timeoutMs: number | undefined }
  | { readonly kind: 'send' | 'stop' | 'abort' }
  | { readonly kind: 'crash'; readonly restartNow: boolean }
  | { readonly kind: 'settle'; readonly ok: boolean }
  | { readonly kind: 'advance'; readonly ms: number }
  /** The ask of the message given `back` messages before the last is chosen as a deadlock victim. */
  | { readonly kind: 'victim'; readonly back: number };

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('ask' as const), timeoutMs: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('send' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('settle' as const), ok: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('crash' as const), restartNow: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('stop' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('victim' as const), back: fc.integer({ min: 0, max: 3 }) }) },
);

async function play(watched: Watched, actions: readonly Action[]): Promise<void> {
  const controllers: AbortController[] = [];
  // Messages given so far: the agent is the engine's only one, so the n-th has delivery id n.
  let given = 0;
  for (const action of actions) {
    if (action.kind === 'ask' || action.kind === 'send') given++;
    if (action.kind === 'victim') {
      if (given - action.back >= 1 && watched.agent.status !== 'stopped') watched.victim(given - action.back);
    } else if (action.kind === 'ask') {
      const controller = new AbortController();
      controllers.push(controller);
      watched.ask('m', action.timeoutMs, controller.signal);
    } else if (action.kind === 'abort') controllers.shift()?.abort();
    else if (action.kind === 'send') watched.agent.send('m');
    else if (action.kind === 'settle') await watched.settleNext(action.ok);
    else if (action.kind === 'advance') await watched.clock.advanceBy(action.ms);
    else if (action.kind === 'crash') {
      if (watched.agent.status !== 'stopped') watched.crash();
      if (action.restartNow) await watched.clock.advanceBy(0);
    } else await watched.agent.stop();
  }
  // A restart may start what waited: settle until nothing more starts.
  for (await watched.clock.runAll(); watched.calls.length > 0; await watched.clock.runAll()) await watched.settleNext();
}

describe('agentMachine, the chart of the agent actor', () => {
  it('has exactly the states idle (initial), busy, restarting and stopped (final)', () => {
    expect(diagram.root.initial).toBe('agent.idle');
    expect(diagram.root.children.map((state) => [state.key, state.type])).toEqual([
      ['idle', 'atomic'],
      ['busy', 'atomic'],
      ['restarting', 'atomic'],
      ['stopped', 'final'],
    ]);
  });

  it('draws the agent’s rules', () => {
    expect(CHART.map(label)).toEqual([
      'idle --agent.deliver--> busy',
      'idle --agent.crash [pastRestartLimit]--> stopped',
      'idle --agent.crash--> restarting',
      'idle --agent.stop--> stopped',
      'busy --agent.deliver--> busy',
      'busy --agent.withdraw--> busy',
      'busy --agent.victim--> busy',
      'busy --agent.handled [leavesNothingRunning]--> idle',
      'busy --agent.handled--> busy',
      'busy --agent.crash [pastRestartLimit]--> stopped',
      'busy --agent.crash--> restarting',
      'busy --agent.stop--> stopped',
      'restarting --agent.deliver--> restarting',
      'restarting --agent.withdraw--> restarting',
      'restarting --agent.victim--> restarting',
      'restarting --agent.restart [leavesNothingRunning]--> idle',
      'restarting --agent.restart--> busy',
      'restarting --agent.stop--> stopped',
    ]);
    expect(guardNames(CHART)).toEqual(['leavesNothingRunning', 'pastRestartLimit']);
  });

  describe('the agent actor makes only the chart’s transitions', () => {
    it.each(Object.keys(SCENARIOS))('%s', async (name) => {
      const watched = watchAgent();
      await SCENARIOS[name]!(watched);
      await Promise.all(watched.asks);
      expect(watched.steps.length).toBeGreaterThan(0);
      checkAgainstChart(watched);
    });

    it('in random runs of asks, sends, returns, throws, timeouts, crashes and stops, with each overflow that drops', async () => {
      const taken = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('reject' as const, 'drop-oldest' as const),
          fc.array(actionArbitrary, { maxLength: 40 }),
          async (overflow, actions) => {
            const watched = watchAgent(overflow);
            await play(watched, actions);
            await Promise.all(watched.asks);
            for (const transition of checkAgainstChart(watched)) taken.add(transition);
            // At rest, every message given was handled, failed or dropped.
            const stats = watched.agent.stats();
            expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
            expect(['idle', 'stopped']).toContain(watched.agent.status);
          },
        ),
        { seed: 20261203, numRuns: 200 },
      );
      expect([...taken].sort()).toEqual(CHART.map(label).sort());
    });
  });

  it('has every transition of the chart taken by the scenarios', async () => {
    const taken = new Set<string>();
    for (const scenario of Object.values(SCENARIOS)) {
      const watched = watchAgent();
      await scenario(watched);
      await Promise.all(watched.asks);
      for (const transition of checkAgainstChart(watched)) taken.add(transition);
    }
    expect([...taken].sort()).toEqual(CHART.map(label).sort());
  });

  it('notices a step the chart does not allow (the check itself is sound)', () => {
    const reached = (value: AgentStatus, stats: Partial<AgentStats> = {}): AgentActorSnapshot => ({
      status: 'active',
      output: undefined,
      error: undefined,
      value,
      context: { name: 'a', stats: { ...zeroAgentStats(), ...stats } },
    });
    const check = (steps: Step[]) => () => checkAgainstChart({ initial: () => reached('idle'), steps });
    // Idle with a handler running; busy with none; a restart out of nowhere; a stopped agent that starts again.
    expect(
      check([{ from: 'busy', event: 'agent.handled', to: 'idle', changed: true, reached: reached('idle', { received: 2, handled: 1 }) }]),
    ).toThrow();
    expect(
      check([{ from: 'idle', event: 'agent.deliver', to: 'busy', changed: true, reached: reached('busy', { received: 1, dropped: 1 }) }]),
    ).toThrow();
    expect(check([{ from: 'idle', event: 'agent.restart', to: 'busy', changed: true, reached: reached('busy', { received: 1 }) }])).toThrow();
    expect(check([{ from: 'stopped', event: 'agent.deliver', to: 'busy', changed: true, reached: reached('busy', { received: 1 }) }])).toThrow();
    expect(check([{ from: 'idle', event: 'agent.deliver', to: 'busy', changed: true, reached: reached('busy', { received: 1 }) }])()).toEqual(
      new Set(['idle --agent.deliver--> busy']),
    );
  });
});
