import { MezanError } from '../errors';
import { expectNonNegativeInteger } from '../internal/validate';
import { ChurnMap } from '../internal/churn-map';
import { isAgentNodeId, parseMessageNodeId } from './agent-nodes';

/**
 * What {@link WaitForGraph.detect} found: the deadlocked tasks (sorted by id) and one cycle among
 * them, closed (first id repeated at the end). Both are empty when nothing is deadlocked.
 *
 * The cycle is a list of ids read as steps from each id to the next:
 * - task → task: the first task awaits the second;
 * - task → resource → task: the first task waits in the resource's queue, and the task after the
 *   resource either holds units of it or waits in the same queue *ahead* of the first task (its
 *   request comes first, and a pool grants in strict FIFO order).
 *
 * A task appears at most once (the closing repeat aside); a resource may appear more than once.
 * `['t1', 'db', 't2', 'gpu', 't1']`: t1 waits for db, which t2 holds, and t2 waits for gpu, which t1
 * holds. `['t1', 'db', 't2', 'db', 't1']`: t1 waits for db behind t2, and t2 waits for db units that
 * t1 holds. `['a', 'b', 'a']`: a and b await each other.
 *
 * @internal
 */
export interface DeadlockAnalysis {
  readonly deadlocked: readonly string[];
  readonly cycle: readonly string[];
}

/** The analysis of a graph without deadlock. @internal */
export const NO_DEADLOCK: DeadlockAnalysis = Object.freeze({ deadlocked: Object.freeze([]), cycle: Object.freeze([]) });

/**
 * A node of a {@link WaitForGraphSnapshot}: a task, a resource with its capacity, an agent with its
 * concurrency (`@agent:<name>`: its handlers hold its units, waiting messages request them), or a
 * message to an agent (`@agent:<name>#<n>`: waiting in its mailbox, or being handled). See
 * `agent-nodes.ts`.
 * @internal
 */
export type WaitForNode =
  | { readonly id: string; readonly kind: 'task' }
  | { readonly id: string; readonly kind: 'resource'; readonly capacity: number }
  | { readonly id: string; readonly kind: 'agent'; readonly capacity: number }
  | { readonly id: string; readonly kind: 'message' };

/**
 * An edge of a {@link WaitForGraphSnapshot}, in the usual direction of resource-allocation graphs:
 * `holds` goes from the resource (or agent) to its holder, `requests` from the task (or message) to
 * the resource (or agent), `awaits` from the waiting task to the awaited one, `asks` from an asker (a
 * task, or a message whose handler asks) to the message it waits for the reply of. `units` is set on
 * `holds` and `requests`.
 *
 * @internal
 */
export type WaitForEdge =
  | { readonly from: string; readonly to: string; readonly kind: 'holds' | 'requests'; readonly units: number }
  | { readonly from: string; readonly to: string; readonly kind: 'awaits' | 'asks' };

/**
 * A plain-data copy of a {@link WaitForGraph}. Nodes: resources first, then tasks, in insertion
 * order. Edges: for each resource, its `holds` edges, then its `requests` edges in queue order (head
 * first); then each task's `awaits` edges.
 *
 * @internal
 */
export interface WaitForGraphSnapshot {
  readonly nodes: readonly WaitForNode[];
  readonly edges: readonly WaitForEdge[];
}

/** A pending request: `task` waits for `units` of `resource`, at its place in the resource's queue. */
interface WaitEntry {
  readonly task: TaskNode;
  readonly resource: ResourceNode;
  units: number;
  /** The entry just ahead in the queue. */
  prev: WaitEntry | undefined;
  /** The entry just behind in the queue. */
  next: WaitEntry | undefined;
  /** Equals `resource.changed` while the static scan finds it granted (see `#scan`). */
  grantedStatically: number;
  /** The mark of the last reduction that granted it. */
  granted: number;
}

interface ResourceNode {
  readonly isResource: true;
  readonly id: string;
  capacity: number;
  /** Units held, summed over `holders`. */
  held: number;
  readonly holders: ChurnMap<TaskNode, number>;
  /** The queue of pending requests, a doubly linked list (append and removal in O(1)). */
  head: WaitEntry | undefined;
  tail: WaitEntry | undefined;
  /** How many entries the queue has. */
  queued: number;
  /** How many of them belong to tasks that wait for something else too (see `#staticTarget`). */
  multiWaiters: number;
  /** The graph's change count at the last change of this resource (capacity, holds, queue). */
  changed: number;
  // The static scan, valid while `scanned === changed`.
  scanned: number;
  /** The first entry that the free units cannot grant once the entries ahead of it are. */
  firstBlocked: WaitEntry | undefined;
  /** How many entries are ahead of `firstBlocked`. */
  grantedCount: number;
  /** The free units once those entries are granted. */
  freeAfterGrants: number;
  // Scratch state of the last reduction, the last search and the last cycle extraction.
  reduced: number;
  available: number;
  /** The first entry the last reduction did not grant. */
  cursor: WaitEntry | undefined;
  /** Entries of the reduced tasks not granted yet: the cursor need not go on once none is left. */
  pending: number;
  forward: number;
  backward: number;
  visited: number;
  stackIndex: number;
  order: number;
  low: number;
}

