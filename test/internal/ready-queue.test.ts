import fc from 'fast-check';
import { ReadyQueue, type ReadyItem } from '../../src/internal/ready-queue';

interface Item extends ReadyItem {
  readonly id: number;
}

let nextId = 0;
const item = (priority: number): Item => ({ priority, id: nextId++, queueTicket: -1 });

function popAll(queue: ReadyQueue<Item>): Item[] {
  const items: Item[] = [];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) items.push(next);
  return items;
}

describe('ReadyQueue', () => {
  it('is empty at first', () => {
    const queue = new ReadyQueue<Item>();
    expect(queue.size).toBe(0);
    expect(queue.pop()).toBeUndefined();
  });

  it('pops the highest priority first, and equal priorities first in, first out', () => {
    const queue = new ReadyQueue<Item>();
    const items = [item(0), item(5), item(0), item(-1), item(5), item(2.5)];
    for (const each of items) queue.push(each);
    expect(queue.size).toBe(6);
    expect(popAll(queue).map((each) => each.id)).toEqual([items[1], items[4], items[5], items[0], items[2], items[3]].map((each) => each!.id));
    expect(queue.size).toBe(0);
  });

  it('removes an item wherever it is, once; a removed item is never popped', () => {
    const queue = new ReadyQueue<Item>();
    const items = [item(1), item(1), item(1), item(3)];
    for (const each of items) queue.push(each);
    expect(queue.remove(items[1]!)).toBe(true);
    expect(queue.remove(items[1]!)).toBe(false);
    expect(queue.remove(items[3]!)).toBe(true);
    expect(queue.size).toBe(2);
    expect(popAll(queue)).toEqual([items[0], items[2]]);
    expect(items.every((each) => each.queueTicket === -1)).toBe(true);
  });

  it('puts an item pushed again (a retry) behind the others of its priority, and skips its old place', () => {
    const queue = new ReadyQueue<Item>();
    const [a, b, c] = [item(0), item(0), item(0)];
    queue.push(a!);
    queue.push(b!);
    queue.remove(a!);
    queue.push(c!);
    queue.push(a!);
    expect(popAll(queue)).toEqual([b, c, a]);
  });

  it('keeps its order through long runs that compact its lanes', () => {
    const queue = new ReadyQueue<Item>();
    const pushed: Item[] = [];
    for (let i = 0; i < 5_000; i++) {
      const each = item(i % 3 === 0 ? 1 : 0);
      pushed.push(each);
      queue.push(each);
    }
    const popped: Item[] = [];
    for (let i = 0; i < 3_000; i++) popped.push(queue.pop()!);
    for (let i = 0; i < 1_000; i++) {
      const each = item(0);
      pushed.push(each);
      queue.push(each);
    }
    popped.push(...popAll(queue));
    const expected = [...pushed].sort((a, b) => b.priority - a.priority || a.id - b.id);
    expect(popped).toEqual(expected);
  });

  it('agrees with a sorted reference list under any sequence of pushes, pops and removals', () => {
    type Step = { readonly kind: 'push'; readonly priority: number } | { readonly kind: 'pop' } | { readonly kind: 'remove'; readonly pick: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: -2, max: 3 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const queue = new ReadyQueue<Item>();
        // The reference: items in, kept sorted by priority (highest first), then by arrival.
        let reference: Array<{ readonly item: Item; readonly arrival: number }> = [];
        let arrivals = 0;
        const all: Item[] = [];
        for (const each of steps) {
          if (each.kind === 'push') {
            const pushed = item(each.priority);
            all.push(pushed);
            queue.push(pushed);
            reference.push({ item: pushed, arrival: arrivals++ });
            reference.sort((a, b) => b.item.priority - a.item.priority || a.arrival - b.arrival);
          } else if (each.kind === 'pop') {
            expect(queue.pop()).toBe(reference.shift()?.item);
          } else if (all.length > 0) {
            const picked = all[each.pick % all.length]!;
            const inReference = reference.some((entry) => entry.item === picked);
            expect(queue.remove(picked)).toBe(inReference);
            reference = reference.filter((entry) => entry.item !== picked);
          }
          expect(queue.size).toBe(reference.length);
        }
        expect(popAll(queue)).toEqual(reference.map((entry) => entry.item));
      }),
      { seed: 8, numRuns: 300 },
    );
  });
  it('serves one item at a time, thousands of times, with removals, past the point where the only lane drops its lists', () => {
    const queue = new ReadyQueue<Item>();
    for (let cycle = 0; cycle < 5_000; cycle++) {
      const first = item(0);
      const second = item(0);
      queue.push(first);
      queue.push(second);
      // Every third cycle the first leaves before its turn: the lane empties through a removal too.
      if (cycle % 3 === 0) expect(queue.remove(first)).toBe(true);
      else expect(queue.pop()).toBe(first);
      expect(queue.pop()).toBe(second);
      expect(queue.size).toBe(0);
      expect(queue.pop()).toBeUndefined();
    }
  });
});
