import fc from 'fast-check';
import { findRankViolation, LearnedLockOrder, type OrderInversion, type RankedResource } from '../../src/detection/lock-order';
import { topologicalSort } from '../../src/internal/topological-sort';

const ranked = (resource: string, rank?: number): RankedResource => ({ resource, rank });

describe('findRankViolation', () => {
  it.each<[string, RankedResource, RankedResource[]]>([
    ['nothing is held', ranked('cache', 1), []],
    ['the ranks rise', ranked('gpu', 3), [ranked('cache', 1), ranked('db', 2)]],
    ['the rank equals a held one (more units of the same pool)', ranked('db', 2), [ranked('db', 2)]],
    ['the acquired resource is unranked', ranked('files'), [ranked('gpu', 3)]],
    ['the higher held resource is unranked', ranked('cache', 1), [ranked('files')]],
  ])('accepts an acquisition when %s', (_, acquiring, holding) => {
    expect(findRankViolation('t1', acquiring, holding)).toBeUndefined();
  });

  it('reports taking a lower rank while holding a higher one, naming the higher holdings in order', () => {
    const holding = [ranked('gpu', 3), ranked('cache', 1), ranked('files'), ranked('db', 2)];
    expect(findRankViolation('t7', ranked('queue', 2), holding)).toEqual({
      kind: 'rank',
      taskId: 't7',
      acquiring: 'queue',
      rank: 2,
      holding: [{ resource: 'gpu', rank: 3 }],
    });
    expect(findRankViolation('t7', ranked('low', 0), holding)).toEqual({
      kind: 'rank',
      taskId: 't7',
      acquiring: 'low',
      rank: 0,
      holding: [
        { resource: 'gpu', rank: 3 },
        { resource: 'cache', rank: 1 },
        { resource: 'db', rank: 2 },
      ],
    });
  });

  it('compares ranks as numbers, negative and fractional ones included', () => {
    expect(findRankViolation('t1', ranked('a', -1), [ranked('b', -0.5)])).toMatchObject({ holding: [{ resource: 'b', rank: -0.5 }] });
    expect(findRankViolation('t1', ranked('a', 10), [ranked('b', 9)])).toBeUndefined();
  });

  it('accepts any iterable of holdings', () => {
    const holding = new Map([['gpu', ranked('gpu', 3)]]).values();
    expect(findRankViolation('t1', ranked('cache', 1), holding)).toMatchObject({ acquiring: 'cache' });
  });
});

/** A task's acquisitions in order, each while holding every earlier one. */
function takeInOrder(order: LearnedLockOrder, taskId: string, resources: readonly string[]): OrderInversion[] {
  const found: OrderInversion[] = [];
  resources.forEach((resource, index) => found.push(...order.record(taskId, resource, resources.slice(0, index))));
  return found;
}

