import type { MezanError } from './errors';
import type { Logger } from './logger';
import type { TerminalTaskStatus } from './task-status';
import type { TaskHandle } from './task-handle';
import type { Agent } from './agents/agent';
import type { AskOptions } from './agents/agent-options';
import type { TransferListItem } from 'node:worker_threads';

/**
 * What a task function receives: its identity, its attempt, an abort signal, and clock-driven helpers.
 */
export interface TaskContext {
  /** The task's id. */
  readonly id: string;
  /** The task's name (its id when none was given). */
  readonly name: string;
  /** The attempt number, starting at 1; a retry increments it. */
  readonly attempt: number;
  /** The task's `meta` option, untouched. */
  readonly meta: unknown;
  /** The task's `input` option, untouched: the data it works on. */
  readonly input: unknown;
  /**
   * How each dependency ended, in `dependsOn` order (empty for a task without dependencies). A task
   * runs once every dependency completed, or, for a dependency with `allow: 'settled'`, once it
   * ended in any way: then its outcome here says how.
   */
  readonly dependencies: readonly DependencyOutcome[];
  /** Aborts when the task is cancelled, times out, or the engine shuts down. */
  readonly signal: AbortSignal;
  /** A logger whose lines carry the task's id, name and attempt. */
  readonly logger: Logger;
  /**
   * Reports progress: `fraction` in `[0, 1]` and an optional message (a string); emitted as
   * `task.progress`.
   * @throws {MezanError} `E_INVALID_OPTION` for a fraction out of range or a message that is not a string
   */
  progress(fraction: number, message?: string): void;
  /**
   * Waits `ms` milliseconds of the engine's clock. Rejects with the signal's reason when the task is
   * aborted meanwhile.
   */
  sleep(ms: number): Promise<void>;
  /**
   * Takes `units` of a resource pool, waiting in its FIFO queue if need be. The lease is released by
   * `lease.release()` (idempotent) or, at the latest, when the task settles.
   * @throws rejects (it never throws) with `E_INVALID_OPTION` (unknown resource, units outside 1..capacity),
   *   `E_RESOURCE_TIMEOUT` (after `timeoutMs`), `E_LOCK_ORDER` (a rank violation under
   *   `lockOrder: 'enforce'`), `E_DEADLOCK` (this task was chosen as a deadlock victim)
   */
  acquire(resource: string, options?: AcquireOptions): Promise<Lease>;
  /** Submits a child task (its parent is this task); same options, and the same checks, as `engine.submit`. */
  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T>;
  /**
   * Submits a named task (defined by the engine's `tasks` option or `engine.define`) as a child of
   * this task, as `engine.submit(name, options)` does.
   * @throws {MezanError} `E_UNKNOWN_TASK` for a name no task is defined as
   */
  submit<T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
  /**
   * Waits for another task's result. While it waits, this task keeps its worker slot and the
   * supervisor records the wait, so a cycle of waits is detected as a deadlock.
   * @throws rejects (it never throws) as the awaited task's `result` does, with `E_TIMEOUT` when
   *   `timeoutMs` passes first (the awaited task goes on), with `E_DEADLOCK` when this task is the
   *   victim, or with `E_INVALID_OPTION` for a bad handle or options
   */
  await<T>(handle: TaskHandle<T>, options?: AwaitOptions): Promise<T>;
  /**
   * Asks an agent (its handle, or a running agent's name) and waits for its reply, as `agent.ask`
   * does; the agent sees this task's id as `ctx.from`. While it waits, this task keeps its worker slot
   * and waits for the agent in the wait-for graph, so a cycle through the agent (its handler waiting
   * for a pool this task holds, say) is detected as a deadlock. Aborting the task withdraws the ask.
   * @throws rejects (it never throws) as `agent.ask` does: `E_AGENT_FAILED`, `E_MAILBOX_FULL`,
   *   `E_TIMEOUT`, `E_CANCELLED`, `E_AGENT_STOPPED` (also for a name no running agent has),
   *   `E_DEADLOCK` (this ask was chosen to break a deadlock), `E_INVALID_OPTION`
   */
  ask<R = unknown>(agent: Agent | string, message: unknown, options?: AskOptions): Promise<R>;
}

