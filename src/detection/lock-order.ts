/**
 * Lock order, two ways: a declared hierarchy of ranks, checked at each acquisition, and an order
 * learned from what tasks actually do, in the manner of Linux's lockdep, which reports an inversion
 * between tasks before it ever deadlocks. Pure bookkeeping: the caller decides whether to refuse,
 * warn or ignore.
 *
 * @internal
 */

/** A resource with its rank in the lock hierarchy; `undefined` when it has none. */
export interface RankedResource {
  readonly resource: string;
  readonly rank: number | undefined;
}

/** A held resource that outranks the one being acquired. */
export interface RankedHolding {
  readonly resource: string;
  readonly rank: number;
}

/** A task acquiring a resource of lower rank than one it holds. */
export interface RankViolation {
  readonly kind: 'rank';
  readonly taskId: string;
  /** The resource being acquired. */
  readonly acquiring: string;
  /** Its rank. */
  readonly rank: number;
  /** The held resources of higher rank, in the order given. */
  readonly holding: readonly RankedHolding[];
}

/** Two or more tasks took resources in orders that, together, form a cycle: a potential deadlock. */
export interface OrderInversion {
  readonly kind: 'inversion';
  /**
   * The cycle in the learned order, closed: `['A', 'B', 'A']` means A was taken before B, and now
   * A is being taken while B is held.
   */
  readonly cycle: readonly string[];
  /**
   * For each step of `cycle` (`cycle[i]` before `cycle[i + 1]`), the first task seen taking them in
   * that order; the last is the task whose acquisition closed the cycle.
   */
  readonly tasks: readonly string[];
}

/** Anything the lock-order checks report. */
export type LockOrderViolation = RankViolation | OrderInversion;

/**
 * Checks an acquisition against the rank hierarchy: acquiring a resource whose rank is lower than
 * that of a resource the task holds is a violation. Equal ranks are allowed (taking more units of a
 * pool already held among them), and unranked resources are exempt on either side.
 *
 * @param taskId - the acquiring task
 * @param acquiring - the resource it is acquiring
 * @param holding - the resources it holds
 * @returns the violation, or `undefined` when the acquisition respects the hierarchy
 * @internal
 */
export function findRankViolation(taskId: string, acquiring: RankedResource, holding: Iterable<RankedResource>): RankViolation | undefined {
  const { rank } = acquiring;
  if (rank === undefined) return undefined;
  const higher: RankedHolding[] = [];
  for (const held of holding) {
    if (held.rank !== undefined && held.rank > rank) higher.push({ resource: held.resource, rank: held.rank });
  }
  if (higher.length === 0) return undefined;
  return { kind: 'rank', taskId, acquiring: acquiring.resource, rank, holding: higher };
}

/**
 * The order in which resources are taken, learned across all tasks: an edge `held → acquiring` for
 * every resource a task held while acquiring another, with the first task that did so. An edge that
 * closes a cycle is an inversion, reported once, when the edge is first seen: later acquisitions in
 * the same order add nothing. Memory grows with the number of resource pairs, never with tasks.
 *
 * @example
 * ```ts
 * const order = new LearnedLockOrder();
 * order.record('t1', 'A', []);
 * order.record('t1', 'B', ['A']);    // A before B
 * order.record('t2', 'B', []);
 * order.record('t2', 'A', ['B']);    // [{ kind: 'inversion', cycle: ['A', 'B', 'A'], tasks: ['t1', 't2'] }]
 * ```
 * @internal
 */
export class LearnedLockOrder {
  /** from → (to → the first task that took `to` while holding `from`). */
  readonly #edges = new Map<string, Map<string, string>>();
  #edgeCount = 0;

  /** How many distinct `held → acquiring` pairs have been seen. */
  get edgeCount(): number {
    return this.#edgeCount;
  }

  /** The first task seen taking `to` while holding `from`, or `undefined` if none has. */
  firstTaskOf(from: string, to: string): string | undefined {
    return this.#edges.get(from)?.get(to);
  }

  /**
   * Records that `taskId` is acquiring `acquiring` while holding `holding`.
   *
   * @returns the inversions its new edges close (usually none; each at most once over the lifetime
   * of this order)
   */
  record(taskId: string, acquiring: string, holding: Iterable<string>): OrderInversion[] {
    let inversions: OrderInversion[] | undefined;
    for (const held of holding) {
      if (held === acquiring) continue;
      let targets = this.#edges.get(held);
      if (targets === undefined) {
        targets = new Map();
        this.#edges.set(held, targets);
      } else if (targets.has(acquiring)) {
        continue;
      }
      // Searched before the edge is added, so the path found is the order learned so far.
      const path = this.#shortestPath(acquiring, held);
      targets.set(acquiring, taskId);
      this.#edgeCount++;
      if (path === undefined) continue;
      const cycle = [...path, acquiring];
      const tasks = path.map((from, index) => (index + 1 < path.length ? this.#edges.get(from)!.get(path[index + 1]!)! : taskId));
      (inversions ??= []).push({ kind: 'inversion', cycle, tasks });
    }
    return inversions ?? [];
  }

  /** The shortest path `from → … → to` in the learned order (breadth-first), or `undefined`. */
  #shortestPath(from: string, to: string): string[] | undefined {
    const previous = new Map<string, string | undefined>([[from, undefined]]);
    const queue = [from];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      if (node === to) {
        const path: string[] = [];
        for (let step: string | undefined = node; step !== undefined; step = previous.get(step)) path.push(step);
        return path.reverse();
      }
      const targets = this.#edges.get(node);
      if (targets === undefined) continue;
      for (const next of targets.keys()) {
        if (previous.has(next)) continue;
        previous.set(next, node);
        queue.push(next);
      }
    }
    return undefined;
  }
}
