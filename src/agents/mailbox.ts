/**
 * A bounded first-in, first-out queue of an agent's waiting messages, each found by its id too (a
 * timed-out ask withdraws its message). Only its agent's own transitions touch it.
 *
 * @typeParam T - what it holds; each item has a numeric `id`
 * @internal
 */
export class Mailbox<T extends { readonly id: number }> {
  readonly capacity: number;
  // A Map keeps insertion order: its first entry is the oldest, and removal by id costs O(1).
  readonly #items = new Map<number, T>();

  /** @param capacity - how many items it holds at most (a positive integer) */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** How many items wait. */
  get size(): number {
    return this.#items.size;
  }

  /** Whether it holds `capacity` items. */
  get isFull(): boolean {
    return this.#items.size >= this.capacity;
  }

  /** Adds an item at the back; the caller checked that there is room. */
  push(item: T): void {
    this.#items.set(item.id, item);
  }

  /** Takes the oldest item out, if any. */
  shift(): T | undefined {
    for (const [id, item] of this.#items) {
      this.#items.delete(id);
      return item;
    }
    return undefined;
  }

  /** Takes the item with `id` out, if it is there. */
  remove(id: number): T | undefined {
    const item = this.#items.get(id);
    if (item !== undefined) this.#items.delete(id);
    return item;
  }

  /** Takes every item out, oldest first. */
  drain(): T[] {
    const items = [...this.#items.values()];
    this.#items.clear();
    return items;
  }
}