/** Options of {@link TaskContext.await}. */
export interface AwaitOptions {
  /** Gives up with `E_TIMEOUT` after this many milliseconds; the awaited task is not affected. @default none */
  timeoutMs?: number;
}

/** How a dependency ended, as {@link TaskContext.dependencies} lists it. */
export interface DependencyOutcome {
  /** The dependency's id. */
  readonly id: string;
  /** The dependency's name. */
  readonly name: string;
  /** Its terminal status: `completed`, `failed`, `cancelled`, `timeout`, `deadlock` or `rejected`. */
  readonly status: TerminalTaskStatus;
  /** Its function's value, when `completed`. */
  readonly value?: unknown;
  /** Why it did not complete, otherwise. */
  readonly error?: MezanError;
}

/**
 * A dependency that need not succeed: `allow: 'settled'` runs the dependant whatever the
 * dependency's outcome (see {@link TaskContext.dependencies}); `'completed'` is the default rule.
 */
export interface DependencySpec {
  /** The dependency: a handle, or the id of an unfinished task (in `submitGraph`, a graph key). */
  readonly task: TaskHandle<unknown> | string;
  /** @default 'completed' */
  readonly allow?: 'completed' | 'settled';
}

/** One entry of `dependsOn`: a handle, an id, or a {@link DependencySpec}. */
export type Dependency = TaskHandle<unknown> | string | DependencySpec;

/** Options of {@link TaskContext.acquire}. */
export interface AcquireOptions {
  /** How many units. @default 1 */
  units?: number;
  /** Gives up with `E_RESOURCE_TIMEOUT` after this many milliseconds of waiting. @default none */
  timeoutMs?: number;
}

/** Units of a resource held by a task, until released. */
export interface Lease {
  /** The lease's id, unique in its pool. */
  readonly leaseId: string;
  /** The pool. */
  readonly resource: string;
  /** How many units it holds. */
  readonly units: number;
  /** Gives the units back; calling it again does nothing. */
  release(): void;
}

/** The code a task runs. It may be synchronous or return a promise. */
export type TaskFunction<T = unknown> = (context: TaskContext) => T | PromiseLike<T>;

/** How delays between attempts grow. */
export type BackoffKind = 'fixed' | 'exponential';

/** When and how a failed task is tried again. */
export interface RetryOptions {
  /** How many retries after the first attempt. @default 0 */
  max?: number;
  /** The delay before the first retry, in milliseconds. @default 0 */
  delayMs?: number;
  /** `fixed` waits `delayMs` each time; `exponential` doubles it after each retry. @default 'fixed' */
  backoff?: BackoffKind;
  /** The longest delay, in milliseconds. @default Infinity */
  maxDelayMs?: number;
  /**
   * Randomizes delays to spread retries out: `true` draws each delay uniformly from `(0, delay]`
   * ("full jitter"); a number `j` in `(0, 1]` draws from `(delay × (1 − j), delay]`. @default false
   */
  jitter?: boolean | number;
  /** Decides whether an error is worth a retry. @default every error */
  retryIf?: (error: unknown, attempt: number) => boolean;
}

