import type { DashboardState } from '../dashboard-monitor';
import type { WaitForEdge, WaitForNode } from '../../detection/wait-for-graph';

/** The most nodes the page draws: a graph larger than that is unreadable and slow to lay out. */
export const MAX_GRAPH_NODES = 400;

/** An edge kind the page draws: the graph's own, or `ahead`, a FIFO step of a cycle that has no edge. */
export type GraphEdgeKind = WaitForEdge['kind'] | 'ahead';

/** A node as Cytoscape.js takes it, with the classes that style it. */
export interface GraphNodeElement {
  readonly data: { readonly id: string; readonly kind: WaitForNode['kind']; readonly label: string; readonly capacity: number | undefined };
  /** `stale` (no longer in the live graph), `cycle`, `victim`. */
  readonly classes: string[];
}

/** An edge as Cytoscape.js takes it, with the classes that style it. */
export interface GraphEdgeElement {
  readonly data: { readonly id: string; readonly source: string; readonly target: string; readonly kind: GraphEdgeKind; readonly label: string };
  /** `stale` (no longer in the live graph), `cycle`. */
  readonly classes: string[];
}

/** What the page draws of the wait-for graph, by element id. */
export interface GraphElements {
  readonly nodes: ReadonlyMap<string, GraphNodeElement>;
  readonly edges: ReadonlyMap<string, GraphEdgeElement>;
}

interface EdgeLike {
  readonly from: string;
  readonly to: string;
  readonly kind: GraphEdgeKind;
  readonly units?: number;
}

/**
 * The live wait-for graph with the latest deadlock's cycle drawn over it: the cycle's nodes and
 * edges are taken from the graph captured at detection when the live graph no longer has them
 * (they are then `stale`), its victim is marked. Tasks are labelled with their names when the
 * events gave one. Pure: the page hands the result to Cytoscape.js.
 *
 * @param state - the state to draw
 * @param names - task names by id
 * @returns the nodes and edges, at most {@link MAX_GRAPH_NODES} nodes
 */
export function waitForGraphElements(state: DashboardState, names: ReadonlyMap<string, string>): GraphElements {
  const nodes = new Map<string, GraphNodeElement>();
  const edges = new Map<string, GraphEdgeElement>();
  const addNode = (node: WaitForNode, stale: boolean): void => {
    if (nodes.has(node.id) || nodes.size >= MAX_GRAPH_NODES) return;
    const name = names.get(node.id);
    const capacity = node.kind === 'resource' ? node.capacity : undefined;
    const label = node.kind === 'resource' ? `${node.id}\n(${capacity})` : name !== undefined && name !== node.id ? `${name}\n${node.id}` : node.id;
    nodes.set(node.id, { data: { id: node.id, kind: node.kind, label, capacity }, classes: stale ? ['stale'] : [] });
  };
  const addEdge = (edge: EdgeLike, stale: boolean): GraphEdgeElement | undefined => {
    if (!nodes.has(edge.from) || !nodes.has(edge.to)) return undefined;
    const id = edgeId(edge);
    let drawn = edges.get(id);
    if (drawn === undefined) {
      const label = edge.units !== undefined && edge.units !== 1 ? String(edge.units) : '';
      drawn = { data: { id, source: edge.from, target: edge.to, kind: edge.kind, label }, classes: stale ? ['stale'] : [] };
      edges.set(id, drawn);
    }
    return drawn;
  };
  for (const node of state.graph.nodes) addNode(node, false);
  for (const edge of state.graph.edges) addEdge(edge, false);
  const deadlock = state.deadlocks.last;
  if (deadlock !== undefined) {
    const captured = new Map(deadlock.graph.nodes.map((node) => [node.id, node]));
    for (const id of deadlock.cycle) {
      if (!nodes.has(id)) addNode(captured.get(id) ?? { id, kind: 'task' }, true);
      const drawn = nodes.get(id);
      // The cycle is closed: its first node comes again at its end.
      if (drawn !== undefined && !drawn.classes.includes('cycle')) drawn.classes.push('cycle');
    }
    for (let i = 0; i + 1 < deadlock.cycle.length; i++) {
      const [from, to] = [deadlock.cycle[i]!, deadlock.cycle[i + 1]!];
      // The step's own edge, in either direction (holds go resource → holder); a FIFO "ahead" step has none.
      const found = deadlock.graph.edges.find((edge) => (edge.from === from && edge.to === to) || (edge.from === to && edge.to === from));
      const drawn = addEdge(found ?? { from, to, kind: 'ahead' }, found === undefined || !edges.has(edgeId(found)));
      if (drawn !== undefined && !drawn.classes.includes('cycle')) drawn.classes.push('cycle');
    }
    if (deadlock.victim !== undefined) nodes.get(deadlock.victim)?.classes.push('victim');
  }
  return { nodes, edges };
}

function edgeId(edge: EdgeLike): string {
  return `${edge.from} -> ${edge.to} : ${edge.kind}`;
}
