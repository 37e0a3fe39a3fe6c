import { createActor, fromCallback } from 'xstate';
import { PoolPost } from '../../actors/pool-post';
import { realClock } from '../../src/clock';
import type { ResourceBatchedEvent, ResourceEvent } from '../../src/internal/resource-protocol';
import { VirtualClock } from '../../src/virtual-clock';
import { flush } from '../fixtures/flush';

/** A stand-in for a pool: it records every message it gets, batches as they came. */
function recordingPool() {
  const received: ResourceEvent[] = [];
  const ref = createActor(fromCallback<ResourceEvent>(({ receive }) => receive((event) => void received.push(event)))).start();
  return { ref, received };
}

const replyTo = { send: (): void => undefined };
const request = (requestId: string): ResourceBatchedEvent => ({ type: 'resource.request', requestId, taskId: 't', units: 1, at: 0, replyTo });
const release = (leaseId: string): ResourceBatchedEvent => ({ type: 'resource.release', leaseId, at: 0 });
const cancel = (requestId: string): ResourceBatchedEvent => ({ type: 'resource.cancel', requestId, at: 0 });

describe('PoolPost', () => {
  it.each([
    ['real time', realClock],
    ['a virtual clock that settles each timer', new VirtualClock()],
  ])('sends each event at once on a clock without instants (%s)', (_name, clock) => {
    const post = new PoolPost(clock);
    const db = recordingPool();
    post.send(db.ref, request('r1'));
    expect(db.received).toEqual([request('r1')]);
    post.send(db.ref, release('db#1'));
    expect(db.received).toEqual([request('r1'), release('db#1')]);
  });

  it("on a simulation's clock, sends a burst's events once the jobs queued before them ran: one message per pool, in order", async () => {
    const post = new PoolPost(new VirtualClock({ settle: 'each-instant' }));
    const db = recordingPool();
    const gpu = recordingPool();
    let seenByEarlierJob: number | undefined;
    void Promise.resolve().then(() => (seenByEarlierJob = db.received.length));
    post.send(db.ref, request('r1'));
    post.send(gpu.ref, release('gpu#1'));
    post.send(db.ref, release('db#1'));
    post.send(db.ref, cancel('r0'));
    expect(db.received).toEqual([]);
    await flush();
    expect(seenByEarlierJob).toBe(0);
    expect(db.received).toEqual([{ type: 'resource.batch', events: [request('r1'), release('db#1'), cancel('r0')] }]);
    // A lone event goes as itself.
    expect(gpu.received).toEqual([release('gpu#1')]);
    // A later burst is a message of its own.
    post.send(db.ref, release('db#2'));
    await flush();
    expect(db.received.slice(1)).toEqual([release('db#2')]);
  });

  it('sends at once on flush (a worker that crashes or stops), and nothing twice', async () => {
    const post = new PoolPost(new VirtualClock({ settle: 'each-instant' }));
    const db = recordingPool();
    post.send(db.ref, request('r1'));
    post.send(db.ref, cancel('r1'));
    post.flush();
    expect(db.received).toEqual([{ type: 'resource.batch', events: [request('r1'), cancel('r1')] }]);
    await flush();
    expect(db.received).toHaveLength(1);
    post.flush();
    expect(db.received).toHaveLength(1);
  });
});
