import { containReward, defaultReward, type RouterOutcome } from '../../../src/agents/bandit/router-reward';
import { MezanError } from '../../../src/errors';

const reply: RouterOutcome = { ok: true, value: 'answer', durationMs: 12 };
const failure: RouterOutcome = { ok: false, error: new MezanError('E_TIMEOUT', 'too slow'), durationMs: 1_000 };

describe('defaultReward', () => {
  it('gives 1 for a reply and 0 for an error or a timeout', () => {
    expect(defaultReward(reply)).toBe(1);
    expect(defaultReward(failure)).toBe(0);
    expect(defaultReward({ ok: false, error: new Error('boom'), durationMs: 3 })).toBe(0);
  });
});

describe('containReward', () => {
  it('records a reward in [0, 1] as it is, with no problem', () => {
    for (const value of [0, 0.37, 1]) expect(containReward(() => value, reply)).toEqual({ reward: value, problem: undefined });
  });

  it('passes the outcome to the reward function', () => {
    const reward = jest.fn((outcome: RouterOutcome) => (outcome.ok ? 1 - outcome.durationMs / 100 : 0));
    expect(containReward(reward, reply).reward).toBeCloseTo(0.88);
    expect(reward).toHaveBeenCalledWith(reply);
  });

  it.each<[string, unknown, number]>([
    ['above 1', 1.5, 1],
    ['below 0', -0.2, 0],
    ['Infinity', Infinity, 1],
    ['-Infinity', -Infinity, 0],
    ['NaN', NaN, 0],
    ['a numeric string', '0.8', 0],
    ['undefined', undefined, 0],
    ['null', null, 0],
    ['an object', { valueOf: () => 0.9 }, 0],
    ['a bigint', 1n, 0],
  ])('clamps a number out of range and counts anything else as 0, reporting it: %s', (_name, value, counted) => {
    const { reward, problem } = containReward(() => value as number, reply);
    expect(reward).toBe(counted);
    expect(problem).toBeInstanceOf(MezanError);
    expect(problem!.code).toBe('E_INVALID_OPTION');
    expect(problem!.details).toMatchObject({ option: 'reward', counted });
  });

  it('counts a throw as 0 and reports it with the thrown value as its cause', () => {
    const thrownValue = new Error('scorer broke');
    const { reward, problem } = containReward(() => {
      throw thrownValue;
    }, failure);
    expect(reward).toBe(0);
    expect(problem!.code).toBe('E_INVALID_OPTION');
    expect(problem!.cause).toBe(thrownValue);
    expect(problem!.message).toContain('scorer broke');
  });

  it('survives a thrown value that cannot be described', () => {
    const hostile = Object.create(null, {
      message: {
        get: () => {
          throw new Error('no');
        },
      },
    });
    expect(
      containReward(() => {
        throw hostile;
      }, reply).reward,
    ).toBe(0);
  });

  it('counts a promise as 0 and leaves no unhandled rejection behind', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { reward, problem } = containReward(() => Promise.reject(new Error('async scorer')) as never, reply);
      expect(reward).toBe(0);
      expect(problem!.details).toMatchObject({ option: 'reward', received: 'a promise' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('survives hostile thenables', async () => {
    const throwingThen = {
      get then(): never {
        throw new Error('no then');
      },
    };
    const rejectingThen = { then: (_resolve: unknown, reject: (reason: unknown) => void) => reject(new Error('later')) };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const value of [throwingThen, rejectingThen, revoked.proxy]) expect(containReward(() => value as never, reply).reward).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
  });
});
