import type { ResolvedRetryPolicy, TaskFunction } from '../task-options';
import type { TaskEntry, TaskEntryState } from './task-book';
import type { DependencyRef, TaskReporter } from './task-protocol';

/** A dependency of a graph node on another node of the same `submitGraph`, before its handle exists. @internal */
export interface GraphKeyRef {
  readonly graphKey: string;
}

/**
 * One task, from `submit` to its end: what the caller asked for, and where the task is. The engine
 * makes it and hands it to the executor in `task.submit`; the executor's book adopts it as its entry
 * (see {@link TaskEntry}) instead of copying it, so a task costs one record. Whoever holds it at a
 * time writes it: the engine until it is sent, the executor afterwards.
 *
 * A class, so that every record has one shape from the start: the fields the book fills in later
 * exist from construction on.
 *
 * @internal
 */
export class TaskRecord {
  readonly id: string;
  /** `n` when the engine made the id (`task-<n>`), `-1` for the caller's. */
  readonly autoNumber: number;
  readonly name: string;
  readonly priority: number;
  readonly fn: TaskFunction;
  readonly timeoutMs: number | undefined;
  readonly retry: ResolvedRetryPolicy;
  /** Graph keys are replaced by dependencies on the graph's handles before the record is sent. */
  dependsOn: ReadonlyArray<DependencyRef | GraphKeyRef>;
  /** Set when the engine makes the task's handle. */
  reporter: TaskReporter = undefined as unknown as TaskReporter;
  readonly resources: ReadonlyArray<readonly [string, number]> | undefined;
  readonly parentId: string | undefined;
  readonly meta: unknown;
  /** The caller's `signal`: the engine listens to it, the executor never reads it. */
  readonly signal: AbortSignal | undefined;
  admittedSeq = 0;
  dispatchedAt = 0;
  attempt = 1;
  state: TaskEntryState = 'waiting';
  waitingOn = 0;
  dependents: TaskEntry[] | undefined = undefined;
  workerId: string | undefined = undefined;
  queueTicket = -1;

  constructor(
    id: string,
    autoNumber: number,
    name: string,
    priority: number,
    fn: TaskFunction,
    timeoutMs: number | undefined,
    retry: ResolvedRetryPolicy,
    dependsOn: ReadonlyArray<DependencyRef | GraphKeyRef>,
    resources: ReadonlyArray<readonly [string, number]> | undefined,
    parentId: string | undefined,
    meta: unknown,
    signal: AbortSignal | undefined,
  ) {
    this.id = id;
    this.autoNumber = autoNumber;
    this.name = name;
    this.priority = priority;
    this.fn = fn;
    this.timeoutMs = timeoutMs;
    this.retry = retry;
    this.dependsOn = dependsOn;
    this.resources = resources;
    this.parentId = parentId;
    this.meta = meta;
    this.signal = signal;
  }
}
