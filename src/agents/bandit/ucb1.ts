import { argmax, firstUnpulledArm, type ArmTally, type BanditPolicy } from './bandit-policy';

/**
 * UCB1 (Auer, Cesa-Bianchi and Fischer, "Finite-time Analysis of the Multiarmed Bandit Problem",
 * Machine Learning 47, 2002): each arm once, then the arm maximizing `meanᵢ + sqrt(2 ln n / nᵢ)`,
 * where `nᵢ` is the arm's pulls and `n` the pulls of all arms. It draws nothing from the random source.
 *
 * Played one pull at a time, this is UCB1 exactly. When pulls await their rewards, a pending pull
 * already counts in `nᵢ` (its bonus shrinks, so pulls made at once spread over the arms rather than
 * all go to one), and an arm with no reward yet is valued at the highest reward, 1 (optimism).
 * @internal
 */
export function ucb1Policy(): BanditPolicy {
  return {
    choose(arms: readonly ArmTally[]): number {
      const unpulled = firstUnpulledArm(arms);
      if (unpulled >= 0) return unpulled;
      let total = 0;
      for (const tally of arms) total += tally.pulls;
      const twoLogTotal = 2 * Math.log(total);
      return argmax(arms.length, (arm) => {
        const tally = arms[arm]!;
        const mean = tally.rewarded === 0 ? 1 : tally.rewardSum / tally.rewarded;
        return mean + Math.sqrt(twoLogTotal / tally.pulls);
      });
    },
  };
}
