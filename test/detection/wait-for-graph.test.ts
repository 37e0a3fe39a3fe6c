import fc from 'fast-check';
import { isMezanError } from '../../src/errors';
import { seededRandom, type RandomSource } from '../../src/random';
import { chooseVictim, type DeadlockCandidate } from '../../src/detection/deadlock-policy';
import { NO_DEADLOCK, WaitForGraph, type DeadlockAnalysis } from '../../src/detection/wait-for-graph';
import { bruteForceDeadlocked, bruteForceOnCycle, queueOf, type WaitGraphSpec } from '../fixtures/brute-force-deadlock';
import { specOfSnapshot } from '../fixtures/engine3-deadlock-graph';

/** Builds the graph of `spec`, each resource's requests made in its queue order. */
function buildGraph(spec: WaitGraphSpec): WaitForGraph {
  const graph = new WaitForGraph();
  for (const resource of spec.resources) graph.addResource(resource.id, resource.capacity);
  for (const task of spec.tasks) {
    for (const [resource, units] of Object.entries(task.holds)) graph.setHold(task.id, resource, units);
    for (const awaited of task.awaits) graph.addAwait(task.id, awaited);
  }
  const byId = new Map(spec.tasks.map((task) => [task.id, task]));
  for (const resource of spec.resources) {
    for (const id of queueOf(spec, resource.id)) graph.setRequest(id, resource.id, byId.get(id)!.requests[resource.id]!);
  }
  return graph;
}

/**
 * `analysis.cycle` is a closed cycle of the graph through deadlocked tasks only: task → resource is a
 * request, resource → task a hold or a request ahead (in the snapshot's queue order) of the request
 * of the task before the resource, task → task an await; each task appears once.
 */
function expectRealCycle(graph: WaitForGraph, analysis: DeadlockAnalysis): void {
  const { cycle, deadlocked } = analysis;
  if (deadlocked.length === 0) {
    expect(cycle).toEqual([]);
    return;
  }
  const { nodes, edges } = graph.snapshot();
  const kindOf = new Map(nodes.map((node) => [node.id, node.kind]));
  const hasEdge = (from: string, to: string, kind: string) => edges.some((edge) => edge.from === from && edge.to === to && edge.kind === kind);
  const requestIndex = (task: string, resource: string) =>
    edges.findIndex((edge) => edge.from === task && edge.to === resource && edge.kind === 'requests');
  const isAhead = (task: string, resource: string, behind: string) =>
    requestIndex(task, resource) >= 0 && requestIndex(task, resource) < requestIndex(behind, resource);
  expect(cycle.length).toBeGreaterThanOrEqual(2);
  expect(cycle[cycle.length - 1]).toBe(cycle[0]);
  expect(kindOf.get(cycle[0]!)).toBe('task');
  const tasks = cycle.slice(0, -1).filter((id) => kindOf.get(id) === 'task');
  expect(new Set(tasks).size).toBe(tasks.length);
  for (const task of tasks) expect(deadlocked).toContain(task);
  for (const task of tasks) expect(graph.isOnCycle(task)).toBe(true);
  for (let index = 0; index + 1 < cycle.length; index++) {
    const from = cycle[index]!;
    const to = cycle[index + 1]!;
    const kinds = `${kindOf.get(from)}→${kindOf.get(to)}`;
    if (kinds === 'task→resource') expect(hasEdge(from, to, 'requests')).toBe(true);
    else if (kinds === 'resource→task') expect(hasEdge(from, to, 'holds') || isAhead(to, from, cycle[index - 1]!)).toBe(true);
    else if (kinds === 'task→task') expect(hasEdge(from, to, 'awaits')).toBe(true);
    else throw new Error(`Unexpected step ${from} → ${to} (${kinds}) in cycle ${cycle.join(' → ')}`);
  }
}

function expectInvalid(action: () => void): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(isMezanError(thrown, 'E_INVALID_OPTION')).toBe(true);
}

const pad = (index: number) => String(index).padStart(4, '0');

