import { WaitForGraph } from '../src/detection/wait-for-graph';
import type { RandomSource } from '../src/random';

/** The kinds of blocking event a {@link WaitForWorkload} makes happen, each in a shape of its own. */
export type BlockingEventKind = 'pool-wait' | 'await-chain' | 'nested-lock' | 'benign-cycle' | 'deadlock';

/** Every {@link BlockingEventKind}, in report order. */
export const BLOCKING_EVENT_KINDS: readonly BlockingEventKind[] = Object.freeze([
  'pool-wait',
  'await-chain',
  'nested-lock',
  'benign-cycle',
  'deadlock',
]);

/**
 * How often each kind of blocking event happens, as weights. A deadlock costs a full reduction, so
 * its weight moves the average most: 1% assumes deadlocks are rare but not exotic.
 */
export const BLOCKING_EVENT_MIX: Readonly<Record<BlockingEventKind, number>> = Object.freeze({
  'pool-wait': 0.5,
  'await-chain': 0.25,
  'nested-lock': 0.14,
  'benign-cycle': 0.1,
  deadlock: 0.01,
});

/** One task blocking in a {@link WaitForWorkload}; `undo` puts the graph back as it was. */
export interface BlockingEvent {
  readonly kind: BlockingEventKind;
  /** The task that just blocked: the argument of `detectFrom`. */
  readonly task: string;
  /** Whether this event closes a deadlock (only `deadlock` events do). */
  readonly deadlocks: boolean;
  readonly undo: () => void;
}

/** A wait-for graph at a steady size, and a source of blocking events on it. */
export interface WaitForWorkload {
  readonly graph: WaitForGraph;
  /** Tasks with a pending request or await. */
  readonly waitingTasks: number;
  /** Task nodes, waiting or not (holders that run, awaited tasks). */
  readonly taskNodes: number;
  readonly resources: number;
  readonly edges: number;
  /** Makes one task block, drawn from {@link BLOCKING_EVENT_MIX}; undo it before the next one. */
  readonly next: () => BlockingEvent;
}

/** The worker slots, as the detector names them. */
const WORKERS = '@workers';

/** Shared pools that running holders fill, and how many units each holder takes. */
const BUSY_POOLS: ReadonlyArray<{ readonly id: string; readonly holders: number; readonly unitsEach: number; readonly weight: number }> = [
  { id: 'db', holders: 4, unitsEach: 1, weight: 0.35 },
  { id: 'gpu', holders: 1, unitsEach: 1, weight: 0.15 },
  { id: 'cache', holders: 4, unitsEach: 2, weight: 0.2 },
  { id: 'net', holders: 16, unitsEach: 1, weight: 0.2 },
  { id: 'disk', holders: 2, unitsEach: 1, weight: 0.1 },
];

// Shares of the waiting tasks by shape; the pool queues take the rest.
const CHAIN_SHARE = 0.25;
const NESTED_SHARE = 0.1;
const BENIGN_SHARE = 0.03;
const RING_SHARE = 0.01;
const NESTED_INNER_HOLDERS = 4;
/** Free worker slots beyond those held and asked for, so the slots never starve. */
const SLOT_HEADROOM = 64;

/**
 * Builds a wait-for graph with exactly `waitingTasks` waiting tasks in the shapes a busy engine
 * shows, none of them deadlocked; every task node holds a worker slot, as a task blocked while
 * running does (queued tasks that others await ask for one instead):
 * - pool queues: tasks queued on a few pools (`db`, `gpu`, `cache` with multi-unit requests, `net`,
 *   `disk`) that running holders fill;
 * - await chains of 2 to 16 tasks, each awaiting the next; the last one runs, waits on a pool, or is
 *   still queued (asking for a worker slot);
 * - nested locks: holders of `outer` waiting for `inner`, and tasks queued on `outer`;
 * - benign cycles: t1 holds one of the two units of `x` and waits for `y`; t2 holds `y`; t3 holds
 *   the other unit of `x` and runs, so when t2 asks for `x` a cycle closes that is no deadlock;
 * - rings of 2 to 6 tasks, each holding its own pool and waiting for the next one's, the last link
 *   missing: when the last task asks for the first pool, the ring deadlocks.
 *
 * @param waitingTasks - how many tasks wait (at least 100)
 * @param random - draws the shapes and the events
 * @throws {RangeError} when `waitingTasks` is below 100
 */
