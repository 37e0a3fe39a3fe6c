import {
  assertEvent,
  assign,
  enqueueActions,
  sendTo,
  setup,
  stopChild,
  type ActorLogic,
  type ActorRefFrom,
  type AnyActorRef,
  type EventObject,
  type Snapshot,
} from 'xstate';
import type { AnyActorSystem } from '../actors/any-actor-system';
import type { AgentEndedEvent, AgentsActivityEvent } from '../actors/agent.actor';
import { DetectorInbox } from '../actors/detector-inbox';
import type { ClusterDeadlocksEvent, ClusterDeadlocksInput, ClusterDeadlocksSnapshot } from '../actors/cluster-deadlocks.actor';
import type { ClusterWorkerEvent, ClusterWorkerInput, ClusterWorkerSnapshot } from '../actors/cluster-worker.actor';
import type { ClusterSubmitterEvent, ClusterSubmitterInput, ClusterSubmitterSnapshot } from '../actors/cluster-submitter.actor';
import type { ClusterMembershipActorInput, ClusterMembershipEvent, ClusterMembershipSnapshot } from '../actors/cluster-membership.actor';
import { ClusterWaitsRelay } from '../actors/cluster-waits-relay';
import { detectorLogic, type DeadlockSettings, type DetectorRef } from '../actors/detector.actor';
import { executorLogic, type ExecutorInput, type ExecutorNotice } from '../actors/executor.actor';
import { poolLogic, type PoolInput } from '../actors/pool.actor';
import { processSignalsLogic, type SignalReceivedEvent } from '../actors/process-signals.actor';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import { describeThrown } from '../src/internal/describe-thrown';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import type { LockOrderMode, ResourceDescriptor, TaskServices } from '../src/internal/task-services';
import type { TaskFunction, TaskOptions } from '../src/task-options';
import type { TaskHandle } from '../src/task-handle';
import type { ResolvedAlertThresholds, TimingsMode } from '../src/engine-options';
import type { MonitorNotice } from '../src/metrics/monitor-observation';
import { readGauges } from '../src/metrics/read-gauges';
import { monitorLogic, type MonitorRef } from '../actors/monitor.actor';
import {
  shutdownMachine,
  type ShutdownAbandonEvent,
  type ShutdownDrain,
  type ShutdownPhaseEvent,
  type ShutdownRequestEvent,
} from './shutdown.machine';

export type { DeadlockSettings } from '../actors/detector.actor';

/** How crashed workers are restarted: at most `maxRestarts` within any `withinMs` window. */
export interface SupervisionPolicy {
  readonly maxRestarts: number;
  readonly withinMs: number;
}

/** The supervisor's input: everything the engine resolved from its options. @internal */
export interface SupervisorInput extends Omit<ExecutorInput, 'services'> {
  readonly supervision: SupervisionPolicy;
  readonly shutdown: {
    readonly graceMs: number;
    readonly drain: ShutdownDrain;
    readonly abandonAfterMs: number;
    readonly signals: readonly NodeJS.Signals[];
  };
  readonly resources: ReadonlyArray<{
    readonly name: string;
    readonly capacity: number;
    readonly rank: number | undefined;
    /** `cluster` for a pool whose units the nodes of a cluster share, spawned from `clusterPools`. @default 'local' */
    readonly scope?: 'local' | 'cluster';
    /** A cluster pool's `leaseTtlMs`. */
    readonly leaseMs?: number;
  }>;
  /** How pools of `scope: 'cluster'` are spawned; required when one is declared. */
  readonly clusterPools?: ClusterPoolSpawner;
  /**
   * How this node's part in detecting deadlocks across the cluster is spawned, when detection is
   * on and it has cluster pools or runs cluster tasks: the supervisor spawns it (`cluster-deadlocks`), tells it this
   * node's waits (its cluster pools' and its detector's awaits) and restarts it if it fails.
   */
  readonly clusterDeadlocks?: ClusterDeadlocksSpawner;
  /**
   * How this node's working side is spawned, when it takes the cluster's tasks (`cluster.concurrency`
   * above 0): the supervisor spawns it (`cluster-worker`), tells it to stop taking when draining
   * begins, and restarts it if it fails.
   */
  readonly clusterWorker?: ClusterWorkerSpawner;
  /**
   * How this node's submitting side is spawned, on a cluster node: the supervisor spawns it
   * (`cluster-submitter`) and replaces it if it fails, until its shutdown's grace is over.
   */
  readonly clusterSubmitter?: ClusterSubmitterSpawner;
  /** How this node's membership record is spawned, on a cluster node (`cluster-membership`): replaced if it fails, until the engine stops. */
  readonly clusterMembership?: ClusterMembershipSpawner;
  readonly deadlock: DeadlockSettings;
  readonly lockOrder: LockOrderMode;
  /** Submits a child task through the engine (nested submission). */
  readonly submitChild: (parentId: string, fn: TaskFunction, options: TaskOptions | undefined) => TaskHandle<unknown>;
  /** Asks an agent from a task (a task's `ctx.ask`). */
  readonly askAgent?: TaskServices['askAgent'];
  /** Where the supervisor's own events go (pools, deadlocks, crashes, phases). @default `sink` */
  readonly systemSink?: EventSink;
  /** The monitor's settings; without them no monitor is spawned. */
  readonly monitor?: MonitorSettings;
}

