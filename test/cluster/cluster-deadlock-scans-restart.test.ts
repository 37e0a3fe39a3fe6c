import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { DEADLOCKS_PREFIX } from '../../actors/cluster-deadlocks';
import type { Engine } from '../../src';
import { until } from '../fixtures/cluster-test-bed';
import { inversionOutcomes, twoLoggedNodes, warningsAbout } from '../fixtures/cluster-logged-nodes';
import { pingRedis, startRedisServer, type RedisServer } from '../fixtures/redis-server';

// The cross-node deadlock scans' queue after its Redis restarted empty (no persistence, as the
// README's `redis-server --save ''`): the nodes make its job scheduler and its global concurrency
// of 1 again once they reconnect, and the scans break deadlocks again. A real redis-server,
// stopped and started again on the same port; waits are for what must be seen, never a delay.

/** A second redis-server on `port`, persistence off, in a directory of its own. */
async function restartOn(port: number): Promise<{ stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mezan-redis-restart-'));
  const binary = process.env.REDIS_SERVER || (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''];
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(() => pingRedis(port), 'the restarted redis-server');
  return {
    async stop() {
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('the deadlock scans’ queue after Redis restarts empty', () => {
  let first: RedisServer | undefined;
  let second: { stop(): Promise<void> } | undefined;
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
      const whole = async (): Promise<boolean> =>
        (await admin.hget(`${DEADLOCKS_PREFIX}:${cluster}:meta`, 'concurrency')) === '1' &&
        (await admin.exists(`${DEADLOCKS_PREFIX}:${cluster}:repeat:deadlock-scan`)) === 1;
      await until(whole, 'the scans’ queue made at join');
      await first.stop();
      second = await restartOn(first.port);
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
});
