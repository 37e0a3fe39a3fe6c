import type { AgentContext, AlertClearedEvent, AlertRaisedEvent, EngineOptions, TaskContext } from '../../src';
import { simulate, type Scenario } from '../../src/entries/simulation';
import { recordingLogger, startEngine } from '../fixtures/engine-harness';

const sleeper =
  (ms: number) =>
  async (ctx: TaskContext): Promise<void> => {
    await ctx.sleep(ms);
  };

const holder =
  (resource: string, ms: number, units = 1) =>
  async (ctx: TaskContext): Promise<void> => {
    const lease = await ctx.acquire(resource, { units });
    await ctx.sleep(ms);
    lease.release();
  };

/** An engine in virtual time, with its alert events and its alert log lines. */
function alertingEngine(options: EngineOptions) {
  const { logger, records } = recordingLogger();
  const harness = startEngine({ logger, ...options });
  const raised = () => harness.ofType('alert.raised');
  const cleared = () => harness.ofType('alert.cleared');
  const logged = (alertId: string) =>
    records.filter((record) => record['alertId'] === alertId && String(record['message']).startsWith('alert')).map((record) => record['level']);
  return { ...harness, raised, cleared, logged };
}

/** The alert's raised and cleared events, each exactly once. */
function onceEach(raised: AlertRaisedEvent[], cleared: AlertClearedEvent[], alertId: string): [AlertRaisedEvent, AlertClearedEvent] {
  const up = raised.filter((event) => event.alertId === alertId);
  const down = cleared.filter((event) => event.alertId === alertId);
  expect(up).toHaveLength(1);
  expect(down).toHaveLength(1);
  return [up[0]!, down[0]!];
}

