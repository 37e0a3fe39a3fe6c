import { createEngine, VirtualClock, type AgentContext, type MezanError } from '../../src';
import { waitForGraphElements } from '../../src/dashboard/client/wait-for-graph-elements';
import { DashboardMonitor } from '../../src/dashboard/dashboard-monitor';
import { settledOutcome } from '../fixtures/settled-outcome';

describe("the dashboard's wait-for graph of a real engine's agents", () => {
  it('draws an ask cycle between two agents as the detector found it: agents, messages, asks, the victim', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false, concurrency: 2 });
    const monitor = new DashboardMonitor(engine, { now: () => clock.now(), eventBuffer: 100, sampleBuffer: 10 });
    // a's handler asks b, whose handler asks a back: a's one unit is taken by the message that waits for b.
    engine.spawnAgent({ name: 'a', receive: (hops: number, ctx: AgentContext) => ctx.ask('b', hops - 1) });
    engine.spawnAgent({
      name: 'b',
      receive: async (hops: number, ctx: AgentContext) => {
        try {
          return await ctx.ask('a', hops - 1);
        } catch (error) {
          return (error as MezanError).code;
        }
      },
    });
    const answer = settledOutcome(engine.agent('a')!.ask(5));
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 'E_DEADLOCK' });

    const state = monitor.state();
    expect(state.deadlocks.last).toMatchObject({ resolution: 'victim', victim: '@agent:a#3' });
    const { nodes, edges } = waitForGraphElements(state, new Map());
    const drawn = Object.fromEntries([...nodes].map(([id, node]) => [id, [node.data.kind, node.data.label, node.classes.join(' ')]]));
    // Everything has settled since: the cycle is drawn from the graph captured at detection, stale;
    // the live graph has only the worker slots.
    expect(drawn).toEqual({
      '@workers': ['resource', '@workers\n(2)', ''],
      '@agent:a': ['agent', 'a\n(×1)', 'stale cycle'],
      '@agent:a#1': ['message', '✉ a#1', 'stale cycle'],
      '@agent:b#2': ['message', '✉ b#2', 'stale cycle'],
      '@agent:a#3': ['message', '✉ a#3', 'stale cycle victim'],
    });
    expect([...edges.values()].map((edge) => edge.data.kind).sort()).toEqual(['asks', 'asks', 'holds', 'requests']);
    expect([...edges.values()].every((edge) => edge.classes.includes('cycle'))).toBe(true);
    monitor.close();
    await engine.shutdown();
  });
});
