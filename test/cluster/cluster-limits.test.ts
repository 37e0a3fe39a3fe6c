import { performance } from 'node:perf_hooks';
import { createEngine, type Engine, type NamedTaskFunctions } from '../../src';
import { thrownBy } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// The cluster-wide limits (`cluster.globalConcurrency`, `cluster.rateLimit`) are BullMQ's, kept in
// Redis with the queue: they hold over every node. Real time on a real redis-server.

const bed = useClusterTestBed();

/** Two working nodes of concurrency 4 and a submitter, all given `limits`. */
async function joinCluster(tasks: NamedTaskFunctions, limits: object): Promise<Engine> {
  const name = bed.freshCluster('limits');
  const node = (id: string, concurrency: number): Engine =>
    createEngine({ logger: false, concurrency: 4, tasks, cluster: { redis: bed.redis.url, name, node: id, concurrency, ...limits } });
  const engines = [node('submitter', 0), node('a', 4), node('b', 4)];
  bed.engines.push(...engines);
  await Promise.all(engines.map((engine) => engine.onClusterReady()));
  return engines[0]!;
}

describe('cluster-wide limits', () => {
  it('runs at most globalConcurrency tasks at once over all the nodes', async () => {
    let running = 0;
    let most = 0;
    const submitter = await joinCluster(
      {
        work: async (ctx) => {
          most = Math.max(most, ++running);
          await ctx.sleep(10);
          running--;
        },
      },
      { globalConcurrency: 2 },
    );
    await Promise.all(Array.from({ length: 12 }, () => submitter.submit('work').result));
    expect(most).toBe(2);
  });

  it('starts at most rateLimit.limit tasks per rateLimit.intervalMs over all the nodes', async () => {
    const starts: number[] = [];
    const submitter = await joinCluster({ work: () => void starts.push(performance.now()) }, { rateLimit: { limit: 2, intervalMs: 300 } });
    await Promise.all(Array.from({ length: 6 }, () => submitter.submit('work').result));
    expect(starts).toHaveLength(6);
    // Three windows of two starts: the last starts at least two intervals after the first (less a
    // margin for when each start is seen here). Without the limit, 8 slots start all six at once.
    expect(starts[5]! - starts[0]!).toBeGreaterThanOrEqual(500);
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
