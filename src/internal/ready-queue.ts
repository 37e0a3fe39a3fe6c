/** An item a {@link ReadyQueue} can hold: its priority, and the ticket the queue gives it while it is in. */
export interface ReadyItem {
  readonly priority: number;
  /** The ticket of its place in the queue, `-1` while it is out; the queue sets it. */
  queueTicket: number;
}

/** The items of one priority, first in, first out. */
interface Lane<T> {
  readonly priority: number;
  /** Items in arrival order from `head` on; some may have left (their ticket no longer matches). */
  items: T[];
  /** The ticket each item had when it arrived, beside it. */
  tickets: number[];
  head: number;
  /** How many of the items are still in. */
  live: number;
}

/** Above this many dead slots at its head, and half its length, a lane is compacted. */
const COMPACT_AFTER = 1024;

/**
 * The ready queue: highest priority first, first in, first out within a priority. One FIFO lane per
 * distinct priority, and the lanes in priority order: push and pop are O(1) when priorities are few
 * (most workloads have one), O(distinct priorities) when a new priority appears. Removal is O(1)
 * and lazy: the item's ticket is cleared, and pop skips it when it reaches the head.
 *
 * @internal
 */
export class ReadyQueue<T extends ReadyItem> {
  /** Lanes holding items, highest priority first. */
  readonly #lanes: Array<Lane<T>> = [];
  readonly #byPriority = new Map<number, Lane<T>>();
  #size = 0;
  /** Where tickets come from; queues that share it can tell which of their items came first. */
  readonly #tickets: { next: number };

  /** @param tickets - a ticket counter shared with other queues, to compare arrivals across them */
  constructor(tickets: { next: number } = { next: 0 }) {
    this.#tickets = tickets;
  }

  /** How many items are in. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item behind every item of its priority. */
  push(item: T): void {
    let lane = this.#byPriority.get(item.priority);
    if (lane === undefined) lane = this.#openLane(item.priority);
    const ticket = this.#tickets.next++;
    item.queueTicket = ticket;
    lane.items.push(item);
    lane.tickets.push(ticket);
    lane.live++;
    this.#size++;
  }

  /** The item {@link ReadyQueue.pop} would return, left in; `undefined` when empty. */
  peek(): T | undefined {
    const lane = this.#lanes[0];
    return lane === undefined || lane.live === 0 ? undefined : lane.items[this.#skipDead(lane)];
  }

  /** Removes and returns the first item: the oldest of the highest priority; `undefined` when empty. */
  pop(): T | undefined {
    const lane = this.#lanes[0];
    if (lane === undefined || lane.live === 0) return undefined;
    const { items } = lane;
    const head = this.#skipDead(lane);
    const item = items[head]!;
    items[head] = undefined as unknown as T;
    lane.head = head + 1;
    item.queueTicket = -1;
    this.#size--;
    if (--lane.live === 0) this.#closeLane(lane);
    else if (lane.head > COMPACT_AFTER && lane.head * 2 > items.length) this.#compact(lane);
    return item;
  }

  /**
   * Takes an item out wherever it is.
   * @returns `false` when it was not in
   */
  remove(item: T): boolean {
    if (item.queueTicket < 0) return false;
    const lane = this.#byPriority.get(item.priority)!;
    item.queueTicket = -1;
    this.#size--;
    if (--lane.live === 0) this.#closeLane(lane);
    return true;
  }

  /** Moves the lane's head past items that left; returns it. The lane has a live item, so this stops. */
  #skipDead(lane: Lane<T>): number {
    const { items, tickets } = lane;
    let head = lane.head;
    while (items[head]!.queueTicket !== tickets[head]) items[head++] = undefined as unknown as T;
    lane.head = head;
    return head;
  }

  #openLane(priority: number): Lane<T> {
    // The only lane, kept open though empty, gives way to the new one.
    const idle = this.#lanes.length === 1 && this.#lanes[0]!.live === 0 ? this.#lanes.pop() : undefined;
    if (idle !== undefined) this.#byPriority.delete(idle.priority);
    const lane: Lane<T> = { priority, items: [], tickets: [], head: 0, live: 0 };
    this.#byPriority.set(priority, lane);
    const lanes = this.#lanes;
    let index = lanes.length;
    while (index > 0 && lanes[index - 1]!.priority < priority) index--;
    lanes.splice(index, 0, lane);
    return lane;
  }

  /**
   * A lane that emptied stays open while it is the only one (the common case of one priority, where
   * an idle engine would otherwise close and reopen it for every task); otherwise it closes.
   */
  #closeLane(lane: Lane<T>): void {
    if (this.#lanes.length === 1) {
      // The only lane keeps its lists (new ones for every task of an idle engine would cost more than
      // the task's own work): new items go on behind the head. Nothing in them is live, so once they
      // have grown they are simply dropped.
      if (lane.items.length > COMPACT_AFTER) {
        lane.items = [];
        lane.tickets = [];
        lane.head = 0;
      }
      return;
    }
    this.#byPriority.delete(lane.priority);
    this.#lanes.splice(this.#lanes.indexOf(lane), 1);
  }

  #compact(lane: Lane<T>): void {
    lane.items = lane.items.slice(lane.head);
    lane.tickets = lane.tickets.slice(lane.head);
    lane.head = 0;
  }
}
