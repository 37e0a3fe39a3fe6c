import { scanClusterDeadlocks, type DeadlockCandidate } from '../../src/cluster/cluster-deadlock-scan';
import type { ClusterNodeEdges, ClusterWaitEdge } from '../../src/cluster/cluster-wait-edges';

// The cluster detector's scan, pure: snapshots as ClusterWaitEdges.snapshot() gives them.

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
    expect(first.victim).toBeUndefined();
    expect(Object.keys(first.candidates).sort()).toEqual(['a/t1', 'b/t2']);
    expect(first.candidates['a/t1']!.since).toBe(1_000);

    const early = scanClusterDeadlocks(inversion, first.candidates, 1_499, 500);
    expect(early.victim).toBeUndefined();
    expect(early.candidates['a/t1']!.since).toBe(1_000);

    const second = scanClusterDeadlocks(inversion, early.candidates, 1_500, 500);
    // The youngest (the default policy, as an engine's) is the victim, through its request for db.
    expect(second.victim).toEqual({
      node: 'b',
      task: 't2',
      request: 'r2',
      cycle: expect.arrayContaining(['a/t1', 'b/t2', 'db', 'gpu']),
      deadlocked: ['a/t1', 'b/t2'],
      nodes: ['a', 'b'],
      policy: 'youngest',
    });
    expect(second.victim!.cycle[0]).toBe(second.victim!.cycle.at(-1));
  });

  it('does not confirm a phantom: a wait that ended before the second snapshot', () => {
    const first = scanClusterDeadlocks(inversion, {}, 1_000, 500);
    // t1 got gpu meanwhile (t2's hold had ended, its node not yet publishing so).
    const later = snapshot({ a: [holds('a/t1', 'db'), holds('a/t1', 'gpu')], b: [requests('b/t2', 'db', 'r2')] });
    const second = scanClusterDeadlocks(later, first.candidates, 2_000, 500);
    expect(second.victim).toBeUndefined();
    expect(second.candidates).toEqual({});
  });

  it('does not confirm a wait that ended and began again with other edges (a new request id) before afterMs', () => {
    const first = scanClusterDeadlocks(inversion, {}, 1_000, 500);
    const again = snapshot({
      a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r3'), runs('a/t1', 100)],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 200)],
    });
    const second = scanClusterDeadlocks(again, first.candidates, 1_600, 500);
    expect(second.victim).toBeUndefined();
    expect(second.candidates['a/t1']!.since).toBe(1_600);
    expect(second.candidates['b/t2']!.since).toBe(1_000);
    expect(scanClusterDeadlocks(again, second.candidates, 2_100, 500).victim).toMatchObject({ node: 'b', task: 't2' });
  });

  it("leaves a deadlock within one node to that node's engine", () => {
    const local = snapshot({ a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), holds('a/t2', 'gpu'), requests('a/t2', 'db', 'r2')] });
    const first = scanClusterDeadlocks(local, {}, 0, 10);
    expect(Object.keys(first.candidates)).toHaveLength(2);
    expect(scanClusterDeadlocks(local, first.candidates, 10, 10).victim).toBeUndefined();
  });

  it('finds nothing where units are free for a waiter (several units), as Holt’s reduction', () => {
    const free = snapshot({
      a: [holds('a/t1', 'db', 1, 2), requests('a/t1', 'gpu', 'r1')],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2', 1, 2)],
    });
    expect(scanClusterDeadlocks(free, {}, 0, 0)).toEqual({ candidates: {}, victim: undefined, inconsistent: false });
  });

  it('chooses the task holding the fewest units as the victim under fewest-resources', () => {
    const uneven = snapshot({
      a: [holds('a/t1', 'db', 2, 2), requests('a/t1', 'gpu', 'r1')],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2', 1, 2)],
      c: [holds('c/t3', 'disk'), holds('c/t3', 'net')],
    });
    const first = scanClusterDeadlocks(uneven, {}, 0, 0, 'fewest-resources');
    expect(first.victim).toMatchObject({ node: 'b', task: 't2', request: 'r2', policy: 'fewest-resources' });
    const heavier = snapshot({
      a: [holds('a/t1', 'db', 1, 2), requests('a/t1', 'gpu', 'r1', 1, 2)],
      b: [holds('b/t2', 'gpu', 2, 2), holds('b/t2', 'db', 1, 2), requests('b/t2', 'db', 'r2', 1, 2)],
    });
    expect(scanClusterDeadlocks(heavier, {}, 0, 0, 'fewest-resources').victim).toMatchObject({ node: 'a', task: 't1', request: 'r1' });
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
    expect(scanClusterDeadlocks(weighed, {}, 2_000, 0, policy).victim).toMatchObject({ task, policy });
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
    expect(scanClusterDeadlocks(turned, {}, 2_000, 0, policy).victim).toMatchObject({ node: 'a', task: 't1', request: 'r1', policy });
  });

  it('breaks a tie by age, then by the smaller id, as an engine does', () => {
    const tied = snapshot({
      a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1'), runs('a/t1', 1_000, 1)],
      b: [holds('b/t2', 'gpu'), requests('b/t2', 'db', 'r2'), runs('b/t2', 1_000, 1)],
    });
    expect(scanClusterDeadlocks(tied, {}, 2_000, 0, 'lowest-priority').victim).toMatchObject({ node: 'a', task: 't1' });
  });

  it('hands a policy function the candidates in cluster ids, sorted, and takes its choice', () => {
    const seen: unknown[] = [];
    const policy = (candidates: readonly { readonly taskId: string }[]): string => {
      seen.push(candidates);
      return 'a/t1';
    };
    expect(scanClusterDeadlocks(weighed, {}, 2_000, 0, policy).victim).toMatchObject({ node: 'a', task: 't1', request: 'r1', policy: 'custom' });
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
    expect(scan.victim).toMatchObject({ node: 'b', task: 't2', policy: 'youngest' });
    expect(scan.policyError).toBeDefined();
  });

  it("never chooses an agent's message (a handler's wait), which no executor could fail", () => {
    const withMessage = snapshot({
      a: [holds('a/t1', 'db', 2, 2), requests('a/t1', 'gpu', 'r1')],
      b: [holds('b/@agent:x#1', 'gpu'), requests('b/@agent:x#1', 'db', 'r2', 1, 2)],
    });
    // The message holds fewer units, and would be the victim were it a task.
    expect(scanClusterDeadlocks(withMessage, {}, 0, 0, 'fewest-resources').victim).toMatchObject({ node: 'a', task: 't1', request: 'r1' });
    const messagesOnly = snapshot({
      a: [holds('a/@agent:x#1', 'db'), requests('a/@agent:x#1', 'gpu', 'r1')],
      b: [holds('b/@agent:y#1', 'gpu'), requests('b/@agent:y#1', 'db', 'r2')],
    });
    expect(scanClusterDeadlocks(messagesOnly, {}, 0, 0).victim).toBeUndefined();
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
      expect(first.victim).toMatchObject({ node: 'b', task: 'y', request: 'r1', nodes: ['a', 'b'], deadlocked: ['a/x', 'b/y'] });
      expect(first.victim!.cycle).toEqual(expect.arrayContaining(['a/x', 'b/y', 'db']));
    });

    it('may choose the awaiting task, through the id of its await', () => {
      expect(scanClusterDeadlocks(throughAwait(-5, 0), {}, 2_000, 0, 'lowest-priority').victim).toMatchObject({
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
      expect(scanClusterDeadlocks(unpublished, {}, 2_000, 0)).toEqual({ candidates: {}, victim: undefined, inconsistent: false });
    });

    it("resolves a cycle within one node when it goes through an await of a cluster task, which that node's detector cannot follow", () => {
      const oneNode = snapshot({ a: [holds('a/x', 'db'), awaitsJob('a/x', 'J', 'w1'), requests('a/y', 'db', 'r1'), runsJob('a/y', 'J', 1_200)] });
      expect(scanClusterDeadlocks(oneNode, {}, 2_000, 0).victim).toMatchObject({ node: 'a', task: 'y', nodes: ['a'] });
      // An await of one of its own tasks it sees whole: that one is left to it.
      const local = snapshot({
        a: [holds('a/x', 'db'), { kind: 'awaits', task: 'a/x', awaited: 'a/y', request: 'w1' }, requests('a/y', 'db', 'r1')],
      });
      const seen = scanClusterDeadlocks(local, {}, 2_000, 0);
      expect(Object.keys(seen.candidates).sort()).toEqual(['a/x', 'a/y']);
      expect(seen.victim).toBeUndefined();
    });

    it('confirms the cycle only once the await, the same wait, has stayed afterMs', () => {
      const first = scanClusterDeadlocks(throughAwait(5, 0), {}, 1_000, 500);
      const awaitedAgain = snapshot({
        a: [holds('a/x', 'db'), awaitsJob('a/x', 'J', 'w2'), runs('a/x', 1_000, 5)],
        b: [requests('b/y', 'db', 'r1'), runsJob('b/y', 'J', 1_200)],
      });
      expect(scanClusterDeadlocks(awaitedAgain, first.candidates, 1_600, 500).victim).toBeUndefined();
    });
  });

  it('gives up a snapshot whose holds exceed a capacity (nodes published out of step)', () => {
    const outOfStep = snapshot({ a: [holds('a/t1', 'db'), requests('a/t1', 'gpu', 'r1')], b: [holds('b/t2', 'db'), requests('b/t2', 'gpu', 'r2')] });
    const previous: Record<string, DeadlockCandidate> = { 'a/t1': { edges: 'x', since: 0 } };
    expect(scanClusterDeadlocks(outOfStep, previous, 10, 0)).toEqual({ candidates: {}, victim: undefined, inconsistent: true });
  });
});
