/**
 * The resource that stands for the cluster's job slots in the cluster's wait-for graph: as many
 * units as the live working nodes take jobs at once (each node's `cluster.concurrency`, summed),
 * bounded by `cluster.globalConcurrency` when Redis has one. A node's task that runs a cluster job
 * and waits holds one; a cluster task that someone awaits and that is queued in BullMQ requests one.
 * @internal
 */
export const CLUSTER_SLOTS = '@cluster-slots';

/**
 * The cluster's job slots as a scan reads them, at one instant of Redis.
 * @internal
 */
export interface ClusterSlots {
  /**
   * The units of {@link CLUSTER_SLOTS}; `undefined` when they cannot be told (a membership record
   * this version cannot read), and then no queued task is in the graph.
   */
  readonly capacity: number | undefined;
  /** The awaited cluster tasks (their jobs' ids) that are queued: waiting or prioritized in BullMQ, not delayed, not waiting for children. */
  readonly queued: ReadonlySet<string>;
}

/** No slots known: a scan without them models no queued task. @internal */
export const NO_CLUSTER_SLOTS: ClusterSlots = Object.freeze({ capacity: undefined, queued: new Set<string>() });

/**
 * The node of the wait-for graph that stands for the queued cluster task `jobId`: it requests one of
 * the {@link CLUSTER_SLOTS}. Ids starting with `@` are no pool's, no engine's task's and no
 * `<node>/<task>` of a node not named so.
 * @internal
 */
export function queuedTaskNode(jobId: string): string {
  return `@queued:${jobId}`;
}

/**
 * How many jobs the cluster's nodes may run at once: the sum of their `concurrency` (a node that only
 * submits has 0), at most `globalConcurrency`. Every live node counts, whether or not it publishes
 * its waits: more units than the nodes really have free can only hide a deadlock, never make one.
 * @param concurrencies - each live node's, `undefined` for a node whose record could not be read
 * @param globalConcurrency - the queue's global concurrency in Redis, if set
 * @returns `undefined` when one of them is unknown
 * @internal
 */
export function clusterSlotCapacity(concurrencies: readonly (number | undefined)[], globalConcurrency: number | undefined): number | undefined {
  let capacity = 0;
  for (const concurrency of concurrencies) {
    if (concurrency === undefined || !Number.isInteger(concurrency) || concurrency < 0) return undefined;
    capacity += concurrency;
  }
  if (globalConcurrency !== undefined && !(globalConcurrency >= 0)) return undefined;
  return globalConcurrency === undefined ? capacity : Math.min(capacity, globalConcurrency);
}
