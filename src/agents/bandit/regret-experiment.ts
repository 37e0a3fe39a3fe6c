import { banditStrategyLabel, resolveBanditStrategy, type BanditStrategy } from './bandit-strategy';
import { createBandit } from './create-bandit';
import { seededRandom } from '../../random';
import { expectPositiveInteger, fail, orDefault } from '../../internal/validate';

/** The experiment's setting: Bernoulli arms, a number of pulls per run, runs over consecutive seeds. */
export interface RegretExperimentOptions {
  /**
   * The mean reward of each arm: arm `i` pays 1 with probability `armMeans[i]`, else 0.
   * @default [0.2, 0.5, 0.8]
   */
  readonly armMeans?: readonly number[];
  /**
   * Pulls in each run.
   * @default 3000
   */
  readonly pulls?: number;
  /**
   * Runs per strategy, with the seeds `firstSeed`, `firstSeed + 1`, …
   * @default 20
   */
  readonly seeds?: number;
  /**
   * The first seed.
   * @default 1
   */
  readonly firstSeed?: number;
  /**
   * The strategies compared, each over the same seeds.
   * @default ['ucb1', 'thompson', { type: 'epsilon-greedy', epsilon: 0.1 }]
   */
  readonly strategies?: readonly BanditStrategy[];
}

/** The defaults of {@link RegretExperimentOptions}: issue 10's experiment. */
export const REGRET_EXPERIMENT_DEFAULTS = Object.freeze({
  armMeans: Object.freeze([0.2, 0.5, 0.8]),
  pulls: 3_000,
  seeds: 20,
  firstSeed: 1,
  strategies: Object.freeze<BanditStrategy[]>(['ucb1', 'thompson', Object.freeze({ type: 'epsilon-greedy', epsilon: 0.1 })]),
});

/** How one strategy did over the runs of a {@link runRegretExperiment}. */
export interface StrategyRegret {
  /** The strategy as given. */
  readonly strategy: BanditStrategy;
  /** Its name for a table: `ucb1`, `thompson`, `epsilon-greedy(0.1)`. */
  readonly label: string;
  /** The mean over the runs of the regret of each run. */
  readonly meanRegret: number;
  /** The regret of each run, in seed order. */
  readonly regrets: readonly number[];
  /** The mean pulls of each arm over the runs, in arm order. */
  readonly meanPulls: readonly number[];
}

/**
 * Runs each strategy against Bernoulli arms over consecutive seeds and measures its regret: the sum
 * over the pulls of `μ* − μ(chosen arm)`, where `μ*` is the best arm's mean (the pseudo-regret, the
 * quantity the bound of Auer et al. is about: it does not count the luck of the reward draws). Each
 * pull is chosen, paid and recorded in turn. Seed `s` drives the bandit with `seededRandom(2s)` and
 * the arms' payouts with `seededRandom(2s + 1)`, so every strategy meets the same payout stream and a
 * run replays exactly.
 *
 * @param options - the arms, pulls, seeds and strategies; issue 10's experiment by default
 * @returns one {@link StrategyRegret} per strategy, in the order given
 * @throws {MezanError} `E_INVALID_OPTION` naming the option (`armMeans`, `pulls`, `seeds`,
 *   `firstSeed`, `strategies[i]`) and the value received
 * @example
 * ```ts
 * for (const { label, meanRegret } of runRegretExperiment()) console.log(label, meanRegret.toFixed(1));
 * ```
 */
export function runRegretExperiment(options: RegretExperimentOptions = {}): StrategyRegret[] {
  const armMeans = orDefault(options.armMeans, REGRET_EXPERIMENT_DEFAULTS.armMeans);
  expectArmMeans(armMeans);
  const pulls = orDefault(options.pulls, REGRET_EXPERIMENT_DEFAULTS.pulls);
  expectPositiveInteger('pulls', pulls);
  const seeds = orDefault(options.seeds, REGRET_EXPERIMENT_DEFAULTS.seeds);
  expectPositiveInteger('seeds', seeds);
  const firstSeed = orDefault(options.firstSeed, REGRET_EXPERIMENT_DEFAULTS.firstSeed);
  if (!Number.isSafeInteger(firstSeed)) fail('firstSeed', 'an integer', firstSeed);
  const strategies = orDefault(options.strategies, REGRET_EXPERIMENT_DEFAULTS.strategies);
  if (!Array.isArray(strategies)) fail('strategies', 'an array of bandit strategies', strategies);
  strategies.forEach((strategy, index) => resolveBanditStrategy(strategy, `strategies[${index}]`));
  return strategies.map((strategy) => {
    const regrets: number[] = [];
    const pullSums = new Array<number>(armMeans.length).fill(0);
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const run = runOnce(strategy, armMeans, pulls, seed);
      regrets.push(run.regret);
      run.pulls.forEach((count, arm) => (pullSums[arm]! += count));
    }
    return {
      strategy,
      label: banditStrategyLabel(strategy),
      meanRegret: regrets.reduce((sum, regret) => sum + regret, 0) / seeds,
      regrets,
      meanPulls: pullSums.map((sum) => sum / seeds),
    };
  });
}

/**
 * The bound of Auer, Cesa-Bianchi and Fischer (2002, theorem 1) on UCB1's expected regret after
 * `pulls` pulls of arms with rewards in [0, 1] and these means: `Σ 8 ln n / Δᵢ + (1 + π²/3) Σ Δᵢ`,
 * both sums over the arms below the best, `Δᵢ` the gap of arm `i` to the best mean.
 *
 * @param armMeans - each arm's mean reward
 * @param pulls - the number of pulls `n`
 * @returns the bound (0 when no arm is below the best)
 * @throws {MezanError} `E_INVALID_OPTION` for means not in [0, 1] or pulls not a positive integer
 */
export function ucb1RegretBound(armMeans: readonly number[], pulls: number): number {
  expectArmMeans(armMeans);
  expectPositiveInteger('pulls', pulls);
  const best = Math.max(...armMeans);
  let bound = 0;
  for (const mean of armMeans) {
    const gap = best - mean;
    if (gap > 0) bound += (8 * Math.log(pulls)) / gap + (1 + Math.PI ** 2 / 3) * gap;
  }
  return bound;
}

function runOnce(strategy: BanditStrategy, armMeans: readonly number[], pulls: number, seed: number): { regret: number; pulls: number[] } {
  const bandit = createBandit(strategy, armMeans.length, seededRandom(2 * seed));
  const payout = seededRandom(2 * seed + 1);
  for (let pull = 0; pull < pulls; pull++) {
    const arm = bandit.choose();
    bandit.record(arm, payout() < armMeans[arm]! ? 1 : 0);
  }
  const counts = bandit.stats().map((arm) => arm.pulls);
  const best = Math.max(...armMeans);
  // Σ pullsᵢ Δᵢ: the same sum as adding each pull's gap, with one rounding per arm.
  const regret = counts.reduce((sum, count, arm) => sum + count * (best - armMeans[arm]!), 0);
  return { regret, pulls: counts };
}

function expectArmMeans(armMeans: unknown): asserts armMeans is readonly number[] {
  if (!Array.isArray(armMeans) || armMeans.length === 0) fail('armMeans', 'a non-empty array of numbers in [0, 1]', armMeans);
  armMeans.forEach((mean: unknown, index) => {
    if (typeof mean !== 'number' || !(mean >= 0 && mean <= 1)) fail(`armMeans[${index}]`, 'a number in [0, 1]', mean);
  });
}
