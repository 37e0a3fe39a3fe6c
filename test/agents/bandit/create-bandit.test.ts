import fc from 'fast-check';
import type { BanditStrategy } from '../../../src/agents/bandit/bandit-strategy';
import { createBandit } from '../../../src/agents/bandit/create-bandit';
import { MezanError } from '../../../src/errors';
import { seededRandom } from '../../../src/random';

const STRATEGIES: readonly BanditStrategy[] = ['ucb1', 'thompson', { type: 'epsilon-greedy', epsilon: 0.2 }];

function thrown(action: () => unknown): MezanError {
  try {
    action();
  } catch (error) {
    if (error instanceof MezanError) return error;
    throw error;
  }
  throw new Error('expected a MezanError, nothing was thrown');
}

describe('createBandit', () => {
  describe('refuses bad input with E_INVALID_OPTION naming the option', () => {
    it.each<[string, () => unknown, string]>([
      ['an unknown strategy name', () => createBandit('ucb' as never, 3, Math.random), 'strategy'],
      ['a strategy that is not a string or an object', () => createBandit(1 as never, 3, Math.random), 'strategy'],
      ['null as the strategy', () => createBandit(null as never, 3, Math.random), 'strategy'],
      ['an unknown strategy type', () => createBandit({ type: 'softmax', epsilon: 0.1 } as never, 3, Math.random), 'strategy.type'],
      ['an unknown type with keys of its own', () => createBandit({ type: 'softmax', temperature: 1 } as never, 3, Math.random), 'strategy.type'],
      ['an unknown key', () => createBandit({ type: 'epsilon-greedy', epsilon: 0.1, decay: 1 } as never, 3, Math.random), 'strategy.decay'],
      ['a missing epsilon', () => createBandit({ type: 'epsilon-greedy' } as never, 3, Math.random), 'strategy.epsilon'],
      ['an epsilon above 1', () => createBandit({ type: 'epsilon-greedy', epsilon: 1.5 }, 3, Math.random), 'strategy.epsilon'],
      ['a negative epsilon', () => createBandit({ type: 'epsilon-greedy', epsilon: -0.1 }, 3, Math.random), 'strategy.epsilon'],
      ['a NaN epsilon', () => createBandit({ type: 'epsilon-greedy', epsilon: NaN }, 3, Math.random), 'strategy.epsilon'],
      ['a string epsilon', () => createBandit({ type: 'epsilon-greedy', epsilon: '0.1' as never }, 3, Math.random), 'strategy.epsilon'],
      ['no arms', () => createBandit('ucb1', 0, Math.random), 'armCount'],
      ['a fractional arm count', () => createBandit('ucb1', 2.5, Math.random), 'armCount'],
      ['an infinite arm count', () => createBandit('ucb1', Infinity, Math.random), 'armCount'],
      ['a random source that is not a function', () => createBandit('ucb1', 3, 0.5 as never), 'random'],
    ])('%s', (_name, action, option) => {
      const error = thrown(action);
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details.option).toBe(option);
    });

    it.each<[string, number, number]>([
      ['an arm below 0', -1, 1],
      ['an arm past the last', 3, 1],
      ['a fractional arm', 0.5, 1],
      ['a NaN arm', NaN, 1],
    ])('%s', (_name, arm, reward) => {
      const bandit = createBandit('ucb1', 3, Math.random);
      bandit.choose();
      expect(thrown(() => bandit.record(arm, reward)).details.option).toBe('arm');
    });

    it.each([1.01, -0.01, NaN, Infinity, '1' as never, undefined as never])('a reward of %p', (reward) => {
      const bandit = createBandit('thompson', 3, seededRandom(1));
      const arm = bandit.choose();
      const error = thrown(() => bandit.record(arm, reward));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details.option).toBe('reward');
      expect(bandit.stats()[arm]).toEqual({ pulls: 1, pending: 1, meanReward: 0 });
    });

    it('a reward for an arm with no pull awaiting one', () => {
      const bandit = createBandit('ucb1', 2, Math.random);
      const arm = bandit.choose();
      expect(thrown(() => bandit.record(1 - arm, 1)).details.option).toBe('arm');
      bandit.record(arm, 1);
      expect(thrown(() => bandit.record(arm, 1)).details.option).toBe('arm');
    });
  });

  it('suggests the strategy meant by a misspelt name', () => {
    expect(thrown(() => createBandit('thomson' as never, 2, Math.random)).message).toContain('did you mean "thompson"');
  });

  it('keeps the checked strategy and arm count', () => {
    const bandit = createBandit({ type: 'epsilon-greedy', epsilon: 0 }, 4, Math.random);
    expect(bandit.strategy).toEqual({ type: 'epsilon-greedy', epsilon: 0 });
    expect(bandit.armCount).toBe(4);
    expect(createBandit('ucb1', 1, Math.random).strategy).toEqual({ type: 'ucb1' });
  });

  it('counts pulls when chosen and means when rewarded, so several pulls may await their rewards', () => {
    const bandit = createBandit('ucb1', 3, seededRandom(1));
    expect([bandit.choose(), bandit.choose(), bandit.choose()]).toEqual([0, 1, 2]);
    bandit.record(1, 0.5);
    expect(bandit.stats()).toEqual([
      { pulls: 1, pending: 1, meanReward: 0 },
      { pulls: 1, pending: 0, meanReward: 0.5 },
      { pulls: 1, pending: 1, meanReward: 0 },
    ]);
    bandit.record(0, 0.25);
    bandit.record(2, 1);
    expect(bandit.stats().map((arm) => arm.meanReward)).toEqual([0.25, 0.5, 1]);
  });

  it.each(STRATEGIES)('makes the same choices from the same seed: %p', (strategy) => {
    const run = (seed: number) => {
      const bandit = createBandit(strategy, 4, seededRandom(seed));
      const payout = seededRandom(seed + 100);
      return Array.from({ length: 300 }, () => {
        const arm = bandit.choose();
        bandit.record(arm, payout() < (arm + 1) / 5 ? 1 : payout());
        return arm;
      });
    };
    expect(run(3)).toEqual(run(3));
    if (strategy !== 'ucb1') expect(run(3)).not.toEqual(run(4));
  });

  describe('invariants, over random sequences of choices and rewards', () => {
    type Step = { kind: 'choose' } | { kind: 'record'; pick: number; reward: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constant<Step>({ kind: 'choose' }),
      fc.record({ kind: fc.constant('record' as const), pick: fc.nat(), reward: fc.double({ min: 0, max: 1, noNaN: true }) }),
    );
    const strategy: fc.Arbitrary<BanditStrategy> = fc.oneof(
      fc.constant<BanditStrategy>('ucb1'),
      fc.constant<BanditStrategy>('thompson'),
      fc.double({ min: 0, max: 1, noNaN: true }).map((epsilon): BanditStrategy => ({ type: 'epsilon-greedy', epsilon })),
    );
    // The engine's seeded source, or a broken one giving anything at all, or throwing.
    const random: fc.Arbitrary<() => number> = fc.oneof(
      fc.integer().map((seed) => seededRandom(seed)),
      fc.integer().map((seed) => {
        const draw = seededRandom(seed);
        return () => {
          const value = draw();
          if (value < 0.3) throw new Error('broken source');
          return value;
        };
      }),
      fc.array(fc.double(), { minLength: 1, maxLength: 8 }).map((values) => {
        let index = 0;
        return () => values[index++ % values.length]!;
      }),
    );

    it('pulls sum to choices, pending to choices not yet rewarded, and each mean is the mean of its rewards, in [0, 1]', () => {
      fc.assert(
        fc.property(strategy, fc.integer({ min: 1, max: 6 }), random, fc.array(step, { maxLength: 120 }), (strategy, armCount, random, steps) => {
          const bandit = createBandit(strategy, armCount, random);
          const chosen = new Array<number>(armCount).fill(0);
          const rewards: number[][] = Array.from({ length: armCount }, () => []);
          for (const step of steps) {
            if (step.kind === 'choose') {
              const arm = bandit.choose();
              expect(Number.isInteger(arm) && arm >= 0 && arm < armCount).toBe(true);
              chosen[arm]!++;
              continue;
            }
            const awaiting = chosen.flatMap((count, arm) => (count > rewards[arm]!.length ? [arm] : []));
            if (awaiting.length === 0) continue;
            const arm = awaiting[step.pick % awaiting.length]!;
            bandit.record(arm, step.reward);
            rewards[arm]!.push(step.reward);
          }
          const stats = bandit.stats();
          const choices = steps.filter((step) => step.kind === 'choose').length;
          expect(stats.reduce((sum, arm) => sum + arm.pulls, 0)).toBe(choices);
          stats.forEach((arm, index) => {
            expect(arm.pulls).toBe(chosen[index]);
            expect(arm.pending).toBe(chosen[index]! - rewards[index]!.length);
            expect(arm.meanReward >= 0 && arm.meanReward <= 1).toBe(true);
            const recorded = rewards[index]!;
            const mean = recorded.length === 0 ? 0 : recorded.reduce((sum, reward) => sum + reward, 0) / recorded.length;
            expect(arm.meanReward).toBeCloseTo(mean, 12);
          });
        }),
        { seed: 10, numRuns: 300 },
      );
    });

    it('every arm is tried once before any is tried twice, by UCB1 and epsilon-greedy', () => {
      fc.assert(
        fc.property(
          fc.constantFrom<BanditStrategy>('ucb1', { type: 'epsilon-greedy', epsilon: 0.5 }),
          fc.integer({ min: 1, max: 8 }),
          random,
          (strategy, armCount, random) => {
            const bandit = createBandit(strategy, armCount, random);
            const first = Array.from({ length: armCount }, () => bandit.choose());
            expect(first).toEqual(Array.from({ length: armCount }, (_, arm) => arm));
          },
        ),
        { seed: 11, numRuns: 100 },
      );
    });
  });
});
