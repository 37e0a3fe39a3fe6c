import os from 'node:os';
import type { Clock } from './clock';
import type { MezanError } from './errors';
import type { Logger } from './logger';
import type { RandomSource } from './random';
import type { TaskHandle } from './task-handle';

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
   * `1` turns batching off. @default 32
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
  /** How the engine shuts down, and whether process signals start a shutdown. */
  shutdown?: ShutdownOptions;
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
}

/** The defaults of {@link EngineOptions} that are plain values. */
export const ENGINE_DEFAULTS = Object.freeze({
  workers: (): number => os.availableParallelism(),
  maxBatch: 32,
  supervision: Object.freeze({ maxRestarts: 5, withinMs: 5000 }),
  shutdown: Object.freeze({ graceMs: 10_000, drain: 'run' as DrainMode, signals: Object.freeze([]) as readonly NodeJS.Signals[], exitOnSignal: false }),
});
