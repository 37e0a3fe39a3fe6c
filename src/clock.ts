/**
 * The clock every timer of mezan goes through. XState's `SimulatedClock` and mezan's
 * {@link VirtualClock} satisfy it; {@link realClock} is the default.
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds of this clock's time; returns an id for {@link Clock.clearTimeout}. */
  setTimeout(fn: (...args: any[]) => void, ms: number): any;
  /** Cancels a timer set with {@link Clock.setTimeout}. */
  clearTimeout(id: any): void;
}

/** Wall-clock time: `Date.now()` and the host's timers. The default clock of an engine. */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: (...args: any[]) => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (id: any) => clearTimeout(id),
});
