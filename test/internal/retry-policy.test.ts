import { MezanError } from '../../src/errors';
import { seededRandom } from '../../src/random';
import { resolveRetryPolicy, retryDelay, shouldRetry, taskFailedError } from '../../src/internal/retry-policy';
import { NO_RETRIES, type ResolvedRetryPolicy, type RetryOptions } from '../../src/task-options';

const policy = (overrides: Partial<ResolvedRetryPolicy>): ResolvedRetryPolicy => ({ ...NO_RETRIES, ...overrides });

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('resolveRetryPolicy', () => {
  describe('validation', () => {
    const invalid: Array<[string, unknown, string]> = [
      ['a negative count', -1, 'retries'],
      ['a fractional count', 1.5, 'retries'],
      ['NaN', NaN, 'retries'],
      ['Infinity', Infinity, 'retries'],
      ['a string', '3', 'retries'],
      ['null', null, 'retries'],
      ['a boolean', true, 'retries'],
      ['a function', () => 3, 'retries'],
      ['a negative max', { max: -1 }, 'retries.max'],
      ['a fractional max', { max: 0.5 }, 'retries.max'],
      ['an infinite max', { max: Infinity }, 'retries.max'],
      ['a string max', { max: '2' }, 'retries.max'],
      ['a negative delayMs', { max: 1, delayMs: -5 }, 'retries.delayMs'],
      ['a NaN delayMs', { max: 1, delayMs: NaN }, 'retries.delayMs'],
      ['an infinite delayMs', { max: 1, delayMs: Infinity }, 'retries.delayMs'],
      ['a string delayMs', { max: 1, delayMs: '10' }, 'retries.delayMs'],
      ['a negative maxDelayMs', { max: 1, maxDelayMs: -1 }, 'retries.maxDelayMs'],
      ['a NaN maxDelayMs', { max: 1, maxDelayMs: NaN }, 'retries.maxDelayMs'],
      ['a string maxDelayMs', { max: 1, maxDelayMs: '100' }, 'retries.maxDelayMs'],
      ['an unknown backoff', { max: 1, backoff: 'linear' }, 'retries.backoff'],
      ['a jitter below 0', { max: 1, jitter: -0.1 }, 'retries.jitter'],
      ['a jitter of 0 (a number is in (0, 1]; false is no jitter)', { max: 1, jitter: 0 }, 'retries.jitter'],
      ['a jitter above 1', { max: 1, jitter: 1.5 }, 'retries.jitter'],
      ['a NaN jitter', { max: 1, jitter: NaN }, 'retries.jitter'],
      ['a string jitter', { max: 1, jitter: 'full' }, 'retries.jitter'],
      ['a retryIf that is not a function', { max: 1, retryIf: true }, 'retries.retryIf'],
    ];

    it.each(invalid)('rejects %s with E_INVALID_OPTION', (_label, retries, option) => {
      const error = thrownBy(() => resolveRetryPolicy(retries as number | RetryOptions));
      expect(error).toBeInstanceOf(MezanError);
      expect((error as MezanError).code).toBe('E_INVALID_OPTION');
      expect((error as MezanError).details.option).toBe(option);
      const received = option === 'retries' ? retries : (retries as Record<string, unknown>)[option.slice('retries.'.length)];
      expect(Object.is((error as MezanError).details.received, received)).toBe(true);
    });
    it.each([
      [-1, 'graph.a.retries'],
      [{ max: -1 }, 'graph.a.retries.max'],
      [{ max: 1, jitter: 2 }, 'graph.a.retries.jitter'],
    ])('names the option it was given as the path to %p', (retries, option) => {
      const error = thrownBy(() => resolveRetryPolicy(retries as number | RetryOptions, 'graph.a.retries')) as MezanError;
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details.option).toBe(option);
    });
  });

  describe('defaults', () => {
    it('means no retries when absent or 0', () => {
      expect(resolveRetryPolicy(undefined)).toBe(NO_RETRIES);
      expect(resolveRetryPolicy(0)).toBe(NO_RETRIES);
      expect(NO_RETRIES).toEqual({ max: 0, delayMs: 0, backoff: 'fixed', maxDelayMs: Infinity, jitter: 0, retryIf: undefined });
    });

    it('turns a count into immediate, fixed retries', () => {
      const resolved = resolveRetryPolicy(3);
      expect(resolved).toEqual({ ...NO_RETRIES, max: 3 });
      expect(Object.isFrozen(resolved)).toBe(true);
    });

    it('fills the fields an options object leaves out', () => {
      expect(resolveRetryPolicy({})).toEqual(NO_RETRIES);
      expect(resolveRetryPolicy({ max: 2, delayMs: 50 })).toEqual({ ...NO_RETRIES, max: 2, delayMs: 50 });
    });

    it('keeps every field given', () => {
      const retryIf = (): boolean => true;
      const resolved = resolveRetryPolicy({ max: 4, delayMs: 10, backoff: 'exponential', maxDelayMs: 80, jitter: 0.25, retryIf });
      expect(resolved).toEqual({ max: 4, delayMs: 10, backoff: 'exponential', maxDelayMs: 80, jitter: 0.25, retryIf });
      expect(Object.isFrozen(resolved)).toBe(true);
    });

    it.each([
      [undefined, 0],
      [false, 0],
      [true, 1],
      [0.5, 0.5],
      [1, 1],
    ])('resolves jitter %p to %p', (jitter, expected) => {
      expect(resolveRetryPolicy({ max: 1, jitter }).jitter).toBe(expected);
    });

    it('accepts an infinite maxDelayMs', () => {
      expect(resolveRetryPolicy({ max: 1, maxDelayMs: Infinity }).maxDelayMs).toBe(Infinity);
    });
  });
});

