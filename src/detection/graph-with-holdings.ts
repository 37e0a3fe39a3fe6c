import type { PoolHolding } from '../../actors/pool.actor';
import type { WaitForEdge, WaitForGraphSnapshot, WaitForNode } from './wait-for-graph';

/** One pool as its latest snapshot shows it. @internal */
export interface PoolView {
  readonly name: string;
  readonly capacity: number;
  readonly holdings: readonly PoolHolding[];
}

/**
 * The whole wait-for graph: the detector's (waits, awaits, worker slots, and the holders of pools
 * where requests wait) with each pool's capacity and holders taken from the pool itself, which is
 * their one source of truth (the detector hears of an uncontended pool's holders only once requests
 * wait there). Same order as {@link WaitForGraph.snapshot}: resources, then tasks; for each resource
 * its `holds` edges, then its `requests` edges, then the `awaits` edges.
 *
 * @internal
 */
export function graphWithHoldings(detected: WaitForGraphSnapshot, pools: Iterable<PoolView>): WaitForGraphSnapshot {
  const byName = new Map<string, PoolView>();
  for (const pool of pools) byName.set(pool.name, pool);
  const nodes: WaitForNode[] = [];
  const taskIds = new Set<string>();
  const holderIds: string[] = [];
  for (const node of detected.nodes) {
    if (node.kind === 'task' || node.kind === 'message') {
      taskIds.add(node.id);
      continue;
    }
    const pool = byName.get(node.id);
    nodes.push(pool === undefined || node.kind !== 'resource' ? node : { id: node.id, kind: 'resource', capacity: pool.capacity });
  }
  const edges: WaitForEdge[] = [];
  const resourceEdges = new Map<string, WaitForEdge[]>();
  const awaits: WaitForEdge[] = [];
  for (const edge of detected.edges) {
    if (edge.kind === 'awaits' || edge.kind === 'asks') awaits.push(edge);
    else {
      const resource = edge.kind === 'holds' ? edge.from : edge.to;
      // A pool's holders come from the pool itself.
      if (edge.kind === 'holds' && byName.has(resource)) continue;
      let list = resourceEdges.get(resource);
      if (list === undefined) resourceEdges.set(resource, (list = []));
      list.push(edge);
    }
  }
  for (const node of nodes) {
    const pool = byName.get(node.id);
    if (pool !== undefined) {
      for (const { taskId, units } of pool.holdings) {
        edges.push({ from: node.id, to: taskId, kind: 'holds', units });
        if (!taskIds.has(taskId)) {
          taskIds.add(taskId);
          holderIds.push(taskId);
        }
      }
    }
    for (const edge of resourceEdges.get(node.id) ?? []) edges.push(edge);
  }
  edges.push(...awaits);
  for (const node of detected.nodes) if (node.kind === 'task' || node.kind === 'message') nodes.push(node);
  for (const id of holderIds) nodes.push({ id, kind: 'task' });
  return { nodes, edges };
}
