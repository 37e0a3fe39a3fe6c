import { assertEvent, assign, enqueueActions, sendTo, setup, type ActorRefFrom, type AnyActorRef } from 'xstate';
import { processSignalsLogic, type SignalReceivedEvent } from '../actors/process-signals.actor';
import { timerLogic } from '../actors/timer.actor';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import type { DeadlockPolicy } from '../src/internal/deadlock-policy';
import { resolveDeadlock, WORKER_SLOTS, type DeadlockReport, type TaskFacts } from '../src/internal/deadlock-resolver';
import type { WatchedState } from '../src/internal/task-book';
import { LearnedLockOrder } from '../src/internal/lock-order';
import type { GraphPoolChangesEvent, ResourceGraphEvent } from '../src/internal/resource-protocol';
import type { LockOrderMode, ResourceDescriptor, RunnerGraphNotice, TaskServices } from '../src/internal/task-services';
import { WaitForGraph, type DeadlockAnalysis } from '../src/internal/wait-for-graph';
import type { TaskFunction, TaskOptions } from '../src/task-options';
import type { TaskHandle } from '../src/task-handle';
import type { ResolvedAlertThresholds, TimingsMode } from '../src/engine-options';
import type { MonitorNotice } from '../src/metrics/monitor-observation';
import { readGauges } from '../src/metrics/read-gauges';
import { executorLogic, type ExecutorInput, type ExecutorNotice } from '../actors/executor.actor';
import { monitorMachine } from './monitor.machine';
import { resourceMachine } from './resource.machine';
import { shutdownMachine, type ShutdownDrain, type ShutdownPhaseEvent, type ShutdownRequestEvent } from './shutdown.machine';

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
    readonly signals: readonly NodeJS.Signals[];
  };
  readonly resources: ReadonlyArray<{ readonly name: string; readonly capacity: number; readonly rank: number | undefined }>;
  readonly deadlock: DeadlockSettings;
  readonly lockOrder: LockOrderMode;
  /** Submits a child task through the engine (nested submission). */
  readonly submitChild: (parentId: string, fn: TaskFunction, options: TaskOptions | undefined) => TaskHandle<unknown>;
  /** Where the supervisor's own events go (pools, deadlocks, crashes, phases). @default `sink` */
  readonly systemSink?: EventSink;
  /** The monitor's settings; without them no monitor is spawned. */
  readonly monitor?: MonitorSettings;
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

/** Deadlock detection and resolution, resolved from the engine's options. @internal */
export interface DeadlockSettings {
  /** When to look: at once when a task blocks, after an optimistic delay, or never. */
  readonly detect: 'immediate' | 'off' | { readonly afterMs: number };
  readonly policy: DeadlockPolicy;
  /** The most compensation workers at once; 0 turns compensation off. */
  readonly maxExtraWorkers: number;
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
  readonly timers: ActorRefFrom<typeof timerLogic>;
  readonly deadlock: DeadlockSettings;
  /** The supervisor's own wait-for graph: private, mutated only by its own actions. */
  readonly graph: WaitForGraph;
  readonly learnedOrder: LearnedLockOrder;
  /** Units held, by pool and task (`pool\u0000task`), to tell acquisitions from releases. */
  readonly holds: Map<string, number>;
  /** Units requested, by pool and task, to tell a new wait from a changed one. */
  readonly requests: Map<string, number>;
  /** How many waits (queued requests, awaits) each waiting task has. */
  readonly waits: Map<string, number>;
  /** Tasks holding a worker slot while they wait (the graph's `@workers` holders). */
  readonly blockedOnWorker: Set<string>;
  /** How many waits each awaited task has. */
  readonly awaited: Map<string, number>;
  /** Victims whose end has not been seen yet: a deadlock is not resolved twice. */
  readonly pendingVictims: Set<string>;
  /** Compensation slots in service. */
  readonly extraSlots: { count: number };
  /** The engine's concurrency: worker slots without compensation slots. */
  readonly concurrency: number;
  /** Whether a delayed (`afterMs`) check is pending. */
  readonly checkPending: { value: boolean };
  /** The deadlocks found so far (the last 100), newest last. */
  readonly deadlocks: DeadlockReport[];
  /** The result of the last explicit check (`engine.detectDeadlocks()`). */
  readonly lastCheck: { analysis: DeadlockAnalysis | undefined };
  /** Metrics and alerts; `undefined` without monitor settings. */
  readonly monitor: ActorRefFrom<typeof monitorMachine> | undefined;
  /** Tells the monitor what events do not say. */
  readonly observe: (notice: MonitorNotice) => void;
  /** Whether a deadlock was detected and the graph not yet seen free of it (for the monitor). */
  readonly deadlockOpen: { value: boolean };
}

