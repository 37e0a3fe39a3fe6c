import os from 'node:os';
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from './clock';
import type { MezanError } from './errors';
import type { Logger } from './logger';
import type { RandomSource } from './random';
import type { TaskHandle } from './task-handle';
import type { DeadlockPolicy } from './detection/deadlock-policy';
import type { LockOrderMode } from './internal/task-services';
import type { TaskFunction } from './task-options';
import type { NamedTasks } from './internal/named-tasks';
import type { ClusterOptions, ResolvedClusterOptions } from './cluster/cluster-options';
import type { TelemetryOptions, TelemetrySpan, TelemetryTracer } from './telemetry/telemetry-options';

export type { DeadlockPolicy, LockOrderMode, TelemetryOptions, TelemetrySpan, TelemetryTracer };

/**
 * Options of {@link createEngine}. Every field is optional: left out (or `undefined`) it takes its
 * default; `null` is a value like any other, refused where the field takes no `null`, and an array is
 * never an options object.
 */
export interface EngineOptions {
  /**
   * How many tasks run at once (as in p-queue and BullMQ): the slots of the main-thread worker.
   * @default `os.availableParallelism()`
   */
  concurrency?: number;
  /**
   * How many worker threads run thread tasks (`inThread`): that many at once, beside the main
   * thread's `concurrency`. They start with the first thread task, so an engine that never runs one
   * costs nothing. `0`: no threads; thread tasks then run on the main thread.
   * @default `os.availableParallelism() - 1`, at least 1
   */
  threads?: number;
  /**
   * @deprecated Use {@link EngineOptions.concurrency}: `workers: n` is read as `concurrency: n`
   * (with one warning through the logger).
   */
  workers?: number;
  /**
   * The clock every timer goes through (XState's `SimulatedClock` and {@link VirtualClock} fit).
   * Not with `cluster`: a cluster runs in Redis's real time (`E_INVALID_OPTION` naming `clock`).
   * @default {@link realClock}
   */
  clock?: Clock;
  /**
   * The random source for retry jitter and generated ids: numbers in `[0, 1)` (a constant source
   * will do; the engine's id takes its first 8 draws). @default `Math.random`
   */
  random?: RandomSource;
  /**
   * A logger for structured logs with task and actor ids (winston's and pino's fit {@link Logger}
   * as they are), or `false` for no logs at all. What its methods throw is ignored.
   * @default warnings and errors to stderr (level from the environment variable `MEZAN_LOG_LEVEL`)
   */
  logger?: Logger | false;
  /**
   * @deprecated Ignored: a worker now gets, in one message, as many attempts as it has free slots.
   * Still validated (a positive integer), so existing code keeps running.
   */
  maxBatch?: number;
  /**
   * Called (asynchronously) with a task's error when the task failed and nobody had asked for its
   * `result`: an error is never swallowed. Cancellations are not reported.
   * @default logs the error at `warn` level through `logger`
   */
  onUnhandledError?: (error: MezanError, handle: TaskHandle<unknown>) => void;
  /**
   * At most `limit` task starts in any `intervalMs` of clock time (a sliding window), for the whole
   * engine or, with `per: 'group'`, for each task `group` (tasks without a group are then not
   * limited). Ready tasks wait their turn in priority order; a retry's start counts too.
   * @example `{ limit: 10, intervalMs: 1000 }` (10 starts a second)
   * @default no limit
   */
  rateLimit?: RateLimitOptions;
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
  /** What the monitor measures for `engine.metrics()` and `engine.prometheus()`. */
  metrics?: MetricsOptions;
  /** When the monitor raises alerts; each one can be turned off. */
  thresholds?: AlertThresholds;
  /**
   * An XState inspection observer, handed to the actor system: it sees every actor, event,
   * snapshot and action (`@statelyai/inspect`'s `inspector.inspect` fits). A function, or an object
   * whose `next`, `error` and `complete` are functions or absent (one at least). What it throws is
   * contained: the first throw is logged as an error, later ones are counted.
   * @example
   * ```ts
   * import { createBrowserInspector } from '@statelyai/inspect';
   * const engine = createEngine({ inspect: createBrowserInspector().inspect });
   * ```
   */
  inspect?: InspectionObserver;
  /**
   * OpenTelemetry tracing, with `@opentelemetry/api` installed (an optional peer dependency, loaded
   * only when this is on): a span per task attempt, child of the span active at `submit()` (of the
   * parent task's span for `ctx.submit`), its function running in the span's context. `true` uses
   * the global tracer provider's tracer named `mezan`; `{ tracer }` the one given. Off, it costs a
   * submission one test.
   * @example
   * ```ts
   * import { trace } from '@opentelemetry/api';
   * const engine = createEngine({ telemetry: { tracer: trace.getTracer('my-service') } });
   * ```
   * @default false
   */
  telemetry?: boolean | TelemetryOptions;
  /**
   * Named tasks: functions this engine runs by name, `engine.submit('resize', { input })` (more can
   * be added with `engine.define(name, fn)`). A name is a non-empty string, defined once.
   * @example
   * ```ts
   * const engine = createEngine({ tasks: { resize: (ctx) => resize(ctx.input), charge } });
   * await engine.submit('resize', { input: { id: 42 }, priority: 3 }).result;
   * ```
   * @default {}
   */
  tasks?: NamedTaskFunctions;
  /**
   * Joins a cluster of mezan nodes on Redis (through BullMQ): `engine.submit(name, options)` then
   * sends named tasks to the cluster's queue, and this engine runs the cluster's named tasks on its
   * own executor and workers, `cluster.concurrency` at once. In a cluster a task runs at least once
   * (a node that dies mid-task has it run again elsewhere once its lease lapses); its handle settles
   * exactly once. Without this option nothing of it is loaded.
   * @example
   * ```ts
   * const engine = createEngine({ cluster: { redis: 'redis://127.0.0.1:6379', name: 'orders', node: 'api-1' }, tasks: { resize } });
   * await engine.submit('resize', { input: { id: 42 } }).result;
   * ```
   * @default none: the engine is on its own
   */
  cluster?: ClusterOptions;
}

