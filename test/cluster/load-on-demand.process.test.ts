import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Runs engines in a fresh process (the sources, through tsx) and prints how many modules of BullMQ,
 * ioredis and src/cluster that process has loaded: after an engine with named tasks and no
 * `cluster` ran one, then after an engine joined a cluster.
 */
const SCRIPT = `
const { createEngine } = require('./src/index.ts');
const loaded = () => Object.keys(require.cache).filter((file) => /[\\\\/](bullmq|ioredis|redis-semaphore)[\\\\/]|[\\\\/]actors[\\\\/]cluster-(submitter|worker)|[\\\\/]actors[\\\\/]cluster-pool/.test(file)).length;
(async () => {
  const plain = createEngine({ logger: false, tasks: { answer: () => 42 }, resources: { db: { capacity: 1, scope: 'local' } } });
  const value = await plain.submit('answer').result;
  await plain.shutdown();
  const before = loaded();
  const member = createEngine({ logger: false, tasks: { answer: () => 42 }, resources: { db: { capacity: 1, scope: 'cluster' } }, cluster: { redis: process.env.REDIS_URL, name: 'load-on-demand', node: 'n' } });
  const pooled = Object.keys(require.cache).some((file) => /[\\\\/]redis-semaphore[\\\\/]/.test(file));
  const clustered = await member.submit('answer').result;
  await member.shutdown();
  console.log(JSON.stringify({ value, clustered, before, after: loaded(), pooled }));
})();
`;

/**
 * Prints whether the cluster's deadlock detection (actors/cluster-deadlocks) was loaded by an
 * engine with a cluster pool: with \`deadlock.detect\` as given in argv.
 */
const DETECTION_SCRIPT = `
const { createEngine } = require('./src/index.ts');
const detect = process.argv[1];
(async () => {
  const member = createEngine({ logger: false, tasks: { answer: () => 42 }, resources: { db: { capacity: 1, scope: 'cluster' } }, deadlock: { detect }, cluster: { redis: process.env.REDIS_URL, name: 'detection-' + detect, node: 'n' } });
  const value = await member.submit('answer', { resources: { db: 1 } }).result;
  await member.shutdown();
  const detecting = Object.keys(require.cache).some((file) => /[\\\\/]actors[\\\\/]cluster-deadlocks/.test(file));
  console.log(JSON.stringify({ value, detecting }));
})();
`;

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.stop());

describe('the cluster is loaded on demand', () => {
  it('an engine without the option loads nothing of BullMQ, ioredis, redis-semaphore, the cluster node or the cluster pools; one with it and a cluster pool does', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: redis.url },
    });
    const { value, clustered, before, after, pooled } = JSON.parse(stdout) as {
      value: number;
      clustered: number;
      before: number;
      after: number;
      pooled: boolean;
    };
    expect(value).toBe(42);
    expect(clustered).toBe(42);
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
    expect(pooled).toBe(true);
  });

  it('an engine with a cluster pool and deadlock.detect off takes no part in detection across nodes: it loads none of it', async () => {
    const run = async (detect: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', DETECTION_SCRIPT, detect], {
        cwd: REPO_ROOT,
        env: { ...process.env, REDIS_URL: redis.url },
      });
      return JSON.parse(stdout) as { value: number; detecting: boolean };
    };
    expect(await run('off')).toEqual({ value: 42, detecting: false });
    expect(await run('immediate')).toEqual({ value: 42, detecting: true });
  });
});
