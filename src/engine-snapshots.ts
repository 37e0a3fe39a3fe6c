import type { WorkerStats } from '../actors/worker.actor';

/** Counts and rates of an engine's tasks at one moment; returned by `engine.progress()`. */
export interface EngineProgress {
  /** Every task submitted so far, rejected ones included. */
  readonly total: number;
  /** Tasks that ended `completed`. */
  readonly completed: number;
  /** Tasks that ended `failed` (their function threw on the last attempt, or a dependency did not complete). */
  readonly failed: number;
  /** Tasks that ended `cancelled`. */
  readonly cancelled: number;
  /** Tasks that ended `timeout`. */
  readonly timedOut: number;
  /** Tasks that ended `deadlock`: chosen as a deadlock victim with no retry left. */
  readonly deadlocked: number;
  /** Tasks submitted after shutdown began (or refused when the engine escalated). */
  readonly rejected: number;
  /** Tasks on a worker: running, or handed to a worker and about to start. */
  readonly running: number;
  /** Tasks waiting for dependencies, queued, or waiting out a retry delay. */
  readonly pending: number;
  /** The most tasks ever queued at once, ready and waiting for a worker. */
  readonly peakQueued: number;
  /** `completed` over every settled task, in `[0, 1]`; `1` while none has settled. */
  readonly successRate: number;
  /** Settled tasks over `total`, in `[0, 100]`; `100` when nothing was submitted. */
  readonly percent: number;
  /** Clock time since the first submission, in milliseconds. */
  readonly elapsedMs: number;
  /** Estimated time to settle the rest at the rate so far; `undefined` until a task settles. */
  readonly etaMs: number | undefined;
  /** With the `cluster` option: the cluster tasks this engine submitted, which the counts above leave out. */
  readonly cluster?: ClusterTaskCounts;
}

/**
 * The cluster tasks an engine submitted (named tasks sent to its cluster's queue, whichever node
 * runs them), as that engine heard of them. They are apart from the engine's own counts: the node
 * that runs a task counts it there too, as one of its own tasks.
 */
export interface ClusterTaskCounts extends Pick<
  ShutdownReport,
  'submitted' | 'completed' | 'failed' | 'cancelled' | 'timedOut' | 'deadlocked' | 'rejected'
> {
  /** Waiting for their dependencies or queued in the cluster: not heard to start, or back in the queue. */
  readonly pending: number;
  /** Heard to start on a node and not ended. */
  readonly running: number;
}

/**
 * One worker's statistics and state; see `engine.stats()`. A worker is an execution context (the
 * main thread, id `main`) that runs up to `slots` tasks at once.
 */
export interface WorkerSnapshot extends Readonly<WorkerStats> {
  /** The worker's id: `main` for the main thread's. */
  readonly id: string;
  /** `idle` (no slot taken), `busy`, or `crashed` (until restarted). */
  readonly state: string;
}

/** Per-worker statistics and their totals; returned by `engine.stats()`. */
export interface EngineStats {
  /** Each worker's own statistics and state. */
  readonly workers: readonly WorkerSnapshot[];
  /** The sums over the workers. */
  readonly totals: {
    /** Attempts whose function returned a value. */
    readonly tasksCompleted: number;
    /** Attempts whose function threw or that timed out (retried attempts included). */
    readonly tasksFailed: number;
    /** Attempts cancelled while on a worker. */
    readonly tasksCancelled: number;
    /** Functions that returned or threw (each attempt counts once). */
    readonly attempts: number;
    /** Milliseconds of clock time the functions ran, aborted ones included. */
    readonly busyMs: number;
  };
  /** Average clock time a function ran, over every attempt that returned; `0` before the first. */
  readonly avgRunMs: number;
  /** With the `cluster` option: the cluster tasks this engine submitted, which its workers did not run (unless a node's runs them there, as its own). */
  readonly cluster?: ClusterTaskCounts;
}

/** A phase of shutdown, the clock time it began, and why. */
export interface ShutdownPhase {
  /** The phase. */
  readonly phase: 'draining' | 'terminating' | 'stopped';
  /** The clock time it began, in milliseconds. */
  readonly at: number;
  /** `request`, `signal`, `force`, `grace` (the grace period ran out) or `drained`. */
  readonly cause: string;
}

/** What `engine.shutdown()` resolves with: how every submitted task ended. */
export interface ShutdownReport {
  /** The phases shutdown went through, in order, ending with `stopped`. */
  readonly phases: readonly ShutdownPhase[];
  /** Clock time from the start of draining to `stopped`, in milliseconds. */
  readonly durationMs: number;
  /** Every task submitted over the engine's life, rejected ones included. */
  readonly submitted: number;
  /** Tasks that ended `completed`. */
  readonly completed: number;
  /** Tasks that ended `failed`. */
  readonly failed: number;
  /** Tasks that ended `cancelled`. */
  readonly cancelled: number;
  /** Tasks that ended `timeout`. */
  readonly timedOut: number;
  /** Tasks that ended `deadlock`. */
  readonly deadlocked: number;
  /** Tasks that ended `rejected`. */
  readonly rejected: number;
  /** Submitted tasks that did not end in a terminal status: always 0. */
  readonly lost: number;
  /**
   * The ids of tasks whose functions were still running when the terminating phase gave up on them
   * (`shutdown.abandonAfterMs`): they ignored their abort signal. Their tasks had ended already.
   */
  readonly abandoned: readonly string[];
  /** With the `cluster` option: how the cluster tasks this engine submitted ended (the counts above leave them out; none is pending or running by then). */
  readonly cluster?: ClusterTaskCounts;
}
