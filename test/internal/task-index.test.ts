import fc from 'fast-check';
import { autoNumberOf, TaskIndex } from '../../src/internal/task-index';

interface Task {
  readonly id: string;
  readonly autoNumber?: number;
}

const auto = (number: number): Task => ({ id: `task-${number}`, autoNumber: number });
const named = (id: string): Task => ({ id, autoNumber: -1 });

describe('autoNumberOf', () => {
  it.each([
    ['task-0', 0],
    ['task-17', 17],
    ['task-', undefined],
    ['task-017', undefined],
    ['task-1.5', undefined],
    ['task--1', undefined],
    ['task-1e3', undefined],
    ['job-3', undefined],
    ['Task-3', undefined],
  ])('reads %p as %p', (id, expected) => {
    expect(autoNumberOf(id)).toBe(expected);
  });
});

describe('TaskIndex', () => {
  it('holds one task at a time, thousands of times, past the point where an empty window drops its slots', () => {
    const index = new TaskIndex<Task>();
    for (let number = 0; number < 3_000; number++) {
      const task = auto(number);
      index.add(task);
      expect(index.get(task.id)).toBe(task);
      expect(index.size).toBe(1);
      // A caller's task beside it now and then: the named map and the window stay apart.
      if (number % 500 === 0) {
        const other = named(`job-${number}`);
        index.add(other);
        expect(index.get(other.id)).toBe(other);
        expect(index.delete(other)).toBe(true);
      }
      expect(index.delete(task)).toBe(true);
      expect(index.get(task.id)).toBeUndefined();
      expect(index.size).toBe(0);
      expect([...index.values()]).toEqual([]);
    }
  });

  it('finds engine-named and caller-named tasks by id, and forgets removed ones', () => {
    const index = new TaskIndex<Task>();
    const [a, b, c] = [auto(1), auto(2), named('report')];
    index.add(a);
    index.add(c);
    index.add(b);
    expect(index.size).toBe(3);
    expect(index.get('task-1')).toBe(a);
    expect(index.get('task-2')).toBe(b);
    expect(index.get('report')).toBe(c);
    expect(index.get('task-3')).toBeUndefined();
    expect(index.delete(a)).toBe(true);
    expect(index.delete(a)).toBe(false);
    expect(index.has('task-1')).toBe(false);
    expect(index.delete(c)).toBe(true);
    expect(index.size).toBe(1);
    expect([...index.values()]).toEqual([b]);
  });

  it('tells a caller-named task that looks engine-made from the engine-made one', () => {
    const index = new TaskIndex<Task>();
    const impostor = named('task-5');
    index.add(auto(4));
    index.add(impostor);
    expect(index.get('task-5')).toBe(impostor);
    expect(index.delete(auto(5))).toBe(false);
    expect(index.delete(impostor)).toBe(true);
  });

  it('keeps a task that arrives behind the window (a graph registered out of order)', () => {
    const index = new TaskIndex<Task>();
    const [late, early] = [auto(3), auto(9)];
    index.add(early);
    index.add(late);
    expect(index.get('task-3')).toBe(late);
    expect(index.get('task-9')).toBe(early);
    expect(index.delete(late)).toBe(true);
    expect(index.get('task-3')).toBeUndefined();
  });

  it('agrees with a Map under any sequence of additions and removals', () => {
    type Step = { readonly kind: 'auto' } | { readonly kind: 'named'; readonly name: string } | { readonly kind: 'remove'; readonly pick: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('auto' as const) }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant('named' as const), name: fc.constantFrom('a', 'b', 'task-2', 'task-40', 'task-007') }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }), weight: 4 },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), fc.nat({ max: 3 }), (steps, skip) => {
        const index = new TaskIndex<Task>();
        const reference = new Map<string, Task>();
        let next = 0;
        for (const each of steps) {
          if (each.kind === 'remove') {
            const live = [...reference.values()];
            if (live.length === 0) continue;
            const task = live[each.pick % live.length]!;
            expect(index.delete(task)).toBe(true);
            reference.delete(task.id);
            continue;
          }
          // Numbers skip now and then, as ids taken by the caller or refused tasks make them.
          next += 1 + (next % 5 === 0 ? skip : 0);
          const task = each.kind === 'auto' ? auto(next) : named(each.name);
          if (reference.has(task.id)) continue;
          index.add(task);
          reference.set(task.id, task);
        }
        expect(index.size).toBe(reference.size);
        for (const [id, task] of reference) expect(index.get(id)).toBe(task);
        expect(new Set(index.values())).toEqual(new Set(reference.values()));
        for (let number = 0; number <= next + 1; number++) expect(index.get(`task-${number}`)).toBe(reference.get(`task-${number}`));
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('stays exact over a long stream that slides and compacts its window', () => {
    const index = new TaskIndex<Task>();
    const oldest = auto(0);
    index.add(oldest);
    const window: Task[] = [];
    for (let number = 1; number < 20_000; number++) {
      const task = auto(number);
      index.add(task);
      window.push(task);
      if (window.length > 10) index.delete(window.shift()!);
    }
    expect(index.size).toBe(11);
    expect(index.get('task-0')).toBe(oldest);
    index.delete(oldest);
    expect([...index.values()]).toEqual(window);
  });
});
