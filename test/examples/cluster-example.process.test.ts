import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { killAll, startNode, type NodeProcess } from '../fixtures/cluster/node-processes';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

const ROOT = path.join(__dirname, '..', '..');

let redis: RedisServer;
let node: NodeProcess | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  if (node !== undefined) await killAll([node]);
  await redis.stop();
});

describe("the README's two-terminal cluster example", () => {
  it('runs: a `mezan node` with examples/cluster-tasks.mjs, and examples/cluster-submit.ts submitting to it', async () => {
    node = await startNode({ redisUrl: redis.url, cluster: 'orders', name: 'worker-1', tasks: path.join(ROOT, 'examples/cluster-tasks.mjs') });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/cluster-submit.ts'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis.url },
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(14);
    const thumbnails = lines.slice(0, 12).map((line) => JSON.parse(line) as { image: number; attempt: number; node: string });
    expect(thumbnails.map((thumbnail) => thumbnail.image)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(thumbnails.every((thumbnail) => thumbnail.attempt === 1 && thumbnail.node.endsWith(`:${node!.pid}`))).toBe(true);
    expect(JSON.parse(lines[12]!)).toMatchObject({ order: 7, idempotencyKey: expect.stringMatching(/^charge-order-/) });
    expect(lines[13]).toBe('submitted 13, lost 0');
  });
});
