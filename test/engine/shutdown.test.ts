import type { ShutdownReport } from '../../src';
import { deferred, rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';

/** Tracks whether a promise has settled, to check that shutdown waits. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

describe('engine.shutdown()', () => {
  it('lets running and queued tasks finish before it resolves, and reports how every task ended with lost: 0', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const running = engine.submit(async (ctx) => {
      await ctx.sleep(100);
      return 'running';
    });
    const queued = engine.submit(async (ctx) => {
      await ctx.sleep(50);
      return 'queued';
    });
    const failing = engine.submit(() => {
      throw new Error('fails');
    });
    const timesOut = engine.submit((ctx) => ctx.sleep(1000), { timeoutMs: 20 });
    const dependent = engine.submit(() => 'dependent', { dependsOn: [queued] });
    const cancelled = engine.submit(() => 'never');
    for (const handle of [failing, timesOut, cancelled]) handle.result.catch(() => undefined);
    await clock.advanceBy(10);
    cancelled.cancel();

    const shutdown = track(engine.shutdown());
    expect(engine.isAccepting).toBe(false);
    await clock.advanceBy(100);
    expect(running.status).toBe('completed');
    expect(shutdown.settled).toBe(false);
    await clock.runAll();
    expect(shutdown.settled).toBe(true);

    await expect(queued.result).resolves.toBe('queued');
    await expect(dependent.result).resolves.toBe('dependent');
    expect([failing.status, timesOut.status, cancelled.status]).toEqual(['failed', 'timeout', 'cancelled']);
    const report = shutdown.value!;
    expect(report).toMatchObject({
      submitted: 6,
      completed: 3,
      failed: 1,
      cancelled: 1,
      timedOut: 1,
      rejected: 0,
      lost: 0,
    } satisfies Partial<ShutdownReport>);
    expect(report.durationMs).toBe(clock.now() - 10);
    expect(clock.now()).toBe(170);
  });

  it('waits for a task between retries to be tried again', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(
      (ctx) => {
        if (ctx.attempt === 1) throw new Error('first attempt fails');
        return ctx.attempt;
      },
      { retries: { max: 1, delayMs: 200 } },
    );
    await clock.advanceBy(1);
    const shutdown = track(engine.shutdown());
    await clock.advanceBy(198);
    expect(shutdown.settled).toBe(false);
    await clock.runAll();
    await expect(handle.result).resolves.toBe(2);
    expect(shutdown.value).toMatchObject({ completed: 1, lost: 0 });
  });

  it('waits until a timed-out function has really returned: nothing is left running', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const gate = deferred();
    const stuck = engine.submit(() => gate.promise, { timeoutMs: 10 });
    stuck.result.catch(() => undefined);
    await clock.advanceBy(10);
    expect(stuck.status).toBe('timeout');
    const shutdown = track(engine.shutdown());
    await clock.advanceBy(500);
    expect(shutdown.settled).toBe(false);
    // The timed-out function still holds its slot: the worker stays busy, `running` counts it.
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 1, running: 1 })]);
    gate.resolve();
    await clock.runAll();
    expect(shutdown.settled).toBe(true);
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'idle', slots: 1, running: 0, attempts: 1 })]);
    expect(shutdown.value).toMatchObject({ timedOut: 1, lost: 0 });
  });

  it('runs tasks submitted in the same tick before shutdown was called', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const first = engine.submit(() => 'first');
    const second = engine.submit(async (ctx) => {
      await ctx.sleep(10);
      return 'second';
    });
    const shutdown = engine.shutdown();
    await clock.runAll();
    await expect(first.result).resolves.toBe('first');
    await expect(second.result).resolves.toBe('second');
    expect(await shutdown).toMatchObject({ submitted: 2, completed: 2, rejected: 0, lost: 0 });
  });

  it('resolves at once with an empty report when nothing was submitted', async () => {
    const { engine, clock } = startEngine();
    const report = await engine.shutdown();
    expect(report).toMatchObject({ submitted: 0, completed: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0, lost: 0, durationMs: 0 });
    expect(clock.now()).toBe(0);
  });

  it('returns the same promise when called twice, before and after it resolved', async () => {
    const { engine, clock } = startEngine();
    engine.submit((ctx) => ctx.sleep(10));
    const first = engine.shutdown();
    const second = engine.shutdown();
    expect(second).toBe(first);
    await clock.runAll();
    const report = await first;
    const third = engine.shutdown();
    expect(third).toBe(first);
    await expect(third).resolves.toBe(report);
  });

  it('leaves no timer pending on the clock', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    engine.submit((ctx) => ctx.sleep(30), { timeoutMs: 1000 });
    engine.submit((ctx) => ctx.sleep(5000), { timeoutMs: 40 }).result.catch(() => undefined);
    engine.submit(
      (ctx) => {
        if (ctx.attempt < 3) throw new Error('retry');
      },
      { retries: { max: 2, delayMs: 25, backoff: 'exponential' } },
    );
    await clock.advanceBy(1);
    expect(clock.pendingTimers).toBeGreaterThan(0);
    const shutdown = engine.shutdown();
    await clock.runAll();
    await shutdown;
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('after shutdown begins', () => {
  it('rejects new submissions at once: status rejected, E_SHUTDOWN, the function never called', async () => {
    const { engine, clock, ofType } = startEngine();
    engine.submit((ctx) => ctx.sleep(10));
    const shutdown = engine.shutdown();
    const fn = jest.fn();
    const late = engine.submit(fn, { id: 'late', name: 'late task' });
    expect(late.status).toBe('rejected');
    expect(late.isSettled).toBe(true);
    const error = await rejectionOf(late);
    expect(error.code).toBe('E_SHUTDOWN');
    expect(error.details['taskId']).toBe('late');
    expect(late.cancel()).toBe(false);
    await clock.runAll();
    const report = await shutdown;
    expect(fn).not.toHaveBeenCalled();
    expect(report).toMatchObject({ submitted: 2, completed: 1, rejected: 1, lost: 0 });
    expect(ofType('task.rejected')).toEqual([{ type: 'task.rejected', at: 0, taskId: 'late', name: 'late task', attempt: 1, code: 'E_SHUTDOWN' }]);
  });

  it('rejects every node of a graph submitted after shutdown, and submissions after it resolved', async () => {
    const { engine, clock } = startEngine();
    engine.submit((ctx) => ctx.sleep(10));
    const shutdown = engine.shutdown();
    const run = jest.fn();
    const graph = engine.submitGraph({ a: { run }, b: { run, dependsOn: ['a'] } });
    expect([graph.a.status, graph.b.status]).toEqual(['rejected', 'rejected']);
    expect((await rejectionOf(graph.b)).code).toBe('E_SHUTDOWN');
    await clock.runAll();
    await shutdown;
    const afterwards = engine.submit(run);
    expect(afterwards.status).toBe('rejected');
    expect((await rejectionOf(afterwards)).code).toBe('E_SHUTDOWN');
    expect(run).not.toHaveBeenCalled();
    expect(engine.isAccepting).toBe(false);
  });

  it('still validates options: a bad submission throws rather than being rejected', () => {
    const { engine } = startEngine();
    void engine.shutdown();
    expect(thrownBy(() => engine.submit(42 as never)).code).toBe('E_INVALID_OPTION');
  });

  it('completes events$ once every task has settled', async () => {
    const { engine, clock } = startEngine();
    const types: string[] = [];
    let completedAt: number | undefined;
    engine.events$.subscribe({
      next: (event) => types.push(event.type),
      complete: () => {
        completedAt = clock.now();
        types.push('(complete)');
      },
    });
    engine.submit((ctx) => ctx.sleep(40));
    await clock.advanceBy(10);
    const shutdown = engine.shutdown();
    await clock.advanceBy(20);
    expect(completedAt).toBeUndefined();
    await clock.runAll();
    await shutdown;
    expect(completedAt).toBe(40);
    expect(types.indexOf('task.completed')).toBeLessThan(types.indexOf('(complete)'));
    expect(types[types.length - 1]).toBe('(complete)');
    // A subscriber that comes afterwards is completed at once.
    const late = jest.fn();
    engine.events$.subscribe({ complete: late });
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('resolves onIdle() at once once shut down', async () => {
    const { engine, clock } = startEngine();
    engine.submit((ctx) => ctx.sleep(10));
    const shutdown = engine.shutdown();
    await clock.runAll();
    await shutdown;
    await expect(engine.onIdle()).resolves.toBeUndefined();
    expect(engine.isIdle).toBe(true);
  });
});
