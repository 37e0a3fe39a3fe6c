import { parseMessageNodeId } from '../detection/agent-nodes';
import { chooseVictim, type DeadlockCandidate as PolicyCandidate, type DeadlockPolicy } from '../detection/deadlock-policy';
import { WaitForGraph, type DeadlockAnalysis } from '../detection/wait-for-graph';
import type { ClusterNodeEdges, ClusterWaitEdge } from '../../actors/cluster-wait-edges';
import { CLUSTER_SLOTS, NO_CLUSTER_SLOTS, queuedTaskNode, type ClusterSlots } from './cluster-slots';

/**
 * A deadlocked task as one scan saw it: its edges (their JSON, sorted) and since when, in Redis's
 * time, it has had exactly those. The detector keeps the last scan's in Redis.
 * @internal
 */
export interface DeadlockCandidate {
  readonly edges: string;
  readonly since: number;
}

/**
 * The candidates the last scan kept, from their JSON as stored: those that do not fit (the record
 * of another version, or anything else written there) left out, so they are candidates anew. Never throws.
 * @internal
 */
export function readDeadlockCandidates(text: string | null): Record<string, DeadlockCandidate> {
  const candidates: Record<string, DeadlockCandidate> = Object.create(null) as Record<string, DeadlockCandidate>;
  if (text === null) return candidates;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return candidates;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return candidates;
  for (const [id, candidate] of Object.entries(value as Record<string, unknown>)) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const { edges, since } = candidate as Record<string, unknown>;
    if (typeof edges === 'string' && typeof since === 'number' && Number.isFinite(since)) candidates[id] = { edges, since };
  }
  return candidates;
}

/**
 * The victim a scan chose: the task `task` of node `node` (its own id there), whose request
 * `request` fails with `E_DEADLOCK`.
 * @internal
 */
export interface ClusterDeadlockVictim {
  readonly node: string;
  readonly task: string;
  readonly request: string;
  /** The cycle, in cluster ids (`<node>/<task>` and pool names). */
  readonly cycle: readonly string[];
  /** The deadlocked tasks, in cluster ids. */
  readonly deadlocked: readonly string[];
  /** The nodes whose tasks are on the cycle, sorted. */
  readonly nodes: readonly string[];
  /** The rule that chose the victim. */
  readonly policy: string;
}

/** What {@link scanClusterDeadlocks} found. @internal */
export interface ClusterDeadlockScan {
  /** The candidates to keep for the next scan: every task deadlocked in this one. */
  readonly candidates: Readonly<Record<string, DeadlockCandidate>>;
  /**
   * The victims of the deadlocks confirmed across nodes, one per deadlock, in the order they were
   * found: each found once the victims before it are out of the graph (their waits failed, their
   * units given back). Empty when there is none.
   */
  readonly victims: readonly ClusterDeadlockVictim[];
  /** Set when the snapshot could not be a graph (holds over a pool's capacity: nodes published at different moments). */
  readonly inconsistent: boolean;
  /** What the victim policy threw (a function that failed, or named no candidate): the youngest was chosen instead. */
  readonly policyError?: unknown;
}

/**
 * One task of the snapshot: its node, its id there, its edges. A queued cluster task
 * (`@queued:<job id>`) has no node: its one edge, a request for one of the cluster's job slots, is
 * the scan's, and it has no wait a node could fail.
 */
interface ScannedTask {
  readonly node: string | undefined;
  readonly local: string;
  readonly edges: ClusterWaitEdge[];
}

/**
 * The snapshot's tasks by cluster id, which task runs each cluster task (by its job's id) that a
 * node published the running attempt of, and the capacity of the cluster's job slots when they are
 * in the graph (`undefined` when they are not: see {@link tasksOf}).
 */
interface ScannedGraph {
  readonly tasks: Map<string, ScannedTask>;
  readonly jobs: Map<string, string>;
  readonly slots: number | undefined;
}

/**
 * The snapshot's tasks. The cluster's job slots are in the graph only when their capacity is known
 * and the slots the nodes say their tasks hold fit in it; otherwise (a node's record unreadable, or
 * records and edges out of step) no queued task is, and no deadlock is found through them: what
 * cannot be told errs towards "not deadlocked". Each awaited cluster task that BullMQ has queued
 * and no node runs is a task of its own, `@queued:<job id>`, that requests one slot.
 */
