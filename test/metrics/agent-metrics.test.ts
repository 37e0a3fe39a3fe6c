import { VirtualClock, type AgentContext, type AlertClearedEvent, type AlertRaisedEvent } from '../../src';
import { settledOutcome } from '../fixtures/settled-outcome';
import { startEngine, thrownBy } from '../fixtures/engine-harness';
import { histogramOf, parseExposition, valueOf } from './exposition';

/** A handler that works 10 ms of the engine's clock on each number, doubles it, and fails on 3. */
async function tenMsEach(n: number, ctx: AgentContext): Promise<number> {
  await ctx.sleep(10);
  if (n === 3) throw new Error('three');
  return n * 2;
}

/** The bucket of `series` whose bound is `le` seconds. */
function bucket(series: ReturnType<typeof histogramOf>, le: number): number | undefined {
  return new Map(series.buckets).get(le);
}

describe('agents in metrics and Prometheus', () => {
  it('counts each agent exactly, in virtual time: messages by outcome, restarts, mailbox depth, ask latency', async () => {
    const { engine, clock } = startEngine({ metrics: { timings: 'always' } });
    const solver = engine.spawnAgent({ name: 'solver', receive: tenMsEach, mailbox: { capacity: 10 } });
    // At 0: 1 runs, 2 to 5 wait. 1 ends at 10, 2 at 20, 3 fails at 30, 4 ends at 40; 5 times out at 15, withdrawn.
    const asks = [1, 2, 3, 4].map((n) => settledOutcome(solver.ask(n)));
    const late = settledOutcome(solver.ask(5, { timeoutMs: 15 }));
    await clock.runAll();
    expect((await Promise.all([...asks, late])).map((outcome) => outcome.value ?? outcome.code)).toEqual([2, 4, 'E_AGENT_FAILED', 8, 'E_TIMEOUT']);
    solver.send(6);
    await clock.runAll();
    engine.inject({ type: 'agent.crash', agent: 'solver' });
    await clock.runAll();

    const metrics = engine.metrics();
    expect(Object.keys(metrics.agents)).toEqual(['solver']);
    const { ask, ...counts } = metrics.agents['solver']!;
    expect(counts).toEqual({
      status: 'idle',
      received: 6,
      handled: 4,
      failed: 1,
      dropped: 1,
      restarts: 1,
      mailboxDepth: 0,
      maxMailboxDepth: 4,
      mailboxCapacity: 10,
    });
    // One sample per ask, from the ask to its outcome: 10, 20, 30 (failed), 40 and 15 (timed out).
    expect(ask).toMatchObject({ count: 5, sum: 115, min: 10, max: 40 });

    const families = parseExposition(await engine.prometheus());
    const labels = { agent: 'solver' };
    expect(valueOf(families, 'mezan_agent_messages_received_total', labels)).toBe(6);
    expect(valueOf(families, 'mezan_agent_messages_handled_total', labels)).toBe(4);
    expect(valueOf(families, 'mezan_agent_messages_failed_total', labels)).toBe(1);
    expect(valueOf(families, 'mezan_agent_messages_dropped_total', labels)).toBe(1);
    expect(valueOf(families, 'mezan_agent_restarts_total', labels)).toBe(1);
    expect(valueOf(families, 'mezan_agent_mailbox_depth', labels)).toBe(0);
    expect(valueOf(families, 'mezan_agent_mailbox_capacity', labels)).toBe(10);
    const latency = histogramOf(families, 'mezan_agent_ask_seconds', labels);
    expect(latency.count).toBe(5);
    expect(latency.sum).toBeCloseTo(0.115, 9);
    expect([0.005, 0.01, 0.025, 0.05].map((le) => bucket(latency, le))).toEqual([0, 1, 3, 5]);
    await engine.shutdown();
  });

  it('reads the mailbox depth of a busy agent as it is now, and lists only running agents', async () => {
    const { engine, clock } = startEngine();
    const busy = engine.spawnAgent({ name: 'busy', receive: tenMsEach, mailbox: { capacity: 5 } });
    const gone = engine.spawnAgent({ name: 'gone', receive: tenMsEach });
    for (const n of [1, 2, 4]) busy.send(n);
    await clock.advanceBy(0);
    await gone.stop();
    const metrics = engine.metrics();
    expect(Object.keys(metrics.agents)).toEqual(['busy']);
    expect(metrics.agents['busy']).toMatchObject({ status: 'busy', received: 3, mailboxDepth: 2, maxMailboxDepth: 2, mailboxCapacity: 5 });
    expect(valueOf(parseExposition(await engine.prometheus()), 'mezan_agent_mailbox_depth', { agent: 'busy' })).toBe(2);
    await clock.runAll();
    await engine.shutdown();
  });

  it('times asks only while timings are sampled: none before the first metrics() of on-demand', async () => {
    const { engine, clock } = startEngine();
    const solver = engine.spawnAgent({ name: 'solver', receive: tenMsEach });
    await Promise.all([solver.ask(1), clock.runAll()]);
    expect(engine.metrics().agents['solver']!.ask.count).toBe(0);
    await Promise.all([solver.ask(2), clock.runAll()]);
    expect(engine.metrics().agents['solver']!.ask).toMatchObject({ count: 1, sum: 10 });
    await engine.shutdown();
  });
});

