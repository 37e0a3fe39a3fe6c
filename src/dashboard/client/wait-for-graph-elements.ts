import type { DashboardState } from '../dashboard-monitor';
import type { WaitForEdge, WaitForNode } from '../../detection/wait-for-graph';

/** The most nodes the page draws: a graph larger than that is unreadable and slow to lay out. */
export const MAX_GRAPH_NODES = 400;

/**
 * An edge kind the page draws: the graph's own, `ahead` (a FIFO step of a cycle that has no edge),
 * or a kind this page does not know yet (a newer engine's), drawn plainly with its kind as label.
 */
export type GraphEdgeKind = WaitForEdge['kind'] | 'ahead' | (string & {});

/**
 * A node kind the page draws: the graph's own (`task`, `resource`, `agent`, `message`: a message to
 * an agent, waiting or being handled), or one it does not know, drawn plainly with its kind.
 */
export type GraphNodeKind = WaitForNode['kind'] | 'agent' | 'message' | (string & {});

/** The prefix of an agent's node id (`@agent:<name>`), and of its messages' (`@agent:<name>#<n>`). */
const AGENT_NODE_PREFIX = '@agent:';
/** The end of a message's node id: its delivery number. */
const MESSAGE_SUFFIX = /#[1-9][0-9]*$/;

/** The edge kinds the page styles and labels by units; any other is labelled with its kind. */
const KNOWN_EDGE_KINDS: ReadonlySet<string> = new Set(['holds', 'requests', 'awaits', 'ahead', 'asks']);

/** A node as Cytoscape.js takes it, with the classes that style it. */
export interface GraphNodeElement {
  readonly data: {
    readonly id: string;
    readonly kind: GraphNodeKind;
    readonly label: string;
    readonly capacity: number | undefined;
    /** The box it is drawn in (the cluster graph's nodes hold their tasks), if any. */
    readonly parent?: string | undefined;
  };
  /** `stale` (no longer in the live graph), `cycle`, `victim`; in the cluster graph, `self` (this node's box). */
  readonly classes: string[];
}

