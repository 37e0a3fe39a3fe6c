import type { Agent } from './agent';
import type { AskOptions } from './agent-options';
import type { Logger } from '../logger';
import type { TaskHandle } from '../task-handle';
import type { Lease, TaskFunction, TaskOptions } from '../task-options';

/** An agent, or the name of a running one. */
export type AgentOrName = Agent | string;

/** What a handler gets with each message. */
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
  /**
   * Takes `units` (default 1) of one of the engine's pools, waiting in its FIFO queue if need be;
   * while it waits, the wait is an edge of the wait-for graph (from this message). What it holds is
   * given back by `lease.release()` (or `ctx.release(lease)`), or at the latest when the handler
   * ends, whatever way.
   * @returns the lease; rejects with `E_INVALID_OPTION` (unknown pool, units outside 1..capacity),
   * the signal's reason once it aborts, or `E_CANCELLED` when the handler ended first
   */
  acquire(pool: string, units?: number): Promise<Lease>;
  /** Gives a lease's units back (as `lease.release()`); idempotent. @throws {MezanError} `E_INVALID_OPTION` for what is not a lease */
  release(lease: Lease): void;
  /** Submits a task to the engine, as `engine.submit` does (with the same checks). */
  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T>;
  /** Submits a named task (the engine's `tasks` option or `engine.define`), as `engine.submit(name, options)` does. */
  submit<T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
  /**
   * Waits for a task's result; while it waits, this message awaits the task in the wait-for graph,
   * so a cycle through it (the task waiting, in turn, for this agent) is found.
   * @returns the task's result; rejects as its `result` does, or with the signal's reason once it aborts
   */
  await<T>(handle: TaskHandle<T>): Promise<T>;
}

/**
 * An agent's handler: handles one message and returns (or resolves to) the reply. What it throws
 * (or rejects with) fails that message's ask with `E_AGENT_FAILED`, and the agent goes on.
 *
 * @typeParam M - the messages it takes
 * @typeParam R - what it replies
 */
export type AgentHandler<M = unknown, R = unknown> = (message: M, ctx: AgentContext) => R | PromiseLike<R>;
