/**
 * The clock every timer of mezan goes through. XState's `SimulatedClock` and mezan's
 * {@link VirtualClock} satisfy it; {@link realClock} is the default.
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds of this clock's time; returns an id for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer set with {@link Clock.setTimeout}. */
  clearTimeout(id: unknown): void;
  /**
   * Calls `fn` at the end of the current turn of the event loop, after the I/O and timers of this
   * turn (Node's `setImmediate`). Optional: workers gather the outcomes of a turn with it; without
   * it (virtual time) they report after each burst of promise jobs. When given, a function (as is
   * `clearImmediate`).
   */
  setImmediate?(fn: () => void): unknown;
  /** Cancels a call set with {@link Clock.setImmediate}. */
  clearImmediate?(id: unknown): void;
}

/** The longest delay the host's `setTimeout` honours; a longer one fires after 1 ms. */
const MAX_HOST_DELAY_MS = 2_147_483_647;

/** A timer too long for one host timer: re-armed in steps until it is due. */
class LongTimer {
  handle: ReturnType<typeof setTimeout> | undefined = undefined;
}

function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const timer = new LongTimer();
  const due = Date.now() + ms;
  const arm = (): void => {
    const left = due - Date.now();
    timer.handle = left > MAX_HOST_DELAY_MS ? setTimeout(arm, MAX_HOST_DELAY_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return timer;
}

/**
 * Wall-clock time: `Date.now()` and the host's timers. The default clock of an engine. Delays
 * longer than the host allows (about 24.8 days, which Node would turn into 1 ms) are honoured.
 */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => (ms > MAX_HOST_DELAY_MS ? setLongTimeout(fn, ms) : setTimeout(fn, ms)),
  clearTimeout: (id: unknown) => clearTimeout(id instanceof LongTimer ? id.handle : (id as ReturnType<typeof setTimeout> | undefined)),
  setImmediate: (fn: () => void) => setImmediate(fn),
  clearImmediate: (id: unknown) => clearImmediate(id as ReturnType<typeof setImmediate> | undefined),
});
