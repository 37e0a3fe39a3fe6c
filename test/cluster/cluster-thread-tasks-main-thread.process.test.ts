import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Runs a cluster node with `threads: 0` and a submitter in a fresh process (the sources, through
 * tsx, whose dynamic `import()` of a thread task's module works where Jest's module system does
 * not), and prints what its thread tasks saw: where they ran, and their ctx, the cluster's.
 */
const SCRIPT = `
const { pathToFileURL } = require('node:url');
const { createEngine, inThread } = require('./src/index.ts');
const tasks = {
  where: inThread(pathToFileURL('test/fixtures/threads/tasks.mjs'), { export: 'where' }),
  describe: inThread(pathToFileURL('test/fixtures/threads/tasks.mjs'), { export: 'describeContext' }),
  fetch: (ctx) => ({ rows: ctx.input }),
};
(async () => {
  const cluster = { redis: process.env.REDIS_URL, name: 'main-thread' };
  const submitter = createEngine({ logger: false, cluster: { ...cluster, node: 'submitter', concurrency: 0 } });
  const node = createEngine({ logger: false, threads: 0, tasks, cluster: { ...cluster, node: 'node-0' } });
  const workers = [];
  node.events$.subscribe((event) => event.type === 'task.started' && workers.push(event.workerId));
  await Promise.all([submitter.onClusterReady(), node.onClusterReady()]);
  const where = await submitter.submit('where').result;
  const retried = await submitter.submit('describe', { id: 'describe-1', input: { failFirst: true }, retries: { max: 1, delayMs: 1 }, meta: { m: 2 } }).result;
  const fetch = submitter.submit('fetch', { id: 'fetch-1', input: 3 });
  const dependant = await submitter.submit('describe', { id: 'describe-2', dependsOn: [fetch] }).result;
  const piscinaLoaded = Object.keys(require.cache).some((file) => file.includes('/piscina/'));
  await Promise.all([submitter.shutdown(), node.shutdown()]);
  console.log(JSON.stringify({ where, retried, dependant, workers: [...new Set(workers)], piscinaLoaded }));
})();
`;

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.stop());

describe('a thread task run by a cluster node without threads', () => {
  it('runs on the node’s main thread, with the cluster’s id, attempt and dependencies in its ctx', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: redis.url },
    });
    expect(JSON.parse(stdout)).toEqual({
      where: { isMainThread: true },
      // Its first attempt threw: the cluster's second attempt is 2, as on a thread.
      retried: { id: 'describe-1', name: 'describe', attempt: 2, input: { failFirst: true }, meta: { m: 2 }, dependencies: [], frozen: true },
      dependant: {
        id: 'describe-2',
        name: 'describe',
        attempt: 1,
        dependencies: [{ id: 'fetch-1', name: 'fetch', status: 'completed', value: { rows: 3 } }],
        frozen: true,
      },
      workers: ['main'],
      piscinaLoaded: false,
    });
  });
});
