import { argmax, firstUnpulledArm, meanReward, type ArmTally, type BanditPolicy } from './bandit-policy';
import type { RandomSource } from '../../random';

/**
 * ε-greedy (Sutton and Barto, "Reinforcement Learning: An Introduction", section 2.2): each arm
 * once, then with probability `epsilon` an arm drawn uniformly (one draw to decide, one to pick),
 * otherwise the arm with the highest mean reward, the lowest index among equals.
 *
 * @param epsilon - the probability of exploring, in [0, 1] (checked by the caller)
 * @param random - the engine's random source
 * @internal
 */
export function epsilonGreedyPolicy(epsilon: number, random: RandomSource): BanditPolicy {
  return {
    choose(arms: readonly ArmTally[]): number {
      const unpulled = firstUnpulledArm(arms);
      if (unpulled >= 0) return unpulled;
      if (random() < epsilon) {
        const drawn = Math.floor(random() * arms.length);
        // A source that strays out of [0, 1) must still give an arm.
        return drawn >= 0 && drawn < arms.length ? drawn : 0;
      }
      return argmax(arms.length, (arm) => meanReward(arms[arm]!));
    },
  };
}
