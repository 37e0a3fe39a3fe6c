/**
 * A sliding-window rate limit: at most `limit` starts in any window of `intervalMs` of clock time.
 * It remembers the times of the last `limit` starts in a ring, so a check and a record are O(1).
 *
 * @internal
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #intervalMs: number;
  /** Times of the last starts, oldest at `#oldest`; holds up to `limit`. */
  readonly #starts: number[];
  #oldest = 0;
  #count = 0;

  constructor(limit: number, intervalMs: number) {
    this.#limit = limit;
    this.#intervalMs = intervalMs;
    this.#starts = new Array<number>(limit);
  }

  /** How many more starts the window allows at clock time `now`. */
  available(now: number): number {
    this.#forget(now);
    return this.#limit - this.#count;
  }

  /** Records a start at clock time `now`; the caller checked {@link RateLimiter.available} first. */
  record(now: number): void {
    this.#forget(now);
    const slot = (this.#oldest + this.#count) % this.#limit;
    this.#starts[slot] = now;
    if (this.#count < this.#limit) this.#count++;
    else this.#oldest = (this.#oldest + 1) % this.#limit;
  }

  /** The clock time at which the next start will be allowed (`now` when one is allowed now). */
  nextStartAt(now: number): number {
    if (this.available(now) > 0) return now;
    return this.#starts[this.#oldest]! + this.#intervalMs;
  }

  /** Drops the starts that left the window `(now - intervalMs, now]`. */
  #forget(now: number): void {
    while (this.#count > 0 && this.#starts[this.#oldest]! <= now - this.#intervalMs) {
      this.#oldest = (this.#oldest + 1) % this.#limit;
      this.#count--;
    }
  }
}
