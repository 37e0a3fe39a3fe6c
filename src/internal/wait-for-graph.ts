import { MezanError } from '../errors';
import { expectNonNegativeInteger } from './validate';

/**
 * What {@link WaitForGraph.detect} found: the deadlocked tasks (sorted by id) and one cycle among
 * them, closed (first id repeated at the end) and alternating task → resource → holder task for a
 * resource wait, task → task for an await: `['t1', 'db', 't2', 'gpu', 't1']`, `['a', 'b', 'a']`.
 * Both are empty when nothing is deadlocked.
 *
 * @internal
 */
export interface DeadlockAnalysis {
  readonly deadlocked: readonly string[];
  readonly cycle: readonly string[];
}

/** The analysis of a graph without deadlock. @internal */
export const NO_DEADLOCK: DeadlockAnalysis = Object.freeze({ deadlocked: Object.freeze([]), cycle: Object.freeze([]) });

/** A node of a {@link WaitForGraphSnapshot}: a task, or a resource with its capacity. @internal */
export type WaitForNode =
  | { readonly id: string; readonly kind: 'task' }
  | { readonly id: string; readonly kind: 'resource'; readonly capacity: number };

/**
 * An edge of a {@link WaitForGraphSnapshot}, in the usual direction of resource-allocation graphs:
 * `holds` goes from the resource to its holder, `requests` from the task to the resource, `awaits`
 * from the waiting task to the awaited one. `units` is set on `holds` and `requests`.
 *
 * @internal
 */
export type WaitForEdge =
  | { readonly from: string; readonly to: string; readonly kind: 'holds' | 'requests'; readonly units: number }
  | { readonly from: string; readonly to: string; readonly kind: 'awaits' };

/** A plain-data copy of a {@link WaitForGraph}: resources first, then tasks, in insertion order. @internal */
export interface WaitForGraphSnapshot {
  readonly nodes: readonly WaitForNode[];
  readonly edges: readonly WaitForEdge[];
}

interface ResourceNode {
  readonly isResource: true;
  readonly id: string;
  capacity: number;
  /** Units held, summed over `holders`. */
  held: number;
  readonly holders: Map<TaskNode, number>;
  readonly waiters: Map<TaskNode, number>;
  // Scratch state of the last reduction and the last search.
  reduced: number;
  available: number;
  blocked: Array<{ readonly units: number; readonly task: TaskNode }>;
  cursor: number;
  forward: number;
  backward: number;
  visited: number;
  stackIndex: number;
}

interface TaskNode {
  readonly isResource: false;
  readonly id: string;
  readonly holds: Map<ResourceNode, number>;
  readonly requests: Map<ResourceNode, number>;
  readonly awaits: Set<TaskNode>;
  readonly awaitedBy: Set<TaskNode>;
  // Scratch state of the last reduction, the last search and the last cycle extraction.
  reduced: number;
  need: number;
  finished: number;
  forward: number;
  backward: number;
  visited: number;
  stackIndex: number;
}

type GraphNode = ResourceNode | TaskNode;

/**
 * The live wait-for graph of tasks and resources, and the exact deadlock detector over it. Pure: no
 * I/O, no clock; the supervisor mirrors every grant, request, await and settlement into it.
 *
 * Nodes are resources (pools of units; worker slots are the resource `@workers`) and tasks. Edges:
 * a task *holds* units of a resource, *requests* units of a resource (at most one pending request
 * per resource), or *awaits* another task. A task has a node only while it has an edge (in or out);
 * a task without a node is running unblocked. Task and resource ids share one namespace.
 *
 * Detection is Holt's graph reduction (the detection form of the banker's algorithm): a cycle is
 * necessary but not sufficient once a resource has several units, so the reduction finds exactly
 * the tasks that cannot finish in any order, no more and no fewer.
 *
 * Invariants kept (misuse throws `E_INVALID_OPTION`): units held of a resource never exceed its
 * capacity, and no request asks for more than the capacity (such a request could never be granted,
 * and `ctx.acquire` refuses it up front).
 *
 * A pending request that fits the free units counts as no wait at all. So a resource must grant
 * any waiter whose request fits: a strict FIFO queue, where a small request waits behind a large one
 * that does not fit, makes a wait this graph does not see.
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
 * ```
 * @internal
 */
