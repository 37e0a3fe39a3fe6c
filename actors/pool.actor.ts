import type { ActorLogic, ActorScope, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import type { MezanError } from '../src/errors';
import type { EventSink } from '../src/internal/event-sink';
import type {
  GraphPoolChangesEvent,
  ResourceBatchEvent,
  ResourceEvent,
  ResourceGraphEvent,
  ResourceObserver,
  ResourceReplyEvent,
  ResourceReplyTo,
  ResourceRequestEvent,
} from '../src/internal/resource-protocol';
import { removeAt } from '../src/internal/remove-at';
import { ScratchList } from '../src/internal/scratch-list';
import { WaiterQueue, type ResourceWaiter } from '../src/internal/waiter-queue';
import type { EngineEvent } from '../src/engine-events';
import type { MonitorNotice } from '../src/metrics/monitor-observation';

/** What a resource pool is created with. @internal */
export interface PoolInput {
  /** The pool's name, unique in the engine; lease ids start with it. */
  readonly name: string;
  /** How many units the pool has (a non-negative integer; the engine validates it). */
  readonly capacity: number;
  /** Its place in the lock hierarchy, if it has one (runners enforce the order). */
  readonly rank?: number;
  /** Who keeps the wait-for graph: told of what it needs while requests wait (see {@link GraphPoolChangesEvent}). */
  readonly observer?: ResourceObserver;
  /** Where the pool publishes `resource.waiting`, `resource.acquired` and `resource.released`. */
  readonly sink?: EventSink;
  /** Tells the monitor when a wait ended. */
  readonly observe?: (notice: MonitorNotice) => void;
}

/**
 * What a pool whose units are not all its own to count (a cluster pool, whose units the nodes of a
 * cluster share) adds to its own FIFO queue: a request is granted only once the gate reserved its
 * units, and the gate hears of every grant, every lease's end and every request dropped unserved,
 * so that it can give the units back where they are counted.
 *
 * @internal
 */
export interface PoolGate {
  /** Whether the units of queued request `requestId` are reserved, so it may be granted now. */
  isReserved(requestId: string): boolean;
  /** Reserved request `requestId` was granted as lease `leaseId`. */
  granted(requestId: string, leaseId: string): void;
  /** Lease `leaseId` ended (released or revoked). */
  leaseEnded(leaseId: string): void;
  /** Queued request `requestId` left the queue without a grant (cancelled, revoked or denied). */
  requestDropped(requestId: string): void;
}

/** A pool's own statistics; exact, because only the pool updates them. Times are clock milliseconds. */
export interface ResourceStats {
  /** Leases granted. */
  acquired: number;
  /** Leases given back by their holder. */
  released: number;
  /** Queued requests withdrawn by their requester (timeouts and aborts). */
  timeouts: number;
  /** Leases and queued requests taken back by `resource.revoke`. */
  revoked: number;
  /** Requests refused because their units could never fit. */
  denied: number;
  /** Sum over granted requests of the time from request to grant (0 for an immediate grant). */
  totalWaitMs: number;
  /** The longest time a granted request waited. */
  maxWaitMs: number;
  /** Sum over ended leases (released or revoked) of the time they were held. */
  totalHoldMs: number;
  /** The longest time a lease was held. */
  maxHoldMs: number;
  /** Units held now. */
  inUse: number;
  /** The most units held at once. */
  peakInUse: number;
  /** Requests queued now. */
  queueLength: number;
}

/**
 * The statistics of a pool that has done nothing yet: every count and time 0. A new object on each
 * call.
 *
 * @internal
 */
export function zeroResourceStats(): ResourceStats {
  return {
    acquired: 0,
    released: 0,
    timeouts: 0,
    revoked: 0,
    denied: 0,
    totalWaitMs: 0,
    maxWaitMs: 0,
    totalHoldMs: 0,
    maxHoldMs: 0,
    inUse: 0,
    peakInUse: 0,
    queueLength: 0,
  };
}

/** The states of a pool; the statechart `machines/resource.machine.ts` draws them and their transitions. */
export type PoolState = 'available' | 'exhausted' | 'contended';

/** Units of a pool one task holds. */
export interface PoolHolding {
  readonly taskId: string;
  readonly units: number;
}

/**
 * What a pool publishes after each transition: a summary made anew, never mutated afterwards.
 * `holdings` lists each holding task once, in the order the tasks took their first units (since they
 * last held none).
 */
export interface PoolSummary {
  readonly name: string;
  readonly capacity: number;
  readonly rank: number | undefined;
  readonly stats: Readonly<ResourceStats>;
  readonly holdings: readonly PoolHolding[];
}

/** A pool's snapshot: its state and its summary. */
export type PoolSnapshot = Snapshot<undefined> & { readonly value: PoolState; readonly context: PoolSummary };

/** Events a pool accepts. @internal */
export type PoolEvent = ResourceEvent | { readonly type: 'xstate.stop' };

type PoolScope = ActorScope<PoolSnapshot, PoolEvent>;

const NO_WAITERS: readonly ResourceWaiter[] = Object.freeze([]);

/** A granted request: `units` held by `taskId` until released or revoked. */
interface ResourceLease {
  readonly leaseId: string;
  readonly requestId: string;
  readonly taskId: string;
  readonly units: number;
  readonly grantedAt: number;
  readonly replyTo: ResourceReplyTo;
}

/** What one task has to do with the pool now, and what it had before the current transition. */
interface TaskShare {
  readonly taskId: string;
  held: number;
  requested: number;
  heldBefore: number;
  requestedBefore: number;
  /** The transition that last touched it. */
  touchedIn: number;
}

function unitsFit(units: number, capacity: number): boolean {
  return Number.isInteger(units) && units >= 1 && units <= capacity;
}

function invalidUnitsReason(name: string, capacity: number, units: number): string {
  return `Expected \`units\` to be an integer from 1 to ${capacity} (the capacity of \`${name}\`), got \`${String(units)}\``;
}

/**
 * The live part of one pool. Only its own transitions touch it: the pool's actor logic, or the
 * cluster pool's (actors/cluster-pool.actor.ts), which gives it a {@link PoolGate}.
 *
 * @internal
 */
export class PoolCore {
  readonly name: string;
  readonly rank: number | undefined;
  capacity: number;
  readonly #observer: ResourceObserver | undefined;
  readonly #sink: EventSink | undefined;
  readonly #observe: ((notice: MonitorNotice) => void) | undefined;
  readonly #gate: PoolGate | undefined;
  readonly #leases = new Map<string, ResourceLease>();
  readonly #waiters = new WaiterQueue();
  /** Held and requested units by task; only tasks with either. */
  readonly #tasks = new Map<string, TaskShare>();
  #nextLease = 1;
  readonly #stats = zeroResourceStats();
  #holdings: readonly PoolHolding[] = [];
  /** The current transition's number, and the shares it touched, in order. */
  #transition = 0;
  readonly #touched = new ScratchList<TaskShare>();
  // What the current transition produced, sent once it is over, in this order: the engine events
  // and monitor notices, the observer's message, the replies (pairs of requester and answer).
  #published = new ScratchList<EngineEvent | MonitorNotice>();
  // The outbox's lists are swapped with these once sent, emptied: a pool's outbox is sent after
  // each transition, and new lists for each cost more than the transition's own work.
  #sparePublished = new ScratchList<EngineEvent | MonitorNotice>();
  #spareReplyTo = new ScratchList<ResourceReplyTo>();
  #spareReplies = new ScratchList<ResourceReplyEvent>();
  /** The graph changes of the current transition, copied to an exact-size list for the observer. */
  readonly #changes = new ScratchList<ResourceGraphEvent>();
  /** The observer's messages of the current transition: one, or one per event of a batch that changed the graph. */
  #observerMessages = new ScratchList<GraphPoolChangesEvent>();
  #spareObserverMessages = new ScratchList<GraphPoolChangesEvent>();
  /** Whether the current transition is a batch's: its replies to one requester then go in one message. */
  #groupReplies = false;
  #replyTo = new ScratchList<ResourceReplyTo>();
  #replies = new ScratchList<ResourceReplyEvent>();

  constructor(input: PoolInput, gate?: PoolGate) {
    this.#gate = gate;
    this.name = input.name;
    this.rank = input.rank;
    this.capacity = input.capacity;
    this.#observer = input.observer;
    this.#sink = input.sink;
    this.#observe = input.observe;
  }

  get state(): PoolState {
    if (this.#waiters.size > 0) return 'contended';
    return this.capacity > this.#stats.inUse ? 'available' : 'exhausted';
  }

  snapshot(): PoolSnapshot {
    const context: PoolSummary = { name: this.name, capacity: this.capacity, rank: this.rank, stats: { ...this.#stats }, holdings: this.#holdings };
    return { status: 'active', output: undefined, error: undefined, value: this.state, context };
  }

  /**
   * Applies one event.
   * @returns whether anything changed
   */
  receive(event: ResourceEvent): boolean {
    if (event.type === 'resource.batch') return this.#receiveBatch(event);
    this.#transition++;
    const contendedBefore = this.#waiters.size > 0;
    const capacityBefore = this.capacity;
    switch (event.type) {
      case 'resource.request':
        this.#request(event);
        break;
      case 'resource.release': {
        const lease = this.#leases.get(event.leaseId);
        if (lease === undefined) return false;
        this.#endLease(lease, event.at);
        this.#stats.released++;
        this.#grantWaiters(event.at);
        break;
      }
      case 'resource.cancel': {
        const waiter = this.#waiters.get(event.requestId);
        if (waiter === undefined) return false;
        this.#unqueue(waiter);
        this.#gate?.requestDropped(waiter.requestId);
        this.#stats.timeouts++;
        this.#reply(waiter.replyTo, { type: 'resource.cancelled', requestId: event.requestId, resource: this.name });
        this.#grantWaiters(event.at);
        break;
      }
      case 'resource.revoke':
        if (!this.#revoke(event.taskId, event.at, event.reason)) return false;
        break;
      case 'resource.set-capacity':
        if (!Number.isInteger(event.capacity) || event.capacity < 0) return false;
        this.#setCapacity(event.capacity, event.at);
        break;
    }
    this.#finish(contendedBefore, capacityBefore, event.at);
    return true;
  }

  /** Applies a batch's events in order, each as if it had come alone; its answers to one requester go in one message. */
  #receiveBatch(batch: ResourceBatchEvent): boolean {
    let changed = false;
    for (const event of batch.events) if (this.receive(event)) changed = true;
    this.#groupReplies = this.#replies.length > 0;
    return changed;
  }

  /**
   * Grants the queued requests at the head whose units the gate has reserved meanwhile.
   * @returns whether anything changed
   */
  admitReserved(at: number): boolean {
    this.#transition++;
    const contendedBefore = this.#waiters.size > 0;
    const capacityBefore = this.capacity;
    const acquiredBefore = this.#stats.acquired;
    this.#grantWaiters(at);
    if (this.#stats.acquired === acquiredBefore) return false;
    this.#finish(contendedBefore, capacityBefore, at);
    return true;
  }

  /**
   * Takes one lease back (its units were lost where they are counted: a cluster lease that lapsed)
   * and answers its holder `resource.revoked` with `reason`.
   * @returns whether the lease was held
   */
  revokeLease(leaseId: string, at: number, reason: MezanError): boolean {
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return false;
    this.#transition++;
    const contendedBefore = this.#waiters.size > 0;
    const capacityBefore = this.capacity;
    const { requestId, taskId } = lease;
    this.#endLease(lease, at);
    this.#stats.revoked++;
    this.#reply(lease.replyTo, { type: 'resource.revoked', requestId, leaseId, taskId, resource: this.name, reason });
    this.#grantWaiters(at);
    this.#finish(contendedBefore, capacityBefore, at);
    return true;
  }

  /** The request at the head of the queue, the next to be granted; `undefined` when none waits. */
  get head(): ResourceWaiter | undefined {
    return this.#waiters.peek();
  }

  /** The queued requests, head first (a new list; the empty one when none waits). */
  waiting(): readonly ResourceWaiter[] {
    return this.#waiters.size === 0 ? NO_WAITERS : this.#waiters.toArray();
  }

  flushOutbox(): void {
    const published = this.#published;
    const messages = this.#observerMessages;
    const replyTo = this.#replyTo;
    const replies = this.#replies;
    const grouped = this.#groupReplies;
    // Sending cannot start another transition of this pool (XState queues what it is sent meanwhile),
    // so the lists taken here are not written until they are spares again.
    this.#published = this.#sparePublished;
    this.#replyTo = this.#spareReplyTo;
    this.#replies = this.#spareReplies;
    this.#observerMessages = this.#spareObserverMessages;
    this.#groupReplies = false;
    for (let index = 0; index < published.length; index++) {
      const item = published.at(index);
      if (item.type === 'resource.wait-ended') this.#observe?.(item);
      else this.#sink?.publish(item as EngineEvent);
    }
    for (let index = 0; index < messages.length; index++) this.#observer!.send(messages.at(index));
    if (grouped) sendGroupedReplies(replyTo, replies);
    else for (let index = 0; index < replies.length; index++) replyTo.at(index).send(replies.at(index));
    published.clear();
    messages.clear();
    replyTo.clear();
    replies.clear();
    this.#sparePublished = published;
    this.#spareObserverMessages = messages;
    this.#spareReplyTo = replyTo;
    this.#spareReplies = replies;
  }

  get hasOutbox(): boolean {
    return this.#published.length > 0 || this.#observerMessages.length > 0 || this.#replies.length > 0;
  }

  #request(request: ResourceRequestEvent): void {
    if (!unitsFit(request.units, this.capacity)) {
      this.#deny(request.replyTo, request.requestId, invalidUnitsReason(this.name, this.capacity, request.units));
      return;
    }
    // Strict FIFO: a request queues behind waiters even when it would fit, so the head cannot starve.
    // Behind a gate, every request queues until the gate reserved its units.
    if (this.#waiters.size === 0 && request.units <= this.capacity - this.#stats.inUse && this.#gate === undefined) {
      this.#grant(request, request.at, request.at);
      return;
    }
    const { requestId, taskId, units, at, replyTo } = request;
    this.#waiters.push({ requestId, taskId, units, at, replyTo, queued: true });
    const share = this.#share(taskId);
    share.requested += units;
    this.#stats.queueLength++;
  }

  #revoke(taskId: string, at: number, reason: MezanError): boolean {
    const share = this.#tasks.get(taskId);
    if (share === undefined) return false;
    this.#share(taskId);
    const resource = this.name;
    // Revocation is rare (deadlock resolution): the task's leases and requests are found by a scan
    // rather than kept in lists of their own, which every task taking the pool would pay for.
    for (const lease of [...this.#leases.values()]) {
      if (lease.taskId !== taskId) continue;
      const { leaseId } = lease;
      this.#endLease(lease, at);
      this.#stats.revoked++;
      this.#reply(lease.replyTo, { type: 'resource.revoked', requestId: lease.requestId, leaseId, taskId, resource, reason });
    }
    for (const waiter of this.#waiters.toArray()) {
      if (waiter.taskId !== taskId) continue;
      const { requestId } = waiter;
      this.#unqueue(waiter);
      this.#gate?.requestDropped(requestId);
      this.#stats.revoked++;
      this.#reply(waiter.replyTo, { type: 'resource.revoked', requestId, leaseId: undefined, taskId, resource, reason });
    }
    this.#grantWaiters(at);
    return true;
  }

  #setCapacity(capacity: number, at: number): void {
    const before = this.capacity;
    this.capacity = capacity;
    if (capacity < before) {
      // Queued requests that can never fit would block everyone behind them at the head.
      for (const waiter of this.#waiters.toArray()) {
        if (waiter.units <= capacity) continue;
        this.#unqueue(waiter);
        this.#gate?.requestDropped(waiter.requestId);
        this.#deny(waiter.replyTo, waiter.requestId, invalidUnitsReason(this.name, capacity, waiter.units));
      }
    }
    this.#grantWaiters(at);
  }

  /** Grants a request now (`at`) that was made at `requestedAt`; the caller checked that it fits. */
  #grant(request: Pick<ResourceWaiter, 'requestId' | 'taskId' | 'units' | 'replyTo'>, requestedAt: number, at: number): void {
    const leaseId = `${this.name}#${this.#nextLease++}`;
    this.#leases.set(leaseId, {
      leaseId,
      requestId: request.requestId,
      taskId: request.taskId,
      units: request.units,
      grantedAt: at,
      replyTo: request.replyTo,
    });
    this.#gate?.granted(request.requestId, leaseId);
    const share = this.#share(request.taskId);
    share.held += request.units;
    const stats = this.#stats;
    const waitMs = Math.max(0, at - requestedAt);
    stats.acquired++;
    stats.totalWaitMs += waitMs;
    if (waitMs > stats.maxWaitMs) stats.maxWaitMs = waitMs;
    stats.inUse += request.units;
    if (stats.inUse > stats.peakInUse) stats.peakInUse = stats.inUse;
    this.#reply(request.replyTo, { type: 'resource.granted', requestId: request.requestId, leaseId, resource: this.name, units: request.units, at });
  }

  /** Takes a waiter out of the queue (to grant, cancel, revoke or deny it). */
  #unqueue(waiter: ResourceWaiter): void {
    this.#waiters.remove(waiter);
    const share = this.#share(waiter.taskId);
    share.requested -= waiter.units;
    this.#stats.queueLength--;
  }

  /** Ends a lease (released or revoked) and frees its units. */
  #endLease(lease: ResourceLease, at: number): void {
    this.#leases.delete(lease.leaseId);
    this.#gate?.leaseEnded(lease.leaseId);
    const share = this.#share(lease.taskId);
    share.held -= lease.units;
    const stats = this.#stats;
    const holdMs = Math.max(0, at - lease.grantedAt);
    stats.inUse -= lease.units;
    stats.totalHoldMs += holdMs;
    if (holdMs > stats.maxHoldMs) stats.maxHoldMs = holdMs;
  }

  /** Grants queued requests in FIFO order while the head fits in the free units (and, behind a gate, has its units reserved). */
  #grantWaiters(at: number): void {
    const waiters = this.#waiters;
    const gate = this.#gate;
    for (
      let waiter = waiters.peek();
      waiter !== undefined && waiter.units <= this.capacity - this.#stats.inUse && (gate === undefined || gate.isReserved(waiter.requestId));
      waiter = waiters.peek()
    ) {
      this.#unqueue(waiter);
      this.#grant(waiter, waiter.at, at);
    }
  }

  #deny(replyTo: ResourceReplyTo, requestId: string, reason: string): void {
    this.#stats.denied++;
    this.#reply(replyTo, { type: 'resource.denied', requestId, resource: this.name, code: 'E_INVALID_OPTION', reason });
  }

  #reply(to: ResourceReplyTo, event: ResourceReplyEvent): void {
    this.#replyTo.push(to);
    this.#replies.push(event);
  }

  /** The task's share, remembering its figures before this transition the first time it is touched. */
  #share(taskId: string): TaskShare {
    let share = this.#tasks.get(taskId);
    if (share === undefined) {
      share = { taskId, held: 0, requested: 0, heldBefore: 0, requestedBefore: 0, touchedIn: 0 };
      this.#tasks.set(taskId, share);
    }
    if (share.touchedIn !== this.#transition) {
      share.touchedIn = this.#transition;
      share.heldBefore = share.held;
      share.requestedBefore = share.requested;
      this.#touched.push(share);
    }
    return share;
  }

  /**
   * Publishes what the transition changed, in order: the requests first (a granted waiter must not
   * look, even for one event, like it holds the units and still waits for them), then the holds that
   * shrank, then those that grew (nobody sees more units held than the pool has). The observer hears
   * only while requests wait, before or after the transition: a wait-for edge needs a waiter, so an
   * uncontended pool's holders are nobody's concern; when requests begin to wait it hears every
   * holder, and once none waits it forgets them.
   */
  #finish(contendedBefore: boolean, capacityBefore: number, at: number): void {
    const touched = this.#touched;
    const name = this.name;
    const contendedAfter = this.#waiters.size > 0;
    const report = this.#observer !== undefined && (contendedBefore || contendedAfter);
    const changes = report ? this.#changes : undefined;
    const publish = this.#sink !== undefined && this.#sink.active;
    const observe = this.#observe !== undefined;
    const published = this.#published;
    let holdingsChanged = false;
    for (let index = 0; index < touched.length; index++) {
      const share = touched.at(index);
      if (share.requested === share.requestedBefore) continue;
      const { taskId, requested } = share;
      changes?.push({ type: 'graph.requests', resource: name, taskId, units: requested });
      if (requested > 0 && publish) published.push({ type: 'resource.waiting', at, taskId, resource: name, units: requested });
      if (requested === 0 && share.requestedBefore > 0 && observe) published.push({ type: 'resource.wait-ended', at, taskId, resource: name });
    }
    for (let index = 0; index < touched.length; index++) {
      const share = touched.at(index);
      if (share.held >= share.heldBefore) continue;
      holdingsChanged = true;
      const { taskId, held } = share;
      if (contendedBefore) changes?.push({ type: 'graph.holds', resource: name, taskId, units: held });
      if (publish) published.push({ type: 'resource.released', at, taskId, resource: name, units: held });
    }
    for (let index = 0; index < touched.length; index++) {
      const share = touched.at(index);
      if (share.held <= share.heldBefore) continue;
      holdingsChanged = true;
      const { taskId, held } = share;
      if (contendedBefore) changes?.push({ type: 'graph.holds', resource: name, taskId, units: held });
      if (publish) published.push({ type: 'resource.acquired', at, taskId, resource: name, units: held });
    }
    if (holdingsChanged) this.#holdings = this.#updatedHoldings(touched);
    for (let index = 0; index < touched.length; index++) {
      const share = touched.at(index);
      if (share.held === 0 && share.requested === 0) this.#tasks.delete(share.taskId);
    }
    touched.clear();
    if (changes === undefined) return;
    // The observer knew none of this pool's holders: it hears all of them now.
    if (!contendedBefore) for (const { taskId, units } of this.#holdings) changes.push({ type: 'graph.holds', resource: name, taskId, units });
    if (changes.length > 0 || this.capacity !== capacityBefore || contendedBefore !== contendedAfter) {
      this.#observerMessages.push({
        type: 'graph.pool-changes',
        resource: name,
        capacity: this.capacity,
        contended: contendedAfter,
        changes: changes.toArray(),
      });
    }
    changes.clear();
  }

  /** The holdings after this transition: a new list, with new entries only for the tasks whose units changed. */
  #updatedHoldings(touched: ScratchList<TaskShare>): PoolHolding[] {
    const holdings = this.#holdings.slice();
    for (let touchedIndex = 0; touchedIndex < touched.length; touchedIndex++) {
      const { taskId, held, heldBefore } = touched.at(touchedIndex);
      if (held === heldBefore) continue;
      const index = heldBefore === 0 ? -1 : holdingIndex(holdings, taskId);
      if (held === 0) removeAt(holdings, index);
      else if (index >= 0) holdings[index] = { taskId, units: held };
      else holdings.push({ taskId, units: held });
    }
    return holdings;
  }
}

