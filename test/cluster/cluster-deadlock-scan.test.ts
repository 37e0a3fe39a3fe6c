import {
  scanClusterDeadlocks,
  type ClusterDeadlockScan,
  type ClusterDeadlockVictim,
  type DeadlockCandidate,
} from '../../src/cluster/cluster-deadlock-scan';
import type { ClusterNodeEdges, ClusterWaitEdge } from '../../actors/cluster-wait-edges';
import { CLUSTER_SLOTS, type ClusterSlots } from '../../src/cluster/cluster-slots';

// The cluster detector's scan, pure: snapshots as ClusterWaitEdges.snapshot() gives them.

/** The scan's one victim, or `undefined`: these tests make one deadlock at a time. */
function onlyVictim(scan: ClusterDeadlockScan): ClusterDeadlockVictim | undefined {
  expect(scan.victims.length).toBeLessThanOrEqual(1);
  return scan.victims[0];
}

function holds(task: string, resource: string, units = 1, capacity = 1): ClusterWaitEdge {
  return { kind: 'holds', task, resource, units, capacity };
}

function requests(task: string, resource: string, request: string, units = 1, capacity = 1): ClusterWaitEdge {
  return { kind: 'requests', task, resource, units, capacity, request };
}

function runs(task: string, startedAt: number, priority = 0): ClusterWaitEdge {
  return { kind: 'runs', task, startedAt, priority };
}

function awaitsJob(task: string, job: string, request: string): ClusterWaitEdge {
  return { kind: 'awaits', task, awaited: job, job: true, request };
}

function runsJob(task: string, job: string, startedAt: number, priority = 0): ClusterWaitEdge {
  return { kind: 'runs', task, job, startedAt, priority };
}

function snapshot(byNode: Record<string, ClusterWaitEdge[]>): ClusterNodeEdges[] {
  return Object.entries(byNode).map(([node, edges]) => ({ node, version: 1, edges }));
}

/** t1 of node a holds db and waits for gpu; t2 of node b, which started later, holds gpu and waits for db. */
const inversion = snapshot({
  a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 100)],
  b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 200)],
});