/** Task functions by name, as the `tasks` option of {@link createEngine} takes them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each function has its own result type
export type NamedTaskFunctions = Readonly<Record<string, TaskFunction<any>>>;

/** An XState inspection observer: a function of each inspection event, or an observer object. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * When task wait and run times are sampled: `always`, from the first call of `engine.metrics()` or
 * `engine.prometheus()` on (`on-demand`), or never (`off`). Sampling needs the per-task events,
 * which are otherwise built only while someone subscribes to `events$`: `on-demand` keeps an
 * engine nobody measures as fast as one without a monitor.
 */
export type TimingsMode = 'always' | 'on-demand' | 'off';

/** What the monitor measures. */
export interface MetricsOptions {
  /** When task wait and run times are sampled into histograms; see {@link TimingsMode}. @default 'on-demand' */
  timings?: TimingsMode;
}

/**
 * When the monitor raises alerts. An alert is raised once when its measure goes over its threshold
 * and cleared once when the measure falls to or below `clearRatio` times the threshold (so a
 * measure hovering at the threshold does not make it flap). Set a threshold to `false` to turn
 * that alert off.
 */
export interface AlertThresholds {
  /**
   * Warn when a request for a pool waits longer than this, in milliseconds (raised as soon as one
   * has waited that long). It clears once the last wait and every wait still going are at or below
   * the clear level (an immediate grant is a wait of 0). @default 100
   */
  resourceWaitMs?: number | false;
  /** Warn when a pool's units in use stay over this fraction of its capacity for `poolUtilizationForMs`. @default 0.9 */
  poolUtilization?: number | false;
  /**
   * How long a pool's utilization must stay over its threshold to raise the alert, and at or below
   * the clear level to clear it, in milliseconds: a pool of one unit is fully used whenever it is
   * used at all. @default 1000
   */
  poolUtilizationForMs?: number;
  /** Warn when more tasks than this are queued, ready and waiting for a worker. @default 1000 */
  queueDepth?: number | false;
  /** A critical alert when a deadlock is detected, cleared once the wait-for graph is free of it. @default true */
  deadlock?: boolean;
  /**
   * A critical alert when more workers crashed within the supervision window (`supervision.withinMs`)
   * than this. @default `supervision.maxRestarts`: the alert is the escalation
   */
  workerRestarts?: number | false;
  /** Warn when more than this fraction of an agent's mailbox capacity waits in it (`agent.mailbox`). @default 0.9 */
  agentMailbox?: number | false;
  /** The fraction of its threshold a measure must fall to for its alert to clear, in `(0, 1]`. @default 0.8 */
  clearRatio?: number;
}

/** {@link AlertThresholds} resolved: `undefined` turns an alert off. @internal */
export interface ResolvedAlertThresholds {
  readonly resourceWaitMs: number | undefined;
  readonly poolUtilization: number | undefined;
  readonly poolUtilizationForMs: number;
  readonly queueDepth: number | undefined;
  readonly deadlock: boolean;
  readonly workerRestarts: number | undefined;
  readonly agentMailbox: number | undefined;
  readonly clearRatio: number;
}