/** Events the supervisor accepts. @internal */
export type SupervisorEvent =
  | ShutdownRequestEvent
  | SignalReceivedEvent
  | ShutdownPhaseEvent
  | ExecutorNotice
  | GraphPoolChangesEvent
  | RunnerGraphNotice
  /** Changes a pool's capacity (a simulated fault, or an operator's decision). */
  | { readonly type: 'resource.capacity'; readonly resource: string; readonly capacity: number }
  /** Runs a detection now: `resolve` false only reports (into `lastCheck`). */
  | { readonly type: 'deadlock.check'; readonly resolve: boolean };

/** What the supervisor emits to the engine. @internal */
export type SupervisorEmitted = { readonly type: 'phase'; readonly phase: RecordedPhase['phase'] } | { readonly type: 'escalated' };

const shutdownError = (message: string): MezanError => new MezanError('E_SHUTDOWN', message);
const ignoreNotice = (): void => undefined;
const MAX_REPORTS = 100;

/** Applies one change a pool reported: a task's requested or held units of it. */
function applyPoolChange(context: SupervisorContext, event: ResourceGraphEvent): void {
  const { graph, sink, clock } = context;
  const now = clock.now();
  if (event.type === 'graph.requests') {
    const key = `${event.resource}\u0000${event.taskId}`;
    const before = context.requests.get(key) ?? 0;
    if (event.units === 0) context.requests.delete(key);
    else context.requests.set(key, event.units);
    // Every request comes from a task on a worker: while it waits, it keeps its slot.
    if (before === 0 && event.units > 0) startWaiting(context, event.taskId);
    graph.setRequest(event.taskId, event.resource, event.units);
    if (before > 0 && event.units === 0) {
      stopWaiting(context, event.taskId);
      context.observe({ type: 'resource.wait-ended', at: now, taskId: event.taskId, resource: event.resource });
      noteIfDeadlockGone(context);
    }
    if (event.units > 0) {
      if (sink.active) sink.publish({ type: 'resource.waiting', at: now, taskId: event.taskId, resource: event.resource, units: event.units });
      onBlocked(context, event.taskId);
    }
    return;
  }
  const key = `${event.resource}\u0000${event.taskId}`;
  const before = context.holds.get(key) ?? 0;
  if (event.units === 0) context.holds.delete(key);
  else context.holds.set(key, event.units);
  graph.setHold(event.taskId, event.resource, event.units);
  if (sink.active && event.units !== before) {
    const type = event.units > before ? 'resource.acquired' : 'resource.released';
    sink.publish({ type, at: now, taskId: event.taskId, resource: event.resource, units: event.units });
  }
  if (event.units < before) noteIfDeadlockGone(context);
}

function describeFrom(context: SupervisorContext): (taskId: string) => TaskFacts | undefined {
  return context.executor.getSnapshot().context.describeTask;
}

/** Runs the detection asked for: incremental from a task that just blocked, or whole. */
function analyze(context: SupervisorContext, from: string | undefined): DeadlockAnalysis {
  return from === undefined ? context.graph.detect() : context.graph.detectFrom(from);
}

