import type { Clock } from '../src/clock';
import type { VirtualClock } from '../src/virtual-clock';
import type { DetectorEvent, DetectorNotice } from './detector.actor';
import { runSoon } from '../src/internal/run-soon';

/** Where a batch goes: the detector actor. */
interface DetectorTarget {
  send(event: DetectorEvent): void;
}

/**
 * The detector's inbox: every notice for the deadlock detector (a contended pool's changes, a
 * runner's awaits and lock order, the executor's watched tasks and answers, the supervisor's crashed
 * tasks) is posted here, in the order it happens, and reaches the detector as one `graph.notices`
 * message at the end of the turn of the event loop (of the whole instant, every round of it, on a simulation's clock; after
 * the burst of promise jobs, on a clock without turns). A contended pool changes several times per
 * task; the detector hears once per turn and looks for deadlocks once, on a graph that is a state
 * the system really was in (all notices, from every sender, in one order), so it never sees a cycle
 * that was not there.
 *
 * Senders hand their notices over and keep nothing; the detector alone reads them. Whoever must see
 * the detector up to date (`engine.waitForGraph()`, an explicit check) calls
 * {@link DetectorInbox.flush} first.
 *
 * @internal
 */
export class DetectorInbox {
  readonly #clock: Pick<Clock, 'setImmediate'> & Pick<VirtualClock, 'atInstantEnd'>;
  #target: DetectorTarget | undefined;
  #pending: DetectorNotice[] = [];
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** @param clock - the engine's clock: the end of its turn, or of its instant (a simulation's clock), delivers */
  constructor(clock: Pick<Clock, 'setImmediate'> & Pick<VirtualClock, 'atInstantEnd'>) {
    this.#clock = clock;
  }

  /** Sets the detector the notices go to; until then they wait. */
  connect(target: DetectorTarget): void {
    this.#target = target;
  }

  /** Posts a notice; the first one of a turn schedules the delivery. */
  send(notice: DetectorNotice): void {
    this.#pending.push(notice);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A simulation's instant may take several rounds of end-of-turn calls; the detector hears once, at its end.
    if (this.#clock.atInstantEnd !== undefined) this.#clock.atInstantEnd(this.#flush);
    else if (this.#clock.setImmediate !== undefined) this.#clock.setImmediate(this.#flush);
    else runSoon(this.#flush);
  }

  /** Delivers what was posted, now, in one message. */
  flush(): void {
    if (this.#pending.length === 0 || this.#target === undefined) return;
    const notices = this.#pending;
    this.#pending = [];
    this.#target.send({ type: 'graph.notices', notices });
  }

  /** Drops what was not delivered: the detector is gone. */
  close(): void {
    this.#pending = [];
    this.#target = undefined;
  }
}
