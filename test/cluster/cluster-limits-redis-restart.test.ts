import { Redis } from 'ioredis';
import { createEngine, type Engine } from '../../src';
import { until } from '../fixtures/cluster-test-bed';
import { deferred, recordingLogger } from '../fixtures/engine-harness';
import { mendClusterLimits } from '../../actors/cluster-redis';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// A Redis restarted without persistence comes back empty: the cluster-wide limits the nodes set
// when they joined are written again once their connections are back. One that loses its data
// while the connections stay (FLUSHALL) has them written again at the nodes' next heartbeat. Real
// Redis, real time: the tests wait for Redis's state, never for a delay.

describe('a cluster whose Redis restarts empty, or loses its data', () => {
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

  it('has its nodes write the cluster-wide limits again after a FLUSHALL that kept the connections, and runs under them', async () => {
    const server = await startRedisServer();
    const engines: Engine[] = [];
    const admin = new Redis(server.url, { maxRetriesPerRequest: null });
    const running = new Set<string>();
    let most = 0;
    const release = deferred<void>();
    try {
      const limits = { globalConcurrency: 1, rateLimit: { limit: 100, intervalMs: 1_000 } };
      const hold = async (ctx: { readonly id: string }): Promise<void> => {
        running.add(ctx.id);
        most = Math.max(most, running.size);
        await release.promise;
        running.delete(ctx.id);
      };
      const worker = createEngine({
        logger: false,
        tasks: { hold },
        cluster: { redis: server.url, name: 'flushed', node: 'worker', concurrency: 4, ...limits },
      });
      engines.push(
        worker,
        createEngine({ logger: false, cluster: { redis: server.url, name: 'flushed-submit', node: 'submitter', concurrency: 0, ...limits } }),
      );
      await Promise.all(engines.map((engine) => engine.onClusterReady()));
      const written = async (cluster: string): Promise<boolean> => {
        const [concurrency, max, duration] = await admin.hmget(`mezan:${cluster}:meta`, 'concurrency', 'max', 'duration');
        return concurrency === '1' && max === '100' && duration === '1000';
      };
      await admin.flushall();
      await until(() => written('flushed'), 'the working node to set its limits again');
      await until(() => written('flushed-submit'), 'the submitting node to set its limits again');
      const handles = [worker.submit('hold', { id: 'h1' }), worker.submit('hold', { id: 'h2' })];
      await until(() => running.size > 0, 'a task to start');
      release.resolve();
      await Promise.all(handles.map((handle) => handle.result));
      expect(most).toBe(1);
    } finally {
      release.resolve();
      await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
      admin.disconnect();
      await server.stop();
    }
  });

  it('sets again only the limits Redis lost, never one it has (another node’s), saying so', async () => {
    const server = await startRedisServer();
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const { logger, records } = recordingLogger();
    try {
      const limits = { globalConcurrency: 1, rateLimit: { limit: 100, intervalMs: 1_000 } };
      await redis.hset('mezan:kept:meta', { concurrency: 3, max: 5, duration: 50 });
      await mendClusterLimits(redis, 'kept', limits, logger);
      expect(await redis.hmget('mezan:kept:meta', 'concurrency', 'max', 'duration')).toEqual(['3', '5', '50']);
      expect(records).toEqual([]);
      await redis.hdel('mezan:kept:meta', 'duration');
      await mendClusterLimits(redis, 'kept', limits, logger);
      expect(await redis.hmget('mezan:kept:meta', 'concurrency', 'max', 'duration')).toEqual(['3', '100', '1000']);
      expect(records).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringContaining('had lost its rate limit') })]);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});
