import type { Agent } from './agent';
import type { AgentContext, AgentOrName } from './agent-context';
import type { AgentHost } from './agent-host';
import { resolveTeamOptions, type ResolvedTeamOptions, type TeamMemberResult, type TeamOptions, type TeamSynthesis } from './team-options';
import type { Clock } from '../clock';
import { MezanError } from '../errors';

/**
 * Spawns a team: an agent that, for each message, asks every member at once, collects their results
 * in member order, asks the synthesizer with `{ message, results }` and replies with its answer (the
 * deep-think pattern: an Analyzer, an Optimizer and a Validator, then a Synthesizer).
 *
 * @param host - the engine
 * @param options - see {@link TeamOptions}
 * @returns the team, an agent like any other
 * @throws {MezanError} `E_INVALID_OPTION` for a bad option; `E_SHUTDOWN` once shutdown began
 * @internal
 */
export function spawnTeam<M, R>(host: AgentHost, options: TeamOptions): Agent<M, R> {
  const resolved = resolveTeamOptions(options, (name) => host.agent(name));
  const { name, concurrency, mailbox, restart } = options;
  const { clock } = host;
  const think = async (message: M, ctx: AgentContext): Promise<R> => {
    // One signal for everything this ask starts: aborted by the asker, the whole-ask timeout or a
    // member's failure under 'fail'. Every other way out comes after all it started has settled.
    const controller = new AbortController();
    const abort = (): void => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', abort, { once: true });
    if (ctx.signal.aborted) abort();
    const timer =
      resolved.timeoutMs === undefined
        ? undefined
        : clock.setTimeout(() => controller.abort(teamTimeout(name, resolved.timeoutMs!)), resolved.timeoutMs);
    const aborted = whenAborted(controller.signal);
    try {
      const results = await Promise.race([askMembers(resolved, message, ctx, controller, clock), aborted]);
      const synthesis: TeamSynthesis<M> = { message, results };
      return await Promise.race([ctx.ask<R>(resolved.synthesizer, synthesis, { signal: controller.signal }), aborted]);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      ctx.signal.removeEventListener('abort', abort);
    }
  };
  return host.spawnAgent<M, R>({ name, receive: think, concurrency, mailbox, restart });
}

/** Asks every member at once; resolves with their results in member order, or rejects with the first failure under 'fail'. */
function askMembers(
  team: ResolvedTeamOptions,
  message: unknown,
  ctx: AgentContext,
  controller: AbortController,
  clock: Clock,
): Promise<TeamMemberResult[]> {
  const { members, memberNames, memberTimeoutMs } = team;
  return new Promise((resolve, reject) => {
    const results: TeamMemberResult[] = new Array(members.length);
    let left = members.length;
    const settle = (index: number, result: TeamMemberResult): void => {
      results[index] = result;
      if (--left === 0) resolve(results);
    };
    members.forEach((member: AgentOrName, index) => {
      const agent = memberNames[index]!;
      const startedAt = clock.now();
      ctx.ask(member, message, { timeoutMs: memberTimeoutMs, signal: controller.signal }).then(
        (value) => settle(index, { agent, ok: true, value, durationMs: clock.now() - startedAt }),
        (error: unknown) => {
          if (team.onMemberFailure === 'fail') {
            reject(error);
            controller.abort(error);
          } else settle(index, { agent, ok: false, error, durationMs: clock.now() - startedAt });
        },
      );
    });
  });
}

/** A promise that rejects with `signal`'s reason once it aborts, and is never left unhandled. */
function whenAborted(signal: AbortSignal): Promise<never> {
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  promise.catch(() => undefined);
  return promise;
}

function teamTimeout(team: string, timeoutMs: number): MezanError {
  return new MezanError('E_TIMEOUT', `Team "${team}" did not answer within ${timeoutMs} ms`, { details: { agent: team, timeoutMs } });
}