/**
 * Sends a batch's answers: those to one requester in one `resource.replies`, in order (a lone one as
 * itself), requesters in the order of their first answer.
 */
function sendGroupedReplies(replyTo: ScratchList<ResourceReplyTo>, replies: ScratchList<ResourceReplyEvent>): void {
  const only = replyTo.at(0);
  let index = 1;
  while (index < replyTo.length && replyTo.at(index) === only) index++;
  // The common case: every answer goes to the one runner that sent the batch.
  if (index === replyTo.length) {
    only.send(replies.length === 1 ? replies.at(0) : { type: 'resource.replies', replies: replies.toArray() });
    return;
  }
  const sent = new Array<boolean>(replies.length).fill(false);
  for (let first = 0; first < replies.length; first++) {
    if (sent[first]) continue;
    const target = replyTo.at(first);
    let group: ResourceReplyEvent[] | undefined;
    for (let index = first + 1; index < replies.length; index++) {
      if (sent[index] || replyTo.at(index) !== target) continue;
      sent[index] = true;
      (group ??= [replies.at(first)]).push(replies.at(index));
    }
    target.send(group === undefined ? replies.at(first) : { type: 'resource.replies', replies: group });
  }
}

/** Where `taskId` is in `holdings`, or -1 (a loop: a `findIndex` callback would be a closure per call). */
function holdingIndex(holdings: readonly PoolHolding[], taskId: string): number {
  for (let index = 0; index < holdings.length; index++) if (holdings[index]!.taskId === taskId) return index;
  return -1;
}