function tasksOf(nodes: readonly ClusterNodeEdges[], slots: ClusterSlots): ScannedGraph {
  const tasks = new Map<string, ScannedTask>();
  const jobs = new Map<string, string>();
  let slotsHeld = 0;
  for (const { node, edges } of nodes) {
    for (const edge of edges) {
      let task = tasks.get(edge.task);
      if (task === undefined) {
        // A task's cluster id is `<node>/<its id there>`, as its node published it.
        const local = edge.task.startsWith(`${node}/`) ? edge.task.slice(node.length + 1) : edge.task;
        tasks.set(edge.task, (task = { node, local, edges: [] }));
      }
      task.edges.push(edge);
      if (edge.kind === 'runs' && edge.job !== undefined) jobs.set(edge.job, edge.task);
      if (edge.kind === 'holds' && edge.resource === CLUSTER_SLOTS) slotsHeld += edge.units;
    }
  }
  // No slot at all (no node works): a queued task waits for a node to join, not for a task.
  const capacity = slots.capacity !== undefined && slots.capacity > 0 && slotsHeld <= slots.capacity ? slots.capacity : undefined;
  if (capacity === undefined) return { tasks, jobs, slots: undefined };
  for (const job of slots.queued) {
    // A job a node published the running attempt of is running, whatever BullMQ said an instant before.
    if (jobs.has(job)) continue;
    const id = queuedTaskNode(job);
    tasks.set(id, { node: undefined, local: job, edges: [{ kind: 'requests', task: id, resource: CLUSTER_SLOTS, units: 1 }] });
  }
  return { tasks, jobs, slots: capacity };
}

/** The task an await waits for, by its cluster id: `undefined` when no node published it and it is not queued (a task that waits for nothing published can finish). */
function awaitedBy(edge: Extract<ClusterWaitEdge, { kind: 'awaits' }>, { tasks, jobs }: ScannedGraph): string | undefined {
  const awaited = edge.job === true ? (jobs.get(edge.awaited) ?? queuedTaskNode(edge.awaited)) : edge.awaited;
  return tasks.has(awaited) ? awaited : undefined;
}

/**
 * The graph of the tasks' holds, requests and awaits (of tasks `include` keeps, awaits only between
 * two of them). A pool's capacity is the largest its nodes published; the cluster's job slots' is
 * the scan's. A queued cluster task is in it only while a task it keeps awaits it: one that nobody
 * awaits holds nothing and blocks nobody, so whether it ever gets a slot changes no other task's
 * fate (were every slot kept by deadlocked tasks, their deadlock is found without it), and the
 * reduction finds the same deadlocks without it; the scan need not read the whole queue.
 * A pool's requests are queued smallest first: between nodes no queue orders them (any node's
 * request that fits may be granted), and smallest first blocks none that could be granted, so the
 * reduction finds no deadlock the nodes' own FIFO queues do not make (it may miss one that only
 * those queues make, with requests of several units). The slots' requests are of one unit each,
 * which no order can block.
 */
function graphOf(scanned: ScannedGraph, include: (id: string) => boolean): WaitForGraph {
  const capacities = new Map<string, number>();
  const requests: { task: string; resource: string; units: number }[] = [];
  const holds: { task: string; resource: string; units: number }[] = [];
  const awaits: { task: string; awaited: string }[] = [];
  for (const [id, task] of scanned.tasks) {
    if (!include(id)) continue;
    for (const edge of task.edges) {
      if (edge.kind !== 'awaits') continue;
      const awaited = awaitedBy(edge, scanned);
      if (awaited !== undefined && awaited !== id && include(awaited)) awaits.push({ task: id, awaited });
    }
  }
  const awaitedQueued = new Set(awaits.filter(({ awaited }) => scanned.tasks.get(awaited)!.node === undefined).map(({ awaited }) => awaited));
  for (const [id, task] of scanned.tasks) {
    for (const edge of task.edges) {
      if (edge.kind !== 'holds' && edge.kind !== 'requests') continue;
      if (edge.resource === CLUSTER_SLOTS) {
        if (scanned.slots === undefined) continue;
      } else capacities.set(edge.resource, Math.max(capacities.get(edge.resource) ?? 0, edge.capacity ?? edge.units));
      if (!include(id) || (task.node === undefined && !awaitedQueued.has(id))) continue;
      (edge.kind === 'holds' ? holds : requests).push({ task: id, resource: edge.resource, units: edge.units });
    }
  }
  const graph = new WaitForGraph();
  if (scanned.slots !== undefined) graph.addResource(CLUSTER_SLOTS, scanned.slots);
  for (const [resource, capacity] of capacities) graph.addResource(resource, capacity);
  for (const { task, resource, units } of holds) graph.setHold(task, resource, units);
  requests.sort((a, b) => a.units - b.units);
  for (const { task, resource, units } of requests) graph.setRequest(task, resource, units);
  for (const { task, awaited } of awaits) graph.addAwait(task, awaited);
  return graph;
}

