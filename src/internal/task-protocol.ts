/**
 * The messages the engine's actors exchange about tasks. Everything here is plain data, read-only
 * once sent; a task function travels as code, and a {@link TaskReporter} is the caller's reply
 * channel, the way a promise's resolve function is.
 *
 * @internal
 */
import type { TransferListItem } from 'node:worker_threads';
import type { MezanError } from '../errors';
import type { DependencyOutcome, TaskFunction, ResolvedRetryPolicy } from '../task-options';
import type { TaskStatus, TerminalTaskStatus } from '../task-status';

/** The reply channel to a task's caller (implemented by the task's handle). */
export interface TaskReporter {
  /** Tells the caller the task's non-terminal status changed. */
  markStatus(status: Exclude<TaskStatus, TerminalTaskStatus>): void;
  /** Settles the task, once: `value` for `completed`, `error` otherwise. */
  settle(status: TerminalTaskStatus, value: unknown, error: MezanError | undefined): void;
  /** The task's status as the caller sees it. */
  readonly status: TaskStatus;
  /** How the task ended, for its dependants' `ctx.dependencies`; `undefined` while it has not. */
  describeOutcome(): DependencyOutcome | undefined;
}

/** A dependency as the executor receives it: the id, and the reporter that knows a settled task's fate. */
export interface DependencyRef {
  readonly id: string;
  readonly reporter: TaskReporter;
  /** `settled`: the dependant runs whatever the dependency's outcome. @default 'completed' */
  readonly allow?: 'completed' | 'settled';
  /**
   * The dependency's own submission, when the engine knows it (it was submitted to the same engine,
   * before the dependant): the executor then needs no lookup by id.
   */
  readonly task?: TaskSubmission;
}

/** A validated task, as the engine hands it to the executor. */
export interface TaskSubmission {
  readonly id: string;
  /** The same as `id`: a submission is also the {@link RunOrder} of its attempts. */
  readonly taskId: string;
  /** `n` when the engine made the id (`task-<n>`); absent or `-1` for the caller's id. Lets the executor index it without hashing. */
  readonly autoNumber?: number;
  readonly name: string;
  readonly priority: number;
  readonly fn: TaskFunction;
  readonly timeoutMs: number | undefined;
  readonly retry: ResolvedRetryPolicy;
  readonly dependsOn: readonly DependencyRef[];
  readonly reporter: TaskReporter;
  /** Resources held before the function is called, in the order to take them. */
  readonly resources: ReadonlyArray<readonly [string, number]> | undefined;
  /** The task that submitted this one through `ctx.submit`. */
  readonly parentId: string | undefined;
  /** The caller's `meta`, passed through. */
  readonly meta?: unknown;
  /** The caller's `input`, passed through. */
  readonly input?: unknown;
  /** A start deadline in milliseconds from submission (`queueTimeoutMs`). */
  readonly queueTimeoutMs?: number;
  /** The rate-limit group. */
  readonly group?: string;
  /** The dependencies as `ctx.dependencies` lists them; `undefined` without any. */
  readonly dependencies?: readonly DependencyRef[];
}

/**
 * One attempt of a task, as the executor hands it to a worker: the task's record itself (no copy).
 * Its fields never change but `attempt`, which the executor counts on for a retry once this attempt
 * was reported: the worker reads it once, when the attempt starts.
 */
export interface RunOrder {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  readonly fn: TaskFunction;
  readonly timeoutMs: number | undefined;
  readonly resources: ReadonlyArray<readonly [string, number]> | undefined;
  readonly meta?: unknown;
  /** The task's `input`, as `ctx.input`. */
  readonly input?: unknown;
  /** The task's rate-limit group. */
  readonly group?: string;
  /** The task's dependencies, settled by now, for `ctx.dependencies`. */
  readonly dependencies?: readonly DependencyRef[];
  /** What a thread task moves to its thread rather than copies (its `transfer` option). */
  readonly transfer?: ReadonlyArray<TransferListItem>;
}

/** How an attempt ended, as far as the worker that ran it can tell. */
export type RunOutcomeKind = 'completed' | 'failed' | 'timeout' | 'cancelled' | 'deadlock' | 'crashed';

/**
 * The end of one attempt, reported by a worker. `deadlock` is the failure of an attempt chosen as a
 * deadlock victim, `crashed` that of an attempt whose worker crashed: verdicts of the engine, which
 * keep their own codes.
 */
export interface RunOutcome {
  readonly kind: RunOutcomeKind;
  readonly taskId: string;
  readonly attempt: number;
  /** The function's return value (`completed`). */
  readonly value: unknown;
  /** What the function threw (`failed`), or the abort reason (`timeout`, `cancelled`). */
  readonly error: unknown;
  /** Whether the function was called; `false` for an order cancelled before its turn. */
  readonly started: boolean;
  /** When the attempt started (or was dropped, when not started). */
  readonly startedAt: number;
  /** When the attempt ended, as far as its task is concerned. */
  readonly endedAt: number;
}

/** Executor → worker: run these attempts now, each in a free slot of the worker. */
export interface TaskDispatchEvent {
  readonly type: 'task.dispatch';
  readonly orders: readonly RunOrder[];
}

/** Executor → worker: abort this task's attempt (queued on the worker or running). */
export interface TaskAbortEvent {
  readonly type: 'task.abort';
  readonly taskId: string;
  readonly reason: MezanError;
}

/** Worker → executor: attempts that ended, and how many slots became free (the worker's demand for more). */
export interface WorkerReportEvent {
  readonly type: 'worker.report';
  readonly workerId: string;
  readonly outcomes: readonly RunOutcome[];
  /** Slots given back since the last report: the executor may hand out that many more attempts. */
  readonly freed: number;
  /** Tasks whose functions were abandoned still running (shutdown gave up on them); their slots are among `freed`. */
  readonly abandoned?: readonly string[];
}
