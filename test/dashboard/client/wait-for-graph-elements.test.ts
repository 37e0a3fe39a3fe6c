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

  it('draws agents by their id and ask edges plainly, and a node or edge of a kind it does not know with that kind', () => {
    const graph = {
      nodes: [
        { id: 'agent:a', kind: 'agent' },
        { id: 'agent:b', kind: 'agent' },
        { id: 't1', kind: 'task' },
        { id: 'q', kind: 'queue' },
      ],
      edges: [
        { from: 'agent:a', to: 'agent:b', kind: 'asks' },
        { from: 't1', to: 'agent:a', kind: 'asks' },
        { from: 'agent:b', to: 'q', kind: 'sends', units: 3 },
        { from: 'q', to: 't1', kind: 'feeds' },
      ],
    } as unknown as WaitForGraphSnapshot;
    const { nodes, edges } = waitForGraphElements(stateWith(graph), new Map([['t1', 'plan']]));
    expect([...nodes.values()].map((node) => [node.data.kind, node.data.label])).toEqual([
      ['agent', 'agent:a'],
      ['agent', 'agent:b'],
      ['task', 'plan\nt1'],
      ['queue', 'q\n(queue)'],
    ]);
    expect([...edges.values()].map((edge) => [edge.data.kind, edge.data.label])).toEqual([
      ['asks', ''],
      ['asks', ''],
      ['sends', 'sends 3'],
      ['feeds', 'feeds'],
    ]);
  });

  it('draws an ask cycle between agents, its victim marked', () => {
    const graph = {
      nodes: [
        { id: 'agent:a', kind: 'agent' },
        { id: 'agent:b', kind: 'agent' },
      ],
      edges: [
        { from: 'agent:a', to: 'agent:b', kind: 'asks' },
        { from: 'agent:b', to: 'agent:a', kind: 'asks' },
      ],
    } as unknown as WaitForGraphSnapshot;
    const cycle = ['agent:a', 'agent:b', 'agent:a'];
    const deadlock: DashboardDeadlock = { at: 1, deadlocked: ['agent:a', 'agent:b'], cycle, graph, resolution: 'victim', victim: 'agent:b' };
    const { nodes, edges } = waitForGraphElements(stateWith(graph, deadlock), new Map());
    expect(classesOf(nodes)).toEqual({ 'agent:a': 'cycle', 'agent:b': 'cycle victim' });
    expect(classesOf(edges)).toEqual({ 'agent:a -> agent:b : asks': 'cycle', 'agent:b -> agent:a : asks': 'cycle' });
  });
});