/**
 * The wait by which `task` leaves the cycle for `next`: its request for units of the pool `next`,
 * or its await of the task `next`; `undefined` when it has none with an id.
 */
function waitOn(task: ScannedTask, next: string, scanned: ScannedGraph): Exclude<ClusterWaitEdge, { kind: 'runs' }> | undefined {
  for (const edge of task.edges) {
    if (edge.kind === 'requests' && edge.resource === next && edge.request !== undefined) return edge;
    if (edge.kind === 'awaits' && edge.request !== undefined && awaitedBy(edge, scanned) === next) return edge;
  }
  return undefined;
}

/**
 * Whether the cluster's detector is the one to resolve `cycle`: it spans two nodes or more, or goes
 * through an await of a cluster task (which the awaiting node's own detector cannot follow, even to
 * a task of its own node). Any other is its node's engine's, whose detector sees it whole.
 */
function needsTheCluster(cycle: readonly string[], scanned: ScannedGraph): boolean {
  if (nodesOf(cycle, scanned.tasks).length > 1) return true;
  for (let index = 0; index < cycle.length - 1; index++) {
    const task = scanned.tasks.get(cycle[index]!);
    const wait = task === undefined ? undefined : waitOn(task, cycle[index + 1]!, scanned);
    if (wait?.kind === 'awaits' && wait.job === true) return true;
  }
  return false;
}

function edgesKey(task: ScannedTask): string {
  return task.edges
    .map((edge) => JSON.stringify(edge))
    .sort()
    .join('\n');
}

/** The nodes whose tasks are on `cycle`, sorted. */
function nodesOf(cycle: readonly string[], tasks: ReadonlyMap<string, ScannedTask>): string[] {
  const nodes = new Set<string>();
  for (const id of cycle) {
    const node = tasks.get(id)?.node;
    if (node !== undefined) nodes.add(node);
  }
  return [...nodes].sort();
}

/** Units a task holds in the snapshot, over every pool (its job slot aside, as an engine leaves out its worker slot). */
function unitsHeld(task: ScannedTask): number {
  let units = 0;
  for (const edge of task.edges) if (edge.kind === 'holds' && edge.resource !== CLUSTER_SLOTS) units += edge.units;
  return units;
}

/** What the victim policy weighs of a task of the snapshot, from its `runs` edge (a task without one weighs as the oldest, of priority 0, that has done no work). */
function candidateOf(id: string, task: ScannedTask, now: number): PolicyCandidate {
  const runs = task.edges.find((edge) => edge.kind === 'runs');
  const startedAt = runs?.kind === 'runs' ? runs.startedAt : Number.NEGATIVE_INFINITY;
  return {
    taskId: id,
    // Across nodes there is no submission order: a task's age is its attempt's.
    submittedSeq: startedAt,
    priority: runs?.kind === 'runs' ? runs.priority : 0,
    workMs: runs?.kind === 'runs' ? Math.max(0, now - startedAt) : 0,
    resourcesHeld: unitsHeld(task),
  };
}

/** Whether a node could fail a wait of `task`: a queued cluster task has none, and an agent's message waiting in a handler is no task its node's executor could fail. */
function canFail(task: ScannedTask): boolean {
  return task.node !== undefined && parseMessageNodeId(task.local) === undefined;
}

