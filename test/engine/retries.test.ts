import { seededRandom, type RandomSource, type RetryOptions } from '../../src';
import { rejectionOf, startEngine } from '../fixtures/engine-harness';

/** A function that throws a fresh error on each call until `failures` calls have failed, then returns `value`. */
function flaky<T>(failures: number, value: T) {
  const errors: Error[] = [];
  const attempts: number[] = [];
  const fn = jest.fn((ctx: { attempt: number }) => {
    attempts.push(ctx.attempt);
    if (errors.length < failures) {
      const error = new Error(`failure ${errors.length + 1}`);
      errors.push(error);
      throw error;
    }
    return value;
  });
  return { fn, errors, attempts };
}

/** Runs one always-failing task under `retries` and returns its retry delays and attempt start times. */
async function delaysOf(retries: RetryOptions, random?: RandomSource) {
  const { engine, clock, ofType } = startEngine(random === undefined ? {} : { random });
  const { fn } = flaky(Infinity, 'never');
  const handle = engine.submit(fn, { retries });
  await clock.runAll();
  const error = await rejectionOf(handle);
  return {
    error,
    calls: fn.mock.calls.length,
    delays: ofType('task.retrying').map((event) => event.delayMs),
    startedAt: ofType('task.started').map((event) => event.at),
  };
}

describe('retries as a number', () => {
  it('tries again up to that many times, then fails with E_TASK_FAILED: the last error as cause, attempts in details', async () => {
    const { engine, clock } = startEngine();
    const { fn, errors, attempts } = flaky(Infinity, 'never');
    const handle = engine.submit(fn, { retries: 2 });
    await clock.runAll();
    const error = await rejectionOf(handle);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.cause).toBe(errors[2]);
    expect(error.details).toMatchObject({ taskId: handle.id, attempts: 3 });
    expect(handle.status).toBe('failed');
  });

  it('resolves with the value of the first attempt that succeeds; ctx.attempt counts from 1', async () => {
    const { engine, clock, ofType } = startEngine();
    const { fn, attempts } = flaky(2, 'third time lucky');
    const handle = engine.submit(fn, { retries: 5 });
    await clock.runAll();
    await expect(handle.result).resolves.toBe('third time lucky');
    expect(attempts).toEqual([1, 2, 3]);
    expect(ofType('task.started').map((event) => event.attempt)).toEqual([1, 2, 3]);
    expect(ofType('task.completed')).toMatchObject([{ taskId: handle.id, attempt: 3 }]);
  });

  it('does not retry by default, nor with retries: 0', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const byDefault = flaky(Infinity, 'never');
    const zero = flaky(Infinity, 'never');
    const a = engine.submit(byDefault.fn);
    const b = engine.submit(zero.fn, { retries: 0 });
    await clock.runAll();
    expect((await rejectionOf(a)).details['attempts']).toBe(1);
    expect((await rejectionOf(b)).details['attempts']).toBe(1);
    expect(byDefault.fn).toHaveBeenCalledTimes(1);
    expect(zero.fn).toHaveBeenCalledTimes(1);
    expect(ofType('task.retrying')).toEqual([]);
  });

  it('retries asynchronous rejections too', async () => {
    const { engine, clock } = startEngine();
    let calls = 0;
    const handle = engine.submit(
      async (ctx) => {
        calls++;
        await ctx.sleep(10);
        if (ctx.attempt < 2) throw new Error('async failure');
        return ctx.attempt;
      },
      { retries: 1 },
    );
    await clock.runAll();
    await expect(handle.result).resolves.toBe(2);
    expect(calls).toBe(2);
  });
});

