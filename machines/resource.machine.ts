import { assertEvent, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type {
  ResourceEvent,
  GraphPoolChangesEvent,
  ResourceGraphEvent,
  ResourceObserver,
  ResourceReplyEvent,
  ResourceReplyTo,
  ResourceRequestEvent,
} from '../src/internal/resource-protocol';

/** What a resource pool is created with. @internal */
export interface ResourceInput {
  /** The pool's name, unique in the engine; lease ids start with it. */
  readonly name: string;
  /** How many units the pool has (a non-negative integer; the engine validates it). */
  readonly capacity: number;
  /** Its place in the lock hierarchy, if it has one (the supervisor enforces the order). */
  readonly rank?: number;
  /** Who keeps the wait-for graph; told of every change of a task's held or requested units. */
  readonly observer?: ResourceObserver;
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
 * call, as the pool updates its own in place.
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

/** A granted request: `units` held by `taskId` until released or revoked. @internal */
export interface ResourceLease {
  readonly leaseId: string;
  readonly requestId: string;
  readonly taskId: string;
  readonly units: number;
  readonly grantedAt: number;
  readonly replyTo: ResourceReplyTo;
}

/** A request waiting in the queue. @internal */
export interface ResourceWaiter {
  readonly requestId: string;
  readonly taskId: string;
  readonly units: number;
  /** When it was requested. */
  readonly at: number;
  readonly replyTo: ResourceReplyTo;
  /** `false` once it left the queue; its slot is skipped until the queue is compacted. */
  queued: boolean;
}

/**
 * The pool's FIFO queue of waiters: an array with a head index, so taking the head is O(1) (no
 * `Array.prototype.shift`), and removal from the middle (cancel, revoke) is O(1) by leaving a hole
 * that is skipped. Holes and taken slots are compacted away once they outnumber the waiters.
 *
 * @internal
 */
export class WaiterQueue {
  #items: ResourceWaiter[] = [];
  #head = 0;
  /** Holes left behind the head. */
  #holes = 0;
  readonly #byRequest = new Map<string, ResourceWaiter>();

  /** How many requests are queued. */
  get size(): number {
    return this.#byRequest.size;
  }

  /** The queued waiter with this request id, if any. */
  get(requestId: string): ResourceWaiter | undefined {
    return this.#byRequest.get(requestId);
  }

  /** Queues a waiter at the tail. */
  push(waiter: ResourceWaiter): void {
    this.#items.push(waiter);
    this.#byRequest.set(waiter.requestId, waiter);
  }

  /** The waiter at the head, if any. */
  peek(): ResourceWaiter | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head]!;
      if (waiter.queued) return waiter;
      this.#head++;
      this.#holes--;
    }
    return undefined;
  }

  /** Takes a waiter out of the queue, wherever it is. */
  remove(waiter: ResourceWaiter): void {
    if (!waiter.queued) return;
    waiter.queued = false;
    this.#byRequest.delete(waiter.requestId);
    if (this.#items[this.#head] === waiter) this.#head++;
    else this.#holes++;
    this.#compactIfSparse();
  }

  /** The queued waiters, head first. */
  toArray(): ResourceWaiter[] {
    const waiters: ResourceWaiter[] = [];
    for (let index = this.#head; index < this.#items.length; index++) {
      const waiter = this.#items[index]!;
      if (waiter.queued) waiters.push(waiter);
    }
    return waiters;
  }

  #compactIfSparse(): void {
    const waste = this.#head + this.#holes;
    if (waste < 64 || waste * 2 < this.#items.length) return;
    this.#items = this.toArray();
    this.#head = 0;
    this.#holes = 0;
  }
}

/** What one task has to do with the pool now. @internal */
export interface ResourceTaskShare {
  held: number;
  requested: number;
  readonly leaseIds: Set<string>;
  readonly requestIds: Set<string>;
}

/**
 * The resource machine's context. `holders`, `waiters` and `tasks` are private structures that only
 * this machine's actions touch, in place; read them through the latest snapshot. The other fields are
 * replaced on change. @internal
 */
export interface ResourceContext {
  readonly name: string;
  readonly rank: number | undefined;
  readonly capacity: number;
  readonly observer: ResourceObserver | undefined;
  /** Current leases by lease id. */
  readonly holders: Map<string, ResourceLease>;
  readonly waiters: WaiterQueue;
  /** Held and requested units by task, for revocation and for the observer; only tasks with either. */
  readonly tasks: Map<string, ResourceTaskShare>;
  /** The number of the next lease. */
  readonly nextLease: number;
  readonly stats: Readonly<ResourceStats>;
}

interface Outgoing {
  readonly to: AnyActorRef;
  readonly event: ResourceReplyEvent;
}

