import type { Clock } from './clock';
import { ChurnMap } from './internal/churn-map';
import { IndexedHeap, type HeapItem } from './internal/indexed-heap';
import { ScratchList } from './internal/scratch-list';

interface VirtualTimer extends HeapItem {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * How many rounds of zero-delay timers one instant runs before it ends anyway (those left fire in
 * the next step, at the same time): an instant's chains of zero-delay timers are a few rounds deep,
 * while a loop of them waiting for the end of the instant would otherwise never let it come.
 */
const MAX_ZERO_DELAY_ROUNDS = 1_000;

const settleMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Called from inside a promise job, resolves once every promise job queued so far, and every job
 * those queue, has run, without a turn of the event loop: a `process.nextTick` queued from inside a
 * promise job runs only once the job queue is empty.
 */
const afterPromiseJobs = (): Promise<void> => new Promise<void>(resolveOnNextTick);
const resolveOnNextTick = (resolve: () => void): void => process.nextTick(resolve);

/**
 * A clock whose time moves only when told to. Timers fire in order of their due time (ties in the
 * order they were set) with `now()` equal to that due time, and the promise jobs each timer starts
 * run before the next timer fires, so code under test sees time pass exactly as it would in real
 * time, only instantly and deterministically.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const engine = createEngine({ clock });
 * engine.submit((ctx) => ctx.sleep(1000));
 * await clock.runAll(); // clock.now() === 1000
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  /** How many timers fired so far. */
  #fired = 0;
  // Timers come and go by the thousand: see ChurnMap for why not a plain Map.
  readonly #timers = new ChurnMap<number, VirtualTimer>();
  readonly #queue = new IndexedHeap<VirtualTimer>((a, b) => a.due < b.due || (a.due === b.due && a.id < b.id));

  readonly #settleEachTimer: boolean;
  // The calls due at the end of the current instant, in the order they were made, and their ids (a
  // cancelled one is left as `undefined`). Lists, swapped with spares while they run: there are a few
  // each instant, and a map would be a new table each time.
  #immediateIds = new ScratchList<number>();
  #immediateCalls = new ScratchList<(() => void) | undefined>();
  #spareIds = new ScratchList<number>();
  #spareCalls = new ScratchList<(() => void) | undefined>();

  // The calls due once the current instant has nothing else left to run (see `atInstantEnd`).
  #instantEndCalls = new ScratchList<() => void>();
  #spareInstantEndCalls = new ScratchList<() => void>();

  /** With `settle: 'each-instant'`: calls `fn` at the end of the current instant (see the constructor). */
  readonly setImmediate?: (fn: () => void) => number;
  /**
   * With `settle: 'each-instant'`: calls `fn` once the current instant is over but for such calls:
   * its promise jobs have run and no timer due now nor {@link VirtualClock.setImmediate} call is left (what `fn` starts
   * plays out in the same instant, and may end in more such calls). An instant may take several
   * rounds of `setImmediate` calls (a worker's report brings a dispatch, whose tasks report in turn);
   * whoever only needs to hear of the instant once, in the order things happened, hears of it here.
   * It cannot be cancelled.
   */
  readonly atInstantEnd?: (fn: () => void) => void;
  /** Cancels a call set with {@link VirtualClock.setImmediate}. */
  readonly clearImmediate?: (id: number) => void;

  /**
   * @param options - the initial time in milliseconds (default 0), or `{ start, settle }`: with
   *   `settle: 'each-instant'` the timers due at the same instant all fire before promise jobs run
   *   (what large simulations want), and an instant behaves as a turn of the event loop: a timer set
   *   during it with a zero delay is of the same turn, and fires once the promise jobs before it have
   *   run; {@link VirtualClock.setImmediate} calls run at its end, once its promise jobs and timers
   *   have run, before time moves on; between instants the clock waits only for promise jobs (and
   *   `process.nextTick` calls queued before its own), never for a real turn of the event loop. The default
   *   `'each-timer'` runs promise jobs after each timer, as Node does, waiting a real turn of the
   *   event loop each time, and has no turns of its own.
   */
  constructor(options: number | { readonly start?: number; readonly settle?: 'each-timer' | 'each-instant' } = 0) {
    const settings = typeof options === 'number' ? { start: options } : options;
    this.#now = settings.start ?? 0;
    this.#settleEachTimer = settings.settle !== 'each-instant';
    if (!this.#settleEachTimer) {
      this.setImmediate = (fn: () => void): number => {
        const id = this.#nextId++;
        this.#immediateIds.push(id);
        this.#immediateCalls.push(fn);
        return id;
      };
      this.atInstantEnd = (fn: () => void): void => {
        this.#instantEndCalls.push(fn);
      };
      this.clearImmediate = (id: number): void => {
        const index = this.#immediateIds.indexOf(id);
        if (index >= 0) this.#immediateCalls.set(index, undefined);
      };
    }
  }