describe('resolveRetryPolicy, on equal options', () => {
  it('gives back the policy it made last, so that a deep queue of like tasks keeps one', () => {
    const options: RetryOptions = { max: 2, delayMs: 2, backoff: 'exponential' };
    const first = resolveRetryPolicy(options);
    expect(resolveRetryPolicy(options)).toBe(first);
    expect(resolveRetryPolicy({ ...options })).toBe(first);
  });

  it('makes a new one for options that differ, even the same object changed in between', () => {
    const options: { max: number; delayMs: number } = { max: 2, delayMs: 2 };
    const first = resolveRetryPolicy(options);
    options.max = 3;
    const second = resolveRetryPolicy(options);
    expect(second).not.toBe(first);
    expect(second.max).toBe(3);
    expect(first.max).toBe(2);
    const retryIf = (): boolean => true;
    expect(resolveRetryPolicy({ ...options, retryIf }).retryIf).toBe(retryIf);
  });
});

describe('shouldRetry', () => {
  it('allows exactly `max` retries', () => {
    const twice = policy({ max: 2 });
    expect(shouldRetry(twice, new Error('x'), 1)).toBe(true);
    expect(shouldRetry(twice, new Error('x'), 2)).toBe(true);
    expect(shouldRetry(twice, new Error('x'), 3)).toBe(false);
    expect(shouldRetry(NO_RETRIES, new Error('x'), 1)).toBe(false);
  });

  it('asks retryIf with the error and the failed attempt', () => {
    const calls: Array<[unknown, number]> = [];
    const transientOnly = policy({
      max: 5,
      retryIf: (error, attempt) => {
        calls.push([error, attempt]);
        return (error as Error).message === 'transient';
      },
    });
    const transient = new Error('transient');
    const fatal = new Error('fatal');
    expect(shouldRetry(transientOnly, transient, 2)).toBe(true);
    expect(shouldRetry(transientOnly, fatal, 3)).toBe(false);
    expect(calls).toEqual([
      [transient, 2],
      [fatal, 3],
    ]);
  });

  it('does not ask retryIf once the retries are spent', () => {
    const retryIf = jest.fn(() => true);
    expect(shouldRetry(policy({ max: 1, retryIf }), new Error('x'), 2)).toBe(false);
    expect(retryIf).not.toHaveBeenCalled();
  });

  it('lets an exception from retryIf propagate to the caller', () => {
    const boom = new Error('boom');
    const thrower = policy({
      max: 1,
      retryIf: () => {
        throw boom;
      },
    });
    expect(() => shouldRetry(thrower, new Error('x'), 1)).toThrow(boom);
  });
});

