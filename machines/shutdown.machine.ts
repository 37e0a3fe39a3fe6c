import { assertEvent, assign, sendParent, setup } from 'xstate';
import type { SignalReceivedEvent } from '../actors/process-signals.actor';

/** What happens to queued tasks while draining: they still `run`, or they are `cancel`led at once. */
export type ShutdownDrain = 'run' | 'cancel';

/** The phases of a shutdown after `running`, in the order they can occur. */
export type ShutdownPhase = 'draining' | 'terminating' | 'stopped';

/** The input of {@link shutdownMachine}: the engine's resolved shutdown options. @internal */
export interface ShutdownInput {
  /** How long draining may last before running tasks are aborted; a finite number of milliseconds, 0 or more. */
  readonly graceMs: number;
  readonly drain: ShutdownDrain;
  /** How long terminating waits for aborted functions to return before it abandons them. */
  readonly abandonAfterMs: number;
}

/** The shutdown machine's context. @internal */
export interface ShutdownContext {
  readonly graceMs: number;
  readonly drain: ShutdownDrain;
  readonly abandonAfterMs: number;
}

/**
 * Owner → shutdown: begin (or, with `force`, hurry) the shutdown. `graceMs` and `drain` override the
 * input when they arrive with the request that begins the shutdown; later they are ignored.
 * @internal
 */
export interface ShutdownRequestEvent {
  readonly type: 'shutdown.request';
  readonly graceMs?: number;
  readonly drain?: ShutdownDrain;
  /** Skip (or cut short) draining: go to `terminating` now. */
  readonly force?: boolean;
  /** When the request was made; the machine does not read it (the owner keeps the record). */
  readonly at?: number;
}

/** Shutdown → owner: terminating waited `abandonAfterMs`; functions still running are to be abandoned. @internal */
export interface ShutdownAbandonEvent {
  readonly type: 'shutdown.abandon';
}

/** Owner → shutdown: no task is unfinished and no worker is busy any more. @internal */
export interface WorkDrainedEvent {
  readonly type: 'work.drained';
}

/** Events the shutdown machine accepts. @internal */
export type ShutdownEvent = ShutdownRequestEvent | SignalReceivedEvent | WorkDrainedEvent;

/**
 * Why a phase was entered: a `request`, a `signal`, a `force`d request, the `grace` period running
 * out, or the work being `drained`.
 */
export type ShutdownCause = 'request' | 'signal' | 'force' | 'grace' | 'drained';

/**
 * Shutdown → owner, on entering each phase. The owner stamps the time and does the work the phase
 * asks for: `draining`: refuse submissions, and cancel queued tasks when `cancelQueued`;
 * `terminating`: also abort running tasks, cancel queued ones and revoke leases; `stopped`: stop the
 * remaining actors and produce the report.
 * @internal
 */
export type ShutdownPhaseEvent = {
  readonly type: 'shutdown.phase';
  readonly drain: ShutdownDrain;
  readonly cause: ShutdownCause;
  /** The signal that caused this phase, when `cause` is `'signal'`. */
  readonly signal?: NodeJS.Signals;
} & ({ readonly phase: 'draining'; readonly cancelQueued: boolean } | { readonly phase: 'terminating' } | { readonly phase: 'stopped' });

function causeOf(event: ShutdownEvent): Pick<ShutdownPhaseEvent, 'cause' | 'signal'> {
  switch (event.type) {
    case 'signal.received':
      return { cause: 'signal', signal: event.signal };
    case 'shutdown.request':
      return { cause: event.force === true ? 'force' : 'request' };
    case 'work.drained':
      return { cause: 'drained' };
    default:
      // The only other way into a phase is the grace period's delayed transition.
      return { cause: 'grace' };
  }
}

/**
 * The deferred, phased shutdown: `running → draining → terminating → stopped`. A request or a first
 * signal starts draining; a second signal, a forced request, or the end of the grace period moves to
 * terminating; `work.drained` from the owner ends it. The machine only decides when; it tells its
 * parent each phase it enters (`shutdown.phase`) and the parent does the work, so the machine holds
 * no resource and touches nothing outside itself. The grace period is a delayed transition on the
 * actor system's clock, so virtual time drives it and diagrams show it.
 */
export const shutdownMachine = setup({
  types: {
    context: {} as ShutdownContext,
    events: {} as ShutdownEvent,
    input: {} as ShutdownInput,
  },
  actions: {
    applyRequest: assign(({ context, event }) => {
      assertEvent(event, 'shutdown.request');
      return { graceMs: event.graceMs ?? context.graceMs, drain: event.drain ?? context.drain };
    }),
    requestAbandon: sendParent((): ShutdownAbandonEvent => ({ type: 'shutdown.abandon' })),
    notifyPhase: sendParent(({ context, event }, params: { phase: ShutdownPhase }): ShutdownPhaseEvent => {
      const base = { type: 'shutdown.phase' as const, drain: context.drain, ...causeOf(event) };
      if (params.phase === 'draining') return { ...base, phase: 'draining', cancelQueued: context.drain === 'cancel' };
      return { ...base, phase: params.phase };
    }),
  },
  guards: {
    isForced: ({ event }) => event.type === 'shutdown.request' && event.force === true,
  },
  delays: {
    graceMs: ({ context }) => context.graceMs,
    abandonAfterMs: ({ context }) => context.abandonAfterMs,
  },
}).createMachine({
  id: 'shutdown',
  context: ({ input }) => ({ graceMs: input.graceMs, drain: input.drain, abandonAfterMs: input.abandonAfterMs }),
  initial: 'running',
  states: {
    running: {
      on: {
        'shutdown.request': [
          { guard: 'isForced', target: 'terminating', actions: 'applyRequest' },
          { target: 'draining', actions: 'applyRequest' },
        ],
        'signal.received': { target: 'draining' },
      },
    },
    draining: {
      entry: { type: 'notifyPhase', params: { phase: 'draining' } },
      after: { graceMs: 'terminating' },
      on: {
        'signal.received': { target: 'terminating' },
        'shutdown.request': { guard: 'isForced', target: 'terminating' },
        'work.drained': { target: 'stopped' },
      },
    },
    terminating: {
      entry: { type: 'notifyPhase', params: { phase: 'terminating' } },
      // Functions that ignore their abort signal must not hold the shutdown forever: they are given
      // up after abandonAfterMs, or at once on one more signal.
      after: { abandonAfterMs: { actions: 'requestAbandon' } },
      on: {
        'signal.received': { actions: 'requestAbandon' },
        'work.drained': { target: 'stopped' },
      },
    },
    stopped: {
      type: 'final',
      entry: { type: 'notifyPhase', params: { phase: 'stopped' } },
    },
  },
});
