import { unprefixedTask, type ClusterPoolShare, type ClusterView } from '../../cluster/cluster-view';
import type { DashboardDeadlock } from '../dashboard-monitor';
import type { GraphEdgeElement, GraphElements, GraphNodeElement } from './wait-for-graph-elements';
import { MAX_GRAPH_NODES } from './wait-for-graph-elements';

/** The id of a cluster node's box, of a cluster pool, and of a task (`<node>/<task>`, as the nodes publish their tasks). */
const NODE_PREFIX = 'node:';
const POOL_PREFIX = 'pool:';
const TASK_PREFIX = 'task:';

/**
 * The cluster's wait-for graph as the page draws it, with the wait-for graph's own styles: each
 * live node a box (kind `node`) holding its tasks, the cluster pools (kind `resource`) outside
 * them, a pool's holders (`holds`, from its permits) and waiters (`requests`, from the nodes'
 * published waits), and the `awaits` the nodes published. An edge that links two nodes (an await
 * of another node's task, an edge of a pool that tasks of several nodes share) is marked `cross`;
 * a task of a node no longer alive (its permits not yet lapsed) is `stale`, outside any box. The
 * latest deadlock, when it was across nodes, is drawn over it as the engine's graph draws its own:
 * its cycle (`cycle`) and victim (`victim`), taken from the view read before its detection where the
 * live one no longer has them (`stale`). Pure.
 *
 * @param view - the cluster's view
 * @param deadlock - the latest deadlock this node reported, if any
 * @returns the nodes (boxes first, so that Cytoscape.js has a task's box before the task) and edges
 */
export function clusterGraphElements(view: ClusterView, deadlock?: DashboardDeadlock): GraphElements {
  const nodes = new Map<string, GraphNodeElement>();
  const edges = new Map<string, GraphEdgeElement>();
  const alive = new Set(view.nodes.map((member) => member.node));
  const addNode = (node: GraphNodeElement): void => {
    if (!nodes.has(node.data.id) && nodes.size < MAX_GRAPH_NODES) nodes.set(node.data.id, node);
  };
  const addTask = (node: string | undefined, task: string): string => {
    const id = `${TASK_PREFIX}${node === undefined ? task : `${node}/${task}`}`;
    const inBox = node !== undefined && alive.has(node);
    addNode({
      data: { id, kind: 'task', label: task, capacity: undefined, parent: inBox ? `${NODE_PREFIX}${node}` : undefined },
      classes: inBox ? [] : ['stale'],
    });
    return id;
  };
  const addEdge = (source: string, target: string, kind: string, units: number | undefined, cross: boolean): void => {
    if (!nodes.has(source) || !nodes.has(target)) return;
    const id = `${source} -> ${target} : ${kind}`;
    const label = units === undefined || units === 1 ? '' : String(units);
    edges.set(id, { data: { id, source, target, kind, label }, classes: cross ? ['cross'] : [] });
  };
  for (const member of view.nodes) {
    const label = `${member.node}${member.self ? ' (this node)' : ''}`;
    addNode({
      data: { id: `${NODE_PREFIX}${member.node}`, kind: 'node', label, capacity: undefined, parent: undefined },
      classes: member.self ? ['self'] : [],
    });
  }
  for (const pool of view.pools) {
    const id = `${POOL_PREFIX}${pool.name}`;
    addNode({ data: { id, kind: 'resource', label: `${pool.name}\n(${pool.capacity})`, capacity: pool.capacity, parent: undefined }, classes: [] });
    const shares: readonly ClusterPoolShare[] = [...pool.holders, ...pool.waiters];
    const cross = new Set(shares.map((share) => share.node)).size > 1;
    // As in the engine's graph, a hold goes from the pool to its holder, a request from the task to the pool.
    for (const holder of pool.holders) addEdge(id, addTask(holder.node, holder.task), 'holds', holder.units, cross);
    for (const waiter of pool.waiters) addEdge(addTask(waiter.node, waiter.task), id, 'requests', waiter.units, cross);
  }
  for (const edge of view.edges) {
    if (edge.kind !== 'awaits') continue;
    const from = addTask(edge.node, unprefixedTask(edge.node, edge.task));
    const owner = ownerOf(edge.awaited, alive);
    const to = addTask(owner, owner === undefined ? edge.awaited : unprefixedTask(owner, edge.awaited));
    addEdge(from, to, 'awaits', undefined, owner !== edge.node);
  }
  if (deadlock?.nodes !== undefined) markCycle({ nodes, edges }, view, deadlock);
  return { nodes, edges };
}

/** Marks a deadlock across nodes on the cluster graph, adding what the live view lost from the view read before it. */
function markCycle(
  live: { readonly nodes: Map<string, GraphNodeElement>; readonly edges: Map<string, GraphEdgeElement> },
  view: ClusterView,
  deadlock: DashboardDeadlock,
): void {
  const captured = deadlock.cluster === undefined ? undefined : clusterGraphElements(deadlock.cluster);
  const pools = new Set([...view.pools, ...(deadlock.cluster?.pools ?? [])].map((pool) => pool.name));
  // The cycle's ids are the cluster's: pool names, and tasks as `<node>/<task id>`.
  const idOf = (id: string): string => (pools.has(id) ? `${POOL_PREFIX}${id}` : `${TASK_PREFIX}${id}`);
  const mark = (element: { readonly classes: string[] } | undefined, name: string): void => {
    if (element !== undefined && !element.classes.includes(name)) element.classes.push(name);
  };
  for (const id of deadlock.cycle.map(idOf)) {
    const old = captured?.nodes.get(id);
    if (!live.nodes.has(id) && old !== undefined && live.nodes.size < MAX_GRAPH_NODES) {
      const parent = old.data.parent !== undefined && live.nodes.has(old.data.parent) ? old.data.parent : undefined;
      live.nodes.set(id, { data: { ...old.data, parent }, classes: ['stale'] });
    }
    mark(live.nodes.get(id), 'cycle');
  }
  for (let index = 0; index + 1 < deadlock.cycle.length; index++) {
    const [from, to] = [idOf(deadlock.cycle[index]!), idOf(deadlock.cycle[index + 1]!)];
    // The step's own edge: a request from a task to a pool, a hold from a pool to its holder, an await.
    const find = (edges: ReadonlyMap<string, GraphEdgeElement> | undefined): GraphEdgeElement | undefined =>
      [...(edges?.values() ?? [])].find(({ data }) => data.source === from && data.target === to);
    let edge = find(live.edges);
    if (edge === undefined) {
      const old = find(captured?.edges);
      if (old !== undefined && live.nodes.has(old.data.source) && live.nodes.has(old.data.target)) {
        edge = { data: old.data, classes: [...old.classes, 'stale'] };
        live.edges.set(old.data.id, edge);
      }
    }
    mark(edge, 'cycle');
  }
  if (deadlock.victim !== undefined) mark(live.nodes.get(idOf(deadlock.victim)), 'victim');
}

/** The live node whose prefix a published task id has (the longest, as a node's name may hold a `/`). */
function ownerOf(task: string, alive: ReadonlySet<string>): string | undefined {
  let owner: string | undefined;
  for (const node of alive) if (task.startsWith(`${node}/`) && (owner === undefined || node.length > owner.length)) owner = node;
  return owner;
}
