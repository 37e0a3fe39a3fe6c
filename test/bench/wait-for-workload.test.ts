import { BLOCKING_EVENT_KINDS, buildWaitForWorkload, type BlockingEventKind } from '../../bench/wait-for-workload';
import { seededRandom } from '../../src/random';

/** Tasks with a pending request or await, counted from the snapshot. */
function countWaiting(snapshot: ReturnType<ReturnType<typeof buildWaitForWorkload>['graph']['snapshot']>): number {
  const waiting = new Set<string>();
  for (const edge of snapshot.edges) if (edge.kind === 'requests' || edge.kind === 'awaits') waiting.add(edge.from);
  return waiting.size;
}

/** Whether a path of waits (task → requested resource → holder, task → awaited task) leads from `start` back to it. */
function reachesItself(snapshot: ReturnType<ReturnType<typeof buildWaitForWorkload>['graph']['snapshot']>, start: string): boolean {
  const next = new Map<string, string[]>();
  for (const edge of snapshot.edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const seen = new Set<string>();
  const stack = [...(next.get(start) ?? [])];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node === start) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(next.get(node) ?? []));
  }
  return false;
}

describe('buildWaitForWorkload', () => {
  it.each([100, 1_000, 2_345])('builds a graph of exactly %i waiting tasks, none deadlocked', (size) => {
    const workload = buildWaitForWorkload(size, seededRandom(size));
    const snapshot = workload.graph.snapshot();
    expect(workload.waitingTasks).toBe(size);
    expect(countWaiting(snapshot)).toBe(size);
    expect(workload.taskNodes).toBe(snapshot.nodes.filter((node) => node.kind === 'task').length);
    expect(workload.resources).toBe(snapshot.nodes.filter((node) => node.kind === 'resource').length);
    expect(workload.edges).toBe(snapshot.edges.length);
    expect(workload.graph.detect().deadlocked).toEqual([]);
  });

  it('builds the same graph and the same events from the same seed', () => {
    const first = buildWaitForWorkload(500, seededRandom(9));
    const second = buildWaitForWorkload(500, seededRandom(9));
    expect(second.graph.snapshot()).toEqual(first.graph.snapshot());
    for (let i = 0; i < 50; i++) {
      const a = first.next();
      const b = second.next();
      expect([b.kind, b.task]).toEqual([a.kind, a.task]);
      a.undo();
      b.undo();
    }
  });

  it('makes every kind of event, deadlocking exactly when it says so, and undoes each one', () => {
    const workload = buildWaitForWorkload(1_000, seededRandom(4));
    const { graph } = workload;
    const before = graph.snapshot();
    const seen = new Map<BlockingEventKind, number>();
    for (let i = 0; i < 2_000; i++) {
      const event = workload.next();
      seen.set(event.kind, (seen.get(event.kind) ?? 0) + 1);
      expect(event.deadlocks).toBe(event.kind === 'deadlock');
      expect(graph.detectFrom(event.task).deadlocked.length > 0).toBe(event.deadlocks);
      expect(graph.detect().deadlocked.length > 0).toBe(event.deadlocks);
      event.undo();
    }
    expect([...seen.keys()].sort()).toEqual([...BLOCKING_EVENT_KINDS].sort());
    expect(graph.snapshot()).toEqual(before);
  });

  it('closes a cycle in benign-cycle events without a deadlock', () => {
    const workload = buildWaitForWorkload(1_000, seededRandom(5));
    let checked = 0;
    for (let i = 0; i < 500 && checked < 10; i++) {
      const event = workload.next();
      if (event.kind === 'benign-cycle') {
        expect(reachesItself(workload.graph.snapshot(), event.task)).toBe(true);
        expect(workload.graph.detectFrom(event.task).deadlocked).toEqual([]);
        checked++;
      }
      event.undo();
    }
    expect(checked).toBe(10);
  });

  it.each([0, 99, 1_000.5])('refuses %p waiting tasks', (size) => {
    expect(() => buildWaitForWorkload(size, seededRandom(1))).toThrow(RangeError);
  });
});
