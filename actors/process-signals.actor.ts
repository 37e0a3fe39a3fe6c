import { fromCallback, type EventObject } from 'xstate';

/** What a process-signals actor sends its parent when a signal arrives. @internal */
export interface SignalReceivedEvent {
  readonly type: 'signal.received';
  readonly signal: NodeJS.Signals;
}

/** A listener as {@link SignalEmitter} calls it. @internal */
export type SignalListener = (signal: NodeJS.Signals) => void;

/**
 * The part of `process` the actor uses; an `EventEmitter` fits too, which is how tests fake it.
 * @internal
 */
export interface SignalEmitter {
  on(signal: NodeJS.Signals, listener: SignalListener): unknown;
  removeListener(signal: NodeJS.Signals, listener: SignalListener): unknown;
}

/** The input of {@link processSignalsLogic}. @internal */
export interface ProcessSignalsInput {
  /** The signals to listen for; a signal named twice gets one listener. */
  readonly signals: readonly NodeJS.Signals[];
  /**
   * Where the signals are emitted.
   * @default process
   */
  readonly target?: SignalEmitter;
}

/**
 * Listens for process signals and sends `signal.received` to its parent for each one. The listener
 * does nothing else (deferred processing): the parent decides what a signal means, in its own turn,
 * so a signal never interrupts a half-done update. While installed, the listeners replace Node's
 * default action for these signals (exiting); stopping the actor removes exactly its own listeners,
 * and leaves the ones other code installed alone.
 *
 * @example
 * ```ts
 * invoke: { src: 'processSignals', input: { signals: ['SIGINT', 'SIGTERM'] } }
 * ```
 * @internal
 */
// It receives nothing; `EventObject` (not `never`) keeps it assignable in `setup({ actors })`.
export const processSignalsLogic = fromCallback<EventObject, ProcessSignalsInput>(({ input, sendBack }) => {
  const target = input.target ?? process;
  const installed: Array<[NodeJS.Signals, SignalListener]> = [];
  for (const signal of new Set(input.signals)) {
    // Each listener is a fresh function, so removing it can never remove someone else's.
    const listener: SignalListener = () => sendBack({ type: 'signal.received', signal } satisfies SignalReceivedEvent);
    target.on(signal, listener);
    installed.push([signal, listener]);
  }
  return () => {
    for (const [signal, listener] of installed) target.removeListener(signal, listener);
    installed.length = 0;
  };
});
