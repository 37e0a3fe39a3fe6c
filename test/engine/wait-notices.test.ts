import type { InspectionEvent } from 'xstate';
import { startEngine } from '../fixtures/engine-harness';
import { takeTwo } from '../fixtures/take-two';

/**
 * Counts the events actors receive, by type, through XState's inspection, and the notices inside the
 * detector's `graph.notices` batches (only the detector receives `graph.*`).
 */
function countingInspector(): { readonly inspect: (event: InspectionEvent) => void; count(key: string): number } {
  const counts = new Map<string, number>();
  const add = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  return {
    inspect: (event) => {
      if (event.type !== '@xstate.event') return;
      add(event.event.type);
      if (event.event.type === 'graph.notices')
        for (const notice of (event.event as unknown as { notices: Array<{ type: string }> }).notices) add(notice.type);
    },
    count: (key) => counts.get(key) ?? 0,
  };
}

describe('what the detector hears of the waits of an attempt', () => {
  it('hears each wait begin and end from the pool, and nothing more when an attempt that waited ends', async () => {
    const inspector = countingInspector();
    const { engine, clock } = startEngine({ concurrency: 2, resources: { db: 1 }, inspect: inspector.inspect });
    const holder = engine.submit(async (ctx) => {
      const lease = await ctx.acquire('db');
      await ctx.sleep(10);
      lease.release();
    });
    const waiter = engine.submit(async (ctx) => {
      await ctx.acquire('db');
      await ctx.sleep(5);
    });
    await clock.runAll();
    await Promise.all([holder.result, waiter.result]);
    // The waiter queued, was granted, and ended: the detector saw it in the graph, and sees nothing left.
    expect(inspector.count('graph.pool-changes')).toBeGreaterThan(0);
    expect(inspector.count('graph.attempt-ended')).toBe(0);
    expect(engine.waitForGraph().nodes.filter((node) => node.kind === 'task')).toEqual([]);
  });

  it('hears of the end of an attempt it chose as a deadlock victim, and leaves no task in the graph', async () => {
    const inspector = countingInspector();
    const { engine, clock, ofType } = startEngine({
      concurrency: 2,
      resources: { a: 1, b: 1 },
      deadlock: { detect: 'immediate', policy: 'youngest' },
      inspect: inspector.inspect,
    });
    const first = engine.submit(takeTwo('a', 'b'), { id: 'first', retries: 1 });
    const second = engine.submit(takeTwo('b', 'a'), { id: 'second', retries: 1 });
    await clock.runAll();
    await Promise.all([first.result, second.result]);
    expect(ofType('deadlock.detected')).toHaveLength(1);
    expect(inspector.count('graph.attempt-ended')).toBe(1);
    expect(engine.waitForGraph().nodes.filter((node) => node.kind === 'task')).toEqual([]);
  });
});
