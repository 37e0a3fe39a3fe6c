import { spawn } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import { clusterPoolKey } from '../../actors/cluster-pool.actor';
import { createEngine, type Engine, type TaskContext } from '../../src';
import { deferred, rejectionOf, thrownBy, type Deferred } from '../fixtures/engine-harness';
import { until } from '../fixtures/cluster-test-bed';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// Engines that join a cluster on a real redis-server and share a pool of `scope: 'cluster'`. Real
// time: the tests wait for conditions (what the tasks report, bounded), never for a delay.

const REPO_ROOT = path.resolve(__dirname, '../..');
const HOLDER_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/cluster-pool-engine-holder.ts');

let redis: RedisServer;
let admin: Redis;
let clusterNumber = 0;
const engines: Engine[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
});

afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});

describe('resources of scope cluster', () => {
  it.each([
    [{ db: { capacity: 1, scope: 'global' } }, 'resources.db.scope'],
    [{ db: { capacity: 1, scope: 'cluster' } }, 'resources.db.scope'],
    [{ db: { capacity: 1, scope: null } }, 'resources.db.scope'],
    [{ db: { capacity: 1, leaseMs: 1000 } }, 'resources.db.leaseMs'],
  ])('refuses %j without a cluster, naming %s', (resources, option) => {
    const error = thrownBy(() => createEngine({ logger: false, resources: resources as never }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toMatchObject({ option });
  });

  it('says that a cluster pool needs the `cluster` option', () => {
    const error = thrownBy(() => createEngine({ logger: false, resources: { db: { capacity: 1, scope: 'cluster' } } }));
    expect(error.message).toContain('`cluster` option');
  });

  it('takes `local` (the default) without a cluster', async () => {
    const engine = createEngine({ logger: false, resources: { db: { capacity: 1, scope: 'local' } } });
    engines.push(engine);
    await expect(engine.submit(async (ctx) => (await ctx.acquire('db')).release()).result).resolves.toBeUndefined();
  });

  it.each([0, 2, 1.5, '1000', Number.POSITIVE_INFINITY])('refuses a leaseMs of %p, naming resources.db.leaseMs', (leaseMs) => {
    const error = thrownBy(() =>
      createEngine({
        logger: false,
        resources: { db: { capacity: 1, scope: 'cluster', leaseMs: leaseMs as number } },
        cluster: { redis: redis.url, name: 'never-joined', node: 'n' },
      }),
    );
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toMatchObject({ option: 'resources.db.leaseMs' });
  });

  it('fails the attempt of a task whose lease lapsed (Redis lost it) with E_LEASE_LOST, aborting its signal', async () => {
    const name = `pools-${process.pid}-${++clusterNumber}`;
    // Leases of 600 ms, refreshed every 200 ms: the next refresh after the key is deleted finds it gone.
    const engine = createEngine({
      logger: false,
      resources: { db: { capacity: 1, scope: 'cluster', leaseMs: 600 } },
      cluster: { redis: redis.url, name, node: 'only' },
    });
    engines.push(engine);
    const holding = deferred();
    const handle = engine.submit(async (ctx) => {
      await ctx.acquire('db');
      holding.resolve();
      await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    await holding.promise;
    await admin.del(clusterPoolKey(name, 'db'));
    const error = await rejectionOf(handle);
    // A failed attempt: the task fails (after its retries, none here) with what failed it as the cause.
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.cause).toMatchObject({ code: 'E_LEASE_LOST', details: { resource: 'db' } });
    expect(handle.status).toBe('failed');
  });

  it('shares its units among the nodes: units held across three nodes never exceed the capacity', async () => {
    const name = `pools-${process.pid}-${++clusterNumber}`;
    let holders = 0;
    let peak = 0;
    const heldOn = new Set<string>();
    const gates: Array<Deferred<void>> = [];
    const tasksOf = (node: string) => ({
      hold: async (ctx: TaskContext) => {
        const lease = await ctx.acquire('db');
        holders++;
        peak = Math.max(peak, holders);
        heldOn.add(node);
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        holders--;
        lease.release();
        return node;
      },
    });
    const nodes = await Promise.all(
      ['a', 'b', 'c'].map(async (node) => {
        const engine = createEngine({
          logger: false,
          concurrency: 2,
          tasks: tasksOf(node),
          resources: { db: { capacity: 2, scope: 'cluster' }, local: 1 },
          cluster: { redis: redis.url, name, node },
        });
        engines.push(engine);
        await engine.onClusterReady();
        return engine;
      }),
    );
    const handles = Array.from({ length: 6 }, () => nodes[0]!.submit<string>('hold'));
    for (let opened = 0; opened < 6; opened++) {
      // Two hold the pool (or all that are left): the others wait for a unit, on whichever node.
      await until(() => gates.length - opened === Math.min(2, 6 - opened), 'the pool to be full');
      expect(holders).toBe(Math.min(2, 6 - opened));
      gates[opened]!.resolve();
    }
    const ranOn = await Promise.all(handles.map((handle) => handle.result));
    expect(peak).toBe(2);
    expect(new Set(ranOn)).toEqual(heldOn);
    expect(heldOn.size).toBeGreaterThan(1);
    // A node's stats count what its own tasks took of the cluster pool.
    const acquired = nodes.map((engine) => engine.metrics().resources.db!.acquired);
    expect(acquired.reduce((sum, count) => sum + count, 0)).toBe(6);
    await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
    expect(await admin.zcard(clusterPoolKey(name, 'db'))).toBe(0);
  });

  it("gives the units of a node killed with SIGKILL to another node's task once its lease lapses", async () => {
    const name = `pools-${process.pid}-${++clusterNumber}`;
    // The doomed node's lease lives 600 ms unrefreshed: this test waits for it to lapse after the kill.
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER_SCRIPT, redis.url, name, '600'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => (chunk.includes('held') ? resolve() : undefined));
        child.on('exit', (code) => reject(new Error(`the holder exited (${String(code)}) before it held the unit`)));
      });
      const survivor = createEngine({
        logger: false,
        resources: { db: { capacity: 1, scope: 'cluster', leaseMs: 600 } },
        cluster: { redis: redis.url, name, node: 'survivor', concurrency: 0 },
      });
      engines.push(survivor);
      const waiting = deferred();
      const handle = survivor.submit(async (ctx) => {
        waiting.resolve();
        const lease = await ctx.acquire('db');
        lease.release();
        return 'got it';
      });
      await waiting.promise;
      await until(() => survivor.waitForGraph().edges.some((edge) => edge.kind === 'requests'), 'the survivor to wait for the unit');
      child.kill('SIGKILL');
      await exited;
      await expect(handle.result).resolves.toBe('got it');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});
