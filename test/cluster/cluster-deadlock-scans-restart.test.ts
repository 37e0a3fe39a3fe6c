import Redis from 'ioredis';
import { DEADLOCKS_PREFIX } from '../../actors/cluster-deadlocks';
import type { Engine } from '../../src';
import { until } from '../fixtures/cluster-test-bed';
import { inversionOutcomes, twoLoggedNodes, warningsAbout } from '../fixtures/cluster-logged-nodes';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// The cross-node deadlock scans' queue after its Redis restarted empty (no persistence, as the
// README's `redis-server --save ''`), or lost its data while the connections stayed (FLUSHALL): the
// nodes make its job scheduler and its global concurrency of 1 again once they reconnect, or at
// their next look (every third of the edges' time to live), and the scans break deadlocks again. A
// real redis-server, stopped and started again on the same port, or flushed; waits are for what
// must be seen, never a delay.

/** Whether cluster `cluster`'s scans' queue has its global concurrency of 1 and its job scheduler in Redis. */
async function scansQueueWhole(admin: Redis, cluster: string): Promise<boolean> {
  return (
    (await admin.hget(`${DEADLOCKS_PREFIX}:${cluster}:meta`, 'concurrency')) === '1' &&
    (await admin.exists(`${DEADLOCKS_PREFIX}:${cluster}:repeat:deadlock-scan`)) === 1
  );
}

describe('the deadlock scans’ queue after Redis restarts empty, or loses its data', () => {
  let first: RedisServer | undefined;
  let second: RedisServer | undefined;
  const engines: Engine[] = [];

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
    await second?.stop();
    await first?.stop();
  });

  it('has its scheduler and global concurrency made again, says so, and breaks a deadlock across nodes again', async () => {
    first = await startRedisServer();
    const cluster = 'restarted';
    const { a, b, logs } = await twoLoggedNodes(first.url, cluster, engines);
    const admin = new Redis(first.url, { maxRetriesPerRequest: null });
    admin.on('error', () => undefined);
    try {
      const whole = (): Promise<boolean> => scansQueueWhole(admin, cluster);
      await until(whole, 'the scans’ queue made at join');
      await first.stop();
      second = await startRedisServer({ port: first.port });
      await until(whole, 'the scans’ queue made again');
      const warned = logs.flatMap((records) => warningsAbout(records, "deadlock scans' queue had lost"));
      expect(warned.length).toBeGreaterThanOrEqual(1);
      expect(warned[0]!.message).toContain('its global concurrency of 1 and its job scheduler');
      // The scans run again: a lock-order inversion across the nodes is broken, b's task (of the lower priority) its victim.
      expect(await inversionOutcomes(a, b)).toEqual(['completed', 'E_DEADLOCK']);
    } finally {
      admin.disconnect();
    }
  });

  it('has its scheduler and global concurrency made again after a FLUSHALL that kept the connections, and breaks a deadlock across nodes again', async () => {
    first = await startRedisServer();
    const cluster = 'flushed';
    const { a, b, logs } = await twoLoggedNodes(first.url, cluster, engines);
    const admin = new Redis(first.url, { maxRetriesPerRequest: null });
    try {
      const whole = (): Promise<boolean> => scansQueueWhole(admin, cluster);
      await until(whole, 'the scans’ queue made at join');
      await admin.flushall();
      await until(whole, 'the scans’ queue made again');
      const warned = logs.flatMap((records) => warningsAbout(records, "deadlock scans' queue had lost"));
      expect(warned.length).toBeGreaterThanOrEqual(1);
      expect(await inversionOutcomes(a, b)).toEqual(['completed', 'E_DEADLOCK']);
    } finally {
      admin.disconnect();
    }
  });
});
