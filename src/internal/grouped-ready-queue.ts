import { ReadyQueue, type ReadyItem } from './ready-queue';

/** An item of a {@link GroupedReadyQueue}: a ready item that may belong to a group. */
export interface GroupedReadyItem extends ReadyItem {
  readonly group?: string;
}

/**
 * Ready items in one {@link ReadyQueue} per group (items without a group have their own), for when
 * some groups may not start now (a rate limit per group): {@link GroupedReadyQueue.pop} returns the
 * best item among the groups allowed, by priority, then arrival across groups (the queues share
 * their tickets). O(groups) per pop.
 *
 * @internal
 */
export class GroupedReadyQueue<T extends GroupedReadyItem> {
  readonly #tickets = { next: 0 };
  readonly #queues = new Map<string | undefined, ReadyQueue<T>>();
  #size = 0;

  /** How many items are in. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item behind every item of its group and priority. */
  push(item: T): void {
    let queue = this.#queues.get(item.group);
    if (queue === undefined) this.#queues.set(item.group, (queue = new ReadyQueue<T>(this.#tickets)));
    queue.push(item);
    this.#size++;
  }

  /**
   * Removes and returns the best item of the groups `allowed` says may start (every group without it).
   * @returns `undefined` when no allowed group has an item
   */
  pop(allowed?: (group: string | undefined) => boolean): T | undefined {
    let best: ReadyQueue<T> | undefined;
    let bestItem: T | undefined;
    for (const [group, queue] of this.#queues) {
      const head = queue.peek();
      if (head === undefined || (allowed !== undefined && !allowed(group))) continue;
      if (
        bestItem === undefined ||
        head.priority > bestItem.priority ||
        (head.priority === bestItem.priority && head.queueTicket < bestItem.queueTicket)
      ) {
        best = queue;
        bestItem = head;
      }
    }
    if (best === undefined) return undefined;
    this.#size--;
    const item = best.pop()!;
    if (best.size === 0) this.#queues.delete(item.group);
    return item;
  }

  /** Takes an item out wherever it is. @returns `false` when it was not in */
  remove(item: T): boolean {
    const queue = this.#queues.get(item.group);
    if (queue === undefined || !queue.remove(item)) return false;
    this.#size--;
    if (queue.size === 0) this.#queues.delete(item.group);
    return true;
  }
}