export class WaitForGraph {
  readonly #resources = new Map<string, ResourceNode>();
  readonly #tasks = new Map<string, TaskNode>();
  // Scratch marks compare against these counters, so no pass has to clear the marks of the last one.
  #reduction = 0;
  #search = 0;
  #extraction = 0;

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
      holders: new Map(),
      waiters: new Map(),
      reduced: 0,
      available: 0,
      blocked: [],
      cursor: 0,
      forward: 0,
      backward: 0,
      visited: 0,
      stackIndex: -1,
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
    let largestRequest = 0;
    for (const units of resource.waiters.values()) largestRequest = Math.max(largestRequest, units);
    if (capacity < resource.held || capacity < largestRequest) {
      misuse(`Capacity ${capacity} of ${JSON.stringify(id)} is below its ${resource.held} held units or a pending request of ${largestRequest}`, {
        resource: id,
        capacity,
        held: resource.held,
        largestRequest,
      });
    }
    resource.capacity = capacity;
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
      existing.holds.delete(pool);
      pool.holders.delete(existing);
      this.#collect(existing);
      return;
    }
    const node = existing ?? this.#task(task);
    pool.held += units - before;
    node.holds.set(pool, units);
    pool.holders.set(node, units);
  }

  /**
   * Sets the units `task` waits for on `resource` (its one pending request there); 0 removes it.
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
      if (node === undefined) return;
      node.requests.delete(pool);
      pool.waiters.delete(node);
      this.#collect(node);
      return;
    }
    const node = this.#task(task);
    node.requests.set(pool, units);
    pool.waiters.set(node, units);
  }

  /** Records that `task` waits for the result of `awaited` (idempotent; a task may await itself). */
  addAwait(task: string, awaited: string): void {
    // Both ids are checked before either node is made, so a refused call leaves no trace.
    if (!this.#tasks.has(awaited)) this.#expectTaskId(awaited);
    const waiter = this.#task(task);
    const target = this.#task(awaited);
    waiter.awaits.add(target);
    target.awaitedBy.add(waiter);
  }

  /** Removes the await of `task` on `awaited`, if any. */
  removeAwait(task: string, awaited: string): void {
    const waiter = this.#tasks.get(task);
    const target = this.#tasks.get(awaited);
    if (waiter === undefined || target === undefined || !waiter.awaits.delete(target)) return;
    target.awaitedBy.delete(waiter);
    this.#collect(waiter);
    this.#collect(target);
  }

  /** Removes a task (settled, or chosen as a victim) with every edge from or to it. */
  removeTask(task: string): void {
    const node = this.#tasks.get(task);
    if (node === undefined) return;
    this.#tasks.delete(task);
    for (const [pool, units] of node.holds) {
      pool.held -= units;
      pool.holders.delete(node);
    }
    for (const pool of node.requests.keys()) pool.waiters.delete(node);
    for (const target of node.awaits) {
      target.awaitedBy.delete(node);
      if (target !== node) this.#collect(target);
    }
    for (const waiter of node.awaitedBy) {
      waiter.awaits.delete(node);
      if (waiter !== node) this.#collect(waiter);
    }
  }

  /**
   * Finds every deadlocked task by Holt's reduction, in O(V + E log E): start from the free units;
   * a task whose every request fits the free units and whose every awaited task has finished can
   * finish and return its holdings; the tasks that never can are deadlocked.
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
   * 1. a bidirectional search for a path from `task` back to itself (over requests that do not fit
   *    the free units → resource → holders, and awaits), costing about twice the smaller side;
   * 2. the reduction restricted to what `task` can reach: that set is closed (it holds every holder
   *    of what its tasks wait for), so it decides exactly whether `task` can finish; a cycle through
   *    a pool with a holder able to finish stops here;
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

  /** A plain-data copy of the graph, for `engine.waitForGraph()` and drawings. */
  snapshot(): WaitForGraphSnapshot {
    const nodes: WaitForNode[] = [];
    const edges: WaitForEdge[] = [];
    for (const resource of this.#resources.values()) {
      nodes.push({ id: resource.id, kind: 'resource', capacity: resource.capacity });
      for (const [holder, units] of resource.holders) edges.push({ from: resource.id, to: holder.id, kind: 'holds', units });
    }
    for (const task of this.#tasks.values()) {
      nodes.push({ id: task.id, kind: 'task' });
      for (const [resource, units] of task.requests) edges.push({ from: task.id, to: resource.id, kind: 'requests', units });
      for (const awaited of task.awaits) edges.push({ from: task.id, to: awaited.id, kind: 'awaits' });
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
        holds: new Map(),
        requests: new Map(),
        awaits: new Set(),
        awaitedBy: new Set(),
        reduced: 0,
        need: 0,
        finished: 0,
        forward: 0,
        backward: 0,
        visited: 0,
        stackIndex: -1,
      };
      this.#tasks.set(id, node);
    }
    return node;
  }

  #expectTaskId(id: string): void {
    if (this.#resources.has(id)) misuse(`The task id ${JSON.stringify(id)} is already a resource id`, { task: id });
  }

  /** Drops a task node left without edges, so the graph never grows with settled tasks. */
  #collect(node: TaskNode): void {
    if (node.holds.size === 0 && node.requests.size === 0 && node.awaits.size === 0 && node.awaitedBy.size === 0) {
      this.#tasks.delete(node.id);
    }
  }

  /** Whether a path of one edge or more leads from `start` back to it (bidirectional search). */
  #reachesItself(start: TaskNode): boolean {
    const mark = ++this.#search;
    const forward: GraphNode[] = [];
    const backward: GraphNode[] = [];
    // Edges scanned by each side. The side whose next expansion keeps its total lower goes next, so
    // the search costs about twice the cheaper side, and a hub (`@workers` with thousands of queued
    // waiters) is expanded only when the other side is at least as large.
    let forwardWork = 0;
    let backwardWork = 0;
    if (this.#expandForward(start, start, mark, forward) || this.#expandBackward(start, start, mark, backward)) return true;
    while (forward.length > 0 && backward.length > 0) {
      const ahead = forward[forward.length - 1]!;
      const behind = backward[backward.length - 1]!;
      const forwardCost = 1 + (ahead.isResource ? ahead.holders.size : ahead.requests.size + ahead.awaits.size);
      const backwardCost = 1 + (behind.isResource ? behind.waiters.size : behind.holds.size + behind.awaitedBy.size);
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
      return false;
    }
    // A request that fits the free units never blocks: the free units only grow during a reduction.
    for (const [resource, units] of node.requests) {
      if (units > resource.capacity - resource.held && this.#visitForward(resource, start, mark, stack)) return true;
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
      const free = node.capacity - node.held;
      for (const [waiter, units] of node.waiters) {
        if (units > free && this.#visitBackward(waiter, start, mark, stack)) return true;
      }
      return false;
    }
    for (const resource of node.holds.keys()) if (this.#visitBackward(resource, start, mark, stack)) return true;
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
        continue;
      }
      tasks.push(node);
      for (const [resource, units] of node.requests) if (units > resource.capacity - resource.held) visit(resource);
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
   * Holt's reduction as a worklist: each task counts its unmet conditions (awaits, plus requests
   * that do not fit the free units at the start); each resource keeps its blocked requests sorted
   * by units, and a cursor walks them as units come back, so every edge is handled once.
   *
   * @param tasks - every task, or a set closed under the waits (it holds every awaited task and
   * every holder of a resource that one of its tasks requests beyond the free units)
   * @returns the mark that the tasks able to finish carry in `finished`
   */
  #reduce(tasks: Iterable<TaskNode>): number {
    const mark = ++this.#reduction;
    const ready: TaskNode[] = [];
    const blockedPools: ResourceNode[] = [];
    const prepare = (resource: ResourceNode) => {
      if (resource.reduced === mark) return;
      resource.reduced = mark;
      resource.available = resource.capacity - resource.held;
      resource.cursor = 0;
    };
    for (const node of tasks) {
      node.reduced = mark;
      node.need = node.awaits.size;
      for (const resource of node.holds.keys()) prepare(resource);
      for (const [resource, units] of node.requests) {
        prepare(resource);
        if (units <= resource.available) continue;
        node.need += 1;
        if (resource.blocked.length === 0) blockedPools.push(resource);
        resource.blocked.push({ units, task: node });
      }
      if (node.need === 0) ready.push(node);
    }
    for (const resource of blockedPools) resource.blocked.sort((a, b) => a.units - b.units);
    for (let node = ready.pop(); node !== undefined; node = ready.pop()) {
      node.finished = mark;
      for (const [resource, units] of node.holds) {
        resource.available += units;
        const blocked = resource.blocked;
        while (resource.cursor < blocked.length && blocked[resource.cursor]!.units <= resource.available) {
          const waiter = blocked[resource.cursor++]!.task;
          if (--waiter.need === 0) ready.push(waiter);
        }
      }
      // Tasks outside a restricted set keep stale counts from an earlier pass; leave them alone.
      for (const waiter of node.awaitedBy) if (waiter.reduced === mark && --waiter.need === 0) ready.push(waiter);
    }
    // Dropped at once so the scratch lists never keep removed tasks alive.
    for (const resource of blockedPools) resource.blocked = [];
    return mark;
  }

  /**
   * A closed cycle of deadlocked tasks, by an iterative depth-first search from `start` over the
   * edges that keep them blocked once the reduction is over: awaits on deadlocked tasks, and
   * requests that do not fit the units left free, through the resource to its deadlocked holders.
   * Resources are nodes of the search, so a pool with many waiters is expanded once. Returns the
   * first path back to `start`, or else the first cycle met: since no request exceeds its
   * capacity, every deadlocked task has such an edge, so the search always meets one.
   */
  #cycleFrom(start: TaskNode, finished: number): string[] {
    const mark = ++this.#extraction;
    const path: Array<{ readonly node: GraphNode; readonly next: Iterator<GraphNode> }> = [];
    const enter = (node: GraphNode) => {
      node.visited = mark;
      node.stackIndex = path.length;
      path.push({ node, next: blockingSuccessors(node, finished) });
    };
    const close = (from: number, last: GraphNode): string[] => {
      const cycle = path.slice(from).map((frame) => frame.node.id);
      // A cycle met at a resource is turned to start (and end) at the task after it.
      if (last.isResource) cycle.push(cycle.shift()!);
      cycle.push(cycle[0]!);
      return cycle;
    };
    let fallback: string[] | undefined;
    let found: string[] | undefined;
    enter(start);
    while (path.length > 0 && found === undefined) {
      const frame = path[path.length - 1]!;
      const step = frame.next.next();
      if (step.done === true) {
        frame.node.stackIndex = -1;
        path.pop();
        continue;
      }
      const node = step.value;
      if (node === start) found = close(0, start);
      else if (node.visited !== mark) enter(node);
      else if (fallback === undefined && node.stackIndex >= 0) fallback = close(node.stackIndex, node);
    }
    for (const frame of path) frame.node.stackIndex = -1;
    return found ?? fallback ?? [];
  }
}

/** The successors of `node` over the edges that keep deadlocked tasks blocked (see `#cycleFrom`). */
function* blockingSuccessors(node: GraphNode, finished: number): Generator<GraphNode> {
  if (node.isResource) {
    for (const holder of node.holders.keys()) if (holder.finished !== finished) yield holder;
    return;
  }
  for (const [resource, units] of node.requests) if (units > resource.available) yield resource;
  for (const awaited of node.awaits) if (awaited.finished !== finished) yield awaited;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function misuse(message: string, details: Record<string, unknown>): never {
  throw new MezanError('E_INVALID_OPTION', message, { details });
}