/** The empty set of tasks every node starts with; never added to (a node gets its own set first). */
const NO_TASKS: Set<TaskNode> = new Set();
/** The empty holds and requests every task node starts with, never added to: a node gets its own map on its first entry. */
const NO_HOLDS: Map<ResourceNode, number> = new Map();
const NO_REQUESTS: Map<ResourceNode, WaitEntry> = new Map();

interface TaskNode {
  readonly isResource: false;
  readonly id: string;
  /** {@link NO_HOLDS} until the task holds units: a node that only waits never needs a map of holds. */
  holds: Map<ResourceNode, number>;
  /** {@link NO_REQUESTS} until the task waits for units. */
  requests: Map<ResourceNode, WaitEntry>;
  /** {@link NO_TASKS} until the task awaits one: most tasks never do. */
  awaits: Set<TaskNode>;
  /** {@link NO_TASKS} until a task awaits this one. */
  awaitedBy: Set<TaskNode>;
  // Scratch state of the last reduction, the last search and the last cycle extraction.
  reduced: number;
  need: number;
  finished: number;
  forward: number;
  backward: number;
  visited: number;
  stackIndex: number;
  order: number;
  low: number;
  /** Equals the graph's cycle mark when the task is on a cycle (see `isOnCycle`). */
  onCycle: number;
}

type GraphNode = ResourceNode | TaskNode;

/** One step of a blocking path: to `node`, through the queue of `via` when it is a queue step. */
interface BlockingStep {
  readonly node: GraphNode;
  readonly via: ResourceNode | undefined;
}

/**
 * The live wait-for graph of tasks and resources, and the exact deadlock detector over it. Pure: no
 * I/O, no clock; the supervisor mirrors every grant, request, await and settlement into it.
 *
 * Nodes are resources (pools of units; worker slots are the resource `@workers`) and tasks. Edges:
 * a task *holds* units of a resource, *requests* units of a resource (at most one pending request
 * per resource), or *awaits* another task. A task has a node only while it has an edge (in or out);
 * a task without a node is running unblocked. Task and resource ids share one namespace.
 *
 * Every resource is a strict FIFO queue, as the pools are: requests are queued in the order of
 * their first `setRequest` (a later `setRequest` for the same task and resource changes the units
 * and keeps the place), and the pool grants its head while the head fits the free units, so a
 * request that would fit waits behind an earlier one that does not. A granted request holds its
 * units until its task finishes, even if the task still waits for something else. (For `@workers`,
 * whose queue the executor orders by priority, the order is immaterial: every request there is for
 * one unit, by a task that waits for nothing else.)
 *
 * Detection is Holt's graph reduction (the detection form of the banker's algorithm) with FIFO
 * grants: a cycle is necessary but not sufficient once a resource has several units, so the
 * reduction finds exactly the tasks that cannot finish in any order, no more and no fewer.
 *
 * Invariants kept (misuse throws `E_INVALID_OPTION`): units held of a resource never exceed its
 * capacity, and no request asks for more than the capacity (such a request could never be granted,
 * and `ctx.acquire` refuses it up front).
 *
 * @example
 * ```ts
 * const graph = new WaitForGraph();
 * graph.addResource('db', 1);
 * graph.addResource('gpu', 1);
 * graph.setHold('t1', 'db', 1);
 * graph.setHold('t2', 'gpu', 1);
 * graph.setRequest('t1', 'gpu', 1);
 * graph.setRequest('t2', 'db', 1);
 * graph.detectFrom('t2'); // { deadlocked: ['t1', 't2'], cycle: ['t2', 'db', 't1', 'gpu', 't2'] }
 * graph.isOnCycle('t1'); // true
 * ```
 * @internal
 */
export class WaitForGraph {
  readonly #resources = new Map<string, ResourceNode>();
  readonly #tasks = new ChurnMap<string, TaskNode>();
  // Scratch marks compare against these counters, so no pass has to clear the marks of the last one.
  #reduction = 0;
  #search = 0;
  #extraction = 0;
  /** Counts the changes of the graph; caches keyed on it are stale once it moves. */
  #changes = 0;
  /** The change count the cycle marks were computed at, and their mark. */
  #cyclesAt = -1;
  #cycleMark = 0;

  /** How many task nodes the graph holds (tasks with at least one edge). */
  get taskCount(): number {
    return this.#tasks.size;
  }

