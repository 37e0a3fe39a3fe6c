import { createEngine, VirtualClock, type TaskContext } from '../../src';
import { deferred } from '../fixtures/engine-harness';

/** Bugs found in review, each with the test that would have caught it. */
describe('regressions', () => {
  it('refuses a task id starting with @, which the wait-for graph keeps for agents, their messages and worker slots', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    for (const id of ['@agent:a#1', '@agent:a', '@workers']) {
      expect(() => engine.submit(async () => 1, { id })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option: 'id' }) }),
      );
      expect(() => engine.submitGraph({ [id]: { run: async () => 1 } })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    }
    const kept = engine.submit(async () => 1, { id: 'a@b' });
    await clock.runAll();
    await expect(kept.result).resolves.toBe(1);
    const report = engine.shutdown();
    await clock.runAll();
    expect((await report).completed).toBe(1);
  });

  it('drops the sleeps a task left pending when its function returns: no timer outlives the engine', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 1, clock });
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
      concurrency: 2,
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
    const engine = createEngine({ concurrency: 2, clock, supervision: { maxRestarts: 0, withinMs: 1000 } });
    const first = engine.submit((ctx: TaskContext) => ctx.sleep(100));
    const second = engine.submit((ctx: TaskContext) => ctx.sleep(100), { retries: 2 });
    first.result.catch(() => undefined);
    second.result.catch(() => undefined);
    await clock.advanceBy(1);
    expect([first.status, second.status]).toEqual(['running', 'running']);
    // Past the limit: the engine escalates, and the crash fails both tasks running on main; the
    // second one's retry would go back to the queue, where no worker will ever take it.
    engine.inject({ type: 'worker.crash', workerId: 'main' });
    await clock.runAll();
    expect(first.status).toBe('failed');
    await expect(first.result).rejects.toMatchObject({ code: 'E_WORKER_CRASHED' });
    expect(second.status).toBe('rejected');
    await expect(second.result).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'crashed' })]);
    expect(engine.progress()).toMatchObject({ running: 0, pending: 0, failed: 1, rejected: 1 });
    await expect(engine.onIdle()).resolves.toBeUndefined();
    expect(engine.isIdle).toBe(true);
  });
  it('frees the slot of a timed-out function that returns after a new task took its id: no slot is lost', async () => {
    // Ids are unique among unfinished tasks only: once `T` timed out, a new task may be called `T`
    // while the first one's function, which ignores its signal, still holds its slot.
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 2, clock });
    const gate = deferred();
    const first = engine.submit(() => gate.promise, { id: 'T', timeoutMs: 10 });
    first.result.catch(() => undefined);
    await clock.advanceBy(10);
    expect(first.status).toBe('timeout');
    const second = engine.submit((ctx: TaskContext) => ctx.sleep(20), { id: 'T' });
    await clock.advanceBy(5);
    expect(second.status).toBe('running');
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 2 })]);
    gate.resolve(); // the first function returns at 15: its slot is free
    await clock.runAll();
    expect(second.status).toBe('completed');
    expect(engine.stats().workers).toEqual([
      expect.objectContaining({ id: 'main', state: 'idle', slots: 2, running: 0, tasksCompleted: 1, tasksFailed: 1, attempts: 2, busyMs: 35 }),
    ]);
    expect(engine.metrics().workers).toMatchObject({ total: 2, busy: 0 });
    // Both slots are in service again: two tasks start together.
    const started: number[] = [];
    const pair = [0, 1].map(() =>
      engine.submit(async (ctx: TaskContext) => {
        started.push(clock.now());
        await ctx.sleep(10);
      }),
    );
    await clock.runAll();
    await Promise.all(pair.map((handle) => handle.result));
    expect(started).toEqual([30, 30]);
    // And the engine can stop: nothing is left running.
    let stopped = false;
    const shutdown = engine.shutdown().then((report) => {
      stopped = true;
      return report;
    });
    await clock.runAll();
    expect(stopped).toBe(true);
    await expect(shutdown).resolves.toMatchObject({ completed: 3, timedOut: 1, lost: 0 });
  });
});
