import { MezanError } from '../../errors';
import { didYouMean } from '../../internal/did-you-mean';
import { describeValue, expectKnownKeys, expectOneOf, fail, isOptionsObject } from '../../internal/validate';

/**
 * How a bandit chooses an arm from the rewards so far.
 *
 * - `'ucb1'`: the upper confidence bound of Auer, Cesa-Bianchi and Fischer (2002): each arm once,
 *   then the arm with the highest mean reward plus `sqrt(2 ln n / nᵢ)`.
 * - `'thompson'`: Thompson sampling over Beta(successes + 1, failures + 1) posteriors; a reward
 *   `r` in [0, 1] counts as a success with probability `r` (the Bernoulli trick of Agrawal and
 *   Goyal, 2012).
 * - `{ type: 'epsilon-greedy', epsilon }`: each arm once, then with probability `epsilon` an arm
 *   drawn uniformly, otherwise the arm with the highest mean reward.
 */
export type BanditStrategy = 'ucb1' | 'thompson' | EpsilonGreedyStrategy;

/** The ε-greedy strategy: explores with probability `epsilon`, exploits otherwise. */
export interface EpsilonGreedyStrategy {
  /** Always `'epsilon-greedy'`. */
  readonly type: 'epsilon-greedy';
  /** The probability of choosing an arm at random rather than the best so far, in [0, 1]. */
  readonly epsilon: number;
}

/** A {@link BanditStrategy} once checked: every strategy as an object with its `type`. */
export type ResolvedBanditStrategy = { readonly type: 'ucb1' } | { readonly type: 'thompson' } | EpsilonGreedyStrategy;

const STRATEGY_NAMES = ['ucb1', 'thompson'] as const;
const EPSILON_GREEDY_KEYS: Readonly<Record<keyof EpsilonGreedyStrategy, true>> = { type: true, epsilon: true };

/**
 * Checks a bandit strategy option.
 *
 * @param strategy - what the caller passed
 * @param option - the option's name, for the error (`strategy` unless given)
 * @returns the strategy as an object with its `type`, frozen
 * @throws {MezanError} `E_INVALID_OPTION` for an unknown strategy, an unknown key, or an `epsilon`
 *   that is not a number in [0, 1], naming the option and the value received
 */
export function resolveBanditStrategy(strategy: unknown, option = 'strategy'): ResolvedBanditStrategy {
  if (typeof strategy === 'string') {
    if (!(STRATEGY_NAMES as readonly string[]).includes(strategy)) failUnknownStrategy(option, strategy);
    return Object.freeze({ type: strategy as (typeof STRATEGY_NAMES)[number] });
  }
  if (!isOptionsObject(strategy)) failUnknownStrategy(option, strategy);
  const { type, epsilon } = strategy as Partial<EpsilonGreedyStrategy>;
  // The type first: `{ type: 'softmax', temperature }` is an unknown strategy, not an unknown key.
  expectOneOf(`${option}.type`, type, ['epsilon-greedy'] as const);
  expectKnownKeys(option, strategy, EPSILON_GREEDY_KEYS);
  if (typeof epsilon !== 'number' || !(epsilon >= 0 && epsilon <= 1)) fail(`${option}.epsilon`, 'a number in [0, 1]', epsilon);
  return Object.freeze({ type, epsilon });
}

/**
 * A short, stable name of a strategy for tables and logs: `ucb1`, `thompson`, `epsilon-greedy(0.1)`.
 *
 * @throws {MezanError} `E_INVALID_OPTION` as {@link resolveBanditStrategy} does
 */
export function banditStrategyLabel(strategy: BanditStrategy): string {
  const resolved = resolveBanditStrategy(strategy);
  return resolved.type === 'epsilon-greedy' ? `epsilon-greedy(${resolved.epsilon})` : resolved.type;
}

function failUnknownStrategy(option: string, received: unknown): never {
  const expected = `'ucb1', 'thompson' or { type: 'epsilon-greedy', epsilon }`;
  const hint = typeof received === 'string' ? didYouMean(received, [...STRATEGY_NAMES, 'epsilon-greedy']) : '';
  throw new MezanError('E_INVALID_OPTION', `Expected \`${option}\` to be ${expected}, got ${describeValue(received)}${hint}`, {
    details: { option, expected, received },
  });
}
