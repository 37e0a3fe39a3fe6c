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
}

/** {@link EngineOptions} with every field filled. @internal */
export interface ResolvedEngineOptions {
  readonly workers: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly maxBatch: number;
  readonly onUnhandledError: ((error: MezanError, handle: TaskHandle<unknown>) => void) | undefined;
}

/** The defaults of {@link EngineOptions} that are plain values. */
export const ENGINE_DEFAULTS = Object.freeze({
  workers: (): number => os.availableParallelism(),
  maxBatch: 32,
});
