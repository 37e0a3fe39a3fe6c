import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue, QueueEvents, Worker } from 'bullmq';
import Redis from 'ioredis';
import { pingRedis, startRedisServer, type RedisServer } from '../fixtures/redis-server';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CHILD_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/redis-server-child.ts');

/** Whether the process is gone: no such pid, or a zombie nobody reaped yet (it no longer runs). */
function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

// A real process's death takes real time: poll for it, bounded, rather than sleep a fixed time.
async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the redis-server test fixture', () => {
  it('starts servers of their own on distinct ports, answering, isolated, with persistence off', async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    const clientA = new Redis(a.url, { lazyConnect: true });
    const clientB = new Redis(b.url, { lazyConnect: true });
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.url).toBe(`redis://127.0.0.1:${a.port}`);
      expect(await pingRedis(a.port)).toBe(true);
      expect(await pingRedis(b.port)).toBe(true);
      await clientA.connect();
      await clientB.connect();
      await clientA.set('only-on-a', '1');
      expect(await clientA.get('only-on-a')).toBe('1');
      expect(await clientB.get('only-on-a')).toBeNull();
      expect(await clientA.config('GET', 'save')).toEqual(['save', '']);
      expect(await clientA.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await clientA.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    } finally {
      clientA.disconnect();
      clientB.disconnect();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('stops its server: the process exits and the port no longer answers; stop is idempotent', async () => {
    const server: RedisServer = await startRedisServer();
    await server.stop();
    expect(isDead(server.pid)).toBe(true);
    expect(await pingRedis(server.port)).toBe(false);
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it("runs BullMQ's Lua scripts: a job added to a queue is processed by a worker and its result read back", async () => {
    const server = await startRedisServer();
    const connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
    const queue = new Queue('harness', { connection });
    const events = new QueueEvents('harness', { connection });
    const worker = new Worker('harness', async (job) => (job.data as { n: number }).n * 2, { connection });
    try {
      await events.waitUntilReady();
      const job = await queue.add('double', { n: 21 });
      expect(await job.waitUntilFinished(events, 15_000)).toBe(42);
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
      await server.stop();
    }
  });

  it('reports a binary that cannot run', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/nonexistent/);
  });

  it('does not let its server outlive a test process killed with SIGKILL', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const match = /ready (\d+) (\d+)\n/.exec(out);
        if (match) resolve({ pid: Number(match[1]), port: Number(match[2]) });
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited (${String(code)}) before its server was ready: ${out}`)));
    });
    expect(await pingRedis(ready.port)).toBe(true);
    const childExit = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await childExit;
    expect(await eventually(() => isDead(ready.pid))).toBe(true);
    expect(await eventually(async () => !(await pingRedis(ready.port)))).toBe(true);
  });
});
