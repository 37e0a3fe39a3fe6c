import fc from 'fast-check';
import { IndexedHeap, type HeapItem } from '../../src/internal/indexed-heap';

interface Item extends HeapItem {
  readonly key: number;
  readonly id: number;
}

const before = (a: Item, b: Item): boolean => a.key < b.key || (a.key === b.key && a.id < b.id);

let nextId = 0;
const item = (key: number): Item => ({ key, id: nextId++, heapIndex: -1 });

function popAll(heap: IndexedHeap<Item>): number[] {
  const keys: number[] = [];
  for (let next = heap.pop(); next !== undefined; next = heap.pop()) keys.push(next.key);
  return keys;
}

describe('IndexedHeap', () => {
  it('is empty at first', () => {
    const heap = new IndexedHeap<Item>(before);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
  });

  it('pops items in the order `before` defines', () => {
    const heap = new IndexedHeap<Item>(before);
    for (const key of [5, 3, 9, 1, 7, 3, 0, 8]) heap.push(item(key));
    expect(heap.size).toBe(8);
    expect(heap.peek()!.key).toBe(0);
    expect(popAll(heap)).toEqual([0, 1, 3, 3, 5, 7, 8, 9]);
    expect(heap.size).toBe(0);
  });

  it('breaks ties with the comparator, so equal keys come out in insertion order', () => {
    const heap = new IndexedHeap<Item>(before);
    const items = [item(1), item(1), item(0), item(1), item(0)];
    for (const each of items) heap.push(each);
    const ids: number[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) ids.push(next.id);
    expect(ids).toEqual([items[2]!.id, items[4]!.id, items[0]!.id, items[1]!.id, items[3]!.id]);
  });

  it('keeps each item’s heapIndex pointing at its slot, and -1 once out', () => {
    const heap = new IndexedHeap<Item>(before);
    const items = [4, 2, 6, 1, 5].map(item);
    for (const each of items) heap.push(each);
    for (const each of items) expect(each.heapIndex).toBeGreaterThanOrEqual(0);
    expect(new Set(items.map((each) => each.heapIndex)).size).toBe(items.length);
    const top = heap.pop()!;
    expect(top.key).toBe(1);
    expect(top.heapIndex).toBe(-1);
  });

  it('removes an arbitrary item and keeps the order of the rest', () => {
    const heap = new IndexedHeap<Item>(before);
    const items = [10, 4, 8, 2, 6, 12, 1, 9].map(item);
    for (const each of items) heap.push(each);
    const eight = items[2]!;
    expect(heap.remove(eight)).toBe(true);
    expect(eight.heapIndex).toBe(-1);
    expect(heap.size).toBe(7);
    expect(popAll(heap)).toEqual([1, 2, 4, 6, 9, 10, 12]);
  });

  it('removes the root, the last item and the only item', () => {
    const heap = new IndexedHeap<Item>(before);
    const items = [3, 1, 2].map(item);
    for (const each of items) heap.push(each);
    expect(heap.remove(items[1]!)).toBe(true); // the root
    expect(heap.peek()!.key).toBe(2);
    const last = items.find((each) => each.heapIndex === heap.size - 1)!;
    expect(heap.remove(last)).toBe(true);
    expect(heap.size).toBe(1);
    const only = heap.peek()!;
    expect(heap.remove(only)).toBe(true);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
  });

  it('moves the replacement up when the removed item’s slot is below a larger parent', () => {
    // Pushed in this order the layout is [1, 50, 2, 60, 70, 3, 4]; removing 60 puts the last
    // item (4) under 50, so it must sift up, not down.
    const heap = new IndexedHeap<Item>(before);
    const items = [1, 50, 2, 60, 70, 3, 4].map(item);
    for (const each of items) heap.push(each);
    expect(items.map((each) => each.heapIndex)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(heap.remove(items[3]!)).toBe(true);
    expect(items[6]!.heapIndex).toBe(1);
    expect(items[1]!.heapIndex).toBe(3);
    expect(popAll(heap)).toEqual([1, 2, 3, 4, 50, 70]);
  });

  it('refuses to remove an item it does not hold, even one that claims a valid index', () => {
    const heap = new IndexedHeap<Item>(before);
    heap.push(item(1));
    heap.push(item(2));
    const stranger = item(0);
    expect(heap.remove(stranger)).toBe(false);
    stranger.heapIndex = 0;
    expect(heap.remove(stranger)).toBe(false);
    expect(heap.size).toBe(2);
    const popped = heap.pop()!;
    expect(heap.remove(popped)).toBe(false);
    expect(heap.size).toBe(1);
  });

  it('drains every item and marks each out', () => {
    const heap = new IndexedHeap<Item>(before);
    const items = [3, 1, 2].map(item);
    for (const each of items) heap.push(each);
    const drained = heap.drain();
    expect(drained.map((each) => each.key).sort()).toEqual([1, 2, 3]);
    expect(heap.size).toBe(0);
    for (const each of items) expect(each.heapIndex).toBe(-1);
    heap.push(items[0]!);
    expect(heap.pop()).toBe(items[0]);
  });

  it('behaves like a sorted array under random push, pop and remove (property)', () => {
    type Op = { kind: 'push'; key: number } | { kind: 'pop' } | { kind: 'remove'; pick: number; held: boolean } | { kind: 'peek' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: -50, max: 50 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('pop' as const) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(), held: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const) }) },
    );
    // The model is a sorted array; each step returns false on the first disagreement, so that
    // fast-check can shrink a failure quickly.
    const agrees = (ops: Op[]): boolean => {
      const heap = new IndexedHeap<Item>(before);
      const model: Item[] = [];
      const everything: Item[] = [];
      for (const step of ops) {
        switch (step.kind) {
          case 'push': {
            const added = item(step.key);
            everything.push(added);
            heap.push(added);
            const at = model.findIndex((each) => before(added, each));
            model.splice(at < 0 ? model.length : at, 0, added);
            break;
          }
          case 'pop':
            if (heap.pop() !== model.shift()) return false;
            break;
          case 'peek':
            if (heap.peek() !== model[0]) return false;
            break;
          case 'remove': {
            // Mostly an item in the heap; otherwise any item ever pushed, which may be out already.
            const pool = step.held && model.length > 0 ? model : everything;
            if (pool.length === 0) break;
            const target = pool[step.pick % pool.length]!;
            const at = model.indexOf(target);
            if (heap.remove(target) !== at >= 0) return false;
            if (at >= 0) model.splice(at, 1);
            break;
          }
        }
        if (heap.size !== model.length) return false;
      }
      return popAll(heap).join() === model.map((each) => each.key).join();
    };
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 300, size: 'max' }), agrees), { seed: 20240601, numRuns: 300 });
  });
});
