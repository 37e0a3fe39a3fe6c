import type { Agent } from './agent';
import type { AskOptions } from './agent-options';
import type { Logger } from '../logger';

/** An agent, or the name of a running one. */
export type AgentOrName = Agent | string;

/**
 * What a handler gets with each message. `submit`, `await`, `acquire` and `release` (tasks and pools
 * from an agent) are not there yet.
 */
export interface AgentContext {
  /** The agent handling the message. */
  readonly self: Agent;
  /** The name of the agent that sent or asked it; `undefined` when it came from outside any agent. */
  readonly from: string | undefined;
  /**
   * Aborted when nobody waits for this message's reply any more (its ask timed out or was aborted)
   * or the agent stops, crashes or is shut down; its reason is the error.
   */
  readonly signal: AbortSignal;
  /** The engine's logger, with the agent's name. */
  readonly logger: Logger;
  /**
   * Waits `ms` milliseconds of the engine's clock.
   * @returns a promise that rejects with the signal's reason if the signal aborts first, and with
   * `E_INVALID_OPTION` for a bad `ms`
   */
  sleep(ms: number): Promise<void>;
  /**
   * Sends a message to another agent (or to itself), which sees this agent as `from`.
   * @throws {MezanError} `E_AGENT_STOPPED` when no running agent has that name
   */
  send(to: AgentOrName, message: unknown): void;
  /**
   * Asks another agent and waits for its reply, as {@link Agent.ask} does.
   * @returns the reply; rejects as {@link Agent.ask} does
   */
  ask<R = unknown>(to: AgentOrName, message: unknown, options?: AskOptions): Promise<R>;
}

/**
 * An agent's handler: handles one message and returns (or resolves to) the reply. What it throws
 * (or rejects with) fails that message's ask with `E_AGENT_FAILED`, and the agent goes on.
 *
 * @typeParam M - the messages it takes
 * @typeParam R - what it replies
 */
export type AgentHandler<M = unknown, R = unknown> = (message: M, ctx: AgentContext) => R | PromiseLike<R>;
