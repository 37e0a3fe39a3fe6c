import { Redis } from 'ioredis';
import { createEngine } from '../../src';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

const bed = useClusterTestBed();

describe('a cluster node shut down by a signal', () => {
  it('resolves engine.shutdown() only once the node has left the cluster (its membership record withdrawn)', async () => {
    const name = bed.freshCluster('signal-leave');
    const engine = createEngine({ logger: false, tasks: { t: () => 1 }, cluster: { redis: bed.redis.url, name, node: 'n1' } });
    bed.engines.push(engine);
    await engine.onClusterReady();
    const redis = new Redis(bed.redis.url);
    try {
      const record = `mezan:${name}:members:node:n1`;
      await until(async () => (await redis.exists(record)) === 1, 'the membership record is written');
      const stopped = new Promise<void>((resolve) => engine.events$.subscribe({ complete: () => resolve() }));
      engine.inject({ type: 'signal', signal: 'SIGTERM' });
      await stopped;
      await engine.shutdown();
      expect(await redis.exists(record)).toBe(0);
    } finally {
      await redis.quit();
    }
  });
});
