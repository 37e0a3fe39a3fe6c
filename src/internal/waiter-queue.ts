import type { ResourceReplyTo } from './resource-protocol';

/** A request waiting in a pool's queue. @internal */
export interface ResourceWaiter {
  readonly requestId: string;
  readonly taskId: string;
  readonly units: number;
  /** When it was requested. */
  readonly at: number;
  readonly replyTo: ResourceReplyTo;
  /** `false` once it left the queue; its slot is skipped until the queue is compacted. */
  queued: boolean;
}

/**
 * A pool's FIFO queue of waiters: an array with a head index, so taking the head is O(1) (no
 * `Array.prototype.shift`), and removal from the middle (cancel, revoke) is O(1) by leaving a hole
 * that is skipped. Holes and taken slots are compacted away once they outnumber the waiters.
 *
 * @internal
 */
export class WaiterQueue {
  #items: ResourceWaiter[] = [];
  #head = 0;
  /** Holes left behind the head. */
  #holes = 0;
  readonly #byRequest = new Map<string, ResourceWaiter>();

  /** How many requests are queued. */
  get size(): number {
    return this.#byRequest.size;
  }

  /** The queued waiter with this request id, if any. */
  get(requestId: string): ResourceWaiter | undefined {
    return this.#byRequest.get(requestId);
  }

  /** Queues a waiter at the tail. */
  push(waiter: ResourceWaiter): void {
    this.#items.push(waiter);
    this.#byRequest.set(waiter.requestId, waiter);
  }

  /** The waiter at the head, if any. */
  peek(): ResourceWaiter | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head]!;
      if (waiter.queued) return waiter;
      this.#head++;
      this.#holes--;
    }
    return undefined;
  }

  /** Takes a waiter out of the queue, wherever it is. */
  remove(waiter: ResourceWaiter): void {
    if (!waiter.queued) return;
    waiter.queued = false;
    this.#byRequest.delete(waiter.requestId);
    if (this.#items[this.#head] === waiter) this.#head++;
    else this.#holes++;
    this.#compactIfSparse();
  }

  /** The queued waiters, head first. */
  toArray(): ResourceWaiter[] {
    const waiters: ResourceWaiter[] = [];
    for (let index = this.#head; index < this.#items.length; index++) {
      const waiter = this.#items[index]!;
      if (waiter.queued) waiters.push(waiter);
    }
    return waiters;
  }

  #compactIfSparse(): void {
    const waste = this.#head + this.#holes;
    if (waste < 64 || waste * 2 < this.#items.length) return;
    this.#items = this.toArray();
    this.#head = 0;
    this.#holes = 0;
  }
}
