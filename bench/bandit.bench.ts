// Bandit routing against known results: Bernoulli arms, the regret of each strategy over seeded runs,
// and the UCB1 bound of Auer, Cesa-Bianchi and Fischer (2002) it must stay under (issue 10).
import { performance } from 'node:perf_hooks';
import { REGRET_EXPERIMENT_DEFAULTS, runRegretExperiment, ucb1RegretBound, type StrategyRegret } from '../src/agents/bandit/regret-experiment';

/** What the bandit bench measured. */
export interface BanditResult {
  readonly armMeans: readonly number[];
  readonly pulls: number;
  readonly seeds: number;
  /** Auer et al.'s bound on UCB1's expected regret for these arms and pulls. */
  readonly ucb1Bound: number;
  readonly strategies: readonly StrategyRegret[];
  readonly wallMs: number;
}

/** Runs the regret experiment with its defaults (3 arms, 3,000 pulls, 20 seeds; a tenth of the pulls with `quick`). */
export function runBanditBench(quick: boolean, log: (line: string) => void): BanditResult {
  const { armMeans, seeds } = REGRET_EXPERIMENT_DEFAULTS;
  const pulls = quick ? REGRET_EXPERIMENT_DEFAULTS.pulls / 10 : REGRET_EXPERIMENT_DEFAULTS.pulls;
  const start = performance.now();
  const strategies = runRegretExperiment({ pulls });
  const wallMs = performance.now() - start;
  log(`bandits: ${strategies.map(({ label, meanRegret }) => `${label} ${meanRegret.toFixed(1)}`).join(', ')}`);
  return { armMeans, pulls, seeds, ucb1Bound: ucb1RegretBound(armMeans, pulls), strategies, wallMs };
}