const cores = new WeakMap<object, PoolCore>();

/**
 * The logic of a resource pool: `capacity` units of one named resource, granted to tasks in strict
 * FIFO order (a large request at the head is never overtaken, so it cannot starve). It has no clock
 * and no timers: times arrive in the events, and requesters own their timeouts (they send
 * `resource.cancel`).
 *
 * Its state shows the pool at a glance: `available` (free units, nobody waiting), `exhausted` (no
 * free units, nobody waiting) or `contended` (requests queued). It answers every request exactly
 * once, keeps exact statistics, publishes each task's waits and holdings as engine events, and tells
 * its observer (the deadlock detector) what a wait-for graph needs: nothing while no request waits,
 * so that an uncontended acquire and release cost one message each way. Whatever frees room (a
 * release, a cancel, a revoke, a larger capacity, or a smaller one that denies the queued requests
 * it can never fit) grants the waiters that now fit, in the same step.
 *
 * Custom actor logic rather than a machine: its transitions are plain code, because they run twice
 * per task that takes a unit. The statechart it follows is `machines/resource.machine.ts`, which
 * tests hold it to.
 *
 * @example
 * ```ts
 * const pool = createActor(poolLogic, { input: { name: 'db', capacity: 2 } }).start();
 * pool.send({ type: 'resource.request', requestId: 'r1', taskId: 't1', units: 1, at: clock.now(), replyTo: requester });
 * // requester receives { type: 'resource.granted', requestId: 'r1', leaseId: 'db#1', resource: 'db', units: 1, at }
 * pool.send({ type: 'resource.release', leaseId: 'db#1', at: clock.now() });
 * ```
 *
 * @internal
 */
export const poolLogic: ActorLogic<PoolSnapshot, PoolEvent, PoolInput, AnyActorSystem, EventObject> = {
  config: 'mezan.pool',
  getInitialSnapshot(scope: PoolScope, input: PoolInput) {
    const core = new PoolCore(input);
    cores.set(scope.self, core);
    return core.snapshot();
  },
  transition(snapshot, event, scope) {
    const core = cores.get(scope.self);
    if (core === undefined || snapshot.status !== 'active' || event.type === 'xstate.stop') return snapshot;
    if (!core.receive(event)) return snapshot;
    if (core.hasOutbox) scope.defer(() => core.flushOutbox());
    return core.snapshot();
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