describe('retryDelay', () => {
  const unused = (): number => {
    throw new Error('random must not be drawn');
  };

  it('waits delayMs every time under fixed backoff', () => {
    const fixed = policy({ max: 5, delayMs: 100 });
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelay(fixed, attempt, unused))).toEqual([100, 100, 100, 100, 100]);
  });

  it('doubles per earlier retry under exponential backoff', () => {
    const exponential = policy({ max: 5, delayMs: 100, backoff: 'exponential' });
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelay(exponential, attempt, unused))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('caps the delay at maxDelayMs', () => {
    const capped = policy({ max: 5, delayMs: 100, backoff: 'exponential', maxDelayMs: 350 });
    expect([1, 2, 3, 4].map((attempt) => retryDelay(capped, attempt, unused))).toEqual([100, 200, 350, 350]);
    expect(retryDelay(policy({ max: 1, delayMs: 500, maxDelayMs: 120 }), 1, unused)).toBe(120);
  });

  it('is 0 without drawing a random number when there is no delay, jitter or not', () => {
    expect(retryDelay(policy({ max: 1, jitter: 1 }), 1, unused)).toBe(0);
    expect(retryDelay(policy({ max: 1, delayMs: 100, maxDelayMs: 0, jitter: 1 }), 1, unused)).toBe(0);
  });

  it('applies full jitter as delay × (1 − random())', () => {
    const jittered = policy({ max: 3, delayMs: 100, backoff: 'exponential', jitter: 1 });
    const random = seededRandom(42);
    const expected = seededRandom(42);
    for (const attempt of [1, 2, 3]) {
      const delay = retryDelay(jittered, attempt, random);
      expect(delay).toBe(100 * 2 ** (attempt - 1) * (1 - expected()));
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(100 * 2 ** (attempt - 1));
    }
  });

  it('keeps a partial jitter j within [delay × (1 − j), delay]', () => {
    const half = policy({ max: 1, delayMs: 200, jitter: 0.5 });
    const random = seededRandom(3);
    const delays = Array.from({ length: 500 }, () => retryDelay(half, 1, random));
    for (const delay of delays) {
      expect(delay).toBeGreaterThan(100);
      expect(delay).toBeLessThanOrEqual(200);
    }
    expect(new Set(delays).size).toBeGreaterThan(400);
  });

  it('gives the same delays for the same seed', () => {
    const jittered = policy({ max: 1, delayMs: 1000, jitter: 1 });
    const run = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 10 }, () => retryDelay(jittered, 1, random));
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });

  it('draws from the edges of random() as documented', () => {
    const jittered = policy({ max: 1, delayMs: 100, jitter: 0.5 });
    expect(retryDelay(jittered, 1, () => 0)).toBe(100);
    expect(retryDelay(jittered, 1, () => 0.999)).toBeCloseTo(50.05, 10);
  });
});

describe('taskFailedError', () => {
  it('wraps the thrown error as E_TASK_FAILED with the cause and the attempts', () => {
    const cause = new Error('disk full');
    const error = taskFailedError('t1', 'backup', 3, cause);
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ taskId: 't1', attempts: 3 });
  });

  it('keeps a non-Error throw as the cause', () => {
    const error = taskFailedError('t2', 't2', 1, 'plain string');
    expect(error.cause).toBe('plain string');
    expect(error.details.attempts).toBe(1);
  });
});