/** The part of `enqueueActions`' `enqueue` a change is committed with. */
interface Enqueue {
  assign(patch: Partial<ResourceContext>): void;
  sendTo(to: AnyActorRef, event: ResourceReplyEvent | GraphPoolChangesEvent): void;
}

/**
 * One event's worth of changes to the pool. It mutates the private structures directly, keeps the
 * replaced fields (capacity, counter, stats) as new values, remembers each touched task's figures
 * before the change, and on commit enqueues the new fields, the observer's updates and the replies.
 * One change per event (granting waiters included), so the observer hears each task's net change
 * once: a release and a re-grant of the same units to the same task tell it nothing.
 */
class PoolChange {
  capacity: number;
  nextLease: number;
  readonly stats: ResourceStats;
  readonly #context: ResourceContext;
  readonly #before = new Map<string, { readonly held: number; readonly requested: number }>();
  readonly #replies: Outgoing[] = [];

  constructor(context: ResourceContext) {
    this.#context = context;
    this.capacity = context.capacity;
    this.nextLease = context.nextLease;
    this.stats = { ...context.stats };
  }

  get free(): number {
    return this.capacity - this.stats.inUse;
  }

  /** Grants a request now (`at`) that was made at `requestedAt`; the caller checked that it fits. */
  grant(request: Pick<ResourceWaiter, 'requestId' | 'taskId' | 'units' | 'replyTo'>, requestedAt: number, at: number): void {
    const { name, holders } = this.#context;
    const leaseId = `${name}#${this.nextLease++}`;
    holders.set(leaseId, {
      leaseId,
      requestId: request.requestId,
      taskId: request.taskId,
      units: request.units,
      grantedAt: at,
      replyTo: request.replyTo,
    });
    const share = this.#share(request.taskId);
    share.held += request.units;
    share.leaseIds.add(leaseId);
    const stats = this.stats;
    const waitMs = Math.max(0, at - requestedAt);
    stats.acquired++;
    stats.totalWaitMs += waitMs;
    stats.maxWaitMs = Math.max(stats.maxWaitMs, waitMs);
    stats.inUse += request.units;
    stats.peakInUse = Math.max(stats.peakInUse, stats.inUse);
    this.reply(request.replyTo, { type: 'resource.granted', requestId: request.requestId, leaseId, resource: name, units: request.units, at });
  }

  queue(request: ResourceRequestEvent): void {
    const { requestId, taskId, units, at, replyTo } = request;
    this.#context.waiters.push({ requestId, taskId, units, at, replyTo, queued: true });
    const share = this.#share(taskId);
    share.requested += units;
    share.requestIds.add(requestId);
    this.stats.queueLength++;
  }

  /** Takes a waiter out of the queue (to grant, cancel, revoke or deny it). */
  unqueue(waiter: ResourceWaiter): void {
    this.#context.waiters.remove(waiter);
    const share = this.#share(waiter.taskId);
    share.requested -= waiter.units;
    share.requestIds.delete(waiter.requestId);
    this.stats.queueLength--;
  }

  /** Ends a lease (released or revoked) and frees its units. */
  endLease(lease: ResourceLease, at: number): void {
    this.#context.holders.delete(lease.leaseId);
    const share = this.#share(lease.taskId);
    share.held -= lease.units;
    share.leaseIds.delete(lease.leaseId);
    const stats = this.stats;
    const holdMs = Math.max(0, at - lease.grantedAt);
    stats.inUse -= lease.units;
    stats.totalHoldMs += holdMs;
    stats.maxHoldMs = Math.max(stats.maxHoldMs, holdMs);
  }

  /** Grants queued requests in FIFO order while the head fits in the free units. */
  grantWaiters(at: number): void {
    const { waiters } = this.#context;
    for (let waiter = waiters.peek(); waiter !== undefined && waiter.units <= this.free; waiter = waiters.peek()) {
      this.unqueue(waiter);
      this.grant(waiter, waiter.at, at);
    }
  }

