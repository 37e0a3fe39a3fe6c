import type { AgentOrName } from './agent-context';
import { LAYER_AGENT_OPTION_KEYS, type LayerAgentOptions } from './layer-agent-options';
import { resolveAgentList, resolveAgentOrName } from './agent-list-option';
import { expectKnownKeys, expectOneOf, expectOptionalTimerMs, expectOptionsObject, orDefault } from '../internal/validate';

/** What a team does when a member fails or passes `memberTimeoutMs`. */
export type MemberFailureMode = 'placeholder' | 'fail';

/**
 * Options of {@link Engine.team}.
 */
export interface TeamOptions extends LayerAgentOptions {
  /** The agents every message goes to at once: running agents of this engine, or names (looked up at each ask). */
  members: readonly AgentOrName[];
  /** The agent asked with `{ message, results }` once the members are done; its reply is the team's. */
  synthesizer: AgentOrName;
  /**
   * How long each member may take, in clock milliseconds; past it, its result is `ok: false` with
   * `E_TIMEOUT`.
   * @default no limit
   */
  memberTimeoutMs?: number;
  /**
   * How long a whole ask may take (the members and the synthesizer), in clock milliseconds; past it,
   * the ask fails with `E_TIMEOUT` as its cause, and the asks still out are withdrawn.
   * @default no limit
   */
  timeoutMs?: number;
  /**
   * `'placeholder'`: a member that fails (or times out) gives a result with `ok: false` and its
   * `error`, and the synthesizer hears it with the others; `'fail'`: the first member that fails
   * fails the whole ask, with its error as the cause, and the others' asks are withdrawn.
   * @default 'placeholder'
   */
  onMemberFailure?: MemberFailureMode;
}

/**
 * How one member answered, as the synthesizer hears it.
 *
 * @typeParam V - what the members reply
 */
export interface TeamMemberResult<V = unknown> {
  /** The member's name. */
  readonly agent: string;
  /** `true` when it replied, `false` when it failed or passed `memberTimeoutMs`. */
  readonly ok: boolean;
  /** Its reply, when `ok`. */
  readonly value?: V;
  /** Why it gave none, when not `ok` (`E_AGENT_FAILED`, `E_TIMEOUT`...). */
  readonly error?: unknown;
  /** How long its ask took, in the engine clock's milliseconds. */
  readonly durationMs: number;
}

/**
 * What a team's synthesizer is asked: the message and the members' results, in member order.
 *
 * @typeParam M - the team's messages
 * @typeParam V - what the members reply
 */
export interface TeamSynthesis<M = unknown, V = unknown> {
  /** The message the team was asked. */
  readonly message: M;
  /** Each member's result, in the order of `members`. */
  readonly results: readonly TeamMemberResult<V>[];
}

/** {@link TeamOptions} checked, with the defaults filled in. @internal */
export interface ResolvedTeamOptions {
  readonly members: readonly AgentOrName[];
  readonly memberNames: readonly string[];
  readonly synthesizer: AgentOrName;
  readonly memberTimeoutMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly onMemberFailure: MemberFailureMode;
}

/** The defaults of {@link TeamOptions}. */
export const TEAM_DEFAULTS = Object.freeze({
  /** A failed member is a result with `ok: false`, as the deep-think pattern wants. */
  onMemberFailure: 'placeholder' as MemberFailureMode,
});

const TEAM_OPTION_KEYS: Readonly<Record<keyof TeamOptions, true>> = {
  ...LAYER_AGENT_OPTION_KEYS,
  members: true,
  synthesizer: true,
  memberTimeoutMs: true,
  timeoutMs: true,
  onMemberFailure: true,
};
const FAILURE_MODES: readonly MemberFailureMode[] = ['placeholder', 'fail'];

/**
 * Checks a team's own options (its agent's, `name`, `concurrency`, `mailbox` and `restart`, are
 * checked by `spawnAgent`).
 *
 * @param options - what the caller passed
 * @param lookup - the engine's running agent of a name
 * @throws {MezanError} `E_INVALID_OPTION` naming the option at fault (an unknown key with the closest known one)
 * @internal
 */
export function resolveTeamOptions(options: unknown, lookup: (name: string) => unknown): ResolvedTeamOptions {
  expectOptionsObject('options', options);
  expectKnownKeys('', options, TEAM_OPTION_KEYS);
  const given = options as TeamOptions;
  const { agents, names } = resolveAgentList('members', given.members, lookup, given.name);
  const synthesizer = resolveAgentOrName('synthesizer', given.synthesizer, lookup, given.name);
  const onMemberFailure = orDefault(given.onMemberFailure, TEAM_DEFAULTS.onMemberFailure);
  expectOneOf('onMemberFailure', onMemberFailure, FAILURE_MODES);
  return {
    members: agents,
    memberNames: names,
    synthesizer,
    memberTimeoutMs: optionalTimeout('memberTimeoutMs', given.memberTimeoutMs),
    timeoutMs: optionalTimeout('timeoutMs', given.timeoutMs),
    onMemberFailure,
  };
}

function optionalTimeout(option: string, value: unknown): number | undefined {
  expectOptionalTimerMs(option, value);
  return value;
}
