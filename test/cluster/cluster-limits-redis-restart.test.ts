import { Redis } from 'ioredis';
import { createEngine, type Engine } from '../../src';
import { until } from '../fixtures/cluster-test-bed';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// A Redis restarted without persistence comes back empty: the cluster-wide limits the nodes set
// when they joined are written again once their connections are back. Real Redis, real time: the
// test waits for Redis's state, never for a delay.

describe('a cluster whose Redis restarts empty', () => {
  it('has its working and submitting nodes write the cluster-wide limits again', async () => {
    const servers: RedisServer[] = [await startRedisServer()];
    const { port, url } = servers[0]!;
    const engines: Engine[] = [];
    const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
    admin.on('error', () => undefined);
    try {
      const limits = { globalConcurrency: 2, rateLimit: { limit: 100, intervalMs: 1_000 } };
      engines.push(
        createEngine({ logger: false, tasks: { t: () => 1 }, cluster: { redis: url, name: 'restart', node: 'worker', ...limits } }),
        createEngine({ logger: false, cluster: { redis: url, name: 'restart-submit', node: 'submitter', concurrency: 0, ...limits } }),
      );
      await Promise.all(engines.map((engine) => engine.onClusterReady()));
      const written = async (cluster: string): Promise<boolean> => {
        const [concurrency, max] = await admin.hmget(`mezan:${cluster}:meta`, 'concurrency', 'max');
        return concurrency === '2' && max === '100';
      };
      expect(await written('restart')).toBe(true);
      expect(await written('restart-submit')).toBe(true);
      await servers[0]!.stop();
      servers.push(await startRedisServer({ port }));
      await until(() => written('restart'), 'the working node to set its limits again');
      await until(() => written('restart-submit'), 'the submitting node to set its limits again');
    } finally {
      await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
      admin.disconnect();
      for (const server of servers) await server.stop();
    }
  });
});
