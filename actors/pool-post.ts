import type { AnyActorRef } from 'xstate';
import type { Clock } from '../src/clock';
import type { ResourceBatchedEvent } from '../src/internal/resource-protocol';
import type { VirtualClock } from '../src/virtual-clock';
import { runSoon } from '../src/internal/run-soon';

/** The events of one burst for one pool, in the order they were posted. */
interface PoolMail {
  readonly pool: AnyActorRef;
  events: ResourceBatchedEvent[];
}

/**
 * A runner's way to its pools. In real time each request, release and cancel goes to its pool at
 * once: one message each way for an uncontended acquire, no added latency. On a simulation's clock
 * (one with `atInstantEnd`) those of one burst of promise jobs go once the jobs queued before the
 * first of them have run (a promise job: the instant waits for it, and no round of end-of-turn
 * calls is added), one message per pool (a `resource.batch` when there are several), in the order
 * they were posted: the pool applies them in that order, each as if it had come alone, at the same
 * virtual time, and answers the runner in one message. The tasks whose timers fire at one instant
 * go on in one burst, so a simulated instant of many tasks costs a pool about a message each way,
 * not three per task.
 *
 * @internal
 */
export class PoolPost {
  readonly #batches: boolean;
  /** Pools posted to in this burst; a few at most, so a list rather than a map. */
  readonly #mail: PoolMail[] = [];
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** @param clock - the engine's clock: only a simulation's (with `atInstantEnd`) batches */
  constructor(clock: Pick<Clock, 'setImmediate'> & Pick<VirtualClock, 'atInstantEnd'>) {
    this.#batches = clock.atInstantEnd !== undefined;
  }

  /** Sends `event` to `pool`, at once or after the burst's earlier jobs (see the class). */
  send(pool: AnyActorRef, event: ResourceBatchedEvent): void {
    if (!this.#batches) {
      pool.send(event);
      return;
    }
    const mail = this.#mail;
    let entry: PoolMail | undefined;
    for (let index = 0; index < mail.length; index++) {
      if (mail[index]!.pool === pool) {
        entry = mail[index];
        break;
      }
    }
    if (entry === undefined) mail.push({ pool, events: [event] });
    else entry.events.push(event);
    if (!this.#scheduled) {
      this.#scheduled = true;
      runSoon(this.#flush);
    }
  }

  /** Sends what was posted, now (its promise job, or the worker stopping). */
  flush(): void {
    const mail = this.#mail;
    // Emptied before sending: a pool's answer may make the runner post again (in a later job, but a
    // stopping worker's flush runs inside its own transition).
    for (let count = mail.length; count > 0; count--) {
      const { pool, events } = mail.shift()!;
      pool.send(events.length === 1 ? events[0]! : { type: 'resource.batch', events });
    }
  }
}
