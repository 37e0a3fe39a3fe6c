import type { EngineEvent } from '../engine-events';
import type { TaskCounts } from './task-book';

/**
 * Where actors publish engine events. Observability is lazy: publishers check `active` and build
 * an event only when someone listens.
 *
 * @internal
 */
export interface EventSink {
  /** `true` while at least one subscriber listens. */
  readonly active: boolean;
  /**
   * Delivers an event to the current subscribers.
   * @param counts - the publisher's task counts at this event, when it keeps them (the executor):
   *   read during the call only, so that a subscriber's `progress()` already counts the event
   */
  publish(event: EngineEvent, counts?: Readonly<TaskCounts>): void;
}

/** A sink nobody listens to. @internal */
export const silentSink: EventSink = Object.freeze({ active: false, publish: () => undefined });
