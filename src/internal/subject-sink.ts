import type { EngineEvent } from '../engine-events';
import type { EventSink } from './event-sink';
import type { TaskCounts } from './task-book';

/** Where a {@link SubjectSink} delivers: the engine's event hub (or any RxJS `Subject`). @internal */
export interface EventSubject {
  readonly observed: boolean;
  next(event: EngineEvent): void;
}

/**
 * The engine's own event sink: active while its `events$` has a subscriber; delivers to the subject,
 * with the publisher's task counts (when given) handed to `withCounts` for the time of the delivery.
 *
 * A class, not an object literal with a getter: every engine's sink then has the same shape, and the
 * actors' `sink.active` checks, which run for every task, stay monomorphic across engines.
 *
 * @internal
 */
export class SubjectSink implements EventSink {
  readonly #subject: EventSubject;
  readonly #withCounts: (counts: Readonly<TaskCounts> | undefined, deliver: () => void) => void;

  /**
   * @param subject - where events go
   * @param withCounts - runs `deliver` with `counts` in effect (the engine's `progress()` reads them)
   */
  constructor(subject: EventSubject, withCounts: (counts: Readonly<TaskCounts> | undefined, deliver: () => void) => void) {
    this.#subject = subject;
    this.#withCounts = withCounts;
  }

  get active(): boolean {
    return this.#subject.observed;
  }

  publish(event: EngineEvent, counts?: Readonly<TaskCounts>): void {
    if (counts === undefined) this.#subject.next(event);
    else this.#withCounts(counts, () => this.#subject.next(event));
  }
}