/** The id of a wait that keeps `task` deadlocked: an await of a deadlocked task, else a request (every published request is pending). */
function blockingWait(task: ScannedTask, deadlocked: ReadonlySet<string>, scanned: ScannedGraph): string | undefined {
  for (const edge of task.edges) {
    if (edge.kind !== 'awaits' || edge.request === undefined) continue;
    const awaited = awaitedBy(edge, scanned);
    if (awaited !== undefined && deadlocked.has(awaited)) return edge.request;
  }
  for (const edge of task.edges) if (edge.kind === 'requests' && edge.request !== undefined) return edge.request;
  return undefined;
}

/**
 * The waits a victim's node could fail to break a confirmed deadlock, by task: each task of the
 * cycle with a wait on it (the request or await the cycle leaves it by). Through the cluster's job
 * slots a cycle is one way round among many (a queued task may take the slot of any task that
 * holds one), so there each deadlocked task on a cycle of the wait-for relation (`isOnCycle`, as
 * an engine's detector asks of its worker slots' deadlocks) is a candidate too, by the wait that
 * keeps it: failing any of them frees what it holds (its slot among others) into the deadlock.
 */
function waitsToFail(analysis: DeadlockAnalysis, scanned: ScannedGraph, graph: WaitForGraph): Map<string, string> {
  const { cycle } = analysis;
  const waits = new Map<string, string>();
  for (let index = 0; index < cycle.length - 1; index++) {
    const id = cycle[index]!;
    const task = scanned.tasks.get(id);
    if (task === undefined || waits.has(id) || !canFail(task)) continue;
    const wait = waitOn(task, cycle[index + 1]!, scanned);
    if (wait?.request !== undefined) waits.set(id, wait.request);
  }
  if (!cycle.includes(CLUSTER_SLOTS)) return waits;
  const deadlocked = new Set(analysis.deadlocked);
  for (const id of analysis.deadlocked) {
    const task = scanned.tasks.get(id);
    if (task === undefined || waits.has(id) || !canFail(task) || !graph.isOnCycle(id)) continue;
    const wait = blockingWait(task, deadlocked, scanned);
    if (wait !== undefined) waits.set(id, wait);
  }
  return waits;
}

/**
 * The victim of a confirmed deadlock, chosen by `policy` among the tasks whose wait a node could
 * fail ({@link waitsToFail}), as an engine's detector chooses: every scan of the same edges names
 * the same one. An agent's message (a handler's wait, `@agent:<name>#<n>`) is never a candidate: a
 * cycle of messages alone gets no victim here; nor is a queued cluster task.
 */
function victimOf(
  analysis: DeadlockAnalysis,
  scanned: ScannedGraph,
  graph: WaitForGraph,
  now: number,
  policy: DeadlockPolicy,
): { id?: string; victim: ClusterDeadlockVictim | undefined; policyError?: unknown } {
  const { tasks } = scanned;
  const waits = waitsToFail(analysis, scanned, graph);
  const candidates = [...waits.keys()].map((id) => candidateOf(id, tasks.get(id)!, now));
  if (candidates.length === 0) return { victim: undefined };
  let chosen: string;
  let used = typeof policy === 'function' ? 'custom' : policy;
  let policyError: unknown;
  try {
    chosen = chooseVictim(policy, candidates);
  } catch (error) {
    policyError = error;
    used = 'youngest';
    chosen = chooseVictim('youngest', candidates);
  }
  const task = tasks.get(chosen)!;
  // The slots are every holder's: a deadlock through them spans the nodes of all its tasks, and its
  // report shows a cycle through the victim.
  const throughSlots = analysis.cycle.includes(CLUSTER_SLOTS);
  const cycle = analysis.cycle.includes(chosen) ? analysis.cycle : graph.detectFrom(chosen).cycle;
  const victim: ClusterDeadlockVictim = {
    node: task.node!,
    task: task.local,
    request: waits.get(chosen)!,
    cycle,
    deadlocked: analysis.deadlocked,
    nodes: nodesOf(throughSlots ? analysis.deadlocked : cycle, tasks),
    policy: used,
  };
  return policyError === undefined ? { id: chosen, victim } : { id: chosen, victim, policyError };
}