/**
 * An awaited task that is not itself waiting on a worker asks for a worker slot while it is queued
 * (or between retries, or waiting for dependencies) and holds one while dispatched: that is what
 * makes worker-slot starvation visible. Kept up to date by the executor's `tasks.watched` notices.
 */
function markAwaitedNeed(context: SupervisorContext, taskId: string, state: WatchedState): void {
  if (!context.awaited.has(taskId) || context.blockedOnWorker.has(taskId)) return;
  if (state === 'queued') context.graph.setRequest(taskId, WORKER_SLOTS, 1);
  else if (context.graph.hasTask(taskId)) context.graph.setRequest(taskId, WORKER_SLOTS, 0);
}

/** Resolves a deadlock found by {@link analyze}: a victim or a compensation slot, and the events. */
function resolve(context: SupervisorContext, analysis: DeadlockAnalysis): void {
  if (analysis.deadlocked.length === 0) return;
  const now = context.clock.now();
  const facts = {
    now,
    extraWorkers: context.extraSlots.count,
    blockedOnWorker: context.blockedOnWorker,
    pendingVictims: context.pendingVictims,
    isOnCycle: (taskId: string) => context.graph.isOnCycle(taskId),
    unitsHeld: (taskId: string) => context.graph.unitsHeldBy(taskId, WORKER_SLOTS),
    describe: describeFrom(context),
  };
  let resolution;
  try {
    resolution = resolveDeadlock(analysis, { policy: context.deadlock.policy, maxExtraWorkers: context.deadlock.maxExtraWorkers }, facts);
  } catch (error) {
    // A policy function that throws, or names no candidate, must not leave the deadlock in place.
    context.logger.error('the deadlock policy failed; choosing the youngest instead', { error });
    resolution = resolveDeadlock(analysis, { policy: 'youngest', maxExtraWorkers: context.deadlock.maxExtraWorkers }, facts);
  }
  if (resolution.kind === 'wait') return;
  const { report } = resolution;
  context.deadlocks.push(report);
  if (context.deadlocks.length > MAX_REPORTS) context.deadlocks.shift();
  context.logger.warn('deadlock detected', {
    cycle: report.cycle,
    deadlocked: report.deadlocked,
    resolution: report.resolution,
    victim: report.victim,
  });
  context.deadlockOpen.value = true;
  if (context.sink.active) context.sink.publish({ type: 'deadlock.detected', at: now, deadlocked: report.deadlocked, cycle: report.cycle });
  if (resolution.kind === 'compensation') {
    context.extraSlots.count++;
    fitSlotCapacity(context);
    context.executor.send({ type: 'slots.add-extra' });
  } else {
    context.pendingVictims.add(report.victim!);
    context.executor.send({ type: 'task.victim', taskId: report.victim!, error: resolution.error });
  }
  // Another deadlock may have formed alongside this one: look again, whole graph, once this
  // resolution has reached it (the victim's releases, the extra worker's first dispatch).
  const recheck: SupervisorEvent = { type: 'deadlock.check', resolve: true };
  context.timers.send({ type: 'timer.set', key: 'deadlock.recheck', delayMs: 0, event: recheck });
  if (context.sink.active) {
    context.sink.publish({
      type: 'deadlock.resolved',
      at: now,
      resolution: report.resolution!,
      victim: report.victim,
      policy: report.policy,
      cycle: report.cycle,
    });
  }
}

/** A task on a worker started to wait: it holds its worker slot while it does. */
function holdSlot(context: SupervisorContext, taskId: string): void {
  if (context.blockedOnWorker.has(taskId)) return;
  context.blockedOnWorker.add(taskId);
  context.graph.setRequest(taskId, WORKER_SLOTS, 0);
  fitSlotCapacity(context);
  context.graph.setHold(taskId, WORKER_SLOTS, 1);
}

/**
 * Runs a change of the supervisor's own books. A bug there must not bring the engine down with the
 * supervisor: it is logged, and the engine goes on (detection may be off until the books agree).
 */
