import { constants as osConstants } from 'node:os';
import type { Observable } from 'rxjs';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { ExecutorRef } from '../actors/executor.actor';
import type { PoolSnapshot, poolLogic } from '../actors/pool.actor';
import { SubjectSink } from './internal/subject-sink';
import { EventHub } from './internal/event-hub';
import { AUTO_ID_PREFIX, TaskIndex } from './internal/task-index';
import { NO_EXTRAS, TaskRecord, type GraphKeyRef, type TaskExtras, type TaskRecordOwner } from './internal/task-record';
import { settledCount, type TaskCounts } from './internal/task-book';
import type { MonitorRef } from '../actors/monitor.actor';
import {
  clusterPartRefs,
  supervisorMachine,
  type ClusterDeadlocksSpawner,
  type ClusterPoolSpawner,
  type ClusterMembershipSpawner,
  type ClusterPart,
  type ClusterSubmitterSpawner,
  type ClusterWorkerSpawner,
} from '../machines/supervisor.machine';
import { realClock, type Clock } from './clock';
import type { EngineEvent } from './engine-events';
import {
  DEADLOCK_OPTION_KEYS,
  ENGINE_DEFAULTS,
  ENGINE_OPTION_KEYS,
  METRICS_OPTION_KEYS,
  RATE_LIMIT_OPTION_KEYS,
  RESOURCE_OPTION_KEYS,
  SHUTDOWN_OPTION_KEYS,
  SHUTDOWN_REQUEST_KEYS,
  SUPERVISION_OPTION_KEYS,
  THRESHOLD_OPTION_KEYS,
  type EngineOptions,
  type InspectionObserver,
  type LockOrderMode,
  type ResolvedAlertThresholds,
  type ResolvedEngineOptions,
  type ResolvedRateLimit,
  type ShutdownRequestOptions,
  type TimingsMode,
} from './engine-options';
import { DEADLOCK_POLICY_NAMES } from './detection/deadlock-policy';
import type { DeadlockReport } from './detection/deadlock-resolver';
import type { WaitForGraphSnapshot } from './detection/wait-for-graph';
import { graphWithHoldings } from './detection/graph-with-holdings';
import type { DashboardOptions } from './dashboard/dashboard-options';
import type { DashboardServer } from './dashboard/serve-dashboard';
import type { ClusterTaskCounts, EngineProgress, EngineStats, ShutdownReport, WorkerSnapshot } from './engine-snapshots';
import { MezanError } from './errors';
import type { EventSink } from './internal/event-sink';
import type { AlertRecord } from './metrics/alert-book';
import type { MetricsSnapshot } from './metrics/metrics-snapshot';
import { MonitorFeed } from './metrics/monitor-feed';
import { renderPrometheus } from './metrics/render-prometheus';
import { readAgentGauges, readWorkerGauge } from './metrics/read-gauges';
import { AgentMetricsObserver } from './metrics/agent-metrics-observer';
import { resolveRetryPolicy } from './internal/retry-policy';
import type { DependencyRef, TaskSubmission } from './internal/task-protocol';
import { topologicalSort } from './internal/topological-sort';
import { resolveTelemetry } from './telemetry/resolve-telemetry';
import { TaskTracing } from './telemetry/task-tracing';
import {
  describeValue,
  expectFiniteNumber,
  expectFunction,
  expectKnownKeys,
  expectNonEmptyString,
  expectNonNegativeInteger,
  expectNonNegativeNumber,
  expectOneOf,
  expectOptionsObject,
  expectPositiveInteger,
  optionReadError,
  fail,
  isOptionsObject,
  MAX_TIMER_MS,
  orDefault,
} from './internal/validate';
import { createDefaultLogger } from './default-logger';
import {
  loadClusterDeadlocks,
  loadClusterJoin,
  loadClusterMembership,
  loadClusterSubmissions,
  loadClusterSubmitter,
  loadClusterWorker,
  loadClusterPool,
  loadClusterViewReader,
  loadContainedObservable,
  loadDashboardServer,
  loadRxjs,
} from './load-on-use';
import { LOGGER_METHODS, missingLoggerMethod, SILENT_LOGGER, type Logger } from './logger';
import { containLogger } from './internal/contained-logger';
import { containObserver } from './internal/contained-observer';
import { describeThrown } from './internal/describe-thrown';
import { defaultRandom, type RandomSource } from './random';
import { TaskHandle, taskBehind } from './task-handle';
import {
  DEPENDENCY_SPEC_KEYS,
  NO_RETRIES,
  TASK_GRAPH_NODE_KEYS,
  TASK_OPTION_KEYS,
  type Dependency,
  type TaskFunction,
  type TaskGraphNode,
  type TaskOptions,
} from './task-options';
import { runSoon } from './internal/run-soon';
import { cancelOnAbort } from './internal/cancel-on-abort';
import { NamedTasks } from './internal/named-tasks';
import { CLUSTER_READY_OPTION_KEYS, resolveClusterOptions, type ClusterReadyOptions } from './cluster/cluster-options';
import { redisServerOf } from './cluster/redis-refusal';
import type { ClusterSubmissions } from '../actors/cluster-submissions';
import { ClusterPartsLeaving } from './cluster/cluster-parts-leaving';
import type { ClusterJoin } from '../actors/cluster-join';
import type { ClusterMember, ClusterView } from './cluster/cluster-view';
import type { ClusterMembership } from '../actors/cluster-membership';
import type { ClusterViewReader } from '../actors/cluster-view-reader';
import { AgentRegistry } from './agents/agent-registry';
import type { Agent } from './agents/agent';
import type { AgentOptions } from './agents/agent-options';
import type { AgentHost } from './agents/agent-host';
import { spawnRouter, type Router } from './agents/router';
import type { RouterOptions } from './agents/router-options';
import { spawnTeam } from './agents/team';
import type { TeamOptions } from './agents/team-options';
import type { SuperviseOptions } from './agents/agent-supervision';

/** One actor of an engine and the state its machine is in; see {@link Engine.actors}. */
export interface EngineActor {
  /** `supervisor`, `executor`, `worker-1`, `resource:db`, `detector`, `cluster-deadlocks`, `cluster-worker`, `cluster-submitter`, `cluster-membership`, `shutdown`, `monitor`, `agent:analyzer`… */
  readonly id: string;
  /**
   * The chart it follows: `supervisor`, `executor`, `worker`, `resource`, `detector`,
   * `cluster-deadlocks` (a cluster node's part in detecting deadlocks across the cluster),
   * `cluster-worker` (a cluster node's working side: it takes the cluster's tasks),
   * `cluster-submitter` (its submitting side: it sends the named tasks it submits),
   * `cluster-membership` (its record in the cluster), `shutdown`, `monitor` or `agent`.
   */
  readonly machine:
    | 'supervisor'
    | 'executor'
    | 'worker'
    | 'resource'
    | 'detector'
    | 'cluster-deadlocks'
    | 'cluster-worker'
    | 'cluster-submitter'
    | 'cluster-membership'
    | 'shutdown'
    | 'monitor'
    | 'agent';
  /** The actor that spawned it; `undefined` for the supervisor, the root. */
  readonly parent: string | undefined;
  /** Its (top-level) state, such as `busy`. */
  readonly state: string;
}

/** The top-level state of a state value (`{ watching: { … } }` is `watching`). */
function topState(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'object' && value !== null ? (Object.keys(value)[0] ?? '') : String(value);
}

/** A fault {@link Engine.inject} can make happen. */
export type EngineFault =
  | {
      /** Crashes a worker: its running attempts fail with `E_WORKER_CRASHED`, and it is restarted. */
      readonly type: 'worker.crash';
      /** The worker: `main`. */
      readonly workerId: string;
    }
  | {
      /** Slows a worker down: each `ctx.sleep` that starts meanwhile takes `factor` times as long. */
      readonly type: 'worker.slow';
      /** The worker: `main`. */
      readonly workerId: string;
      /** How many times as long. */
      readonly factor: number;
      /** How long the slow-down lasts, in milliseconds. @default until the engine stops */
      readonly forMs?: number;
    }
  | {
      /** A process signal, through the same deferred path as a real one. */
      readonly type: 'signal';
      /** The signal, such as `SIGTERM`. */
      readonly signal: NodeJS.Signals;
    }
  | {
      /** Changes a pool's capacity. */
      readonly type: 'resource.capacity';
      /** The pool. */
      readonly resource: string;
      /** Its new capacity, in units. */
      readonly capacity: number;
    }
  | {
      /** Crashes an agent: what it handles fails with `E_AGENT_FAILED`, and it restarts within its `restart` limit (its mailbox kept). */
      readonly type: 'agent.crash';
      /** The agent's name. */
      readonly agent: string;
    };

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const NO_DEPENDENCIES: readonly never[] = Object.freeze([]);
const NO_IDS: ReadonlySet<string> = new Set();
const NO_OPTIONS: TaskOptions = Object.freeze({});
/** The task options that are the caller's own data, handed over untouched: nothing checks them. */
const CALLERS_DATA: readonly string[] = ['meta', 'input'];
/** The empty submission buffer, never added to: the first submission of a batch makes a new one. */
const NO_SUBMISSIONS: TaskSubmission[] = [];

/**
 * Creates an engine: an executor actor and its workers, ready to run tasks.
 *
 * @param options - see {@link EngineOptions}
 * @throws {MezanError} `E_INVALID_OPTION` naming the option and the value received
 * @example
 * ```ts
 * const engine = createEngine({ concurrency: 4 });
 * const answer = engine.submit(async (ctx) => { await ctx.sleep(10); return 42; });
 * console.log(await answer.result); // 42
 * await engine.shutdown();
 * ```
 */
export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine(options);
}

/**
 * The public face of mezan: validates input, owns the actor system, and turns actor messages into
 * handles, events and snapshots. Create one with {@link createEngine}.
 */