describe('WaitForGraph', () => {
  describe('structure', () => {
    it('finds nothing in an empty graph or a graph without waits', () => {
      const graph = new WaitForGraph();
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      graph.addResource('db', 1);
      graph.setHold('t1', 'db', 1);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      expect(graph.detectFrom('t1')).toEqual(NO_DEADLOCK);
      expect(graph.detectFrom('unknown')).toEqual(NO_DEADLOCK);
    });

    it('snapshots holds from resource to holder, requests from task to resource, awaits from waiter to awaited', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 2);
      graph.setHold('t1', 'db', 2);
      graph.setRequest('t2', 'db', 1);
      graph.addAwait('t3', 't1');
      expect(graph.snapshot()).toEqual({
        nodes: [
          { id: 'db', kind: 'resource', capacity: 2 },
          { id: 't1', kind: 'task' },
          { id: 't2', kind: 'task' },
          { id: 't3', kind: 'task' },
        ],
        edges: [
          { from: 'db', to: 't1', kind: 'holds', units: 2 },
          { from: 't2', to: 'db', kind: 'requests', units: 1 },
          { from: 't3', to: 't1', kind: 'awaits' },
        ],
      });
    });

    it('keeps a task node only while it has an edge', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 1);
      graph.setRequest('t1', 'db', 1);
      expect(graph.hasTask('t1')).toBe(true);
      graph.setRequest('t1', 'db', 0);
      expect(graph.hasTask('t1')).toBe(false);
      graph.addAwait('a', 'b');
      expect(graph.hasTask('b')).toBe(true);
      graph.removeAwait('a', 'b');
      expect(graph.hasTask('a')).toBe(false);
      expect(graph.hasTask('b')).toBe(false);
      graph.setHold('t2', 'db', 1);
      graph.setHold('t2', 'db', 0);
      expect(graph.taskCount).toBe(0);
      expect(graph.snapshot().edges).toEqual([]);
    });

    it('removeTask drops the task, its edges and the edges pointing at it, and returns its units', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 1);
      graph.setHold('holder', 'db', 1);
      graph.setRequest('holder', 'db', 1);
      graph.addAwait('waiter', 'holder');
      graph.addAwait('holder', 'holder');
      expect(graph.detect().deadlocked).toEqual(['holder', 'waiter']);
      graph.removeTask('holder');
      expect(graph.hasTask('holder')).toBe(false);
      expect(graph.hasTask('waiter')).toBe(false);
      expect(graph.snapshot().edges).toEqual([]);
      // The unit came back: another task can hold it.
      graph.setHold('other', 'db', 1);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      graph.removeTask('never-seen');
    });

    it('replaces a pending request on the same resource rather than adding one', () => {
      const graph = new WaitForGraph();
      graph.addResource('pool', 3);
      graph.setHold('a', 'pool', 2);
      graph.setRequest('b', 'pool', 3);
      graph.setRequest('b', 'pool', 1);
      expect(graph.snapshot().edges.filter((edge) => edge.kind === 'requests')).toEqual([{ from: 'b', to: 'pool', kind: 'requests', units: 1 }]);
    });

    it.each([
      ['a duplicate resource', (graph: WaitForGraph) => graph.addResource('db', 1)],
      ['a negative capacity', (graph: WaitForGraph) => graph.addResource('x', -1)],
      ['a fractional capacity', (graph: WaitForGraph) => graph.addResource('x', 1.5)],
      ['an unknown resource held', (graph: WaitForGraph) => graph.setHold('t', 'nope', 1)],
      ['an unknown resource requested', (graph: WaitForGraph) => graph.setRequest('t', 'nope', 1)],
      ['holds beyond the capacity', (graph: WaitForGraph) => graph.setHold('t2', 'db', 2)],
      ['a request beyond the capacity', (graph: WaitForGraph) => graph.setRequest('t2', 'db', 3)],
      ['negative units', (graph: WaitForGraph) => graph.setRequest('t2', 'db', -1)],
      ['a capacity below the units held', (graph: WaitForGraph) => graph.setCapacity('db', 0)],
      ['a capacity below a pending request', (graph: WaitForGraph) => graph.setCapacity('gpu', 1)],
      ['the capacity of an unknown resource', (graph: WaitForGraph) => graph.setCapacity('nope', 1)],
      ['a task id that is a resource id', (graph: WaitForGraph) => graph.setHold('gpu', 'db', 1)],
      ['an awaited task id that is a resource id', (graph: WaitForGraph) => graph.addAwait('t9', 'db')],
      ['a resource id that is a task id', (graph: WaitForGraph) => graph.addResource('t1', 1)],
    ])('refuses %s with E_INVALID_OPTION and stays unchanged', (_, misuse) => {
      const graph = new WaitForGraph();
      graph.addResource('db', 2);
      graph.addResource('gpu', 2);
      graph.setHold('t1', 'db', 1);
      graph.setRequest('t3', 'gpu', 2);
      const before = graph.snapshot();
      expectInvalid(() => misuse(graph));
      expect(graph.snapshot()).toEqual(before);
      expect(graph.hasTask('t9')).toBe(false);
    });

    it('accepts a capacity change that keeps every hold and request within it', () => {
      const graph = new WaitForGraph();
      graph.addResource('@workers', 2);
      graph.setHold('p', '@workers', 2);
      graph.addAwait('p', 'c');
      graph.setRequest('c', '@workers', 1);
      expect(graph.detectFrom('c').deadlocked).toEqual(['c', 'p']);
      graph.setCapacity('@workers', 3);
      expect(graph.capacityOf('@workers')).toBe(3);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      expect(graph.hasResource('@workers')).toBe(true);
      expectInvalid(() => graph.capacityOf('db'));
      expect(graph.hasResource('db')).toBe(false);
    });
  });

  describe('classic deadlocks', () => {
    it('finds a lock-order inversion between two tasks', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 1);
      graph.addResource('gpu', 1);
      graph.setHold('t1', 'db', 1);
      graph.setHold('t2', 'gpu', 1);
      graph.setRequest('t1', 'gpu', 1);
      expect(graph.detectFrom('t1')).toEqual(NO_DEADLOCK);
      graph.setRequest('t2', 'db', 1);
      expect(graph.detectFrom('t2')).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t2', 'db', 't1', 'gpu', 't2'] });
      expect(graph.detect()).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t1', 'gpu', 't2', 'db', 't1'] });
      graph.removeTask('t2');
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });

    it('finds a re-acquire of a held mutex as a deadlock of one task', () => {
      const graph = new WaitForGraph();
      graph.addResource('lock', 1);
      graph.setHold('t', 'lock', 1);
      graph.setRequest('t', 'lock', 1);
      expect(graph.detectFrom('t')).toEqual({ deadlocked: ['t'], cycle: ['t', 'lock', 't'] });
    });

    it.each([2, 3, 10, 100])('finds a ring of %i tasks, each holding one resource and wanting the next, only when it closes', (size) => {
      const graph = new WaitForGraph();
      for (let index = 0; index < size; index++) {
        graph.addResource(`r${pad(index)}`, 1);
        graph.setHold(`t${pad(index)}`, `r${pad(index)}`, 1);
      }
      for (let index = 0; index < size - 1; index++) {
        graph.setRequest(`t${pad(index)}`, `r${pad(index + 1)}`, 1);
        expect(graph.detectFrom(`t${pad(index)}`)).toEqual(NO_DEADLOCK);
      }
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      const last = `t${pad(size - 1)}`;
      graph.setRequest(last, 'r0000', 1);
      const analysis = graph.detectFrom(last);
      const tasks = Array.from({ length: size }, (_, index) => `t${pad(index)}`);
      expect(analysis.deadlocked).toEqual(tasks);
      expect(analysis.cycle).toHaveLength(2 * size + 1);
      expect(analysis.cycle.slice(0, 3)).toEqual([last, 'r0000', 't0000']);
      expectRealCycle(graph, analysis);
      expect(graph.detect().deadlocked).toEqual(tasks);
      expectRealCycle(graph, graph.detect());
      // One victim breaks the ring.
      graph.removeTask(`t${pad(Math.floor(size / 2))}`);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });

    it('finds nested awaits forming a cycle, and not a chain', () => {
      const graph = new WaitForGraph();
      graph.addAwait('a', 'b');
      graph.addAwait('b', 'c');
      expect(graph.detectFrom('b')).toEqual(NO_DEADLOCK);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      graph.addAwait('c', 'a');
      expect(graph.detectFrom('c')).toEqual({ deadlocked: ['a', 'b', 'c'], cycle: ['c', 'a', 'b', 'c'] });
      expect(graph.detect()).toEqual({ deadlocked: ['a', 'b', 'c'], cycle: ['a', 'b', 'c', 'a'] });
      graph.removeAwait('c', 'a');
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });

    it('finds a task awaiting itself', () => {
      const graph = new WaitForGraph();
      graph.addAwait('a', 'a');
      expect(graph.detectFrom('a')).toEqual({ deadlocked: ['a'], cycle: ['a', 'a'] });
    });

    it('counts a task awaiting a deadlocked task as deadlocked; detectFrom, its precondition broken, misses it', () => {
      const graph = new WaitForGraph();
      graph.addAwait('a', 'b');
      graph.addAwait('b', 'a');
      graph.addAwait('outer', 'a');
      const analysis = graph.detectFrom('outer');
      // `outer` is on no cycle, so the incremental check rules it out; the full reduction does not.
      expect(analysis).toEqual(NO_DEADLOCK);
      expect(graph.detect()).toEqual({ deadlocked: ['a', 'b', 'outer'], cycle: ['a', 'b', 'a'] });
    });

    it('finds worker-slot starvation: every slot held by a task awaiting a queued task', () => {
      const graph = new WaitForGraph();
      graph.addResource('@workers', 2);
      graph.setHold('p1', '@workers', 1);
      graph.setHold('p2', '@workers', 1);
      graph.setRequest('child', '@workers', 1);
      expect(graph.detectFrom('child')).toEqual(NO_DEADLOCK);
      graph.addAwait('p1', 'child');
      expect(graph.detectFrom('p1')).toEqual(NO_DEADLOCK);
      graph.addAwait('p2', 'child');
      const analysis = graph.detectFrom('p2');
      expect(analysis).toEqual({ deadlocked: ['child', 'p1', 'p2'], cycle: ['p2', 'child', '@workers', 'p2'] });
      expectRealCycle(graph, analysis);
      // Compensation: one more slot and the child runs.
      graph.setCapacity('@workers', 3);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });
  });

  describe('cycles that are not deadlocks', () => {
    it('does not report a cycle through a pool whose other holder can finish', () => {
      const graph = new WaitForGraph();
      graph.addResource('pool', 2);
      graph.setHold('t1', 'pool', 1);
      graph.setHold('t2', 'pool', 1);
      graph.setRequest('t1', 'pool', 1);
      expect(graph.detectFrom('t1')).toEqual(NO_DEADLOCK);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      // Once t2 blocks on t1, nobody is left to free a unit.
      graph.addAwait('t2', 't1');
      expect(graph.detectFrom('t2').deadlocked).toEqual(['t1', 't2']);
    });

    it('does not report a two-resource cycle while a third task holds a unit and runs', () => {
      const graph = new WaitForGraph();
      graph.addResource('a', 2);
      graph.addResource('b', 1);
      graph.setHold('t1', 'a', 1);
      graph.setHold('t3', 'a', 1);
      graph.setHold('t2', 'b', 1);
      graph.setRequest('t1', 'b', 1);
      graph.setRequest('t2', 'a', 1);
      expect(graph.detectFrom('t2')).toEqual(NO_DEADLOCK);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      graph.setRequest('t3', 'b', 1);
      const analysis = graph.detectFrom('t3');
      expect(analysis.deadlocked).toEqual(['t1', 't2', 't3']);
      expect(analysis.cycle[0]).toBe('t3');
      expectRealCycle(graph, analysis);
    });

    it('finds a multi-unit pool deadlocked when no release can satisfy either request', () => {
      const graph = new WaitForGraph();
      graph.addResource('pool', 3);
      graph.setHold('t1', 'pool', 1);
      graph.setHold('t2', 'pool', 1);
      graph.setRequest('t1', 'pool', 2);
      expect(graph.detectFrom('t1')).toEqual(NO_DEADLOCK);
      graph.setRequest('t2', 'pool', 2);
      const analysis = graph.detectFrom('t2');
      expect(analysis.deadlocked).toEqual(['t1', 't2']);
      expectRealCycle(graph, analysis);
      // Asking for one unit instead fits the free unit, but t2 keeps its place behind t1: still stuck.
      graph.setRequest('t2', 'pool', 1);
      expect(graph.detect()).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t1', 'pool', 't1'] });
      expect(graph.detectFrom('t2')).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t2', 'pool', 't1', 'pool', 't2'] });
      // Made again, at the tail of an empty queue, the one unit is granted: t2 can finish, then t1.
      graph.setRequest('t1', 'pool', 0);
      graph.setRequest('t1', 'pool', 2);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });

    it('needs the units of several finishing holders before a large request fits', () => {
      const graph = new WaitForGraph();
      graph.addResource('pool', 3);
      graph.addResource('lock', 1);
      graph.setHold('big', 'pool', 1);
      graph.setHold('h1', 'pool', 1);
      graph.setHold('h2', 'pool', 1);
      graph.setRequest('big', 'pool', 2);
      graph.setHold('big', 'lock', 1);
      graph.setRequest('h1', 'lock', 1);
      // h2 can finish, but h1 waits on big's lock and big needs h1's unit too.
      expect(graph.detectFrom('h1').deadlocked).toEqual(['big', 'h1']);
      graph.setRequest('h1', 'lock', 0);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      // Asking for more than the units it does not hold itself can never be granted.
      graph.setRequest('big', 'pool', 3);
      expect(graph.detectFrom('big')).toEqual({ deadlocked: ['big'], cycle: ['big', 'pool', 'big'] });
    });
  });

  describe('requests granted by the queue', () => {
    it('counts a request that heads its queue and fits as granted: its units are taken while its task waits for more', () => {
      const graph = new WaitForGraph();
      graph.addResource('a', 1);
      graph.addResource('b', 1);
      graph.setHold('t2', 'b', 1);
      graph.setRequest('t1', 'b', 1);
      graph.setRequest('t1', 'a', 1);
      // `a` is free and t1 heads its queue: as good as granted; t1 only waits for b, and t2 can finish.
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      graph.setRequest('t2', 'a', 1);
      // t2 queues behind t1, which takes the unit: the step a → t1 is a queue step.
      const analysis = graph.detectFrom('t2');
      expect(analysis).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t2', 'a', 't1', 'b', 't2'] });
      expectRealCycle(graph, analysis);
      expect(bruteForceDeadlocked(specOfSnapshot(graph.snapshot()))).toEqual(['t1', 't2']);
      // The pool's grant, mirrored, changes nothing.
      graph.setRequest('t1', 'a', 0);
      graph.setHold('t1', 'a', 1);
      expect(graph.detectFrom('t1')).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t1', 'b', 't2', 'a', 't1'] });
    });

    it('grants the head of a queue while it fits, one request after another, and no further', () => {
      const graph = new WaitForGraph();
      graph.addResource('pool', 3);
      graph.setRequest('x', 'pool', 2);
      graph.setRequest('y', 'pool', 2);
      graph.setRequest('z', 'pool', 1);
      // x takes 2 units; y does not fit the one left, and z, though it fits, waits behind y.
      graph.addAwait('x', 'z');
      const analysis = graph.detectFrom('x');
      expect(analysis).toEqual({ deadlocked: ['x', 'y', 'z'], cycle: ['x', 'z', 'pool', 'y', 'pool', 'x'] });
      expectRealCycle(graph, analysis);
      expect(bruteForceDeadlocked(specOfSnapshot(graph.snapshot()))).toEqual(['x', 'y', 'z']);
      // Without the await x finishes, then y, then z.
      graph.removeAwait('x', 'z');
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });
  });

  describe('mixed waits', () => {
    it('finds a cycle of an await and a resource wait', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 1);
      graph.setHold('parent', 'db', 1);
      graph.addAwait('parent', 'child');
      expect(graph.detectFrom('parent')).toEqual(NO_DEADLOCK);
      graph.setRequest('child', 'db', 1);
      expect(graph.detectFrom('child')).toEqual({ deadlocked: ['child', 'parent'], cycle: ['child', 'db', 'parent', 'child'] });
    });

    it('finds a long cycle through slots, pools and awaits, and reports the bystanders', () => {
      const graph = new WaitForGraph();
      graph.addResource('@workers', 2);
      graph.addResource('cache', 2);
      graph.addResource('gpu', 1);
      graph.setHold('a', '@workers', 1);
      graph.setHold('b', '@workers', 1);
      graph.setHold('a', 'cache', 1);
      graph.setHold('b', 'cache', 1);
      graph.setHold('c', 'gpu', 1);
      graph.addAwait('a', 'b');
      graph.setRequest('b', 'gpu', 1);
      // Queued behind b: stuck, yet on no cycle.
      graph.setRequest('bystander', 'gpu', 1);
      graph.setRequest('c', 'cache', 1);
      expect(graph.detectFrom('c').deadlocked).toEqual(['a', 'b', 'bystander', 'c']);
      expectRealCycle(graph, graph.detectFrom('c'));
      expect(graph.detectFrom('c').cycle[0]).toBe('c');
      expectRealCycle(graph, graph.detect());
      expect(['a', 'b', 'bystander', 'c'].map((id) => graph.isOnCycle(id))).toEqual([true, true, false, true]);
    });
  });

  describe('FIFO queues', () => {
    it('a request queued behind a larger one waits though it fits, and can deadlock with it', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 2);
      graph.setHold('t1', 'db', 1);
      graph.setRequest('t2', 'db', 2);
      expect(graph.detectFrom('t2')).toEqual(NO_DEADLOCK);
      // t1's one unit fits the free unit, but t2 is first in the queue, and t2 needs t1's unit.
      graph.setRequest('t1', 'db', 1);
      const analysis = graph.detectFrom('t1');
      expect(analysis).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t1', 'db', 't2', 'db', 't1'] });
      expectRealCycle(graph, analysis);
      expect(graph.detect()).toEqual(analysis);
      expect(graph.detectFrom('t2')).toEqual({ deadlocked: ['t1', 't2'], cycle: ['t2', 'db', 't1', 'db', 't2'] });
      expect(bruteForceDeadlocked(specOfSnapshot(graph.snapshot()))).toEqual(['t1', 't2']);
      expect([graph.isOnCycle('t1'), graph.isOnCycle('t2')]).toEqual([true, true]);
      // The same requests in the other queue order: t1 is served first, then t2.
      graph.setRequest('t2', 'db', 0);
      graph.setRequest('t2', 'db', 2);
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      expect(graph.isOnCycle('t1')).toBe(false);
    });

    it('keeps a request in its place when its units change, and sends a request made again to the tail', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 3);
      graph.setHold('h', 'db', 3);
      for (const id of ['a', 'b', 'c']) graph.setRequest(id, 'db', 1);
      const queue = () =>
        graph
          .snapshot()
          .edges.filter((edge) => edge.kind === 'requests')
          .map((edge) => `${edge.from}:${(edge as { units: number }).units}`);
      expect(queue()).toEqual(['a:1', 'b:1', 'c:1']);
      graph.setRequest('b', 'db', 3);
      graph.setRequest('a', 'db', 2);
      expect(queue()).toEqual(['a:2', 'b:3', 'c:1']);
      graph.setRequest('a', 'db', 0);
      graph.setRequest('a', 'db', 1);
      expect(queue()).toEqual(['b:3', 'c:1', 'a:1']);
      graph.removeTask('c');
      expect(queue()).toEqual(['b:3', 'a:1']);
      expect(specOfSnapshot(graph.snapshot()).queues).toEqual({ db: ['b', 'a'] });
    });

    it('finds a deadlock closed at the tail of a long queue, and not before it closes', () => {
      const graph = new WaitForGraph();
      graph.addResource('db', 1);
      graph.addResource('lock', 1);
      graph.setHold('holder', 'db', 1);
      for (let index = 0; index < 1_000; index++) {
        graph.setRequest(`w${pad(index)}`, 'db', 1);
        expect(graph.detectFrom(`w${pad(index)}`)).toEqual(NO_DEADLOCK);
      }
      // The last waiter holds the lock the holder is about to want.
      graph.setHold('w0999', 'lock', 1);
      graph.setRequest('holder', 'lock', 1);
      const analysis = graph.detectFrom('holder');
      expect(analysis.deadlocked).toHaveLength(1_001);
      // w0999 needs the unit holder holds, whoever is ahead of it: the waiters between are bystanders.
      expect(analysis.cycle).toEqual(['holder', 'lock', 'w0999', 'db', 'holder']);
      expectRealCycle(graph, analysis);
      expect(['holder', 'w0999', 'w0000', 'w0500'].map((id) => graph.isOnCycle(id))).toEqual([true, true, false, false]);
    });

    it('follows the queue one entry at a time while a task in it waits for something else too', () => {
      const graph = new WaitForGraph();
      graph.addResource('r', 1);
      graph.setHold('h', 'r', 1);
      graph.setRequest('v', 'r', 1);
      graph.addAwait('v', 'x');
      // h finishes and v takes the unit; x, behind v, waits for v to finish, and v awaits x.
      graph.setRequest('x', 'r', 1);
      const analysis = graph.detectFrom('x');
      expect(analysis).toEqual({ deadlocked: ['v', 'x'], cycle: ['x', 'r', 'v', 'x'] });
      expectRealCycle(graph, analysis);
      expect(bruteForceDeadlocked(specOfSnapshot(graph.snapshot()))).toEqual(['v', 'x']);
      // Without the await, v waits for nothing else: h, then v, then x finish.
      graph.removeAwait('v', 'x');
      expect(graph.detect()).toEqual(NO_DEADLOCK);
      graph.addAwait('v', 'x');
      expect(graph.detectFrom('v').deadlocked).toEqual(['v', 'x']);
      graph.removeTask('v');
      expect(graph.detect()).toEqual(NO_DEADLOCK);
    });
  });

  describe('isOnCycle', () => {
    it('is false for a task not deadlocked, or unknown, and true for each task of a two-task inversion', () => {
      const graph = new WaitForGraph();
      graph.addResource('a', 1);
      graph.addResource('b', 1);
      graph.setHold('t1', 'a', 1);
      graph.setHold('t2', 'b', 1);
      graph.setRequest('t1', 'b', 1);
      expect(graph.isOnCycle('t1')).toBe(false);
      expect(graph.isOnCycle('t2')).toBe(false);
      expect(graph.isOnCycle('nobody')).toBe(false);
      graph.setRequest('t2', 'a', 1);
      expect(graph.isOnCycle('t1')).toBe(true);
      expect(graph.isOnCycle('t2')).toBe(true);
      // Kept until the graph changes, then recomputed.
      graph.removeTask('t2');
      expect(graph.isOnCycle('t1')).toBe(false);
    });

    it('leaves out bystanders: a task queued behind the cycle, one awaiting a task on it, and those behind them', () => {
      const graph = new WaitForGraph();
      graph.addResource('a', 1);
      graph.addResource('b', 1);
      graph.setHold('t1', 'a', 1);
      graph.setHold('t2', 'b', 1);
      graph.setRequest('t1', 'b', 1);
      graph.setRequest('t2', 'a', 1);
      graph.setRequest('queued', 'a', 1);
      graph.addAwait('awaiting', 't1');
      graph.addAwait('outer', 'awaiting');
      expect(graph.detect().deadlocked).toEqual(['awaiting', 'outer', 'queued', 't1', 't2']);
      expect(['t1', 't2', 'queued', 'awaiting', 'outer'].map((id) => graph.isOnCycle(id))).toEqual([true, true, false, false, false]);
      expect(bruteForceOnCycle(specOfSnapshot(graph.snapshot()))).toEqual(['t1', 't2']);
    });

    it('counts a task awaiting itself, or re-acquiring a mutex it holds, as on a cycle', () => {
      const graph = new WaitForGraph();
      graph.addResource('lock', 1);
      graph.addAwait('self', 'self');
      graph.setHold('again', 'lock', 1);
      graph.setRequest('again', 'lock', 1);
      expect(graph.isOnCycle('self')).toBe(true);
      expect(graph.isOnCycle('again')).toBe(true);
    });

    it('finds two separate cycles, and a task between them on neither', () => {
      const graph = new WaitForGraph();
      graph.addAwait('a1', 'a2');
      graph.addAwait('a2', 'a1');
      graph.addAwait('b1', 'b2');
      graph.addAwait('b2', 'b1');
      graph.addAwait('between', 'a1');
      graph.addAwait('b1', 'between');
      // b1 → between → a1: between is on no cycle, though both cycles are around it.
      expect(['a1', 'a2', 'b1', 'b2', 'between'].map((id) => graph.isOnCycle(id))).toEqual([true, true, true, true, false]);
    });
  });

  describe('against a brute-force search', () => {
    const specArbitrary: fc.Arbitrary<WaitGraphSpec> = fc
      .record({
        capacities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 }),
        taskCount: fc.integer({ min: 1, max: 6 }),
        draws: fc.array(fc.nat({ max: 1_000_000 }), { minLength: 200, maxLength: 200 }),
      })
      .map(({ capacities, taskCount, draws }) => {
        let cursor = 0;
        const draw = (bound: number) => draws[cursor++ % draws.length]! % bound;
        const resources = capacities.map((capacity, index) => ({ id: `r${index}`, capacity }));
        const free = capacities.slice();
        const tasks = Array.from({ length: taskCount }, (_, index) => {
          const holds: Record<string, number> = {};
          const requests: Record<string, number> = {};
          resources.forEach((resource, resourceIndex) => {
            const held = Math.min(draw(3), free[resourceIndex]!);
            if (held > 0) {
              holds[resource.id] = held;
              free[resourceIndex]! -= held;
            }
            if (draw(3) === 0) requests[resource.id] = 1 + draw(resource.capacity);
          });
          const awaits: string[] = [];
          for (let other = 0; other < taskCount; other++) if (draw(5) === 0) awaits.push(`t${other}`);
          return { id: `t${index}`, holds, requests, awaits };
        });
        // Each queue in a drawn order (a Fisher-Yates shuffle of its requesters).
        const queues: Record<string, string[]> = {};
        for (const resource of resources) {
          const queue = tasks.filter((task) => resource.id in task.requests).map((task) => task.id);
          for (let index = queue.length - 1; index > 0; index--) {
            const other = draw(index + 1);
            [queue[index], queue[other]] = [queue[other]!, queue[index]!];
          }
          queues[resource.id] = queue;
        }
        return { resources, tasks, queues };
      });

    it('detect() finds exactly the tasks that can complete in no order, with a real cycle', () => {
      fc.assert(
        fc.property(specArbitrary, (spec) => {
          const graph = buildGraph(spec);
          const analysis = graph.detect();
          expect(analysis.deadlocked).toEqual(bruteForceDeadlocked(spec));
          expectRealCycle(graph, analysis);
        }),
        { seed: 20240611, numRuns: 2000 },
      );
    });

    it('the generator makes graphs whose deadlocks depend on the queue order', () => {
      // Sanity check of the comparison above: with the queues reversed, the brute force must find
      // another deadlocked set often enough, or the order is not really tested.
      let orderMatters = 0;
      let deadlocks = 0;
      fc.assert(
        fc.property(specArbitrary, (spec) => {
          const reversed = Object.fromEntries(Object.entries(spec.queues ?? {}).map(([resource, queue]) => [resource, [...queue].reverse()]));
          const deadlocked = bruteForceDeadlocked(spec);
          if (deadlocked.length > 0) deadlocks++;
          if (deadlocked.join() !== bruteForceDeadlocked({ ...spec, queues: reversed }).join()) orderMatters++;
        }),
        { seed: 20240611, numRuns: 2000 },
      );
      expect(deadlocks).toBeGreaterThan(200);
      expect(orderMatters).toBeGreaterThan(50);
    });

    it('isOnCycle() marks exactly the deadlocked tasks that reach themselves, as a plain search over the brute-force result finds', () => {
      fc.assert(
        fc.property(specArbitrary, (spec) => {
          const graph = buildGraph(spec);
          const onCycle = spec.tasks.map((task) => task.id).filter((id) => graph.isOnCycle(id));
          expect(onCycle.sort()).toEqual(bruteForceOnCycle(spec));
          // Every deadlock has a cycle.
          if (graph.detect().deadlocked.length > 0) expect(onCycle.length).toBeGreaterThan(0);
        }),
        { seed: 99, numRuns: 2000 },
      );
    });

    it('stays exact through random changes: detect() and isOnCycle() against the brute force, detectFrom() after each wait', () => {
      const changesArbitrary = fc.record({
        capacities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        changes: fc.array(fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 4 }), fc.nat({ max: 4 }), fc.nat({ max: 3 })), { minLength: 1, maxLength: 40 }),
      });
      fc.assert(
        fc.property(changesArbitrary, ({ capacities, changes }) => {
          const graph = new WaitForGraph();
          capacities.forEach((capacity, index) => graph.addResource(`r${index}`, capacity));
          for (const [kind, first, second, amount] of changes) {
            const task = `t${first}`;
            const resource = `r${second % capacities.length}`;
            const capacity = capacities[second % capacities.length]!;
            const before = graph.detect();
            let waited = false;
            if (kind === 0) {
              const others = graph.snapshot().edges.filter((edge) => edge.kind === 'holds' && edge.from === resource && edge.to !== task);
              const heldByOthers = others.reduce((sum, edge) => sum + (edge as { units: number }).units, 0);
              graph.setHold(task, resource, Math.min(amount, capacity - heldByOthers));
            } else if (kind === 1 || kind === 2) {
              const units = Math.min(amount, capacity);
              const isNew = !graph.snapshot().edges.some((edge) => edge.kind === 'requests' && edge.from === task && edge.to === resource);
              graph.setRequest(task, resource, units);
              waited = units > 0 && isNew;
            } else if (kind === 3) {
              graph.addAwait(task, `t${second}`);
              waited = true;
            } else if (kind === 4) {
              graph.removeAwait(task, `t${second}`);
            } else {
              graph.removeTask(task);
            }
            const full = graph.detect();
            const spec = specOfSnapshot(graph.snapshot());
            expect(full.deadlocked).toEqual(bruteForceDeadlocked(spec));
            expectRealCycle(graph, full);
            expect(
              spec.tasks
                .map((node) => node.id)
                .filter((id) => graph.isOnCycle(id))
                .sort(),
            ).toEqual(bruteForceOnCycle(spec));
            if (waited && before.deadlocked.length === 0) {
              const incremental = graph.detectFrom(task);
              expect(incremental.deadlocked).toEqual(full.deadlocked);
              if (full.deadlocked.includes(task)) expect(incremental.cycle[0]).toBe(task);
            }
          }
        }),
        { seed: 314, numRuns: 400 },
      );
    });

    it('detectFrom() reports the full analysis from any task on the cycle, and never a different set', () => {
      fc.assert(
        fc.property(specArbitrary, (spec) => {
          const graph = buildGraph(spec);
          const full = graph.detect();
          for (const task of spec.tasks) {
            const incremental = graph.detectFrom(task.id);
            if (incremental.deadlocked.length > 0) expect(incremental.deadlocked).toEqual(full.deadlocked);
            expectRealCycle(graph, incremental);
          }
          for (const id of full.cycle) {
            if (graph.hasResource(id)) continue;
            const incremental = graph.detectFrom(id);
            expect(incremental.deadlocked).toEqual(full.deadlocked);
            expect(incremental.cycle[0]).toBe(id);
          }
        }),
        { seed: 7, numRuns: 1000 },
      );
    });

    it('the brute force itself sees the textbook cases', () => {
      const pool = [{ id: 'pool', capacity: 2 }];
      const notDeadlocked: WaitGraphSpec = {
        resources: pool,
        tasks: [
          { id: 't1', holds: { pool: 1 }, requests: { pool: 1 }, awaits: [] },
          { id: 't2', holds: { pool: 1 }, requests: {}, awaits: [] },
        ],
      };
      expect(bruteForceDeadlocked(notDeadlocked)).toEqual([]);
      const deadlocked: WaitGraphSpec = {
        resources: pool,
        tasks: [
          { id: 't1', holds: { pool: 1 }, requests: { pool: 2 }, awaits: [] },
          { id: 't2', holds: { pool: 1 }, requests: {}, awaits: ['t1'] },
          { id: 't3', holds: {}, requests: {}, awaits: ['outside'] },
        ],
      };
      expect(bruteForceDeadlocked(deadlocked)).toEqual(['t1', 't2']);
      // FIFO: t1's one unit fits, but t2 heads the queue and needs t1's unit.
      const queuedBehind: WaitGraphSpec = {
        resources: pool,
        tasks: [
          { id: 't1', holds: { pool: 1 }, requests: { pool: 1 }, awaits: [] },
          { id: 't2', holds: {}, requests: { pool: 2 }, awaits: [] },
        ],
        queues: { pool: ['t2', 't1'] },
      };
      expect(bruteForceDeadlocked(queuedBehind)).toEqual(['t1', 't2']);
      expect(bruteForceOnCycle(queuedBehind)).toEqual(['t1', 't2']);
      expect(bruteForceDeadlocked({ ...queuedBehind, queues: { pool: ['t1', 't2'] } })).toEqual([]);
      // A granted request keeps its units while its task waits for something else.
      const grantedThenStuck: WaitGraphSpec = {
        resources: [{ id: 'pool', capacity: 1 }],
        tasks: [
          { id: 'a', holds: {}, requests: { pool: 1 }, awaits: ['c'] },
          { id: 'b', holds: {}, requests: { pool: 1 }, awaits: [] },
          { id: 'c', holds: {}, requests: {}, awaits: ['b'] },
        ],
      };
      expect(bruteForceDeadlocked(grantedThenStuck)).toEqual(['a', 'b', 'c']);
      expect(bruteForceOnCycle(grantedThenStuck)).toEqual(['a', 'b', 'c']);
      expect(() => bruteForceDeadlocked({ ...grantedThenStuck, queues: { pool: ['a'] } })).toThrow();
    });
  });

  describe('incremental detection on a live graph', () => {
    it('detectFrom agrees with detect after every blocking event, in 20 seeded workloads', () => {
      // A disagreement throws, naming its seed.
      const resolved = Array.from(
        { length: 20 },
        (_, index) => runScenario({ seed: index + 1, workers: 6, pools: 4, targetWaiting: 120, checkEvery: 1 }).deadlocksResolved,
      );
      // Most workloads must deadlock, or the agreement checks little.
      expect(resolved.filter((count) => count > 0).length).toBeGreaterThanOrEqual(12);
    });

    it('keeps up with 10,000 waiting tasks, one detectFrom per blocking event', () => {
      const result = runScenario({ seed: 42, workers: 256, pools: 64, targetWaiting: 10_000, checkEvery: 250 });
      expect(result.waiting).toBeGreaterThanOrEqual(10_000);
      expect(result.blockingEvents).toBeGreaterThan(10_000);
      expect(result.deadlocksResolved).toBeGreaterThan(0);
    });
  });
});

