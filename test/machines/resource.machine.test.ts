import fc from 'fast-check';
import { createActor, fromCallback, type EventObject } from 'xstate';
import { resourceMachine, zeroResourceStats, type ResourceInput, type ResourceStats } from '../../machines/resource.machine';
import { MezanError } from '../../src/errors';
import type {
  GraphPoolChangesEvent,
  ResourceEvent,
  ResourceGraphEvent,
  ResourceGrantedEvent,
  ResourceReplyEvent,
  ResourceReplyTo,
} from '../../src/internal/resource-protocol';

/** An actor that records every event it receives, in order. */
function collector<E extends EventObject>() {
  const events: E[] = [];
  const ref = createActor(fromCallback<E>(({ receive }) => receive((event) => events.push(event)))).start();
  return { ref, events };
}

/**
 * A pool named `db` with a collecting requester and observer, and short-hands for its events. The
 * observer's messages (one per transition that changed anything) are unpacked into their changes,
 * in order; `graphMessages` counts the messages.
 */
function startPool(capacity: number, input: Partial<ResourceInput> = {}) {
  const replies = collector<ResourceReplyEvent>();
  const observer = collector<GraphPoolChangesEvent>();
  const graph = {
    get events(): ResourceGraphEvent[] {
      return unpacked;
    },
  };
  const unpacked: ResourceGraphEvent[] = [];
  const pool = createActor(resourceMachine, { input: { name: 'db', capacity, observer: observer.ref, ...input } }).start();
  const unpack = (): void => {
    for (const message of observer.events.splice(0)) {
      expect(message).toMatchObject({ type: 'graph.pool-changes', resource: 'db' });
      expect(message.changes.length).toBeGreaterThan(0);
      unpacked.push(...message.changes);
      graphMessages++;
    }
  };
  let graphMessages = 0;
  const send = (event: ResourceEvent): void => {
    pool.send(event);
    unpack();
  };
  return {
    pool,
    replies: replies.events,
    get graph(): ResourceGraphEvent[] {
      unpack();
      return graph.events;
    },
    /** How many messages the observer got. */
    graphMessages: () => graphMessages,
    state: () => pool.getSnapshot().value,
    stats: () => pool.getSnapshot().context.stats,
    request: (requestId: string, taskId: string, units: number, at = 0, replyTo: ResourceReplyTo = replies.ref) =>
      send({ type: 'resource.request', requestId, taskId, units, at, replyTo }),
    release: (leaseId: string, at = 0) => send({ type: 'resource.release', leaseId, at }),
    cancel: (requestId: string, at = 0) => send({ type: 'resource.cancel', requestId, at }),
    revoke: (taskId: string, at = 0, reason = new MezanError('E_SHUTDOWN', 'shutting down')) => send({ type: 'resource.revoke', taskId, at, reason }),
    setCapacity: (capacity: number, at = 0) => send({ type: 'resource.set-capacity', capacity, at }),
    /** Removes and returns the replies received so far. */
    takeReplies: () => replies.events.splice(0),
    takeGraph: () => {
      unpack();
      return graph.events.splice(0);
    },
  };
}

const granted = (requestId: string, leaseId: string, units: number, at = 0): ResourceGrantedEvent => ({
  type: 'resource.granted',
  requestId,
  leaseId,
  resource: 'db',
  units,
  at,
});
const holds = (taskId: string, units: number): ResourceGraphEvent => ({ type: 'graph.holds', resource: 'db', taskId, units });
const requests = (taskId: string, units: number): ResourceGraphEvent => ({ type: 'graph.requests', resource: 'db', taskId, units });

