import type { Agent } from './agent';
import type { AgentContext } from './agent-context';
import type { AgentHost } from './agent-host';
import { createBandit } from './bandit/create-bandit';
import { containReward, type RouterOutcome } from './bandit/router-reward';
import { resolveRouterOptions, type RouterOptions, type RouterStats } from './router-options';

/**
 * A router, as {@link Engine.router} returns it: the agent itself (asked, sent to, stopped and
 * listed as any other), whose `stats()` adds each arm's pulls and mean reward.
 *
 * @typeParam M - the messages it takes
 * @typeParam R - what its arms reply
 */
export interface Router<M = unknown, R = unknown> extends Agent<M, R> {
  /** Its agent's statistics, and `arms: [{ name, pulls, meanReward }]` in arm order: a copy. */
  stats(): RouterStats;
}

/**
 * Spawns a router: an agent that sends each message to one of its arms, chosen by a bandit over the
 * rewards so far, and replies with that arm's reply. Each message ends in exactly one reward: the
 * arm's outcome `{ ok, value?, error?, durationMs }` (on the engine's clock) scored by the contained
 * reward function; a problem with the reward function is logged at `warn`, never thrown.
 *
 * @param host - the engine
 * @param options - see {@link RouterOptions}
 * @returns the router
 * @throws {MezanError} `E_INVALID_OPTION` for a bad option; `E_SHUTDOWN` once shutdown began
 * @internal
 */
export function spawnRouter<M, R>(host: AgentHost, options: RouterOptions<R>): Router<M, R> {
  const resolved = resolveRouterOptions(options, (name) => host.agent(name));
  const { arms, armNames, reward } = resolved;
  const bandit = createBandit(resolved.strategy, arms.length, host.random);
  const { clock } = host;
  const { name, concurrency, mailbox, restart } = options;
  const logger = host.logger.child({ agent: name });

  const route = async (message: M, ctx: AgentContext): Promise<R> => {
    const arm = bandit.choose();
    const startedAt = clock.now();
    let outcome: RouterOutcome<R>;
    try {
      const value = await ctx.ask<R>(arms[arm]!, message, { signal: ctx.signal });
      outcome = { ok: true, value, durationMs: clock.now() - startedAt };
    } catch (error) {
      // When the router's own ask timed out or was aborted, that (not the arm's E_CANCELLED) is how the arm's ask ended.
      outcome = { ok: false, error: ctx.signal.aborted ? (ctx.signal.reason as unknown) : error, durationMs: clock.now() - startedAt };
    }
    // Frozen: the reward function is user code, and must not change what the router answers.
    const scored = containReward(reward, Object.freeze(outcome));
    bandit.record(arm, scored.reward);
    if (scored.problem !== undefined)
      logger.warn('a router contained its reward function', { arm: armNames[arm], code: scored.problem.code, error: scored.problem.message });
    if (!outcome.ok) throw outcome.error;
    return outcome.value as R;
  };

  const agent = host.spawnAgent<M, R>({ name, receive: route, concurrency, mailbox, restart });
  const agentStats = agent.stats.bind(agent);
  const stats = (): RouterStats => ({
    ...agentStats(),
    arms: bandit.stats().map((arm, index) => ({ name: armNames[index]!, pulls: arm.pulls, meanReward: arm.meanReward })),
  });
  // The router is its agent's own handle, so `engine.agent(name)`, `engine.agents()` and a handler's
  // `ctx.ask(router)` all reach it; only its `stats` is its own.
  Object.defineProperty(agent, 'stats', { value: stats, enumerable: false, configurable: true, writable: false });
  return agent as Router<M, R>;
}