/** Options of {@link Engine.submit}. */
export interface TaskOptions {
  /** A unique id among the engine's unfinished tasks. @default `task-<n>` */
  id?: string;
  /** A human-readable name for events and logs. @default the id */
  name?: string;
  /** Higher runs first; equal priorities run in submission order. @default 0 */
  priority?: number;
  /**
   * Tasks that must complete first: handles, ids of unfinished tasks, or `{ task, allow: 'settled' }`
   * for a dependency whose failure should not stop this task. @default []
   */
  dependsOn?: ReadonlyArray<Dependency>;
  /** Fails the attempt with `E_TIMEOUT` after this many milliseconds of running. @default none */
  timeoutMs?: number;
  /** Retries after a failure: a count, or a full {@link RetryOptions}. @default 0 */
  retries?: number | RetryOptions;
  /** Cancels the task when it aborts. */
  signal?: AbortSignal;
  /** Anything the caller wants to carry along: untouched, as `ctx.meta` and `handle.meta`. */
  meta?: unknown;
  /** The data the task works on, as `ctx.input` (tasks that run elsewhere later need data, not closures). */
  input?: unknown;
  /**
   * A deadline for the task to start, in milliseconds from its submission: past it, a task that has
   * not started ends `timeout` with `E_QUEUE_TIMEOUT`, its function never called. @default none
   */
  queueTimeoutMs?: number;
  /** The task's group, for the engine's `rateLimit` with `per: 'group'`. @default none (the engine's own limit) */
  group?: string;
  /**
   * Resources the task needs, by pool name and units: all of them are held before its function is
   * called (taken in rank order, then name order, so declared needs never deadlock each other).
   */
  resources?: Readonly<Record<string, number>>;
  /**
   * For a thread task (`inThread`): objects of `input` to move to the thread rather than copy
   * (ArrayBuffers, MessagePorts); the caller's are unusable afterwards. Not with `retries`: a retry
   * would find them moved. Ignored by a task that runs on the main thread. @default none
   */
  transfer?: ReadonlyArray<TransferListItem>;
}

/** A task in {@link Engine.submitGraph}: its function and its options, with `dependsOn` naming graph keys. */
export interface TaskGraphNode<T = unknown> extends Omit<TaskOptions, 'dependsOn' | 'id'> {
  /** The task's function, or the name of a defined task (the engine's `tasks` option or `engine.define`). */
  run: TaskFunction<T> | string;
  /** Keys of this graph (or ids of unfinished tasks, or handles, or `{ task, allow }`) that must complete first. */
  dependsOn?: ReadonlyArray<Dependency>;
  /** The task's id. @default the graph key */
  id?: string;
}

/** A retry policy with every field filled. @internal */
export interface ResolvedRetryPolicy {
  readonly max: number;
  readonly delayMs: number;
  readonly backoff: BackoffKind;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly retryIf: ((error: unknown, attempt: number) => boolean) | undefined;
}

/** The retry policy of a task submitted without `retries`. @internal */
export const NO_RETRIES: ResolvedRetryPolicy = Object.freeze({
  max: 0,
  delayMs: 0,
  backoff: 'fixed',
  maxDelayMs: Infinity,
  jitter: 0,
  retryIf: undefined,
});

// The keys each options object may have, for the check that refuses unknown (misspelt) ones.

/** @internal */
export const TASK_OPTION_KEYS: Readonly<Record<keyof TaskOptions, true>> = Object.freeze({
  id: true,
  name: true,
  priority: true,
  dependsOn: true,
  timeoutMs: true,
  retries: true,
  signal: true,
  meta: true,
  input: true,
  queueTimeoutMs: true,
  group: true,
  resources: true,
  transfer: true,
});

/** @internal */
export const TASK_GRAPH_NODE_KEYS: Readonly<Record<keyof TaskGraphNode, true>> = Object.freeze({ ...TASK_OPTION_KEYS, run: true });

/** @internal */
export const RETRY_OPTION_KEYS: Readonly<Record<keyof RetryOptions, true>> = Object.freeze({
  max: true,
  delayMs: true,
  backoff: true,
  maxDelayMs: true,
  jitter: true,
  retryIf: true,
});

/** @internal */
export const ACQUIRE_OPTION_KEYS: Readonly<Record<keyof AcquireOptions, true>> = Object.freeze({ units: true, timeoutMs: true });

/** @internal */
export const AWAIT_OPTION_KEYS: Readonly<Record<keyof AwaitOptions, true>> = Object.freeze({ timeoutMs: true });

/** @internal */
export const DEPENDENCY_SPEC_KEYS: Readonly<Record<keyof DependencySpec, true>> = Object.freeze({ task: true, allow: true });
