/** An item an {@link IndexedHeap} can hold: the heap keeps the item's position in `heapIndex` (-1 when out). */
export interface HeapItem {
  heapIndex: number;
}

/**
 * A binary min-heap ordered by `before(a, b)` (true when `a` must come out first), with O(log n)
 * push, pop and removal of any item. Intrusive: each item records its own position, so removal
 * needs no search.
 *
 * @internal
 */
export class IndexedHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** How many items the heap holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The item that {@link IndexedHeap.pop} would return, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#siftUp(item.heapIndex);
  }

  /** Removes and returns the first item, or `undefined` when empty. */
  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      last.heapIndex = 0;
      this.#siftDown(0);
    }
    top.heapIndex = -1;
    return top;
  }

  /** Removes `item` if the heap holds it; returns whether it did. */
  remove(item: T): boolean {
    const index = item.heapIndex;
    const items = this.#items;
    if (index < 0 || items[index] !== item) return false;
    const last = items.pop()!;
    if (index < items.length) {
      items[index] = last;
      last.heapIndex = index;
      this.#siftDown(index);
      this.#siftUp(last.heapIndex);
    }
    item.heapIndex = -1;
    return true;
  }

  /** Removes every item and returns them, in no particular order. */
  drain(): T[] {
    const items = this.#items.splice(0);
    for (const item of items) item.heapIndex = -1;
    return items;
  }

  #siftUp(index: number): void {
    const items = this.#items;
    const item = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.#before(item, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }

  #siftDown(index: number): void {
    const items = this.#items;
    const length = items.length;
    const item = items[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.#before(items[right]!, items[left]!) ? right : left;
      if (!this.#before(items[child]!, item)) break;
      items[index] = items[child]!;
      items[index]!.heapIndex = index;
      index = child;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
