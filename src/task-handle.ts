import type { MezanError } from './errors';
import { expectFiniteNumber } from './internal/validate';
import type { DependencyOutcome } from './task-options';
import type { TaskReporter } from './internal/task-protocol';
import { isTerminalStatus, type TaskStatus, type TerminalTaskStatus } from './task-status';

/**
 * The task behind a handle: its identity, and what the handle calls when the task settles or its
 * caller asks to cancel it or change its priority (the engine's record of the task). @internal
 */
export interface TaskHandleHooks {
  readonly id: string;
  readonly name: string;
  readonly meta: unknown;
  cancel(handle: TaskHandle<unknown>, reason: unknown): boolean;
  settled(handle: TaskHandle<unknown>, error: MezanError | undefined): void;
  setPriority(handle: TaskHandle<unknown>, priority: number): void;
}

/** The result promise's settle functions, made only when somebody asks for `result`. */
interface Settlers {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: MezanError) => void;
}

/**
 * The caller's view of a submitted task: its id, its live status, its result and a way to cancel it.
 * Returned by {@link Engine.submit}.
 *
 * @example
 * ```ts
 * const handle = engine.submit(async () => 42, { name: 'answer' });
 * handle.status;          // 'queued'
 * await handle.result;    // 42
 * handle.cancel();        // false: already settled
 * ```
 */
let hooksOf: (handle: TaskHandle<unknown>) => TaskHandleHooks;

/**
 * The task behind a handle (the engine's record of it), for the engine that made the handle: a
 * dependency given as a handle is found without a lookup by id.
 * @internal
 */
export function taskBehind(handle: TaskHandle<unknown>): TaskHandleHooks {
  return hooksOf(handle);
}

/**
 * A submitted task, as its caller sees it: `id`, `name`, `status`, `result` (a promise of the
 * function's value, rejected with a `MezanError` whose `code` says why not), `cancel()` and
 * `setPriority()`. The engine makes one for each task submitted.
 *
 * @example
 * ```ts
 * const handle = engine.submit(async () => 42, { name: 'answer' });
 * handle.status; // 'queued'
 * await handle.result; // 42
 * ```
 */
export class TaskHandle<T = unknown> implements TaskReporter {
  static {
    hooksOf = (handle) => handle.#hooks;
  }

  // Few fields: a queued task costs its handle, and a deep queue holds many (its identity is read
  // from the task itself; a settled one keeps one outcome, its value or its error).
  readonly #hooks: TaskHandleHooks;
  #status: TaskStatus;
  /** The value when `completed`, the `MezanError` otherwise; `undefined` until settled. */
  #outcome: unknown = undefined;
  #result: Promise<T> | undefined = undefined;
  #settlers: Settlers | undefined = undefined;

  /** @internal */
  constructor(hooks: TaskHandleHooks, status: TaskStatus) {
    this.#hooks = hooks;
    this.#status = status;
  }

  /** The task's id, unique among the engine's unfinished tasks. */
  get id(): string {
    return this.#hooks.id;
  }

  /** The task's name. */
  get name(): string {
    return this.#hooks.name;
  }

  /** What the caller passed as `meta`, untouched. */
  get meta(): unknown {
    return this.#hooks.meta;
  }

  /** What `JSON.stringify` and loggers show of a handle: its id, name and status (its fields are private). */
  toJSON(): {
    /** The task's id. */
    readonly id: string;
    /** The task's name. */
    readonly name: string;
    /** The task's status when it was read. */
    readonly status: TaskStatus;
  } {
    return { id: this.id, name: this.name, status: this.#status };
  }

  /** The task's current status; see {@link TaskStatus}. */
  get status(): TaskStatus {
    return this.#status;
  }

  /** `true` once the task has reached a terminal status. */
  get isSettled(): boolean {
    return isTerminalStatus(this.#status);
  }

  /**
   * Resolves with the function's value, or rejects with a `MezanError`: `E_TASK_FAILED` (the thrown
   * error as `cause`, attempts in `details`), `E_CANCELLED`, `E_TIMEOUT`, `E_DEPENDENCY_FAILED`,
   * `E_DEADLOCK` (a deadlock victim with no retry left), `E_WORKER_CRASHED` (its worker crashed on
   * its last attempt) or `E_SHUTDOWN` (submitted after shutdown began, cancelled by shutdown, or
   * refused when the engine escalated).
   */
  get result(): Promise<T> {
    // Made on first use: a task nobody awaits costs no promise, and its failure is reported to
    // `onUnhandledError` instead of crashing the process as an unhandled rejection.
    if (this.#result === undefined) {
      if (this.#status === 'completed') this.#result = Promise.resolve(this.#outcome as T);
      else if (isTerminalStatus(this.#status)) this.#result = Promise.reject(this.#outcome as MezanError);
      else {
        this.#result = new Promise<T>((resolve, reject) => {
          this.#settlers = { resolve: resolve as (value: unknown) => void, reject };
        });
      }
    }
    return this.#result;
  }

  /** `true` once somebody has asked for {@link TaskHandle.result}. @internal */
  get isObserved(): boolean {
    return this.#result !== undefined;
  }

  /**
   * Cancels the task. A task still waiting or queued is removed without its function ever being
   * called; a running task has its `ctx.signal` aborted. Either way `result` rejects with
   * `E_CANCELLED` at once, unless the function had already returned (its outcome then stands).
   *
   * @param reason - why; kept in the error's `details.reason`
   * @returns `false` when the task had already settled (nothing changes), `true` otherwise
   */
  cancel(reason?: unknown): boolean {
    if (isTerminalStatus(this.#status)) return false;
    return this.#hooks.cancel(this, reason);
  }

  /**
   * Changes the task's priority while it waits for its dependencies or is queued: it then runs
   * behind the tasks already queued at its new priority. Once it has started (or settled) nothing
   * changes.
   *
   * @param priority - a finite number; higher runs first
   * @returns `true` when the task was waiting or queued, `false` otherwise
   * @throws {MezanError} `E_INVALID_OPTION` when `priority` is not a finite number
   */
  setPriority(priority: number): boolean {
    expectFiniteNumber('priority', priority);
    if (this.#status !== 'waiting' && this.#status !== 'queued') return false;
    this.#hooks.setPriority(this, priority);
    return true;
  }

  /** @internal */
  describeOutcome(): DependencyOutcome | undefined {
    if (!isTerminalStatus(this.#status)) return undefined;
    const status = this.#status as TerminalTaskStatus;
    return status === 'completed'
      ? { id: this.id, name: this.name, status, value: this.#outcome }
      : { id: this.id, name: this.name, status, error: this.#outcome as MezanError };
  }

  /** @internal */
  markStatus(status: Exclude<TaskStatus, TerminalTaskStatus>): void {
    if (!isTerminalStatus(this.#status)) this.#status = status;
  }

  /** @internal */
  settle(status: TerminalTaskStatus, value: unknown, error: MezanError | undefined): void {
    if (isTerminalStatus(this.#status)) return;
    this.#status = status;
    const settlers = this.#settlers;
    this.#settlers = undefined;
    if (status === 'completed') {
      this.#outcome = value;
      settlers?.resolve(value);
    } else {
      this.#outcome = error;
      settlers?.reject(error!);
    }
    this.#hooks.settled(this, error);
  }
}
