import { meanReward, type ArmTally, type BanditPolicy } from './bandit-policy';
import { resolveBanditStrategy, type BanditStrategy, type ResolvedBanditStrategy } from './bandit-strategy';
import { containRandom } from './contained-random';
import { epsilonGreedyPolicy } from './epsilon-greedy';
import { thompsonPolicy } from './thompson-sampling';
import { ucb1Policy } from './ucb1';
import type { RandomSource } from '../../random';
import { expectFunction, expectPositiveInteger, fail } from '../../internal/validate';

/** One arm's statistics, as {@link Bandit.stats} reports them. */
export interface BanditArmStats {
  /** Times the arm was chosen. */
  readonly pulls: number;
  /** Of those, the pulls whose reward has not been recorded yet. */
  readonly pending: number;
  /** The mean of the rewards recorded for the arm, in [0, 1]; 0 before the first. */
  readonly meanReward: number;
}

/** A multi-armed bandit: chooses arms by its strategy and learns from the rewards recorded. */
export interface Bandit {
  /** The strategy, checked. */
  readonly strategy: ResolvedBanditStrategy;
  /** The number of arms. */
  readonly armCount: number;
  /**
   * Chooses the arm to pull next, counts the pull, and returns the arm's index (from 0). Its reward
   * is expected later, through {@link Bandit.record}; several pulls may await theirs at once.
   */
  choose(): number;
  /**
   * Records the reward of a pull of `arm` that awaits one.
   * @throws {MezanError} `E_INVALID_OPTION` (option `arm`) for an arm out of range or with no pull
   *   awaiting a reward; (option `reward`) for a reward that is not a number in [0, 1]
   */
  record(arm: number, reward: number): void;
  /** Each arm's statistics, in arm order: a copy, made anew at each call. */
  stats(): BanditArmStats[];
}

/**
 * Makes a bandit over `armCount` arms that chooses by `strategy` and draws from `random` (give it
 * the engine's seeded source, and the same seed replays the same choices). A draw that throws or
 * falls outside [0, 1) counts as 0: a broken source never makes `choose` throw.
 *
 * @param strategy - `'ucb1'`, `'thompson'` or `{ type: 'epsilon-greedy', epsilon }`; see {@link BanditStrategy}
 * @param armCount - the number of arms, a positive integer
 * @param random - a uniform source on [0, 1), such as `seededRandom(seed)`
 * @throws {MezanError} `E_INVALID_OPTION` naming the option (`strategy`, `strategy.epsilon`,
 *   `armCount`, `random`) and the value received
 * @example
 * ```ts
 * const bandit = createBandit('thompson', 3, seededRandom(7));
 * const arm = bandit.choose();
 * bandit.record(arm, 1); // the arm did well
 * bandit.stats();        // [{ pulls, pending, meanReward }, ...]
 * ```
 */
export function createBandit(strategy: BanditStrategy, armCount: number, random: RandomSource): Bandit {
  const resolved = resolveBanditStrategy(strategy);
  expectPositiveInteger('armCount', armCount);
  expectFunction('random', random);
  return new MultiArmedBandit(resolved, armCount, makePolicy(resolved, armCount, containRandom(random)));
}

function makePolicy(strategy: ResolvedBanditStrategy, armCount: number, random: RandomSource): BanditPolicy {
  switch (strategy.type) {
    case 'ucb1':
      return ucb1Policy();
    case 'thompson':
      return thompsonPolicy(armCount, random);
    case 'epsilon-greedy':
      return epsilonGreedyPolicy(strategy.epsilon, random);
  }
}

class MultiArmedBandit implements Bandit {
  readonly strategy: ResolvedBanditStrategy;
  readonly armCount: number;
  readonly #policy: BanditPolicy;
  readonly #arms: ArmTally[];

  constructor(strategy: ResolvedBanditStrategy, armCount: number, policy: BanditPolicy) {
    this.strategy = strategy;
    this.armCount = armCount;
    this.#policy = policy;
    this.#arms = Array.from({ length: armCount }, () => ({ pulls: 0, rewarded: 0, rewardSum: 0 }));
  }

  choose(): number {
    const arm = this.#policy.choose(this.#arms);
    this.#arms[arm]!.pulls++;
    return arm;
  }

  record(arm: number, reward: number): void {
    const last = this.armCount - 1;
    if (typeof arm !== 'number' || !Number.isInteger(arm) || arm < 0 || arm > last) fail('arm', `an integer from 0 to ${last}`, arm);
    if (typeof reward !== 'number' || !(reward >= 0 && reward <= 1)) fail('reward', 'a number in [0, 1]', reward);
    const tally = this.#arms[arm]!;
    if (tally.rewarded >= tally.pulls) fail('arm', 'an arm with a pull awaiting its reward', arm);
    tally.rewarded++;
    tally.rewardSum += reward;
    this.#policy.observe?.(arm, reward);
  }

  stats(): BanditArmStats[] {
    return this.#arms.map((tally) => ({ pulls: tally.pulls, pending: tally.pulls - tally.rewarded, meanReward: meanReward(tally) }));
  }
}
