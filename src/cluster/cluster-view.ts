import type { ClusterNodeEdges, ClusterWaitEdge } from '../../actors/cluster-wait-edges';

/** One of a node's workers, as its membership record last told it. */
export interface ClusterNodeWorker {
  /** `main` (the main thread) or `thread` (the worker threads). */
  readonly id: string;
  /** How many tasks it runs at once. */
  readonly slots: number;
  /** How many it was running. */
  readonly running: number;
  /** `idle`, `busy` or `crashed`. */
  readonly state: string;
}

/** A cluster pool as a node declares it. */
export interface ClusterNodePool {
  readonly name: string;
  /** Its units, cluster-wide. */
  readonly capacity: number;
  /** How long a permit of it lives unrefreshed, as `leaseMs` was given (absent: the default). */
  readonly leaseMs?: number;
}

/**
 * A node's membership record in Redis: who it is, what it runs, and its load at its last
 * heartbeat. It vanishes when the node leaves, or a time to live after the node's last heartbeat.
 */
export interface ClusterMember {
  /** The node's name in the cluster (`cluster.node`). */
  readonly node: string;
  /** The host it runs on, and its process. */
  readonly host: string;
  readonly pid: number;
  /** Its engine's id. */
  readonly engineId: string;
  /** When it joined, and when it last refreshed this record (its clock, epoch milliseconds). */
  readonly startedAt: number;
  readonly heartbeatAt: number;
  /** Its engine's shutdown phase: `running`, `draining`, `terminating`. */
  readonly phase: string;
  /** How many cluster tasks it takes at once (`cluster.concurrency`; `0`: it only submits). */
  readonly concurrency: number;
  /** Its workers: the main thread (`concurrency` slots), the threads once a thread task ran. */
  readonly workers: readonly ClusterNodeWorker[];
  /** The named tasks it defines, and so can run. */
  readonly tasks: readonly string[];
  /** The cluster pools it declares. */
  readonly pools: readonly ClusterNodePool[];
  /** Its engine's tasks running and pending, cluster tasks it runs included. */
  readonly running: number;
  readonly pending: number;
  /**
   * How it chooses the victim of a deadlock across the cluster when it scans: its engine's
   * `deadlock.policy` (`custom` for a function), or `off` when its detection is off.
   */
  readonly deadlockPolicy: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function isWorker(value: unknown): value is ClusterNodeWorker {
  return isObject(value) && isString(value.id) && isCount(value.slots) && isCount(value.running) && isString(value.state);
}

function isPool(value: unknown): value is ClusterNodePool {
  return (
    isObject(value) &&
    isString(value.name) &&
    isCount(value.capacity) &&
    value.capacity > 0 &&
    (value.leaseMs === undefined || (isCount(value.leaseMs) && value.leaseMs > 0))
  );
}

/**
 * A membership record's payload, parsed from JSON, when it has every field of a
 * {@link ClusterMember} this version reads (a record of another version, or anything else written
 * under the cluster's keys, is `undefined`: left out of the view, never a failure of it). Never throws.
 * @internal
 */
export function readClusterMember(value: unknown): ClusterMember | undefined {
  if (!isObject(value)) return undefined;
  const { node, host, pid, engineId, startedAt, heartbeatAt, phase, concurrency, workers, tasks, pools, running, pending, deadlockPolicy } = value;
  const fits =
    isString(node) &&
    node !== '' &&
    isString(host) &&
    isCount(pid) &&
    isString(engineId) &&
    isTime(startedAt) &&
    isTime(heartbeatAt) &&
    isString(phase) &&
    isCount(concurrency) &&
    Array.isArray(workers) &&
    workers.every(isWorker) &&
    Array.isArray(tasks) &&
    tasks.every(isString) &&
    Array.isArray(pools) &&
    pools.every(isPool) &&
    isCount(running) &&
    isCount(pending) &&
    isString(deadlockPolicy);
  return fits ? (value as unknown as ClusterMember) : undefined;
}

/** A cluster task a node is running: a BullMQ job active on it. */
export interface ClusterRunningTask {
  /** The task's id (the job's). */
  readonly id: string;
  readonly name: string;
  /** Its attempt (1, plus a retry or a lost run each). */
  readonly attempt: number;
  /** When the node took it (epoch milliseconds). */
  readonly startedAt: number | undefined;
}

/** A node in {@link ClusterView}: its record, and the cluster tasks it runs now. */
export interface ClusterViewNode extends ClusterMember {
  /** Whether this is the node that read the view. */
  readonly self: boolean;
  /** The cluster tasks active on it (at most {@link MAX_RUNNING_SHOWN} over the cluster). */
  readonly runningTasks: readonly ClusterRunningTask[];
}

/** Units of a cluster pool that a node's task holds or requests. */
export interface ClusterPoolShare {
  readonly node: string;
  /** The task's id on its node (an agent's message: `@agent:<name>#<n>`). */
  readonly task: string;
  readonly units: number;
  /** Whether the node is a live member (a dead node's permits stay until they lapse). */
  readonly alive: boolean;
}

/** A cluster pool in {@link ClusterView}. */
export interface ClusterViewPool {
  readonly name: string;
  /** Its units, as the first node (by name) that declares it has them. */
  readonly capacity: number;
  /** Whether every node that declares it gives the same capacity. */
  readonly agreed: boolean;
  /** The live nodes that declare it. */
  readonly nodes: readonly string[];
  /** Units held cluster-wide: its permits in Redis not lapsed. */
  readonly held: number;
  /** Who holds them, by node and task, from the permits themselves. */
  readonly holders: readonly ClusterPoolShare[];
  /** Who waits for units, by node and task, from the nodes' published wait-for edges. */
  readonly waiters: readonly ClusterPoolShare[];
}

/** A wait-for edge a node published for the cluster's deadlock detector (task ids as published: `<node>/<task>`). */
export type ClusterViewEdge = Exclude<ClusterWaitEdge, { readonly kind: 'runs' }> & {
  /** The node that published it. */
  readonly node: string;
};

/**
 * The cluster as one of its nodes reads it from Redis, on demand (`engine.clusterView()`): the live
 * nodes with their workers and the cluster tasks they run, the cluster pools with their holders and
 * waiters, and the wait-for edges the nodes published for detection across nodes.
 */
export interface ClusterView {
  /** The cluster's name. */
  readonly cluster: string;
  /** The node that read it. */
  readonly node: string;
  /** Redis's time at the read (epoch milliseconds): ages are counted from it. */
  readonly at: number;
  readonly nodes: readonly ClusterViewNode[];
  readonly pools: readonly ClusterViewPool[];
  readonly edges: readonly ClusterViewEdge[];
}

/** The most running cluster tasks a view lists (a busy cluster has thousands). */
export const MAX_RUNNING_SHOWN = 200;

/** A BullMQ job active in the cluster's queue, as read. @internal */
export interface ActiveJob {
  readonly id: string;
  readonly name: string;
  /** The worker's name: the node that runs it. */
  readonly node: string | undefined;
  readonly attempt: number;
  readonly startedAt: number | undefined;
}

/** A pool's permits as read from its sorted set: each one unit, its holder (when readable) and its score (when it was last refreshed). @internal */
export interface PoolPermit {
  readonly holder: { readonly node: string; readonly task: string } | undefined;
  readonly refreshedAt: number;
}

/** What {@link assembleClusterView} is made from: what one read took from Redis. @internal */
export interface ClusterViewParts {
  readonly cluster: string;
  readonly node: string;
  readonly at: number;
  readonly members: readonly ClusterMember[];
  readonly edges: readonly ClusterNodeEdges[];
  /** The permits of each pool a live member declares. */
  readonly permits: ReadonlyMap<string, readonly PoolPermit[]>;
  readonly active: readonly ActiveJob[];
  /** A pool's `leaseMs` when its node gave none. */
  readonly defaultLeaseMs: number;
}

/**
 * Puts together a {@link ClusterView} from what one read took from Redis. A permit older than its
 * pool's `leaseMs` has lapsed (its node died or stalled) and is not counted, though Redis still
 * has it until the next acquire removes it. Pure.
 *
 * @internal
 */
export function assembleClusterView(parts: ClusterViewParts): ClusterView {
  const alive = new Set(parts.members.map((member) => member.node));
  const running = new Map<string, ClusterRunningTask[]>();
  for (const job of parts.active) {
    if (job.node === undefined) continue;
    const list = running.get(job.node) ?? [];
    list.push({ id: job.id, name: job.name, attempt: job.attempt, startedAt: job.startedAt });
    running.set(job.node, list);
  }
  const nodes = parts.members.map((member) => ({ ...member, self: member.node === parts.node, runningTasks: running.get(member.node) ?? [] }));
  const waiters = new Map<string, ClusterPoolShare[]>();
  const edges: ClusterViewEdge[] = [];
  for (const { node, edges: published } of parts.edges) {
    for (const edge of published) {
      // What a victim policy weighs of a task is no wait.
      if (edge.kind === 'runs') continue;
      edges.push({ ...edge, node });
      if (edge.kind !== 'requests') continue;
      const list = waiters.get(edge.resource) ?? [];
      list.push({ node, task: unprefixedTask(node, edge.task), units: edge.units, alive: alive.has(node) });
      waiters.set(edge.resource, list);
    }
  }
  const pools: ClusterViewPool[] = [];
  for (const [name, declared] of declarations(parts.members)) {
    const { capacity, leaseMs = parts.defaultLeaseMs } = declared[0]!.pool;
    const holders = holdersOf(parts.permits.get(name) ?? [], parts.at - leaseMs, alive);
    pools.push({
      name,
      capacity,
      agreed: declared.every(({ pool }) => pool.capacity === capacity),
      nodes: declared.map(({ node }) => node),
      held: holders.reduce((sum, holder) => sum + holder.units, 0),
      holders,
      waiters: waiters.get(name) ?? [],
    });
  }
  return { cluster: parts.cluster, node: parts.node, at: parts.at, nodes, pools, edges };
}

/** Each pool the members declare, with who declares it, in the members' order; pools by name. */
function declarations(members: readonly ClusterMember[]): Map<string, Array<{ node: string; pool: ClusterNodePool }>> {
  const byPool = new Map<string, Array<{ node: string; pool: ClusterNodePool }>>();
  for (const member of members) {
    for (const pool of member.pools) {
      const list = byPool.get(pool.name) ?? [];
      list.push({ node: member.node, pool });
      byPool.set(pool.name, list);
    }
  }
  return new Map([...byPool].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The permits refreshed since `since`, as units by node and task, in node then task order. */
function holdersOf(permits: readonly PoolPermit[], since: number, alive: ReadonlySet<string>): ClusterPoolShare[] {
  const units = new Map<string, { node: string; task: string; units: number }>();
  for (const { holder, refreshedAt } of permits) {
    if (refreshedAt < since) continue;
    const { node, task } = holder ?? { node: '?', task: '?' };
    const key = JSON.stringify([node, task]);
    const share = units.get(key);
    if (share === undefined) units.set(key, { node, task, units: 1 });
    else share.units++;
  }
  return [...units.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, share]) => ({ ...share, alive: alive.has(share.node) }));
}

/**
 * A published task id without its node's prefix (`<node>/<task>` is how a node publishes its tasks).
 * @internal
 */
export function unprefixedTask(node: string, task: string): string {
  return task.startsWith(`${node}/`) ? task.slice(node.length + 1) : task;
}
