import { deferred, rejectionOf, startEngine } from '../fixtures/engine-harness';

describe('timeoutMs', () => {
  it('rejects with E_TIMEOUT exactly at the deadline, though the function has not returned', async () => {
    const { engine, clock, ofType } = startEngine();
    const gate = deferred();
    const handle = engine.submit(() => gate.promise, { name: 'slow', timeoutMs: 50 });
    await clock.advanceBy(49);
    expect(handle.status).toBe('running');
    await clock.advanceBy(1);
    expect(handle.status).toBe('timeout');
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.details).toMatchObject({ taskId: handle.id, timeoutMs: 50 });
    expect(ofType('task.timeout')).toEqual([
      { type: 'task.timeout', at: 50, taskId: handle.id, name: 'slow', attempt: 1, workerId: 'main', durationMs: 50, code: 'E_TIMEOUT' },
    ]);
    gate.resolve();
    await clock.runAll();
  });

  it('counts the deadline from the start of the attempt, not from submission', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    engine.submit((ctx) => ctx.sleep(100));
    await clock.advanceBy(0);
    const late = engine.submit((ctx) => ctx.sleep(1000), { timeoutMs: 30 });
    await clock.runAll();
    expect((await rejectionOf(late)).code).toBe('E_TIMEOUT');
    expect(ofType('task.timeout').map((event) => [event.at, event.durationMs])).toEqual([[130, 30]]);
  });

  it('aborts ctx.signal with the same E_TIMEOUT error the result rejects with', async () => {
    const { engine, clock } = startEngine();
    let signal: AbortSignal | undefined;
    let sleepError: unknown;
    const handle = engine.submit(
      async (ctx) => {
        signal = ctx.signal;
        try {
          await ctx.sleep(1000);
        } catch (error) {
          sleepError = error;
          throw error;
        }
      },
      { timeoutMs: 100 },
    );
    await clock.advanceBy(100);
    const error = await rejectionOf(handle);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(error);
    expect(sleepError).toBe(error);
    await clock.runAll();
    expect(clock.now()).toBe(100);
  });

  it('keeps the slot taken (worker busy, the function counted running) until the function really settles, then frees it', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const gate = deferred();
    const handle = engine.submit(() => gate.promise, { timeoutMs: 20 });
    await clock.advanceBy(20);
    expect(handle.status).toBe('timeout');
    const taken = { id: 'main', state: 'busy', slots: 1, running: 1, tasksFailed: 1, attempts: 0, busyMs: 0 };
    expect(engine.stats().workers).toEqual([expect.objectContaining(taken)]);
    await clock.advanceBy(500);
    expect(engine.stats().workers).toEqual([expect.objectContaining(taken)]);
    gate.resolve();
    await clock.advanceBy(0);
    expect(engine.stats().workers).toEqual([
      expect.objectContaining({ id: 'main', state: 'idle', slots: 1, running: 0, tasksFailed: 1, attempts: 1, busyMs: 520, lastTaskMs: 520 }),
    ]);
  });

  it('respects concurrency meanwhile: queued tasks wait for the timed-out function to return', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const gates = [deferred(), deferred()];
    const stuck = gates.map((gate) => engine.submit(() => gate.promise, { timeoutMs: 10 }));
    await clock.advanceBy(0);
    let running = 0;
    let peak = 0;
    const queued = Array.from({ length: 4 }, () =>
      engine.submit(async (ctx) => {
        running++;
        peak = Math.max(peak, running);
        await ctx.sleep(5);
        running--;
      }),
    );
    await clock.advanceBy(100);
    expect(stuck.map((handle) => handle.status)).toEqual(['timeout', 'timeout']);
    expect(ofType('task.started')).toHaveLength(2);
    expect(queued.every((handle) => handle.status === 'queued')).toBe(true);

    gates[0]!.resolve();
    await clock.advanceBy(0);
    await clock.advanceBy(50);
    // One slot was freed: the queued tasks ran one at a time on it.
    expect(peak).toBe(1);
    expect(queued.every((handle) => handle.status === 'completed')).toBe(true);
    // The other timed-out function still holds its slot.
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 1 })]);
    gates[1]!.resolve();
    await clock.runAll();
    expect(engine.stats().workers).toEqual([
      expect.objectContaining({ id: 'main', state: 'idle', slots: 2, running: 0, tasksFailed: 2, tasksCompleted: 4, attempts: 6 }),
    ]);
  });

  it('does not hold other tasks back behind a timed-out function that never returns while a slot is free', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    // Many instant tasks first: whatever the engine has seen, nothing is queued behind the hung function.
    for (let index = 0; index < 40; index++) engine.submit(() => index);
    await clock.runAll();
    const hung = engine.submit(() => new Promise<never>(() => undefined), { id: 'hung', timeoutMs: 10 });
    hung.result.catch(() => undefined);
    const others = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => engine.submit(() => id, { id, timeoutMs: 50 }));
    await clock.advanceBy(100);
    expect(hung.status).toBe('timeout');
    // Every other task settled in the free slot: none waits forever for the hung function.
    expect(others.map((handle) => handle.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed', 'completed']);
    const started = ofType('task.started').filter((event) => event.taskId === 'hung' || others.some((handle) => handle.id === event.taskId));
    expect(started.map((event) => [event.taskId, event.at])).toEqual([
      ['hung', 0],
      ['a', 0],
      ['b', 0],
      ['c', 0],
      ['d', 0],
      ['e', 0],
      ['f', 0],
    ]);
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 1, tasksFailed: 1 })]);
  });

  it('stays a timeout when the function later returns a value or throws', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const late = deferred<string>();
    const lateFailure = deferred<string>();
    const returns = engine.submit(() => late.promise, { timeoutMs: 10 });
    const throws = engine.submit(() => lateFailure.promise, { timeoutMs: 10 });
    await clock.advanceBy(10);
    late.resolve('too late');
    lateFailure.reject(new Error('too late too'));
    await clock.runAll();
    expect(returns.status).toBe('timeout');
    expect(throws.status).toBe('timeout');
    expect((await rejectionOf(returns)).code).toBe('E_TIMEOUT');
    expect((await rejectionOf(throws)).code).toBe('E_TIMEOUT');
    expect(engine.progress()).toMatchObject({ timedOut: 2, completed: 0, failed: 0 });
  });

  it('does not fire for a task that finishes in time, and leaves no timer behind', async () => {
    const { engine, clock, ofType } = startEngine();
    const handle = engine.submit(
      async (ctx) => {
        await ctx.sleep(49);
        return 'in time';
      },
      { timeoutMs: 50 },
    );
    await clock.advanceBy(49);
    await expect(handle.result).resolves.toBe('in time');
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceBy(100);
    expect(handle.status).toBe('completed');
    expect(ofType('task.timeout')).toEqual([]);
  });

  it('applies to each attempt of a retried task separately', async () => {
    const { engine, clock, ofType } = startEngine();
    const handle = engine.submit(
      async (ctx) => {
        await ctx.sleep(30);
        if (ctx.attempt < 3) throw new Error('not yet');
        return ctx.attempt;
      },
      { timeoutMs: 40, retries: { max: 2, delayMs: 5 } },
    );
    await clock.runAll();
    // Three attempts of 30 ms each: 90 ms in all, more than 40, yet no attempt timed out.
    await expect(handle.result).resolves.toBe(3);
    expect(ofType('task.timeout')).toEqual([]);
    expect(clock.now()).toBe(100);
  });
});
