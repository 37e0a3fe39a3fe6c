import { createEngine, VirtualClock, type TaskContext } from '../../src';

/** Bugs found in review, each with the test that would have caught it. */
describe('regressions', () => {
  it('drops the sleeps a task left pending when its function returns: no timer outlives the engine', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ workers: 1, clock });
    const handle = engine.submit((ctx: TaskContext) => Promise.race([ctx.sleep(5), ctx.sleep(60_000)]));
    await clock.advanceBy(5);
    await expect(handle.result).resolves.toBeUndefined();
    const shutdown = engine.shutdown();
    await clock.runAll();
    await shutdown;
    expect(clock.pendingTimers).toBe(0);
    expect(clock.now()).toBe(5);
  });

  it('resolves a deadlock with the youngest when the policy function throws', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({
      workers: 2,
      clock,
      resources: { a: 1, b: 1 },
      deadlock: {
        policy: () => {
          throw new Error('policy bug');
        },
      },
    });
    const take = (first: string, second: string) => async (ctx: TaskContext) => {
      await ctx.acquire(first);
      await ctx.sleep(10);
      await ctx.acquire(second);
      return first;
    };
    const older = engine.submit(take('a', 'b'), { id: 'older' });
    const younger = engine.submit(take('b', 'a'), { id: 'younger' });
    younger.result.catch(() => undefined);
    await clock.runAll();
    await expect(older.result).resolves.toBe('a');
    await expect(younger.result).rejects.toMatchObject({ code: 'E_DEADLOCK' });
    expect(engine.deadlocks()).toEqual([expect.objectContaining({ victim: 'younger' })]);
  });

  it('refuses what a crash sends back to the queue once the engine has escalated, so nothing is stranded', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ workers: 2, clock, supervision: { maxRestarts: 0, withinMs: 1000 } });
    const first = engine.submit((ctx: TaskContext) => ctx.sleep(100));
    const second = engine.submit((ctx: TaskContext) => ctx.sleep(100), { retries: 2 });
    first.result.catch(() => undefined);
    second.result.catch(() => undefined);
    await clock.advanceBy(1);
    engine.inject({ type: 'worker.crash', workerId: 'worker-1' }); // past the limit: escalates
    await clock.advanceBy(1);
    engine.inject({ type: 'worker.crash', workerId: 'worker-2' }); // its task would retry, on no worker
    await clock.runAll();
    expect(second.status).toBe('rejected');
    await expect(engine.onIdle()).resolves.toBeUndefined();
    expect(engine.isIdle).toBe(true);
  });
});