/** A resource pool's settings. */
export interface ResourceOptions {
  /** How many units the pool has: a positive integer. */
  capacity: number;
  /** Its place in the lock hierarchy (any finite number); unranked pools are exempt. */
  rank?: number;
  /**
   * Whose units these are: this engine's (`local`), or shared by every node of the engine's cluster
   * (`cluster`, which needs the `cluster` option): units held across the nodes never exceed
   * `capacity`, and a node that dies has its units back in the pool once its leases lapse. A task's
   * `ctx.acquire` is the same for both.
   * @default 'local'
   */
  scope?: ResourceScope;
  /**
   * For a cluster pool: how long a lease lives in Redis unrefreshed (its node refreshes it three
   * times as often while the task holds it). A node that dies keeps its units this long at most; a
   * node stalled longer (a blocked event loop) loses them, and its task's attempt fails with
   * `E_LEASE_LOST`. @default 10000
   */
  leaseMs?: number;
}

/** Whose units a pool's are: see {@link ResourceOptions.scope}. */
export type ResourceScope = 'local' | 'cluster';

/** Deadlock detection and resolution settings. */
export interface DeadlockOptions {
  /**
   * When to look: `immediate`ly when a task blocks, `{ afterMs }` after an optimistic delay (in the
   * manner of PostgreSQL's deadlock_timeout), or `off`. @default 'immediate'
   */
  detect?:
    | 'immediate'
    | 'off'
    | {
        /** How long after a task blocks to look, in milliseconds, from 0 to 2^31 − 1. */
        afterMs: number;
      };
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
  compensate?:
    | false
    | {
        /** The most temporary workers in service at once. @default 4 */
        maxExtraWorkers?: number;
      };
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
   * How long, in milliseconds, the terminating phase waits for aborted functions to return. A
   * function that ignores its signal and never returns is abandoned then: its task already ended
   * (`cancelled`, or how it ended before), its slot is let go, and the shutdown report lists it in
   * `abandoned`. @default 5000
   */
  abandonAfterMs?: number;
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
  /** Milliseconds from 0 to 2^31 - 1, as `shutdown.graceMs`. @default the engine's `shutdown.graceMs` */
  graceMs?: number;
  /** @default the engine's `shutdown.drain` */
  drain?: DrainMode;
  /** Skip draining (or cut it short): abort running tasks and cancel queued ones now. @default false */
  force?: boolean;
}

/** Options of {@link EngineOptions.rateLimit}. */
export interface RateLimitOptions {
  /** How many starts a window allows: a positive integer (of any size: nothing is allocated per unit). */
  limit: number;
  /** The window, in milliseconds: a positive number up to 2^31 - 1 (about 24.8 days). */
  intervalMs: number;
  /** `engine`: one limit for every task; `group`: one per task `group`. @default 'engine' */
  per?: 'engine' | 'group';
}

/** A {@link RateLimitOptions} with every field filled. @internal */
export interface ResolvedRateLimit {
  readonly limit: number;
  readonly intervalMs: number;
  readonly per: 'engine' | 'group';
}

/** {@link EngineOptions} with every field filled. @internal */
export interface ResolvedEngineOptions {
  readonly concurrency: number;
  readonly threads: number;
  readonly rateLimit: ResolvedRateLimit | undefined;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly onUnhandledError: ((error: MezanError, handle: TaskHandle<unknown>) => void) | undefined;
  readonly supervision: { readonly maxRestarts: number; readonly withinMs: number };
  readonly shutdown: {
    readonly graceMs: number;
    readonly drain: DrainMode;
    readonly abandonAfterMs: number;
    readonly signals: readonly NodeJS.Signals[];
    readonly exitOnSignal: boolean;
  };
  readonly resources: ReadonlyArray<{
    readonly name: string;
    readonly capacity: number;
    readonly rank: number | undefined;
    readonly scope: ResourceScope;
    readonly leaseMs: number;
  }>;
  readonly deadlock: {
    readonly detect: 'immediate' | 'off' | { readonly afterMs: number };
    readonly policy: DeadlockPolicy;
    readonly maxExtraWorkers: number;
  };
  readonly lockOrder: LockOrderMode;
  readonly timings: TimingsMode;
  readonly thresholds: ResolvedAlertThresholds;
  readonly inspect: InspectionObserver | undefined;
  /** The named tasks (added to by `engine.define`). */
  readonly tasks: NamedTasks;
  readonly cluster: ResolvedClusterOptions | undefined;
}

