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
  | {
      /** Any time from `min` to `max`, each as likely. */
      readonly uniform: readonly [min: number, max: number];
    }
  | {
      /** An exponential distribution (many short, a few long). */
      readonly exponential: {
        /** The mean, in milliseconds. */
        readonly mean: number;
      };
    }
  | {
      /** A normal distribution, clamped at `min`. */
      readonly normal: {
        /** The mean, in milliseconds. */
        readonly mean: number;
        /** The standard deviation, in milliseconds. */
        readonly stddev: number;
        /** The shortest duration: a draw below it counts as `min`. @default 0 */
        readonly min?: number;
      };
    };

/** One step of a task's script, run in order by its function. */
export type Step =
  | {
      /** Takes this long in virtual time (`ctx.sleep`). */
      readonly work: Duration;
    }
  | {
      /** Takes units of this pool (`ctx.acquire`), held until a matching `release` or the end of the attempt. */
      readonly acquire: string;
      /** How many units. @default 1 */
      readonly units?: number;
      /** Gives up after waiting this long, failing the attempt with `E_RESOURCE_TIMEOUT`. @default no limit */
      readonly timeoutMs?: number;
    }
  | {
      /** Releases the most recent lease of this pool, which an earlier `acquire` of the same script took. */
      readonly release: string;
    }
  | {
      /** Submits a child task. */
      readonly spawn: TaskTemplate;
      /** Waits for the child's result (an await the deadlock detector sees). @default false */
      readonly await?: boolean;
    }
  | {
      /** Fails the attempt with this probability, in `[0, 1]` (seeded). */
      readonly fail: number;
      /** The failure's message. @default 'injected failure' */
      readonly message?: string;
    }
  | {
      /** Reports this fraction of progress, in `[0, 1]` (`ctx.progress`). */
      readonly progress: number;
      /** The progress message. */
      readonly message?: string;
    }
  | AskStep
  | SendStep;

/** What a script does when its `ask` fails: fail itself with the ask's error, or carry on with the next step. */
export type AskFailure = 'fail' | 'continue';

/** Asks an agent declared in `agents` and waits for its reply (which is dropped). */
export interface AskStep {
  /** The agent's name. */
  readonly ask: string;
  /** What is sent: any value. @default null */
  readonly message?: unknown;
  /** Gives up after this long, with `E_TIMEOUT`. @default no limit */
  readonly timeoutMs?: number;
  /** What a failed ask does to the script. @default 'fail' */
  readonly onFailure?: AskFailure;
}

/** Sends a message to an agent declared in `agents`, fire and forget. */
export interface SendStep {
  /** The agent's name. */
  readonly send: string;
  /** What is sent: any value. @default null */
  readonly message?: unknown;
}

/** One step of an agent's handler script, played for each message it handles. */
export type AgentStep =
  | {
      /** Takes this long in virtual time (the handler's `ctx.sleep`). */
      readonly work: Duration;
    }
  | {
      /** Fails the handling (`E_AGENT_FAILED`) with this probability, in `[0, 1]` (seeded): 1 always fails. */
      readonly fail: number;
      /** The failure's message. @default 'injected failure' */
      readonly message?: string;
    }
  | {
      /** Takes units of this pool (the handler's `ctx.acquire`), held until a matching `release` or the end of the handling. */
      readonly acquire: string;
      /** How many units. @default 1 */
      readonly units?: number;
    }
  | {
      /** Releases the most recent lease of this pool, which an earlier `acquire` of the same script took. */
      readonly release: string;
    }
  | AskStep
  | SendStep
  | {
      /** Ends the handling, replying with this value; a script without one replies `null` after its last step. */
      readonly reply: unknown;
    };