/**
 * What the supervisor spawns a cluster pool with besides a pool's own input (the cluster's Redis
 * connection, the cluster's and the node's names, the clock). Its logic is the actor `clusterPool`,
 * which the engine provides (`supervisorMachine.provide`) from actors/cluster-pool.actor.ts, loaded
 * only when a pool needs it.
 * @internal
 */
export interface ClusterPoolSpawner {
  readonly input: object;
}

/**
 * What the supervisor spawns the cross-node detector part with besides the detector and the
 * executor it talks to, and its relay's `jobOf` (which local task runs which job). Its logic is the actor `clusterDeadlocks`, which the engine provides from
 * actors/cluster-deadlocks.actor.ts (loaded only then: it brings BullMQ).
 * @internal
 */
export interface ClusterDeadlocksSpawner {
  readonly input: Omit<ClusterDeadlocksInput, 'detector' | 'executor' | 'jobOf'>;
}

/**
 * What the supervisor spawns a cluster node's working side with besides where it tells which local
 * task runs which job (the relay to the cross-node detector part, when there is one). Its logic is
 * the actor `clusterWorker`, which the engine provides from actors/cluster-worker.actor.ts (loaded
 * only then: it brings BullMQ).
 * @internal
 */
export interface ClusterWorkerSpawner {
  readonly input: Omit<ClusterWorkerInput, 'runs'>;
}

/**
 * What the supervisor spawns a cluster node's submitting side with. Its logic is the actor
 * `clusterSubmitter`, which the engine provides from actors/cluster-submitter.actor.ts (loaded only
 * then: it brings BullMQ).
 * @internal
 */
export interface ClusterSubmitterSpawner {
  readonly input: ClusterSubmitterInput;
}

/**
 * What the supervisor spawns a cluster node's membership with. Its logic is the actor
 * `clusterMembership`, which the engine provides from actors/cluster-membership.actor.ts.
 * @internal
 */
export interface ClusterMembershipSpawner {
  readonly input: ClusterMembershipActorInput;
}

/** A cluster pool's input (actors/cluster-pool.actor.ts's `ClusterPoolInput`): a pool's, and the cluster's (and where it tells its waits). */
function clusterPoolInput(
  pool: PoolInput,
  cluster: ClusterPoolSpawner,
  leaseTtlMs: number | undefined,
  waits: ClusterWaitsRelay | undefined,
): PoolInput {
  return { ...pool, ...cluster.input, leaseTtlMs, waits } as PoolInput;
}

