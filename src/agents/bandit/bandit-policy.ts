/**
 * What a bandit knows of one arm: how often it was chosen and the rewards recorded for it. A pull is
 * counted when the arm is chosen and its reward may come later (a router's ask in flight), so
 * `rewarded` may lag behind `pulls`.
 * @internal
 */
export interface ArmTally {
  /** Times the arm was chosen. */
  pulls: number;
  /** Rewards recorded for it (at most `pulls`). */
  rewarded: number;
  /** The sum of those rewards, each in [0, 1]. */
  rewardSum: number;
}

/**
 * A strategy at work over a bandit's tallies: `choose` reads them (and may draw from the random
 * source); `observe`, when the strategy keeps more than the tallies, hears each reward recorded.
 * @internal
 */
export interface BanditPolicy {
  /** The index of the arm to pull next; always an index of `arms`, whatever the random source returns. */
  choose(arms: readonly ArmTally[]): number;
  /** Hears the reward recorded for `arm`, a number in [0, 1], after its tally was updated. */
  observe?(arm: number, reward: number): void;
}

/** The mean of the rewards recorded for an arm, or 0 before the first. @internal */
export function meanReward(tally: ArmTally): number {
  return tally.rewarded === 0 ? 0 : tally.rewardSum / tally.rewarded;
}

/** The lowest index of an arm never chosen, or -1 when every arm was. @internal */
export function firstUnpulledArm(arms: readonly ArmTally[]): number {
  return arms.findIndex((tally) => tally.pulls === 0);
}

/**
 * The index of the arm with the highest `score`, the lowest index among equals (so ties are broken
 * the same way in every run); a score that is `NaN` never wins, and arm 0 is returned if none is a number.
 * @internal
 */
export function argmax(count: number, score: (arm: number) => number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let arm = 0; arm < count; arm++) {
    const value = score(arm);
    if (value > bestScore) {
      best = arm;
      bestScore = value;
    }
  }
  return best;
}