describe('retry delays (virtual time)', () => {
  it('waits delayMs before each retry under fixed backoff (the default)', async () => {
    const { delays, startedAt, calls } = await delaysOf({ max: 3, delayMs: 100 });
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 100, 100]);
    expect(startedAt).toEqual([0, 100, 200, 300]);
  });

  it('doubles the delay after each retry under exponential backoff', async () => {
    const { delays, startedAt } = await delaysOf({ max: 4, delayMs: 100, backoff: 'exponential' });
    expect(delays).toEqual([100, 200, 400, 800]);
    expect(startedAt).toEqual([0, 100, 300, 700, 1500]);
  });

  it('caps delays at maxDelayMs', async () => {
    const exponential = await delaysOf({ max: 4, delayMs: 100, backoff: 'exponential', maxDelayMs: 250 });
    expect(exponential.delays).toEqual([100, 200, 250, 250]);
    expect(exponential.startedAt).toEqual([0, 100, 300, 550, 800]);
    const fixed = await delaysOf({ max: 2, delayMs: 100, maxDelayMs: 40 });
    expect(fixed.delays).toEqual([40, 40]);
  });

  it('retries at once with delayMs 0, behind the tasks already queued with the same priority', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const order: string[] = [];
    engine.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(0);
    engine.submit(
      (ctx) => {
        order.push(`flaky#${ctx.attempt}`);
        if (ctx.attempt === 1) throw new Error('once');
      },
      { retries: 1 },
    );
    engine.submit(() => void order.push('steady'));
    await clock.runAll();
    expect(order).toEqual(['flaky#1', 'steady', 'flaky#2']);
    expect(ofType('task.retrying').map((event) => [event.at, event.delayMs])).toEqual([[10, 0]]);
  });

  it('keeps the status queued (not running) while a retry waits out its delay', async () => {
    const { engine, clock } = startEngine();
    const { fn } = flaky(1, 'ok');
    const handle = engine.submit(fn, { retries: { max: 1, delayMs: 100 } });
    await clock.advanceBy(50);
    expect(handle.status).toBe('queued');
    expect(engine.progress()).toMatchObject({ running: 0, pending: 1 });
    await clock.advanceBy(50);
    expect(handle.status).toBe('completed');
  });
});

describe('retry jitter (seeded)', () => {
  /** A seeded random source that remembers every number it returned. */
  function recordedRandom(seed: number) {
    const source = seededRandom(seed);
    const draws: number[] = [];
    const random: RandomSource = () => {
      const value = source();
      draws.push(value);
      return value;
    };
    return { random, draws };
  }

  it('draws full jitter (jitter: true) uniformly below the delay, from the injected random source', async () => {
    const { random, draws } = recordedRandom(7);
    const { engine, clock, ofType } = startEngine({ random });
    draws.length = 0; // the engine's own id took some draws
    const handle = engine.submit(flaky(Infinity, 'never').fn, { retries: { max: 4, delayMs: 100, backoff: 'exponential', jitter: true } });
    await clock.runAll();
    await rejectionOf(handle);
    const delays = ofType('task.retrying').map((event) => event.delayMs);
    expect(draws).toHaveLength(4);
    expect(delays).toEqual([100, 200, 400, 800].map((delay, index) => delay * (1 - draws[index]!)));
    delays.forEach((delay, index) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(100 * 2 ** index);
    });
    // Each attempt starts when its jittered delay has passed, exactly.
    const startedAt = ofType('task.started').map((event) => event.at);
    const retryingAt = ofType('task.retrying').map((event) => event.at);
    expect(startedAt.slice(1)).toEqual(retryingAt.map((at, index) => at + delays[index]!));
  });

  it('draws partial jitter (a number j) from [delay × (1 − j), delay]', async () => {
    const { random, draws } = recordedRandom(11);
    const { engine, clock, ofType } = startEngine({ random });
    draws.length = 0;
    const handle = engine.submit(flaky(Infinity, 'never').fn, { retries: { max: 5, delayMs: 1000, jitter: 0.25 } });
    await clock.runAll();
    await rejectionOf(handle);
    const delays = ofType('task.retrying').map((event) => event.delayMs);
    expect(delays).toEqual(draws.map((draw) => 1000 * (1 - 0.25 * draw)));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(750);
      expect(delay).toBeLessThanOrEqual(1000);
    }
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it('gives the same delays for the same seed and different ones for another seed', async () => {
    const options: RetryOptions = { max: 5, delayMs: 100, jitter: true };
    const first = await delaysOf(options, seededRandom(42));
    const again = await delaysOf(options, seededRandom(42));
    const other = await delaysOf(options, seededRandom(43));
    expect(again.delays).toEqual(first.delays);
    expect(again.startedAt).toEqual(first.startedAt);
    expect(other.delays).not.toEqual(first.delays);
  });
});