/** Stands for a cluster part until the engine provides its logic: spawned unprovided, it throws. */
function unprovided<TSnapshot extends Snapshot<undefined>, TEvent extends EventObject, TInput>(
  part: string,
): ActorLogic<TSnapshot, TEvent, TInput, AnyActorSystem, EventObject> {
  return {
    getInitialSnapshot() {
      throw new MezanError('E_INVALID_OPTION', `The ${part} was spawned without its logic (supervisorMachine.provide)`);
    },
    transition: (snapshot) => snapshot,
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}

/** What the supervisor spawns the monitor with, and how it tells the monitor what events do not say. @internal */
export interface MonitorSettings {
  readonly thresholds: ResolvedAlertThresholds;
  readonly timings: TimingsMode;
  /** Where the monitor's alerts go. */
  readonly sink: EventSink;
  /** Hands the monitor a notice (in its next batch). */
  readonly observe: (notice: MonitorNotice) => void;
}

/** A phase of shutdown the supervisor entered, stamped with clock time. */
export interface RecordedPhase {
  readonly phase: 'draining' | 'terminating' | 'stopped';
  readonly at: number;
  readonly cause: ShutdownPhaseEvent['cause'];
}

/** The supervisor's context. @internal */
export interface SupervisorContext {
  readonly executor: ActorRefFrom<typeof executorLogic>;
  readonly detector: DetectorRef;
  /** Where every notice for the detector goes; it delivers a turn's notices in one message. */
  readonly detectorInbox: DetectorInbox;
  readonly shutdown: ActorRefFrom<typeof shutdownMachine>;
  readonly clock: Clock;
  readonly sink: EventSink;
  readonly logger: Logger;
  readonly supervision: SupervisionPolicy;
  readonly signals: readonly NodeJS.Signals[];
  /** Clock times of recent restarts, for the intensity limit. */
  readonly restarts: readonly number[];
  readonly phases: readonly RecordedPhase[];
  /** The phase shutdown is in, or `running`. */
  readonly phase: 'running' | RecordedPhase['phase'];
  readonly escalated: boolean;
  /** The pools, by name. */
  readonly resources: ReadonlyMap<string, ResourceDescriptor>;
  /** Metrics and alerts; `undefined` without monitor settings. */
  readonly monitor: MonitorRef | undefined;
  /**
   * Whether no agent has a message to handle, as the agents last said (`agents.activity`, sent from
   * the start of draining on): draining waits for them too. False until they said so.
   */
  readonly agentsQuiet: boolean;
  /** This node's part in detecting deadlocks across the cluster (`cluster-deadlocks`), and what it is spawned (again) with. */
  readonly clusterDeadlocks: AnyActorRef | undefined;
  readonly clusterDeadlocksInput: ClusterDeadlocksInput | undefined;
  /** This node's working side (`cluster-worker`), and what it is spawned (again) with. */
  readonly clusterWorker: AnyActorRef | undefined;
  readonly clusterWorkerInput: ClusterWorkerInput | undefined;
  /** This node's submitting side (`cluster-submitter`), and what it is spawned (again) with. */
  readonly clusterSubmitter: AnyActorRef | undefined;
  readonly clusterSubmitterInput: ClusterSubmitterInput | undefined;
  /** This node's membership record (`cluster-membership`), and what it is spawned (again) with. */
  readonly clusterMembership: AnyActorRef | undefined;
  readonly clusterMembershipInput: ClusterMembershipActorInput | undefined;
  /** Where the cluster pools and the detector tell this node's waits; it tells them again to a restarted part. */
  readonly clusterWaits: ClusterWaitsRelay | undefined;
}

/** Events the supervisor accepts. @internal */
export type SupervisorEvent =
  | ShutdownRequestEvent
  | SignalReceivedEvent
  | ShutdownPhaseEvent
  | ShutdownAbandonEvent
  | ExecutorNotice
  | AgentEndedEvent
  | AgentsActivityEvent
  /** A failed cluster part's restart delay is over (raised by the supervisor itself). */
  | { readonly type: 'cluster-part.respawn'; readonly part: ClusterPart }
  /** Changes a pool's capacity (a simulated fault, or an operator's decision). */
  | { readonly type: 'resource.capacity'; readonly resource: string; readonly capacity: number };

/** What the supervisor emits to the engine. @internal */
export type SupervisorEmitted =
  | {
      readonly type: 'phase';
      readonly phase: RecordedPhase['phase'];
      /** At `draining`: whether queued tasks are cancelled (`drain: 'cancel'`). */ readonly cancelQueued?: boolean;
    }
  | { readonly type: 'escalated' };

const shutdownError = (message: string): MezanError => new MezanError('E_SHUTDOWN', message);

/** The cluster parts the supervisor replaces when they fail (their actors' ids). @internal */
export type ClusterPart = 'cluster-deadlocks' | 'cluster-worker' | 'cluster-submitter' | 'cluster-membership';

/** A cluster node's parts as the supervisor runs them now, each `undefined` where the node has none. @internal */
export function clusterPartRefs(context: SupervisorContext): ReadonlyArray<readonly [ClusterPart, AnyActorRef | undefined]> {
  return [
    ['cluster-deadlocks', context.clusterDeadlocks],
    ['cluster-worker', context.clusterWorker],
    ['cluster-submitter', context.clusterSubmitter],
    ['cluster-membership', context.clusterMembership],
  ];
}

/** How each cluster part is named in the log. */
const CLUSTER_PART_NAMES: Readonly<Record<ClusterPart, string>> = {
  'cluster-worker': 'the cluster worker',
  'cluster-deadlocks': 'the cluster deadlock detector',
  'cluster-submitter': 'the cluster submitter',
  'cluster-membership': 'the cluster membership',
};

/**
 * Whether a cluster part that failed in `phase` is replaced: the working side only while the
 * engine runs (draining, it would take no job); the submitting side until the grace is over (the
 * cluster tasks it submitted are drained too); the cross-node detector part and the membership
 * (its record tells the phase) until it stops.
 */
function replacedIn(part: ClusterPart, phase: SupervisorContext['phase']): boolean {
  if (part === 'cluster-worker') return phase === 'running';
  if (part === 'cluster-submitter') return phase === 'running' || phase === 'draining';
  return phase !== 'stopped';
}

/** What cluster part `part` is spawned (again) with, if this node has it. */
function clusterPartInput(context: SupervisorContext, part: ClusterPart): unknown {
  if (part === 'cluster-worker') return context.clusterWorkerInput;
  if (part === 'cluster-submitter') return context.clusterSubmitterInput;
  if (part === 'cluster-membership') return context.clusterMembershipInput;
  return context.clusterDeadlocksInput;
}

const CLUSTER_RESTART_FIRST_MS = 100;
const CLUSTER_RESTART_MAX_MS = 5_000;

/**
 * How long a failed cluster part waits before it is spawned again, on the engine's clock: 100 ms
 * for the first restart within the supervision window, doubling with each more, up to 5 s. A part
 * that fails because Redis is briefly away then does not spend the restart intensity at once.
 * @internal
 */
export function clusterRestartDelay(restartsInWindow: number): number {
  return Math.min(CLUSTER_RESTART_FIRST_MS * 2 ** (restartsInWindow - 1), CLUSTER_RESTART_MAX_MS);
}

/** Logs and publishes (`engine.escalated`) that child `actor` failed and the engine shuts down. */
function reportActorFailure(context: SupervisorContext, actor: string, error: unknown): void {
  const now = context.clock.now();
  context.logger.error(`the ${actor} actor failed: the engine shuts down`, { actor, error: describeThrown(error) });
  if (!context.sink.active) return;
  context.sink.publish({
    type: 'engine.escalated',
    at: now,
    severity: 'critical',
    reason: 'actor failed',
    restarts: context.restarts.filter((at) => now - at < context.supervision.withinMs).length,
    withinMs: context.supervision.withinMs,
    actor,
  });
}
/**
 * The root of an engine's actor system. It owns the executor (and through it the workers) and the
 * shutdown machine; it restarts crashed workers one-for-one within an intensity limit and escalates
 * past it; it listens for process signals when asked, and carries out each phase of shutdown.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
    emitted: {} as SupervisorEmitted,
  },
  actors: {
    executor: executorLogic,
    shutdown: shutdownMachine,
    processSignals: processSignalsLogic,
    pool: poolLogic,
    // Provided by the engine when a pool has `scope: 'cluster'` (see ClusterPoolSpawner).
    clusterPool: poolLogic,
    detector: detectorLogic,
    monitor: monitorLogic,
    // Provided by the engine with detection on and cluster pools or cluster tasks to run (actors/cluster-deadlocks.actor.ts).
    clusterDeadlocks: unprovided<ClusterDeadlocksSnapshot, ClusterDeadlocksEvent, ClusterDeadlocksInput>('cross-node deadlock detector'),
    // Provided by the engine when it takes the cluster's tasks (actors/cluster-worker.actor.ts).
    clusterWorker: unprovided<ClusterWorkerSnapshot, ClusterWorkerEvent, ClusterWorkerInput>('cluster worker'),
    // Provided by the engine on a cluster node (actors/cluster-submitter.actor.ts).
    clusterSubmitter: unprovided<ClusterSubmitterSnapshot, ClusterSubmitterEvent, ClusterSubmitterInput>('cluster submitter'),
    // Provided by the engine on a cluster node (actors/cluster-membership.actor.ts).
    clusterMembership: unprovided<ClusterMembershipSnapshot, ClusterMembershipEvent, ClusterMembershipActorInput>('cluster membership'),
  },
  actions: {
    stopAgent: stopChild(({ event }) => {
      assertEvent(event, 'agent.ended');
      return event.ref;
    }),
    changeCapacity: ({ context, event }) => {
      assertEvent(event, 'resource.capacity');
      const pool = context.resources.get(event.resource);
      if (pool === undefined) return;
      pool.ref.send({ type: 'resource.set-capacity', capacity: event.capacity, at: context.clock.now() });
      context.logger.info('resource capacity changed', { resource: event.resource, capacity: event.capacity });
    },
    /** Terminating gave up waiting: functions that ignore their abort signal are let go. */
    abandonRunning: ({ context }) => {
      context.executor.send({ type: 'executor.abandon-running' });
    },
    /** The tasks a crashed worker took down give back what they held, and their waits are over. */
    forgetCrashedTasks: ({ context, event }) => {
      assertEvent(event, 'worker.crashed');
      const reason = new MezanError('E_WORKER_CRASHED', `Worker ${event.workerId} crashed`, { details: { workerId: event.workerId } });
      const at = context.clock.now();
      for (const taskId of event.taskIds) {
        for (const pool of context.resources.values()) pool.ref.send({ type: 'resource.revoke', taskId, at, reason });
      }
      context.detectorInbox.send({ type: 'tasks.gone', taskIds: event.taskIds });
    },
    forwardToShutdown: sendTo(
      ({ context }) => context.shutdown,
      ({ event }) => {
        assertEvent(event, ['shutdown.request', 'signal.received']);
        return event;
      },
    ),
    publishSignal: ({ context, event }) => {
      assertEvent(event, 'signal.received');
      context.logger.info('signal received', { signal: event.signal });
      if (context.sink.active) context.sink.publish({ type: 'signal.received', at: context.clock.now(), signal: event.signal });
    },
    recordPhase: assign(({ context, event }) => {
      assertEvent(event, 'shutdown.phase');
      const phase: RecordedPhase = { phase: event.phase, at: context.clock.now(), cause: event.cause };
      return { phases: [...context.phases, phase], phase: event.phase };
    }),
    publishPhase: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'shutdown.phase');
      context.logger.info(`shutdown: ${event.phase}`, { cause: event.cause });
      if (context.sink.active) context.sink.publish({ type: 'shutdown.phase', at: context.clock.now(), phase: event.phase, cause: event.cause });
      enqueue.emit({ type: 'phase', phase: event.phase, ...(event.phase === 'draining' ? { cancelQueued: event.cancelQueued } : {}) });
    }),
    /**
     * Carries out a phase: draining may cancel queued tasks; terminating cancels them and aborts
     * running ones. The cluster's working side stops taking jobs at either (those it runs are local
     * tasks, drained as any).
     */
    enactPhase: ({ context, event }) => {
      assertEvent(event, 'shutdown.phase');
      // A working side that failed, and waits to be replaced, is not: there is nothing to tell.
      if (context.clusterWorker?.getSnapshot().status === 'active') context.clusterWorker.send({ type: 'cluster.stop-taking' });
      if (event.phase === 'draining' && event.cancelQueued) {
        context.executor.send({ type: 'executor.cancel-pending', reason: shutdownError('Cancelled by shutdown before it ran') });
      } else if (event.phase === 'terminating') {
        context.executor.send({ type: 'executor.cancel-pending', reason: shutdownError('Cancelled by shutdown before it ran') });
        context.executor.send({ type: 'executor.abort-running', reason: shutdownError('Aborted by shutdown after the grace period') });
      }
      // The work may already be done: the executor answers with `executor.quiescent` if so.
      context.executor.send({ type: 'executor.probe' });
    },
    /** The agents became quiet or busy; once quiet, the executor is asked again whether it is too (its answer: `executor.quiescent`). */
    noteAgentActivity: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'agents.activity');
      enqueue.assign({ agentsQuiet: event.quiet });
      if (event.quiet && (context.phase === 'draining' || context.phase === 'terminating'))
        enqueue.sendTo(context.executor, { type: 'executor.probe' });
    }),
    reportDrained: ({ context }) => {
      if (!context.agentsQuiet) return;
      if (context.phase === 'draining' || context.phase === 'terminating') context.shutdown.send({ type: 'work.drained' });
    },
    /**
     * A child failed (a bug: user code is contained before it reaches an actor). A pool, the
     * detector or the monitor cannot be restarted without losing what it alone knows (who holds
     * what, who waits), so the engine escalates: the error is logged, the engine stops taking work
     * and shuts itself down, forced, and the shutdown's report accounts for every task.
     */
    escalateActorFailure: enqueueActions(({ context, event, enqueue }) => {
      reportActorFailure(context, event.type.slice('xstate.error.actor.'.length), (event as { readonly error?: unknown }).error);
      enqueue.emit({ type: 'escalated' });
      enqueue.sendTo(context.shutdown, { type: 'shutdown.request', force: true });
    }),
    /**
     * A cluster part failed: the cross-node detector part (its scans' queue could not be joined),
     * the working side (its BullMQ worker stopped for good), the submitting side (its queue
     * events stopped for good) or the membership (its connection ended). Unlike a pool or the
     * detector none keeps anything it alone knows (this node's waits and runs are the relay's, its
     * submitted tasks the engine's, its record is made from the engine, the cluster's are in
     * Redis, and the jobs the working side ran are BullMQ's to give again), so it is
     * replaced, counted with the workers' restarts; past their intensity limit the engine escalates
     * as for any actor failure. A part that fails once shutdown went past what it serves is not
     * replaced (see `replacedIn`).
     */
    restartClusterPart: enqueueActions(({ context, event, enqueue }) => {
      const error = (event as { readonly error?: unknown }).error;
      const part = (event as EventObject).type.slice('xstate.error.actor.'.length) as ClusterPart;
      const now = context.clock.now();
      const { maxRestarts, withinMs } = context.supervision;
      const recent = [...context.restarts.filter((at) => now - at < withinMs), now];
      if (context.escalated || !replacedIn(part, context.phase) || clusterPartInput(context, part) === undefined) return;
      if (recent.length > maxRestarts) {
        enqueue.assign({ restarts: recent });
        reportActorFailure({ ...context, restarts: recent }, part, error);
        enqueue.emit({ type: 'escalated' });
        enqueue.sendTo(context.shutdown, { type: 'shutdown.request', force: true });
        return;
      }
      const delayMs = clusterRestartDelay(recent.length);
      context.logger.warn(`${CLUSTER_PART_NAMES[part]} failed: restarting it`, {
        error: describeThrown(error),
        restartsInWindow: recent.length,
        delayMs,
      });
      enqueue.assign({ restarts: recent });
      enqueue.raise({ type: 'cluster-part.respawn', part }, { delay: delayMs });
    }),
    /** A failed cluster part's restart delay is over: its successor is spawned, unless the engine escalated or went past what the part serves meanwhile. */
    respawnClusterPart: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'cluster-part.respawn');
      if (context.escalated || !replacedIn(event.part, context.phase) || clusterPartInput(context, event.part) === undefined) return;
      if (event.part === 'cluster-worker') {
        enqueue.assign({
          clusterWorker: ({ context: current, spawn }) => spawn('clusterWorker', { id: 'cluster-worker', input: current.clusterWorkerInput! }),
        });
        return;
      }
      if (event.part === 'cluster-membership') {
        enqueue.assign({
          clusterMembership: ({ context: current, spawn }) =>
            spawn('clusterMembership', { id: 'cluster-membership', input: current.clusterMembershipInput! }),
        });
        return;
      }
      if (event.part === 'cluster-submitter') {
        enqueue.assign({
          clusterSubmitter: ({ context: current, spawn }) =>
            spawn('clusterSubmitter', { id: 'cluster-submitter', input: current.clusterSubmitterInput! }),
        });
        return;
      }
      enqueue.assign({
        clusterDeadlocks: ({ context: current, spawn }) => {
          const ref = spawn('clusterDeadlocks', { id: 'cluster-deadlocks', input: current.clusterDeadlocksInput! });
          current.clusterWaits?.connect(ref);
          return ref;
        },
      });
    }),
    /** One-for-one restart within the intensity limit; past it, escalate. */
    superviseCrash: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'worker.crashed');
      const now = context.clock.now();
      const { maxRestarts, withinMs } = context.supervision;
      const recent = [...context.restarts.filter((at) => now - at < withinMs), now];
      context.logger.warn('worker crashed', { workerId: event.workerId });
      if (context.sink.active) context.sink.publish({ type: 'worker.crashed', at: now, workerId: event.workerId });
      if (context.escalated) {
        // Nothing is restarted any more: what this crash sent back to the queue is refused too.
        enqueue.sendTo(context.executor, {
          type: 'executor.cancel-pending',
          status: 'rejected',
          reason: new MezanError('E_SHUTDOWN', `Refused: the engine escalated after too many worker crashes`, { details: { withinMs } }),
        });
        return;
      }
      if (recent.length <= maxRestarts) {
        enqueue.assign({ restarts: recent });
        enqueue.sendTo(context.executor, { type: 'worker.restart', workerId: event.workerId });
        if (context.sink.active)
          context.sink.publish({ type: 'worker.restarted', at: now, workerId: event.workerId, restartsInWindow: recent.length });
        return;
      }
      context.logger.error('too many worker crashes: escalating', { restarts: recent.length, withinMs });
      enqueue.assign({ restarts: recent, escalated: true });
      // A node that takes no work takes no job of its cluster either: it would give each back at once, and take it again.
      if (context.clusterWorker?.getSnapshot().status === 'active') enqueue.sendTo(context.clusterWorker, { type: 'cluster.stop-taking' });
      enqueue.sendTo(context.executor, {
        type: 'executor.cancel-pending',
        status: 'rejected',
        reason: new MezanError('E_SHUTDOWN', `Refused: ${recent.length} worker crashes within ${withinMs} ms`, {
          details: { restarts: recent.length, withinMs },
        }),
      });
      if (context.sink.active) {
        context.sink.publish({
          type: 'engine.escalated',
          at: now,
          severity: 'critical',
          reason: 'restart intensity exceeded',
          restarts: recent.length,
          withinMs,
        });
      }
      enqueue.emit({ type: 'escalated' });
    }),
  },
  guards: {
    isStopped: ({ event }) => event.type === 'shutdown.phase' && event.phase === 'stopped',
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input, spawn }) => {
    const settings = input.monitor;
    const detectorInbox = new DetectorInbox(input.clock);
    const clusterWaits = input.clusterDeadlocks === undefined ? undefined : new ClusterWaitsRelay();
    const detector = spawn('detector', {
      id: 'detector',
      systemId: 'detector',
      input: {
        clock: input.clock,
        sink: input.systemSink ?? input.sink,
        logger: input.logger,
        deadlock: input.deadlock,
        concurrency: input.concurrency,
        pools: input.resources,
        observe: settings?.observe,
        inbox: detectorInbox,
        clusterAwaits: clusterWaits,
      },
    }) as DetectorRef;
    detectorInbox.connect(detector);
    const resources = new Map<string, ResourceDescriptor>();
    for (const { name, capacity, rank, scope, leaseMs } of input.resources) {
      const poolInput = { name, capacity, rank, observer: detectorInbox, sink: input.systemSink ?? input.sink, observe: settings?.observe };
      const cluster = scope === 'cluster' ? input.clusterPools : undefined;
      if (scope === 'cluster' && cluster === undefined)
        throw new MezanError('E_INVALID_OPTION', `Pool \`${name}\` is a cluster pool, and no cluster was given`);
      const ref: AnyActorRef =
        cluster === undefined
          ? spawn('pool', { id: `resource:${name}`, systemId: `resource:${name}`, input: poolInput })
          : spawn('clusterPool', {
              id: `resource:${name}`,
              systemId: `resource:${name}`,
              input: clusterPoolInput(poolInput, cluster, leaseMs, clusterWaits),
            });
      resources.set(name, { name, capacity, rank, ref });
    }
    const services: TaskServices = {
      resources,
      detector: detectorInbox,
      lockOrder: input.lockOrder,
      submitChild: input.submitChild,
      askAgent: input.askAgent,
    };
    const executor = spawn('executor', {
      id: 'executor',
      systemId: 'executor',
      input: {
        concurrency: input.concurrency,
        threads: input.threads,
        rateLimit: input.rateLimit,
        clock: input.clock,
        random: input.random,
        logger: input.logger,
        sink: input.sink,
        services,
      },
    });
    const monitor =
      settings === undefined
        ? undefined
        : spawn('monitor', {
            id: 'monitor',
            systemId: 'monitor',
            input: {
              clock: input.clock,
              settings: { ...settings.thresholds, restartWindowMs: input.supervision.withinMs },
              timings: settings.timings,
              readGauges: () => readGauges(executor, resources, input.clock),
              sink: settings.sink,
              logger: input.logger,
            },
          });
    const clusterDeadlocksInput: ClusterDeadlocksInput | undefined =
      input.clusterDeadlocks === undefined || clusterWaits === undefined
        ? undefined
        : { ...input.clusterDeadlocks.input, detector: detectorInbox, executor, jobOf: (taskId) => clusterWaits.jobOf(taskId) };
    const clusterDeadlocks =
      clusterDeadlocksInput === undefined ? undefined : spawn('clusterDeadlocks', { id: 'cluster-deadlocks', input: clusterDeadlocksInput });
    if (clusterDeadlocks !== undefined) clusterWaits?.connect(clusterDeadlocks);
    const clusterWorkerInput: ClusterWorkerInput | undefined =
      input.clusterWorker === undefined ? undefined : { ...input.clusterWorker.input, runs: clusterWaits };
    const clusterWorker = clusterWorkerInput === undefined ? undefined : spawn('clusterWorker', { id: 'cluster-worker', input: clusterWorkerInput });
    const clusterMembershipInput = input.clusterMembership?.input;
    const clusterMembership =
      clusterMembershipInput === undefined ? undefined : spawn('clusterMembership', { id: 'cluster-membership', input: clusterMembershipInput });
    const clusterSubmitterInput = input.clusterSubmitter?.input;
    const clusterSubmitter =
      clusterSubmitterInput === undefined ? undefined : spawn('clusterSubmitter', { id: 'cluster-submitter', input: clusterSubmitterInput });
    return {
      executor,
      detector,
      detectorInbox,
      shutdown: spawn('shutdown', {
        id: 'shutdown',
        input: { graceMs: input.shutdown.graceMs, drain: input.shutdown.drain, abandonAfterMs: input.shutdown.abandonAfterMs },
      }),
      clock: input.clock,
      sink: input.systemSink ?? input.sink,
      logger: input.logger.child({ actor: 'supervisor' }),
      supervision: input.supervision,
      signals: input.shutdown.signals,
      restarts: [],
      phases: [],
      phase: 'running',
      escalated: false,
      resources,
      monitor,
      agentsQuiet: false,
      clusterDeadlocks,
      clusterDeadlocksInput,
      clusterWorker,
      clusterWorkerInput,
      clusterSubmitter,
      clusterSubmitterInput,
      clusterMembership,
      clusterMembershipInput,
      clusterWaits,
    };
  },
  initial: 'supervising',
  states: {
    supervising: {
      invoke: {
        src: 'processSignals',
        input: ({ context }) => ({ signals: context.signals }),
      },
      on: {
        'signal.received': { actions: ['publishSignal', 'forwardToShutdown'] },
        'shutdown.request': { actions: 'forwardToShutdown' },
        'shutdown.phase': [
          { guard: 'isStopped', target: 'stopped', actions: ['recordPhase', 'publishPhase'] },
          { actions: ['recordPhase', 'publishPhase', 'enactPhase'] },
        ],
        'executor.quiescent': { actions: 'reportDrained' },
        'worker.crashed': { actions: ['forgetCrashedTasks', 'superviseCrash'] },
        'resource.capacity': { actions: 'changeCapacity' },
        // A stopped agent answered what was queued for it: its actor ends, and the system lets go of it.
        'agent.ended': { actions: 'stopAgent' },
        'agents.activity': { actions: 'noteAgentActivity' },
        'shutdown.abandon': { actions: 'abandonRunning' },
        'xstate.error.actor.cluster-deadlocks': { actions: 'restartClusterPart' },
        'xstate.error.actor.cluster-worker': { actions: 'restartClusterPart' },
        'xstate.error.actor.cluster-submitter': { actions: 'restartClusterPart' },
        'xstate.error.actor.cluster-membership': { actions: 'restartClusterPart' },
        'cluster-part.respawn': { actions: 'respawnClusterPart' },
        'xstate.error.actor.*': { actions: 'escalateActorFailure' },
      },
    },
    // The signal listeners are gone (the invocation ended with the state); the engine stops the system.
    stopped: { type: 'final' },
  },
});
