import { assign, enqueueActions, sendTo, setup, type ActorRefFrom } from 'xstate';
import { processSignalsLogic, type SignalReceivedEvent } from '../actors/process-signals.actor';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { RandomSource } from '../src/random';
import type { EventSink } from '../src/internal/event-sink';
import { executorMachine, type ExecutorNotice } from './executor.machine';
import { shutdownMachine, type ShutdownDrain, type ShutdownPhaseEvent, type ShutdownRequestEvent } from './shutdown.machine';

/** How crashed workers are restarted: at most `maxRestarts` within any `withinMs` window. */
export interface SupervisionPolicy {
  readonly maxRestarts: number;
  readonly withinMs: number;
}

/** The supervisor's input: everything the engine resolved from its options. @internal */
export interface SupervisorInput {
  readonly workerCount: number;
  readonly maxBatch: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly sink: EventSink;
  readonly supervision: SupervisionPolicy;
  readonly shutdown: {
    readonly graceMs: number;
    readonly drain: ShutdownDrain;
    readonly signals: readonly NodeJS.Signals[];
  };
}

/** A phase of shutdown the supervisor entered, stamped with clock time. */
export interface RecordedPhase {
  readonly phase: 'draining' | 'terminating' | 'stopped';
  readonly at: number;
  readonly cause: ShutdownPhaseEvent['cause'];
}

/** The supervisor's context. @internal */
export interface SupervisorContext {
  readonly executor: ActorRefFrom<typeof executorMachine>;
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
}

/** Events the supervisor accepts. @internal */
export type SupervisorEvent =
  | ShutdownRequestEvent
  | SignalReceivedEvent
  | ShutdownPhaseEvent
  | ExecutorNotice;

/** What the supervisor emits to the engine. @internal */
export type SupervisorEmitted =
  | { readonly type: 'phase'; readonly phase: RecordedPhase['phase'] }
  | { readonly type: 'escalated' };

const shutdownError = (message: string): MezanError => new MezanError('E_SHUTDOWN', message);

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
    executor: executorMachine,
    shutdown: shutdownMachine,
    processSignals: processSignalsLogic,
  },
  actions: {
    forwardToShutdown: sendTo(({ context }) => context.shutdown, ({ event }) => event as ShutdownRequestEvent | SignalReceivedEvent),
    publishSignal: ({ context, event }) => {
      if (event.type !== 'signal.received') return;
      context.logger.info('signal received', { signal: event.signal });
      if (context.sink.active) context.sink.publish({ type: 'signal.received', at: context.clock.now(), signal: event.signal });
    },
    recordPhase: assign(({ context, event }) => {
      if (event.type !== 'shutdown.phase') return {};
      const phase: RecordedPhase = { phase: event.phase, at: context.clock.now(), cause: event.cause };
      return { phases: [...context.phases, phase], phase: event.phase };
    }),
    publishPhase: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'shutdown.phase') return;
      context.logger.info(`shutdown: ${event.phase}`, { cause: event.cause });
      if (context.sink.active) context.sink.publish({ type: 'shutdown.phase', at: context.clock.now(), phase: event.phase, cause: event.cause });
      enqueue.emit({ type: 'phase', phase: event.phase });
    }),
    /** Carries out a phase: draining may cancel queued tasks; terminating cancels them and aborts running ones. */
    enactPhase: ({ context, event }) => {
      if (event.type !== 'shutdown.phase') return;
      if (event.phase === 'draining' && event.cancelQueued) {
        context.executor.send({ type: 'executor.cancel-pending', reason: shutdownError('Cancelled by shutdown before it ran') });
      } else if (event.phase === 'terminating') {
        context.executor.send({ type: 'executor.cancel-pending', reason: shutdownError('Cancelled by shutdown before it ran') });
        context.executor.send({ type: 'executor.abort-running', reason: shutdownError('Aborted by shutdown after the grace period') });
      }
      // The work may already be done: the executor answers with `executor.quiescent` if so.
      if (event.phase !== 'stopped') context.executor.send({ type: 'executor.probe' });
    },
    reportDrained: ({ context }) => {
      if (context.phase === 'draining' || context.phase === 'terminating') context.shutdown.send({ type: 'work.drained' });
    },
    /** One-for-one restart within the intensity limit; past it, escalate. */
    superviseCrash: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'worker.crashed') return;
      const now = context.clock.now();
      const { maxRestarts, withinMs } = context.supervision;
      const recent = [...context.restarts.filter((at) => now - at < withinMs), now];
      context.logger.warn('worker crashed', { workerId: event.workerId });
      if (context.sink.active) context.sink.publish({ type: 'worker.crashed', at: now, workerId: event.workerId });
      if (context.escalated) return;
      if (recent.length <= maxRestarts) {
        enqueue.assign({ restarts: recent });
        enqueue.sendTo(context.executor, { type: 'worker.restart', workerId: event.workerId });
        if (context.sink.active) context.sink.publish({ type: 'worker.restarted', at: now, workerId: event.workerId, restartsInWindow: recent.length });
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
        context.sink.publish({ type: 'engine.escalated', at: now, severity: 'critical', reason: 'restart intensity exceeded', restarts: recent.length, withinMs });
      }
      enqueue.emit({ type: 'escalated' });
    }),
  },
  guards: {
    isStopped: ({ event }) => event.type === 'shutdown.phase' && event.phase === 'stopped',
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input, spawn }) => ({
    executor: spawn('executor', {
      id: 'executor',
      systemId: 'executor',
      input: {
        workerCount: input.workerCount,
        maxBatch: input.maxBatch,
        clock: input.clock,
        random: input.random,
        logger: input.logger,
        sink: input.sink,
      },
    }),
    shutdown: spawn('shutdown', { id: 'shutdown', input: { graceMs: input.shutdown.graceMs, drain: input.shutdown.drain } }),
    clock: input.clock,
    sink: input.sink,
    logger: input.logger.child({ actor: 'supervisor' }),
    supervision: input.supervision,
    signals: input.shutdown.signals,
    restarts: [],
    phases: [],
    phase: 'running',
    escalated: false,
  }),
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
        'worker.crashed': { actions: 'superviseCrash' },
      },
    },
    // The signal listeners are gone (the invocation ended with the state); the engine stops the system.
    stopped: { type: 'final' },
  },
});
