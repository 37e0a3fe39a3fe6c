import type { ArmTally } from '../../../src/agents/bandit/bandit-policy';
import { isBernoulliSuccess, thompsonPolicy } from '../../../src/agents/bandit/thompson-sampling';
import { seededRandom } from '../../../src/random';

describe('isBernoulliSuccess', () => {
  it('counts a reward r as a success when one draw falls below r', () => {
    expect(isBernoulliSuccess(0.3, () => 0.29)).toBe(true);
    expect(isBernoulliSuccess(0.3, () => 0.3)).toBe(false);
    expect(isBernoulliSuccess(0.3, () => 0.8)).toBe(false);
  });

  it('draws nothing for a reward of exactly 0 or 1', () => {
    const random = jest.fn(() => 0.5);
    expect(isBernoulliSuccess(1, random)).toBe(true);
    expect(isBernoulliSuccess(0, random)).toBe(false);
    expect(random).not.toHaveBeenCalled();
  });

  it('makes a success with probability r', () => {
    const random = seededRandom(4);
    const trials = 20_000;
    let successes = 0;
    for (let i = 0; i < trials; i++) if (isBernoulliSuccess(0.35, random)) successes++;
    // Five standard deviations of a binomial count: 5 * sqrt(20,000 * 0.35 * 0.65) = 337.
    expect(Math.abs(successes - 0.35 * trials)).toBeLessThan(337);
  });
});

describe('thompsonPolicy', () => {
  const untouched: ArmTally[] = [0, 1, 2].map(() => ({ pulls: 0, rewarded: 0, rewardSum: 0 }));

  it('chooses from flat posteriors evenly at first', () => {
    const policy = thompsonPolicy(3, seededRandom(1));
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) counts[policy.choose(untouched)]!++;
    // Each about 1,000; five standard deviations are 5 * sqrt(3,000 / 3 * 2 / 3) = 129.
    for (const count of counts) expect(Math.abs(count - 1_000)).toBeLessThan(129);
  });

  it('follows the posteriors: an arm with many successes wins, one with many failures loses', () => {
    const policy = thompsonPolicy(3, seededRandom(2));
    for (let i = 0; i < 50; i++) {
      policy.observe!(0, 0);
      policy.observe!(1, 1);
      policy.observe!(2, i % 2);
    }
    const counts = [0, 0, 0];
    for (let i = 0; i < 200; i++) counts[policy.choose(untouched)]!++;
    // Beta(51, 1) against Beta(26, 26) and Beta(1, 51): arm 1's draw is below 0.9 with probability 0.005.
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBeGreaterThan(190);
  });

  it('makes the same choices from the same seed', () => {
    const run = () => {
      const policy = thompsonPolicy(3, seededRandom(9));
      return Array.from({ length: 100 }, (_, i) => {
        const arm = policy.choose(untouched);
        policy.observe!(arm, (i % 5) / 4);
        return arm;
      });
    };
    expect(run()).toEqual(run());
  });
});
