import { fromCallback, type EventObject } from 'xstate';
import type { Clock } from '../src/clock';

/** What a timer actor receives: set (or reset) the timer named `key`, or clear it. @internal */
export type TimerCommand<TEvent extends EventObject = EventObject> =
  | { readonly type: 'timer.set'; readonly key: string; readonly delayMs: number; readonly event: TEvent }
  | { readonly type: 'timer.clear'; readonly key: string };

/** The input of {@link timerLogic}. @internal */
export interface TimerInput {
  readonly clock: Clock;
}

/**
 * Keyed timers on the injected clock for a machine that needs many of them (one per delayed retry):
 * when a timer fires, its event is sent back to the parent. Stopping the actor clears every timer,
 * so a stopped engine leaves none behind.
 *
 * @internal
 */
export const timerLogic = fromCallback<TimerCommand, TimerInput>(({ input, receive, sendBack }) => {
  const { clock } = input;
  const timers = new Map<string, unknown>();
  receive((command) => {
    const existing = timers.get(command.key);
    if (existing !== undefined) {
      clock.clearTimeout(existing);
      timers.delete(command.key);
    }
    if (command.type === 'timer.clear') return;
    const { key, event } = command;
    timers.set(
      key,
      clock.setTimeout(() => {
        timers.delete(key);
        sendBack(event);
      }, command.delayMs),
    );
  });
  return () => {
    for (const id of timers.values()) clock.clearTimeout(id);
    timers.clear();
  };
});
