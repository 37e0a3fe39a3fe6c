import { createEngine, type Engine, type EngineEvent, type TaskContext, type TaskHandle } from '../../src';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// Deadlocks that go through a node's own (local) pools and the cluster: a cluster task that holds
// a local pool while it awaits another cluster task, which runs on the same node and waits for
// that pool. The node's detector sees the pool wait but not the await of a cluster task; the
// cluster's sees the await but, without the node's local pools, not the pool wait: the node
// publishes its local pools' holds and waits, under `<pool>@<node>`, while it has a wait on the
// cluster. Real redis-server; the tests wait for handles, never for a delay.

const bed = useClusterTestBed();

const AFTER_MS = 300;

/** A working node of two slots, with a local pool `db` of one unit; its deadlocks' victims are the tasks of the lowest priority. */
async function node(
  cluster: string,
  name: string,
  inner: { priority: number },
): Promise<{ engine: Engine; submitted: Promise<TaskHandle<unknown>> }> {
  const submitted = deferred<TaskHandle<unknown>>();
  const engine = createEngine({
    logger: false,
    deadlock: { policy: 'lowest-priority' },
    resources: { db: { capacity: 1 } },
    tasks: {
      // Holds db while it awaits takeDb, a cluster task: any node may run it (here, this one).
      holdThenAwait: async (ctx: TaskContext) => {
        const db = await ctx.acquire('db');
        try {
          const handle = ctx.submit('takeDb', { priority: inner.priority });
          submitted.resolve(handle);
          return `outer<-${String(await ctx.await(handle))}`;
        } finally {
          db.release();
        }
      },
      takeDb: async (ctx: TaskContext) => {
        const db = await ctx.acquire('db');
        db.release();
        return 'took db';
      },
    },
    cluster: { redis: bed.redis.url, name: cluster, node: name, concurrency: 2, deadlockAfterMs: AFTER_MS, deadlockScanMs: 100 },
  });
  bed.engines.push(engine);
  await engine.onClusterReady();
  return { engine, submitted: submitted.promise };
}

/** In a closed cycle (its last entry its first), the tasks either side of pool `pool`: the one that waits for it, and the one that holds it. */
function aroundPool(cycle: readonly string[], pool: string): { waiting: string; holding: string } {
  const open = cycle.slice(0, -1);
  const index = open.indexOf(pool);
  expect(index).toBeGreaterThanOrEqual(0);
  return { waiting: open.at(index - 1)!, holding: open[(index + 1) % open.length]! };
}

/** The terminal events an engine published, as `<task id>:<type>`. */
function recordEnds(engine: Engine): string[] {
  const ends: string[] = [];
  engine.events$.subscribe((event: EngineEvent) => {
    if (['task.completed', 'task.failed', 'task.deadlock', 'task.cancelled', 'task.timeout'].includes(event.type))
      ends.push(`${(event as { taskId: string }).taskId}:${event.type}`);
  });
  return ends;
}

describe('a deadlock through a local pool and an await of a cluster task', () => {
  it('is found and broken: the awaited task, of the lower priority, fails its wait for the local pool with E_DEADLOCK', async () => {
    const cluster = bed.freshCluster('mixed');
    const { engine, submitted } = await node(cluster, 'b', { priority: -5 });
    const ends = recordEnds(engine);
    const outer = engine.submit('holdThenAwait', { id: 'outer-1' });
    const inner = await submitted;
    await expect(inner.result).rejects.toMatchObject({ code: 'E_DEADLOCK' });
    // The outer task hears its awaited task's end, and lets it fail.
    // (Its handle is a cluster task's: it hears the code and message of the end, not the cause.)
    const outerError = await rejectionOf(outer);
    expect(outerError.code).toBe('E_TASK_FAILED');
    expect(outerError.message).toMatch(/to break a deadlock across the cluster/);
    const [report] = engine.deadlocks();
    expect(engine.deadlocks()).toHaveLength(1);
    // The outer task's attempt (a local task of b) awaits the inner one's, which waits for db, held by the outer one.
    const { waiting: innerAttempt, holding: outerAttempt } = aroundPool(report!.cycle, 'db@b');
    expect(report).toMatchObject({ nodes: ['b'], victim: innerAttempt, resolution: 'victim', policy: 'lowest-priority' });
    expect(report!.cycle).toHaveLength(4);
    expect(new Set(report!.deadlocked)).toEqual(new Set([outerAttempt, innerAttempt]));
    // Each task ended once.
    expect(new Set(ends).size).toBe(ends.length);
  });

  it('is found and broken: the awaiting task, of the lower priority, is the victim, and the awaited task then gets the pool', async () => {
    const cluster = bed.freshCluster('mixed');
    const { engine, submitted } = await node(cluster, 'b', { priority: 5 });
    const outer = engine.submit('holdThenAwait', { id: 'outer-2' });
    const inner = await submitted;
    const error = await rejectionOf(outer);
    expect(error.code).toBe('E_DEADLOCK');
    // Its await failed, its finally released db: the awaited task got it.
    await expect(inner.result).resolves.toBe('took db');
    const [report] = engine.deadlocks();
    expect(engine.deadlocks()).toHaveLength(1);
    const { holding: outerAttempt } = aroundPool(report!.cycle, 'db@b');
    expect(report).toMatchObject({ nodes: ['b'], victim: outerAttempt });
    expect(error.details).toMatchObject({ victim: outerAttempt, nodes: ['b'] });
  });
});