  deny(replyTo: ResourceReplyTo, requestId: string, reason: string): void {
    this.stats.denied++;
    this.reply(replyTo, { type: 'resource.denied', requestId, resource: this.#context.name, code: 'E_INVALID_OPTION', reason });
  }

  reply(to: ResourceReplyTo, event: ResourceReplyEvent): void {
    this.#replies.push({ to, event });
  }

  /** Enqueues the new fields, then the observer's updates, then the replies. */
  commit(enqueue: Enqueue): void {
    const { name, observer, tasks } = this.#context;
    enqueue.assign({ capacity: this.capacity, nextLease: this.nextLease, stats: this.stats });
    if (observer !== undefined) {
      // Requests first: a granted waiter must not look, even for one event, like it holds the units
      // and still waits for them. Then the holds that shrank, then those that grew: the observer
      // never sees more units held than the pool has. All in one message.
      const changes: ResourceGraphEvent[] = [];
      for (const [taskId, before] of this.#before) {
        const share = tasks.get(taskId)!;
        if (share.requested !== before.requested) changes.push({ type: 'graph.requests', resource: name, taskId, units: share.requested });
      }
      for (const [taskId, before] of this.#before) {
        const share = tasks.get(taskId)!;
        if (share.held < before.held) changes.push({ type: 'graph.holds', resource: name, taskId, units: share.held });
      }
      for (const [taskId, before] of this.#before) {
        const share = tasks.get(taskId)!;
        if (share.held > before.held) changes.push({ type: 'graph.holds', resource: name, taskId, units: share.held });
      }
      if (changes.length > 0) enqueue.sendTo(observer, { type: 'graph.pool-changes', resource: name, changes } satisfies GraphPoolChangesEvent);
    }
    for (const [taskId] of this.#before) {
      const share = tasks.get(taskId)!;
      if (share.held === 0 && share.requested === 0) tasks.delete(taskId);
    }
    for (const { to, event } of this.#replies) enqueue.sendTo(to, event);
  }

  #share(taskId: string): ResourceTaskShare {
    const { tasks } = this.#context;
    let share = tasks.get(taskId);
    if (share === undefined) {
      share = { held: 0, requested: 0, leaseIds: new Set(), requestIds: new Set() };
      tasks.set(taskId, share);
    }
    if (!this.#before.has(taskId)) this.#before.set(taskId, { held: share.held, requested: share.requested });
    return share;
  }
}

function unitsFit(units: number, capacity: number): boolean {
  return Number.isInteger(units) && units >= 1 && units <= capacity;
}

function invalidUnitsReason(name: string, capacity: number, units: number): string {
  return `Expected \`units\` to be an integer from 1 to ${capacity} (the capacity of \`${name}\`), got \`${String(units)}\``;
}

/**
 * A resource pool: `capacity` units of one named resource, granted to tasks in strict FIFO order (a
 * large request at the head is never overtaken, so it cannot starve). Pure: no clock, no timers, no
 * I/O; times arrive in the events, and requesters own their timeouts (they send `resource.cancel`).
 *
 * Its state shows the pool at a glance: `available` (free units, nobody waiting), `exhausted` (no free
 * units, nobody waiting) or `contended` (requests queued). It answers every request exactly once, keeps
 * exact statistics, and tells its observer of every change of a task's held or requested units, so the
 * supervisor's wait-for graph stays exactly in step. Whatever frees room (a release, a cancel, a
 * revoke, a larger capacity, or a smaller one that denies the queued requests it can never fit)
 * grants the waiters that now fit, in the same step.
 *
 * @example
 * ```ts
 * const pool = createActor(resourceMachine, { input: { name: 'db', capacity: 2, observer: supervisor } }).start();
 * pool.send({ type: 'resource.request', requestId: 'r1', taskId: 't1', units: 1, at: clock.now(), replyTo: requester });
 * // requester receives { type: 'resource.granted', requestId: 'r1', leaseId: 'db#1', resource: 'db', units: 1, at }
 * pool.send({ type: 'resource.release', leaseId: 'db#1', at: clock.now() });
 * ```
 */
export const resourceMachine = setup({
  types: {
    context: {} as ResourceContext,
    events: {} as ResourceEvent,
    input: {} as ResourceInput,
  },
  actions: {
    denyRequest: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'resource.request');
      const request = event;
      const change = new PoolChange(context);
      change.deny(request.replyTo, request.requestId, invalidUnitsReason(context.name, context.capacity, request.units));
      change.commit(enqueue);
    }),
    grantRequest: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'resource.request');
      const request = event;
      const change = new PoolChange(context);
      change.grant(request, request.at, request.at);
      change.commit(enqueue);
    }),
    queueRequest: enqueueActions(({ context, event, enqueue }) => {
      const change = new PoolChange(context);
      assertEvent(event, 'resource.request');
      change.queue(event);
      change.commit(enqueue);
    }),
    releaseLease: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'resource.release');
      const { leaseId, at } = event;
      const change = new PoolChange(context);
      change.endLease(context.holders.get(leaseId)!, at);
      change.stats.released++;
      change.grantWaiters(at);
      change.commit(enqueue);
    }),
    cancelRequest: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'resource.cancel');
      const { requestId, at } = event;
      const change = new PoolChange(context);
      const waiter = context.waiters.get(requestId)!;
      change.unqueue(waiter);
      change.stats.timeouts++;
      change.reply(waiter.replyTo, { type: 'resource.cancelled', requestId, resource: context.name });
      change.grantWaiters(at);
      change.commit(enqueue);
    }),
    revokeTask: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'resource.revoke');
      const { taskId, at, reason } = event;
      const share = context.tasks.get(taskId)!;
      const change = new PoolChange(context);
      const resource = context.name;
      for (const leaseId of [...share.leaseIds]) {
        const lease = context.holders.get(leaseId)!;
        change.endLease(lease, at);
        change.stats.revoked++;
        change.reply(lease.replyTo, { type: 'resource.revoked', requestId: lease.requestId, leaseId, taskId, resource, reason });
      }
      for (const requestId of [...share.requestIds]) {
        const waiter = context.waiters.get(requestId)!;
        change.unqueue(waiter);
        change.stats.revoked++;
        change.reply(waiter.replyTo, { type: 'resource.revoked', requestId, leaseId: undefined, taskId, resource, reason });
      }
      change.grantWaiters(at);
      change.commit(enqueue);
    }),
    setCapacity: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'resource.set-capacity');
      const { capacity, at } = event;
      const change = new PoolChange(context);
      change.capacity = capacity;
      if (capacity < context.capacity) {
        for (const waiter of context.waiters.toArray()) {
          if (waiter.units <= capacity) continue;
          change.unqueue(waiter);
          change.deny(waiter.replyTo, waiter.requestId, invalidUnitsReason(context.name, capacity, waiter.units));
        }
      }
      change.grantWaiters(at);
      change.commit(enqueue);
    }),
  },
  guards: {
    isInvalidRequest: ({ context, event }) => {
      assertEvent(event, 'resource.request');
      return !unitsFit(event.units, context.capacity);
    },
    fitsFreeUnits: ({ context, event }) => {
      assertEvent(event, 'resource.request');
      return event.units <= context.capacity - context.stats.inUse;
    },
    holdsLease: ({ context, event }) => {
      assertEvent(event, 'resource.release');
      return context.holders.has(event.leaseId);
    },
    isQueued: ({ context, event }) => {
      assertEvent(event, 'resource.cancel');
      return context.waiters.get(event.requestId) !== undefined;
    },
    hasShare: ({ context, event }) => {
      assertEvent(event, 'resource.revoke');
      return context.tasks.has(event.taskId);
    },
    isValidCapacity: ({ event }) => {
      assertEvent(event, 'resource.set-capacity');
      const { capacity } = event;
      return Number.isInteger(capacity) && capacity >= 0;
    },
    isAvailable: ({ context }) => context.waiters.size === 0 && context.capacity > context.stats.inUse,
    isExhausted: ({ context }) => context.waiters.size === 0 && context.capacity <= context.stats.inUse,
    isContended: ({ context }) => context.waiters.size > 0,
  },
}).createMachine({
  id: 'resource',
  context: ({ input }) => ({
    name: input.name,
    rank: input.rank,
    capacity: input.capacity,
    observer: input.observer,
    holders: new Map(),
    waiters: new WaiterQueue(),
    tasks: new Map(),
    nextLease: 1,
    stats: zeroResourceStats(),
  }),
  initial: 'available',
  on: {
    'resource.release': { guard: 'holdsLease', actions: 'releaseLease' },
    'resource.cancel': { guard: 'isQueued', actions: 'cancelRequest' },
    'resource.revoke': { guard: 'hasShare', actions: 'revokeTask' },
    'resource.set-capacity': { guard: 'isValidCapacity', actions: 'setCapacity' },
  },
  states: {
    available: {
      always: [
        { guard: 'isContended', target: 'contended' },
        { guard: 'isExhausted', target: 'exhausted' },
      ],
      on: {
        'resource.request': [
          { guard: 'isInvalidRequest', actions: 'denyRequest' },
          { guard: 'fitsFreeUnits', actions: 'grantRequest' },
          { actions: 'queueRequest' },
        ],
      },
    },
    exhausted: {
      always: [
        { guard: 'isContended', target: 'contended' },
        { guard: 'isAvailable', target: 'available' },
      ],
      on: {
        'resource.request': [{ guard: 'isInvalidRequest', actions: 'denyRequest' }, { actions: 'queueRequest' }],
      },
    },
    // Requests queue behind the head even when they would fit: strict FIFO, so the head cannot starve.
    contended: {
      always: [
        { guard: 'isAvailable', target: 'available' },
        { guard: 'isExhausted', target: 'exhausted' },
      ],
      on: {
        'resource.request': [{ guard: 'isInvalidRequest', actions: 'denyRequest' }, { actions: 'queueRequest' }],
      },
    },
  },
});
