import { Queue } from 'bullmq';
import { createEngine, type Engine, type NamedTaskFunctions } from '../../src';
import { deferred, thrownBy } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// The cluster-wide limits (`cluster.globalConcurrency`, `cluster.rateLimit`) are BullMQ's, kept in
// Redis with the queue: they hold over every node. Real time on a real redis-server.

const bed = useClusterTestBed();

/** Two working nodes of concurrency 4 and a submitter, all given `limits`; returns the submitter and the cluster's name. */
async function joinCluster(tasks: NamedTaskFunctions, limits: object): Promise<{ submitter: Engine; name: string }> {
  const name = bed.freshCluster('limits');
  const node = (id: string, concurrency: number): Engine =>
    createEngine({ logger: false, concurrency: 4, tasks, cluster: { redis: bed.redis.url, name, node: id, concurrency, ...limits } });
  const engines = [node('submitter', 0), node('a', 4), node('b', 4)];
  bed.engines.push(...engines);
  await Promise.all(engines.map((engine) => engine.onClusterReady()));
  return { submitter: engines[0]!, name };
}

describe('cluster-wide limits', () => {
  it('runs at most globalConcurrency tasks at once over all the nodes', async () => {
    let running = 0;
    let most = 0;
    // The first tasks wait until two run at once: the limit is reached, and then never passed.
    const twoRunning = deferred();
    const { submitter } = await joinCluster(
      {
        work: async () => {
          most = Math.max(most, ++running);
          if (running === 2) twoRunning.resolve();
          await twoRunning.promise;
          running--;
        },
      },
      { globalConcurrency: 2 },
    );
    await Promise.all(Array.from({ length: 12 }, () => submitter.submit('work').result));
    expect(most).toBe(2);
  });

  it('starts at most rateLimit.limit tasks per rateLimit.intervalMs over all the nodes', async () => {
    const { submitter, name } = await joinCluster({ work: () => 'done' }, { rateLimit: { limit: 2, intervalMs: 300 } });
    const ids = Array.from({ length: 6 }, (_, index) => `rated-${index}`);
    await Promise.all(ids.map((id) => submitter.submit('work', { id }).result));
    // When BullMQ gave each job to a node, as the job records it.
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    const starts = (await Promise.all(ids.map(async (id) => (await queue.getJob(id))!.processedOn!))).sort((a, b) => a - b);
    await queue.close();
    // BullMQ's limiter counts starts in windows of intervalMs opened by a window's first start: the
    // third and fifth starts open new windows. A start is stamped by its node a moment before Redis
    // takes it, hence the few milliseconds' allowance. Without the limit, 8 slots start all six at once.
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(290);
    expect(starts[4]! - starts[2]!).toBeGreaterThanOrEqual(290);
  });

  it('refuses a limit that is not a positive integer, or a rate limit of another shape, naming it', () => {
    const refused = (cluster: object): string =>
      String(thrownBy(() => createEngine({ logger: false, cluster: { redis: bed.redis.url, name: 'x', ...cluster } })).details['option']);
    expect(refused({ globalConcurrency: 0 })).toBe('cluster.globalConcurrency');
    expect(refused({ globalConcurrency: 1.5 })).toBe('cluster.globalConcurrency');
    expect(refused({ rateLimit: 5 })).toBe('cluster.rateLimit');
    expect(refused({ rateLimit: { limit: 1, intervalMs: 10, per: 'group' } })).toBe('cluster.rateLimit.per');
    expect(refused({ rateLimit: { limit: 0, intervalMs: 10 } })).toBe('cluster.rateLimit.limit');
    expect(refused({ rateLimit: { limit: 1, intervalMs: 0 } })).toBe('cluster.rateLimit.intervalMs');
  });
});