  /**
   * Adds a resource with `capacity` units.
   * @throws {MezanError} `E_INVALID_OPTION` when the id is taken or the capacity is not a non-negative integer
   */
  addResource(id: string, capacity: number): void {
    expectNonNegativeInteger('capacity', capacity);
    if (this.#resources.has(id) || this.#tasks.has(id)) misuse(`The id ${JSON.stringify(id)} is already in the wait-for graph`, { id });
    this.#resources.set(id, {
      isResource: true,
      id,
      capacity,
      held: 0,
      holders: new ChurnMap(),
      head: undefined,
      tail: undefined,
      queued: 0,
      multiWaiters: 0,
      changed: ++this.#changes,
      scanned: 0,
      firstBlocked: undefined,
      grantedCount: 0,
      freeAfterGrants: 0,
      reduced: 0,
      available: 0,
      cursor: undefined,
      pending: 0,
      forward: 0,
      backward: 0,
      visited: 0,
      stackIndex: -1,
      order: 0,
      low: 0,
    });
  }

  /**
   * Changes a resource's capacity (compensation workers raise and lower `@workers`).
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource, or a capacity below the units
   * held or below a pending request
   */
  setCapacity(id: string, capacity: number): void {
    expectNonNegativeInteger('capacity', capacity);
    const resource = this.#resource(id);
    const largestRequest = this.largestRequestOf(id);
    if (capacity < resource.held || capacity < largestRequest) {
      misuse(`Capacity ${capacity} of ${JSON.stringify(id)} is below its ${resource.held} held units or a pending request of ${largestRequest}`, {
        resource: id,
        capacity,
        held: resource.held,
        largestRequest,
      });
    }
    resource.capacity = capacity;
    this.#touch(resource);
  }

  /**
   * The capacity of resource `id` (cheaper than a snapshot for `@workers` on a large graph).
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource
   */
  capacityOf(id: string): number {
    return this.#resource(id).capacity;
  }

  /**
   * The tasks holding units of resource `id`, in the order they first took them.
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource
   */
  holdersOf(id: string): string[] {
    const holders: string[] = [];
    for (const task of this.#resource(id).holders.keys()) holders.push(task.id);
    return holders;
  }

  /**
   * The units of resource `id` held, over all its holders.
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource
   */
  unitsHeldOf(id: string): number {
    return this.#resource(id).held;
  }

  /**
   * The most units one pending request for resource `id` asks for; 0 when none waits.
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource
   */
  largestRequestOf(id: string): number {
    let largest = 0;
    for (let entry = this.#resource(id).head; entry !== undefined; entry = entry.next) largest = Math.max(largest, entry.units);
    return largest;
  }

  /** The units `task` holds, summed over every resource but `except`; 0 for a task not in the graph. */
  unitsHeldBy(task: string, except?: string): number {
    const node = this.#tasks.get(task);
    if (node === undefined) return 0;
    let units = 0;
    for (const [resource, held] of node.holds) if (resource.id !== except) units += held;
    return units;
  }

  /** Whether the graph has the resource `id`. */
  hasResource(id: string): boolean {
    return this.#resources.has(id);
  }

  /** Whether the task `id` has a node, that is at least one edge. */
  hasTask(id: string): boolean {
    return this.#tasks.has(id);
  }

  /**
   * Sets the units of `resource` that `task` holds; 0 removes the edge. A grant is
   * `setRequest(task, r, 0)` followed by `setHold(task, r, units)`.
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource, a bad unit count, or holds
   * that would exceed the capacity
   */
  setHold(task: string, resource: string, units: number): void {
    expectNonNegativeInteger('units', units);
    const pool = this.#resource(resource);
    const existing = this.#tasks.get(task);
    const before = existing?.holds.get(pool) ?? 0;
    if (pool.held - before + units > pool.capacity) {
      misuse(`Holding ${units} units of ${JSON.stringify(resource)} would exceed its capacity ${pool.capacity}`, {
        task,
        resource,
        units,
        held: pool.held - before,
        capacity: pool.capacity,
      });
    }
    if (units === 0) {
      if (existing === undefined || before === 0) return;
      pool.held -= before;
      // Dropping the last entry returns the shared empty map: deleting it would make V8 shrink the table, a new allocation.
      if (existing.holds.size === 1) existing.holds = NO_HOLDS;
      else existing.holds.delete(pool);
      pool.holders.delete(existing);
      this.#touch(pool);
      this.#collect(existing);
      return;
    }
    const node = existing ?? this.#task(task);
    pool.held += units - before;
    if (node.holds === NO_HOLDS) node.holds = new Map();
    node.holds.set(pool, units);
    pool.holders.set(node, units);
    this.#touch(pool);
  }

  /**
   * Sets the units `task` waits for on `resource` (its one pending request there); 0 removes it. A
   * new request joins the tail of the resource's queue; changing the units of a pending one keeps
   * its place.
   * @throws {MezanError} `E_INVALID_OPTION` for an unknown resource, a bad unit count, or more units
   * than the capacity
   */
  setRequest(task: string, resource: string, units: number): void {
    expectNonNegativeInteger('units', units);
    const pool = this.#resource(resource);
    if (units > pool.capacity) {
      misuse(`A request for ${units} units of ${JSON.stringify(resource)} exceeds its capacity ${pool.capacity}`, {
        task,
        resource,
        units,
        capacity: pool.capacity,
      });
    }
    if (units === 0) {
      const node = this.#tasks.get(task);
      const entry = node?.requests.get(pool);
      if (node === undefined || entry === undefined) return;
      countMultiWaits(node, -1);
      if (node.requests.size === 1) node.requests = NO_REQUESTS;
      else node.requests.delete(pool);
      unlink(entry);
      countMultiWaits(node, 1);
      this.#touch(pool);
      this.#collect(node);
      return;
    }
    const node = this.#task(task);
    const entry = node.requests.get(pool);
    if (entry !== undefined) {
      entry.units = units;
    } else {
      const added: WaitEntry = { task: node, resource: pool, units, prev: pool.tail, next: undefined, grantedStatically: 0, granted: 0 };
      if (pool.tail === undefined) pool.head = added;
      else pool.tail.next = added;
      pool.tail = added;
      pool.queued++;
      countMultiWaits(node, -1);
      if (node.requests === NO_REQUESTS) node.requests = new Map();
      node.requests.set(pool, added);
      countMultiWaits(node, 1);
    }
    this.#touch(pool);
  }

  /** Records that `task` waits for the result of `awaited` (idempotent; a task may await itself). */
  addAwait(task: string, awaited: string): void {
    // Both ids are checked before either node is made, so a refused call leaves no trace.
    if (!this.#tasks.has(awaited)) this.#expectTaskId(awaited);
    const waiter = this.#task(task);
    const target = this.#task(awaited);
    countMultiWaits(waiter, -1);
    if (waiter.awaits === NO_TASKS) waiter.awaits = new Set();
    waiter.awaits.add(target);
    countMultiWaits(waiter, 1);
    if (target.awaitedBy === NO_TASKS) target.awaitedBy = new Set();
    target.awaitedBy.add(waiter);
    this.#touch(undefined);
  }

  /** Removes the await of `task` on `awaited`, if any. */
  removeAwait(task: string, awaited: string): void {
    const waiter = this.#tasks.get(task);
    const target = this.#tasks.get(awaited);
    if (waiter === undefined || target === undefined || !waiter.awaits.has(target)) return;
    countMultiWaits(waiter, -1);
    waiter.awaits.delete(target);
    countMultiWaits(waiter, 1);
    target.awaitedBy.delete(waiter);
    this.#touch(undefined);
    this.#collect(waiter);
    this.#collect(target);
  }

  /** Removes a task (settled, or chosen as a victim) with every edge from or to it. */
  removeTask(task: string): void {
    const node = this.#tasks.get(task);
    if (node === undefined) return;
    this.#tasks.delete(task);
    this.#touch(undefined);
    countMultiWaits(node, -1);
    for (const [pool, units] of node.holds) {
      pool.held -= units;
      pool.holders.delete(node);
      this.#touch(pool);
    }
    for (const entry of node.requests.values()) {
      unlink(entry);
      this.#touch(entry.resource);
    }
    for (const target of node.awaits) {
      target.awaitedBy.delete(node);
      if (target !== node) this.#collect(target);
    }
    for (const waiter of node.awaitedBy) {
      if (waiter === node) continue;
      countMultiWaits(waiter, -1);
      waiter.awaits.delete(node);
      countMultiWaits(waiter, 1);
      this.#collect(waiter);
    }
  }

  /**
   * Finds every deadlocked task by Holt's reduction with FIFO grants, in O(V + E): start from the
   * free units; each resource grants its queue in order while the head fits (a grant takes the
   * units); a task whose every request is granted and whose every awaited task has finished can
   * finish and return its holdings and grants; the tasks that never can are deadlocked.
   */
  detect(): DeadlockAnalysis {
    if (this.#tasks.size === 0) return NO_DEADLOCK;
    return this.#analyze(undefined);
  }

  /**
   * The incremental check to run when `task` has just blocked (a new request or await).
   *
   * Precondition: the graph had no deadlock before `task` blocked (or changed its holds while
   * blocked). Then any new deadlock contains `task`, on a cycle through it. So, in three steps, each
   * run only when the one before could not rule a deadlock out:
   * 1. a bidirectional search for a path from `task` back to itself over the static wait edges
   *    (awaits, and requests that the queue's head-first grants leave blocked, to the resource and
   *    on to its holders; see `#staticTarget`), costing about twice the smaller side;
   * 2. the reduction restricted to what `task` can reach: that set is closed (it holds every holder
   *    of a resource whose queue one of its tasks is blocked in, every awaited task, and every
   *    waiter ahead of it in that queue whose fate is not decided by the queue alone), so it decides
   *    exactly whether `task` can finish; a cycle through a pool with a holder able to finish stops
   *    here;
   * 3. the full reduction, for the whole deadlocked set (tasks awaiting the deadlocked ones too).
   *
   * Without the precondition it may miss a deadlock that does not involve `task`; whatever it
   * reports is the exact result of the full reduction.
   *
   * @returns the same deadlocked set as {@link WaitForGraph.detect}, with a cycle through `task` when there is one
   */
  detectFrom(task: string): DeadlockAnalysis {
    const node = this.#tasks.get(task);
    if (node === undefined || !this.#reachesItself(node)) return NO_DEADLOCK;
    const finished = this.#reduce(this.#reachableTasks(node));
    if (node.finished === finished) return NO_DEADLOCK;
    return this.#analyze(node);
  }

  /**
   * Whether `task` is on a cycle of the wait-for relation among deadlocked tasks, that is in one of
   * its strongly connected components: failing it can break a cycle, where failing a task merely
   * waiting behind one (awaiting a deadlocked task, or queued for a resource that a cycle keeps)
   * cannot.
   *
   * The relation is the one left once the full reduction is over, with the FIFO rule. A deadlocked
   * task waits for each deadlocked task it awaits. In a resource's queue, the first request not
   * granted waits for the resource, and so does each request behind it that does not fit the units
   * left either; a request behind it that fits them waits for that first one alone (a queue step,
   * `t → r → first` in a reported cycle: it would be served at once but for the queue). The
   * resource waits for its deadlocked holders and the deadlocked tasks granted ahead of that first
   * request. Every cycle that {@link WaitForGraph.detect} reports lies on these edges. Computed for
   * all tasks at once and kept until the graph changes.
   *
   * Being on a cycle is necessary for a victim to help, not sufficient: with pools of several units
   * a task may wait for several holders at once, and failing one of them may leave the others stuck.
   *
   * @returns false for a task that is not deadlocked or has no node
   */
  isOnCycle(task: string): boolean {
    const node = this.#tasks.get(task);
    if (node === undefined) return false;
    if (this.#cyclesAt !== this.#changes) this.#markCycles();
    return node.onCycle === this.#cycleMark;
  }

  /**
   * Removes a resource that nobody holds or waits for (an agent that stopped).
   * @throws {MezanError} `E_INVALID_OPTION` while units of it are held or requested
   */
  removeResource(id: string): void {
    const resource = this.#resources.get(id);
    if (resource === undefined) return;
    if (resource.held > 0 || resource.queued > 0)
      misuse(`The resource ${JSON.stringify(id)} is still held or waited for`, { resource: id, held: resource.held, queued: resource.queued });
    this.#resources.delete(id);
    this.#touch(undefined);
  }

  /** A plain-data copy of the graph, for `engine.waitForGraph()` and drawings. */
  snapshot(): WaitForGraphSnapshot {
    const nodes: WaitForNode[] = [];
    const edges: WaitForEdge[] = [];
    for (const resource of this.#resources.values()) {
      nodes.push({ id: resource.id, kind: isAgentNodeId(resource.id) ? 'agent' : 'resource', capacity: resource.capacity });
      for (const [holder, units] of resource.holders) edges.push({ from: resource.id, to: holder.id, kind: 'holds', units });
      for (let entry = resource.head; entry !== undefined; entry = entry.next) {
        edges.push({ from: entry.task.id, to: resource.id, kind: 'requests', units: entry.units });
      }
    }
    for (const task of this.#tasks.values()) {
      nodes.push({ id: task.id, kind: parseMessageNodeId(task.id) === undefined ? 'task' : 'message' });
      for (const awaited of task.awaits)
        edges.push({ from: task.id, to: awaited.id, kind: parseMessageNodeId(awaited.id) === undefined ? 'awaits' : 'asks' });
    }
    return { nodes, edges };
  }

  #resource(id: string): ResourceNode {
    const resource = this.#resources.get(id);
    if (resource === undefined) misuse(`Unknown resource ${JSON.stringify(id)} in the wait-for graph`, { resource: id });
    return resource;
  }

  #task(id: string): TaskNode {
    let node = this.#tasks.get(id);
    if (node === undefined) {
      this.#expectTaskId(id);
      node = {
        isResource: false,
        id,
        holds: NO_HOLDS,
        requests: NO_REQUESTS,
        awaits: NO_TASKS,
        awaitedBy: NO_TASKS,
        reduced: 0,
        need: 0,
        finished: 0,
        forward: 0,
        backward: 0,
        visited: 0,
        stackIndex: -1,
        order: 0,
        low: 0,
        onCycle: 0,
      };
      this.#tasks.set(id, node);
      this.#touch(undefined);
    }
    return node;
  }

  #expectTaskId(id: string): void {
    if (this.#resources.has(id)) misuse(`The task id ${JSON.stringify(id)} is already a resource id`, { task: id });
  }

  /** Counts a change of the graph, and of `resource` when one changed (its static scan is stale). */
  #touch(resource: ResourceNode | undefined): void {
    this.#changes++;
    if (resource !== undefined) resource.changed = this.#changes;
  }

  /** Drops a task node left without edges, so the graph never grows with settled tasks. */
  #collect(node: TaskNode): void {
    if (node.holds.size === 0 && node.requests.size === 0 && node.awaits.size === 0 && node.awaitedBy.size === 0) {
      this.#tasks.delete(node.id);
    }
  }

  /**
   * The static scan of a resource's queue: the entries at its head that the free units grant one
   * after another are as good as granted (a pool grants them at once; they hold their units until
   * their tasks finish); the first entry left over, and every entry behind it, is blocked. Cached
   * until the resource changes; O(1) for a pool whose head does not fit, as a pool's always is.
   */
  #scan(resource: ResourceNode): void {
    if (resource.scanned === resource.changed) return;
    resource.scanned = resource.changed;
    let free = resource.capacity - resource.held;
    let count = 0;
    let entry = resource.head;
    for (; entry !== undefined && entry.units <= free; entry = entry.next) {
      free -= entry.units;
      entry.grantedStatically = resource.changed;
      count++;
    }
    resource.firstBlocked = entry;
    resource.grantedCount = count;
    resource.freeAfterGrants = free;
  }

  /**
   * Where a pending request leads over the static wait edges that {@link WaitForGraph.detectFrom}
   * searches: nowhere when it is as good as granted; else to the resource, whose successors are its
   * holders and the entries granted ahead of its first blocked one. An entry behind the first
   * blocked one is served only after the entry just ahead of it (FIFO), so it leads to that entry's
   * task instead, along the queue to the first blocked one, which leads to the resource. When no task
   * in the queue waits for anything else, every walk along the queue ends at the resource anyway,
   * and the entry leads there directly: a long queue costs one step, not one per entry ahead. The
   * one task such a walk must not skip is the one the search looks for, so for that task alone the
   * search adds the edges to it from the entries behind it (for a task that has just blocked, at the
   * tail of its queue, there are none).
   */
  #staticTarget(entry: WaitEntry): GraphNode | undefined {
    const resource = entry.resource;
    this.#scan(resource);
    if (entry.grantedStatically === resource.changed) return undefined;
    return entry === resource.firstBlocked || resource.multiWaiters === 0 ? resource : entry.prev!.task;
  }

  /** Whether a path of one edge or more leads from `start` back to it (bidirectional search). */
  #reachesItself(start: TaskNode): boolean {
    const mark = ++this.#search;
    const forward: GraphNode[] = [];
    const backward: GraphNode[] = [];
    // Edges scanned by each side. The side whose next expansion keeps its total lower goes next, so
    // the search costs about twice the cheaper side, and a hub (`@workers` with thousands of
    // holders) is expanded only when the other side is at least as large.
    let forwardWork = 0;
    let backwardWork = 0;
    if (this.#expandForward(start, start, mark, forward) || this.#expandBackward(start, start, mark, backward)) return true;
    while (forward.length > 0 && backward.length > 0) {
      const ahead = forward[forward.length - 1]!;
      const behind = backward[backward.length - 1]!;
      const forwardCost = 1 + (ahead.isResource ? ahead.holders.size + ahead.grantedCount : ahead.requests.size + ahead.awaits.size);
      const backwardCost =
        1 + (behind.isResource ? (behind.multiWaiters === 0 ? behind.queued : 1) : behind.holds.size + behind.requests.size + behind.awaitedBy.size);
      if (forwardWork + forwardCost <= backwardWork + backwardCost) {
        forward.pop();
        forwardWork += forwardCost;
        if (this.#expandForward(ahead, start, mark, forward)) return true;
      } else {
        backward.pop();
        backwardWork += backwardCost;
        if (this.#expandBackward(behind, start, mark, backward)) return true;
      }
    }
    return false;
  }

  /** Pushes the unvisited successors of `node`; true when one is `start` or seen by the other side. */
  #expandForward(node: GraphNode, start: TaskNode, mark: number, stack: GraphNode[]): boolean {
    if (node.isResource) {
      for (const holder of node.holders.keys()) if (this.#visitForward(holder, start, mark, stack)) return true;
      // The entries granted ahead of the first blocked one hold units too.
      this.#scan(node);
      for (let entry = node.head; entry !== node.firstBlocked; entry = entry!.next)
        if (this.#visitForward(entry!.task, start, mark, stack)) return true;
      return false;
    }
    if (node.requests.size > 0) {
      for (const entry of node.requests.values()) {
        const target = this.#staticTarget(entry);
        if (target !== undefined && this.#visitForward(target, start, mark, stack)) return true;
      }
    }
    for (const awaited of node.awaits) if (this.#visitForward(awaited, start, mark, stack)) return true;
    return false;
  }

  #visitForward(node: GraphNode, start: TaskNode, mark: number, stack: GraphNode[]): boolean {
    if (node === start || node.backward === mark) return true;
    if (node.forward !== mark) {
      node.forward = mark;
      stack.push(node);
    }
    return false;
  }

  /** Pushes the unvisited predecessors of `node`; true when one is `start` or seen by the other side. */
  #expandBackward(node: GraphNode, start: TaskNode, mark: number, stack: GraphNode[]): boolean {
    if (node.isResource) {
      this.#scan(node);
      // The blocked entries that lead here: each of them, or only the first (see `#staticTarget`).
      const last = node.multiWaiters === 0 ? undefined : node.firstBlocked?.next;
      for (let entry = node.firstBlocked; entry !== last; entry = entry!.next) if (this.#visitBackward(entry!.task, start, mark, stack)) return true;
      return false;
    }
    for (const resource of node.holds.keys()) if (this.#visitBackward(resource, start, mark, stack)) return true;
    if (node.requests.size > 0) {
      for (const entry of node.requests.values()) {
        const resource = entry.resource;
        this.#scan(resource);
        // Granted ahead of the first blocked entry, the task is a successor of the resource.
        if (entry.grantedStatically === resource.changed) {
          if (this.#visitBackward(resource, start, mark, stack)) return true;
        } else if (node === start && resource.multiWaiters === 0) {
          // Every entry behind `start` leads to it (see `#staticTarget`). Expanded first, so the
          // forward side meets these wherever it reaches them, and needs no such edges of its own.
          for (let behind = entry.next; behind !== undefined; behind = behind.next)
            if (this.#visitBackward(behind.task, start, mark, stack)) return true;
          continue;
        }
        const behind = entry.next;
        if (behind !== undefined && this.#staticTarget(behind) === node && this.#visitBackward(behind.task, start, mark, stack)) return true;
      }
    }
    for (const waiter of node.awaitedBy) if (this.#visitBackward(waiter, start, mark, stack)) return true;
    return false;
  }

  #visitBackward(node: GraphNode, start: TaskNode, mark: number, stack: GraphNode[]): boolean {
    if (node === start || node.forward === mark) return true;
    if (node.backward !== mark) {
      node.backward = mark;
      stack.push(node);
    }
    return false;
  }

  /** `start` and every task it reaches over the edges that {@link WaitForGraph.detectFrom} searches. */
  #reachableTasks(start: TaskNode): TaskNode[] {
    const mark = ++this.#search;
    const tasks: TaskNode[] = [];
    const stack: GraphNode[] = [start];
    start.forward = mark;
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.isResource) {
        for (const holder of node.holders.keys()) visit(holder);
        this.#scan(node);
        for (let entry = node.head; entry !== node.firstBlocked; entry = entry!.next) visit(entry!.task);
        continue;
      }
      tasks.push(node);
      if (node.requests.size > 0) {
        for (const entry of node.requests.values()) {
          const target = this.#staticTarget(entry);
          if (target !== undefined) visit(target);
        }
      }
      for (const awaited of node.awaits) visit(awaited);
    }
    return tasks;

    function visit(node: GraphNode): void {
      if (node.forward === mark) return;
      node.forward = mark;
      stack.push(node);
    }
  }

  /** Runs the full reduction and, when tasks are left, extracts a cycle (through `preferred` if it can). */
  #analyze(preferred: TaskNode | undefined): DeadlockAnalysis {
    const finished = this.#reduce(this.#tasks.values());
    const deadlocked: TaskNode[] = [];
    for (const node of this.#tasks.values()) if (node.finished !== finished) deadlocked.push(node);
    if (deadlocked.length === 0) return NO_DEADLOCK;
    const ids = deadlocked.map((node) => node.id).sort(compareIds);
    const start = preferred !== undefined && preferred.finished !== finished ? preferred : this.#tasks.get(ids[0]!)!;
    return { deadlocked: ids, cycle: this.#cycleFrom(start, finished) };
  }

  /**
   * Holt's reduction with FIFO grants, as a worklist: each task counts its unmet conditions (awaits,
   * plus requests not granted by the static scan); each resource keeps a cursor on the first entry
   * of its queue not granted yet, and moves it on, granting (the grant takes the units), while that
   * entry fits the units available; a task that finishes returns its holdings and its grants. Each
   * edge is handled once.
   *
   * @param tasks - every task, or a set closed under the static wait edges (see `#staticTarget`): it
   * holds every awaited task, every holder of a resource whose queue one of its tasks is blocked in,
   * and every entry ahead of that task there, except, in a queue where no task waits for anything
   * else, the entries of tasks that hold nothing the set waits for. Tasks outside the set are taken
   * never to finish, but in a queue, where they are of the exception, they are served and finish at
   * once (the units do not change).
   * @returns the mark that the tasks able to finish carry in `finished`
   */
  #reduce(tasks: Iterable<TaskNode>): number {
    const mark = ++this.#reduction;
    const ready: TaskNode[] = [];
    const prepare = (resource: ResourceNode) => {
      if (resource.reduced === mark) return;
      resource.reduced = mark;
      this.#scan(resource);
      resource.available = resource.freeAfterGrants;
      resource.cursor = resource.firstBlocked;
      resource.pending = 0;
    };
    const advance = (resource: ResourceNode) => {
      for (let entry = resource.cursor; entry !== undefined && resource.pending > 0 && entry.units <= resource.available; entry = entry.next) {
        const waiter = entry.task;
        if (waiter.reduced !== mark) {
          // Outside a restricted set, and ahead of some of its tasks: by the closure of the set, a
          // task that waits for nothing else and holds nothing the set waits for. It is served,
          // finishes and gives the units back, which changes nothing here.
          resource.cursor = entry.next;
          continue;
        }
        resource.available -= entry.units;
        resource.pending--;
        entry.granted = mark;
        resource.cursor = entry.next;
        if (--waiter.need === 0) ready.push(waiter);
      }
    };
    // The size checks skip creating iterators over empty collections: most tasks have one or two edges.
    for (const node of tasks) {
      node.reduced = mark;
      node.need = node.awaits.size;
      if (node.requests.size > 0) {
        for (const [resource, entry] of node.requests) {
          prepare(resource);
          if (entry.grantedStatically === resource.changed) continue;
          node.need += 1;
          resource.pending++;
        }
      }
      if (node.need === 0) ready.push(node);
    }
    for (let node = ready.pop(); node !== undefined; node = ready.pop()) {
      node.finished = mark;
      for (const [resource, units] of node.holds) {
        prepare(resource);
        resource.available += units;
        advance(resource);
      }
      // Every request of a finished task was granted: its units come back too.
      if (node.requests.size > 0) {
        for (const [resource, entry] of node.requests) {
          resource.available += entry.units;
          advance(resource);
        }
      }
      // Tasks outside a restricted set keep stale counts from an earlier pass; leave them alone.
      if (node.awaitedBy.size > 0) {
        for (const waiter of node.awaitedBy) if (waiter.reduced === mark && --waiter.need === 0) ready.push(waiter);
      }
    }
    return mark;
  }

  /**
   * A closed cycle of deadlocked tasks, by an iterative depth-first search from `start` over the
   * edges that keep them blocked once the reduction is over (see `blockingSteps`). Resources are
   * nodes of the search, so a pool with many holders is expanded once. Returns the first path back
   * to `start`, or else the first cycle met: every deadlocked task has such an edge, so the search
   * always meets one.
   */
  #cycleFrom(start: TaskNode, finished: number): string[] {
    const mark = ++this.#extraction;
    const path: Array<{ readonly node: GraphNode; readonly next: Iterator<BlockingStep> }> = [];
    // The resource whose queue each step of the path went through, if it was a queue step.
    const vias: Array<ResourceNode | undefined> = [];
    const enter = (node: GraphNode, via: ResourceNode | undefined) => {
      node.visited = mark;
      node.stackIndex = path.length;
      path.push({ node, next: blockingSteps(node, finished) });
      vias.push(via);
    };
    const close = (from: number, via: ResourceNode | undefined): string[] => {
      const cycle: string[] = [];
      for (let index = from; index < path.length; index++) {
        if (index > from && vias[index] !== undefined) cycle.push(vias[index]!.id);
        cycle.push(path[index]!.node.id);
      }
      if (via !== undefined) cycle.push(via.id);
      // A cycle met at a resource is turned to start (and end) at the task after it.
      if (path[from]!.node.isResource) cycle.push(cycle.shift()!);
      cycle.push(cycle[0]!);
      return cycle;
    };
    let fallback: string[] | undefined;
    let found: string[] | undefined;
    enter(start, undefined);
    while (path.length > 0 && found === undefined) {
      const frame = path[path.length - 1]!;
      const step = frame.next.next();
      if (step.done === true) {
        frame.node.stackIndex = -1;
        path.pop();
        vias.pop();
        continue;
      }
      const { node, via } = step.value;
      if (node === start) found = close(0, via);
      else if (node.visited !== mark) enter(node, via);
      else if (fallback === undefined && node.stackIndex >= 0) fallback = close(node.stackIndex, via);
    }
    for (const frame of path) frame.node.stackIndex = -1;
    return found ?? fallback ?? [];
  }

  /**
   * Marks (in `onCycle`) the tasks in a strongly connected component of more than one node, or with
   * an edge to themselves, over the edges of `blockingSteps` after a full reduction: Tarjan's
   * algorithm, iteratively, in O(V + E).
   */
  #markCycles(): void {
    this.#cyclesAt = this.#changes;
    const mark = ++this.#extraction;
    this.#cycleMark = mark;
    if (this.#tasks.size === 0) return;
    const finished = this.#reduce(this.#tasks.values());
    const frames: Array<{ readonly node: GraphNode; readonly next: Iterator<BlockingStep> }> = [];
    const component: GraphNode[] = [];
    let order = 0;
    const enter = (node: GraphNode) => {
      node.visited = mark;
      node.order = node.low = order++;
      node.stackIndex = component.length;
      component.push(node);
      frames.push({ node, next: blockingSteps(node, finished) });
    };
    for (const root of this.#tasks.values()) {
      if (root.finished === finished || root.visited === mark) continue;
      enter(root);
      while (frames.length > 0) {
        const frame = frames[frames.length - 1]!;
        const step = frame.next.next();
        if (step.done !== true) {
          const next = step.value.node;
          if (next === frame.node && !next.isResource) next.onCycle = mark;
          else if (next.visited !== mark) enter(next);
          else if (next.stackIndex >= 0) frame.node.low = Math.min(frame.node.low, next.order);
          continue;
        }
        frames.pop();
        const node = frame.node;
        if (frames.length > 0) {
          const parent = frames[frames.length - 1]!.node;
          parent.low = Math.min(parent.low, node.low);
        }
        if (node.low !== node.order) continue;
        const members = component.splice(node.stackIndex);
        for (const member of members) {
          member.stackIndex = -1;
          if (members.length > 1 && !member.isResource) member.onCycle = mark;
        }
      }
    }
  }
}

/** Takes an entry out of its resource's queue. */
function unlink(entry: WaitEntry): void {
  const resource = entry.resource;
  if (entry.prev === undefined) resource.head = entry.next;
  else entry.prev.next = entry.next;
  if (entry.next === undefined) resource.tail = entry.prev;
  else entry.next.prev = entry.prev;
  entry.prev = undefined;
  entry.next = undefined;
  resource.queued--;
  // The scratch pointers must not keep a removed task alive.
  if (resource.firstBlocked === entry) resource.firstBlocked = undefined;
  if (resource.cursor === entry) resource.cursor = undefined;
}

/**
 * The edges that keep deadlocked tasks blocked once the reduction marked `finished` is over (a full
 * one; see {@link WaitForGraph.isOnCycle}): a task waits for each deadlocked task it awaits; for a
 * request not granted, the first such entry of the queue waits for the resource, and so does each
 * one behind it that does not fit the units left, while one that fits waits for that first entry (a
 * queue step); a resource waits for its deadlocked holders and the deadlocked tasks granted ahead of
 * its first entry not granted. That entry does not fit the units left, and no request exceeds the
 * capacity, so a resource met here always has a successor.
 */
function* blockingSteps(node: GraphNode, finished: number): Generator<BlockingStep> {
  if (node.isResource) {
    for (const holder of node.holders.keys()) if (holder.finished !== finished) yield { node: holder, via: undefined };
    for (let entry = node.head; entry !== undefined && entry !== node.cursor; entry = entry.next) {
      if (entry.task.finished !== finished) yield { node: entry.task, via: undefined };
    }
    return;
  }
  for (const [resource, entry] of node.requests) {
    if (entry.granted === finished || entry.grantedStatically === resource.changed) continue;
    if (entry === resource.cursor || entry.units > resource.available) yield { node: resource, via: undefined };
    else yield { node: resource.cursor!.task, via: resource };
  }
  for (const awaited of node.awaits) if (awaited.finished !== finished) yield { node: awaited, via: undefined };
}

/**
 * Adds `sign` to the `multiWaiters` count of each resource `task` queues for, when it waits for more
 * than one thing; called with -1 before a change of its waits and with 1 after.
 */
function countMultiWaits(task: TaskNode, sign: 1 | -1): void {
  if (task.requests.size + task.awaits.size < 2) return;
  for (const resource of task.requests.keys()) resource.multiWaiters += sign;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function misuse(message: string, details: Record<string, unknown>): never {
  throw new MezanError('E_INVALID_OPTION', message, { details });
}
