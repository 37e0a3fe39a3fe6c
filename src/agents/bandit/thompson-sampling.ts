import { argmax, type ArmTally, type BanditPolicy } from './bandit-policy';
import { sampleBeta } from './beta-distribution';
import type { RandomSource } from '../../random';

/**
 * Thompson sampling for Bernoulli rewards (Thompson, 1933; analysed by Agrawal and Goyal, "Analysis
 * of Thompson Sampling for the Multi-armed Bandit Problem", COLT 2012): each arm's posterior is
 * Beta(successes + 1, failures + 1); a choice draws once from each and takes the highest draw.
 *
 * A reward `r` in [0, 1] is made a Bernoulli trial by Agrawal and Goyal's trick: it counts as a
 * success with probability `r`, from one draw of the same source (a reward of exactly 0 or 1 needs
 * no draw). Pulls awaiting their rewards leave the posteriors as they are, so choices made at once
 * still spread by the draws.
 *
 * @param armCount - the number of arms (checked by the caller)
 * @param random - the engine's random source
 * @internal
 */
export function thompsonPolicy(armCount: number, random: RandomSource): BanditPolicy {
  const successes = new Array<number>(armCount).fill(0);
  const failures = new Array<number>(armCount).fill(0);
  return {
    choose(arms: readonly ArmTally[]): number {
      return argmax(arms.length, (arm) => sampleBeta(successes[arm]! + 1, failures[arm]! + 1, random));
    },
    observe(arm: number, reward: number): void {
      if (isBernoulliSuccess(reward, random)) successes[arm]!++;
      else failures[arm]!++;
    },
  };
}

/**
 * The Bernoulli trick of Agrawal and Goyal: whether a reward `r` in [0, 1] counts as a success, which
 * it does with probability `r`, from one draw of `random` (none for a reward of exactly 0 or 1).
 * @internal
 */
export function isBernoulliSuccess(reward: number, random: RandomSource): boolean {
  return reward === 1 || (reward > 0 && random() < reward);
}
