import type { DashboardDeadlock, DashboardState } from '../../../src/dashboard/dashboard-monitor';
import { MAX_GRAPH_NODES, waitForGraphElements } from '../../../src/dashboard/client/wait-for-graph-elements';
import { WaitForGraph, type WaitForGraphSnapshot } from '../../../src/detection/wait-for-graph';

/** A state with only what the graph is drawn from. */
function stateWith(graph: WaitForGraphSnapshot, last?: DashboardDeadlock): DashboardState {
  return { graph, deadlocks: { detected: last === undefined ? 0 : 1, resolved: 0, last } } as unknown as DashboardState;
}

/** db (2 units) held whole by t1 and requested by t2; t3 awaits t1. */
function exampleGraph(): WaitForGraph {
  const graph = new WaitForGraph();
  graph.addResource('db', 2);
  graph.setHold('t1', 'db', 2);
  graph.setRequest('t2', 'db', 1);
  graph.addAwait('t3', 't1');
  return graph;
}

const classesOf = (elements: ReadonlyMap<string, { readonly classes: readonly string[] }>): Record<string, string> =>
  Object.fromEntries([...elements].map(([id, element]) => [id, element.classes.join(' ')]));

describe('waitForGraphElements', () => {
  it('labels tasks with their names and resources with their capacity, and units other than one on edges', () => {
    const { nodes, edges } = waitForGraphElements(stateWith(exampleGraph().snapshot()), new Map([['t1', 'report']]));
    expect([...nodes.values()].map((node) => node.data.label)).toEqual(['db\n(2)', 'report\nt1', 't2', 't3']);
    expect([...edges.values()].map((edge) => [edge.data.id, edge.data.label])).toEqual([
      ['db -> t1 : holds', '2'],
      ['t2 -> db : requests', ''],
      ['t3 -> t1 : awaits', ''],
    ]);
  });

  it("draws the latest deadlock's cycle over the live graph: what has left it is stale, a step with no edge is 'ahead', the victim is marked", () => {
    const graph = exampleGraph();
    const detected = graph.snapshot();
    graph.removeTask('t3');
    // Each step's edge is found in either direction; t3 → t2 has none. t3, the victim, has gone since.
    const cycle = ['t2', 'db', 't1', 't3', 't2'];
    const deadlock: DashboardDeadlock = { at: 5, deadlocked: ['t2', 't3'], cycle, graph: detected, resolution: 'victim', victim: 't3' };
    const { nodes, edges } = waitForGraphElements(stateWith(graph.snapshot(), deadlock), new Map());
    expect(classesOf(nodes)).toEqual({ db: 'cycle', t1: 'cycle', t2: 'cycle', t3: 'stale cycle victim' });
    expect(classesOf(edges)).toEqual({
      'db -> t1 : holds': 'cycle',
      't2 -> db : requests': 'cycle',
      't3 -> t1 : awaits': 'stale cycle',
      't3 -> t2 : ahead': 'stale cycle',
    });
  });

  it(`draws at most ${MAX_GRAPH_NODES} nodes, and no edge to one left out`, () => {
    const graph = new WaitForGraph();
    for (let index = 0; index <= MAX_GRAPH_NODES; index++) graph.addAwait(`t${index}`, `t${index + 1}`);
    const { nodes, edges } = waitForGraphElements(stateWith(graph.snapshot()), new Map());
    expect(nodes.size).toBe(MAX_GRAPH_NODES);
    expect(edges.size).toBe(MAX_GRAPH_NODES - 1);
  });

  it('draws agents with their concurrency, their messages by agent and number, ask edges plainly, and a kind it does not know with that kind', () => {
    // solver (concurrency 2) handles message 1; message 2 waits; task t1 asks it (t1 awaits message 2's reply).
    const graph = {
      nodes: [
        { id: '@agent:solver', kind: 'agent', capacity: 2 },
        { id: 't1', kind: 'task' },
        { id: '@agent:solver#1', kind: 'message' },
        { id: '@agent:solver#2', kind: 'message' },
        { id: 'q', kind: 'queue' },
      ],
      edges: [
        { from: '@agent:solver', to: '@agent:solver#1', kind: 'holds', units: 1 },
        { from: '@agent:solver#2', to: '@agent:solver', kind: 'requests', units: 1 },
        { from: 't1', to: '@agent:solver#2', kind: 'asks' },
        { from: 'q', to: 't1', kind: 'feeds' },
        { from: '@agent:solver#1', to: 'q', kind: 'sends', units: 3 },
      ],
    } as unknown as WaitForGraphSnapshot;
    const { nodes, edges } = waitForGraphElements(stateWith(graph), new Map([['t1', 'plan']]));
    expect([...nodes.values()].map((node) => [node.data.kind, node.data.label, node.data.capacity])).toEqual([
      ['agent', 'solver\n(×2)', 2],
      ['task', 'plan\nt1', undefined],
      ['message', '✉ solver#1', undefined],
      ['message', '✉ solver#2', undefined],
      ['queue', 'q\n(queue)', undefined],
    ]);
    expect([...edges.values()].map((edge) => [edge.data.kind, edge.data.label])).toEqual([
      ['holds', ''],
      ['requests', ''],
      ['asks', ''],
      ['feeds', 'feeds'],
      ['sends', 'sends 3'],
    ]);
  });

  it('draws an ask cycle between two agents (each handling a message that asks the other), its victim marked though it left the graph', () => {
    // a handles a#1, which asks b (b#2); b, busy with b#3 which asks a (a#4), cannot take b#2; a cannot take a#4.
    const detected = {
      nodes: [
        { id: '@agent:a', kind: 'agent', capacity: 1 },
        { id: '@agent:b', kind: 'agent', capacity: 1 },
        { id: '@agent:a#1', kind: 'message' },
        { id: '@agent:b#2', kind: 'message' },
        { id: '@agent:b#3', kind: 'message' },
        { id: '@agent:a#4', kind: 'message' },
      ],
      edges: [
        { from: '@agent:a', to: '@agent:a#1', kind: 'holds', units: 1 },
        { from: '@agent:a#4', to: '@agent:a', kind: 'requests', units: 1 },
        { from: '@agent:b', to: '@agent:b#3', kind: 'holds', units: 1 },
        { from: '@agent:b#2', to: '@agent:b', kind: 'requests', units: 1 },
        { from: '@agent:a#1', to: '@agent:b#2', kind: 'asks' },
        { from: '@agent:b#3', to: '@agent:a#4', kind: 'asks' },
      ],
    } as unknown as WaitForGraphSnapshot;
    // The victim, b#3's ask (a#4), was rejected: the live graph has lost a#4 and its edges.
    const live = {
      nodes: detected.nodes.filter((node) => node.id !== '@agent:a#4'),
      edges: detected.edges.filter((edge) => edge.from !== '@agent:a#4' && edge.to !== '@agent:a#4'),
    };
    const cycle = ['@agent:a#1', '@agent:b#2', '@agent:b', '@agent:b#3', '@agent:a#4', '@agent:a', '@agent:a#1'];
    const deadlock: DashboardDeadlock = {
      at: 1,
      deadlocked: ['@agent:a#1', '@agent:b#3'],
      cycle,
      graph: detected,
      resolution: 'victim',
      victim: '@agent:a#4',
    };
    const { nodes, edges } = waitForGraphElements(stateWith(live, deadlock), new Map());
    expect(nodes.get('@agent:a#4')?.data.kind).toBe('message');
    expect(classesOf(nodes)).toEqual({
      '@agent:a': 'cycle',
      '@agent:b': 'cycle',
      '@agent:a#1': 'cycle',
      '@agent:b#2': 'cycle',
      '@agent:b#3': 'cycle',
      '@agent:a#4': 'stale cycle victim',
    });
    expect(classesOf(edges)).toEqual({
      '@agent:a -> @agent:a#1 : holds': 'cycle',
      '@agent:b -> @agent:b#3 : holds': 'cycle',
      '@agent:b#2 -> @agent:b : requests': 'cycle',
      '@agent:a#1 -> @agent:b#2 : asks': 'cycle',
      '@agent:b#3 -> @agent:a#4 : asks': 'stale cycle',
      '@agent:a#4 -> @agent:a : requests': 'stale cycle',
    });
  });

  it('draws a two-way step of a cycle with the edge in its own direction', () => {
    const graph = {
      nodes: [
        { id: 't1', kind: 'task' },
        { id: 't2', kind: 'task' },
      ],
      edges: [
        { from: 't1', to: 't2', kind: 'awaits' },
        { from: 't2', to: 't1', kind: 'asks' },
      ],
    } as unknown as WaitForGraphSnapshot;
    const deadlock: DashboardDeadlock = { at: 1, deadlocked: ['t1', 't2'], cycle: ['t1', 't2', 't1'], graph };
    const { edges } = waitForGraphElements(stateWith(graph, deadlock), new Map());
    expect(classesOf(edges)).toEqual({ 't1 -> t2 : awaits': 'cycle', 't2 -> t1 : asks': 'cycle' });
  });

  it("gives a cycle's node that neither graph has the kind its id says", () => {
    const empty = { nodes: [], edges: [] } as unknown as WaitForGraphSnapshot;
    const deadlock: DashboardDeadlock = { at: 1, deadlocked: [], cycle: ['@agent:z#9', '@agent:z', 't7', '@agent:z#9'], graph: empty };
    const { nodes } = waitForGraphElements(stateWith(empty, deadlock), new Map());
    expect([...nodes.values()].map((node) => [node.data.id, node.data.kind])).toEqual([
      ['@agent:z#9', 'message'],
      ['@agent:z', 'agent'],
      ['t7', 'task'],
    ]);
  });
});