export function buildWaitForWorkload(waitingTasks: number, random: RandomSource): WaitForWorkload {
  if (!Number.isInteger(waitingTasks) || waitingTasks < 100) throw new RangeError(`Expected at least 100 waiting tasks, got ${waitingTasks}`);
  const graph = new WaitForGraph();
  const pick = (from: number, to: number): number => from + Math.floor(random() * (to - from + 1));
  let nextTask = 0;
  let slotsHeld = 0;
  let slotRequests = 0;
  let waiting = 0;
  const task = (): string => `t${nextTask++}`;
  const onSlot = (id: string): string => {
    graph.setHold(id, WORKERS, 1);
    slotsHeld++;
    return id;
  };
  const chooseBusyPool = (): { readonly id: string; readonly units: number } => {
    let draw = random();
    for (const pool of BUSY_POOLS) {
      draw -= pool.weight;
      if (draw < 0) return { id: pool.id, units: pool.id === 'cache' ? pick(1, 4) : 1 };
    }
    return { id: 'db', units: 1 };
  };

  // Slots are counted while building; the capacity is lowered to what is needed at the end.
  graph.addResource(WORKERS, waitingTasks * 4 + 10_000);
  for (const pool of BUSY_POOLS) {
    graph.addResource(pool.id, pool.holders * pool.unitsEach);
    for (let i = 0; i < pool.holders; i++) graph.setHold(onSlot(task()), pool.id, pool.unitsEach);
  }

  const rings: Array<{ readonly last: string; readonly first: string }> = [];
  for (let budget = Math.round(waitingTasks * RING_SHARE), r = 0; budget > 0; r++) {
    const size = Math.min(pick(2, 6), budget + 1);
    const members = Array.from({ length: size }, () => onSlot(task()));
    members.forEach((member, i) => {
      graph.addResource(`ring${r}.${i}`, 1);
      graph.setHold(member, `ring${r}.${i}`, 1);
    });
    for (let i = 0; i < size - 1; i++) graph.setRequest(members[i]!, `ring${r}.${i + 1}`, 1);
    rings.push({ last: members[size - 1]!, first: `ring${r}.0` });
    budget -= size - 1;
    waiting += size - 1;
  }

  const benign: Array<{ readonly t2: string; readonly x: string }> = [];
  for (let g = 0; g < Math.round(waitingTasks * BENIGN_SHARE); g++) {
    const [t1, t2, t3] = [onSlot(task()), onSlot(task()), onSlot(task())];
    graph.addResource(`x${g}`, 2);
    graph.addResource(`y${g}`, 1);
    graph.setHold(t1, `x${g}`, 1);
    graph.setHold(t3, `x${g}`, 1);
    graph.setHold(t2, `y${g}`, 1);
    graph.setRequest(t1, `y${g}`, 1);
    benign.push({ t2, x: `x${g}` });
    waiting++;
  }

  const nestedTotal = Math.round(waitingTasks * NESTED_SHARE);
  const outerHolders = Math.max(1, Math.round(nestedTotal / 5));
  graph.addResource('inner', NESTED_INNER_HOLDERS);
  for (let i = 0; i < NESTED_INNER_HOLDERS; i++) graph.setHold(onSlot(task()), 'inner', 1);
  graph.addResource('outer', outerHolders);
  for (let i = 0; i < outerHolders; i++) {
    const holder = onSlot(task());
    graph.setHold(holder, 'outer', 1);
    graph.setRequest(holder, 'inner', 1);
  }
  for (let i = outerHolders; i < nestedTotal; i++) graph.setRequest(onSlot(task()), 'outer', 1);
  waiting += Math.max(nestedTotal, outerHolders);

  const chainHeads: string[] = [];
  for (let budget = Math.round(waitingTasks * CHAIN_SHARE); budget > 0;) {
    const length = pick(2, 16);
    const tail = pick(0, 2);
    // A running tail is not waiting; the others are.
    const members = Math.min(length, tail === 0 ? budget + 1 : budget);
    if (members < 2) break;
    const ids = Array.from({ length: members }, () => task());
    for (let i = 0; i < members - 1; i++) graph.addAwait(onSlot(ids[i]!), ids[i + 1]!);
    const last = ids[members - 1]!;
    if (tail === 0) onSlot(last);
    else if (tail === 1) {
      const pool = chooseBusyPool();
      graph.setRequest(onSlot(last), pool.id, pool.units);
    } else {
      graph.setRequest(last, WORKERS, 1);
      slotRequests++;
    }
    const waitingHere = tail === 0 ? members - 1 : members;
    budget -= waitingHere;
    waiting += waitingHere;
    chainHeads.push(ids[0]!);
  }

  while (waiting < waitingTasks) {
    const pool = chooseBusyPool();
    graph.setRequest(onSlot(task()), pool.id, pool.units);
    waiting++;
  }
  graph.setCapacity(WORKERS, slotsHeld + slotRequests + SLOT_HEADROOM);

  const snapshot = graph.snapshot();
  let nextEvent = 0;
  const mixTotal = BLOCKING_EVENT_KINDS.reduce((sum, kind) => sum + BLOCKING_EVENT_MIX[kind], 0);
  const drawKind = (): BlockingEventKind => {
    let draw = random() * mixTotal;
    for (const kind of BLOCKING_EVENT_KINDS) {
      draw -= BLOCKING_EVENT_MIX[kind];
      if (draw < 0) return kind;
    }
    return 'pool-wait';
  };
  const newcomer = (block: (id: string) => void, kind: BlockingEventKind): BlockingEvent => {
    const id = `e${nextEvent++}`;
    graph.setHold(id, WORKERS, 1);
    block(id);
    return { kind, task: id, deadlocks: false, undo: () => graph.removeTask(id) };
  };

  const next = (): BlockingEvent => {
    const kind = drawKind();
    switch (kind) {
      case 'pool-wait': {
        const pool = chooseBusyPool();
        return newcomer((id) => graph.setRequest(id, pool.id, pool.units), kind);
      }
      case 'await-chain': {
        const head = chainHeads[pick(0, chainHeads.length - 1)];
        if (head === undefined) return next();
        return newcomer((id) => graph.addAwait(id, head), kind);
      }
      case 'nested-lock':
        return newcomer((id) => graph.setRequest(id, 'outer', 1), kind);
      case 'benign-cycle': {
        const group = benign[pick(0, benign.length - 1)];
        if (group === undefined) return next();
        graph.setRequest(group.t2, group.x, 1);
        return { kind, task: group.t2, deadlocks: false, undo: () => graph.setRequest(group.t2, group.x, 0) };
      }
      case 'deadlock': {
        const ring = rings[pick(0, rings.length - 1)];
        if (ring === undefined) return next();
        graph.setRequest(ring.last, ring.first, 1);
        return { kind, task: ring.last, deadlocks: true, undo: () => graph.setRequest(ring.last, ring.first, 0) };
      }
    }
  };

  return {
    graph,
    waitingTasks: waiting,
    taskNodes: graph.taskCount,
    resources: snapshot.nodes.length - graph.taskCount,
    edges: snapshot.edges.length,
    next,
  };
}