/** An agent of a scenario: a handler agent whose handler plays `steps` for each message. */
export interface ScenarioAgent {
  /** Its name, unique in the scenario: what steps, messages, faults and expectations name. */
  readonly name: string;
  /** Messages handled at once. @default 1 */
  readonly concurrency?: number;
  /** Its mailbox. @default `{ capacity: 1000, overflow: reject }` */
  readonly mailbox?: {
    /** How many messages wait at most. @default 1000 */
    readonly capacity?: number;
    /** What a message that finds the mailbox full does. @default 'reject' */
    readonly overflow?: 'reject' | 'drop-oldest' | 'wait';
  };
  /** Its restart limit after crashes. @default `{ maxRestarts: 3, withinMs: 10000 }` */
  readonly restart?: {
    /** Restarts allowed within `withinMs`; past it the agent stops. @default 3 */
    readonly maxRestarts?: number;
    /** The window, in milliseconds. @default 10000 */
    readonly withinMs?: number;
  };
  /** The handler's script, played in order for each message. */
  readonly steps: readonly AgentStep[];
}

/** When a message (or several) arrives: at `at`, `count` of them (at `rate` per second from `at`), or one at each of `times`. */
export interface ScenarioMessageArrivals {
  /** When the first arrives (with `rate`) or when all arrive (without). @default 0 */
  readonly at?: number;
  /** How many. @default 1 */
  readonly count?: number;
  /** Arrivals per second: a Poisson process (exponential gaps), seeded. */
  readonly rate?: number;
  /** One arrives at each of these virtual times (instead of `at`, `count` and `rate`). */
  readonly times?: readonly number[];
}

/** Messages from outside any agent or task: sent, or asked (and their replies awaited). */
export type ScenarioMessage = ScenarioMessageArrivals &
  (
    | {
        /** The agent the message is sent to, fire and forget. */
        readonly send: string;
        /** What is sent: any value. @default null */
        readonly message?: unknown;
      }
    | {
        /** The agent asked. */
        readonly ask: string;
        /** What is sent: any value. @default null */
        readonly message?: unknown;
        /** Gives up after this long, with `E_TIMEOUT`. @default no limit */
        readonly timeoutMs?: number;
      }
  );

/** What a task is: its options and its script. */
export interface TaskTemplate {
  /** The task's name, in events and reports. */
  readonly name?: string;
  /** Higher runs first. @default 0 */
  readonly priority?: number;
  /** An attempt that runs longer ends the task `timeout` (`E_TIMEOUT`). */
  readonly timeoutMs?: number;
  /** How many times a failed attempt is retried, or how, as the task option `retries` takes it. @default 0 */
  readonly retries?:
    | number
    | {
        /** Retries after the first attempt. */
        readonly max?: number;
        /** The delay before the first retry, in milliseconds. */
        readonly delayMs?: number;
        /** How the delay grows from one retry to the next. */
        readonly backoff?: 'fixed' | 'exponential';
        /** The longest delay, in milliseconds. */
        readonly maxDelayMs?: number;
        /** `true` for full jitter; a number `j` in (0, 1] draws each delay from `(delay × (1 − j), delay]`. */
        readonly jitter?: boolean | number;
      };
  /** Declared resources, held before the script starts. */
  readonly resources?: Readonly<Record<string, number>>;
  /** The task's group, for `engine.rateLimit` with `per: group`. */
  readonly group?: string;
  /** Ends the task `timeout` (`E_QUEUE_TIMEOUT`) when it has not started this many ms after its submission. */
  readonly queueTimeoutMs?: number;
  /** The script the task's function plays, step by step. */
  readonly steps: readonly Step[];
}

/**
 * A dependency of an explicit task, by id: `allow: settled` runs the task whatever way the
 * dependency ended (failed, cancelled, timed out...); `completed` (the default) needs it to complete.
 */
export interface ScenarioDependency {
  /** The id of an explicit task. */
  readonly task: string;
  /** What the dependency must end as for the dependant to run. @default 'completed' */
  readonly allow?: 'completed' | 'settled';
}