/** The defaults of {@link EngineOptions} that are plain values. */
export const ENGINE_DEFAULTS = Object.freeze({
  /** `concurrency`: the machine's available parallelism, read when an engine is made. */
  concurrency: (): number => os.availableParallelism(),
  /** `threads`: one less than the machine's available parallelism (the main thread has one), at least 1. */
  threads: (): number => Math.max(1, os.availableParallelism() - 1),
  /** {@link SupervisionOptions}. */
  supervision: Object.freeze({
    /** Restarts allowed within `withinMs`. */
    maxRestarts: 5,
    /** The window, in milliseconds. */
    withinMs: 5000,
  }),
  /** {@link ShutdownOptions}. */
  shutdown: Object.freeze({
    /** How long draining may last, in milliseconds. */
    graceMs: 10_000,
    /** Queued tasks run while draining. */
    drain: 'run' as DrainMode,
    /** How long terminating waits for functions that ignore their abort signal, in milliseconds. */
    abandonAfterMs: 5_000,
    /** No process signal is listened to. */
    signals: Object.freeze([]) as readonly NodeJS.Signals[],
    /** The engine never ends the process. */
    exitOnSignal: false,
  }),
  /** {@link DeadlockOptions}. */
  deadlock: Object.freeze({
    /** Detection when a task blocks. */
    detect: 'immediate' as
      | 'immediate'
      | 'off'
      | {
          /** How long after a task blocks to look, in milliseconds. */
          readonly afterMs: number;
        },
    /** The youngest task of a deadlock is its victim. */
    policy: 'youngest' as DeadlockPolicy,
    /** Temporary workers for worker-slot starvation, at most this many at once. */
    maxExtraWorkers: 4 as number,
  }),
  /** Lock-order violations are reported, not refused. */
  lockOrder: 'warn' as LockOrderMode,
  /** Task timings are sampled from the first `engine.metrics()` call. */
  timings: 'on-demand' as TimingsMode,
  /** The alert thresholds ({@link AlertThresholds}). */
  thresholds: Object.freeze({
    /** A resource wait over this many milliseconds raises an alert. */
    resourceWaitMs: 100,
    /** A pool used over this fraction of its capacity... */
    poolUtilization: 0.9,
    /** ...for this many milliseconds raises an alert. */
    poolUtilizationForMs: 1000,
    /** More tasks queued than this raises an alert. */
    queueDepth: 1000,
    /** A deadlock raises an alert. */
    deadlock: true,
    /** An agent's mailbox over this fraction of its capacity raises an alert. */
    agentMailbox: 0.9,
    /** An alert clears when its measure falls to this fraction of its threshold. */
    clearRatio: 0.8,
  }),
});

// The keys each options object may have, for the check that refuses unknown (misspelt) ones. Records
// typed by the interfaces, so that a key added to an interface must be added here.

/** @internal */
export const ENGINE_OPTION_KEYS: Readonly<Record<keyof EngineOptions, true>> = Object.freeze({
  concurrency: true,
  threads: true,
  workers: true,
  clock: true,
  random: true,
  logger: true,
  maxBatch: true,
  onUnhandledError: true,
  rateLimit: true,
  supervision: true,
  resources: true,
  deadlock: true,
  lockOrder: true,
  shutdown: true,
  metrics: true,
  thresholds: true,
  inspect: true,
  telemetry: true,
  tasks: true,
  cluster: true,
});

/** @internal */
export const METRICS_OPTION_KEYS: Readonly<Record<keyof MetricsOptions, true>> = Object.freeze({ timings: true });

/** @internal */
export const THRESHOLD_OPTION_KEYS: Readonly<Record<keyof AlertThresholds, true>> = Object.freeze({
  resourceWaitMs: true,
  poolUtilization: true,
  poolUtilizationForMs: true,
  queueDepth: true,
  deadlock: true,
  workerRestarts: true,
  agentMailbox: true,
  clearRatio: true,
});

/** @internal */
export const RESOURCE_OPTION_KEYS: Readonly<Record<keyof ResourceOptions, true>> = Object.freeze({
  capacity: true,
  rank: true,
  scope: true,
  leaseMs: true,
});

/** @internal */
export const DEADLOCK_OPTION_KEYS: Readonly<Record<keyof DeadlockOptions, true>> = Object.freeze({ detect: true, policy: true, compensate: true });

/** @internal */
export const SUPERVISION_OPTION_KEYS: Readonly<Record<keyof SupervisionOptions, true>> = Object.freeze({ maxRestarts: true, withinMs: true });

/** @internal */
export const SHUTDOWN_OPTION_KEYS: Readonly<Record<keyof ShutdownOptions, true>> = Object.freeze({
  graceMs: true,
  drain: true,
  abandonAfterMs: true,
  signals: true,
  exitOnSignal: true,
});

/** @internal */
export const SHUTDOWN_REQUEST_KEYS: Readonly<Record<keyof ShutdownRequestOptions, true>> = Object.freeze({ graceMs: true, drain: true, force: true });

/** @internal */
export const RATE_LIMIT_OPTION_KEYS: Readonly<Record<keyof RateLimitOptions, true>> = Object.freeze({ limit: true, intervalMs: true, per: true });
