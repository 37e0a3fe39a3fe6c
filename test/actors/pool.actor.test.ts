import fc from 'fast-check';
import { createActor, fromCallback, type EventObject } from 'xstate';
import { poolLogic, zeroResourceStats, type PoolHolding, type PoolInput, type PoolSnapshot, type ResourceStats } from '../../actors/pool.actor';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type {
  GraphPoolChangesEvent,
  ResourceEvent,
  ResourceGraphEvent,
  ResourceGrantedEvent,
  ResourceReplyEvent,
  ResourceReplyTo,
} from '../../src/internal/resource-protocol';
import type { MonitorNotice } from '../../src/metrics/monitor-observation';

// ---------------------------------------------------------------------------------------------
// The pool, watched
// ---------------------------------------------------------------------------------------------

/** Something the pool told someone: its requester, its observer, the engine's event sink, or the monitor. */
type Heard =
  | { readonly by: 'requester'; readonly event: ResourceReplyEvent }
  | { readonly by: 'observer'; readonly event: GraphPoolChangesEvent }
  | { readonly by: 'sink'; readonly event: EngineEvent }
  | { readonly by: 'monitor'; readonly event: MonitorNotice };

type HeardBy<B extends Heard['by']> = Extract<Heard, { by: B }>['event'];

/** An actor that passes every event it receives to `onEvent`, in order. */
function collector<E extends EventObject>(onEvent: (event: E) => void) {
  return createActor(fromCallback<E>(({ receive }) => receive(onEvent))).start();
}

/**
 * A pool named `db` with a requester, an observer, an event sink and a monitor that record what
 * they hear in one list, in the order they hear it, and short-hands for its events.
 */
function startPool(capacity: number, input: Partial<PoolInput> = {}) {
  const heard: Heard[] = [];
  const requester = collector<ResourceReplyEvent>((event) => heard.push({ by: 'requester', event }));
  const observer = collector<GraphPoolChangesEvent>((event) => heard.push({ by: 'observer', event }));
  const sink = { active: true, publish: (event: EngineEvent) => void heard.push({ by: 'sink', event }) };
  const observe = (event: MonitorNotice): void => void heard.push({ by: 'monitor', event });
  const pool = createActor(poolLogic, { input: { name: 'db', capacity, observer: observer.ref, sink, observe, ...input } }).start();
  const send = (event: ResourceEvent): void => pool.send(event);
  return {
    pool,
    sink,
    state: () => pool.getSnapshot().value,
    stats: () => pool.getSnapshot().context.stats,
    holdings: () => pool.getSnapshot().context.holdings,
    request: (requestId: string, taskId: string, units: number, at = 0, replyTo: ResourceReplyTo = requester) =>
      send({ type: 'resource.request', requestId, taskId, units, at, replyTo }),
    release: (leaseId: string, at = 0) => send({ type: 'resource.release', leaseId, at }),
    cancel: (requestId: string, at = 0) => send({ type: 'resource.cancel', requestId, at }),
    revoke: (taskId: string, at = 0, reason = new MezanError('E_SHUTDOWN', 'shutting down')) => send({ type: 'resource.revoke', taskId, at, reason }),
    setCapacity: (capacity: number, at = 0) => send({ type: 'resource.set-capacity', capacity, at }),
    /** Removes and returns what `by` heard so far. */
    take: <B extends Heard['by']>(by: B): Array<HeardBy<B>> => {
      const taken: Array<HeardBy<B>> = [];
      for (let index = 0; index < heard.length;) {
        const entry = heard[index]!;
        if (entry.by !== by) index++;
        else {
          taken.push(entry.event as HeardBy<B>);
          heard.splice(index, 1);
        }
      }
      return taken;
    },
    /** Removes and returns everything heard so far, in order. */
    takeAll: (): Heard[] => heard.splice(0),
  };
}

type Pool = ReturnType<typeof startPool>;

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
const poolChanges = (capacity: number, contended: boolean, changes: ResourceGraphEvent[]): GraphPoolChangesEvent => ({
  type: 'graph.pool-changes',
  resource: 'db',
  capacity,
  contended,
  changes,
});
const waiting = (taskId: string, units: number, at = 0): EngineEvent => ({ type: 'resource.waiting', at, taskId, resource: 'db', units });
const acquired = (taskId: string, units: number, at = 0): EngineEvent => ({ type: 'resource.acquired', at, taskId, resource: 'db', units });
const released = (taskId: string, units: number, at = 0): EngineEvent => ({ type: 'resource.released', at, taskId, resource: 'db', units });
const waitEnded = (taskId: string, at = 0): MonitorNotice => ({ type: 'resource.wait-ended', at, taskId, resource: 'db' });
const holding = (taskId: string, units: number): PoolHolding => ({ taskId, units });