export class Engine {
  /** This engine's id; it prefixes its logs. */
  readonly id: string;
  readonly #options: ResolvedEngineOptions;
  /** The engine's pools by name, for validating what tasks declare. */
  readonly #poolsByName: ReadonlyMap<string, ResolvedEngineOptions['resources'][number]>;
  /** The last resources declaration resolved, and the extras of the tasks whose only rare option it is: equal ones share them. */
  #lastDeclared: ReadonlyArray<readonly [string, number]> | undefined;
  #resourceExtras: TaskExtras | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #actor: Actor<typeof supervisorMachine>;
  readonly #executor: ExecutorRef;
  readonly #monitor: MonitorRef;
  /** The running agents by name (their actors are the supervisor's children). */
  readonly #agents: AgentRegistry;
  /** Carries observations to the monitor, a batch per turn of the event loop. */
  readonly #feed: MonitorFeed;
  /** Wake the monitor when more tasks than the first are queued, or the second or fewer (it says so). */
  #queueNudgeAbove = Number.POSITIVE_INFINITY;
  #queueNudgeAtOrBelow = -1;
  /** Whether the queue alert is on (nothing to check for it otherwise). */
  #queueWatched = false;
  #queueCheckScheduled = false;
  /** A settlement is followed, in the same step, by the dispatches and the dependents it frees: look after them. */
  readonly #checkQueue = (): void => {
    this.#queueCheckScheduled = false;
    this.#nudgeOnQueue();
  };
  #timingsRequested = false;
  /** Spans of task attempts, when the `telemetry` option is on. */
  readonly #tracing: TaskTracing | undefined;
  readonly #events = new EventHub<EngineEvent>();
  /** Made on first use: RxJS loads then (see `events$`). */
  #events$: Observable<EngineEvent> | undefined = undefined;
  /** The executor's counts at the event being delivered, if it came from the executor. */
  #countsAtEvent: Readonly<TaskCounts> | undefined = undefined;
  /** Numbers the accepted submissions; those numbered from `#flushedUpTo` on are still in the buffer. */
  #submitSeq = 0;
  #flushedUpTo = 0;
  /** Submissions made in the current tick; they reach the executor as one event. */
  #buffer: TaskSubmission[] = NO_SUBMISSIONS;
  /** Tasks of this tick's buffer whose callers cancelled them before they reached the executor. */
  #cancelledInBuffer: Map<string, MezanError> | undefined = undefined;
  #flushScheduled = false;
  /** `#flush`, made once: a flush is scheduled for every batch, and an idle engine's batches are of one. */
  readonly #flushSoon = (): void => this.#flush();
  /** Unfinished tasks by id: for `dependsOn` by id and unique ids. Finished ones are dropped. */
  readonly #live = new TaskIndex<TaskRecord>();
  readonly #signalCleanups = new Map<TaskHandle<unknown>, () => void>();
  #nextTaskNumber = 1;
  #rejected = 0;
  #firstSubmittedAt: number | undefined = undefined;
  #idleWaiters: Array<() => void> = [];
  #accepting = true;
  #shutdown: Promise<ShutdownReport> | undefined = undefined;
  #resolveShutdown: ((report: ShutdownReport) => void) | undefined = undefined;
  #report: ShutdownReport | undefined = undefined;
  readonly #owner: TaskRecordOwner;
  /** How many times the `inspect` observer threw: the first is logged, the others counted (it sees every event). */
  #inspectThrows = 0;
  /**
   * This engine's membership of a cluster (option `cluster`): the named tasks it submitted there
   * and not settled. They outlive the supervisor's `cluster-submitter`, which sends them (whence it
   * takes the cluster's is the supervisor's `cluster-worker`).
   */
  readonly #cluster: ClusterSubmissions | undefined;
  /**
   * How each of this node's cluster parts (each an actor of the supervisor's, replaced when it
   * fails) left, by part: failed, or stopped with the actors. The engine waits for them at its
   * shutdown, and drops their connections at once when Redis does not answer.
   */
  readonly #clusterLeft: Readonly<Record<ClusterPart, ClusterPartsLeaving>> = {
    'cluster-deadlocks': new ClusterPartsLeaving(),
    'cluster-worker': new ClusterPartsLeaving(),
    'cluster-submitter': new ClusterPartsLeaving(),
    'cluster-membership': new ClusterPartsLeaving(),
  };
  /** Settles once the working side has left, at shutdown: the submitting side leaves after it. */
  #clusterWorkersClosed: Promise<void> | undefined = undefined;
  /** Whether it has joined its cluster, or was refused: made with the first of its parts. */
  #clusterJoin: ClusterJoin | undefined = undefined;
  /** The Redis connection of the cluster pools (`scope: 'cluster'`), when there are any. */
  #poolRedis: { quit(): Promise<unknown>; disconnect(): void } | undefined = undefined;
  /**
   * This node's membership record in the cluster (option `cluster`: the supervisor's
   * `cluster-membership` tells the latest it made), and the reader of the cluster's view on its
   * connection once asked for.
   */
  #membership: ClusterMembership | undefined = undefined;
  #clusterViews: ClusterViewReader | undefined = undefined;
  #clusterViewsOn: ClusterMembership | undefined = undefined;
  /** Set once the engine is made: a membership made from then on (a replaced one) writes its record at once. */
  #membershipsWrite = false;
  /** The shutdown phase, as the node's membership record tells it. */
  #phase = 'running';

  /** @internal Use {@link createEngine}. */
  constructor(options: EngineOptions) {
    this.#options = resolveEngineOptions(options);
    this.#poolsByName = new Map(this.#options.resources.map((pool) => [pool.name, pool]));
    this.#clock = this.#options.clock;
    this.id = engineId(this.#options.random);
    this.#logger = this.#options.logger.child({ engine: this.id });
    const telemetry = resolveTelemetry(options.telemetry);
    if (telemetry === undefined) this.#tracing = undefined;
    else {
      const tracing = new TaskTracing(telemetry.api, telemetry.tracer, this.#clock, this.#clock === realClock, this.id, this.#logger);
      // Subscribed before anyone else: an attempt's span has started when a subscriber hears of the attempt.
      this.#events.observable.subscribe({ next: (event) => tracing.observe(event), complete: () => tracing.close() });
      this.#tracing = tracing;
    }
    const sink: EventSink = new SubjectSink(this.#events, (counts, deliver) => {
      // While the event is delivered, `progress()` reads the counts it came with: already counting it.
      this.#countsAtEvent = counts;
      try {
        deliver();
      } finally {
        this.#countsAtEvent = undefined;
      }
    });
    const feed = (this.#feed = new MonitorFeed(this.#clock));
    this.#owner = {
      cancelTask: (task, reason) => this.#cancel(task, reason),
      taskSettled: (task, error) => this.#onSettled(task, error),
      reprioritize: (task, priority) => {
        // Still in this tick's buffer, the record is the engine's to change; once sent, the executor's.
        if (task.submitSeq >= this.#flushedUpTo) task.priority = priority;
        else this.#executor.send({ type: 'task.reprioritize', taskId: task.id, priority });
      },
    };
    const inspect = this.#options.inspect;
    this.#cluster = this.#options.cluster === undefined ? undefined : this.#submissionsOf(this.#options.cluster, feed.taskSink(sink));
    const clusterParts = this.#clusterParts();
    this.#actor = createActor(clusterParts.machine, {
      clock: this.#clock,
      // XState calls the observer inside the actors' transitions: a throw there would fail the actor.
      inspect: inspect === undefined ? undefined : containObserver(inspect, (thrown) => this.#onInspectThrow(thrown)),
      input: {
        concurrency: this.#options.concurrency,
        threads: this.#options.threads === 0 ? undefined : { count: this.#options.threads, abandonAfterMs: this.#options.shutdown.abandonAfterMs },
        rateLimit: this.#options.rateLimit,
        clock: this.#clock,
        random: this.#options.random,
        logger: this.#logger,
        sink: feed.taskSink(sink),
        systemSink: feed.systemSink(sink),
        monitor: {
          thresholds: this.#options.thresholds,
          timings: this.#options.timings,
          sink,
          observe: (notice) => feed.push(notice),
        },
        supervision: this.#options.supervision,
        shutdown: this.#options.shutdown,
        resources: this.#options.resources,
        clusterPools: clusterParts.pools,
        clusterDeadlocks: clusterParts.deadlocks,
        clusterWorker: clusterParts.worker,
        clusterSubmitter: clusterParts.submitter,
        clusterMembership: clusterParts.membership,
        deadlock: this.#options.deadlock,
        lockOrder: this.#options.lockOrder,
        submitChild: (parentId, fn, options) => this.#submitChild(parentId, fn, options),
        // A task's `ctx.ask` (the registry is made once the supervisor is).
        askAgent: (taskId, to, message, options) => this.#agents.askFromTask(taskId, to, message, options),
      },
    });
    this.#executor = this.#actor.getSnapshot().context.executor;
    this.#monitor = this.#actor.getSnapshot().context.monitor!;
    this.#monitor.on('monitor.demand', ({ collectTasks, queueNudgeAbove, queueNudgeAtOrBelow }) => {
      feed.collectTasks = collectTasks;
      this.#queueNudgeAbove = queueNudgeAbove;
      this.#queueNudgeAtOrBelow = queueNudgeAtOrBelow;
      this.#queueWatched = queueNudgeAbove !== Number.POSITIVE_INFINITY || queueNudgeAtOrBelow >= 0;
    });
    feed.connect(this.#monitor);
    this.#executor.on('idle', () => this.#wakeIdle());
    this.#actor.on('phase', ({ phase, cancelQueued }) => {
      this.#phase = phase;
      if (phase !== 'stopped') this.#actor.getSnapshot().context.clusterMembership?.send({ type: 'cluster-membership.refresh' });
      if (phase === 'draining' || phase === 'terminating') this.#stopAccepting();
      // Draining waits for the agents' messages too: the registry tells the supervisor whether they are quiet.
      if (phase === 'draining') {
        this.#agents.beginDraining();
        // As the executor cancels its queued tasks: the cluster tasks submitted here that no node has started.
        if (cancelQueued === true) this.#cluster?.cancelQueued();
      }
      if (phase === 'terminating') {
        // The grace period is over: the cluster tasks this engine still waits for are no longer its to wait for.
        this.#cluster?.stopWaiting();
        this.#agents.stopAll();
      }
      if (phase === 'stopped') this.#finishShutdown();
    });
    this.#actor.on('escalated', () => this.#stopAccepting());
    this.#actor.subscribe({
      error: (error) => {
        this.#logger.error('the supervisor failed', { error });
      },
    });
    this.#actor.start();
    this.#agents = new AgentRegistry(this.#actor, this.#clock, this.#logger, new AgentMetricsObserver(feed, this.#clock, this.#options.thresholds));
    // A handler's `ctx.submit` submits through the engine, as `engine.submit` does.
    this.#agents.useTasks({
      submit: <T>(task: TaskFunction<T> | string, options?: TaskOptions) =>
        typeof task === 'string' ? this.submit<T>(task, options) : this.submit(task, options),
    });
    // Draining waits, within the grace period, for the cluster tasks this engine submitted.
    if (this.#cluster !== undefined) this.#agents.waitAlsoFor(() => this.#cluster!.pending > 0);
    // Its first record is written once the engine can describe itself.
    this.#membershipsWrite = true;
    this.#membership?.refresh();
    if (options.workers !== undefined) {
      this.#logger.warn('the option `workers` is deprecated: use `concurrency` (the number of tasks that run at once)', {
        workers: options.workers,
      });
    }
    this.#logger.debug('engine started', { concurrency: this.#options.concurrency });
  }

  /**
   * The supervisor's machine, with the logic of the cluster's parts it spawns provided, and what it
   * spawns them with. With the `cluster` option: this node's submitting side (`cluster-submitter`,
   * loading BullMQ); and with `cluster.concurrency` above 0, its working side (`cluster-worker`).
   * When a pool has `scope: 'cluster'`: the cluster pools' logic (loading ioredis and
   * redis-semaphore) and their Redis connection, opened here.
   * Unless `deadlock.detect` is `off`, with cluster pools or on a node that takes cluster tasks,
   * this node's part in detecting deadlocks across the cluster too: a task that runs a cluster task
   * holds one of the cluster's job slots, and may await a cluster task that no slot is left for. A
   * node that only submits, without cluster pools, holds nothing a task of another node could wait
   * for: it takes no part. The part publishes on the pools' connection, or, without pools, on one
   * of its own.
   */
  #clusterParts(): {
    readonly machine: typeof supervisorMachine;
    readonly pools?: ClusterPoolSpawner;
    readonly deadlocks?: ClusterDeadlocksSpawner;
    readonly worker?: ClusterWorkerSpawner;
    readonly submitter?: ClusterSubmitterSpawner;
    readonly membership?: ClusterMembershipSpawner;
  } {
    const cluster = this.#options.cluster;
    if (cluster === undefined) return { machine: supervisorMachine };
    const worker = cluster.concurrency === 0 ? undefined : this.#clusterWorkerSpawner(cluster);
    const submitter = this.#clusterSubmitterSpawner(cluster);
    const membership = this.#clusterMembershipSpawner(cluster);
    const actors: Parameters<typeof supervisorMachine.provide>[0]['actors'] & object = {
      clusterSubmitter: loadClusterSubmitter().clusterSubmitterLogic,
      clusterMembership: loadClusterMembership().clusterMembershipLogic,
    };
    if (worker !== undefined) actors.clusterWorker = loadClusterWorker().clusterWorkerLogic;
    const hasPools = this.#options.resources.some((pool) => pool.scope === 'cluster');
    const detects = this.#detectsAcrossCluster(cluster);
    let redis: ClusterDeadlocksSpawner['input']['redis'];
    let pools: ClusterPoolSpawner | undefined;
    if (hasPools) {
      const { clusterPoolLogic, openClusterPoolConnection } = loadClusterPool();
      redis = openClusterPoolConnection(cluster.redis, (error) =>
        this.#clusterJoinOf(cluster).logger.clusterError('the cluster pools’ Redis connection', error),
      );
      this.#poolRedis = redis;
      pools = { input: { redis, cluster: cluster.name, node: cluster.node, clock: this.#clock, logger: this.#logger } };
      actors.clusterPool = clusterPoolLogic as unknown as typeof poolLogic;
    }
    if (!detects) return { machine: supervisorMachine.provide({ actors }), pools, worker, submitter, membership };
    actors.clusterDeadlocks = loadClusterDeadlocks().clusterDeadlocksLogic;
    const deadlocks: ClusterDeadlocksSpawner = {
      input: {
        url: cluster.redis,
        redis,
        cluster: cluster.name,
        node: cluster.node,
        clock: this.#clock,
        afterMs: cluster.deadlockAfterMs,
        scanMs: cluster.deadlockScanMs,
        // A scan is taken over from a node that died mid-scan as a task is: the cluster's lease and stalled check.
        lockDurationMs: cluster.lockDurationMs,
        stalledIntervalMs: cluster.stalledIntervalMs,
        policy: this.#options.deadlock.policy,
        isClusterTask: (taskId) => this.#cluster?.isWaitingFor(taskId) === true,
        leaving: this.#clusterLeft['cluster-deadlocks'],
        logger: this.#clusterLogger(cluster),
        ready: (listening) => {
          listening.catch(() => undefined);
          this.#clusterJoinOf(cluster).watch('deadlocks', listening);
        },
      },
    };
    return { machine: supervisorMachine.provide({ actors }), pools, deadlocks, worker, submitter, membership };
  }

  /** What this node's submitting side is spawned with: the cluster's options and the node's submissions, which outlive it. */
  #clusterSubmitterSpawner(cluster: NonNullable<ResolvedEngineOptions['cluster']>): ClusterSubmitterSpawner {
    return {
      input: {
        options: cluster,
        submissions: this.#cluster!,
        logger: this.#clusterLogger(cluster),
        clock: this.#clock,
        ready: (ready) => {
          ready.catch(() => undefined);
          this.#clusterJoinOf(cluster).watch('submitter', ready);
        },
        leaving: this.#clusterLeft['cluster-submitter'],
        // The working side's last reports first: its submitter's handles may still hear of them.
        leaveAfter: () => this.#clusterWorkersClosed ?? Promise.resolve(),
      },
    };
  }

  /** What this node's working side is spawned with: the cluster's options, and the engine's tasks and executor to run jobs on. */
  #clusterWorkerSpawner(cluster: NonNullable<ResolvedEngineOptions['cluster']>): ClusterWorkerSpawner {
    return {
      input: {
        options: cluster,
        tasks: this.#options.tasks,
        logger: this.#clusterLogger(cluster),
        random: this.#options.random,
        isAccepting: () => this.#accepting,
        runLocal: (fn, taskOptions) => this.submit(fn, taskOptions),
        ready: (ready) => {
          // Asked for by `onClusterReady()` only: a worker that never gets ready is no unhandled rejection.
          ready.catch(() => undefined);
          this.#clusterJoinOf(cluster).watch('worker', ready);
        },
        leaving: this.#clusterLeft['cluster-worker'],
      },
    };
  }

  #clusterLogger(cluster: NonNullable<ResolvedEngineOptions['cluster']>): Logger {
    return this.#clusterJoinOf(cluster).logger;
  }

  /** The node's joining: made once, with the first of its parts (the working side is spawned before the submitting side is made). */
  #clusterJoinOf(cluster: NonNullable<ResolvedEngineOptions['cluster']>): ClusterJoin {
    this.#clusterJoin ??= new (loadClusterJoin().ClusterJoin)(
      cluster.redis,
      cluster.name,
      this.#logger.child({ cluster: cluster.name, node: cluster.node }),
      () => this.#clock.now(),
      // With its part in the cluster's deadlock detection, the node has joined once it hears its victims.
      ['submitter', ...(cluster.concurrency === 0 ? [] : ['worker']), ...(this.#detectsAcrossCluster(cluster) ? ['deadlocks'] : [])],
    );
    return this.#clusterJoin;
  }

  /** Whether this node takes part in detecting deadlocks across the cluster (see {@link Engine.#clusterParts}). */
  #detectsAcrossCluster(cluster: NonNullable<ResolvedEngineOptions['cluster']>): boolean {
    const hasPools = this.#options.resources.some((pool) => pool.scope === 'cluster');
    return this.#options.deadlock.detect !== 'off' && (hasPools || cluster.concurrency > 0);
  }

  /** The registry of the cluster tasks this node submits (loading BullMQ): the supervisor's `cluster-submitter` sends them. */
  #submissionsOf(options: NonNullable<ResolvedEngineOptions['cluster']>, sink: EventSink): ClusterSubmissions {
    return new (loadClusterSubmissions().ClusterSubmissions)(options, {
      sink,
      clock: this.#clock,
      logger: this.#clusterLogger(options),
      isAccepting: () => this.#accepting,
      taskSettled: (handle, error, pending) => {
        if (error !== undefined && error.code !== 'E_CANCELLED') this.#reportUnobserved(handle, error);
        if (pending === 0) {
          this.#wakeIdle();
          this.#agents.outsideWorkChanged();
        }
      },
    });
  }

  /**
   * Waits for the cluster's parts to say their last words to Redis and close, for at most
   * `cluster.leaveTimeoutMs`: a node cut off from Redis then drops its connections, so that its
   * shutdown ends (its leases and records lapse in Redis on their own).
   */
  async #leaveCluster(closing: ReadonlyArray<Promise<unknown>>): Promise<void> {
    this.#clusterJoin?.logger.flush();
    // A node that never joined (refused by Redis, or not reached before it shut down) has no last
    // words: its parts' connections may never have opened, and closing them would wait for that.
    if (this.#clusterJoin?.hasJoined === false) {
      // What still closes then fails on a dropped connection (the pools' quit, after the detector part): nobody waits for it.
      void Promise.allSettled(closing);
      return this.#dropClusterConnections();
    }
    const leaveTimeoutMs = this.#options.cluster!.leaveTimeoutMs;
    let timer: unknown;
    const late = new Promise<true>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(true), leaveTimeoutMs);
    });
    const timedOut = await Promise.race([Promise.allSettled(closing).then(() => false), late]);
    this.#clock.clearTimeout(timer);
    if (!timedOut) return;
    this.#logger.warn(`the node left its cluster without its last words: Redis did not answer within cluster.leaveTimeoutMs (${leaveTimeoutMs} ms)`);
    this.#dropClusterConnections();
  }

  /** Drops every connection of the node's cluster parts at once, whatever is under way. */
  #dropClusterConnections(): void {
    for (const left of Object.values(this.#clusterLeft)) left.disconnect();
    this.#poolRedis?.disconnect();
    this.#clusterViews?.disconnect();
  }

  /** What this node's membership record, kept alive by heartbeats until the engine stops, is spawned with. */
  #clusterMembershipSpawner(cluster: NonNullable<ResolvedEngineOptions['cluster']>): ClusterMembershipSpawner {
    const pools = this.#options.resources.filter((pool) => pool.scope === 'cluster');
    return {
      input: {
        url: cluster.redis,
        cluster: cluster.name,
        node: cluster.node,
        clock: this.#clock,
        logger: this.#clusterLogger(cluster),
        describe: () => {
          const { running, pending } = this.progress();
          return {
            engineId: this.id,
            phase: this.#phase,
            concurrency: cluster.concurrency,
            workers: this.stats().workers.map(({ id, slots, running: busy, state }) => ({ id, slots, running: busy, state })),
            tasks: this.#options.tasks.names(),
            pools: pools.map(({ name, capacity, leaseMs }) => ({ name, capacity, leaseMs })),
            running,
            pending,
            deadlockPolicy: this.#deadlockPolicyName(),
          };
        },
        onJoined: (others) => this.#compareDeadlockPolicies(others),
        limits: { globalConcurrency: cluster.globalConcurrency, rateLimit: cluster.rateLimit },
        joined: (membership) => {
          this.#membership = membership;
          if (this.#membershipsWrite) membership.refresh();
        },
        leaving: this.#clusterLeft['cluster-membership'],
        // The reader of the cluster's view, on the membership's connection, stops first.
        leaveAfter: () => this.#clusterViews?.close() ?? Promise.resolve(),
      },
    };
  }

  /** This engine's `deadlock.policy` as its membership record tells it: `custom` for a function, `off` without detection. */
  #deadlockPolicyName(): string {
    const { detect, policy } = this.#options.deadlock;
    if (detect === 'off') return 'off';
    return typeof policy === 'function' ? 'custom' : policy;
  }

  /**
   * Warns when a node of the cluster chooses deadlock victims otherwise than this one: whichever
   * node scans applies its own policy, so the nodes are to share one.
   */
  #compareDeadlockPolicies(others: readonly ClusterMember[]): void {
    const mine = this.#deadlockPolicyName();
    const unlike = others.filter((other) => other.deadlockPolicy !== undefined && other.deadlockPolicy !== 'off' && other.deadlockPolicy !== mine);
    if (mine !== 'off' && unlike.length > 0)
      this.#logger.warn(
        `the nodes of cluster "${this.#options.cluster!.name}" do not share one deadlock.policy: this node's is "${mine}", ${unlike
          .map((other) => `node "${other.node}"'s "${other.deadlockPolicy}"`)
          .join(', ')}; whichever node scans chooses victims by its own`,
        { policies: Object.fromEntries([[this.#options.cluster!.node, mine], ...unlike.map((other) => [other.node, other.deadlockPolicy])]) },
      );
    this.#logger.debug('compared the deadlock policies of the cluster’s nodes', { nodes: others.length });
  }

  /**
   * The cluster as Redis has it now, read on demand: its live nodes (their workers, the named tasks
   * they define, the cluster tasks they run), its cluster pools (capacity, holders and waiters by
   * node and task) and the wait-for edges its nodes published for detection across nodes.
   *
   * It never waits for a connection to be made again: a caller that polls the view (a dashboard)
   * keeps the view it had, with the reason, and asks again at its next turn.
   *
   * @returns `undefined` without the `cluster` option (nothing of the cluster is loaded then)
   * @throws {MezanError} `E_SHUTDOWN` once the engine has left the cluster, or is leaving it (the
   *   promise rejects; `details.cluster`)
   * @throws {MezanError} `E_CLUSTER_UNAVAILABLE` (the promise rejects; `details.cluster`,
   *   `details.node`, `details.reason`): at once while the node's membership is being replaced
   *   (`membership-replaced`: its Redis connection ended for good, and the supervisor spawns a
   *   successor after its restart delay, on whose connection the view is read from then on); or
   *   when Redis failed the read (`read-failed`, Redis's error as the `cause`)
   * @example
   * ```ts
   * const view = await engine.clusterView();
   * for (const node of view?.nodes ?? []) console.log(node.node, node.runningTasks.length);
   * ```
   */
  async clusterView(): Promise<ClusterView | undefined> {
    const membership = this.#membership;
    const cluster = this.#options.cluster;
    if (membership === undefined || cluster === undefined) return undefined;
    const { name, node } = cluster;
    // Failed (and not left by the shutdown), a membership is replaced: unless the engine stopped first.
    if (membership.hasFailed && this.#phase !== 'stopped')
      throw new MezanError(
        'E_CLUSTER_UNAVAILABLE',
        `The view of cluster "${name}" cannot be read now: node "${node}"'s membership lost its Redis connection and is being replaced; ask again`,
        { details: { cluster: name, node, reason: 'membership-replaced' } },
      );
    if (membership.hasLeft)
      throw new MezanError('E_SHUTDOWN', `The engine has left cluster "${name}": its view can no longer be read`, { details: { cluster: name } });
    // A membership replaced has a connection of its own: the view is read on the latest.
    if (this.#clusterViewsOn !== membership) {
      this.#clusterViews?.disconnect();
      this.#clusterViews = new (loadClusterViewReader().ClusterViewReader)(membership.connection, name, node, this.#clusterLogger(cluster));
      this.#clusterViewsOn = membership;
    }
    try {
      return await this.#clusterViews!.read();
    } catch (error) {
      if (membership.hasFailed || !membership.hasLeft) {
        throw new MezanError('E_CLUSTER_UNAVAILABLE', `The view of cluster "${name}" could not be read: ${describeThrown(error)}`, {
          cause: error,
          details: { cluster: name, node, reason: 'read-failed' },
        });
      }
      throw new MezanError('E_SHUTDOWN', `The engine left cluster "${name}" while its view was read`, {
        cause: error,
        details: { cluster: name },
      });
    }
  }

  /** A named task of a cluster member goes to the cluster, whichever node runs it. */
  #submitToCluster(task: string, options: TaskOptions, call: string): TaskHandle<unknown> {
    try {
      if (task.length === 0) fail('task', 'the name of a defined task (a non-empty string)', task);
      return this.#clusterJoin!.track(this.#cluster!.submit(task, options));
    } catch (error) {
      throw optionReadError(error, call, { value: options, root: 'options', keys: TASK_OPTION_KEYS, opaque: CALLERS_DATA });
    }
  }

  /**
   * Resolves once this engine takes tasks from its cluster (its Redis connections are up, and, when
   * it takes part in detecting deadlocks across the cluster, Redis has confirmed its subscription to
   * its victims' channel); at once without the `cluster` option. Submissions made before are not lost: they are sent once connected.
   * While Redis is unreachable it waits (the node retries: a server not up yet, a host name the DNS
   * does not know yet, as in docker-compose before the service is up), for at most `timeoutMs` if
   * given; Redis refusing the node for good rejects.
   * @param options - `timeoutMs`: how long to wait (see {@link ClusterReadyOptions})
   * @throws {MezanError} `E_INVALID_OPTION` naming `cluster.redis` (the promise rejects) when Redis
   * refused the node while it joined: a wrong password (`WRONGPASS`, `NOAUTH`) or no permission
   * (`NOPERM`); the server's reason in the message and `details.reason`. The cluster tasks
   * submitted meanwhile, and later, fail with it.
   * @throws {MezanError} `E_TIMEOUT` (the promise rejects) when the node has not joined within
   * `timeoutMs`: the server (`details.server`, without credentials) and the last error its
   * connections heard (`details.reason`: `getaddrinfo ENOTFOUND redis` for a host that does not
   * resolve) in the message and details. The node goes on trying to join.
   * @throws {MezanError} `E_SHUTDOWN` (the promise rejects) when the engine began to shut down
   * before it joined (a Redis server not reached by then).
   * @throws {MezanError} `E_INVALID_OPTION` (the promise rejects) for options that are not
   * `{ timeoutMs }` with a positive integer.
   * @example
   * ```ts
   * await engine.onClusterReady({ timeoutMs: 30_000 }); // E_TIMEOUT naming the server past 30 s
   * ```
   */
  async onClusterReady(options?: ClusterReadyOptions): Promise<void> {
    const timeoutMs = options === undefined ? undefined : readClusterReadyTimeout(options);
    const join = this.#clusterJoin;
    if (join === undefined || timeoutMs === undefined) return join?.ready;
    let timer: unknown;
    const late = new Promise<never>((_resolve, reject) => {
      // A cluster node runs on the real clock, which honours a delay past the longest host timer.
      timer = this.#clock.setTimeout(() => reject(this.#notJoinedWithin(timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([join.ready, late]);
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /** Why the node has not joined within `timeoutMs`: its server, and the last error its connections heard. */
  #notJoinedWithin(timeoutMs: number): MezanError {
    const { redis, name } = this.#options.cluster!;
    const server = redisServerOf(redis);
    const last = this.#clusterJoin!.logger.lastError;
    return new MezanError(
      'E_TIMEOUT',
      `Did not join cluster "${name}" within ${timeoutMs} ms: ${server} was not reached${last === undefined ? '' : ` (${last.what}: ${last.reason})`}`,
      { details: { cluster: name, server, timeoutMs, ...(last === undefined ? {} : { reason: last.reason }) } },
    );
  }

  #onInspectThrow(thrown: unknown): void {
    if (this.#inspectThrows++ > 0) return;
    this.#logger.error('the inspect observer threw; the engine goes on, and counts its further throws without logging them', {
      error: describeThrown(thrown),
    });
  }

  /** Every engine event, as it happens. Events are built only while someone subscribes. */
  get events$(): Observable<EngineEvent> {
    // Subscribers are user code: what their callbacks throw is logged, never rethrown into the process.
    this.#events$ ??= loadContainedObservable().ContainedObservable.of(this.#events.observable, (thrown) =>
      this.#logger.error('an events$ subscriber threw', { error: describeThrown(thrown) }),
    );
    return this.#events$;
  }

  /** A fresh {@link EngineProgress} after every engine event. */
  get progress$(): Observable<EngineProgress> {
    return this.events$.pipe(loadRxjs().map(() => this.progress()));
  }

  /**
   * `false` once shutdown has begun (or the engine escalated past its supervision limit): new
   * submissions are then rejected with `E_SHUTDOWN`.
   */
  get isAccepting(): boolean {
    return this.#accepting;
  }

  /** `true` when every submitted task has settled. */
  get isIdle(): boolean {
    return this.#buffer.length === 0 && this.#tasks().unfinished === 0 && (this.#cluster === undefined || this.#cluster.pending === 0);
  }

  /** The executor's latest summary of the tasks it holds. */
  #tasks() {
    return this.#executor.getSnapshot().context;
  }

  /**
   * Submits a task.
   *
   * @param fn - the task's function; receives a {@link TaskContext}
   * @param options - see {@link TaskOptions}
   * @returns the task's handle. After shutdown has begun the handle is already `rejected` and its
   *   `result` rejects with `E_SHUTDOWN`.
   * @throws {MezanError} `E_INVALID_OPTION` for a non-function, a bad option, a duplicate id or an
   *   unknown dependency
   * @example
   * ```ts
   * const report = engine.submit(async (ctx) => {
   *   ctx.progress(0.5, 'half way');
   *   await ctx.sleep(10);
   *   return 42;
   * }, { name: 'report', priority: 5, timeoutMs: 1000, retries: { max: 3, delayMs: 100, backoff: 'exponential' } });
   * ```
   */
  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T>;
  /**
   * Submits a named task: runs the function defined as `task` (by the `tasks` option or
   * {@link Engine.define}) with `options`, every one of them working as for a function; the task's
   * `name` defaults to `task`.
   *
   * @param task - the name of a defined task
   * @param options - see {@link TaskOptions}; `input` is what the function works on
   * @returns the task's handle
   * @throws {MezanError} `E_UNKNOWN_TASK` for a name no task is defined as (the closest defined one
   *   suggested); `E_INVALID_OPTION` for an empty name or a bad option
   * @example
   * ```ts
   * const engine = createEngine({ tasks: { resize: (ctx) => resize(ctx.input) } });
   * const thumbnail = engine.submit('resize', { input: { id: 42 }, priority: 3, retries: 2 });
   * await thumbnail.result;
   * ```
   */
  submit<T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
  submit<T>(fn: TaskFunction<T> | string, options: TaskOptions = NO_OPTIONS): TaskHandle<T> {
    if (typeof fn === 'string' && this.#cluster !== undefined) return this.#submitToCluster(fn, options, 'the options of `submit`') as TaskHandle<T>;
    let prepared: TaskRecord;
    try {
      prepared = this.#prepare(fn as TaskFunction | string, options, undefined, NO_IDS);
    } catch (error) {
      throw optionReadError(error, 'the options of `submit`', { value: options, root: 'options', keys: TASK_OPTION_KEYS, opaque: CALLERS_DATA });
    }
    return this.#register(prepared, undefined) as TaskHandle<T>;
  }

  /**
   * Defines a named task: `engine.submit(name, options)` (and a task's `ctx.submit(name, options)`)
   * then runs `fn`. A name is defined once, here or in the `tasks` option.
   *
   * @param name - a non-empty string no task of this engine is named yet
   * @param fn - the task's function
   * @throws {MezanError} `E_INVALID_OPTION` for a bad or already defined name, or a `fn` that is not a function
   * @example
   * ```ts
   * engine.define('charge', async (ctx) => payments.charge(ctx.input));
   * await engine.submit('charge', { input: { order: 7 } }).result;
   * ```
   */
  define(name: string, fn: TaskFunction): void {
    this.#options.tasks.define(name, fn);
  }

  #submitChild(parentId: string, fn: TaskFunction | string, options: TaskOptions | undefined): TaskHandle<unknown> {
    if (typeof fn === 'string' && this.#cluster !== undefined) return this.#submitToCluster(fn, options ?? NO_OPTIONS, 'the options of `ctx.submit`');
    let prepared: TaskRecord;
    try {
      // `null` is refused, as by `engine.submit`: only `undefined` means no options.
      prepared = this.#prepare(fn, options === undefined ? NO_OPTIONS : options, undefined, NO_IDS, '', parentId);
    } catch (error) {
      throw optionReadError(error, 'the options of `ctx.submit`', { value: options, root: 'options', keys: TASK_OPTION_KEYS, opaque: CALLERS_DATA });
    }
    const handle = this.#register(prepared, undefined);
    // At once, not at the end of the tick: its parent may await it next, and the supervisor must
    // then find it queued to see a starvation of worker slots.
    this.#flush();
    return handle;
  }

  /**
   * The live wait-for graph: tasks and resources (worker slots are the resource `@workers`), with
   * `holds` (resource → holder), `requests` (task → resource) and `awaits` (task → task) edges.
   * Tasks appear only while they wait, hold resources, or are awaited.
   */
  waitForGraph(): WaitForGraphSnapshot {
    const { detector, detectorInbox, resources } = this.#actor.getSnapshot().context;
    // What the detector has not been handed yet (this turn's notices) is part of the graph now.
    detectorInbox.flush();
    const pools = [...resources.values()].map((pool) => (pool.ref.getSnapshot() as PoolSnapshot).context);
    return graphWithHoldings(detector.getSnapshot().context.describeGraph(), pools);
  }

  /**
   * Runs a full detection now and returns what it finds, without resolving anything (resolution
   * happens on its own when `deadlock.detect` is not `off`).
   * @returns one report per detection: empty when nothing is deadlocked
   */
  detectDeadlocks(): DeadlockReport[] {
    if (this.#report !== undefined) return [];
    const { detector, detectorInbox } = this.#actor.getSnapshot().context;
    detectorInbox.flush();
    detector.send({ type: 'deadlock.check', resolve: false });
    const analysis = detector.getSnapshot().context.lastCheck;
    if (analysis === undefined || analysis.deadlocked.length === 0) return [];
    const { policy: chosen } = this.#options.deadlock;
    const policy = typeof chosen === 'function' ? 'custom' : chosen;
    return [{ deadlocked: analysis.deadlocked, cycle: analysis.cycle, policy, at: this.#clock.now() }];
  }

  /**
   * Serves the live dashboard of this engine on 127.0.0.1: its actors and their states on their
   * machine diagrams, the wait-for graph with any deadlock's cycle and victim, metrics, alerts and
   * the event log, streamed as server-sent events; `/metrics` serves the Prometheus text.
   * Everything comes from the package itself (no CDN).
   *
   * The server outlives {@link Engine.shutdown} (to show how the engine ended) until its `close()`:
   * a process that serves its engine's dashboard closes it to exit.
   *
   * @param options - `port` (default 0: any free port), `host` (default `127.0.0.1`)
   * @returns the server's `url` and `close()`
   * @example
   * ```ts
   * const dashboard = await engine.serveDashboard({ port: 7077 });
   * console.log(dashboard.url);
   * ```
   */
  serveDashboard(options: DashboardOptions = {}): Promise<DashboardServer> {
    // Its times count from when it began, on the engine's clock (without `now`, the dashboard knows
    // only the times of the events it saw: none yet, and its origin would be 0, the epoch).
    return loadDashboardServer().serveDashboard(this, { now: () => this.#clock.now(), ...options });
  }

  /**
   * Every actor of the engine and the state its machine is in, read from the actors' own
   * snapshots, parents before children: the supervisor, the executor, its workers (the main-thread
   * worker `main`), the resource pools, the detector, a cluster node's cross-node detector part
   * (`cluster-deadlocks`, with cluster pools or cluster tasks to run) and working side
   * (`cluster-worker`, with `cluster.concurrency` above 0), submitting side (`cluster-submitter`)
   * and membership record (`cluster-membership`), the shutdown machine, the monitor and the
   * running agents (`agent:<name>`).
   * For a machine with nested states, `state` is its top-level state.
   */
  actors(): EngineActor[] {
    const supervisor = this.#actor.getSnapshot();
    const executor = this.#executor.getSnapshot();
    const actors: EngineActor[] = [
      { id: 'supervisor', machine: 'supervisor', parent: undefined, state: topState(supervisor.value) },
      { id: 'executor', machine: 'executor', parent: 'supervisor', state: topState(executor.value) },
    ];
    for (const worker of executor.context.workers) {
      actors.push({ id: worker.id, machine: 'worker', parent: 'executor', state: worker.ref.getSnapshot().value });
    }
    for (const pool of supervisor.context.resources.values()) {
      actors.push({ id: `resource:${pool.name}`, machine: 'resource', parent: 'supervisor', state: topState(pool.ref.getSnapshot().value) });
    }
    actors.push({ id: 'detector', machine: 'detector', parent: 'supervisor', state: supervisor.context.detector.getSnapshot().value });
    for (const [machine, ref] of clusterPartRefs(supervisor.context)) {
      const part = ref?.getSnapshot() as { readonly status: string; readonly value?: string } | undefined;
      if (part !== undefined)
        actors.push({ id: machine, machine, parent: 'supervisor', state: part.status === 'active' ? (part.value ?? 'running') : part.status });
    }
    actors.push({ id: 'shutdown', machine: 'shutdown', parent: 'supervisor', state: topState(supervisor.context.shutdown.getSnapshot().value) });
    actors.push({ id: 'monitor', machine: 'monitor', parent: 'supervisor', state: topState(this.#monitor.getSnapshot().value) });
    for (const agent of this.#agents.list()) actors.push({ id: `agent:${agent.name}`, machine: 'agent', parent: 'supervisor', state: agent.status });
    return actors;
  }

  /**
   * Spawns an agent: a supervised actor with a mailbox that runs `receive` on each message it is
   * sent or asked, up to `concurrency` at once; see [docs/agents.md](docs/agents.md).
   *
   * @param options - its name (unique among running agents), handler, mailbox, concurrency and restart limit
   * @returns its handle
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option (an unknown key named with the closest
   * known one) or a name a running agent has; `E_SHUTDOWN` once shutdown began
   * @example
   * ```ts
   * const echo = engine.spawnAgent({ name: 'echo', receive: async (message) => message });
   * await echo.ask('hello'); // 'hello'
   * ```
   */
  spawnAgent<M = unknown, R = unknown>(options: AgentOptions<M, R>): Agent<M, R> {
    return this.#agents.spawn(options);
  }

  /** The running agent named `name`, or `undefined`. */
  agent<M = unknown, R = unknown>(name: string): Agent<M, R> | undefined {
    return this.#agents.get(name) as Agent<M, R> | undefined;
  }

  /** The running agents, in the order they were spawned. */
  agents(): Agent[] {
    return this.#agents.list();
  }

  /**
   * Spawns a router: an agent that sends each ask to one of its `arms`, chosen by a multi-armed
   * bandit (`strategy`) over the rewards so far, and replies with that arm's reply; each ask's
   * outcome is scored once by `reward`. Draws come from the engine's `random`; see
   * [docs/agents.md](docs/agents.md).
   *
   * @param options - its name, arms, strategy and reward
   * @returns the router: an agent whose `stats()` adds `arms: [{ name, pulls, meanReward }]`
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option; `E_SHUTDOWN` once shutdown began
   * @example
   * ```ts
   * const solver = engine.router({ name: 'solver', arms: ['fast', 'careful'], strategy: 'thompson' });
   * await solver.ask(problem);
   * solver.stats().arms; // [{ name: 'fast', pulls, meanReward }, ...]
   * ```
   */
  router<M = unknown, R = unknown>(options: RouterOptions<R>): Router<M, R> {
    return spawnRouter<M, R>(this.#agentHost(), options);
  }

  /**
   * Puts running agents under one supervision group: when one crashes, `'one-for-all'` restarts the
   * others too, `'rest-for-one'` those after it in `agents` (each fails what it handles and keeps its
   * mailbox, as after any crash); past `maxRestarts` crashes within `withinMs`, every member stops.
   * See [docs/agents.md](docs/agents.md).
   *
   * @param options - the strategy, the members in order (handles or names), and the group's limit
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option, an agent not running, listed twice or in a group already
   * @example
   * ```ts
   * engine.supervise({ strategy: 'one-for-all', agents: [analyzer, optimizer, validator], maxRestarts: 3, withinMs: 10_000 });
   * ```
   */
  supervise(options: SuperviseOptions): void {
    this.#agents.supervise(options);
  }

  /**
   * Spawns a team: an agent that asks all its `members` at once, then its `synthesizer` with
   * `{ message, results }`, and replies with the synthesizer's answer (the deep-think pattern); see
   * [docs/agents.md](docs/agents.md).
   *
   * @param options - its name, members, synthesizer, limits and what a member's failure does
   * @returns the team's agent
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option; `E_SHUTDOWN` once shutdown began
   * @example
   * ```ts
   * const deepThink = engine.team({ name: 'deep-think', members: ['analyzer', 'optimizer', 'validator'], synthesizer: 'synthesizer' });
   * await deepThink.ask(problem, { timeoutMs: 5_000 });
   * ```
   */
  team<M = unknown, R = unknown>(options: TeamOptions): Agent<M, R> {
    return spawnTeam<M, R>(this.#agentHost(), options);
  }

  #agentHost(): AgentHost {
    return {
      spawnAgent: (options) => this.spawnAgent(options),
      agent: (name) => this.agent(name),
      clock: this.#clock,
      random: this.#options.random,
      logger: this.#logger,
    };
  }

  /** The deadlocks found and resolved so far (the last 100), oldest first. */
  deadlocks(): readonly DeadlockReport[] {
    return [...this.#actor.getSnapshot().context.detector.getSnapshot().context.deadlocks];
  }

  /**
   * Submits a graph of tasks at once, each keyed by name, with `dependsOn` naming other keys (or
   * unfinished tasks). Nothing is submitted unless the whole graph is valid.
   *
   * @returns a handle per key
   * @throws {MezanError} `E_DEPENDENCY_CYCLE` with the cycle in `details.cycle`; `E_INVALID_OPTION`
   *   for a bad node or an unknown dependency
   * @example
   * ```ts
   * const { build, test } = engine.submitGraph({
   *   build: { run: compile },
   *   test: { run: runTests, dependsOn: ['build'] },
   * });
   * ```
   */
  submitGraph<G extends Record<string, TaskGraphNode<unknown>>>(
    graph: G,
  ): { [K in keyof G]: TaskHandle<G[K] extends TaskGraphNode<infer T> ? Awaited<T> : unknown> } {
    let keys: string[];
    try {
      if (!isOptionsObject(graph)) fail('graph', 'an object of task nodes', graph);
      keys = Object.keys(graph);
    } catch (error) {
      throw optionReadError(error, 'the graph of `submitGraph`', { value: graph, root: 'graph', opaque: CALLERS_DATA });
    }
    const keySet = new Set(keys);
    const edges = new Map<string, string[]>();
    const prepared = new Map<string, TaskRecord>();
    const ids = new Set<string>();
    try {
      for (const key of keys) {
        const node = graph[key];
        if (!isOptionsObject(node)) fail(`graph.${key}`, 'a task node with a `run` function', node);
        const { run, ...options } = node as TaskGraphNode;
        const task = this.#prepare(run, { ...options, id: options.id === undefined ? key : options.id }, keySet, ids, `graph.${key}.`);
        ids.add(task.id);
        prepared.set(key, task);
        edges.set(
          key,
          task.dependsOn.flatMap((dependency) => ('graphKey' in dependency ? [dependency.graphKey] : [])),
        );
      }
    } catch (error) {
      this.#forgetTraced(ids);
      throw optionReadError(error, 'the graph of `submitGraph`', { value: graph, root: 'graph', opaque: CALLERS_DATA });
    }
    const sorted = topologicalSort(keys, (key) => edges.get(key) ?? []);
    if (sorted.cycle !== undefined) {
      this.#forgetTraced(ids);
      const cycle = sorted.cycle;
      throw new MezanError('E_DEPENDENCY_CYCLE', `The task graph has a cycle: ${cycle.join(' → ')}`, { details: { cycle } });
    }
    const handles = new Map<string, TaskHandle<unknown>>();
    for (const key of sorted.order) {
      handles.set(key, this.#register(prepared.get(key)!, handles));
    }
    return Object.fromEntries(keys.map((key) => [key, handles.get(key)])) as never;
  }

  /**
   * The engine's metrics now, from its monitor: queue depth, running tasks, throughput, task wait
   * and run times (p50, p95, p99, max, from fixed-size histograms), each pool's waits and
   * utilization, worker saturation, deadlocks, crashes and restarts, tasks by terminal status, and
   * the active alerts.
   *
   * Task wait and run times are sampled from the first call on (option `metrics.timings`:
   * `on-demand`), from the start (`always`), or never (`off`): `timings.since` tells which.
   *
   * @example
   * ```ts
   * const engine = createEngine({ resources: { db: 2 } });
   * engine.metrics(); // starts sampling task timings
   * // ... work ...
   * const { taskRun, resources } = engine.metrics();
   * console.log(taskRun.p95, resources.db.utilization);
   * ```
   */
  metrics(): MetricsSnapshot {
    if (this.#report === undefined) {
      if (this.#options.timings === 'on-demand' && !this.#timingsRequested) {
        this.#timingsRequested = true;
        this.#monitor.send({ type: 'metrics.collect' });
      }
      this.#feed.flush();
    }
    return this.#monitor.getSnapshot().context.readMetrics(this.progress(), readWorkerGauge(this.#executor), readAgentGauges(this.#agents.list()));
  }

  /**
   * The engine's metrics in the Prometheus text exposition format (what a `/metrics` endpoint
   * serves), written directly (no client library). Names start with `mezan_`; durations are
   * histograms in seconds, with fixed buckets that add up across engines. Like
   * {@link Engine.metrics}, the first call starts sampling timings.
   *
   * @example
   * ```ts
   * http.createServer(async (req, res) => res.end(await engine.prometheus())).listen(9464);
   * ```
   */
  async prometheus(): Promise<string> {
    return renderPrometheus(this.metrics());
  }

  /**
   * The alerts raised so far (the last 1000), oldest first: each with the value and the clock time
   * it was raised at, and, once it cleared, when and at what value. Every alert still active when
   * the engine stops is cleared then (`clearedBy: 'stopped'`).
   */
  alerts(): readonly AlertRecord[] {
    if (this.#report === undefined) this.#feed.flush();
    return this.#monitor.getSnapshot().context.alertHistory();
  }

  /**
   * The engine's progress now: counts by status, success rate, percent done, elapsed time and ETA.
   */
  progress(): EngineProgress {
    const book = this.#tasks();
    const counts = this.#countsAtEvent ?? book.counts;
    const buffered = this.#buffer.length;
    const rejected = this.#rejected + counts.rejected;
    const total = counts.submitted + buffered + this.#rejected;
    // Tasks refused after shutdown never reach the executor: they are counted here.
    const settled = settledCount(counts) + this.#rejected;
    const remaining = total - settled;
    const elapsedMs = this.#firstSubmittedAt === undefined ? 0 : this.#clock.now() - this.#firstSubmittedAt;
    let etaMs: number | undefined;
    if (remaining === 0) etaMs = 0;
    else if (settled > 0) etaMs = (elapsedMs / settled) * remaining;
    return {
      total,
      completed: counts.completed,
      failed: counts.failed,
      cancelled: counts.cancelled,
      timedOut: counts.timedOut,
      deadlocked: counts.deadlocked,
      rejected,
      running: counts.dispatched,
      pending: counts.waiting + counts.queued + counts.delayed + buffered,
      peakQueued: book.peakQueued,
      successRate: settled === 0 ? 1 : counts.completed / settled,
      percent: total === 0 ? 100 : (settled / total) * 100,
      elapsedMs,
      etaMs,
      ...this.#clusterCounts(),
    };
  }

  /** With the `cluster` option, the cluster tasks this engine submitted (its own counts leave them out). */
  #clusterCounts(): { readonly cluster?: ClusterTaskCounts } {
    return this.#cluster === undefined ? {} : { cluster: this.#cluster.counts() };
  }

  /**
   * Each worker's statistics and state (its slots, how many are taken, its exact counts), read from
   * the workers' own snapshots, with totals.
   */
  stats(): EngineStats {
    const executor = this.#executor.getSnapshot().context;
    const workers: WorkerSnapshot[] = executor.workers.map((worker) => {
      const snapshot = worker.ref.getSnapshot();
      return { id: worker.id, state: String(snapshot.value), ...snapshot.context.stats };
    });
    const totals = { tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0 };
    for (const worker of workers) {
      totals.tasksCompleted += worker.tasksCompleted;
      totals.tasksFailed += worker.tasksFailed;
      totals.tasksCancelled += worker.tasksCancelled;
      totals.attempts += worker.attempts;
      totals.busyMs += worker.busyMs;
    }
    return { workers, totals, avgRunMs: totals.attempts === 0 ? 0 : totals.busyMs / totals.attempts, ...this.#clusterCounts() };
  }

  /** Resolves once every submitted task has settled (at once when none is unfinished). */
  onIdle(): Promise<void> {
    this.#flush();
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Shuts the engine down in phases: `draining` (new submissions are `rejected`; running tasks
   * finish; queued tasks run, or are cancelled with `drain: 'cancel'`), then, if the grace period runs
   * out or `force` is set, `terminating` (running tasks are aborted, queued ones cancelled), then
   * `stopped`: every actor, timer and signal listener is gone. Calling it again returns the same
   * promise; calling it again with `force` hurries the shutdown under way.
   *
   * @param options - override the engine's `shutdown` options for this shutdown
   * @returns the phases with their clock times and how every submitted task ended; `lost` is always 0
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option
   * @example
   * ```ts
   * const report = await engine.shutdown({ graceMs: 5_000 });
   * console.log(report.completed, report.lost); // lost: 0
   * ```
   */
  shutdown(options: ShutdownRequestOptions = {}): Promise<ShutdownReport> {
    const request = readShutdownRequest(options);
    const promise = this.#shutdownPromise();
    if (this.#report === undefined) {
      this.#flush();
      this.#actor.send({ type: 'shutdown.request', ...request });
    }
    return promise;
  }

  /**
   * Injects a fault, for tests and simulations:
   * - `{ type: 'worker.crash', workerId }`: the worker crashes as if its thread had died; its running
   *   task fails with `E_WORKER_CRASHED` and the supervisor restarts it within the supervision limit;
   * - `{ type: 'worker.slow', workerId, factor, forMs? }`: the worker's `ctx.sleep`s stretch by `factor`;
   * - `{ type: 'signal', signal }`: a process signal, through the same deferred path as a real one;
   * - `{ type: 'resource.capacity', resource, capacity }`: the pool's capacity changes.
   * - `{ type: 'agent.crash', agent }`: the agent crashes; what it handles fails, and it restarts within its limit.
   *
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown fault, worker or resource, or a bad value
   */
  inject(fault: EngineFault): void {
    if (typeof fault !== 'object' || fault === null) fail('fault', 'a fault object', fault);
    expectOneOf('fault.type', fault.type, ['worker.crash', 'worker.slow', 'signal', 'resource.capacity', 'agent.crash'] as const);
    if (this.#report !== undefined) return;
    if (fault.type === 'agent.crash') {
      this.#agents.crash(fault.agent);
      return;
    }
    if (fault.type === 'signal') {
      if (typeof fault.signal !== 'string' || !/^SIG[A-Z0-9]+$/.test(fault.signal))
        fail('fault.signal', "a signal name such as 'SIGTERM'", fault.signal);
      this.#actor.send({ type: 'signal.received', signal: fault.signal });
      return;
    }
    if (fault.type === 'resource.capacity') {
      const pool = this.#options.resources.find((candidate) => candidate.name === fault.resource);
      if (pool === undefined)
        fail('fault.resource', `one of the engine's resources (${this.#options.resources.map((r) => r.name).join(', ') || 'none'})`, fault.resource);
      expectNonNegativeInteger('fault.capacity', fault.capacity);
      this.#actor.send({ type: 'resource.capacity', resource: fault.resource, capacity: fault.capacity });
      return;
    }
    const workerIds = this.#tasks().workers.map((worker) => worker.id);
    if (!workerIds.includes(fault.workerId)) fail('fault.workerId', `one of ${workerIds.join(', ')}`, fault.workerId);
    if (fault.type === 'worker.crash') {
      this.#executor.send({ type: 'worker.crash', workerId: fault.workerId });
      return;
    }
    if (typeof fault.factor !== 'number' || !(fault.factor > 0) || !Number.isFinite(fault.factor))
      fail('fault.factor', 'a positive finite number', fault.factor);
    const forMs = orDefault(fault.forMs, Infinity);
    if (typeof forMs !== 'number' || !(forMs >= 0)) fail('fault.forMs', 'a non-negative number of milliseconds', forMs);
    this.#executor.send({ type: 'worker.slow', workerId: fault.workerId, factor: fault.factor, until: this.#clock.now() + forMs });
  }

  /**
   * The promise every `shutdown()` returns. Made before the report is written (at the latest by
   * {@link Engine.#finishShutdown}): it resolves once the engine has stopped, a cluster node's
   * leaving included, however the shutdown began.
   */
  #shutdownPromise(): Promise<ShutdownReport> {
    this.#shutdown ??= new Promise<ShutdownReport>((resolve) => (this.#resolveShutdown = resolve));
    return this.#shutdown;
  }

  #stopAccepting(): void {
    if (!this.#accepting) return;
    this.#accepting = false;
    // A node that has not joined its cluster by now never will: `onClusterReady()` says so.
    this.#clusterJoin?.shutDown();
    // Whatever this tick submitted before the shutdown is still owed a verdict.
    this.#flush();
  }

  /** The supervisor reached `stopped`: the system is down; write the report and settle the promise. */
  #finishShutdown(): void {
    // A shutdown begun by a signal has no promise yet: made now, it resolves once the node has left its cluster.
    this.#shutdownPromise();
    this.#stopAccepting();
    const book = this.#tasks();
    const counts = book.counts;
    const phases = this.#actor.getSnapshot().context.phases;
    const drainingAt = phases[0]?.at ?? this.#clock.now();
    const stoppedAt = phases[phases.length - 1]?.at ?? this.#clock.now();
    const rejected = this.#rejected + counts.rejected;
    this.#report = {
      phases: phases.map(({ phase, at, cause }) => ({ phase, at, cause })),
      durationMs: stoppedAt - drainingAt,
      submitted: counts.submitted + this.#rejected,
      completed: counts.completed,
      failed: counts.failed,
      cancelled: counts.cancelled,
      timedOut: counts.timedOut,
      deadlocked: counts.deadlocked,
      rejected,
      lost: counts.submitted - book.settled,
      abandoned: [...book.abandoned],
      ...this.#clusterCounts(),
    };
    // What the handles asked of the cluster while no submitter was linked (the failed one's
    // successor never came: the engine stopped first) is carried out by one made for it alone.
    const cluster = this.#options.cluster;
    if (cluster !== undefined && this.#cluster?.hasDeferred === true)
      loadClusterSubmitter().carryOutLastRequests(
        cluster,
        { submissions: this.#cluster, logger: this.#clusterLogger(cluster), clock: this.#clock },
        this.#clusterLeft['cluster-submitter'],
      );
    // The running cluster parts are stopped with the actors: they say when they leave. The
    // submitting side leaves after the working side's last reports, and the membership record
    // after the reader of the cluster's view, on its connection (see their `leaveAfter`).
    const left =
      this.#options.cluster === undefined
        ? undefined
        : (Object.fromEntries(
            clusterPartRefs(this.#actor.getSnapshot().context).map(([part, ref]) => [part, this.#clusterLeft[part].closed(isActive(ref))]),
          ) as Record<ClusterPart, Promise<void>>);
    this.#clusterWorkersClosed = left?.['cluster-worker'];
    // Its tasks are settled by now (drained, or given up at the grace's end): none is left waiting.
    this.#cluster?.stopWaiting();
    // The monitor clears what is still active, and hears nothing more.
    this.#feed.flush();
    this.#monitor.send({ type: 'monitor.close' });
    this.#agents.stopAll();
    this.#feed.close();
    this.#actor.stop();
    if (this.#inspectThrows > 1) this.#logger.error('the inspect observer threw more than once', { times: this.#inspectThrows });
    this.#events.complete();
    for (const wake of this.#idleWaiters.splice(0)) wake();
    const report = this.#report;
    // A cluster node has last reports to make and connections to close: the engine has stopped once they are.
    // The cluster pools gave their permits back when they stopped (with the actors, above): their
    // connection sends those scripts before it quits.
    // The deadlock detector's part withdraws this node's edges on that connection before it quits.
    // Without pools the part quits a connection of its own.
    const poolRedis = this.#poolRedis;
    const pools = left === undefined || poolRedis === undefined ? undefined : left['cluster-deadlocks'].then(() => poolRedis.quit());
    const closing = left === undefined ? [] : [...Object.values(left), ...(pools === undefined ? [] : [pools])];
    if (closing.length === 0) this.#resolveShutdown?.(report);
    else void this.#leaveCluster(closing).then(() => this.#resolveShutdown?.(report));
    const signalled = phases.some((phase) => phase.cause === 'signal');
    if (signalled && this.#options.shutdown.exitOnSignal) {
      const exitCode = phases.some((phase) => phase.phase === 'terminating') ? 1 : 0;
      this.#logger.info('exiting after a signal', { exitCode });
      // After the callers of `shutdown()` have had their turn (to print the report, say).
      void this.#shutdownPromise().then(() => setImmediate(() => process.exit(exitCode)));
    }
  }

  /** Resolves the `onIdle()` waiters once every task has settled: the executor's and the cluster's each call it as their own last one ends. */
  #wakeIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.isIdle) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #prepare(
    task: TaskFunction | string,
    options: TaskOptions,
    graphKeys: ReadonlySet<string> | undefined,
    reservedIds: ReadonlySet<string>,
    prefix = '',
    parentId: string | undefined = undefined,
  ): TaskRecord {
    // A task name is looked up once the options are checked: a bad option is told first.
    const taskName = typeof task === 'string' ? task : undefined;
    if (taskName === undefined) {
      if (typeof task !== 'function') fail(prefix === '' ? 'fn' : `${prefix}run`, 'a function, or the name of a defined task', task);
    } else if (taskName.length === 0) fail(prefix === '' ? 'task' : `${prefix}run`, 'the name of a defined task (a non-empty string)', taskName);
    if (!isOptionsObject(options)) fail('options', 'an object', options);
    expectKnownKeys(prefix.slice(0, -1), options, prefix === '' ? TASK_OPTION_KEYS : TASK_GRAPH_NODE_KEYS);
    let id: string | undefined;
    let autoNumber = -1;
    if (options.id === undefined) {
      // Engine numbers never repeat, so only a caller's id can take `task-<n>`: checked by string
      // only while such ids are live. The id itself is written out when first read.
      do autoNumber = this.#nextTaskNumber++;
      while (this.#live.hasNamedAuto(autoNumber) || (reservedIds.size > 0 && reservedIds.has(`${AUTO_ID_PREFIX}${autoNumber}`)));
    } else {
      expectNonEmptyString(`${prefix}id`, options.id);
      // The wait-for graph names agents, their messages and the worker slots with ids starting with `@`.
      if (options.id.startsWith('@')) fail(`${prefix}id`, 'an id that does not start with `@` (kept for the wait-for graph)', options.id);
      if (this.#live.has(options.id) || reservedIds.has(options.id)) fail(`${prefix}id`, 'an id no unfinished task has', options.id);
      id = options.id;
    }
    let name = options.name;
    if (name !== undefined) expectNonEmptyString(`${prefix}name`, name);
    else name = taskName;
    // Option names are written out only for an error: this runs for every task.
    const priority = options.priority === undefined ? 0 : options.priority;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) expectFiniteNumber(`${prefix}priority`, priority);
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs === Infinity)) {
      fail(`${prefix}timeoutMs`, 'a positive finite number of milliseconds', timeoutMs);
    }
    const retry = options.retries === undefined ? NO_RETRIES : resolveRetryPolicy(options.retries, `${prefix}retries`);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) fail(`${prefix}signal`, 'an AbortSignal', signal);
    const dependsOnOption = options.dependsOn;
    let dependsOn: TaskRecord['dependsOn'] = NO_DEPENDENCIES;
    if (dependsOnOption !== undefined) {
      if (!Array.isArray(dependsOnOption)) fail(`${prefix}dependsOn`, 'an array of task handles or ids', dependsOnOption);
      const resolved: Array<DependencyRef | GraphKeyRef> = new Array(dependsOnOption.length);
      for (let index = 0; index < dependsOnOption.length; index++)
        resolved[index] = this.#resolveDependency(dependsOnOption[index]!, graphKeys, prefix, index);
      dependsOn = resolved;
    }
    const resources = options.resources === undefined ? undefined : this.#resolveDeclaredResources(options.resources, `${prefix}resources`);
    const queueTimeoutMs = options.queueTimeoutMs;
    if (queueTimeoutMs !== undefined && (typeof queueTimeoutMs !== 'number' || !(queueTimeoutMs >= 0 && queueTimeoutMs <= MAX_TIMER_MS))) {
      fail(`${prefix}queueTimeoutMs`, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, queueTimeoutMs);
    }
    const group = options.group;
    if (group !== undefined) expectNonEmptyString(`${prefix}group`, group);
    const { meta, input, transfer } = options;
    if (transfer !== undefined) {
      if (!Array.isArray(transfer)) fail(`${prefix}transfer`, 'an array of the ArrayBuffers and MessagePorts of `input` to move', transfer);
      if (retry.max > 0) fail(`${prefix}transfer`, 'absent on a task with retries (a retry would find its input moved)', transfer);
    }
    const onlyResources =
      parentId === undefined &&
      meta === undefined &&
      signal === undefined &&
      input === undefined &&
      queueTimeoutMs === undefined &&
      group === undefined &&
      transfer === undefined;
    let extras: TaskExtras | undefined;
    if (!onlyResources) extras = { resources, parentId, meta, signal, input, queueTimeoutMs, group, transfer };
    else if (resources !== undefined) {
      // Tasks whose only rare option is the same resources share one frozen extras.
      if (this.#resourceExtras?.resources !== resources) this.#resourceExtras = Object.freeze({ ...NO_EXTRAS, resources });
      extras = this.#resourceExtras;
    }
    const fn = taskName === undefined ? (task as TaskFunction) : this.#options.tasks.get(taskName);
    // What telemetry costs a submission when it is off: this one test.
    const run = this.#tracing === undefined ? fn : this.#tracing.wrap(fn, id ?? `${AUTO_ID_PREFIX}${autoNumber}`, parentId);
    return new TaskRecord(id, autoNumber, name, priority, run, timeoutMs, retry, dependsOn, extras);
  }

  /** Tasks of a graph that was refused were prepared, and followed by telemetry, but never submitted. */
  #forgetTraced(ids: Iterable<string>): void {
    if (this.#tracing === undefined) return;
    for (const id of ids) this.#tracing.forget(id);
  }

  /** Validates declared resources and puts them in the order they are taken: rank, then name. */
  #resolveDeclaredResources(resources: Readonly<Record<string, number>>, option: string): ReadonlyArray<readonly [string, number]> {
    if (typeof resources !== 'object' || resources === null || Array.isArray(resources))
      fail(option, 'an object of resource names and units', resources);
    const pools = this.#poolsByName;
    const entries = Object.entries(resources).map(([name, units]): readonly [string, number] => {
      const pool = pools.get(name);
      if (pool === undefined) fail(`${option}.${name}`, `one of the engine's resources (${[...pools.keys()].join(', ') || 'none'})`, name);
      if (typeof units !== 'number' || !Number.isInteger(units) || units < 1 || units > pool.capacity) {
        fail(`${option}.${name}`, `an integer from 1 to ${pool.capacity} (the capacity of "${name}")`, units);
      }
      return [name, units];
    });
    const rankOf = (name: string): number => pools.get(name)?.rank ?? Number.NEGATIVE_INFINITY;
    entries.sort(([a], [b]) => rankOf(a) - rankOf(b) || (a < b ? -1 : a > b ? 1 : 0));
    // Equal declarations share the last one made: a deep queue of tasks that declare the same keeps one.
    const last = this.#lastDeclared;
    if (
      last !== undefined &&
      last.length === entries.length &&
      last.every(([name, units], index) => name === entries[index]![0] && units === entries[index]![1])
    )
      return last;
    this.#lastDeclared = Object.freeze(entries.map((entry) => Object.freeze(entry)));
    return this.#lastDeclared;
  }

  /** Resolves `dependsOn[index]`; the option's name is written out only for an error (this runs for every dependency). */
  #resolveDependency(dependency: Dependency, graphKeys: ReadonlySet<string> | undefined, prefix: string, index: number): DependencyRef | GraphKeyRef {
    let task: unknown = dependency;
    let allow: DependencyRef['allow'];
    const isSpec = typeof dependency === 'object' && dependency !== null && !(dependency instanceof TaskHandle);
    if (isSpec) {
      expectKnownKeys(`${prefix}dependsOn[${index}]`, dependency, DEPENDENCY_SPEC_KEYS);
      task = dependency.task;
      if (dependency.allow !== undefined && dependency.allow !== 'completed') {
        expectOneOf(`${prefix}dependsOn[${index}].allow`, dependency.allow, ['completed', 'settled'] as const);
        allow = 'settled';
      }
    }
    if (task instanceof TaskHandle) {
      // A settled handle still tells how its task ended; an unfinished one must be this engine's.
      if (task.isSettled) return dependencyOnSettled(task, allow);
      const record = taskBehind(task);
      if (record instanceof TaskRecord && record.owner === this.#owner) return dependencyOn(record, allow);
      fail(dependencyOption(prefix, index, isSpec), 'a handle of this engine', describeValue(task.id));
    }
    if (typeof task !== 'string') fail(dependencyOption(prefix, index, isSpec), "a task handle or id, or { task, allow: 'settled' }", task);
    if (graphKeys?.has(task)) return { graphKey: task, allow };
    const live = this.#live.get(task);
    if (live === undefined) fail(dependencyOption(prefix, index, isSpec), 'the id of an unfinished task (or a handle)', task);
    return dependencyOn(live, allow);
  }

  #register(task: TaskRecord, graphHandles: ReadonlyMap<string, TaskHandle<unknown>> | undefined): TaskHandle<unknown> {
    task.owner = this.#owner;
    const handle = new TaskHandle<unknown>(task, task.dependsOn.length > 0 ? 'waiting' : 'queued');
    task.reporter = handle;
    this.#firstSubmittedAt ??= this.#clock.now();
    if (!this.#accepting) {
      this.#rejected++;
      const error = new MezanError('E_SHUTDOWN', `Task "${task.name}" was submitted after shutdown began`, { details: { taskId: task.id } });
      if (this.#events.observed) {
        this.#events.next({ type: 'task.rejected', at: this.#clock.now(), taskId: task.id, name: task.name, attempt: 1, code: 'E_SHUTDOWN' });
      }
      handle.settle('rejected', undefined, error);
      return handle;
    }
    this.#live.add(task);
    if (graphHandles !== undefined) {
      task.dependsOn = task.dependsOn.map((dependency): DependencyRef => {
        if (!('graphKey' in dependency)) return dependency;
        const graphHandle = graphHandles.get(dependency.graphKey)!;
        // A node refused (after shutdown) is settled: it is told by its handle alone.
        if (graphHandle.isSettled) return dependencyOnSettled(graphHandle, dependency.allow);
        return dependencyOn(taskBehind(graphHandle) as TaskRecord, dependency.allow);
      });
    }
    task.submitSeq = this.#submitSeq++;
    // A batch is made to the size of its first task (an idle engine's batches are of one), then grows.
    if (this.#buffer.length === 0) this.#buffer = [task as TaskSubmission];
    else this.#buffer.push(task as TaskSubmission);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      runSoon(this.#flushSoon);
    }
    const signal = task.signal;
    if (signal !== undefined) {
      const cleanup = cancelOnAbort(signal, handle);
      if (cleanup !== undefined) this.#signalCleanups.set(handle, cleanup);
    }
    return handle;
  }

  /** Hands this tick's submissions to the executor as one event. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#buffer.length === 0) return;
    const submissions = this.#buffer;
    const cancelled = this.#cancelledInBuffer;
    this.#flushedUpTo = this.#submitSeq;
    this.#buffer = NO_SUBMISSIONS;
    this.#cancelledInBuffer = undefined;
    this.#executor.send({ type: 'task.submit', submissions, cancelled });
    this.#nudgeOnQueue();
  }

  /** Wakes the monitor when the queue is where its alert may change; nudges of one turn make one message. */
  #nudgeOnQueue(): void {
    const queued = this.#tasks().counts.queued;
    if (queued > this.#queueNudgeAbove || queued <= this.#queueNudgeAtOrBelow) this.#feed.nudge();
  }

  #cancel(task: TaskRecord, reason: unknown): boolean {
    // Only an unsettled handle asks; a task refused after shutdown is settled at once.
    const handle = task.reporter as TaskHandle<unknown>;
    const error = new MezanError('E_CANCELLED', `Task "${handle.name}" was cancelled`, {
      cause: reason instanceof Error ? reason : undefined,
      details: { taskId: handle.id, reason },
    });
    if (this.#buffer.length > 0) {
      // It may still be in this tick's buffer: then it reaches the executor already cancelled, so
      // nothing about it (its dependencies, a free worker) is ever looked at, and it settles now.
      // The executor cancels it as by `task.cancel` if it had arrived before.
      (this.#cancelledInBuffer ??= new Map()).set(handle.id, error);
      this.#flush();
      return true;
    }
    this.#executor.send({ type: 'task.cancel', taskId: handle.id, reason: error });
    return true;
  }

  #onSettled(task: TaskRecord, error: MezanError | undefined): void {
    // A task refused after shutdown was never in.
    this.#live.delete(task);
    const handle = task.reporter as TaskHandle<unknown>;
    if (this.#queueWatched && !this.#queueCheckScheduled) {
      this.#queueCheckScheduled = true;
      runSoon(this.#checkQueue);
    }
    if (this.#signalCleanups.size > 0) {
      const cleanup = this.#signalCleanups.get(handle);
      if (cleanup !== undefined) {
        this.#signalCleanups.delete(handle);
        cleanup();
      }
    }
    if (error === undefined || error.code === 'E_CANCELLED') return;
    this.#reportUnobserved(handle, error);
  }

  /** A failure nobody asked for goes to `onUnhandledError` (a warning by default), once the caller had its turn to ask. */
  #reportUnobserved(handle: TaskHandle<unknown>, error: MezanError): void {
    runSoon(() => {
      if (handle.isObserved) return;
      const onUnhandledError = this.#options.onUnhandledError;
      if (onUnhandledError === undefined) {
        this.#logger.warn('a task failed and nobody awaited its result', { taskId: handle.id, code: error.code, error: error.message });
        return;
      }
      try {
        onUnhandledError(error, handle);
      } catch (thrown) {
        // The handler is user code: what it throws is logged, never let loose on the process.
        this.#logger.error('onUnhandledError threw', { taskId: handle.id, error: describeThrown(thrown) });
      }
    });
  }
}

/** The signals this platform knows that a process can listen for: SIGKILL and SIGSTOP cannot be caught. */
const CATCHABLE_SIGNALS: ReadonlySet<string> = new Set(Object.keys(osConstants.signals).filter((name) => name !== 'SIGKILL' && name !== 'SIGSTOP'));

/**
 * What `engine.shutdown(options)` asks for, each option read once: a getter cannot answer the check
 * one thing and the request another.
 * @throws {MezanError} `E_INVALID_OPTION` for a bad option, or options whose reading threw
 */
function readShutdownRequest(options: ShutdownRequestOptions): Pick<ShutdownRequestOptions, 'graceMs' | 'drain' | 'force'> {
  try {
    expectOptionsObject('options', options);
    expectKnownKeys('', options, SHUTDOWN_REQUEST_KEYS);
    const { graceMs, drain, force } = options;
    // Bounded as `shutdown.graceMs` is: a longer timer would fire at once in Node.
    if (graceMs !== undefined && (typeof graceMs !== 'number' || !(graceMs >= 0 && graceMs <= MAX_TIMER_MS)))
      fail('graceMs', `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, graceMs);
    if (drain !== undefined) expectOneOf('drain', drain, ['run', 'cancel'] as const);
    if (force !== undefined && typeof force !== 'boolean') fail('force', 'a boolean', force);
    return { graceMs, drain, force };
  } catch (error) {
    throw optionReadError(error, 'the options of `shutdown`', { value: options, root: 'options', keys: SHUTDOWN_REQUEST_KEYS });
  }
}

/**
 * The `timeoutMs` of `engine.onClusterReady(options)`, read once.
 * @throws {MezanError} `E_INVALID_OPTION` for a bad option, or options whose reading threw
 */
function readClusterReadyTimeout(options: ClusterReadyOptions): number | undefined {
  try {
    expectOptionsObject('options', options, 'an object { timeoutMs? }');
    expectKnownKeys('', options, CLUSTER_READY_OPTION_KEYS);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) expectPositiveInteger('timeoutMs', timeoutMs);
    return timeoutMs;
  } catch (error) {
    throw optionReadError(error, 'the options of `onClusterReady`', { value: options, root: 'options', keys: CLUSTER_READY_OPTION_KEYS });
  }
}

/** The engine's options, checked and completed with the defaults. @throws {MezanError} `E_INVALID_OPTION`, also when reading them threw */
function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  try {
    return readEngineOptions(options);
  } catch (error) {
    throw optionReadError(error, 'the options of `createEngine`', { value: options, root: 'options', keys: ENGINE_OPTION_KEYS });
  }
}

function readEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  expectOptionsObject('options', options);
  expectKnownKeys('', options, ENGINE_OPTION_KEYS);
  if (options.workers !== undefined) expectPositiveInteger('workers', options.workers);
  if (options.concurrency !== undefined) expectPositiveInteger('concurrency', options.concurrency);
  if (options.workers !== undefined && options.concurrency !== undefined && options.workers !== options.concurrency)
    fail('workers', `the same value as \`concurrency\` (${options.concurrency}), or nothing: it is a deprecated alias`, options.workers);
  const concurrency = options.concurrency ?? options.workers ?? ENGINE_DEFAULTS.concurrency();
  if (options.threads !== undefined) expectNonNegativeInteger('threads', options.threads);
  if (options.maxBatch !== undefined) expectPositiveInteger('maxBatch', options.maxBatch);
  const clock = orDefault(options.clock, realClock);
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    fail('clock', 'an object with now(), setTimeout() and clearTimeout()', clock);
  }
  for (const method of ['setImmediate', 'clearImmediate'] as const) {
    const given = clock[method];
    if (given !== undefined && typeof given !== 'function') fail(`clock.${method}`, 'a function, or absent', given);
  }
  // An injected clock is user code: one that cannot tell the time is refused now, not mid-run.
  let now: unknown;
  try {
    now = clock.now();
  } catch (error) {
    throw new MezanError(
      'E_INVALID_OPTION',
      `Expected \`clock.now()\` to return a finite number of milliseconds; it threw: ${describeThrown(error)}`,
      {
        details: { option: 'clock' },
        cause: error,
      },
    );
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) fail('clock.now()', 'a finite number of milliseconds', now);
  // Redis keeps a cluster's leases, heartbeats and delays in its own real time: a node on another clock
  // would let its records lapse, or never give up on a Redis that does not answer.
  if (options.cluster !== undefined && clock !== realClock)
    fail('clock', 'no injected clock with `cluster` (a cluster runs in Redis’s real time)', clock);
  const random: RandomSource = orDefault(options.random, defaultRandom);
  expectFunction('random', random);
  const given: unknown = options.logger === false ? SILENT_LOGGER : options.logger === undefined ? createDefaultLogger() : options.logger;
  if (!isOptionsObject(given)) fail('logger', 'a logger (winston, pino, or any object with its methods), or false', given);
  const missing = missingLoggerMethod(given);
  if (missing !== undefined) {
    const methods = `${LOGGER_METHODS.slice(0, -1).join(', ')} and ${LOGGER_METHODS[LOGGER_METHODS.length - 1]}`;
    fail('logger', `a logger (an object whose ${methods} are functions; \`logger.${missing}\` is not), or false`, given);
  }
  // The caller's logger is user code: whatever it throws, the engine goes on.
  const logger = containLogger(given as Logger);
  if (options.onUnhandledError !== undefined) expectFunction('onUnhandledError', options.onUnhandledError);
  const supervision = resolveSupervision(options.supervision);
  const tasks = NamedTasks.fromOption(options.tasks);
  return Object.freeze({
    concurrency,
    threads: options.threads ?? ENGINE_DEFAULTS.threads(),
    rateLimit: resolveRateLimit(options.rateLimit),
    clock,
    random,
    logger,
    onUnhandledError: options.onUnhandledError,
    supervision,
    shutdown: resolveShutdown(options.shutdown),
    resources: resolveResources(options.resources, options.cluster !== undefined),
    deadlock: resolveDeadlockOptions(options.deadlock),
    lockOrder: resolveLockOrder(options.lockOrder),
    timings: resolveTimings(options.metrics),
    thresholds: resolveThresholds(options.thresholds, supervision.maxRestarts),
    inspect: resolveInspect(options.inspect),
    tasks,
    cluster: options.cluster === undefined ? undefined : resolveClusterOptions(options.cluster, concurrency, tasks.size > 0),
  });
}

/**
 * A dependency on an unfinished task of this engine: the record itself (it has `id`, `reporter` and
 * `task`), unless it is tolerant. Its own graph dependencies are resolved before it is sent.
 */
function dependencyOn(record: TaskRecord, allow: DependencyRef['allow']): DependencyRef {
  const task = record as unknown as TaskSubmission;
  return allow === undefined ? (record as unknown as DependencyRef) : { id: record.id, reporter: record.reporter, allow, task };
}

/** A dependency on a task that has already settled: its handle tells how it ended. */
function dependencyOnSettled(handle: TaskHandle<unknown>, allow: DependencyRef['allow']): DependencyRef {
  return allow === undefined ? { id: handle.id, reporter: handle } : { id: handle.id, reporter: handle, allow };
}

/** The option a bad `dependsOn` entry is named by in the error. */
function dependencyOption(prefix: string, index: number, isSpec: boolean): string {
  return `${prefix}dependsOn[${index}]${isSpec ? '.task' : ''}`;
}

function resolveRateLimit(options: EngineOptions['rateLimit']): ResolvedRateLimit | undefined {
  if (options === undefined) return undefined;
  expectOptionsObject('rateLimit', options, 'an object { limit, intervalMs, per? }');
  expectKnownKeys('rateLimit', options, RATE_LIMIT_OPTION_KEYS);
  expectPositiveInteger('rateLimit.limit', options.limit);
  if (typeof options.intervalMs !== 'number' || !(options.intervalMs > 0 && options.intervalMs <= MAX_TIMER_MS))
    fail('rateLimit.intervalMs', `a positive number of milliseconds up to ${MAX_TIMER_MS}`, options.intervalMs);
  const per = orDefault(options.per, 'engine');
  expectOneOf('rateLimit.per', per, ['engine', 'group'] as const);
  return Object.freeze({ limit: options.limit, intervalMs: options.intervalMs, per });
}

function resolveTimings(options: EngineOptions['metrics']): TimingsMode {
  if (options === undefined) return ENGINE_DEFAULTS.timings;
  expectOptionsObject('metrics', options);
  expectKnownKeys('metrics', options, METRICS_OPTION_KEYS);
  const timings = orDefault(options.timings, ENGINE_DEFAULTS.timings);
  expectOneOf('metrics.timings', timings, ['always', 'on-demand', 'off'] as const);
  return timings;
}

function resolveThresholds(options: EngineOptions['thresholds'], maxRestarts: number): ResolvedAlertThresholds {
  const defaults = ENGINE_DEFAULTS.thresholds;
  if (options !== undefined) {
    expectOptionsObject('thresholds', options);
    expectKnownKeys('thresholds', options, THRESHOLD_OPTION_KEYS);
  }
  const given = options ?? {};
  const limit = (option: keyof typeof given, fallback: number, check: (name: string, value: unknown) => void): number | undefined => {
    const value = orDefault(given[option], fallback);
    if (value === false) return undefined;
    check(`thresholds.${option}`, value);
    return value as number;
  };
  const fraction = (name: string, value: unknown): void => {
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) fail(name, 'a number in (0, 1]', value);
  };
  const deadlock = orDefault(given.deadlock, defaults.deadlock);
  if (typeof deadlock !== 'boolean') fail('thresholds.deadlock', 'a boolean', deadlock);
  const poolUtilizationForMs = orDefault(given.poolUtilizationForMs, defaults.poolUtilizationForMs);
  if (typeof poolUtilizationForMs !== 'number' || !(poolUtilizationForMs >= 0 && poolUtilizationForMs <= MAX_TIMER_MS))
    fail('thresholds.poolUtilizationForMs', `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, poolUtilizationForMs);
  const clearRatio = orDefault(given.clearRatio, defaults.clearRatio);
  fraction('thresholds.clearRatio', clearRatio);
  return Object.freeze({
    resourceWaitMs: limit('resourceWaitMs', defaults.resourceWaitMs, (name, value) => {
      if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_MS))
        fail(name, `a number of milliseconds from 0 to ${MAX_TIMER_MS}, or false`, value);
    }),
    poolUtilization: limit('poolUtilization', defaults.poolUtilization, fraction),
    poolUtilizationForMs,
    queueDepth: limit('queueDepth', defaults.queueDepth, expectNonNegativeInteger),
    deadlock,
    workerRestarts: limit('workerRestarts', maxRestarts, expectNonNegativeInteger),
    agentMailbox: limit('agentMailbox', defaults.agentMailbox, fraction),
    clearRatio,
  });
}

/**
 * Validates `inspect`: a function, or an object whose `next`, `error` and `complete` are functions or
 * absent, one at least given. An object's handlers are read once, here, and called on it.
 */
function resolveInspect(inspect: EngineOptions['inspect']): InspectionObserver | undefined {
  if (inspect === undefined || typeof inspect === 'function') return inspect;
  const expected = 'an inspection observer (a function, or an object with next(), error() or complete())';
  if (!isOptionsObject(inspect)) fail('inspect', expected, inspect);
  const observer: Record<string, (value: never) => void> = {};
  for (const name of ['next', 'error', 'complete'] as const) {
    const handler: unknown = (inspect as Record<string, unknown>)[name];
    if (handler === undefined) continue;
    if (typeof handler !== 'function') fail(`inspect.${name}`, 'a function, or absent', handler);
    observer[name] = (value: never) => void handler.call(inspect, value);
  }
  if (Object.keys(observer).length === 0) fail('inspect', expected, inspect);
  return Object.freeze(observer) as InspectionObserver;
}

/** @param clustered - whether the engine has the `cluster` option, without which no pool may be a cluster pool */
function resolveResources(options: EngineOptions['resources'], clustered: boolean): ResolvedEngineOptions['resources'] {
  if (options === undefined) return [];
  expectOptionsObject('resources', options, 'an object of pool names and capacities');
  return Object.freeze(
    Object.entries(options).map(([name, spec]) => {
      if (name.length === 0 || name.startsWith('@')) fail('resources', "pool names that are non-empty and do not start with '@' (reserved)", name);
      const settings = typeof spec === 'number' ? { capacity: spec } : spec;
      expectOptionsObject(`resources.${name}`, settings, 'a capacity or { capacity, rank }');
      expectKnownKeys(`resources.${name}`, settings, RESOURCE_OPTION_KEYS);
      expectPositiveInteger(`resources.${name}.capacity`, settings.capacity);
      if (settings.rank !== undefined) expectFiniteNumber(`resources.${name}.rank`, settings.rank);
      const scope = orDefault(settings.scope, 'local');
      expectOneOf(`resources.${name}.scope`, scope, ['local', 'cluster'] as const);
      if (scope === 'cluster' && !clustered)
        fail(`resources.${name}.scope`, "'local' without the `cluster` option (a cluster pool is shared by the nodes of a cluster)", scope);
      const leaseMs = orDefault(settings.leaseMs, 10_000);
      if (settings.leaseMs !== undefined && scope !== 'cluster')
        fail(`resources.${name}.leaseMs`, "left out: only a pool of scope 'cluster' has leases", leaseMs);
      if (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs) || leaseMs < 3 || leaseMs > MAX_TIMER_MS)
        fail(`resources.${name}.leaseMs`, `a whole number of milliseconds from 3 to ${MAX_TIMER_MS}`, leaseMs);
      return Object.freeze({ name, capacity: settings.capacity, rank: settings.rank, scope, leaseMs });
    }),
  );
}

function resolveDeadlockOptions(options: EngineOptions['deadlock']): ResolvedEngineOptions['deadlock'] {
  if (options === undefined) return ENGINE_DEFAULTS.deadlock;
  expectOptionsObject('deadlock', options);
  expectKnownKeys('deadlock', options, DEADLOCK_OPTION_KEYS);
  let detect: ResolvedEngineOptions['deadlock']['detect'] = orDefault(options.detect, ENGINE_DEFAULTS.deadlock.detect);
  if (isOptionsObject(detect)) {
    expectKnownKeys('deadlock.detect', detect, { afterMs: true });
    if (typeof detect.afterMs !== 'number' || !(detect.afterMs >= 0 && detect.afterMs <= MAX_TIMER_MS)) {
      fail('deadlock.detect.afterMs', `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, detect.afterMs);
    }
    detect = Object.freeze({ afterMs: detect.afterMs });
  } else if (detect !== 'immediate' && detect !== 'off') {
    fail('deadlock.detect', "'immediate', 'off' or { afterMs }", detect);
  }
  const policy = orDefault(options.policy, ENGINE_DEFAULTS.deadlock.policy);
  if (typeof policy !== 'function') expectOneOf('deadlock.policy', policy, DEADLOCK_POLICY_NAMES);
  let maxExtraWorkers: number = ENGINE_DEFAULTS.deadlock.maxExtraWorkers;
  if (options.compensate === false) maxExtraWorkers = 0;
  else if (options.compensate !== undefined) {
    expectOptionsObject('deadlock.compensate', options.compensate, 'false or { maxExtraWorkers }');
    expectKnownKeys('deadlock.compensate', options.compensate, { maxExtraWorkers: true });
    maxExtraWorkers = orDefault(options.compensate.maxExtraWorkers, maxExtraWorkers);
    expectNonNegativeInteger('deadlock.compensate.maxExtraWorkers', maxExtraWorkers);
  }
  return Object.freeze({ detect, policy, maxExtraWorkers });
}

function resolveLockOrder(option: EngineOptions['lockOrder']): LockOrderMode {
  const mode = orDefault(option, ENGINE_DEFAULTS.lockOrder);
  expectOneOf('lockOrder', mode, ['off', 'warn', 'enforce'] as const);
  return mode;
}

function resolveSupervision(options: EngineOptions['supervision']): ResolvedEngineOptions['supervision'] {
  if (options === undefined) return ENGINE_DEFAULTS.supervision;
  expectOptionsObject('supervision', options);
  expectKnownKeys('supervision', options, SUPERVISION_OPTION_KEYS);
  const maxRestarts = orDefault(options.maxRestarts, ENGINE_DEFAULTS.supervision.maxRestarts);
  expectNonNegativeInteger('supervision.maxRestarts', maxRestarts);
  const withinMs = orDefault(options.withinMs, ENGINE_DEFAULTS.supervision.withinMs);
  expectNonNegativeNumber('supervision.withinMs', withinMs);
  return Object.freeze({ maxRestarts, withinMs });
}

function resolveShutdown(options: EngineOptions['shutdown']): ResolvedEngineOptions['shutdown'] {
  if (options === undefined) return ENGINE_DEFAULTS.shutdown;
  expectOptionsObject('shutdown', options);
  expectKnownKeys('shutdown', options, SHUTDOWN_OPTION_KEYS);
  const graceMs = orDefault(options.graceMs, ENGINE_DEFAULTS.shutdown.graceMs);
  // A timer of more than 2^31 - 1 ms fires at once in Node: a finite, bounded grace is required.
  if (typeof graceMs !== 'number' || !(graceMs >= 0 && graceMs <= MAX_TIMER_MS))
    fail('shutdown.graceMs', `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, graceMs);
  const drain = orDefault(options.drain, ENGINE_DEFAULTS.shutdown.drain);
  expectOneOf('shutdown.drain', drain, ['run', 'cancel'] as const);
  const abandonAfterMs = orDefault(options.abandonAfterMs, ENGINE_DEFAULTS.shutdown.abandonAfterMs);
  if (typeof abandonAfterMs !== 'number' || !(abandonAfterMs >= 0 && abandonAfterMs <= MAX_TIMER_MS))
    fail('shutdown.abandonAfterMs', `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, abandonAfterMs);
  const signals = orDefault(options.signals, ENGINE_DEFAULTS.shutdown.signals);
  if (!Array.isArray(signals)) fail('shutdown.signals', 'an array of signal names', signals);
  // Every index, holes included (`forEach` would skip them): a hole names no signal.
  for (let index = 0; index < signals.length; index++) {
    const signal: unknown = signals[index];
    if (typeof signal !== 'string' || !CATCHABLE_SIGNALS.has(signal)) {
      fail(`shutdown.signals[${index}]`, "a signal a process can catch, such as 'SIGTERM' or 'SIGINT' (not SIGKILL or SIGSTOP)", signal);
    }
  }
  const exitOnSignal = orDefault(options.exitOnSignal, ENGINE_DEFAULTS.shutdown.exitOnSignal);
  if (typeof exitOnSignal !== 'boolean') fail('shutdown.exitOnSignal', 'a boolean', exitOnSignal);
  return Object.freeze({ graceMs, drain, abandonAfterMs, signals: Object.freeze([...signals]), exitOnSignal });
}

/**
 * An engine id, `engine-` and 8 characters of {@link ID_ALPHABET}, each from one draw of `random`: the
 * same seeded source gives the same id, and any source (a constant one too) gives one in 8 draws.
 */
function engineId(random: RandomSource): string {
  let id = 'engine-';
  for (let i = 0; i < 8; i++) id += ID_ALPHABET[Math.floor(checkedDraw(random) * ID_ALPHABET.length)];
  return id;
}

/** A draw of the caller's random source, made when the engine is made: one out of [0, 1), or a throw, is refused now. */
function checkedDraw(random: RandomSource): number {
  let value: unknown;
  try {
    value = random();
  } catch (error) {
    throw new MezanError('E_INVALID_OPTION', `Expected \`random()\` to return a number in [0, 1); it threw: ${describeThrown(error)}`, {
      details: { option: 'random()' },
      cause: error,
    });
  }
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) fail('random()', 'a number in [0, 1)', value);
  return value;
}

/** Whether a child of the supervisor is there and running (a cluster part that will say it leaves when the actors stop). */
function isActive(ref: AnyActorRef | undefined): boolean {
  return (ref?.getSnapshot() as { readonly status?: string } | undefined)?.status === 'active';
}
