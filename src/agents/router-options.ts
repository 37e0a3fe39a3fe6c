import type { AgentOrName } from './agent-context';
import type { AgentStats } from '../../actors/agent.actor';
import { LAYER_AGENT_OPTION_KEYS, type LayerAgentOptions } from './layer-agent-options';
import { resolveAgentList } from './agent-list-option';
import type { BanditStrategy } from './bandit/bandit-strategy';
import { resolveBanditStrategy } from './bandit/bandit-strategy';
import { defaultReward, type RewardFunction } from './bandit/router-reward';
import { expectFunction, expectKnownKeys, expectOptionsObject, fail, orDefault } from '../internal/validate';

/**
 * Options of {@link Engine.router}.
 *
 * @typeParam R - what the arms reply
 */
export interface RouterOptions<R = unknown> extends LayerAgentOptions {
  /**
   * The agents each ask may go to: running agents of this engine, or names (looked up at each ask).
   * Their names must differ: they name the arms in `stats().arms`.
   */
  arms: readonly AgentOrName[];
  /**
   * How the arm of an ask is chosen: `'ucb1'`, `'thompson'` or `{ type: 'epsilon-greedy', epsilon }`.
   * @default 'thompson'
   */
  strategy?: BanditStrategy;
  /**
   * Scores how an arm's ask ended with a number in [0, 1]; whatever it throws or returns is contained.
   * @default 1 for a reply, 0 for an error or a timeout
   */
  reward?: RewardFunction<R>;
}

/** One arm in a router's statistics. */
export interface RouterArmStats {
  /** The arm's agent name. */
  readonly name: string;
  /** Asks sent to it. */
  readonly pulls: number;
  /** The mean of the rewards recorded for it, in [0, 1]; 0 before the first. */
  readonly meanReward: number;
}

/** A router's statistics: its agent's, and each arm's, in arm order. */
export interface RouterStats extends AgentStats {
  /** Each arm's pulls and mean reward, in the order of `arms`. */
  readonly arms: RouterArmStats[];
}

/** {@link RouterOptions} checked, with the defaults filled in. @internal */
export interface ResolvedRouterOptions {
  readonly arms: readonly AgentOrName[];
  readonly armNames: readonly string[];
  readonly strategy: BanditStrategy;
  readonly reward: RewardFunction<unknown>;
}

/** The defaults of {@link RouterOptions}. */
export const ROUTER_DEFAULTS = Object.freeze({
  /** Thompson sampling: the lowest regret measured (docs/agents.md). */
  strategy: 'thompson' as BanditStrategy,
});

const ROUTER_OPTION_KEYS: Readonly<Record<keyof RouterOptions, true>> = { ...LAYER_AGENT_OPTION_KEYS, arms: true, strategy: true, reward: true };

/**
 * Checks a router's own options (its agent's, `name`, `concurrency`, `mailbox` and `restart`, are
 * checked by `spawnAgent`).
 *
 * @param options - what the caller passed
 * @param lookup - the engine's running agent of a name
 * @throws {MezanError} `E_INVALID_OPTION` naming the option at fault (an unknown key with the closest known one)
 * @internal
 */
export function resolveRouterOptions(options: unknown, lookup: (name: string) => unknown): ResolvedRouterOptions {
  expectOptionsObject('options', options);
  expectKnownKeys('', options, ROUTER_OPTION_KEYS);
  const given = options as RouterOptions;
  const { agents, names } = resolveAgentList('arms', given.arms, lookup, given.name);
  const duplicate = names.findIndex((name, index) => names.indexOf(name) !== index);
  if (duplicate !== -1) fail(`arms[${duplicate}]`, 'an arm of a name no other arm has', names[duplicate]);
  const strategy = orDefault(given.strategy, ROUTER_DEFAULTS.strategy);
  resolveBanditStrategy(strategy);
  const reward = orDefault(given.reward as RewardFunction<unknown> | undefined, defaultReward);
  expectFunction('reward', reward);
  return { arms: agents, armNames: names, strategy, reward };
}
