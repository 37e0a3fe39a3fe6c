import Redis from 'ioredis';
import { victimChannel } from '../../actors/cluster-deadlocks';
import { createEngine } from '../../src';
import { deferred } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// A node that takes part in the cluster's deadlock detection has joined only once it hears its
// victims: a decision published on its channel before Redis confirmed the subscription would find no
// subscriber, and be lost. On a real redis-server; the subscription is held back by the test, not
// timed.

const bed = useClusterTestBed();

afterEach(() => jest.restoreAllMocks());

describe("onClusterReady() and the node's deadlock victims' channel", () => {
  it('waits for Redis to confirm the subscription, and resolves with it in place', async () => {
    const cluster = bed.freshCluster('ready-victims');
    const channel = victimChannel(cluster, 'a');
    // The subscription to the victims' channel is sent only once the test lets it; every other passes.
    const held = deferred<void>();
    const subscribe = Redis.prototype.subscribe;
    jest.spyOn(Redis.prototype, 'subscribe').mockImplementation(function (this: Redis, ...args: unknown[]) {
      const send = (): unknown => (subscribe as (...given: unknown[]) => unknown).apply(this, args);
      return (args[0] === channel ? held.promise.then(send) : send()) as ReturnType<Redis['subscribe']>;
    });
    const engine = createEngine({ logger: false, tasks: { answer: () => 42 }, cluster: { redis: bed.redis.url, name: cluster, node: 'a' } });
    bed.engines.push(engine);
    let joined = false;
    const ready = engine.onClusterReady().then(() => (joined = true));
    // A cluster task run to its end: the submitting and working sides are connected by now.
    await expect(engine.submit('answer').result).resolves.toBe(42);
    expect(joined).toBe(false);
    held.resolve();
    await ready;
    const admin = new Redis(bed.redis.url);
    try {
      expect(await admin.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    } finally {
      admin.disconnect();
    }
  });
});