function guarded(context: SupervisorContext, change: () => void): void {
  try {
    change();
  } catch (error) {
    context.logger.error('supervisor bookkeeping failed', { error, stack: error instanceof Error ? error.stack : undefined });
  }
}

/** A task began one more wait (a queued pool request, an await). */
function startWaiting(context: SupervisorContext, taskId: string): void {
  context.waits.set(taskId, (context.waits.get(taskId) ?? 0) + 1);
  holdSlot(context, taskId);
}

/** A task's wait ended; with none left it runs again, and its slot is nobody's concern. */
function stopWaiting(context: SupervisorContext, taskId: string): void {
  const count = (context.waits.get(taskId) ?? 0) - 1;
  if (count > 0) {
    context.waits.set(taskId, count);
    return;
  }
  context.waits.delete(taskId);
  releaseSlot(context, taskId);
}

/** A task on a worker stopped waiting (its attempt ended, or its worker crashed). */
function releaseSlot(context: SupervisorContext, taskId: string): void {
  if (!context.blockedOnWorker.delete(taskId)) return;
  context.graph.setHold(taskId, WORKER_SLOTS, 0);
  fitSlotCapacity(context);
}

/**
 * Worker slots are the engine's concurrency plus the compensation slots in service, except that a function
 * which goes on waiting after its worker crashed keeps its slot while the restarted worker takes
 * another: the graph counts what really happens rather than refuse it.
 */
function fitSlotCapacity(context: SupervisorContext): void {
  const slots = Math.max(context.concurrency + context.extraSlots.count, context.blockedOnWorker.size);
  if (slots !== context.graph.capacityOf(WORKER_SLOTS)) context.graph.setCapacity(WORKER_SLOTS, slots);
}

/** A task just blocked: look now, or schedule a look after the optimistic delay. */
function onBlocked(context: SupervisorContext, taskId: string): void {
  const { detect } = context.deadlock;
  if (detect === 'off') return;
  if (detect === 'immediate') {
    resolve(context, analyze(context, taskId));
    return;
  }
  if (context.checkPending.value) return;
  context.checkPending.value = true;
  const check: SupervisorEvent = { type: 'deadlock.check', resolve: true };
  context.timers.send({ type: 'timer.set', key: 'deadlock.check', delayMs: detect.afterMs, event: check });
}

/**
 * After a deadlock was detected, tells the monitor once the whole graph is free of deadlocks again.
 * A full detection, run only while a detected deadlock is not known to be gone.
 */
