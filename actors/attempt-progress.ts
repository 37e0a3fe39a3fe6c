/**
 * The progress one attempt of a cluster task reports, written to its job one write at a time:
 * while a write is in flight only the latest value waits, written once it completes. Each write is
 * a Redis command and an entry of the queue's events stream, which BullMQ trims (to about 10,000):
 * a task reporting in a tight loop would otherwise push other tasks' ends past their submitters'
 * read positions. A loop of any length within one turn makes two writes.
 * @internal
 */
export class AttemptProgress {
  /** Writes one value; never rejects (a failed write is the writer's to tell). */
  readonly #write: (progress: object) => Promise<void>;
  /** The value waiting for the write in flight to complete, if any. */
  #waiting: object | undefined = undefined;
  #inFlight = false;
  /** How many values were reported, and the number of the last one written (or given up on). */
  #reported = 0;
  #written = 0;
  #waitingNumber = 0;
  readonly #flushes: { readonly upTo: number; readonly resolve: () => void }[] = [];

  constructor(write: (progress: object) => Promise<void>) {
    this.#write = write;
  }

  /** Writes `progress` now if no write is in flight, else once the one in flight completes, if no later value came meanwhile. */
  report(progress: object): void {
    this.#reported++;
    if (this.#inFlight) {
      this.#waiting = progress;
      this.#waitingNumber = this.#reported;
      return;
    }
    this.#inFlight = true;
    void this.#writeFrom(progress, this.#reported);
  }

  async #writeFrom(progress: object, number: number): Promise<void> {
    let next: object | undefined = progress;
    while (next !== undefined) {
      await this.#write(next);
      this.#written = number;
      next = this.#waiting;
      number = this.#waitingNumber;
      this.#waiting = undefined;
      this.#wake();
    }
    this.#inFlight = false;
  }

  #wake(): void {
    for (let i = this.#flushes.length - 1; i >= 0; i--) {
      const flush = this.#flushes[i]!;
      if (flush.upTo > this.#written) continue;
      this.#flushes.splice(i, 1);
      flush.resolve();
    }
  }

  /**
   * Settles once every value reported so far is written (or dropped for a later one written):
   * `undefined` if they are already, so that an attempt that reported nothing since ends at once.
   * Values reported after the call are not waited for: a function that outlives its attempt and
   * goes on reporting does not hold the attempt's end.
   */
  flushed(): Promise<void> | undefined {
    if (this.#written === this.#reported) return undefined;
    const upTo = this.#reported;
    return new Promise((resolve) => this.#flushes.push({ upTo, resolve }));
  }
}