/** An edge as Cytoscape.js takes it, with the classes that style it. */
export interface GraphEdgeElement {
  readonly data: { readonly id: string; readonly source: string; readonly target: string; readonly kind: GraphEdgeKind; readonly label: string };
  /** `stale` (no longer in the live graph), `cycle`; in the cluster graph, `cross` (it links two nodes). */
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

/** A node of any kind, as the page reads it: a newer engine's graph may have kinds this page does not know. */
interface NodeLike {
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly capacity?: number;
}

/**
 * The live wait-for graph with the latest deadlock's cycle drawn over it: the cycle's nodes and
 * edges are taken from the graph captured at detection when the live graph no longer has them
 * (they are then `stale`), its victim is marked. Tasks are labelled with their names when the
 * events gave one, resources and agents with their capacity, an agent's messages by agent and
 * number, and a node of a kind the page does not know with that kind. Pure: the page hands the
 * result to Cytoscape.js.
 *
 * @param state - the state to draw
 * @param names - task names by id
 * @returns the nodes and edges, at most {@link MAX_GRAPH_NODES} nodes
 */
export function waitForGraphElements(state: DashboardState, names: ReadonlyMap<string, string>): GraphElements {
  const nodes = new Map<string, GraphNodeElement>();
  const edges = new Map<string, GraphEdgeElement>();
  const addNode = (node: NodeLike, stale: boolean): void => {
    if (nodes.has(node.id) || nodes.size >= MAX_GRAPH_NODES) return;
    const capacity = node.kind === 'resource' || node.kind === 'agent' ? node.capacity : undefined;
    nodes.set(node.id, { data: { id: node.id, kind: node.kind, label: nodeLabel(node, names), capacity }, classes: stale ? ['stale'] : [] });
  };
  const addEdge = (edge: EdgeLike, stale: boolean): GraphEdgeElement | undefined => {
    if (!nodes.has(edge.from) || !nodes.has(edge.to)) return undefined;
    const id = edgeId(edge);
    let drawn = edges.get(id);
    if (drawn === undefined) {
      const units = edge.units !== undefined && edge.units !== 1 ? String(edge.units) : '';
      const label = KNOWN_EDGE_KINDS.has(edge.kind) ? units : units === '' ? edge.kind : `${edge.kind} ${units}`;
      drawn = { data: { id, source: edge.from, target: edge.to, kind: edge.kind, label }, classes: stale ? ['stale'] : [] };
      edges.set(id, drawn);
    }
    return drawn;
  };
  const graph = state.graph as { readonly nodes: readonly NodeLike[]; readonly edges: readonly EdgeLike[] };
  for (const node of graph.nodes) addNode(node, false);
  for (const edge of graph.edges) addEdge(edge, false);
  const deadlock = state.deadlocks.last;
  if (deadlock !== undefined) {
    const capturedGraph = deadlock.graph as { readonly nodes: readonly NodeLike[]; readonly edges: readonly EdgeLike[] };
    const captured = new Map(capturedGraph.nodes.map((node) => [node.id, node]));
    for (const id of deadlock.cycle) {
      if (!nodes.has(id)) addNode(captured.get(id) ?? { id, kind: kindOfId(id) }, true);
      const drawn = nodes.get(id);
      // The cycle is closed: its first node comes again at its end.
      if (drawn !== undefined && !drawn.classes.includes('cycle')) drawn.classes.push('cycle');
    }
    for (let i = 0; i + 1 < deadlock.cycle.length; i++) {
      const [from, to] = [deadlock.cycle[i]!, deadlock.cycle[i + 1]!];
      // The step's own edge, in its direction, else the other way (holds go resource → holder): two
      // agents asking each other have both. A FIFO "ahead" step has none.
      const found =
        capturedGraph.edges.find((edge) => edge.from === from && edge.to === to) ??
        capturedGraph.edges.find((edge) => edge.from === to && edge.to === from);
      const drawn = addEdge(found ?? { from, to, kind: 'ahead' }, found === undefined || !edges.has(edgeId(found)));
      if (drawn !== undefined && !drawn.classes.includes('cycle')) drawn.classes.push('cycle');
    }
    if (deadlock.victim !== undefined) nodes.get(deadlock.victim)?.classes.push('victim');
  }
  return { nodes, edges };
}

/**
 * A task by its name (and id), a resource with its capacity, an agent by its name with its
 * concurrency (`@agent:solver` is `solver (×2)`), a message by its agent and number, any other node
 * with its kind.
 */
function nodeLabel(node: NodeLike, names: ReadonlyMap<string, string>): string {
  switch (node.kind) {
    case 'task': {
      const name = names.get(node.id);
      return name !== undefined && name !== node.id ? `${name}\n${node.id}` : node.id;
    }
    case 'resource':
      return `${node.id}\n(${node.capacity})`;
    case 'agent': {
      const name = node.id.startsWith(AGENT_NODE_PREFIX) ? node.id.slice(AGENT_NODE_PREFIX.length) : node.id;
      return node.capacity === undefined ? name : `${name}\n(×${node.capacity})`;
    }
    case 'message':
      return node.id.startsWith(AGENT_NODE_PREFIX) ? `✉ ${node.id.slice(AGENT_NODE_PREFIX.length)}` : node.id;
    default:
      return `${node.id}\n(${node.kind})`;
  }
}

/** The kind of a node known only by its id (a cycle's node the captured graph lacks). */
function kindOfId(id: string): GraphNodeKind {
  if (!id.startsWith(AGENT_NODE_PREFIX)) return 'task';
  return MESSAGE_SUFFIX.test(id) ? 'message' : 'agent';
}

function edgeId(edge: EdgeLike): string {
  return `${edge.from} -> ${edge.to} : ${edge.kind}`;
}