function noteIfDeadlockGone(context: SupervisorContext): void {
  if (!context.deadlockOpen.value) return;
  if (context.graph.detect().deadlocked.length > 0) return;
  context.deadlockOpen.value = false;
  context.observe({ type: 'deadlock.cleared', at: context.clock.now() });
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
    resource: resourceMachine,
    timers: timerLogic,
    monitor: monitorMachine,
  },
  actions: {
    /**
     * A pool's changes of one transition, in order: what each task holds or waits for. Each is
     * mirrored and published, and a task that blocked is looked at for a deadlock.
     */
    applyPoolChanges: ({ context, event }) => {
      assertEvent(event, 'graph.pool-changes');
      for (const change of event.changes) guarded(context, () => applyPoolChange(context, change));
    },
    /** A runner told of a wait: a slot held while waiting, an await begun or ended, an attempt over, or lock order. */
    applyRunnerNotice: ({ context, event }) =>
      guarded(context, () => {
        const { graph, sink, clock } = context;
        switch (event.type) {
          case 'graph.await': {
            const count = context.awaited.get(event.awaited) ?? 0;
            if (event.active) {
              startWaiting(context, event.taskId);
              context.awaited.set(event.awaited, count + 1);
              graph.addAwait(event.taskId, event.awaited);
              if (count === 0) {
                // From now on the executor reports this task's changes; where it stands now is read once.
                context.executor.send({ type: 'task.watch', taskId: event.awaited, watching: true });
                const facts = describeFrom(context)(event.awaited);
                markAwaitedNeed(context, event.awaited, facts === undefined ? 'gone' : facts.state === 'dispatched' ? 'dispatched' : 'queued');
              }
              onBlocked(context, event.taskId);
            } else {
              graph.removeAwait(event.taskId, event.awaited);
              stopWaiting(context, event.taskId);
              noteIfDeadlockGone(context);
              if (count > 1) context.awaited.set(event.awaited, count - 1);
              else {
                context.awaited.delete(event.awaited);
                context.executor.send({ type: 'task.watch', taskId: event.awaited, watching: false });
                // No longer awaited: the slot it was seen to ask for is nobody's concern now.
                if (!context.blockedOnWorker.has(event.awaited) && graph.hasTask(event.awaited)) graph.setRequest(event.awaited, WORKER_SLOTS, 0);
              }
            }
            return;
          }
          case 'graph.attempt-ended':
            // Its pool holds and requests stay until the pools report them gone: they are the
            // pools' to tell, and may still be on their way.
            context.waits.delete(event.taskId);
            releaseSlot(context, event.taskId);
            context.pendingVictims.delete(event.taskId);
            noteIfDeadlockGone(context);
            return;
          case 'lockorder.acquiring':
            for (const inversion of context.learnedOrder.record(event.taskId, event.resource, event.holding)) {
              context.logger.warn('lock order inversion: a potential deadlock', { cycle: inversion.cycle, tasks: inversion.tasks });
              if (sink.active) {
                sink.publish({
                  type: 'lockorder.violation',
                  at: clock.now(),
                  kind: 'inversion',
                  taskId: event.taskId,
                  resources: inversion.cycle,
                  tasks: inversion.tasks,
                  refused: false,
                });
              }
            }
            return;
          case 'lockorder.rank-violation':
            context.logger.warn('lock order violation: a lower rank taken while holding a higher one', {
              taskId: event.taskId,
              resource: event.resource,
              refused: event.refused,
            });
            if (sink.active) {
              sink.publish({
                type: 'lockorder.violation',
                at: clock.now(),
                kind: 'rank',
                taskId: event.taskId,
                resources: [event.resource, ...event.holding.map((held) => held.resource)],
                tasks: [event.taskId],
                refused: event.refused,
              });
            }
            return;
        }
      }),
    changeCapacity: ({ context, event }) =>
      guarded(context, () => {
        assertEvent(event, 'resource.capacity');
        const pool = context.resources.get(event.resource);
        if (pool === undefined) return;
        pool.ref.send({ type: 'resource.set-capacity', capacity: event.capacity, at: context.clock.now() });
        context.graph.setCapacity(event.resource, event.capacity);
        context.logger.info('resource capacity changed', { resource: event.resource, capacity: event.capacity });
      }),
    applyWatchedChanges: ({ context, event }) =>
      guarded(context, () => {
        assertEvent(event, 'tasks.watched');
        for (const { taskId, state } of event.changes) markAwaitedNeed(context, taskId, state);
      }),
    checkDeadlocks: ({ context, event }) =>
      guarded(context, () => {
        assertEvent(event, 'deadlock.check');
        if (event.resolve) context.checkPending.value = false;
        const analysis = analyze(context, undefined);
        context.lastCheck.analysis = analysis;
        if (event.resolve) resolve(context, analysis);
        noteIfDeadlockGone(context);
      }),
    /** The tasks a crashed worker took down leave the graph and give back what they held. */
    forgetCrashedTasks: ({ context, event }) =>
      guarded(context, () => {
        assertEvent(event, 'worker.crashed');
        const reason = new MezanError('E_WORKER_CRASHED', `Worker ${event.workerId} crashed`, { details: { workerId: event.workerId } });
        for (const taskId of event.taskIds) {
          for (const pool of context.resources.values()) pool.ref.send({ type: 'resource.revoke', taskId, at: context.clock.now(), reason });
          context.waits.delete(taskId);
          releaseSlot(context, taskId);
          context.pendingVictims.delete(taskId);
        }
        noteIfDeadlockGone(context);
      }),
    retireExtraSlot: ({ context }) =>
      guarded(context, () => {
        context.extraSlots.count = Math.max(0, context.extraSlots.count - 1);
        fitSlotCapacity(context);
        noteIfDeadlockGone(context);
      }),
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
      enqueue.emit({ type: 'phase', phase: event.phase });
    }),
    /** Carries out a phase: draining may cancel queued tasks; terminating cancels them and aborts running ones. */
    enactPhase: ({ context, event }) => {
      assertEvent(event, 'shutdown.phase');
      if (event.phase === 'draining' && event.cancelQueued) {
        context.executor.send({ type: 'executor.cancel-pending', reason: shutdownError('Cancelled by shutdown before it ran') });
      } else if (event.phase === 'terminating') {
        context.executor.send({ type: 'executor.cancel-pending', reason: shutdownError('Cancelled by shutdown before it ran') });
        context.executor.send({ type: 'executor.abort-running', reason: shutdownError('Aborted by shutdown after the grace period') });
      }
      // The work may already be done: the executor answers with `executor.quiescent` if so.
      context.executor.send({ type: 'executor.probe' });
    },
    reportDrained: ({ context }) => {
      if (context.phase === 'draining' || context.phase === 'terminating') context.shutdown.send({ type: 'work.drained' });
    },
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
  context: ({ input, spawn, self }) => {
    const resources = new Map<string, ResourceDescriptor>();
    const graph = new WaitForGraph();
    graph.addResource(WORKER_SLOTS, input.concurrency);
    for (const { name, capacity, rank } of input.resources) {
      const ref: AnyActorRef = spawn('resource', {
        id: `resource:${name}`,
        systemId: `resource:${name}`,
        input: { name, capacity, rank, observer: self },
      });
      resources.set(name, { name, capacity, rank, ref });
      graph.addResource(name, capacity);
    }
    const services: TaskServices = { resources, supervisor: self, lockOrder: input.lockOrder, submitChild: input.submitChild };
    const executor = spawn('executor', {
      id: 'executor',
      systemId: 'executor',
      input: {
        concurrency: input.concurrency,
        rateLimit: input.rateLimit,
        clock: input.clock,
        random: input.random,
        logger: input.logger,
        sink: input.sink,
        services,
      },
    });
    const settings = input.monitor;
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
    return {
      executor,
      shutdown: spawn('shutdown', { id: 'shutdown', input: { graceMs: input.shutdown.graceMs, drain: input.shutdown.drain } }),
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
      timers: spawn('timers', { id: 'timers', input: { clock: input.clock } }),
      deadlock: input.deadlock,
      graph,
      holds: new Map<string, number>(),
      requests: new Map<string, number>(),
      waits: new Map<string, number>(),
      learnedOrder: new LearnedLockOrder(),
      blockedOnWorker: new Set<string>(),
      awaited: new Map<string, number>(),
      pendingVictims: new Set<string>(),
      extraSlots: { count: 0 },
      concurrency: input.concurrency,
      checkPending: { value: false },
      deadlocks: [],
      lastCheck: { analysis: undefined },
      monitor,
      observe: settings?.observe ?? ignoreNotice,
      deadlockOpen: { value: false },
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
        'slots.retired-extra': { actions: 'retireExtraSlot' },
        'graph.pool-changes': { actions: 'applyPoolChanges' },
        'graph.await': { actions: 'applyRunnerNotice' },
        'graph.attempt-ended': { actions: 'applyRunnerNotice' },
        'lockorder.acquiring': { actions: 'applyRunnerNotice' },
        'lockorder.rank-violation': { actions: 'applyRunnerNotice' },
        'deadlock.check': { actions: 'checkDeadlocks' },
        'tasks.watched': { actions: 'applyWatchedChanges' },
        'resource.capacity': { actions: 'changeCapacity' },
      },
    },
    // The signal listeners are gone (the invocation ended with the state); the engine stops the system.
    stopped: { type: 'final' },
  },
});