describe('resourceMachine', () => {
  describe('granting', () => {
    it('grants at once while units are free, with deterministic lease ids, and is exhausted when full', () => {
      const t = startPool(3);
      expect(t.state()).toBe('available');
      t.request('r1', 'a', 1, 5);
      t.request('r2', 'b', 2, 6);
      expect(t.takeReplies()).toEqual([granted('r1', 'db#1', 1, 5), granted('r2', 'db#2', 2, 6)]);
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ acquired: 2, inUse: 3, peakInUse: 3, queueLength: 0 });
      expect(
        [...t.pool.getSnapshot().context.holders.values()].map(({ leaseId, taskId, units, grantedAt }) => ({ leaseId, taskId, units, grantedAt })),
      ).toEqual([
        { leaseId: 'db#1', taskId: 'a', units: 1, grantedAt: 5 },
        { leaseId: 'db#2', taskId: 'b', units: 2, grantedAt: 6 },
      ]);
    });

    it('queues a request that does not fit and grants it when units are released', () => {
      const t = startPool(2);
      t.request('r1', 'a', 2, 0);
      t.request('r2', 'b', 1, 10);
      expect(t.takeReplies()).toEqual([granted('r1', 'db#1', 2, 0)]);
      expect(t.state()).toBe('contended');
      expect(t.stats().queueLength).toBe(1);
      expect(
        t.pool
          .getSnapshot()
          .context.waiters.toArray()
          .map((waiter) => waiter.requestId),
      ).toEqual(['r2']);
      t.release('db#1', 30);
      expect(t.takeReplies()).toEqual([granted('r2', 'db#2', 1, 30)]);
      expect(t.state()).toBe('available');
      expect(t.stats()).toMatchObject({ acquired: 2, released: 1, inUse: 1, queueLength: 0 });
    });

    it('grants waiters in FIFO order while they fit, and stops at the first that does not', () => {
      const t = startPool(4);
      t.request('hold', 'a', 4);
      t.request('w1', 'b', 1);
      t.request('w2', 'c', 2);
      t.request('w3', 'd', 3);
      t.request('w4', 'e', 1);
      t.takeReplies();
      t.release('db#1', 7);
      // w1 + w2 = 3 of 4; w3 needs 3 and would be overtaken by w4 (1), which must wait behind it.
      expect(t.takeReplies()).toEqual([granted('w1', 'db#2', 1, 7), granted('w2', 'db#3', 2, 7)]);
      expect(t.state()).toBe('contended');
      t.release('db#2', 8);
      expect(t.takeReplies()).toEqual([]);
      t.release('db#3', 9);
      expect(t.takeReplies()).toEqual([granted('w3', 'db#4', 3, 9), granted('w4', 'db#5', 1, 9)]);
      expect(t.state()).toBe('exhausted');
    });

    it('never lets a small request overtake a large one at the head, even when the small one fits now', () => {
      const t = startPool(3);
      t.request('small-holder', 'a', 2);
      t.request('big', 'b', 3);
      t.request('small', 'c', 1);
      expect(t.takeReplies()).toEqual([granted('small-holder', 'db#1', 2)]);
      expect(t.stats()).toMatchObject({ inUse: 2, queueLength: 2 });
      expect(t.state()).toBe('contended');
      t.release('db#1');
      expect(t.takeReplies()).toEqual([granted('big', 'db#2', 3)]);
      t.release('db#2');
      expect(t.takeReplies()).toEqual([granted('small', 'db#3', 1)]);
    });

    it('sends each reply to the requester that asked', () => {
      const t = startPool(1);
      const other = collector<ResourceReplyEvent>();
      t.request('mine', 'a', 1);
      t.request('theirs', 'b', 1, 0, other.ref);
      t.release('db#1');
      expect(t.replies).toEqual([granted('mine', 'db#1', 1)]);
      expect(other.events).toEqual([granted('theirs', 'db#2', 1)]);
    });

    it('keeps its name and rank, and works without an observer', () => {
      const replies = collector<ResourceReplyEvent>();
      const pool = createActor(resourceMachine, { input: { name: 'gpu', capacity: 1, rank: 2 } }).start();
      pool.send({ type: 'resource.request', requestId: 'r', taskId: 't', units: 1, at: 0, replyTo: replies.ref });
      expect(pool.getSnapshot().context).toMatchObject({ name: 'gpu', rank: 2, capacity: 1 });
      expect(replies.events).toEqual([{ type: 'resource.granted', requestId: 'r', leaseId: 'gpu#1', resource: 'gpu', units: 1, at: 0 }]);
    });

    it('starts exhausted when it has no capacity', () => {
      expect(startPool(0).state()).toBe('exhausted');
    });
  });

  describe('invalid requests', () => {
    const invalid: Array<[string, number]> = [
      ['zero units', 0],
      ['negative units', -1],
      ['fractional units', 1.5],
      ['NaN units', NaN],
      ['infinite units', Infinity],
      ['more units than the capacity', 3],
    ];
    it.each(invalid)('denies %s with E_INVALID_OPTION and changes nothing else', (_label, units) => {
      const t = startPool(2);
      t.request('held', 'a', 1);
      t.takeReplies();
      t.takeGraph();
      t.request('bad', 'b', units);
      expect(t.takeReplies()).toEqual([
        { type: 'resource.denied', requestId: 'bad', resource: 'db', code: 'E_INVALID_OPTION', reason: expect.any(String) },
      ]);
      expect(t.graph).toEqual([]);
      expect(t.state()).toBe('available');
      expect(t.stats()).toMatchObject({ denied: 1, acquired: 1, inUse: 1, queueLength: 0 });
    });

    it('denies an invalid request while contended too, without queueing it', () => {
      const t = startPool(2);
      t.request('held', 'a', 2);
      t.request('queued', 'b', 1);
      t.takeReplies();
      t.request('bad', 'c', 5);
      expect(t.takeReplies()).toEqual([expect.objectContaining({ type: 'resource.denied', requestId: 'bad', code: 'E_INVALID_OPTION' })]);
      expect(t.stats().queueLength).toBe(1);
    });
  });

  describe('release', () => {
    it('is idempotent: a second release, a stale or an unknown lease id change nothing', () => {
      const t = startPool(2);
      t.request('r1', 'a', 1, 0);
      t.request('r2', 'b', 1, 0);
      t.release('db#1', 10);
      t.takeReplies();
      t.takeGraph();
      const before = t.pool.getSnapshot();
      t.release('db#1', 20);
      t.release('db#99', 20);
      t.release('nope', 20);
      expect(t.replies).toEqual([]);
      expect(t.graph).toEqual([]);
      expect(t.stats()).toEqual(before.context.stats);
      expect(t.stats()).toMatchObject({ released: 1, inUse: 1, totalHoldMs: 10 });
    });

    it('ignores the release of a lease that was revoked', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.revoke('a');
      t.takeGraph();
      t.release('db#1');
      expect(t.stats()).toMatchObject({ released: 0, revoked: 1, inUse: 0 });
      expect(t.graph).toEqual([]);
    });
  });

  describe('cancel', () => {
    it('withdraws a queued request and answers it', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.request('r2', 'b', 1, 5);
      t.takeReplies();
      t.cancel('r2', 50);
      expect(t.takeReplies()).toEqual([{ type: 'resource.cancelled', requestId: 'r2', resource: 'db' }]);
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ timeouts: 1, queueLength: 0, acquired: 1 });
      t.release('db#1');
      expect(t.takeReplies()).toEqual([]);
    });

    it('does nothing for a request already granted, or unknown, or cancelled before', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.request('r2', 'b', 1);
      t.cancel('r2');
      t.takeReplies();
      t.takeGraph();
      t.cancel('r1');
      t.cancel('r2');
      t.cancel('unknown');
      expect(t.replies).toEqual([]);
      expect(t.graph).toEqual([]);
      expect(t.stats()).toMatchObject({ timeouts: 1, inUse: 1 });
      expect(t.pool.getSnapshot().context.holders.has('db#1')).toBe(true);
    });

    it('unblocks the requests behind a large head that gives up', () => {
      const t = startPool(3);
      t.request('hold', 'a', 2);
      t.request('big', 'b', 3);
      t.request('small', 'c', 1, 4);
      t.takeReplies();
      t.cancel('big', 9);
      expect(t.takeReplies()).toEqual([{ type: 'resource.cancelled', requestId: 'big', resource: 'db' }, granted('small', 'db#2', 1, 9)]);
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ totalWaitMs: 5, maxWaitMs: 5 });
    });
  });

  describe('revoke', () => {
    it('takes back every lease of a task and drops its queued requests, then grants the others', () => {
      const t = startPool(3);
      const reason = new MezanError('E_CANCELLED', 'victim');
      t.request('a1', 'a', 1, 0);
      t.request('a2', 'a', 1, 0);
      t.request('b1', 'b', 2, 1);
      t.request('a3', 'a', 1, 2);
      t.request('c1', 'c', 1, 3);
      t.takeReplies();
      t.takeGraph();
      t.revoke('a', 10, reason);
      expect(t.takeReplies()).toEqual([
        { type: 'resource.revoked', requestId: 'a1', leaseId: 'db#1', taskId: 'a', resource: 'db', reason },
        { type: 'resource.revoked', requestId: 'a2', leaseId: 'db#2', taskId: 'a', resource: 'db', reason },
        { type: 'resource.revoked', requestId: 'a3', leaseId: undefined, taskId: 'a', resource: 'db', reason },
        granted('b1', 'db#3', 2, 10),
        granted('c1', 'db#4', 1, 10),
      ]);
      // Requests first, then the holds that shrank, then those that grew: never more held than the pool has.
      expect(t.takeGraph()).toEqual([requests('a', 0), requests('b', 0), requests('c', 0), holds('a', 0), holds('b', 2), holds('c', 1)]);
      expect(t.stats()).toMatchObject({ revoked: 3, released: 0, inUse: 3, queueLength: 0, totalHoldMs: 20, maxHoldMs: 10 });
      expect(t.pool.getSnapshot().context.tasks.has('a')).toBe(false);
      expect(t.state()).toBe('exhausted');
    });

    it('does nothing for a task with neither leases nor requests here', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.takeReplies();
      t.takeGraph();
      t.revoke('b');
      expect(t.replies).toEqual([]);
      expect(t.graph).toEqual([]);
      expect(t.stats().revoked).toBe(0);
    });
  });

  describe('set-capacity', () => {
    it('grants waiters when it grows, still in FIFO order', () => {
      const t = startPool(2);
      t.request('r1', 'a', 2, 0);
      t.request('r2', 'b', 2, 0);
      t.request('r3', 'c', 1, 0);
      t.takeReplies();
      t.setCapacity(3, 20);
      // One unit is free and r3 would fit, but r2 is ahead of it.
      expect(t.takeReplies()).toEqual([]);
      expect(t.state()).toBe('contended');
      t.setCapacity(5, 25);
      expect(t.takeReplies()).toEqual([granted('r2', 'db#2', 2, 25), granted('r3', 'db#3', 1, 25)]);
      expect(t.pool.getSnapshot().context.capacity).toBe(5);
      expect(t.state()).toBe('exhausted');
    });

    it('lets holders above a smaller capacity keep their units, and grants again only once under it', () => {
      const t = startPool(4);
      t.request('r1', 'a', 2);
      t.request('r2', 'b', 2);
      t.setCapacity(2);
      expect(t.state()).toBe('exhausted');
      expect(t.stats().inUse).toBe(4);
      t.request('r3', 'c', 1);
      t.release('db#1');
      expect(t.stats().inUse).toBe(2);
      expect(t.takeReplies()).toEqual([granted('r1', 'db#1', 2), granted('r2', 'db#2', 2)]);
      expect(t.state()).toBe('contended');
      t.release('db#2');
      expect(t.takeReplies()).toEqual([granted('r3', 'db#3', 1)]);
      expect(t.state()).toBe('available');
    });

    it('denies queued requests larger than the new capacity, so they do not block the queue', () => {
      const t = startPool(4);
      t.request('r1', 'a', 4);
      t.request('big', 'b', 3);
      t.request('small', 'c', 1);
      t.takeReplies();
      t.takeGraph();
      t.setCapacity(2);
      expect(t.takeReplies()).toEqual([
        { type: 'resource.denied', requestId: 'big', resource: 'db', code: 'E_INVALID_OPTION', reason: expect.any(String) },
      ]);
      expect(t.takeGraph()).toEqual([requests('b', 0)]);
      t.release('db#1');
      expect(t.takeReplies()).toEqual([granted('small', 'db#2', 1)]);
      t.request('too-big', 'd', 3);
      expect(t.takeReplies()).toEqual([expect.objectContaining({ type: 'resource.denied', requestId: 'too-big', code: 'E_INVALID_OPTION' })]);
      expect(t.stats().denied).toBe(2);
    });

    it.each([-1, 1.5, NaN, Infinity])('ignores an invalid capacity (%p)', (capacity) => {
      const t = startPool(2);
      t.setCapacity(capacity);
      expect(t.pool.getSnapshot().context.capacity).toBe(2);
    });
  });

  describe('statistics', () => {
    it('measures wait and hold times from the events’ clock times', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1, 100); // waits 0, holds 50
      t.request('r2', 'b', 1, 110); // waits 40, holds 30
      t.request('r3', 'c', 1, 120); // waits 60, revoked after 20
      t.request('r4', 'd', 1, 130); // cancelled: counted as a timeout, not as a wait
      t.release('db#1', 150);
      t.cancel('r4', 170);
      t.release('db#2', 180);
      t.revoke('c', 200);
      expect(t.stats()).toEqual<ResourceStats>({
        acquired: 3,
        released: 2,
        timeouts: 1,
        revoked: 1,
        denied: 0,
        totalWaitMs: 100,
        maxWaitMs: 60,
        totalHoldMs: 100,
        maxHoldMs: 50,
        inUse: 0,
        peakInUse: 1,
        queueLength: 0,
      });
    });

    it('keeps each snapshot’s statistics as they were', () => {
      const t = startPool(2);
      t.request('r1', 'a', 1);
      const earlier = t.stats();
      t.request('r2', 'b', 1);
      expect(earlier).toMatchObject({ acquired: 1, inUse: 1 });
      expect(t.stats()).toMatchObject({ acquired: 2, inUse: 2, peakInUse: 2 });
    });
  });

  describe('observer', () => {
    it('hears every change of held and requested units, net per event, requests before holds', () => {
      const t = startPool(2);
      t.request('a1', 'a', 1);
      expect(t.takeGraph()).toEqual([holds('a', 1)]);
      t.request('a2', 'a', 1);
      expect(t.takeGraph()).toEqual([holds('a', 2)]);
      t.request('b1', 'b', 2);
      expect(t.takeGraph()).toEqual([requests('b', 2)]);
      t.request('b2', 'b', 1);
      expect(t.takeGraph()).toEqual([requests('b', 3)]);
      t.release('db#1');
      expect(t.takeGraph()).toEqual([holds('a', 1)]);
      const messagesBefore = t.graphMessages();
      t.release('db#2');
      expect(t.takeGraph()).toEqual([requests('b', 1), holds('a', 0), holds('b', 2)]);
      // The three changes of that transition reach the observer in one message.
      expect(t.graphMessages()).toBe(messagesBefore + 1);
      t.cancel('b2');
      expect(t.takeGraph()).toEqual([requests('b', 0)]);
      t.release('db#3');
      expect(t.takeGraph()).toEqual([holds('b', 0)]);
      expect(t.pool.getSnapshot().context.tasks.size).toBe(0);
    });

    it('reports nothing when a task releases and is granted the same units in one event', () => {
      const t = startPool(2);
      t.request('a1', 'a', 2);
      t.request('a2', 'a', 2);
      t.takeGraph();
      t.release('db#1');
      expect(t.takeReplies().at(-1)).toEqual(granted('a2', 'db#2', 2));
      expect(t.takeGraph()).toEqual([requests('a', 0)]);
    });
  });

  describe('the waiter queue', () => {
    it('stays FIFO through many removals from the middle and compactions', () => {
      const t = startPool(1);
      t.request('hold', 'holder', 1);
      for (let index = 0; index < 500; index++) t.request(`w${index}`, `t${index % 7}`, 1);
      for (let index = 0; index < 500; index += 3) t.cancel(`w${index}`);
      t.revoke('t5');
      const expected = Array.from({ length: 500 }, (_, index) => index).filter((index) => index % 3 !== 0 && index % 7 !== 5);
      expect(
        t.pool
          .getSnapshot()
          .context.waiters.toArray()
          .map((waiter) => waiter.requestId),
      ).toEqual(expected.map((index) => `w${index}`));
      expect(t.stats().queueLength).toBe(expected.length);
      t.takeReplies();
      const order: string[] = [];
      let lease = 'db#1';
      for (let step = 0; step < expected.length; step++) {
        t.release(lease);
        const [reply] = t.takeReplies() as ResourceGrantedEvent[];
        order.push(reply!.requestId);
        lease = reply!.leaseId;
      }
      expect(order).toEqual(expected.map((index) => `w${index}`));
      t.release(lease);
      expect(t.state()).toBe('available');
      expect(t.stats()).toMatchObject({ inUse: 0, queueLength: 0 });
    });
  });

  describe('invariants (property)', () => {
    type Command =
      | { readonly kind: 'request'; readonly task: number; readonly units: number }
      | { readonly kind: 'release'; readonly pick: number }
      | { readonly kind: 'cancel'; readonly pick: number }
      | { readonly kind: 'revoke'; readonly task: number }
      | { readonly kind: 'capacity'; readonly capacity: number }
      | { readonly kind: 'advance'; readonly ms: number };

    const units = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 9) });
    const command: fc.Arbitrary<Command> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('request' as const), task: fc.integer({ min: 0, max: 4 }), units }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), task: fc.integer({ min: 0, max: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('capacity' as const), capacity: fc.integer({ min: 0, max: 5 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 50 }) }) },
    );

    /** A deliberately naive pool (arrays, shift, filter): the oracle the machine is compared with. */
    class ModelPool {
      capacity: number;
      inUse = 0;
      nextLease = 1;
      readonly queue: Array<{ requestId: string; taskId: string; units: number; at: number }> = [];
      readonly leases = new Map<string, { requestId: string; taskId: string; units: number; grantedAt: number }>();
      readonly replies: ResourceReplyEvent[] = [];
      readonly stats: ResourceStats = zeroResourceStats();

      constructor(capacity: number) {
        this.capacity = capacity;
      }

      request(requestId: string, taskId: string, units: number, at: number): void {
        if (!Number.isInteger(units) || units < 1 || units > this.capacity) this.#deny(requestId);
        else if (this.queue.length === 0 && units <= this.capacity - this.inUse) this.#grant({ requestId, taskId, units, at }, at);
        else this.queue.push({ requestId, taskId, units, at });
        this.#sync();
      }

      release(leaseId: string, at: number): void {
        const lease = this.leases.get(leaseId);
        if (lease === undefined) return;
        this.#end(leaseId, at);
        this.stats.released++;
        this.#grantWaiters(at);
      }

      cancel(requestId: string, at: number): void {
        const index = this.queue.findIndex((waiter) => waiter.requestId === requestId);
        if (index < 0) return;
        this.queue.splice(index, 1);
        this.stats.timeouts++;
        this.replies.push({ type: 'resource.cancelled', requestId, resource: 'db' });
        this.#grantWaiters(at);
      }

      revoke(taskId: string, at: number, reason: MezanError): void {
        for (const [leaseId, lease] of [...this.leases]) {
          if (lease.taskId !== taskId) continue;
          this.#end(leaseId, at);
          this.stats.revoked++;
          this.replies.push({ type: 'resource.revoked', requestId: lease.requestId, leaseId, taskId, resource: 'db', reason });
        }
        for (const waiter of this.queue.filter((each) => each.taskId === taskId)) {
          this.stats.revoked++;
          this.replies.push({ type: 'resource.revoked', requestId: waiter.requestId, leaseId: undefined, taskId, resource: 'db', reason });
        }
        this.queue.splice(0, this.queue.length, ...this.queue.filter((each) => each.taskId !== taskId));
        this.#grantWaiters(at);
      }

      setCapacity(capacity: number, at: number): void {
        if (capacity < this.capacity) {
          for (const waiter of this.queue.filter((each) => each.units > capacity)) this.#deny(waiter.requestId);
          this.queue.splice(0, this.queue.length, ...this.queue.filter((each) => each.units <= capacity));
        }
        this.capacity = capacity;
        this.#grantWaiters(at);
      }

      /** Held and requested units by task, only the tasks with either. */
      shares(): Map<string, { held: number; requested: number }> {
        const shares = new Map<string, { held: number; requested: number }>();
        const share = (taskId: string) => shares.get(taskId) ?? shares.set(taskId, { held: 0, requested: 0 }).get(taskId)!;
        for (const lease of this.leases.values()) share(lease.taskId).held += lease.units;
        for (const waiter of this.queue) share(waiter.taskId).requested += waiter.units;
        return shares;
      }

      #grantWaiters(at: number): void {
        while (this.queue.length > 0 && this.queue[0]!.units <= this.capacity - this.inUse) this.#grant(this.queue.shift()!, at);
        this.#sync();
      }

      #grant(request: { requestId: string; taskId: string; units: number; at: number }, at: number): void {
        const leaseId = `db#${this.nextLease++}`;
        this.leases.set(leaseId, { requestId: request.requestId, taskId: request.taskId, units: request.units, grantedAt: at });
        this.inUse += request.units;
        this.stats.acquired++;
        this.stats.totalWaitMs += at - request.at;
        this.stats.maxWaitMs = Math.max(this.stats.maxWaitMs, at - request.at);
        this.stats.peakInUse = Math.max(this.stats.peakInUse, this.inUse);
        this.replies.push({ type: 'resource.granted', requestId: request.requestId, leaseId, resource: 'db', units: request.units, at });
      }

      #end(leaseId: string, at: number): void {
        const lease = this.leases.get(leaseId)!;
        this.leases.delete(leaseId);
        this.inUse -= lease.units;
        this.stats.totalHoldMs += at - lease.grantedAt;
        this.stats.maxHoldMs = Math.max(this.stats.maxHoldMs, at - lease.grantedAt);
      }

      #deny(requestId: string): void {
        this.stats.denied++;
        this.replies.push({ type: 'resource.denied', requestId, resource: 'db', code: 'E_INVALID_OPTION', reason: 'any' });
      }

      #sync(): void {
        this.stats.inUse = this.inUse;
        this.stats.queueLength = this.queue.length;
      }
    }

    const withoutReason = (reply: ResourceReplyEvent) => (reply.type === 'resource.denied' ? { ...reply, reason: 'any' } : reply);

    it('matches a naive model, never grants over capacity, tells the observer exactly, and answers every request once', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4 }), fc.array(command, { maxLength: 120 }), (initialCapacity, commands) => {
          const t = startPool(initialCapacity);
          const model = new ModelPool(initialCapacity);
          const reason = new MezanError('E_CANCELLED', 'revoked');
          let now = 0;
          let capacity = initialCapacity;
          let requestCount = 0;
          const requestIds: string[] = [];
          /** Leases granted and not yet released or revoked, as the requester sees them. */
          const live = new Map<string, number>();
          let held = 0;
          /** Every answer per request, in order. */
          const answers = new Map<string, string[]>();
          /** The observer's view: `${kind}:${taskId}` → units. */
          const observed = new Map<string, number>();

          const check = (): void => {
            const replies = t.takeReplies();
            for (const reply of replies) {
              const kind = reply.type === 'resource.revoked' && reply.leaseId !== undefined ? 'lease-revoked' : reply.type;
              answers.set(reply.requestId, [...(answers.get(reply.requestId) ?? []), kind]);
              if (reply.type === 'resource.granted') {
                live.set(reply.leaseId, reply.units);
                held += reply.units;
                expect(held).toBeLessThanOrEqual(capacity);
              } else if (reply.type === 'resource.revoked' && reply.leaseId !== undefined) {
                held -= live.get(reply.leaseId)!;
                live.delete(reply.leaseId);
              }
            }
            expect(replies.map(withoutReason)).toEqual(model.replies.splice(0).map(withoutReason));
            const seenThisEvent = new Set<string>();
            for (const event of t.takeGraph()) {
              const key = `${event.type}:${event.taskId}`;
              expect(seenThisEvent.has(key)).toBe(false);
              seenThisEvent.add(key);
              expect(event.units).not.toBe(observed.get(key) ?? 0);
              observed.set(key, event.units);
            }
            const shares = model.shares();
            for (const [key, units] of observed) {
              const [kind, taskId] = key.split(':') as [string, string];
              const share = shares.get(taskId);
              expect(units).toBe(kind === 'graph.holds' ? (share?.held ?? 0) : (share?.requested ?? 0));
            }
            for (const [taskId, share] of shares) {
              expect(observed.get(`graph.holds:${taskId}`) ?? 0).toBe(share.held);
              expect(observed.get(`graph.requests:${taskId}`) ?? 0).toBe(share.requested);
            }
            const snapshot = t.pool.getSnapshot();
            expect(snapshot.context.stats).toEqual(model.stats);
            expect(snapshot.context.stats.inUse).toBe(held);
            const free = snapshot.context.capacity - snapshot.context.stats.inUse;
            expect(snapshot.value).toBe(model.queue.length > 0 ? 'contended' : free > 0 ? 'available' : 'exhausted');
          };

          for (const step of commands) {
            switch (step.kind) {
              case 'request': {
                const requestId = `r${++requestCount}`;
                requestIds.push(requestId);
                t.request(requestId, `t${step.task}`, step.units, now);
                model.request(requestId, `t${step.task}`, step.units, now);
                break;
              }
              case 'release': {
                // Mostly a live lease; sometimes one already gone or never granted (must be ignored).
                const leases = [...live.keys()];
                const choice = step.pick % (leases.length + 2);
                const leaseId = leases[choice] ?? (choice === leases.length ? `db#${step.pick % 50}` : 'db#0');
                t.release(leaseId, now);
                model.release(leaseId, now);
                if (live.has(leaseId)) {
                  held -= live.get(leaseId)!;
                  live.delete(leaseId);
                }
                break;
              }
              case 'cancel': {
                const requestId = requestIds[step.pick % (requestIds.length + 1)] ?? 'unknown';
                t.cancel(requestId, now);
                model.cancel(requestId, now);
                break;
              }
              case 'revoke':
                t.revoke(`t${step.task}`, now, reason);
                model.revoke(`t${step.task}`, now, reason);
                break;
              case 'capacity':
                capacity = step.capacity;
                t.setCapacity(step.capacity, now);
                model.setCapacity(step.capacity, now);
                break;
              case 'advance':
                now += step.ms;
                break;
            }
            check();
          }

          // Come to rest: every requester gives up its pending request, every holder releases.
          for (const requestId of requestIds) {
            t.cancel(requestId, now);
            model.cancel(requestId, now);
            check();
          }
          for (const leaseId of [...live.keys()]) {
            t.release(leaseId, now);
            model.release(leaseId, now);
            held -= live.get(leaseId)!;
            live.delete(leaseId);
            check();
          }

          const { context } = t.pool.getSnapshot();
          expect(context.stats.inUse).toBe(0);
          expect(context.stats.queueLength).toBe(0);
          expect(context.holders.size).toBe(0);
          expect(context.tasks.size).toBe(0);
          expect([...observed.values()].every((units) => units === 0)).toBe(true);
          expect(context.stats.acquired).toBe(context.stats.released + [...answers.values()].filter((each) => each.includes('lease-revoked')).length);
          for (const requestId of requestIds) {
            const [first, ...rest] = answers.get(requestId) ?? [];
            expect(['resource.granted', 'resource.denied', 'resource.cancelled', 'resource.revoked']).toContain(first);
            // A granted request may later hear that its lease was revoked; nothing else comes twice.
            expect(rest).toEqual(first === 'resource.granted' && rest.length > 0 ? ['lease-revoked'] : []);
          }
        }),
        { seed: 20240611, numRuns: 300 },
      );
    });
  });
});
