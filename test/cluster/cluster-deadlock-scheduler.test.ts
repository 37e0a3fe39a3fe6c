import { Queue } from 'bullmq';
import { createEngine, type Engine } from '../../src';
import { DEADLOCKS_PREFIX } from '../../actors/cluster-deadlocks';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';
import { nextScheduling } from '../fixtures/next-scheduling';

// The job scheduler of the cluster's deadlock scans goes with the last node that leaves, on a real
// redis-server. Real time: the tests wait for engines to start and stop, never for a delay.

const bed = useClusterTestBed();
const SCHEDULER = 'deadlock-scan';

/** An engine with a cluster pool (so it takes part in the scans) on cluster `cluster`, as node `node`. */
async function join(cluster: string, node: string): Promise<Engine> {
  const engine = createEngine({
    logger: false,
    resources: { db: { capacity: 1, scope: 'cluster' } },
    cluster: { redis: bed.redis.url, name: cluster, node, concurrency: 0 },
  });
  bed.engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** Runs `body` with the scans' queue of `cluster` (under its own key prefix), closed after. */
async function withScans<T>(cluster: string, body: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(cluster, { connection: { url: bed.redis.url }, prefix: DEADLOCKS_PREFIX });
  try {
    return await body(queue);
  } finally {
    await queue.close();
  }
}

function isScheduled(cluster: string): Promise<boolean> {
  return withScans(cluster, async (queue) => (await queue.getJobScheduler(SCHEDULER)) !== undefined);
}

/** Joins as {@link join} does, and resolves once the node has made the scheduler. */
async function joinScheduled(cluster: string, node: string): Promise<Engine> {
  const scheduled = nextScheduling();
  const engine = await join(cluster, node);
  await scheduled;
  return engine;
}

describe('the deadlock scans’ job scheduler', () => {
  afterEach(() => jest.restoreAllMocks());

  it('stays while a node is left, and goes with the last node to leave', async () => {
    const cluster = bed.freshCluster('scheduler');
    const a = await joinScheduled(cluster, 'a');
    const b = await joinScheduled(cluster, 'b');
    expect(await isScheduled(cluster)).toBe(true);
    await a.shutdown();
    expect(await isScheduled(cluster)).toBe(true);
    await b.shutdown();
    expect(await isScheduled(cluster)).toBe(false);
    // A node that joins later makes it again.
    const c = await joinScheduled(cluster, 'c');
    expect(await isScheduled(cluster)).toBe(true);
    await c.shutdown();
    expect(await isScheduled(cluster)).toBe(false);
  });

  it('stays while a node is left whatever names the nodes have: Redis names their connections after any name a node may have', async () => {
    const cluster = bed.freshCluster('scheduler');
    // Names at the edges of what a node may be called (! to ~): the nodes still see each other.
    const a = await joinScheduled(cluster, '!a:w:"1');
    await joinScheduled(cluster, '~b/{2}*');
    await a.shutdown();
    expect(await isScheduled(cluster)).toBe(true);
  });

  it('stays while a node is left whose name ends as a connection of the leaving node’s would (`y:w:x` and `x`)', async () => {
    const cluster = bed.freshCluster('scheduler');
    const x = await joinScheduled(cluster, 'x');
    await joinScheduled(cluster, 'y:w:x');
    await x.shutdown();
    expect(await isScheduled(cluster)).toBe(true);
  });

  it('is made again for a node that joined while the last one was leaving, after it had looked', async () => {
    const cluster = bed.freshCluster('scheduler');
    const a = await joinScheduled(cluster, 'a');
    let b: Engine | undefined;
    const remove = Queue.prototype.removeJobScheduler;
    // Node a has seen no other node and is about to remove the scheduler: b joins and makes it first.
    jest.spyOn(Queue.prototype, 'removeJobScheduler').mockImplementationOnce(async function (this: Queue, id: string) {
      b = await joinScheduled(cluster, 'b');
      return remove.call(this, id);
    });
    await a.shutdown();
    expect(b).toBeDefined();
    expect(await isScheduled(cluster)).toBe(true);
    await b!.shutdown();
    expect(await isScheduled(cluster)).toBe(false);
  });
});
