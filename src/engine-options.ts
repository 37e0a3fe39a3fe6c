import os from 'node:os';
import type { Clock } from './clock';
import type { MezanError } from './errors';
import type { Logger } from './logger';
import type { RandomSource } from './random';
import type { TaskHandle } from './task-handle';
import type { DeadlockPolicy } from './internal/deadlock-policy';
import type { LockOrderMode } from './internal/task-services';

export type { DeadlockPolicy, LockOrderMode };

/** Options of {@link createEngine}. Every field is optional. */
export interface EngineOptions {
  /** How many workers run tasks at once. @default `os.availableParallelism()` */
  workers?: number;
  /** The clock every timer goes through (XState's `SimulatedClock` and {@link VirtualClock} fit). @default {@link realClock} */
  clock?: Clock;
  /** The random source for retry jitter and generated ids. @default `Math.random` */
  random?: RandomSource;
  /** A winston logger for structured logs with task and actor ids. @default a silent logger */
  logger?: Logger;
  /**
   * The most attempts one dispatch hands a worker when the queue is deep and tasks are instant;
   * `1` turns batching off. @default 64
   */
  maxBatch?: number;
  /**
   * Called (asynchronously) with a task's error when the task failed and nobody had asked for its
   * `result`: an error is never swallowed. Cancellations are not reported.
   * @default logs the error at `warn` level through `logger`
   */
  onUnhandledError?: (error: MezanError, handle: TaskHandle<unknown>) => void;
  /** How crashed workers are restarted. */
  supervision?: SupervisionOptions;
  /**
   * Named resource pools: a capacity, or `{ capacity, rank }` where `rank` places the pool in the
   * lock hierarchy (a task holding a higher rank may not take a lower one).
   * @example `{ db: 2, gpu: { capacity: 1, rank: 2 }, cache: { capacity: 1, rank: 1 } }`
   * @default {}
   */
  resources?: Readonly<Record<string, number | ResourceOptions>>;
  /** Deadlock detection and resolution. */
  deadlock?: DeadlockOptions;
  /**
   * What a rank violation does: `enforce` refuses it with `E_LOCK_ORDER`, `warn` reports it as a
   * `lockorder.violation` event and lets it through, `off` ignores ranks. Inversions of the learned
   * order are reported unless `off`. @default 'warn'
   */
  lockOrder?: LockOrderMode;
  /** How the engine shuts down, and whether process signals start a shutdown. */
  shutdown?: ShutdownOptions;
}

/** A resource pool's settings. */
export interface ResourceOptions {
  /** How many units the pool has: a positive integer. */
  capacity: number;
  /** Its place in the lock hierarchy (any finite number); unranked pools are exempt. */
  rank?: number;
}

/** Deadlock detection and resolution settings. */
export interface DeadlockOptions {
  /**
   * When to look: `immediate`ly when a task blocks, `{ afterMs }` after an optimistic delay (in the
   * manner of PostgreSQL's deadlock_timeout), or `off`. @default 'immediate'
   */
  detect?: 'immediate' | 'off' | { afterMs: number };
  /**
   * How the victim is chosen among the deadlocked tasks: `youngest`, `lowest-priority`,
   * `least-work`, `fewest-resources`, or a function of the candidates returning a task id.
   * @default 'youngest'
   */
  policy?: DeadlockPolicy;
  /**
   * Worker-slot starvation (every worker held by a task awaiting a queued task) is first resolved by
   * adding a temporary worker, up to `maxExtraWorkers` at once, retired when idle; `false` goes
   * straight to a victim. @default { maxExtraWorkers: 4 }
   */
  compensate?: false | { maxExtraWorkers?: number };
}

/** Restart intensity for crashed workers: one-for-one restarts, at most `maxRestarts` within `withinMs`. */
export interface SupervisionOptions {
  /** Restarts allowed within the window; one more escalates. @default 5 */
  maxRestarts?: number;
  /** The sliding window, in milliseconds of the engine's clock. @default 5000 */
  withinMs?: number;
}

/** What queued tasks do while the engine drains: still `run`, or get `cancel`led at once. */
export type DrainMode = 'run' | 'cancel';

/** Shutdown settings: the defaults of `engine.shutdown()` and the process signals that start one. */
export interface ShutdownOptions {
  /** How long draining may last before running tasks are aborted, in milliseconds. @default 10000 */
  graceMs?: number;
  /** What queued tasks do while draining. @default 'run' */
  drain?: DrainMode;
  /**
   * Process signals that start a shutdown (a second one forces it). Their listeners only send an
   * event, and are removed when the engine stops. @default [] (none)
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * After a shutdown started by a signal, exit the process: code 0 after a clean drain, 1 when tasks
   * had to be aborted. @default false
   */
  exitOnSignal?: boolean;
}

/** Options of `engine.shutdown()`; they override the engine's {@link ShutdownOptions} for this shutdown. */
export interface ShutdownRequestOptions {
  /** @default the engine's `shutdown.graceMs` */
  graceMs?: number;
  /** @default the engine's `shutdown.drain` */
  drain?: DrainMode;
  /** Skip draining (or cut it short): abort running tasks and cancel queued ones now. @default false */
  force?: boolean;
}

/** {@link EngineOptions} with every field filled. @internal */
export interface ResolvedEngineOptions {
  readonly workers: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly maxBatch: number;
  readonly onUnhandledError: ((error: MezanError, handle: TaskHandle<unknown>) => void) | undefined;
  readonly supervision: { readonly maxRestarts: number; readonly withinMs: number };
  readonly shutdown: {
    readonly graceMs: number;
    readonly drain: DrainMode;
    readonly signals: readonly NodeJS.Signals[];
    readonly exitOnSignal: boolean;
  };
  readonly resources: ReadonlyArray<{ readonly name: string; readonly capacity: number; readonly rank: number | undefined }>;
  readonly deadlock: {
    readonly detect: 'immediate' | 'off' | { readonly afterMs: number };
    readonly policy: DeadlockPolicy;
    readonly maxExtraWorkers: number;
  };
  readonly lockOrder: LockOrderMode;
}

/** The defaults of {@link EngineOptions} that are plain values. */
export const ENGINE_DEFAULTS = Object.freeze({
  workers: (): number => os.availableParallelism(),
  maxBatch: 64,
  supervision: Object.freeze({ maxRestarts: 5, withinMs: 5000 }),
  shutdown: Object.freeze({
    graceMs: 10_000,
    drain: 'run' as DrainMode,
    signals: Object.freeze([]) as readonly NodeJS.Signals[],
    exitOnSignal: false,
  }),
  deadlock: Object.freeze({
    detect: 'immediate' as 'immediate' | 'off' | { readonly afterMs: number },
    policy: 'youngest' as DeadlockPolicy,
    maxExtraWorkers: 4 as number,
  }),
  lockOrder: 'warn' as LockOrderMode,
});