/**
 * One scan of the cluster's wait-for graph by the cluster's detector: Holt's reduction (the same
 * exact detection as an engine's, `WaitForGraph`) over every node's published holds and requests
 * on cluster pools and awaits of tasks (an await of a cluster task is followed to the task that
 * runs its attempt, which its node publishes as a `runs` edge with the task's job id), and the
 * cluster's job slots ({@link CLUSTER_SLOTS}: a waiting task that runs a cluster job holds one, an
 * awaited cluster task that BullMQ has queued requests one), so that a starvation of the slots
 * across nodes (every slot held by a task that awaits a queued task) is a deadlock too.
 *
 * A snapshot is one instant of Redis, but each node published its part at its own moment, so a
 * deadlock in it may be a phantom (a wait that had already ended). A deadlock is stable, a phantom
 * is not: a task counts only once it has been deadlocked with the very same edges (the same request
 * ids) for at least `afterMs`, since a scan at `since` (in `previous`), and the deadlock is looked for
 * again among those tasks alone. One that spans two nodes or more, or goes through an await of a
 * cluster task (a node's own detector cannot follow one), is confirmed, and its victim
 * chosen by `policy` (as an engine's `deadlock.policy`, over what the nodes published of each task:
 * its priority, its attempt's start as its age and work, the units it holds); one within a node is
 * its engine's to resolve (its own detector sees it whole).
 *
 * @param nodes - a snapshot of the cluster's edges (`readClusterScanSnapshot`)
 * @param previous - the candidates the last scan kept
 * @param now - the time of this snapshot (Redis's clock, the same for every node)
 * @param afterMs - how long a deadlock must stay for it to be confirmed
 * @param policy - how its victim is chosen
 * @param slots - the cluster's job slots, read with the edges; without them no queued task is modelled
 * @internal
 */
export function scanClusterDeadlocks(
  nodes: readonly ClusterNodeEdges[],
  previous: Readonly<Record<string, DeadlockCandidate>>,
  now: number,
  afterMs: number,
  policy: DeadlockPolicy = 'youngest',
  slots: ClusterSlots = NO_CLUSTER_SLOTS,
): ClusterDeadlockScan {
  const scanned = tasksOf(nodes, slots);
  let analysis: DeadlockAnalysis;
  try {
    analysis = graphOf(scanned, () => true).detect();
  } catch {
    // Holds over a capacity: one node's release and another's grant published out of step. The
    // next scan reads them in step again.
    return { candidates: {}, victims: [], inconsistent: true };
  }
  const candidates: Record<string, DeadlockCandidate> = {};
  const stable = new Set<string>();
  for (const id of analysis.deadlocked) {
    const edges = edgesKey(scanned.tasks.get(id)!);
    const before = previous[id];
    const since = before !== undefined && before.edges === edges ? before.since : now;
    candidates[id] = { edges, since };
    if (now - since >= afterMs) stable.add(id);
  }
  if (stable.size === 0) return { candidates, victims: [], inconsistent: false };
  // Without the others' holds the stable tasks have more units free: what stays deadlocked among
  // them alone is deadlocked in the whole snapshot too. Each deadlock found gets a victim, which then
  // leaves the graph as its failed waits and freed leases take it out, and the rest is looked at
  // again: several deadlocks are broken in one scan, and one that its victim also broke is not
  // broken twice. A cycle that is not the cluster's (its node's detector resolves it), or that has
  // no candidate, leaves with all its tasks: what they would free can only break deadlocks, never
  // make one, so what is found afterwards is still real (one it hid is found by a later scan).
  const victims: ClusterDeadlockVictim[] = [];
  const out = new Set<string>();
  let policyError: unknown;
  for (;;) {
    const graph = graphOf(scanned, (id) => stable.has(id) && !out.has(id));
    const found = graph.detect();
    if (found.deadlocked.length === 0) break;
    const chosen = needsTheCluster(found.cycle, scanned) ? victimOf(found, scanned, graph, now, policy) : { victim: undefined };
    policyError ??= chosen.policyError;
    if (chosen.victim !== undefined) {
      victims.push(chosen.victim);
      out.add(chosen.id!);
    } else {
      for (const id of found.cycle) if (scanned.tasks.has(id)) out.add(id);
    }
  }
  return policyError === undefined ? { candidates, victims, inconsistent: false } : { candidates, victims, inconsistent: false, policyError };
}
