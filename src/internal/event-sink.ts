import type { EngineEvent } from '../engine-events';

/**
 * Where actors publish engine events. Observability is lazy: publishers check `active` and build
 * an event only when someone listens.
 *
 * @internal
 */
export interface EventSink {
  /** `true` while at least one subscriber listens. */
  readonly active: boolean;
  /** Delivers an event to the current subscribers. */
  publish(event: EngineEvent): void;
}

/** A sink nobody listens to. @internal */
export const silentSink: EventSink = Object.freeze({ active: false, publish: () => undefined });