describe('alerts', () => {
  it('queue depth over 1,000: a warning raised once, cleared once when the queue is back to 800', async () => {
    const engine = alertingEngine({ concurrency: 4 });
    for (let i = 0; i < 1204; i++) engine.engine.submit(sleeper(10));
    await engine.clock.runAll();
    const [up, down] = onceEach(engine.raised(), engine.cleared(), 'queue.depth');
    // 1,200 queued behind 4 slots at 0; 4 fewer every 10 ms: 800 left at 1,000 ms.
    expect(up).toMatchObject({ at: 0, severity: 'warning', value: 1200, threshold: 1000 });
    expect(down).toMatchObject({ at: 1000, value: 800, clearLevel: 800, raisedAt: 0 });
    expect(engine.logged('queue.depth')).toEqual(['warn', 'info']);
  });

  it('resource wait over 100 ms: a warning raised once when a request has waited that long, cleared by a grant without wait', async () => {
    const engine = alertingEngine({ concurrency: 3, resources: { db: 1 } });
    engine.engine.submit(holder('db', 150), { id: 'first' });
    engine.engine.submit(holder('db', 50), { id: 'second' });
    await engine.clock.runAll();
    expect(engine.raised()).toEqual([expect.objectContaining({ alertId: 'resource.wait:db', at: 100, value: 100, resource: 'db' })]);
    expect(engine.cleared()).toEqual([]);
    // Later, an acquisition without a wait: the pool has recovered.
    engine.engine.submit(holder('db', 10), { id: 'third' });
    await engine.clock.runAll();
    const [, down] = onceEach(engine.raised(), engine.cleared(), 'resource.wait:db');
    expect(down).toMatchObject({ value: 0, clearLevel: 80, raisedAt: 100 });
    expect(engine.logged('resource.wait:db')).toEqual(['warn', 'info']);
  });

  it('pool over 90% utilized: a warning raised once it has stayed so for a second, cleared once it stayed at or below 72% as long', async () => {
    const engine = alertingEngine({ concurrency: 4, resources: { gpu: 4 } });
    engine.engine.submit(holder('gpu', 3000, 4));
    await engine.clock.runAll();
    const [up, down] = onceEach(engine.raised(), engine.cleared(), 'resource.utilization:gpu');
    expect(up).toMatchObject({ at: 1000, value: 1, threshold: 0.9, resource: 'gpu' });
    expect(down).toMatchObject({ at: 4000, value: 0, raisedAt: 1000 });
  });

  it('deadlock detected: critical, raised once and cleared once the victim’s resolution freed the graph', async () => {
    const engine = alertingEngine({ concurrency: 2, resources: { a: 1, b: 1 } });
    const crossing = (first: string, second: string) => async (ctx: TaskContext) => {
      const one = await ctx.acquire(first);
      await ctx.sleep(10);
      const two = await ctx.acquire(second);
      two.release();
      one.release();
    };
    engine.engine.submit(crossing('a', 'b'), { id: 'ab', retries: { max: 1, delayMs: 50 } });
    engine.engine.submit(crossing('b', 'a'), { id: 'ba', retries: { max: 1, delayMs: 50 } });
    await engine.clock.runAll();
    const [up, down] = onceEach(engine.raised(), engine.cleared(), 'deadlock');
    expect(up).toMatchObject({ at: 10, severity: 'critical', value: 2, message: 'Deadlock detected: 2 tasks could never finish' });
    expect(down.at).toBe(10);
    expect(engine.logged('deadlock')).toEqual(['error', 'info']);
    expect(engine.ofType('deadlock.resolved')).toHaveLength(1);
  });

  it('a deadlock of agents asking each other: the alert counts the agent messages, not tasks', async () => {
    const engine = alertingEngine({ concurrency: 2 });
    const relay =
      (next: string) =>
      async (hops: number, ctx: AgentContext): Promise<string> => {
        try {
          return await ctx.ask<string>(next, hops - 1);
        } catch {
          return 'caught';
        }
      };
    engine.engine.spawnAgent({ name: 'a', receive: relay('b') });
    engine.engine.spawnAgent({ name: 'b', receive: relay('a') });
    const answer = engine.engine.agent('a')!.ask(5);
    await engine.clock.runAll();
    await expect(answer).resolves.toBe('caught');
    const [up] = onceEach(engine.raised(), engine.cleared(), 'deadlock');
    // a's message 1 asked b (message 2), whose handler asked a (message 3), waiting for a's one unit.
    expect(up).toMatchObject({ severity: 'critical', value: 3, message: 'Deadlock detected: 3 agent messages could never finish' });
  });

  it('worker restarts past the supervision limit (escalation): critical, cleared once the crashes left the window', async () => {
    const engine = alertingEngine({ concurrency: 2, supervision: { maxRestarts: 2, withinMs: 1000 } });
    for (const at of [0, 10, 20]) {
      await engine.clock.advanceTo(at);
      engine.engine.inject({ type: 'worker.crash', workerId: 'main' });
      await engine.clock.advanceBy(0);
    }
    expect(engine.ofType('engine.escalated')).toHaveLength(1);
    await engine.clock.runAll();
    const [up, down] = onceEach(engine.raised(), engine.cleared(), 'worker.restarts');
    expect(up).toMatchObject({ at: 20, severity: 'critical', value: 3, threshold: 2 });
    // The crashes of 0 and 10 leave the window at 1000 and 1010: one left, at or below 1.6.
    expect(down).toMatchObject({ at: 1010, value: 1 });
    expect(engine.logged('worker.restarts')).toEqual(['error', 'info']);
  });

  it('takes its thresholds from createEngine({ thresholds }), and an alert set to false never fires', async () => {
    const engine = alertingEngine({ concurrency: 1, thresholds: { queueDepth: 3, clearRatio: 0.5, resourceWaitMs: false }, resources: { db: 1 } });
    for (let i = 0; i < 5; i++) engine.engine.submit(holder('db', 200));
    await engine.clock.runAll();
    // 4 queued behind the one slot at 0, over 3; at or below 1.5 once 1 is left, at 600.
    const [up, down] = onceEach(engine.raised(), engine.cleared(), 'queue.depth');
    expect(up).toMatchObject({ at: 0, value: 4, threshold: 3 });
    expect(down).toMatchObject({ at: 600, value: 1, clearLevel: 1.5 });
    expect(engine.raised().map((event) => event.alertId)).toEqual(['queue.depth']);
  });

  it('keeps the alerts, and clears those still active when the engine stops', async () => {
    const engine = alertingEngine({ concurrency: 2, resources: { db: 1 } });
    engine.engine.submit(holder('db', 500), { id: 'long' });
    engine.engine.submit(holder('db', 10), { id: 'waiter' });
    await engine.clock.advanceBy(200);
    expect(engine.engine.metrics().alerts.active).toEqual([expect.objectContaining({ alertId: 'resource.wait:db' })]);
    await engine.engine.shutdown({ force: true });
    const alerts = engine.engine.alerts();
    expect(alerts.find((alert) => alert.alertId === 'resource.wait:db')).toMatchObject({ raisedAt: 100, clearedAt: 200, clearedBy: 'stopped' });
    expect(alerts.every((alert) => alert.clearedAt !== undefined)).toBe(true);
    expect(engine.cleared().map((event) => event.alertId)).toContain('resource.wait:db');
    expect(engine.clock.pendingTimers).toBe(0);
  });

  it('are kept in the simulation report', async () => {
    const scenario: Scenario = {
      name: 'crossing',
      engine: { concurrency: 2, resources: { a: 1, b: 1 } },
      tasks: [
        { id: 'ab', steps: [{ acquire: 'a' }, { work: 10 }, { acquire: 'b' }] },
        { id: 'ba', steps: [{ acquire: 'b' }, { work: 10 }, { acquire: 'a' }] },
      ],
    };
    const report = await simulate(scenario, { seed: 3 });
    expect(report.deadlocks).toHaveLength(1);
    expect(report.alerts).toEqual([
      expect.objectContaining({ alertId: 'deadlock', severity: 'critical', raisedAt: 10, clearedAt: 10, clearedBy: 'recovered' }),
    ]);
  });
});