describe('LearnedLockOrder', () => {
  it('reports an inversion across two tasks even though no deadlock happened', () => {
    const order = new LearnedLockOrder();
    expect(takeInOrder(order, 't1', ['A', 'B'])).toEqual([]);
    expect(takeInOrder(order, 't2', ['B', 'A'])).toEqual([{ kind: 'inversion', cycle: ['A', 'B', 'A'], tasks: ['t1', 't2'] }]);
  });

  it('reports nothing while every task follows one order', () => {
    const order = new LearnedLockOrder();
    expect(takeInOrder(order, 't1', ['A', 'B', 'C'])).toEqual([]);
    expect(takeInOrder(order, 't2', ['A', 'C'])).toEqual([]);
    expect(takeInOrder(order, 't3', ['B', 'C', 'D'])).toEqual([]);
    expect(takeInOrder(order, 't4', ['A', 'D'])).toEqual([]);
    expect(order.edgeCount).toBe(6);
  });

  it('reports each inversion once, however often it recurs, in either order', () => {
    const order = new LearnedLockOrder();
    takeInOrder(order, 't1', ['A', 'B']);
    expect(takeInOrder(order, 't2', ['B', 'A'])).toHaveLength(1);
    for (let task = 3; task < 50; task++) {
      expect(takeInOrder(order, `t${task}`, task % 2 === 0 ? ['B', 'A'] : ['A', 'B'])).toEqual([]);
    }
  });

  it('finds a cycle through three resources and names the task behind each step', () => {
    const order = new LearnedLockOrder();
    expect(takeInOrder(order, 't1', ['A', 'B'])).toEqual([]);
    expect(takeInOrder(order, 't2', ['B', 'C'])).toEqual([]);
    expect(takeInOrder(order, 't3', ['C', 'A'])).toEqual([{ kind: 'inversion', cycle: ['A', 'B', 'C', 'A'], tasks: ['t1', 't2', 't3'] }]);
    expect(takeInOrder(order, 't4', ['C', 'A'])).toEqual([]);
  });

  it('reports the shortest cycle the new edge closes', () => {
    const order = new LearnedLockOrder();
    takeInOrder(order, 't1', ['A', 'B']);
    takeInOrder(order, 't2', ['B', 'C']);
    takeInOrder(order, 't3', ['C', 'D']);
    takeInOrder(order, 't4', ['A', 'D']);
    expect(takeInOrder(order, 't5', ['D', 'A'])).toEqual([{ kind: 'inversion', cycle: ['A', 'D', 'A'], tasks: ['t4', 't5'] }]);
  });

  it('reports one inversion per held resource whose new edge closes a cycle', () => {
    const order = new LearnedLockOrder();
    takeInOrder(order, 't1', ['A', 'X']);
    takeInOrder(order, 't2', ['A', 'Y']);
    expect(order.record('t3', 'A', ['X', 'Y', 'Z'])).toEqual([
      { kind: 'inversion', cycle: ['A', 'X', 'A'], tasks: ['t1', 't3'] },
      { kind: 'inversion', cycle: ['A', 'Y', 'A'], tasks: ['t2', 't3'] },
    ]);
  });

  it('reports a task that inverts its own earlier order', () => {
    const order = new LearnedLockOrder();
    takeInOrder(order, 't1', ['A', 'B']);
    expect(takeInOrder(order, 't1', ['B', 'A'])).toEqual([{ kind: 'inversion', cycle: ['A', 'B', 'A'], tasks: ['t1', 't1'] }]);
  });

  it('remembers the first task that established each edge', () => {
    const order = new LearnedLockOrder();
    takeInOrder(order, 't1', ['A', 'B']);
    takeInOrder(order, 't2', ['A', 'B']);
    expect(order.firstTaskOf('A', 'B')).toBe('t1');
    expect(order.firstTaskOf('B', 'A')).toBeUndefined();
  });

  it('learns nothing from acquiring more of a resource already held', () => {
    const order = new LearnedLockOrder();
    expect(order.record('t1', 'A', ['A'])).toEqual([]);
    expect(order.edgeCount).toBe(0);
  });

  it('keeps memory bounded by resource pairs, not by tasks', () => {
    const order = new LearnedLockOrder();
    const resources = ['A', 'B', 'C', 'D'];
    for (let task = 0; task < 10_000; task++) {
      const first = resources[task % 4]!;
      const second = resources[(task * 7 + 1) % 4]!;
      order.record(`t${task}`, second, [first]);
    }
    expect(order.edgeCount).toBeLessThanOrEqual(resources.length * (resources.length - 1));
  });

  it('reports a cycle exactly when the learned order has one, each valid and none twice (property)', () => {
    const resource = fc.constantFrom('A', 'B', 'C', 'D', 'E');
    const acquisition = fc.record({ task: fc.integer({ min: 1, max: 6 }), acquiring: resource, holding: fc.uniqueArray(resource, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(acquisition, { maxLength: 40 }), (acquisitions) => {
        const order = new LearnedLockOrder();
        const edges = new Map<string, Set<string>>();
        const reports: OrderInversion[] = [];
        for (const { task, acquiring, holding } of acquisitions) {
          reports.push(...order.record(`t${task}`, acquiring, holding));
          for (const held of holding) {
            if (held === acquiring) continue;
            if (!edges.has(held)) edges.set(held, new Set());
            edges.get(held)!.add(acquiring);
          }
        }
        const nodes = ['A', 'B', 'C', 'D', 'E'];
        const hasCycle = topologicalSort(nodes, (node) => [...(edges.get(node) ?? [])]).cycle !== undefined;
        expect(reports.length > 0).toBe(hasCycle);
        const closingEdges = new Set<string>();
        for (const { cycle, tasks } of reports) {
          expect(cycle.length).toBeGreaterThanOrEqual(3);
          expect(cycle[cycle.length - 1]).toBe(cycle[0]);
          expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
          expect(tasks).toHaveLength(cycle.length - 1);
          for (let index = 0; index + 1 < cycle.length; index++) {
            expect(edges.get(cycle[index]!)?.has(cycle[index + 1]!)).toBe(true);
            expect(order.firstTaskOf(cycle[index]!, cycle[index + 1]!)).toBe(tasks[index]);
          }
          closingEdges.add(`${cycle[cycle.length - 2]}→${cycle[cycle.length - 1]}`);
        }
        expect(closingEdges.size).toBe(reports.length);
        expect(order.edgeCount).toBe([...edges.values()].reduce((sum, targets) => sum + targets.size, 0));
      }),
      { seed: 20240603, numRuns: 500 },
    );
  });
});
