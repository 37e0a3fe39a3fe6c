/** The ring's first size; it doubles when full, up to `limit`. */
const INITIAL_CAPACITY = 16;

/**
 * A sliding-window rate limit: at most `limit` starts in any window of `intervalMs` of clock time.
 * It remembers the times of the starts still in the window in a ring, so a check and a record are
 * O(1) (amortized). The ring grows with the starts it holds, never past `limit`: memory follows the
 * starts made, not the limit (a limit of 2^32 costs nothing until that many tasks start).
 *
 * @internal
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #intervalMs: number;
  /** Times of the starts in the window, oldest at `#oldest`; its length is the ring's capacity. */
  #starts: number[];
  #oldest = 0;
  #count = 0;

  constructor(limit: number, intervalMs: number) {
    this.#limit = limit;
    this.#intervalMs = intervalMs;
    this.#starts = new Array<number>(Math.min(limit, INITIAL_CAPACITY)).fill(0);
  }

  /** How many more starts the window allows at clock time `now`. */
  available(now: number): number {
    this.#forget(now);
    return this.#limit - this.#count;
  }

  /** Records a start at clock time `now`; the caller checked {@link RateLimiter.available} first. */
  record(now: number): void {
    this.#forget(now);
    if (this.#count === this.#starts.length && this.#count < this.#limit) this.#grow();
    const capacity = this.#starts.length;
    this.#starts[(this.#oldest + this.#count) % capacity] = now;
    if (this.#count < capacity) this.#count++;
    else this.#oldest = (this.#oldest + 1) % capacity;
  }

  /** The clock time at which the next start will be allowed (`now` when one is allowed now). */
  nextStartAt(now: number): number {
    if (this.available(now) > 0) return now;
    return this.#starts[this.#oldest]! + this.#intervalMs;
  }

  /** Drops the starts that left the window `(now - intervalMs, now]`. */
  #forget(now: number): void {
    const capacity = this.#starts.length;
    while (this.#count > 0 && this.#starts[this.#oldest]! <= now - this.#intervalMs) {
      this.#oldest = (this.#oldest + 1) % capacity;
      this.#count--;
    }
  }

  /** Doubles the ring (up to `limit`), its starts copied oldest first. */
  #grow(): void {
    const capacity = this.#starts.length;
    const grown = new Array<number>(Math.min(this.#limit, capacity * 2)).fill(0);
    for (let i = 0; i < this.#count; i++) grown[i] = this.#starts[(this.#oldest + i) % capacity]!;
    this.#starts = grown;
    this.#oldest = 0;
  }
}