describe('scanClusterDeadlocks', () => {
  it('keeps a deadlock across nodes as candidates on its first sight, and confirms it afterMs later with one victim', () => {
    const first = scanClusterDeadlocks(inversion, {}, 1_000, 500);
    expect(onlyVictim(first)).toBeUndefined();
    expect(Object.keys(first.candidates).sort()).toEqual(['a/t1', 'b/t2']);
    expect(first.candidates['a/t1']!.since).toBe(1_000);

    const early = scanClusterDeadlocks(inversion, first.candidates, 1_499, 500);
    expect(onlyVictim(early)).toBeUndefined();
    expect(early.candidates['a/t1']!.since).toBe(1_000);

    const second = scanClusterDeadlocks(inversion, early.candidates, 1_500, 500);
    // The youngest (the default policy, as an engine's) is the victim, through its request for db.
    expect(onlyVictim(second)).toEqual({
      node: 'b',
      task: 't2',
      request: 'r2',
      cycle: expect.arrayContaining(['a/t1', 'b/t2', 'db', 'gpu']),
      deadlocked: ['a/t1', 'b/t2'],
      nodes: ['a', 'b'],
      policy: 'youngest',
    });
    expect(onlyVictim(second)!.cycle[0]).toBe(onlyVictim(second)!.cycle.at(-1));
  });

  it('does not confirm a phantom: a wait that ended before the second snapshot', () => {
    const first = scanClusterDeadlocks(inversion, {}, 1_000, 500);
    // t1 got gpu meanwhile (t2's hold had ended, its node not yet publishing so).
    const later = snapshot({ a: [holds('a/t1', 'db'), holds('a/t1', 'gpu')], b: [requests('b/t2', 'db', 'r2')] });
    const second = scanClusterDeadlocks(later, first.candidates, 2_000, 500);
    expect(onlyVictim(second)).toBeUndefined();
    expect(second.candidates).toEqual({});
  });

  it('does not confirm a wait that ended and began again with other edges (a new request id) before afterMs', () => {
    const first = scanClusterDeadlocks(inversion, {}, 1_000, 500);
    const again = snapshot({
      a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r3'), runs('a/t1', 100)],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 200)],
    });
    const second = scanClusterDeadlocks(again, first.candidates, 1_600, 500);
    expect(onlyVictim(second)).toBeUndefined();
    expect(second.candidates['a/t1']!.since).toBe(1_600);
    expect(second.candidates['b/t2']!.since).toBe(1_000);
    expect(onlyVictim(scanClusterDeadlocks(again, second.candidates, 2_100, 500))).toMatchObject({ node: 'b', task: 't2' });
  });

  it("leaves a deadlock within one node to that node's engine", () => {
    const local = snapshot({ a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), holds('a/t2', 'gpu'), requests('a/t2', 'db', 'r2')] });
    const first = scanClusterDeadlocks(local, {}, 0, 10);
    expect(Object.keys(first.candidates)).toHaveLength(2);
    expect(onlyVictim(scanClusterDeadlocks(local, first.candidates, 10, 10))).toBeUndefined();
  });

  it('finds nothing where units are free for a waiter (several units), as Holt’s reduction', () => {
    const free = snapshot({
      a: [holds('a/t1', 'db', 1, 2), requests('a/t1', 'gpu', 'r1')],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2', 1, 2)],
    });
    expect(scanClusterDeadlocks(free, {}, 0, 0)).toEqual({ candidates: {}, victims: [], inconsistent: false });
  });

  it('chooses the task holding the fewest units as the victim under fewest-resources', () => {
    const uneven = snapshot({
      a: [holds('a/t1', 'db', 2, 2), requests('a/t1', 'gpu', 'r1')],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2', 1, 2)],
      c: [holds('c/t3', 'disk'), holds('c/t3', 'net')],
    });
    const first = scanClusterDeadlocks(uneven, {}, 0, 0, 'fewest-resources');
    expect(onlyVictim(first)).toMatchObject({ node: 'b', task: 't2', request: 'r2', policy: 'fewest-resources' });
    const heavier = snapshot({
      a: [holds('a/t1', 'db', 1, 2), requests('a/t1', 'gpu', 'r1', 1, 2)],
      b: [holds('b/t2', 'gpu', 2, 2), holds('b/t2', 'db', 1, 2), requests('b/t2', 'db', 'r2', 1, 2)],
    });
    expect(onlyVictim(scanClusterDeadlocks(heavier, {}, 0, 0, 'fewest-resources'))).toMatchObject({ node: 'a', task: 't1', request: 'r1' });
  });

  // a/t1 started first, with priority 5; b/t2 started 300 ms later, with priority 1; a holds 2 units, b 1.
  const weighed = snapshot({
    a: [holds('a/t1', 'db', 2, 2), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 1_000, 5)],
    b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2', 1, 2), runs('b/t2', 1_300, 1)],
  });

  it.each<[string, 'youngest' | 'lowest-priority' | 'least-work' | 'fewest-resources', string]>([
    ['the task whose attempt started last', 'youngest', 't2'],
    ['the task of the lowest priority', 'lowest-priority', 't2'],
    ['the task that has run the least', 'least-work', 't2'],
    ['the task that holds the fewest units', 'fewest-resources', 't2'],
  ])('chooses %s under %s, from what the nodes published', (_what, policy, task) => {
    expect(onlyVictim(scanClusterDeadlocks(weighed, {}, 2_000, 0, policy))).toMatchObject({ task, policy });
  });

  it.each<['lowest-priority' | 'fewest-resources' | 'youngest', ClusterNodeEdges[]]>([
    // a/t1 now has the lower priority...
    [
      'lowest-priority',
      snapshot({
        a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 1_000, -3)],
        b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 1_300, 1)],
      }),
    ],
    // ...holds fewer units...
    [
      'fewest-resources',
      snapshot({
        a: [holds('a/t1', 'db', 1, 3), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 1_000)],
        b: [holds('b/t2', 'gpu'), holds('b/t2', 'db', 2, 3), requests('b/t2', 'db', 'r2', 2, 3), runs('b/t2', 1_300)],
      }),
    ],
    // ...started last: each policy turns to it.
    [
      'youngest',
      snapshot({
        a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 1_500)],
        b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 1_300)],
      }),
    ],
  ])('turns to the other task under %s when its facts say so', (policy, turned) => {
    expect(onlyVictim(scanClusterDeadlocks(turned, {}, 2_000, 0, policy))).toMatchObject({ node: 'a', task: 't1', request: 'r1', policy });
  });

  it('breaks a tie by age, then by the smaller id, as an engine does', () => {
    const tied = snapshot({
      a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 1_000, 1)],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 1_000, 1)],
    });
    expect(onlyVictim(scanClusterDeadlocks(tied, {}, 2_000, 0, 'lowest-priority'))).toMatchObject({ node: 'a', task: 't1' });
  });

  it('hands a policy function the candidates in cluster ids, sorted, and takes its choice', () => {
    const seen: unknown[] = [];
    const policy = (candidates: readonly { readonly taskId: string }[]): string => {
      seen.push(candidates);
      return 'a/t1';
    };
    expect(onlyVictim(scanClusterDeadlocks(weighed, {}, 2_000, 0, policy))).toMatchObject({ node: 'a', task: 't1', request: 'r1', policy: 'custom' });
    expect(seen).toEqual([
      [
        { taskId: 'a/t1', submittedSeq: 1_000, priority: 5, workMs: 1_000, resourcesHeld: 2 },
        { taskId: 'b/t2', submittedSeq: 1_300, priority: 1, workMs: 700, resourcesHeld: 1 },
      ],
    ]);
  });

  it.each<[string, () => string]>([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['names no candidate', () => 'b/t9'],
  ])('chooses the youngest when the policy function %s, and says so', (_what, policy) => {
    const scan = scanClusterDeadlocks(weighed, {}, 2_000, 0, policy);
    expect(onlyVictim(scan)).toMatchObject({ node: 'b', task: 't2', policy: 'youngest' });
    expect(scan.policyError).toBeDefined();
  });

  it("never chooses an agent's message (a handler's wait), which no executor could fail", () => {
    const withMessage = snapshot({
      a: [holds('a/t1', 'db', 2, 2), requests('a/t1', 'gpu', 'r1')],
      b: [holds('b/@agent:x#1', 'gpu'), requests('b/@agent:x#1', 'db', 'r2', 1, 2)],
    });
    // The message holds fewer units, and would be the victim were it a task.
    expect(onlyVictim(scanClusterDeadlocks(withMessage, {}, 0, 0, 'fewest-resources'))).toMatchObject({ node: 'a', task: 't1', request: 'r1' });
    const messagesOnly = snapshot({
      a: [holds('a/@agent:x#1', 'db'), requests('a/@agent:x#1', 'gpu', 'r1')],
      b: [holds('b/@agent:y#1', 'gpu'), requests('b/@agent:y#1', 'db', 'r2')],
    });
    expect(onlyVictim(scanClusterDeadlocks(messagesOnly, {}, 0, 0))).toBeUndefined();
  });

  describe('several deadlocks in one snapshot', () => {
    /** Two lock-order inversions of their own: a/t1 and b/t2 on db and gpu, c/t3 and d/t4 on disk and net; t2 and t4 started last. */
    const twoInversions = snapshot({
      a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 100)],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 200)],
      c: [holds('c/t3', 'disk'), requests('c/t3', 'net', 'r3'), runs('c/t3', 100)],
      d: [holds('d/t4', 'net'), requests('d/t4', 'disk', 'r4'), runs('d/t4', 200)],
    });

    it('breaks each of them in one scan, with a victim each', () => {
      const { victims } = scanClusterDeadlocks(twoInversions, {}, 1_000, 0);
      expect(victims.map(({ node, task, request, nodes }) => ({ node, task, request, nodes })).sort((x, y) => x.node.localeCompare(y.node))).toEqual([
        { node: 'b', task: 't2', request: 'r2', nodes: ['a', 'b'] },
        { node: 'd', task: 't4', request: 'r4', nodes: ['c', 'd'] },
      ]);
    });

    it('breaks a deadlock across nodes beside one within a node, which it leaves to that node', () => {
      const beside = snapshot({
        a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 100)],
        b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 200)],
        c: [holds('c/t3', 'disk'), requests('c/t3', 'net', 'r3'), holds('c/t4', 'net'), requests('c/t4', 'disk', 'r4')],
      });
      const { candidates, victims } = scanClusterDeadlocks(beside, {}, 1_000, 0);
      expect(Object.keys(candidates).sort()).toEqual(['a/t1', 'b/t2', 'c/t3', 'c/t4']);
      expect(victims).toEqual([expect.objectContaining({ node: 'b', task: 't2' })]);
    });

    /** a/t1 holds db and waits for `wanted` units of gpu, whose two units b/t2 and c/t3 hold, each waiting for db: two cycles through a/t1. */
    const sharedGpu = (wanted: number): ClusterNodeEdges[] =>
      snapshot({
        a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1', wanted, 2), runs('a/t1', 100)],
        b: [holds('b/t2', 'gpu', 1, 2), requests('b/t2', 'db', 'r2'), runs('b/t2', 300)],
        c: [holds('c/t3', 'gpu', 1, 2), requests('c/t3', 'db', 'r3'), runs('c/t3', 200)],
      });

    it('chooses one victim for two cycles that one victim breaks', () => {
      const { candidates, victims } = scanClusterDeadlocks(sharedGpu(1), {}, 1_000, 0);
      expect(Object.keys(candidates).sort()).toEqual(['a/t1', 'b/t2', 'c/t3']);
      // The youngest of the cycle found (b/t2 or c/t3) gives a unit of gpu back: a/t1 finishes, then the other.
      expect(victims).toHaveLength(1);
      expect(['t2', 't3']).toContain(victims[0]!.task);
    });

    it('checks each against Holt’s reduction: a victim leaves the graph before the rest is looked at again', () => {
      // a/t1 needs both units of gpu: one victim's unit is not enough, and the other cycle holds on.
      const { victims } = scanClusterDeadlocks(sharedGpu(2), {}, 1_000, 0);
      expect(victims.map(({ task }) => task).sort()).toEqual(['t2', 't3']);
    });
  });

  describe('awaits of cluster tasks', () => {
    // x of node a holds db and awaits the cluster task J; b runs J as its task y, which waits for db.
    const throughAwait = (xPriority: number, yPriority: number): ClusterNodeEdges[] =>
      snapshot({
        a: [holds('a/x', 'db'), awaitsJob('a/x', 'J', 'w1'), runs('a/x', 1_000, xPriority)],
        b: [requests('b/y', 'db', 'r1'), runsJob('b/y', 'J', 1_200, yPriority)],
      });

    it('follows an await of a cluster task to the task that runs it, and finds the cycle through it', () => {
      const first = scanClusterDeadlocks(throughAwait(5, 0), {}, 2_000, 0, 'lowest-priority');
      expect(Object.keys(first.candidates).sort()).toEqual(['a/x', 'b/y']);
      expect(onlyVictim(first)).toMatchObject({ node: 'b', task: 'y', request: 'r1', nodes: ['a', 'b'], deadlocked: ['a/x', 'b/y'] });
      expect(onlyVictim(first)!.cycle).toEqual(expect.arrayContaining(['a/x', 'b/y', 'db']));
    });

    it('may choose the awaiting task, through the id of its await', () => {
      expect(onlyVictim(scanClusterDeadlocks(throughAwait(-5, 0), {}, 2_000, 0, 'lowest-priority'))).toMatchObject({
        node: 'a',
        task: 'x',
        request: 'w1',
      });
    });

    it('finds nothing when no node publishes the awaited task running (it is queued, or runs unblocked)', () => {
      const unpublished = snapshot({
        a: [holds('a/x', 'db'), awaitsJob('a/x', 'J', 'w1')],
        b: [requests('b/y', 'db', 'r1'), runsJob('b/y', 'K', 1_200)],
      });
      expect(scanClusterDeadlocks(unpublished, {}, 2_000, 0)).toEqual({ candidates: {}, victims: [], inconsistent: false });
    });

    it("resolves a cycle within one node when it goes through an await of a cluster task, which that node's detector cannot follow", () => {
      const oneNode = snapshot({ a: [holds('a/x', 'db'), awaitsJob('a/x', 'J', 'w1'), requests('a/y', 'db', 'r1'), runsJob('a/y', 'J', 1_200)] });
      expect(onlyVictim(scanClusterDeadlocks(oneNode, {}, 2_000, 0))).toMatchObject({ node: 'a', task: 'y', nodes: ['a'] });
      // An await of one of its own tasks it sees whole: that one is left to it.
      const local = snapshot({
        a: [holds('a/x', 'db'), { kind: 'awaits', task: 'a/x', awaited: 'a/y', request: 'w1' }, requests('a/y', 'db', 'r1')],
      });
      const seen = scanClusterDeadlocks(local, {}, 2_000, 0);
      expect(Object.keys(seen.candidates).sort()).toEqual(['a/x', 'a/y']);
      expect(onlyVictim(seen)).toBeUndefined();
    });

    it('follows awaits through the local pools of two nodes, each its own resource (`<pool>@<node>`) though both are named p', () => {
      // x of a holds a's pool p and awaits J; b runs J as y, which holds b's pool p and awaits K;
      // a runs K as z, which waits for a's pool p.
      const throughLocalPools = snapshot({
        a: [holds('a/x', 'p@a'), awaitsJob('a/x', 'J', 'w1'), runs('a/x', 1_000), requests('a/z', 'p@a', 'r1'), runsJob('a/z', 'K', 1_300)],
        b: [holds('b/y', 'p@b'), awaitsJob('b/y', 'K', 'w2'), runsJob('b/y', 'J', 1_200)],
      });
      const victim = onlyVictim(scanClusterDeadlocks(throughLocalPools, {}, 2_000, 0));
      expect(victim).toMatchObject({ node: 'a', task: 'z', request: 'r1', nodes: ['a', 'b'] });
      expect(victim!.cycle).toEqual(expect.arrayContaining(['a/x', 'b/y', 'a/z', 'p@a']));
      expect(victim!.cycle).not.toContain('p@b');
    });

    it('confirms the cycle only once the await, the same wait, has stayed afterMs', () => {
      const first = scanClusterDeadlocks(throughAwait(5, 0), {}, 1_000, 500);
      const awaitedAgain = snapshot({
        a: [holds('a/x', 'db'), awaitsJob('a/x', 'J', 'w2'), runs('a/x', 1_000, 5)],
        b: [requests('b/y', 'db', 'r1'), runsJob('b/y', 'J', 1_200)],
      });
      expect(onlyVictim(scanClusterDeadlocks(awaitedAgain, first.candidates, 1_600, 500))).toBeUndefined();
    });
  });

  it('gives up a snapshot whose holds exceed a capacity (nodes published out of step)', () => {
    const outOfStep = snapshot({ a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1')], b: [holds('b/t2', 'db'), requests('b/t2', 'gpu', 'r2')] });
    const previous: Record<string, DeadlockCandidate> = { 'a/t1': { edges: 'x', since: 0 } };
    expect(scanClusterDeadlocks(outOfStep, previous, 10, 0)).toEqual({ candidates: {}, victims: [], inconsistent: true });
  });

  describe("the cluster's job slots", () => {
    function holdsSlot(task: string): ClusterWaitEdge {
      return { kind: 'holds', task, resource: CLUSTER_SLOTS, units: 1 };
    }

    function slots(capacity: number | undefined, ...queued: string[]): ClusterSlots {
      return { capacity, queued: new Set(queued) };
    }

    /**
     * Two nodes, one slot each: each runs a cluster task (p1 started at 100 with priority `p1`, p2
     * at 200 with `p2`) that holds its slot and awaits a cluster task of its own (c1, c2).
     */
    function starving(p1 = 0, p2 = 0, extra: Record<string, ClusterWaitEdge[]> = {}): ClusterNodeEdges[] {
      return snapshot({
        a: [holdsSlot('a/p1'), awaitsJob('a/p1', 'c1', 'w1'), runsJob('a/p1', 'parent-1', 100, p1)],
        b: [holdsSlot('b/p2'), awaitsJob('b/p2', 'c2', 'w2'), runsJob('b/p2', 'parent-2', 200, p2)],
        ...extra,
      });
    }

    /** The scan at 2_000 of `nodes` seen first at 1_000, with afterMs 500. */
    function confirmed(nodes: ClusterNodeEdges[], seen: ClusterSlots, policy: 'youngest' | 'lowest-priority' = 'youngest'): ClusterDeadlockScan {
      const first = scanClusterDeadlocks(nodes, {}, 1_000, 500, policy, seen);
      return scanClusterDeadlocks(nodes, first.candidates, 2_000, 500, policy, seen);
    }

    it('finds every slot held by a task awaiting a queued task, and fails the await of the youngest', () => {
      const first = scanClusterDeadlocks(starving(), {}, 1_000, 500, 'youngest', slots(2, 'c1', 'c2'));
      expect(first.victims).toEqual([]);
      expect(Object.keys(first.candidates).sort()).toEqual(['@queued:c1', '@queued:c2', 'a/p1', 'b/p2']);
      const second = scanClusterDeadlocks(starving(), first.candidates, 1_500, 500, 'youngest', slots(2, 'c1', 'c2'));
      const victim = onlyVictim(second)!;
      expect(victim).toMatchObject({
        node: 'b',
        task: 'p2',
        request: 'w2',
        deadlocked: ['@queued:c1', '@queued:c2', 'a/p1', 'b/p2'],
        nodes: ['a', 'b'],
        policy: 'youngest',
      });
      expect(victim.cycle).toContain(CLUSTER_SLOTS);
      expect(victim.cycle[0]).toBe(victim.cycle.at(-1));
    });

    it.each([
      [5, 0, 'b/p2'],
      [0, 5, 'a/p1'],
    ])(
      'chooses by policy among every task holding a slot in the deadlock, whichever way round its cycle goes (p1 %p, p2 %p: %s)',
      (p1, p2, expected) => {
        const victim = onlyVictim(confirmed(starving(p1, p2), slots(2, 'c1', 'c2'), 'lowest-priority'))!;
        expect(`${victim.node}/${victim.task}`).toBe(expected);
        expect(victim.request).toBe(expected === 'a/p1' ? 'w1' : 'w2');
        // The cycle reported goes through the victim.
        expect(victim.cycle).toContain(expected);
        expect(victim.nodes).toEqual(['a', 'b']);
      },
    );

    it('finds nothing while a slot is free: a third working node (whether or not it publishes)', () => {
      const scan = confirmed(starving(), slots(3, 'c1', 'c2'));
      expect(scan.victims).toEqual([]);
      expect(scan.candidates).toEqual({});
    });

    it('finds nothing while an awaited task is not queued: delayed for a retry, waiting for its children, or running unblocked', () => {
      // c2 is not among the queued (BullMQ has it delayed): once it runs, p2 ends and gives its slot to c1.
      expect(confirmed(starving(), slots(2, 'c1')).candidates).toEqual({});
      // c2 runs on a node that publishes it (it waits for a pool), however BullMQ's state was read.
      const runningC2 = { c: [requests('c/x', 'db', 'r9'), runsJob('c/x', 'c2', 300)], d: [holds('d/y', 'db')] };
      expect(confirmed(starving(0, 0, runningC2), slots(2, 'c1', 'c2')).candidates).not.toHaveProperty('@queued:c2');
    });

    it('models no queued task when the slots cannot be told: an unknown capacity, none, or fewer than the nodes say they hold', () => {
      for (const seen of [slots(undefined, 'c1', 'c2'), slots(0, 'c1', 'c2'), slots(1, 'c1', 'c2')]) {
        const scan = confirmed(starving(), seen);
        expect(scan).toMatchObject({ victims: [], candidates: {}, inconsistent: false });
      }
    });

    it('resolves a node starving itself: its one slot held by a task that awaits a task queued for it', () => {
      const alone = snapshot({ a: [holdsSlot('a/p1'), awaitsJob('a/p1', 'c1', 'w1'), runsJob('a/p1', 'parent-1', 100)] });
      expect(onlyVictim(confirmed(alone, slots(1, 'c1')))).toMatchObject({ node: 'a', task: 'p1', request: 'w1', nodes: ['a'] });
    });

    it('starts anew with a queued task that left the queue between two scans and came back (a retry): it must stay afterMs again', () => {
      const first = scanClusterDeadlocks(starving(), {}, 1_000, 500, 'youngest', slots(2, 'c1', 'c2'));
      // Between the scans c2 was not queued: the second scan sees no deadlock, and forgets the candidates.
      const between = scanClusterDeadlocks(starving(), first.candidates, 1_200, 500, 'youngest', slots(2, 'c1'));
      expect(between.candidates).toEqual({});
      const again = scanClusterDeadlocks(starving(), between.candidates, 1_600, 500, 'youngest', slots(2, 'c1', 'c2'));
      expect(again.victims).toEqual([]);
    });

    it('finds a deadlock through a slot and a cluster pool: a task awaiting a queued task holds the pool the slot holder waits for', () => {
      // Node s only submits: its task l holds db and awaits c, queued; a's task p runs a cluster task and waits for db.
      const mixed = snapshot({
        a: [holdsSlot('a/p'), requests('a/p', 'db', 'r1'), runsJob('a/p', 'parent', 100)],
        s: [holds('s/l', 'db'), awaitsJob('s/l', 'c', 'w1'), runs('s/l', 200)],
      });
      const victim = onlyVictim(confirmed(mixed, slots(1, 'c')))!;
      expect(victim).toMatchObject({ node: 's', task: 'l', request: 'w1', deadlocked: ['@queued:c', 'a/p', 's/l'], nodes: ['a', 's'] });
      expect(victim.cycle).toEqual(expect.arrayContaining(['db', CLUSTER_SLOTS]));
    });

    it('breaks a starvation with one victim: its slot, once free, lets the rest finish', () => {
      const three = snapshot({
        a: [holdsSlot('a/p1'), awaitsJob('a/p1', 'c1', 'w1'), runsJob('a/p1', 'parent-1', 100)],
        b: [holdsSlot('b/p2'), awaitsJob('b/p2', 'c2', 'w2'), runsJob('b/p2', 'parent-2', 200)],
        c: [holdsSlot('c/p3'), awaitsJob('c/p3', 'c3', 'w3'), runsJob('c/p3', 'parent-3', 300)],
      });
      expect(confirmed(three, slots(3, 'c1', 'c2', 'c3')).victims.map(({ node, task }) => `${node}/${task}`)).toEqual(['c/p3']);
    });
  });
});