/** An explicit task: a template submitted at a time, with an id others can name. */
export interface ScenarioTask extends TaskTemplate {
  /** An id that dependencies and `cancel` faults name. */
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
  /** The template of the tasks, and when they arrive. */
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
 * main-thread worker (or `crash: { agent }` an agent); `cancel` names an explicit task's id;
 * `capacity.resource` names an engine resource.
 */
export type Fault =
  | {
      /** When, in milliseconds of virtual time. */
      readonly at: number;
      /** A process signal, through the same deferred path as a real one. */
      readonly signal: 'SIGINT' | 'SIGTERM';
    }
  | {
      /** When, in milliseconds of virtual time. */
      readonly at: number;
      /** The worker to crash (`main`), or `{ agent }`: an agent to crash, restarted within its `restart` limit. */
      readonly crash:
        | string
        | {
            /** The agent's name, declared in `agents`. */
            readonly agent: string;
          };
    }
  | {
      /** When, in milliseconds of virtual time. */
      readonly at: number;
      /** The id of the explicit task to cancel. */
      readonly cancel: string;
    }
  | {
      /** When, in milliseconds of virtual time. */
      readonly at: number;
      /** A pool's new capacity. */
      readonly capacity: {
        /** The pool, declared in `engine.resources`. */
        readonly resource: string;
        /** Its new capacity, 1 or more. */
        readonly units: number;
      };
    }
  | {
      /** When, in milliseconds of virtual time. */
      readonly at: number;
      /** A slow-down of a worker's `work` steps. */
      readonly slow: {
        /** The worker: `main`. */
        readonly worker: string;
        /** How many times longer each `work` step that starts meanwhile takes. */
        readonly factor: number;
        /** How long the slow-down lasts. @default until the end of the run */
        readonly forMs?: number;
      };
    };

/** An assertion on the report: an exact number, or a comparison such as ">= 990", "< 1200", "== 0". */
export type Expectation = number | string;

/** A whole scenario. */
export interface Scenario {
  /** Where it was loaded from, for messages and for `--replay`. */
  readonly file?: string;
  /** Its name, in reports. */
  readonly name?: string;
  /** The simulated engine's options. */
  readonly engine?: {
    /** How many tasks run at once. @default 4 */
    readonly concurrency?: number;
    /** @deprecated The old name of `concurrency`, still read. */
    readonly workers?: number;
    /** The resource pools, by name: a capacity, or `{ capacity, rank }`. */
    readonly resources?: Readonly<Record<string, number | ResourceOptions>>;
    /** At most `limit` task starts in any `intervalMs` of virtual time, for the engine or for each task `group`. */
    readonly rateLimit?: Readonly<RateLimitOptions>;
    /** Deadlock detection and resolution, as `createEngine` takes them (a policy by name only). */
    readonly deadlock?: Omit<DeadlockOptions, 'policy'> & {
      /** Which task of a deadlock becomes its victim. */
      readonly policy?: 'youngest' | 'lowest-priority' | 'least-work' | 'fewest-resources';
    };
    /** What taking ranked pools out of order does: `off`, `warn` or `enforce`. */
    readonly lockOrder?: LockOrderMode;
    /** Worker restarts. */
    readonly supervision?: {
      /** Restarts allowed within `withinMs` before the engine escalates. */
      readonly maxRestarts?: number;
      /** The window restarts are counted in, in milliseconds. */
      readonly withinMs?: number;
    };
    /** The phased shutdown at the end of the run or on a `signal` fault. */
    readonly shutdown?: {
      /** How long draining may last before terminating, in milliseconds. */
      readonly graceMs?: number;
      /** Whether queued tasks `run` or are `cancel`led while draining. */
      readonly drain?: DrainMode;
    };
  };
  /** The workload: explicit tasks and generators. */
  readonly tasks?: ReadonlyArray<ScenarioTask | TaskGenerator>;
  /** The agents, spawned at time 0 in the order listed. */
  readonly agents?: readonly ScenarioAgent[];
  /** Messages sent to or asked of the agents from outside, at given times. */
  readonly messages?: readonly ScenarioMessage[];
  /** Faults injected at given times. */
  readonly faults?: readonly Fault[];
  /**
   * Assertions on the report, by name: `completed`, `failed`, `cancelled`, `timeout`, `deadlock`,
   * `rejected` (counts by status), `deadlocks` (how many were detected), `lost`, `maxQueueDepth`,
   * `makespanMs`, `code.E_…` (counts by error code), `asks.replied`, `asks.failed` and
   * `asks.code.E_…` (the asks of the scenario's steps and messages), and `agent.<name>.<statistic>`.
   */
  readonly expect?: Readonly<Record<string, Expectation>>;
}