interface ScenarioOptions {
  readonly seed: number;
  /** Capacity of `@workers`. */
  readonly workers: number;
  /** Number of pools besides `@workers`, capacities 1 to 3. */
  readonly pools: number;
  /** Stop once this many tasks wait (a pending request or await). */
  readonly targetWaiting: number;
  /** Compare detectFrom with the full detect every this many blocking events. */
  readonly checkEvery: number;
}

interface ScenarioResult {
  readonly blockingEvents: number;
  readonly deadlocksResolved: number;
  readonly waiting: number;
}

/**
 * A supervisor in miniature over a seeded random workload: tasks are submitted (run when a slot is
 * free and nobody queues for one, else queue), acquire pool units (granted when they fit and nobody
 * queues, else queue; queues are served in FIFO order), await other tasks, and complete. Each task
 * has at most one pending wait, so a grant never creates a deadlock and the precondition of
 * detectFrom holds at every blocking event. Every deadlock found is resolved by victims (the
 * youngest candidate holding units) until the full detect finds none.
 */
function runScenario(options: ScenarioOptions): ScenarioResult {
  const random: RandomSource = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const graph = new WaitForGraph();
  const capacity = new Map<string, number>([['@workers', options.workers]]);
  for (let index = 0; index < options.pools; index++) capacity.set(`pool${index}`, 1 + Math.floor(random() * 3));
  for (const [id, units] of capacity) graph.addResource(id, units);
  const poolIds = [...capacity.keys()].filter((id) => id !== '@workers');

  const free = new Map(capacity);
  const holds = new Map<string, Map<string, number>>();
  const waitingOn = new Map<string, { readonly resource: string; readonly units: number } | { readonly task: string }>();
  const waitersOf = new Map<string, Set<string>>([...capacity.keys()].map((id) => [id, new Set<string>()]));
  const awaitersOf = new Map<string, Set<string>>();
  const seq = new Map<string, number>();
  const live: string[] = [];
  const liveIndex = new Map<string, number>();
  let nextId = 0;
  let blockingEvents = 0;
  let deadlocksResolved = 0;

  const held = (task: string) => holds.get(task) ?? new Map<string, number>();
  const isRunning = (task: string) => (held(task).get('@workers') ?? 0) > 0 && !waitingOn.has(task);
  const grant = (task: string, resource: string, units: number) => {
    const taskHolds = holds.get(task) ?? new Map<string, number>();
    holds.set(task, taskHolds);
    taskHolds.set(resource, (taskHolds.get(resource) ?? 0) + units);
    free.set(resource, free.get(resource)! - units);
    graph.setHold(task, resource, taskHolds.get(resource)!);
  };
  const unblock = (task: string) => {
    const wait = waitingOn.get(task);
    if (wait === undefined) return;
    waitingOn.delete(task);
    if ('resource' in wait) {
      waitersOf.get(wait.resource)!.delete(task);
      graph.setRequest(task, wait.resource, 0);
    } else {
      awaitersOf.get(wait.task)?.delete(task);
      graph.removeAwait(task, wait.task);
    }
  };
  const grantWaiters = (resource: string) => {
    // Strict FIFO, as the pools grant: the head while it fits, and nobody past a head that does not.
    for (const waiter of waitersOf.get(resource)!) {
      const wait = waitingOn.get(waiter) as { resource: string; units: number };
      if (wait.units > free.get(resource)!) break;
      unblock(waiter);
      grant(waiter, resource, wait.units);
    }
  };
  const check = (task: string, analysis: DeadlockAnalysis) => {
    const full = graph.detect();
    if (analysis.deadlocked.join() !== full.deadlocked.join()) {
      throw new Error(`detectFrom(${task}) found [${analysis.deadlocked.join()}], detect() [${full.deadlocked.join()}] (seed ${options.seed})`);
    }
  };
  /** Settles a task (completed, or failed as a victim): its units return, its awaiters wake. */
  const settle = (task: string) => {
    unblock(task);
    graph.removeTask(task);
    for (const awaiter of awaitersOf.get(task) ?? []) waitingOn.delete(awaiter);
    awaitersOf.delete(task);
    const index = liveIndex.get(task)!;
    const last = live.pop()!;
    if (last !== task) {
      live[index] = last;
      liveIndex.set(last, index);
    }
    liveIndex.delete(task);
    const released = held(task);
    holds.delete(task);
    for (const [resource, units] of released) free.set(resource, free.get(resource)! + units);
    for (const resource of released.keys()) grantWaiters(resource);
  };
  const block = (task: string, wait: { resource: string; units: number } | { task: string }) => {
    waitingOn.set(task, wait);
    if ('resource' in wait) {
      waitersOf.get(wait.resource)!.add(task);
      graph.setRequest(task, wait.resource, wait.units);
    } else {
      if (!awaitersOf.has(wait.task)) awaitersOf.set(wait.task, new Set());
      awaitersOf.get(wait.task)!.add(task);
      graph.addAwait(task, wait.task);
    }
    blockingEvents++;
    let analysis = graph.detectFrom(task);
    if (blockingEvents % options.checkEvery === 0 || analysis.deadlocked.length > 0) check(task, analysis);
    while (analysis.deadlocked.length > 0) {
      expectRealCycle(graph, analysis);
      const candidates: DeadlockCandidate[] = analysis.deadlocked.map((taskId) => ({
        taskId,
        submittedSeq: seq.get(taskId)!,
        priority: 0,
        workMs: 0,
        resourcesHeld: [...held(taskId).values()].reduce((sum, units) => sum + units, 0),
      }));
      const victim = chooseVictim((all) => {
        const holding = all.filter((candidate) => candidate.resourcesHeld > 0);
        return chooseVictim('youngest', holding.length > 0 ? holding : all);
      }, candidates);
      settle(victim);
      deadlocksResolved++;
      analysis = graph.detect();
    }
  };

  const waitingCount = () => waitingOn.size;
  for (let step = 0; waitingCount() < options.targetWaiting; step++) {
    if (step > 50 * options.targetWaiting + 10_000) throw new Error('scenario made no progress');
    const roll = random();
    if (roll < 0.45 || live.length === 0) {
      const task = `task${nextId}`;
      seq.set(task, nextId++);
      liveIndex.set(task, live.length);
      live.push(task);
      if (free.get('@workers')! > 0 && waitersOf.get('@workers')!.size === 0) grant(task, '@workers', 1);
      else block(task, { resource: '@workers', units: 1 });
      continue;
    }
    const task = pick(live);
    if (!isRunning(task)) continue;
    if (roll < 0.62) {
      settle(task);
    } else if (roll < 0.85) {
      const resource = pick(poolIds);
      const units = 1 + Math.floor(random() * capacity.get(resource)!);
      if (units <= free.get(resource)! && waitersOf.get(resource)!.size === 0) grant(task, resource, units);
      else block(task, { resource, units });
    } else {
      block(task, { task: pick(live) });
    }
  }
  expect(graph.detect()).toEqual(NO_DEADLOCK);
  return { blockingEvents, deadlocksResolved, waiting: waitingCount() };
}