describe('poolLogic', () => {
  describe('granting', () => {
    it('grants at once while units are free, with deterministic lease ids, and is exhausted when full', () => {
      const t = startPool(3);
      expect(t.state()).toBe('available');
      t.request('r1', 'a', 1, 5);
      t.request('r2', 'b', 2, 6);
      expect(t.take('requester')).toEqual([granted('r1', 'db#1', 1, 5), granted('r2', 'db#2', 2, 6)]);
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ acquired: 2, inUse: 3, peakInUse: 3, queueLength: 0 });
      expect(t.holdings()).toEqual([holding('a', 1), holding('b', 2)]);
    });

    it('queues a request that does not fit and grants it when units are released', () => {
      const t = startPool(2);
      t.request('r1', 'a', 2, 0);
      t.request('r2', 'b', 1, 10);
      expect(t.take('requester')).toEqual([granted('r1', 'db#1', 2, 0)]);
      expect(t.state()).toBe('contended');
      expect(t.stats().queueLength).toBe(1);
      expect(t.holdings()).toEqual([holding('a', 2)]);
      t.release('db#1', 30);
      expect(t.take('requester')).toEqual([granted('r2', 'db#2', 1, 30)]);
      expect(t.state()).toBe('available');
      expect(t.stats()).toMatchObject({ acquired: 2, released: 1, inUse: 1, queueLength: 0, totalWaitMs: 20, maxWaitMs: 20 });
      expect(t.holdings()).toEqual([holding('b', 1)]);
    });

    it('grants waiters in FIFO order while they fit, and stops at the first that does not', () => {
      const t = startPool(4);
      t.request('hold', 'a', 4);
      t.request('w1', 'b', 1);
      t.request('w2', 'c', 2);
      t.request('w3', 'd', 3);
      t.request('w4', 'e', 1);
      t.take('requester');
      t.release('db#1', 7);
      // w1 + w2 = 3 of 4; w3 needs 3 and would be overtaken by w4 (1), which must wait behind it.
      expect(t.take('requester')).toEqual([granted('w1', 'db#2', 1, 7), granted('w2', 'db#3', 2, 7)]);
      expect(t.state()).toBe('contended');
      t.release('db#2', 8);
      expect(t.take('requester')).toEqual([]);
      t.release('db#3', 9);
      expect(t.take('requester')).toEqual([granted('w3', 'db#4', 3, 9), granted('w4', 'db#5', 1, 9)]);
      expect(t.state()).toBe('exhausted');
    });

    it('never lets a small request overtake a large one at the head, even when the small one fits now', () => {
      const t = startPool(3);
      t.request('small-holder', 'a', 2);
      t.request('big', 'b', 3);
      t.request('small', 'c', 1);
      expect(t.take('requester')).toEqual([granted('small-holder', 'db#1', 2)]);
      expect(t.stats()).toMatchObject({ inUse: 2, queueLength: 2 });
      expect(t.state()).toBe('contended');
      t.release('db#1');
      expect(t.take('requester')).toEqual([granted('big', 'db#2', 3)]);
      t.release('db#2');
      expect(t.take('requester')).toEqual([granted('small', 'db#3', 1)]);
    });

    it('sends each reply to the requester that asked', () => {
      const t = startPool(1);
      const theirs: ResourceReplyEvent[] = [];
      const other = collector<ResourceReplyEvent>((event) => theirs.push(event));
      t.request('mine', 'a', 1);
      t.request('theirs', 'b', 1, 0, other);
      t.release('db#1');
      expect(t.take('requester')).toEqual([granted('mine', 'db#1', 1)]);
      expect(theirs).toEqual([granted('theirs', 'db#2', 1)]);
    });

    it('keeps its name and rank, and works without an observer, a sink or a monitor', () => {
      const replies: ResourceReplyEvent[] = [];
      const requester = collector<ResourceReplyEvent>((event) => replies.push(event));
      const pool = createActor(poolLogic, { input: { name: 'gpu', capacity: 1, rank: 2 } }).start();
      pool.send({ type: 'resource.request', requestId: 'r', taskId: 't', units: 1, at: 0, replyTo: requester });
      pool.send({ type: 'resource.request', requestId: 'q', taskId: 'u', units: 1, at: 1, replyTo: requester });
      expect(pool.getSnapshot().context).toEqual({
        name: 'gpu',
        capacity: 1,
        rank: 2,
        stats: { ...zeroResourceStats(), acquired: 1, inUse: 1, peakInUse: 1, queueLength: 1 },
        holdings: [holding('t', 1)],
      });
      pool.send({ type: 'resource.release', leaseId: 'gpu#1', at: 3 });
      expect(replies).toEqual([
        { type: 'resource.granted', requestId: 'r', leaseId: 'gpu#1', resource: 'gpu', units: 1, at: 0 },
        { type: 'resource.granted', requestId: 'q', leaseId: 'gpu#2', resource: 'gpu', units: 1, at: 3 },
      ]);
      expect(pool.getSnapshot().value).toBe('exhausted');
    });

    it('starts exhausted when it has no capacity, and denies every request', () => {
      const t = startPool(0);
      expect(t.state()).toBe('exhausted');
      t.request('r', 'a', 1);
      expect(t.take('requester')).toEqual([expect.objectContaining({ type: 'resource.denied', requestId: 'r' })]);
      expect(t.state()).toBe('exhausted');
    });

    it('answers once its transition is over: a requester sees the pool as it answered, and may release at once', () => {
      const t = startPool(1);
      const seen: Array<{ requestId: string; value: string; inUse: number; queueLength: number }> = [];
      const eager = collector<ResourceReplyEvent>((reply) => {
        const { value, context } = t.pool.getSnapshot();
        seen.push({ requestId: reply.requestId, value, inUse: context.stats.inUse, queueLength: context.stats.queueLength });
        // Sent while the pool still delivers its answers: it takes this release next.
        if (reply.type === 'resource.granted') t.pool.send({ type: 'resource.release', leaseId: reply.leaseId, at: 5 });
      });
      t.request('held', 'a', 1);
      t.request('eager', 'b', 1, 0, eager);
      t.request('after', 'c', 1, 0, eager);
      t.release('db#1', 2);
      expect(seen).toEqual([
        { requestId: 'eager', value: 'contended', inUse: 1, queueLength: 1 },
        { requestId: 'after', value: 'exhausted', inUse: 1, queueLength: 0 },
      ]);
      expect(t.state()).toBe('available');
      expect(t.stats()).toMatchObject({ acquired: 3, released: 3, inUse: 0, queueLength: 0 });
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
      t.takeAll();
      t.request('bad', 'b', units);
      expect(t.takeAll()).toEqual([
        {
          by: 'requester',
          event: {
            type: 'resource.denied',
            requestId: 'bad',
            resource: 'db',
            code: 'E_INVALID_OPTION',
            reason: expect.stringContaining('from 1 to 2'),
          },
        },
      ]);
      expect(t.state()).toBe('available');
      expect(t.stats()).toMatchObject({ denied: 1, acquired: 1, inUse: 1, queueLength: 0 });
      expect(t.holdings()).toEqual([holding('a', 1)]);
    });

    it('denies an invalid request while contended too, without queueing it or telling the observer', () => {
      const t = startPool(2);
      t.request('held', 'a', 2);
      t.request('queued', 'b', 1);
      t.takeAll();
      t.request('bad', 'c', 5);
      expect(t.takeAll()).toEqual([
        { by: 'requester', event: expect.objectContaining({ type: 'resource.denied', requestId: 'bad', code: 'E_INVALID_OPTION' }) },
      ]);
      expect(t.stats()).toMatchObject({ queueLength: 1, denied: 1 });
    });
  });

  describe('release', () => {
    it('is idempotent: a second release, a stale or an unknown lease id change nothing, not even the snapshot', () => {
      const t = startPool(2);
      t.request('r1', 'a', 1, 0);
      t.request('r2', 'b', 1, 0);
      t.release('db#1', 10);
      t.takeAll();
      const before = t.pool.getSnapshot();
      t.release('db#1', 20);
      t.release('db#99', 20);
      t.release('nope', 20);
      expect(t.takeAll()).toEqual([]);
      expect(t.pool.getSnapshot()).toBe(before);
      expect(t.stats()).toMatchObject({ released: 1, inUse: 1, totalHoldMs: 10 });
    });

    it('ignores the release of a lease that was revoked', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.revoke('a');
      t.takeAll();
      const before = t.pool.getSnapshot();
      t.release('db#1');
      expect(t.pool.getSnapshot()).toBe(before);
      expect(t.stats()).toMatchObject({ released: 0, revoked: 1, inUse: 0 });
      expect(t.takeAll()).toEqual([]);
    });
  });

  describe('cancel', () => {
    it('withdraws a queued request and answers it', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.request('r2', 'b', 1, 5);
      t.take('requester');
      t.cancel('r2', 50);
      expect(t.take('requester')).toEqual([{ type: 'resource.cancelled', requestId: 'r2', resource: 'db' }]);
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ timeouts: 1, queueLength: 0, acquired: 1, totalWaitMs: 0 });
      t.release('db#1');
      expect(t.take('requester')).toEqual([]);
    });

    it('does nothing for a request already granted, or unknown, or cancelled before', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.request('r2', 'b', 1);
      t.cancel('r2');
      t.takeAll();
      const before = t.pool.getSnapshot();
      t.cancel('r1');
      t.cancel('r2');
      t.cancel('unknown');
      expect(t.takeAll()).toEqual([]);
      expect(t.pool.getSnapshot()).toBe(before);
      expect(t.stats()).toMatchObject({ timeouts: 1, inUse: 1 });
      expect(t.holdings()).toEqual([holding('a', 1)]);
    });

    it('unblocks the requests behind a large head that gives up', () => {
      const t = startPool(3);
      t.request('hold', 'a', 2);
      t.request('big', 'b', 3);
      t.request('small', 'c', 1, 4);
      t.take('requester');
      t.cancel('big', 9);
      expect(t.take('requester')).toEqual([{ type: 'resource.cancelled', requestId: 'big', resource: 'db' }, granted('small', 'db#2', 1, 9)]);
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ totalWaitMs: 5, maxWaitMs: 5 });
    });
  });

  describe('revoke', () => {
    it('takes back every lease of a task and drops its queued requests, then grants the others; everyone hears in order', () => {
      const t = startPool(3);
      const reason = new MezanError('E_CANCELLED', 'victim');
      t.request('a1', 'a', 1, 0);
      t.request('a2', 'a', 1, 0);
      t.request('b1', 'b', 2, 1);
      t.request('a3', 'a', 1, 2);
      t.request('c1', 'c', 1, 3);
      t.takeAll();
      t.revoke('a', 10, reason);
      expect(t.takeAll()).toEqual([
        // The engine events and monitor notices first: requests, then the holds that shrank, then those that grew.
        { by: 'monitor', event: waitEnded('a', 10) },
        { by: 'monitor', event: waitEnded('b', 10) },
        { by: 'monitor', event: waitEnded('c', 10) },
        { by: 'sink', event: released('a', 0, 10) },
        { by: 'sink', event: acquired('b', 2, 10) },
        { by: 'sink', event: acquired('c', 1, 10) },
        // The observer before any requester, in the same order: never more held than the pool has.
        {
          by: 'observer',
          event: poolChanges(3, false, [requests('a', 0), requests('b', 0), requests('c', 0), holds('a', 0), holds('b', 2), holds('c', 1)]),
        },
        { by: 'requester', event: { type: 'resource.revoked', requestId: 'a1', leaseId: 'db#1', taskId: 'a', resource: 'db', reason } },
        { by: 'requester', event: { type: 'resource.revoked', requestId: 'a2', leaseId: 'db#2', taskId: 'a', resource: 'db', reason } },
        { by: 'requester', event: { type: 'resource.revoked', requestId: 'a3', leaseId: undefined, taskId: 'a', resource: 'db', reason } },
        { by: 'requester', event: granted('b1', 'db#3', 2, 10) },
        { by: 'requester', event: granted('c1', 'db#4', 1, 10) },
      ]);
      expect(t.stats()).toMatchObject({ revoked: 3, released: 0, inUse: 3, queueLength: 0, totalHoldMs: 20, maxHoldMs: 10 });
      expect(t.holdings()).toEqual([holding('b', 2), holding('c', 1)]);
      expect(t.state()).toBe('exhausted');
    });

    it('does nothing for a task with neither leases nor requests here', () => {
      const t = startPool(1);
      t.request('r1', 'a', 1);
      t.takeAll();
      const before = t.pool.getSnapshot();
      t.revoke('b');
      expect(t.takeAll()).toEqual([]);
      expect(t.pool.getSnapshot()).toBe(before);
      expect(t.stats().revoked).toBe(0);
    });
  });

  describe('set-capacity', () => {
    it('grants waiters when it grows, still in FIFO order, and tells the observer the new capacity', () => {
      const t = startPool(2);
      t.request('r1', 'a', 2, 0);
      t.request('r2', 'b', 2, 0);
      t.request('r3', 'c', 1, 0);
      t.takeAll();
      t.setCapacity(3, 20);
      // One unit is free and r3 would fit, but r2 is ahead of it.
      expect(t.takeAll()).toEqual([{ by: 'observer', event: poolChanges(3, true, []) }]);
      expect(t.state()).toBe('contended');
      t.setCapacity(5, 25);
      expect(t.take('requester')).toEqual([granted('r2', 'db#2', 2, 25), granted('r3', 'db#3', 1, 25)]);
      expect(t.take('observer')).toEqual([poolChanges(5, false, [requests('b', 0), requests('c', 0), holds('b', 2), holds('c', 1)])]);
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
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('c', 1), holds('a', 2), holds('b', 2)])]);
      t.release('db#1');
      expect(t.stats().inUse).toBe(2);
      expect(t.take('observer')).toEqual([poolChanges(2, true, [holds('a', 0)])]);
      expect(t.take('requester')).toEqual([granted('r1', 'db#1', 2), granted('r2', 'db#2', 2)]);
      expect(t.state()).toBe('contended');
      t.release('db#2');
      expect(t.take('requester')).toEqual([granted('r3', 'db#3', 1)]);
      expect(t.take('observer')).toEqual([poolChanges(2, false, [requests('c', 0), holds('b', 0), holds('c', 1)])]);
      expect(t.state()).toBe('available');
    });

    it('denies queued requests larger than the new capacity, so they do not block the queue', () => {
      const t = startPool(4);
      t.request('r1', 'a', 4);
      t.request('big', 'b', 3);
      t.request('small', 'c', 1);
      t.takeAll();
      t.setCapacity(2, 7);
      expect(t.takeAll()).toEqual([
        { by: 'monitor', event: waitEnded('b', 7) },
        { by: 'observer', event: poolChanges(2, true, [requests('b', 0)]) },
        {
          by: 'requester',
          event: {
            type: 'resource.denied',
            requestId: 'big',
            resource: 'db',
            code: 'E_INVALID_OPTION',
            reason: expect.stringContaining('from 1 to 2'),
          },
        },
      ]);
      t.release('db#1');
      expect(t.take('requester')).toEqual([granted('small', 'db#2', 1)]);
      t.request('too-big', 'd', 3);
      expect(t.take('requester')).toEqual([expect.objectContaining({ type: 'resource.denied', requestId: 'too-big', code: 'E_INVALID_OPTION' })]);
      expect(t.stats()).toMatchObject({ denied: 2, queueLength: 0 });
    });

    it('denies the whole queue when the capacity falls to 0, and stays exhausted with nothing held', () => {
      const t = startPool(2);
      t.request('r1', 'a', 2);
      t.request('r2', 'b', 1);
      t.request('r3', 'c', 2);
      t.take('requester');
      t.setCapacity(0);
      expect(t.take('requester').map((reply) => [reply.type, reply.requestId])).toEqual([
        ['resource.denied', 'r2'],
        ['resource.denied', 'r3'],
      ]);
      expect(t.state()).toBe('exhausted');
      t.release('db#1');
      expect(t.state()).toBe('exhausted');
      expect(t.stats()).toMatchObject({ inUse: 0, queueLength: 0, denied: 2 });
    });

    it.each([-1, 1.5, NaN, Infinity])('ignores an invalid capacity (%p), and keeps its snapshot', (capacity) => {
      const t = startPool(2);
      t.request('r1', 'a', 2);
      t.request('r2', 'b', 1);
      t.takeAll();
      const before = t.pool.getSnapshot();
      t.setCapacity(capacity);
      expect(t.pool.getSnapshot()).toBe(before);
      expect(t.pool.getSnapshot().context.capacity).toBe(2);
      expect(t.takeAll()).toEqual([]);
    });
  });

  describe('statistics and snapshots', () => {
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

    it('shows its state and a summary: name, capacity, rank, statistics and holdings', () => {
      const t = startPool(2, { rank: 1 });
      expect(t.pool.getSnapshot()).toEqual({
        status: 'active',
        output: undefined,
        error: undefined,
        value: 'available',
        context: { name: 'db', capacity: 2, rank: 1, stats: zeroResourceStats(), holdings: [] },
      });
      t.request('r1', 'a', 1, 3);
      t.request('r2', 'b', 2, 4);
      expect(t.pool.getSnapshot()).toEqual({
        status: 'active',
        output: undefined,
        error: undefined,
        value: 'contended',
        context: {
          name: 'db',
          capacity: 2,
          rank: 1,
          stats: { ...zeroResourceStats(), acquired: 1, inUse: 1, peakInUse: 1, queueLength: 1 },
          holdings: [holding('a', 1)],
        },
      });
    });

    it('makes a new snapshot on each change, and never touches an old one', () => {
      const t = startPool(2);
      t.request('r1', 'a', 1);
      const earlier = t.pool.getSnapshot();
      const copy = structuredClone(earlier) as PoolSnapshot;
      t.request('r2', 'b', 1);
      t.request('r3', 'c', 2);
      t.release('db#1', 5);
      t.setCapacity(4, 6);
      t.revoke('b', 7);
      const later = t.pool.getSnapshot();
      expect(earlier).toEqual(copy);
      expect(earlier).toMatchObject({ value: 'available', context: { capacity: 2, stats: { acquired: 1, inUse: 1 }, holdings: [holding('a', 1)] } });
      expect(later).toMatchObject({ value: 'available', context: { capacity: 4, stats: { acquired: 3, inUse: 2 }, holdings: [holding('c', 2)] } });
      expect(later.context).not.toBe(earlier.context);
      expect(later.context.stats).not.toBe(earlier.context.stats);
      expect(later.context.holdings).not.toBe(earlier.context.holdings);
    });
  });

  describe('observer', () => {
    it('hears nothing while no request waits: an uncontended grant, release, denial, revoke or resize is none of its concern', () => {
      const t = startPool(3);
      t.request('a1', 'a', 1);
      t.request('b1', 'b', 2);
      t.release('db#1');
      t.request('bad', 'c', 9);
      t.revoke('b');
      t.setCapacity(5);
      t.setCapacity(1);
      t.request('d1', 'd', 1);
      expect(t.take('observer')).toEqual([]);
      expect(t.take('sink').length).toBeGreaterThan(0);
    });

    it('when requests begin to wait, hears the request and every holder, in the order they took units', () => {
      const t = startPool(3);
      t.request('a1', 'a', 1);
      t.request('b1', 'b', 1);
      t.request('a2', 'a', 1);
      expect(t.take('observer')).toEqual([]);
      t.request('c1', 'c', 2);
      expect(t.take('observer')).toEqual([poolChanges(3, true, [requests('c', 2), holds('a', 2), holds('b', 1)])]);
    });

    it('while requests wait, hears the net changes of each transition in one message: requests, holds that shrank, holds that grew', () => {
      const t = startPool(2);
      t.request('a1', 'a', 1);
      t.request('a2', 'a', 1);
      expect(t.take('observer')).toEqual([]);
      t.request('b1', 'b', 2);
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('b', 2), holds('a', 2)])]);
      t.request('b2', 'b', 1);
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('b', 3)])]);
      t.release('db#1');
      expect(t.take('observer')).toEqual([poolChanges(2, true, [holds('a', 1)])]);
      t.release('db#2');
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('b', 1), holds('a', 0), holds('b', 2)])]);
      t.cancel('b2');
      // No request waits any more: the observer forgets the pool's holders.
      expect(t.take('observer')).toEqual([poolChanges(2, false, [requests('b', 0)])]);
      t.release('db#3');
      expect(t.take('observer')).toEqual([]);
      expect(t.holdings()).toEqual([]);
    });

    it('hears only the request change when a task releases and is granted the same units in one event', () => {
      const t = startPool(2);
      t.request('a1', 'a', 2);
      t.request('a2', 'a', 2);
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('a', 2), holds('a', 2)])]);
      t.release('db#1');
      expect(t.take('requester').at(-1)).toEqual(granted('a2', 'db#2', 2));
      expect(t.take('observer')).toEqual([poolChanges(2, false, [requests('a', 0)])]);
    });

    it('hears every holder again when requests wait again', () => {
      const t = startPool(2);
      t.request('a1', 'a', 1);
      t.request('b1', 'b', 2);
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('b', 2), holds('a', 1)])]);
      t.cancel('b1');
      expect(t.take('observer')).toEqual([poolChanges(2, false, [requests('b', 0)])]);
      t.request('c1', 'c', 1);
      expect(t.take('observer')).toEqual([]);
      t.request('d1', 'd', 1);
      expect(t.take('observer')).toEqual([poolChanges(2, true, [requests('d', 1), holds('a', 1), holds('c', 1)])]);
    });
  });

  describe('engine events and monitor notices', () => {
    it('publishes what each task holds and waits for, with the time of the event that caused it', () => {
      const t = startPool(2);
      t.request('a1', 'a', 1, 5);
      t.request('a2', 'a', 1, 6);
      t.request('b1', 'b', 1, 7);
      expect(t.takeAll()).toEqual([
        { by: 'sink', event: acquired('a', 1, 5) },
        { by: 'requester', event: granted('a1', 'db#1', 1, 5) },
        { by: 'sink', event: acquired('a', 2, 6) },
        { by: 'requester', event: granted('a2', 'db#2', 1, 6) },
        { by: 'sink', event: waiting('b', 1, 7) },
        { by: 'observer', event: poolChanges(2, true, [requests('b', 1), holds('a', 2)]) },
      ]);
      t.release('db#1', 9);
      expect(t.takeAll()).toEqual([
        { by: 'monitor', event: waitEnded('b', 9) },
        { by: 'sink', event: released('a', 1, 9) },
        { by: 'sink', event: acquired('b', 1, 9) },
        { by: 'observer', event: poolChanges(2, false, [requests('b', 0), holds('a', 1), holds('b', 1)]) },
        { by: 'requester', event: granted('b1', 'db#3', 1, 9) },
      ]);
      t.release('db#2', 12);
      expect(t.takeAll()).toEqual([{ by: 'sink', event: released('a', 0, 12) }]);
    });

    it('tells the monitor a wait ended when it is granted, cancelled, revoked or denied', () => {
      const t = startPool(3);
      t.request('h', 'holder', 3);
      t.request('g', 'granted', 1);
      t.request('c', 'cancelled', 1);
      t.request('r', 'revoked', 1);
      t.request('d', 'denied', 3);
      expect(t.take('sink')).toEqual([
        acquired('holder', 3),
        waiting('granted', 1),
        waiting('cancelled', 1),
        waiting('revoked', 1),
        waiting('denied', 3),
      ]);
      t.cancel('c', 1);
      t.revoke('revoked', 2);
      t.setCapacity(2, 3);
      t.release('db#1', 4);
      expect(t.take('monitor')).toEqual([waitEnded('cancelled', 1), waitEnded('revoked', 2), waitEnded('denied', 3), waitEnded('granted', 4)]);
      expect(t.take('sink')).toEqual([released('holder', 0, 4), acquired('granted', 1, 4)]);
    });

    it('publishes a task’s total wait, and ends it with its last queued request', () => {
      const t = startPool(1);
      t.request('h', 'holder', 1, 0);
      t.request('x1', 't', 1, 1);
      t.request('x2', 't', 1, 2);
      t.cancel('x1', 3);
      expect(t.take('sink')).toEqual([acquired('holder', 1, 0), waiting('t', 1, 1), waiting('t', 2, 2), waiting('t', 1, 3)]);
      expect(t.take('monitor')).toEqual([]);
      t.release('db#1', 4);
      expect(t.take('monitor')).toEqual([waitEnded('t', 4)]);
      expect(t.take('sink')).toEqual([released('holder', 0, 4), acquired('t', 1, 4)]);
    });

    it('publishes nothing while nobody listens, and still tells the monitor and the observer', () => {
      const t = startPool(1);
      t.sink.active = false;
      t.request('a1', 'a', 1);
      t.request('b1', 'b', 1);
      t.release('db#1', 2);
      expect(t.take('sink')).toEqual([]);
      expect(t.take('monitor')).toEqual([waitEnded('b', 2)]);
      expect(t.take('observer')).toHaveLength(2);
      t.sink.active = true;
      t.release('db#2', 3);
      expect(t.take('sink')).toEqual([released('b', 0, 3)]);
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
      expect(t.stats().queueLength).toBe(expected.length);
      t.takeAll();
      const order: string[] = [];
      let lease = 'db#1';
      for (let step = 0; step < expected.length; step++) {
        t.release(lease);
        const [reply] = t.take('requester') as ResourceGrantedEvent[];
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
    const capacity = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 2.5) });
    const command: fc.Arbitrary<Command> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('request' as const), task: fc.integer({ min: 0, max: 4 }), units }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), task: fc.integer({ min: 0, max: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('capacity' as const), capacity }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 50 }) }) },
    );

    /** A deliberately naive pool (arrays, shift, filter): the oracle the pool is compared with. */
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
        if (!Number.isInteger(capacity) || capacity < 0) return;
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

    /** A map's entries with a non-zero value, sorted by key: what two views of the units must agree on. */
    const nonZero = (entries: Iterable<readonly [string, number]>): Array<[string, number]> =>
      [...entries].filter(([, value]) => value !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) as Array<[string, number]>;

    /**
     * Plays the commands on a pool and on the model, then brings both to rest (every pending request
     * cancelled, every lease released); `check` runs after each event with everything the pool told
     * since the one before, and the snapshot from before it.
     */
    function drive(
      initialCapacity: number,
      commands: readonly Command[],
      check: (pool: Pool, model: ModelPool, heard: Heard[], now: number, before: PoolSnapshot) => void,
    ): { pool: Pool; requestIds: string[] } {
      const t = startPool(initialCapacity);
      const model = new ModelPool(initialCapacity);
      const reason = new MezanError('E_CANCELLED', 'revoked');
      let now = 0;
      let requestCount = 0;
      const requestIds: string[] = [];
      let before = t.pool.getSnapshot();
      const after = (): void => {
        check(t, model, t.takeAll(), now, before);
        before = t.pool.getSnapshot();
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
            const leases = [...model.leases.keys()];
            const choice = step.pick % (leases.length + 2);
            const leaseId = leases[choice] ?? (choice === leases.length ? `db#${step.pick % 50}` : 'db#0');
            t.release(leaseId, now);
            model.release(leaseId, now);
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
            t.setCapacity(step.capacity, now);
            model.setCapacity(step.capacity, now);
            break;
          case 'advance':
            now += step.ms;
            break;
        }
        after();
      }
      // Come to rest: every requester gives up its pending request, every holder releases.
      for (const requestId of requestIds) {
        t.cancel(requestId, now);
        model.cancel(requestId, now);
        after();
      }
      for (const leaseId of [...model.leases.keys()]) {
        t.release(leaseId, now);
        model.release(leaseId, now);
        after();
      }
      return { pool: t, requestIds };
    }

    it('matches a naive model, never grants over capacity, publishes each task’s figures exactly, and answers every request once', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4 }), fc.array(command, { maxLength: 120, size: 'medium' }), (initialCapacity, commands) => {
          /** Leases granted and not yet released or revoked, as the requesters see them. */
          const live = new Map<string, number>();
          let held = 0;
          /** Every answer per request, in order. */
          const answers = new Map<string, string[]>();
          /** What the engine events and the monitor notices say each task holds and waits for. */
          const published = { held: new Map<string, number>(), waiting: new Map<string, number>() };

          const check = (t: Pool, model: ModelPool, heard: Heard[], now: number, before: PoolSnapshot): void => {
            const snapshot = t.pool.getSnapshot();
            // The requesters' view. A lease the model no longer has, and that was not revoked now, was released.
            const replies = heard.flatMap((entry) => (entry.by === 'requester' ? [entry.event] : []));
            const revoked = new Set(
              replies.flatMap((reply) => (reply.type === 'resource.revoked' && reply.leaseId !== undefined ? [reply.leaseId] : [])),
            );
            for (const [leaseId, units] of live)
              if (!model.leases.has(leaseId) && !revoked.has(leaseId)) {
                held -= units;
                live.delete(leaseId);
              }
            for (const reply of replies) {
              const kind = reply.type === 'resource.revoked' && reply.leaseId !== undefined ? 'lease-revoked' : reply.type;
              answers.set(reply.requestId, [...(answers.get(reply.requestId) ?? []), kind]);
              if (reply.type === 'resource.granted') {
                live.set(reply.leaseId, reply.units);
                held += reply.units;
                expect(held).toBeLessThanOrEqual(snapshot.context.capacity);
              } else if (reply.type === 'resource.revoked' && reply.leaseId !== undefined) {
                held -= live.get(reply.leaseId)!;
                live.delete(reply.leaseId);
              }
            }
            expect(replies.map(withoutReason)).toEqual(model.replies.splice(0).map(withoutReason));

            // The engine events and monitor notices: all before any answer, in order requests, shrunk holds, grown holds.
            const told = heard.filter((entry) => entry.by === 'sink' || entry.by === 'monitor');
            expect(heard.slice(0, told.length)).toEqual(told);
            const rank = { 'resource.waiting': 0, 'resource.wait-ended': 0, 'resource.released': 1, 'resource.acquired': 2 } as Record<
              string,
              number
            >;
            const ranks = told.map((entry) => rank[entry.event.type]);
            expect(ranks).toEqual([...ranks].sort());
            for (const { event } of told) {
              expect(event.at).toBe(now);
              if (event.type === 'resource.wait-ended') {
                expect(published.waiting.get(event.taskId) ?? 0).toBeGreaterThan(0);
                published.waiting.set(event.taskId, 0);
              } else if (event.type === 'resource.waiting') {
                expect(event.units).toBeGreaterThan(0);
                expect(event.units).not.toBe(published.waiting.get(event.taskId) ?? 0);
                published.waiting.set(event.taskId, event.units);
              } else if (event.type === 'resource.acquired' || event.type === 'resource.released') {
                const before = published.held.get(event.taskId) ?? 0;
                if (event.type === 'resource.acquired') expect(event.units).toBeGreaterThan(before);
                else expect(event.units).toBeLessThan(before);
                published.held.set(event.taskId, event.units);
              } else throw new Error(`unexpected event ${event.type}`);
            }
            const shares = [...model.shares()];
            expect(nonZero(published.held)).toEqual(nonZero(shares.map(([taskId, share]) => [taskId, share.held])));
            expect(nonZero(published.waiting)).toEqual(nonZero(shares.map(([taskId, share]) => [taskId, share.requested])));

            // The snapshot: the model's statistics and holdings, and the state they make.
            expect(snapshot.context.stats).toEqual(model.stats);
            expect(snapshot.context.stats.inUse).toBe(held);
            expect(snapshot.context.holdings.every((each) => each.units > 0)).toBe(true);
            expect(new Set(snapshot.context.holdings.map((each) => each.taskId)).size).toBe(snapshot.context.holdings.length);
            expect(nonZero(snapshot.context.holdings.map((each) => [each.taskId, each.units]))).toEqual(
              nonZero(shares.map(([taskId, share]) => [taskId, share.held])),
            );
            expect(snapshot.context.capacity).toBe(model.capacity);
            const free = snapshot.context.capacity - snapshot.context.stats.inUse;
            expect(snapshot.value).toBe(model.queue.length > 0 ? 'contended' : free > 0 ? 'available' : 'exhausted');
            // A kept snapshot: nothing happened, nobody was told anything.
            if (snapshot === before) expect(heard).toEqual([]);
          };

          const { pool: t, requestIds } = drive(initialCapacity, commands, check);

          const { context } = t.pool.getSnapshot();
          expect(context.stats.inUse).toBe(0);
          expect(context.stats.queueLength).toBe(0);
          expect(context.holdings).toEqual([]);
          expect(nonZero(published.held)).toEqual([]);
          expect(nonZero(published.waiting)).toEqual([]);
          expect(context.stats.acquired).toBe(context.stats.released + [...answers.values()].filter((each) => each.includes('lease-revoked')).length);
          for (const requestId of requestIds) {
            const [first, ...rest] = answers.get(requestId) ?? [];
            expect(['resource.granted', 'resource.denied', 'resource.cancelled', 'resource.revoked']).toContain(first);
            // A granted request may later hear that its lease was revoked; nothing else comes twice.
            expect(rest).toEqual(first === 'resource.granted' && rest.length > 0 ? ['lease-revoked'] : []);
          }
        }),
        { seed: 20240611, numRuns: 100 },
      );
    });

    it('keeps an observer that applies its messages in agreement with the pool’s holders and queue while requests wait', () => {
      let contendedRuns = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4 }), fc.array(command, { maxLength: 120, size: 'medium' }), (initialCapacity, commands) => {
          /** The observer's view of the pool, built from its messages alone. */
          const observed = { capacity: initialCapacity, holds: new Map<string, number>(), requests: new Map<string, number>() };
          let wasContended = false;

          const check = (t: Pool, model: ModelPool, heard: Heard[], _now: number, before: PoolSnapshot): void => {
            const snapshot = t.pool.getSnapshot();
            const contendedBefore = before.value === 'contended';
            const contendedAfter = snapshot.value === 'contended';
            wasContended ||= contendedAfter;
            const messages = heard.flatMap((entry) => (entry.by === 'observer' ? [entry.event] : []));
            if (!contendedBefore && !contendedAfter) expect(messages).toEqual([]);
            else {
              expect(messages.length).toBeLessThanOrEqual(1);
              if (contendedBefore !== contendedAfter || before.context.capacity !== snapshot.context.capacity) expect(messages).toHaveLength(1);
            }
            // Ahead of every answer to a requester.
            const firstReply = heard.findIndex((entry) => entry.by === 'requester');
            if (messages.length > 0 && firstReply >= 0) expect(heard.findIndex((entry) => entry.by === 'observer')).toBeLessThan(firstReply);
            for (const message of messages) {
              expect(message).toMatchObject({
                type: 'graph.pool-changes',
                resource: 'db',
                capacity: snapshot.context.capacity,
                contended: contendedAfter,
              });
              // Requests first, then the holds that shrank, then those that grew; each a net change, once.
              const rank = message.changes.map((change) =>
                change.type === 'graph.requests' ? 0 : change.units < (observed.holds.get(change.taskId) ?? 0) ? 1 : 2,
              );
              expect(rank).toEqual([...rank].sort());
              const keys = message.changes.map((change) => `${change.type}:${change.taskId}`);
              expect(new Set(keys).size).toBe(keys.length);
              observed.capacity = message.capacity;
              for (const change of message.changes) {
                expect(change.resource).toBe('db');
                const view = change.type === 'graph.holds' ? observed.holds : observed.requests;
                expect(change.units).not.toBe(view.get(change.taskId) ?? 0);
                view.set(change.taskId, change.units);
              }
              if (!message.contended) {
                expect(nonZero(observed.requests)).toEqual([]);
                observed.holds.clear();
              }
            }
            if (contendedAfter) {
              const queued = new Map<string, number>();
              for (const waiter of model.queue) queued.set(waiter.taskId, (queued.get(waiter.taskId) ?? 0) + waiter.units);
              expect(nonZero(observed.holds)).toEqual(nonZero(snapshot.context.holdings.map((each) => [each.taskId, each.units])));
              expect(nonZero(observed.requests)).toEqual(nonZero(queued));
              expect(observed.capacity).toBe(snapshot.context.capacity);
            } else {
              expect(nonZero(observed.holds)).toEqual([]);
              expect(nonZero(observed.requests)).toEqual([]);
            }
            // The model moves on with the pool (its replies are compared in the test above).
            model.replies.length = 0;
          };

          drive(initialCapacity, commands, check);
          if (wasContended) contendedRuns++;
        }),
        { seed: 20240612, numRuns: 200 },
      );
      // Most runs queue requests at some point, so the agreement above is not vacuous.
      expect(contendedRuns).toBeGreaterThan(100);
    });
  });
});
