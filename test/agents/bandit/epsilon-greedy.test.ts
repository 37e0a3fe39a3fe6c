import type { ArmTally } from '../../../src/agents/bandit/bandit-policy';
import { epsilonGreedyPolicy } from '../../../src/agents/bandit/epsilon-greedy';

const tally = (pulls: number, rewardSum: number): ArmTally => ({ pulls, rewarded: pulls, rewardSum });

/** A source that returns `values` in turn, and counts the draws. */
function scripted(...values: number[]): { random: () => number; draws: () => number } {
  let index = 0;
  return { random: () => values[index++ % values.length]!, draws: () => index };
}

describe('epsilonGreedyPolicy', () => {
  const tried = [tally(4, 1), tally(4, 3), tally(4, 3)];

  it('plays each arm once, in order, without drawing', () => {
    const source = scripted(0);
    const policy = epsilonGreedyPolicy(1, source.random);
    expect(policy.choose([tally(0, 0), tally(0, 0)])).toBe(0);
    expect(policy.choose([tally(1, 0), tally(0, 0)])).toBe(1);
    expect(source.draws()).toBe(0);
  });

  it('exploits the highest mean, the lowest index among equals, when the draw is not below epsilon', () => {
    const source = scripted(0.1);
    expect(epsilonGreedyPolicy(0.1, source.random).choose(tried)).toBe(1);
    expect(source.draws()).toBe(1);
  });

  it('explores with a second draw, uniform over the arms, when the first is below epsilon', () => {
    expect(epsilonGreedyPolicy(0.1, scripted(0.05, 0.1).random).choose(tried)).toBe(0);
    expect(epsilonGreedyPolicy(0.1, scripted(0.05, 0.5).random).choose(tried)).toBe(1);
    expect(epsilonGreedyPolicy(0.1, scripted(0.05, 0.9).random).choose(tried)).toBe(2);
  });

  it('never explores with epsilon 0 and always with epsilon 1', () => {
    expect(epsilonGreedyPolicy(0, scripted(0).random).choose(tried)).toBe(1);
    expect(epsilonGreedyPolicy(1, scripted(0.999, 0).random).choose(tried)).toBe(0);
  });

  it.each([NaN, 1, 3, -0.5])('gives an arm in range when the source strays, as %p', (value) => {
    const arm = epsilonGreedyPolicy(1, scripted(0, value).random).choose(tried);
    expect(arm >= 0 && arm < tried.length).toBe(true);
  });
});
