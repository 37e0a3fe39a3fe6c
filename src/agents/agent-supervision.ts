import type { AgentStatus } from '../../actors/agent.actor';
import { crashAgent, stopAgentWith, type AgentHandle } from './agent';
import type { AgentOrName } from './agent-context';
import type { Clock } from '../clock';
import { MezanError } from '../errors';
import { describeValue, expectKnownKeys, expectOneOf, expectOptionsObject, fail, MAX_TIMER_MS, orDefault } from '../internal/validate';
import type { Logger } from '../logger';

/** How a supervision group restarts its agents when one crashes. */
export type SupervisionStrategy = 'one-for-all' | 'rest-for-one';

/** Options of {@link Engine.supervise}. */
export interface SuperviseOptions {
  /**
   * `'one-for-all'`: when a member crashes, every other member is restarted too; `'rest-for-one'`:
   * the members after it in `agents` are.
   */
  strategy: SupervisionStrategy;
  /** The members, in order: running agents (handles or names), each in one group at most. */
  agents: readonly AgentOrName[];
  /**
   * Crashes of members allowed within the window; one more stops every member.
   * @default 3
   */
  maxRestarts?: number;
  /**
   * The window, in clock milliseconds.
   * @default 10000
   */
  withinMs?: number;
}

/** The defaults of {@link SuperviseOptions}. */
export const SUPERVISE_DEFAULTS = Object.freeze({ maxRestarts: 3, withinMs: 10_000 });

const SUPERVISE_OPTION_KEYS: Readonly<Record<keyof SuperviseOptions, true>> = { strategy: true, agents: true, maxRestarts: true, withinMs: true };
const STRATEGIES: readonly SupervisionStrategy[] = ['one-for-all', 'rest-for-one'];

/**
 * A supervision group of agents: on a member's own crash (not one the group caused), it restarts the
 * others (`one-for-all`) or those after it (`rest-for-one`) by crashing them in turn, so each fails
 * what it handles, keeps its mailbox and restarts as after any crash; past `maxRestarts` crashes
 * within `withinMs`, it stops every member. It hears of its members through their agent registry,
 * which forwards their state changes; it acts on them only by their events (`agent.crash`,
 * `agent.stop`). A member that stops leaves the group. Each member's own `restart` limit still
 * counts every restart it makes, the group's included.
 * @internal
 */
export class SupervisionGroup {
  readonly #strategy: SupervisionStrategy;
  readonly #members: AgentHandle[];
  readonly #maxRestarts: number;
  readonly #withinMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #last = new Map<AgentHandle, AgentStatus>();
  /** Members the group crashed itself: their restart is not a crash of theirs. */
  readonly #induced = new Set<AgentHandle>();
  #crashes: number[] = [];
  #stopping = false;

  constructor(strategy: SupervisionStrategy, members: AgentHandle[], limit: { maxRestarts: number; withinMs: number }, clock: Clock, logger: Logger) {
    this.#strategy = strategy;
    this.#members = members;
    this.#maxRestarts = limit.maxRestarts;
    this.#withinMs = limit.withinMs;
    this.#clock = clock;
    this.#logger = logger;
    for (const member of members) this.#last.set(member, member.status);
  }

  /** The members still in the group, in order. */
  get members(): readonly AgentHandle[] {
    return this.#members;
  }

  /** A member's state changed: a crash of its own restarts its siblings, or, past the limit, stops them all. */
  noticed(member: AgentHandle, status: AgentStatus): void {
    const before = this.#last.get(member);
    this.#last.set(member, status);
    if (status === 'stopped') {
      const index = this.#members.indexOf(member);
      if (index >= 0) this.#members.splice(index, 1);
      this.#last.delete(member);
      this.#induced.delete(member);
      return;
    }
    if (status !== 'restarting' || before === 'restarting' || this.#stopping) return;
    if (this.#induced.delete(member)) return;
    const now = this.#clock.now();
    this.#crashes = [...this.#crashes.filter((at) => now - at < this.#withinMs), now];
    const names = this.#members.map((handle) => handle.name);
    if (this.#crashes.length > this.#maxRestarts) {
      this.#logger.error('a supervision group crashed past its restart limit: every member stops', {
        agents: names,
        crashes: this.#crashes.length,
        withinMs: this.#withinMs,
      });
      this.#stopping = true;
      const reason = new MezanError(
        'E_AGENT_STOPPED',
        `Agent "${member.name}"'s group stopped after ${this.#crashes.length} crashes within ${this.#withinMs} ms`,
        {
          details: { agent: member.name, agents: names, crashes: this.#crashes.length, withinMs: this.#withinMs },
        },
      );
      for (const handle of [...this.#members]) stopAgentWith(handle, reason);
      return;
    }
    const index = this.#members.indexOf(member);
    const siblings = this.#strategy === 'one-for-all' ? this.#members.filter((handle) => handle !== member) : this.#members.slice(index + 1);
    const reason = new MezanError('E_AGENT_FAILED', `Restarted with its group (${this.#strategy}) after agent "${member.name}" crashed`, {
      details: { agent: member.name, strategy: this.#strategy },
    });
    for (const sibling of siblings) {
      const status = this.#last.get(sibling);
      if (status === 'restarting' || status === 'stopped') continue;
      this.#induced.add(sibling);
      crashAgent(sibling, reason);
    }
  }
}

/**
 * Checks the options of `engine.supervise`.
 * @param lookup - the running agent a handle or name stands for
 * @param grouped - whether an agent is in a group already
 * @throws {MezanError} `E_INVALID_OPTION` naming the option at fault
 * @internal
 */
export function resolveSuperviseOptions(
  options: unknown,
  lookup: (to: unknown) => AgentHandle | undefined,
  grouped: (handle: AgentHandle) => boolean,
): { readonly strategy: SupervisionStrategy; readonly members: AgentHandle[]; readonly maxRestarts: number; readonly withinMs: number } {
  expectOptionsObject('options', options);
  expectKnownKeys('', options, SUPERVISE_OPTION_KEYS);
  const given = options as SuperviseOptions;
  expectOneOf('strategy', given.strategy, STRATEGIES);
  if (!Array.isArray(given.agents) || given.agents.length === 0) fail('agents', 'a non-empty array of running agents or their names', given.agents);
  const members: AgentHandle[] = [];
  given.agents.forEach((to: unknown, index) => {
    const handle = lookup(to);
    if (handle === undefined) fail(`agents[${index}]`, 'a running agent of this engine, or its name', to);
    if (members.includes(handle)) fail(`agents[${index}]`, `an agent not listed before (${describeValue(handle.name)} is)`, to);
    if (grouped(handle)) fail(`agents[${index}]`, `an agent in no supervision group yet (${describeValue(handle.name)} is in one)`, to);
    members.push(handle);
  });
  const maxRestarts = orDefault(given.maxRestarts, SUPERVISE_DEFAULTS.maxRestarts);
  if (typeof maxRestarts !== 'number' || !Number.isInteger(maxRestarts) || maxRestarts < 0)
    fail('maxRestarts', 'a non-negative integer', maxRestarts);
  const withinMs = orDefault(given.withinMs, SUPERVISE_DEFAULTS.withinMs);
  if (typeof withinMs !== 'number' || !(withinMs > 0 && withinMs <= MAX_TIMER_MS))
    fail('withinMs', `a number of milliseconds above 0 and up to ${MAX_TIMER_MS}`, withinMs);
  return { strategy: given.strategy, members, maxRestarts, withinMs };
}
