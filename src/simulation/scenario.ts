/**
 * The shape of a simulation scenario: what `loadScenario` returns after validating a YAML or JSON
 * file, and what `simulate` runs. Every time is in milliseconds of virtual time.
 */
import type { DeadlockOptions, DrainMode, LockOrderMode, RateLimitOptions, ResourceOptions } from '../engine-options';

/** How many tasks a simulated engine runs at once when the scenario does not say. */
export const SIMULATION_DEFAULT_CONCURRENCY = 4;

/** A duration: a fixed number of milliseconds, or a draw from a distribution (seeded). */
export type Duration =
  | number
  | { readonly uniform: readonly [min: number, max: number] }
  | { readonly exponential: { readonly mean: number } }
  | { readonly normal: { readonly mean: number; readonly stddev: number; readonly min?: number } };

/** One step of a task's script, run in order by its function. */
export type Step =
  /** Takes virtual time (ctx.sleep). */
  | { readonly work: Duration }
  /** ctx.acquire: the lease is held until a matching `release` or the end of the attempt. */
  | { readonly acquire: string; readonly units?: number; readonly timeoutMs?: number }
  /** Releases the most recent lease of that resource, which an earlier `acquire` of the same script took. */
  | { readonly release: string }
  /** Submits a child (a task template, see {@link TaskTemplate}) and, with `await: true`, awaits it. */
  | { readonly spawn: TaskTemplate; readonly await?: boolean }
  /** Fails the attempt with this probability (seeded). */
  | { readonly fail: number; readonly message?: string }
  /** ctx.progress. */
  | { readonly progress: number; readonly message?: string };

/** What a task is: its options and its script. */
export interface TaskTemplate {
  readonly name?: string;
  readonly priority?: number;
  readonly timeoutMs?: number;
  readonly retries?:
    | number
    | {
        readonly max?: number;
        readonly delayMs?: number;
        readonly backoff?: 'fixed' | 'exponential';
        readonly maxDelayMs?: number;
        readonly jitter?: boolean | number;
      };
  /** Declared resources, held before the script starts. */
  readonly resources?: Readonly<Record<string, number>>;
  /** The task's group, for `engine.rateLimit` with `per: group`. */
  readonly group?: string;
  /** Ends the task `timeout` (`E_QUEUE_TIMEOUT`) when it has not started this many ms after its submission. */
  readonly queueTimeoutMs?: number;
  readonly steps: readonly Step[];
}

/**
 * A dependency of an explicit task, by id: `allow: settled` runs the task whatever way the
 * dependency ended (failed, cancelled, timed out...); `completed` (the default) needs it to complete.
 */
export interface ScenarioDependency {
  readonly task: string;
  readonly allow?: 'completed' | 'settled';
}

/** An explicit task: a template submitted at a time, with an id others can name. */
export interface ScenarioTask extends TaskTemplate {
  readonly id?: string;
  /** When it is submitted. @default 0 */
  readonly at?: number;
  /**
   * Explicit tasks that must complete first (or, with `allow: settled`, end in any way): ids, or
   * `{ task: <id>, allow }`. Each is submitted no later than this one.
   */
  readonly dependsOn?: ReadonlyArray<string | ScenarioDependency>;
}

/** Many tasks from one template: `count` of them, arriving at `rate` per second from `start`, or all at `start`. */
export interface TaskGenerator {
  readonly generate: TaskTemplate & {
    /** How many; give `count` (with `rate` or `start`) or `times`, not both. */
    readonly count?: number;
    /** Arrivals per second: a Poisson process (exponential gaps), seeded. */
    readonly rate?: number;
    /** When the first arrives (with `rate`) or when all arrive (without). @default 0 */
    readonly start?: number;
    /** One task arrives at each of these virtual times. */
    readonly times?: readonly number[];
  };
}

/**
 * A fault, injected at a virtual time. `crash` and `slow.worker` name a worker: `main`, the
 * main-thread worker; `cancel` names an explicit task's id; `capacity.resource` names an engine resource.
 */
export type Fault =
  | { readonly at: number; readonly signal: 'SIGINT' | 'SIGTERM' }
  | { readonly at: number; readonly crash: string }
  | { readonly at: number; readonly cancel: string }
  | { readonly at: number; readonly capacity: { readonly resource: string; readonly units: number } }
  | { readonly at: number; readonly slow: { readonly worker: string; readonly factor: number; readonly forMs?: number } };

/** An assertion on the report: an exact number, or a comparison such as ">= 990", "< 1200", "== 0". */
export type Expectation = number | string;

/** A whole scenario. */
export interface Scenario {
  /** Where it was loaded from, for messages and for `--replay`. */
  readonly file?: string;
  readonly name?: string;
  readonly engine?: {
    /** How many tasks run at once. @default {@link SIMULATION_DEFAULT_CONCURRENCY} */
    readonly concurrency?: number;
    /** @deprecated The old name of `concurrency`, still read. */
    readonly workers?: number;
    readonly resources?: Readonly<Record<string, number | ResourceOptions>>;
    /** At most `limit` task starts in any `intervalMs` of virtual time, for the engine or for each task `group`. */
    readonly rateLimit?: Readonly<RateLimitOptions>;
    readonly deadlock?: Omit<DeadlockOptions, 'policy'> & { readonly policy?: 'youngest' | 'lowest-priority' | 'least-work' | 'fewest-resources' };
    readonly lockOrder?: LockOrderMode;
    readonly supervision?: { readonly maxRestarts?: number; readonly withinMs?: number };
    readonly shutdown?: { readonly graceMs?: number; readonly drain?: DrainMode };
  };
  readonly tasks?: ReadonlyArray<ScenarioTask | TaskGenerator>;
  readonly faults?: readonly Fault[];
  /**
   * Assertions on the report, by name: `completed`, `failed`, `cancelled`, `timeout`, `deadlock`,
   * `rejected` (counts by status), `deadlocks` (how many were detected), `lost`, `maxQueueDepth`,
   * `makespanMs`, and `code.E_…` (counts by error code).
   */
  readonly expect?: Readonly<Record<string, Expectation>>;
}