describe('retryIf', () => {
  it('retries only the errors it accepts, and receives the error and the failed attempt', async () => {
    const { engine, clock } = startEngine();
    const transient = new Error('transient');
    const fatal = new Error('fatal');
    const retryIf = jest.fn((error: unknown) => error === transient);
    const fn = jest.fn((ctx: { attempt: number }) => {
      throw ctx.attempt === 1 ? transient : fatal;
    });
    const handle = engine.submit(fn, { retries: { max: 5, retryIf } });
    await clock.runAll();
    const error = await rejectionOf(handle);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(retryIf.mock.calls).toEqual([
      [transient, 1],
      [fatal, 2],
    ]);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.cause).toBe(fatal);
    expect(error.details['attempts']).toBe(2);
  });

  it('is not asked once the retries are used up', async () => {
    const { engine, clock } = startEngine();
    const retryIf = jest.fn(() => true);
    const handle = engine.submit(flaky(Infinity, 'never').fn, { retries: { max: 2, retryIf } });
    await clock.runAll();
    expect((await rejectionOf(handle)).details['attempts']).toBe(3);
    expect(retryIf.mock.calls.map((call: unknown[]) => call[1])).toEqual([1, 2]);
  });

  it('fails the task without a retry when retryIf itself throws', async () => {
    const { engine, clock } = startEngine();
    const { fn, errors } = flaky(Infinity, 'never');
    const handle = engine.submit(fn, {
      retries: {
        max: 3,
        retryIf: () => {
          throw new Error('retryIf is broken');
        },
      },
    });
    await clock.runAll();
    const error = await rejectionOf(handle);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.cause).toBe(errors[0]);
  });
});

describe('what is not retried', () => {
  it('does not retry a timeout', async () => {
    const { engine, clock, ofType } = startEngine();
    const fn = jest.fn((ctx: { sleep(ms: number): Promise<void> }) => ctx.sleep(1000));
    const handle = engine.submit(fn, { timeoutMs: 50, retries: { max: 3, delayMs: 10 } });
    await clock.runAll();
    expect((await rejectionOf(handle)).code).toBe('E_TIMEOUT');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(ofType('task.retrying')).toEqual([]);
  });

  it('does not retry a cancelled running task', async () => {
    const { engine, clock } = startEngine();
    const fn = jest.fn((ctx: { sleep(ms: number): Promise<void> }) => ctx.sleep(1000));
    const handle = engine.submit(fn, { retries: 3 });
    await clock.advanceBy(10);
    handle.cancel();
    await clock.runAll();
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('task.retrying', () => {
  it('carries the failed attempt, its worker, the delay, E_TASK_FAILED and the thrown error', async () => {
    const { engine, clock, ofType } = startEngine();
    const { fn, errors } = flaky(2, 'ok');
    const handle = engine.submit(fn, { name: 'flaky', retries: { max: 2, delayMs: 30, backoff: 'exponential' } });
    await clock.runAll();
    await handle.result;
    expect(ofType('task.retrying')).toEqual([
      {
        type: 'task.retrying',
        at: 0,
        taskId: handle.id,
        name: 'flaky',
        attempt: 1,
        workerId: 'main',
        delayMs: 30,
        code: 'E_TASK_FAILED',
        error: errors[0],
      },
      {
        type: 'task.retrying',
        at: 30,
        taskId: handle.id,
        name: 'flaky',
        attempt: 2,
        workerId: 'main',
        delayMs: 60,
        code: 'E_TASK_FAILED',
        error: errors[1],
      },
    ]);
    expect(ofType('task.queued').map((event) => [event.at, event.attempt])).toEqual([
      [0, 1],
      [30, 2],
      [90, 3],
    ]);
  });
});
