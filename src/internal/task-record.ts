import type { MezanError } from '../errors';
import { TaskHandle, type TaskHandleHooks } from '../task-handle';
import { NO_RETRIES, type ResolvedRetryPolicy, type TaskFunction } from '../task-options';
import type { TaskEntry, TaskEntryState } from './task-book';
import { AUTO_ID_PREFIX } from './task-index';
import type { DependencyRef, TaskReporter } from './task-protocol';
import type { TransferListItem } from 'node:worker_threads';

/** What a record tells the engine that made it, so the engine needs no lookup by id. @internal */
export interface TaskRecordOwner {
  cancelTask(task: TaskRecord, reason: unknown): boolean;
  taskSettled(task: TaskRecord, error: MezanError | undefined): void;
  reprioritize(task: TaskRecord, priority: number): void;
}

/** A dependency of a graph node on another node of the same `submitGraph`, before its handle exists. @internal */
export interface GraphKeyRef {
  readonly graphKey: string;
  readonly allow?: 'completed' | 'settled';
}

/**
 * The options few tasks set, kept apart so that a task without them (the common one) carries one
 * field for them all: a deep queue holds many records.
 * @internal
 */
export interface TaskExtras {
  readonly resources: ReadonlyArray<readonly [string, number]> | undefined;
  readonly parentId: string | undefined;
  readonly meta: unknown;
  /** The caller's `signal`: the engine listens to it, the executor never reads it. */
  readonly signal: AbortSignal | undefined;
  readonly input: unknown;
  readonly queueTimeoutMs: number | undefined;
  readonly group: string | undefined;
  /** What a thread task moves to its thread rather than copies. */
  readonly transfer?: ReadonlyArray<TransferListItem> | undefined;
}

/** Extras with nothing set, to spread from. @internal */
export const NO_EXTRAS: TaskExtras = Object.freeze({
  resources: undefined,
  parentId: undefined,
  meta: undefined,
  signal: undefined,
  input: undefined,
  queueTimeoutMs: undefined,
  group: undefined,
});

/**
 * One task, from `submit` to its end: what the caller asked for, and where the task is. The engine
 * makes it and hands it to the executor in `task.submit`; the executor's book adopts it as its entry
 * (see {@link TaskEntry}) instead of copying it, so a task costs one record. Whoever holds it at a
 * time writes it: the engine until it is sent, the executor afterwards.
 *
 * A class, so that every record has one shape from the start: the fields the book fills in later
 * exist from construction on. An id the engine makes (`task-<n>`) is written out only when first
 * read: a queued task needs its number, not the string.
 *
 * @internal
 */
export class TaskRecord implements TaskHandleHooks {
  /** Set when the engine makes the task's handle. */
  reporter: TaskReporter = undefined as unknown as TaskReporter;
  /** The engine whose task this is; set with the handle. */
  owner: TaskRecordOwner | undefined = undefined;
  /** The engine's number of this submission, to tell whether it is still in the engine's buffer. */
  submitSeq = -1;
  admittedSeq = 0;
  /**
   * A clock time, so a double from the start (`-0` equals 0): were the field made a small integer,
   * the first dispatch storing a clock time would change its representation, and V8 would migrate
   * every record still queued, one by one on its first access (about 1 µs each: most of a deep
   * queue's cost).
   */
  dispatchedAt = -0;
  attempt = 1;
  state: TaskEntryState = 'waiting';
  waitingOn = 0;
  dependents: TaskEntry[] | undefined = undefined;
  workerId: string | undefined = undefined;
  queueTicket = -1;
  queueDeadline: number | undefined = undefined;
  /** The id, once written out (a caller's id from the start). */
  #id: string | undefined;

  /**
   * @param id - the caller's id, or `undefined` for `task-<autoNumber>`
   * @param autoNumber - `n` when the engine made the id (`task-<n>`), `-1` for the caller's
   * @param ownName - the caller's name for the task; `undefined` to name it after its id
   * @param dependsOn - graph keys are replaced by dependencies on the graph's handles before the record is sent
   * @param extras - the options few tasks set; `undefined` when none is
   */
  constructor(
    id: string | undefined,
    readonly autoNumber: number,
    readonly ownName: string | undefined,
    /** The executor changes it on `task.reprioritize`, while the task is not queued in a lane. */
    public priority: number,
    readonly fn: TaskFunction,
    readonly timeoutMs: number | undefined,
    readonly retry: ResolvedRetryPolicy,
    public dependsOn: ReadonlyArray<DependencyRef | GraphKeyRef>,
    readonly extras: TaskExtras | undefined,
  ) {
    this.#id = id;
  }

  get id(): string {
    return (this.#id ??= `${AUTO_ID_PREFIX}${this.autoNumber}`);
  }

  get name(): string {
    return this.ownName ?? this.id;
  }

  /** The id, as a run order names it: a record is its own {@link RunOrder}. */
  get taskId(): string {
    return this.id;
  }

  /** The dependencies, settled when the task runs, as a run order carries them for `ctx.dependencies`. */
  get dependencies(): readonly DependencyRef[] | undefined {
    // Graph keys are replaced by dependencies on handles before the record leaves the engine.
    return this.dependsOn.length === 0 ? undefined : (this.dependsOn as readonly DependencyRef[]);
  }

  /** A record is its own dependency reference (see `DependencyRef.task`): `dependsOn: [record]` costs no object. */
  get task(): this {
    return this;
  }

  get resources(): ReadonlyArray<readonly [string, number]> | undefined {
    return this.extras?.resources;
  }

  get parentId(): string | undefined {
    return this.extras?.parentId;
  }

  get meta(): unknown {
    return this.extras?.meta;
  }

  get signal(): AbortSignal | undefined {
    return this.extras?.signal;
  }

  get input(): unknown {
    return this.extras?.input;
  }

  get queueTimeoutMs(): number | undefined {
    return this.extras?.queueTimeoutMs;
  }

  get group(): string | undefined {
    return this.extras?.group;
  }

  get transfer(): ReadonlyArray<TransferListItem> | undefined {
    return this.extras?.transfer;
  }

  /** The handle's caller asks to cancel the task (the handle is the record's only way out to the caller). */
  cancel(_handle: TaskHandle<unknown>, reason: unknown): boolean {
    return this.owner!.cancelTask(this, reason);
  }

  /** The handle settled. */
  settled(_handle: TaskHandle<unknown>, error: MezanError | undefined): void {
    this.owner!.taskSettled(this, error);
  }

  /** The handle's caller asks for a new priority (the task is waiting or queued). */
  setPriority(_handle: TaskHandle<unknown>, priority: number): void {
    this.owner!.reprioritize(this, priority);
  }
}

/**
 * A record and its handle kept for as long as the module lives, holding no caller's data. V8 keeps
 * the hidden class (map) of objects built field by field only while some object has it: a full
 * garbage collection that finds no record, handle or attempt alive, as in an idle engine between two
 * tasks, drops their maps, and the optimized code of the whole task path with them (submit,
 * admission, dispatch, settling), which then runs unoptimized for the next thousands of tasks. An
 * idle engine's latency after such a collection was several times its warm latency; these keep the
 * maps, so the code stays optimized (each runner keeps an attempt the same way).
 *
 * @internal
 */
export const SHAPE_KEEPER: TaskRecord = new TaskRecord(undefined, -1, undefined, 0, () => undefined, undefined, NO_RETRIES, [], undefined);
SHAPE_KEEPER.reporter = new TaskHandle<unknown>(SHAPE_KEEPER, 'waiting');
