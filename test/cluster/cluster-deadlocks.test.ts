import Redis from 'ioredis';
import { ClusterDeadlocks } from '../../src/cluster/cluster-deadlocks';
import { ClusterWaitEdges } from '../../src/cluster/cluster-wait-edges';
import { createEngine, MezanError, realClock, type Engine, type TaskContext } from '../../src';
import { deferred } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// Deadlocks across the nodes of a cluster, on a real redis-server: engines whose tasks wait on
// each other through cluster pools. Real time: the tests wait for conditions (bounded), never for
// a delay.

const bed = useClusterTestBed();
let admin: Redis;

beforeAll(() => {
  admin = new Redis(bed.redis.url);
});

afterAll(() => {
  admin.disconnect();
});

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Two engines, nodes `a` and `b` of a fresh cluster, each with the cluster pools db and gpu of one unit; once both are connected. */
async function twoNodes(
  stem: string,
  options: { deadlockAfterMs: number; deadlockScanMs: number },
): Promise<{ cluster: string; a: Engine; b: Engine }> {
  const cluster = bed.freshCluster(stem);
  const [a, b] = ['a', 'b'].map((name) => {
    const engine = createEngine({
      logger: false,
      resources: { db: { capacity: 1, scope: 'cluster' }, gpu: { capacity: 1, scope: 'cluster' } },
      cluster: { redis: bed.redis.url, name: cluster, node: name, concurrency: 0, ...options },
    });
    bed.engines.push(engine);
    return engine;
  }) as [Engine, Engine];
  await Promise.all([a.onClusterReady(), b.onClusterReady()]);
  return { cluster, a, b };
}

describe('deadlocks across the nodes of a cluster', () => {
  it('breaks a lock-order inversion between tasks of two engines on two cluster pools, with exactly one victim', async () => {
    const { cluster, a, b } = await twoNodes('deadlock', { deadlockAfterMs: 300, deadlockScanMs: 100 });
    const aHolds = deferred<void>();
    const bHolds = deferred<void>();
    const inverted = (first: string, second: string, mine: typeof aHolds, theirs: typeof aHolds) => async (ctx: TaskContext) => {
      const held = await ctx.acquire(first);
      mine.resolve();
      await theirs.promise;
      const other = await ctx.acquire(second);
      other.release();
      held.release();
      return first;
    };
    const onA = a.submit(inverted('db', 'gpu', aHolds, bHolds));
    const onB = b.submit(inverted('gpu', 'db', bHolds, aHolds));
    const outcomes = await Promise.allSettled([onA.result, onB.result]);

    // Both hold one unit: the victim is the last by cluster id, b's task; a's then gets gpu and completes.
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'db' });
    expect(outcomes[1]!.status).toBe('rejected');
    const error = (outcomes[1] as PromiseRejectedResult).reason as MezanError;
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.details).toMatchObject({ victim: `b/${onB.id}`, node: 'b', deadlocked: [`a/${onA.id}`, `b/${onB.id}`] });
    expect((error.details as { cycle: string[] }).cycle).toEqual(expect.arrayContaining([`a/${onA.id}`, `b/${onB.id}`, 'db', 'gpu']));
    // One decision was sent, for b's request.
    expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toEqual([
      expect.stringMatching(new RegExp(`^mezan:${cluster}:deadlock:decided:b/${onB.id}:`)),
    ]);
  });

  it('does not break a phantom: a cycle whose wait ended before the second snapshot', async () => {
    // The engines' own scans are an hour apart: this test scans by hand.
    const { cluster, a, b } = await twoNodes('phantom', { deadlockAfterMs: 1, deadlockScanMs: 3_600_000 });
    const bHoldsGpu = deferred<void>();
    const releaseGpu = deferred<void>();
    const onB = b.submit(async (ctx) => {
      const gpu = await ctx.acquire('gpu');
      bHoldsGpu.resolve();
      await releaseGpu.promise;
      gpu.release();
    });
    await bHoldsGpu.promise;
    const onA = a.submit(async (ctx) => {
      const db = await ctx.acquire('db');
      const gpu = await ctx.acquire('gpu');
      gpu.release();
      db.release();
      return 'done';
    });
    const edges = new ClusterWaitEdges({ redis: admin, cluster });
    // a publishes its task's hold of db and wait for gpu (b's task holds gpu but waits for nothing: b publishes nothing).
    await until(
      async () => (await edges.snapshot()).nodes.some(({ node, edges }) => node === 'a' && edges.some((edge) => edge.kind === 'requests')),
      'a to publish its wait',
    );
    // A ghost node's task that held gpu and waited for db: a cycle with a's task, as a stale publish would show.
    await edges.publish(
      'ghost',
      [
        { kind: 'holds', task: 'ghost/g1', resource: 'gpu', units: 1, capacity: 1 },
        { kind: 'requests', task: 'ghost/g1', resource: 'db', units: 1, capacity: 1, request: 'x' },
      ],
      1,
    );
    const detector = new ClusterDeadlocks({
      url: bed.redis.url,
      redis: admin,
      cluster,
      node: 'detector',
      clock: realClock,
      afterMs: 1,
      scanMs: 3_600_000,
      victimize: () => {},
    });
    expect(await detector.scan()).toBeUndefined();
    const candidates = JSON.parse((await admin.get(`mezan:${cluster}:deadlock:candidates`))!) as Record<string, unknown>;
    expect(Object.keys(candidates).sort()).toEqual([`a/${onA.id}`, 'ghost/g1']);
    // The ghost's wait ends before the next snapshot.
    await edges.withdraw('ghost');
    const [seconds, micros] = await admin.time();
    await until(async () => {
      const [s, m] = await admin.time();
      return Number(s) * 1e6 + Number(m) > Number(seconds) * 1e6 + Number(micros) + 1_000;
    }, 'afterMs of Redis time to pass');
    expect(await detector.scan()).toBeUndefined();
    expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toEqual([]);
    releaseGpu.resolve();
    await expect(onA.result).resolves.toBe('done');
    await expect(onB.result).resolves.toBeUndefined();
  });
});