  /** The current virtual time. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms` (negative or non-finite delays count as 0). */
  setTimeout(fn: () => void, ms: number): number {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: VirtualTimer = { id: this.#nextId++, due: this.#now + delay, fn, heapIndex: -1 };
    this.#timers.set(timer.id, timer);
    this.#queue.push(timer);
    return timer.id;
  }

  /** Cancels a pending timer; unknown ids are ignored. */
  clearTimeout(id: number): void {
    const timer = this.#timers.get(id);
    if (timer === undefined) return;
    this.#timers.delete(id);
    this.#queue.remove(timer);
  }

  /** How many timers are pending. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** The due time of the next timer, or `undefined` when none is pending. */
  get nextDue(): number | undefined {
    return this.#queue.peek()?.due;
  }

  /**
   * Fires the next timer (with `settle: 'each-instant'`, every timer due at that instant, those set
   * meanwhile with a zero delay included), then lets the promise jobs they started run.
   * @returns `false` when no timer was pending
   */
  async step(): Promise<boolean> {
    const next = this.#queue.peek();
    if (next === undefined) return false;
    this.#fire(next);
    if (!this.#settleEachTimer) {
      for (let same = this.#queue.peek(); same !== undefined && same.due === next.due; same = this.#queue.peek()) this.#fire(same);
    }
    await this.#settle();
    return true;
  }

  /** Fires every timer due within the next `ms` milliseconds, then sets the time to `now() + ms`. */
  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Fires every timer due up to `time`, in order, then sets the time to `time`. */
  async advanceTo(time: number): Promise<void> {
    await this.#settle();
    for (let next = this.#queue.peek(); next !== undefined && next.due <= time; next = this.#queue.peek()) {
      this.#fire(next);
      await this.#settle();
    }
    if (time > this.#now) this.#now = time;
  }

  /**
   * Fires timers in order until none is left (timers set meanwhile included).
   * @param maxTimers - a bound against code that keeps setting timers forever
   * @returns how many timers fired
   */
  async runAll(maxTimers = 1_000_000): Promise<number> {
    // Counted as they fire: with `settle: 'each-instant'`, zero-delay timers fire while settling too.
    const firedBefore = this.#fired;
    await this.#settle();
    for (let next = this.#queue.peek(); next !== undefined; next = this.#queue.peek()) {
      if (this.#fired - firedBefore >= maxTimers) throw new Error(`VirtualClock.runAll: more than ${maxTimers} timers fired`);
      this.#fire(next);
      await this.#settle();
    }
    return this.#fired - firedBefore;
  }

  /** Lets promise jobs run, then the end-of-instant calls and the jobs they start, until none is left. */
  async #settle(): Promise<void> {
    if (this.#settleEachTimer) {
      await settleMicrotasks();
      return;
    }
    // From here on this runs inside a promise job, as `afterPromiseJobs` needs.
    await undefined;
    let rounds = 0;
    for (;;) {
      await afterPromiseJobs();
      // A timer set with a zero delay is of this instant: it fires in its turn, so that what it
      // starts reaches the end-of-turn calls with the rest (a worker reports once, a pool and the
      // detector hear once), not in a clock step of its own. A loop of such timers that waits for
      // the end of the instant (the detector's inbox, say) must not hold it forever: after
      // MAX_ZERO_DELAY_ROUNDS rounds, they wait for the next step.
      if (rounds < MAX_ZERO_DELAY_ROUNDS && this.#fireDueNow()) {
        rounds++;
        continue;
      }
      if (this.#immediateIds.length === 0) {
        if (this.#instantEndCalls.length === 0) return;
        const endCalls = this.#instantEndCalls;
        this.#instantEndCalls = this.#spareInstantEndCalls;
        for (let index = 0; index < endCalls.length; index++) endCalls.at(index)();
        endCalls.clear();
        this.#spareInstantEndCalls = endCalls;
        continue;
      }
      const ids = this.#immediateIds;
      const calls = this.#immediateCalls;
      this.#immediateIds = this.#spareIds;
      this.#immediateCalls = this.#spareCalls;
      for (let index = 0; index < calls.length; index++) calls.at(index)?.();
      ids.clear();
      calls.clear();
      this.#spareIds = ids;
      this.#spareCalls = calls;
    }
  }

  /**
   * Fires the timers due now, set with a zero delay during this instant: one round, those set
   * before it (a timer those set is of the next round, after the promise jobs they start).
   * @returns whether any fired
   */
  #fireDueNow(): boolean {
    const now = this.#now;
    const roundEnd = this.#nextId;
    let next = this.#queue.peek();
    if (next === undefined || next.due > now) return false;
    for (; next !== undefined && next.due <= now && next.id < roundEnd; next = this.#queue.peek()) this.#fire(next);
    return true;
  }

  #fire(timer: VirtualTimer): void {
    this.#fired++;
    this.#queue.remove(timer);
    this.#timers.delete(timer.id);
    if (timer.due > this.#now) this.#now = timer.due;
    timer.fn();
  }
}