describe('agents in the wait-for graph', () => {
  it("draws an agent as kind 'agent', its messages as kind 'message', and an ask as an 'asks' edge; a ring of asks is a deadlock", () => {
    const graph = new WaitForGraph();
    graph.addResource('@agent:a', 1);
    graph.setHold('@agent:a#1', '@agent:a', 1);
    graph.addAwait('@agent:a#1', '@agent:b#2');
    graph.addAwait('@agent:b#2', '@agent:a#3');
    graph.setRequest('@agent:a#3', '@agent:a', 1);
    graph.addAwait('task-1', '@agent:a#1');
    expect(graph.snapshot()).toEqual({
      nodes: [
        { id: '@agent:a', kind: 'agent', capacity: 1 },
        { id: '@agent:a#1', kind: 'message' },
        { id: '@agent:b#2', kind: 'message' },
        { id: '@agent:a#3', kind: 'message' },
        { id: 'task-1', kind: 'task' },
      ],
      edges: [
        { from: '@agent:a', to: '@agent:a#1', kind: 'holds', units: 1 },
        { from: '@agent:a#3', to: '@agent:a', kind: 'requests', units: 1 },
        { from: '@agent:a#1', to: '@agent:b#2', kind: 'asks' },
        { from: '@agent:b#2', to: '@agent:a#3', kind: 'asks' },
        { from: 'task-1', to: '@agent:a#1', kind: 'asks' },
      ],
    });
    expect(graph.detectFrom('@agent:a#3').deadlocked).toEqual(['@agent:a#1', '@agent:a#3', '@agent:b#2', 'task-1']);
    expect(graph.isOnCycle('task-1')).toBe(false);
    // A second unit of a: the waiting message is served, and nothing is deadlocked.
    graph.setCapacity('@agent:a', 2);
    expect(graph.detect().deadlocked).toEqual([]);
  });

  it('removes an agent nobody holds or waits for, and refuses to while its units are held', () => {
    const graph = new WaitForGraph();
    graph.addResource('@agent:a', 2);
    graph.setHold('@agent:a#1', '@agent:a', 1);
    expect(() => graph.removeResource('@agent:a')).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    graph.setHold('@agent:a#1', '@agent:a', 0);
    graph.removeResource('@agent:a');
    expect(graph.hasResource('@agent:a')).toBe(false);
    expect(graph.snapshot()).toEqual({ nodes: [], edges: [] });
    graph.removeResource('@agent:a');
  });
});