describe('the mailbox alert', () => {
  function alerts(events: ReadonlyArray<{ type: string }>) {
    return {
      raised: events.filter((event): event is AlertRaisedEvent => event.type === 'alert.raised'),
      cleared: events.filter((event): event is AlertClearedEvent => event.type === 'alert.cleared'),
    };
  }

  it('is raised once when a mailbox holds over 90% of its capacity, and cleared once at the clear level', async () => {
    const { engine, clock, events } = startEngine();
    const slow = engine.spawnAgent({ name: 'slow', receive: (_: number, ctx: AgentContext) => ctx.sleep(10), mailbox: { capacity: 10 } });
    // At 0: 1 runs, 10 wait (over 9, 90% of 10). One fewer every 10 ms: 7 (at most 80% of 9) at 30 ms.
    for (let n = 1; n <= 11; n++) slow.send(n);
    await clock.advanceBy(0);
    expect(engine.metrics().alerts.active).toEqual([
      expect.objectContaining({ alertId: 'agent.mailbox:slow', alert: 'agent.mailbox', agent: 'slow', severity: 'warning', value: 10, threshold: 9 }),
    ]);
    expect(
      valueOf(parseExposition(await engine.prometheus()), 'mezan_alerts_active', {
        alert: 'agent.mailbox',
        severity: 'warning',
        resource: '',
        agent: 'slow',
      }),
    ).toBe(1);
    await clock.runAll();
    const { raised, cleared } = alerts(events);
    expect(raised).toEqual([
      expect.objectContaining({ at: 0, alertId: 'agent.mailbox:slow', alert: 'agent.mailbox', agent: 'slow', value: 10, threshold: 9 }),
    ]);
    expect(raised[0]!.message).toBe('The mailbox of agent "slow" holds 10 of 10 messages, over 90%');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ at: 30, alertId: 'agent.mailbox:slow', agent: 'slow', value: 7, raisedAt: 0 });
    expect(cleared[0]!.clearLevel).toBeCloseTo(7.2, 9);
    expect(engine.alerts()).toEqual([expect.objectContaining({ alertId: 'agent.mailbox:slow', raisedAt: 0, clearedAt: 30, clearedValue: 7 })]);
    expect(engine.metrics().alerts.active).toEqual([]);
    await engine.shutdown();
  });

  it('does not miss a mailbox that fills and empties within one batch of observations: raised and cleared at once', async () => {
    // On a clock with instants, the monitor hears an instant's notices in one batch, once its promise jobs ran.
    const { engine, clock, events } = startEngine({ clock: new VirtualClock({ settle: 'each-instant' }) });
    const quick = engine.spawnAgent({ name: 'quick', receive: (n: number) => n, mailbox: { capacity: 10 } });
    for (let n = 0; n < 11; n++) quick.send(n);
    await clock.runAll();
    expect(quick.stats()).toMatchObject({ handled: 11, mailboxDepth: 0, maxMailboxDepth: 10 });
    const { raised, cleared } = alerts(events);
    expect(raised).toEqual([expect.objectContaining({ at: 0, alertId: 'agent.mailbox:quick', value: 10 })]);
    expect(cleared).toEqual([expect.objectContaining({ at: 0, alertId: 'agent.mailbox:quick' })]);
    await engine.shutdown();
  });

  it('stays quiet at 90% exactly, and clears when the agent stops with a full mailbox', async () => {
    const { engine, clock, events } = startEngine();
    const never = engine.spawnAgent({ name: 'never', receive: () => new Promise(() => undefined), mailbox: { capacity: 10 } });
    for (let n = 0; n < 10; n++) never.send(n);
    await clock.runAll();
    expect(never.stats().mailboxDepth).toBe(9);
    expect(alerts(events).raised).toEqual([]);
    never.send(10);
    await clock.runAll();
    expect(alerts(events).raised).toEqual([expect.objectContaining({ alertId: 'agent.mailbox:never', value: 10 })]);
    await never.stop();
    await clock.runAll();
    expect(alerts(events).cleared).toEqual([expect.objectContaining({ alertId: 'agent.mailbox:never', value: 0 })]);
    await engine.shutdown();
  });

  it('takes its threshold from thresholds.agentMailbox, is off with false, and refuses a bad value', async () => {
    const fill = async (agentMailbox: number | false): Promise<AlertRaisedEvent[]> => {
      const { engine, clock, events } = startEngine({ thresholds: { agentMailbox } });
      const agent = engine.spawnAgent({ name: 'held', receive: () => new Promise(() => undefined), mailbox: { capacity: 10 } });
      // One message is handled (for ever), six wait.
      for (let n = 0; n < 7; n++) agent.send(n);
      await clock.runAll();
      await agent.stop();
      await engine.shutdown();
      return alerts(events).raised;
    };
    expect(await fill(0.5)).toEqual([
      expect.objectContaining({
        alertId: 'agent.mailbox:held',
        value: 6,
        threshold: 5,
        message: 'The mailbox of agent "held" holds 6 of 10 messages, over 50%',
      }),
    ]);
    expect(await fill(0.6)).toEqual([]);
    expect(await fill(false)).toEqual([]);
    for (const bad of [0, 1.5, 'most']) {
      const error = thrownBy(() => startEngine({ thresholds: { agentMailbox: bad as number } }));
      expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option: 'thresholds.agentMailbox' }) });
    }
  });
});
