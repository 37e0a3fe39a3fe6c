import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { ClusterWaitEdges } from '../../actors/cluster-wait-edges';
import { createEngine, type Engine, type TaskContext } from '../../src';
import { CLUSTER_PREFIX } from '../../actors/cluster-redis';
import { CLUSTER_SLOTS } from '../../src/cluster/cluster-slots';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// Starvation of the cluster's job slots across nodes, on a real redis-server: every slot held by a
// cluster task that awaits a cluster task queued behind it. Real time: the tests wait for
// conditions (bounded), never for a delay.

const bed = useClusterTestBed();
let admin: Redis;
const queues: Queue[] = [];

beforeAll(() => {
  admin = new Redis(bed.redis.url);
});

afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
});

afterAll(() => {
  admin.disconnect();
});

const AFTER_MS = 300;

/** Released by a test: the task `blocker` runs until then. */
let releaseBlocker = deferred<void>();

/** The named tasks of every node: a parent awaits the child named in its input (`{ child, flaky? }`). */
const tasks = {
  parent: async (ctx: TaskContext) => {
    const { child, flaky } = ctx.input as { child: string; flaky?: boolean };
    const handle = flaky === true ? ctx.submit('flaky', { id: child, retries: { max: 1, delayMs: 3_600_000 } }) : ctx.submit('child', { id: child });
    return `parent<-${String(await ctx.await(handle))}`;
  },
  child: (ctx: TaskContext) => `child ${ctx.id}`,
  // Fails its first attempt: its retry waits an hour in BullMQ's delayed set, unless promoted.
  flaky: (ctx: TaskContext) => {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    return `flaky ${ctx.id}`;
  },
  blocker: () => releaseBlocker.promise.then(() => 'unblocked'),
};

/** Node `name` of `cluster`, taking `concurrency` cluster tasks at once; its deadlocks' victims are the tasks of the lowest priority. */
async function node(cluster: string, name: string, concurrency: number, detect: 'immediate' | 'off' = 'immediate'): Promise<Engine> {
  const engine = createEngine({
    logger: false,
    deadlock: { detect, policy: 'lowest-priority' },
    tasks,
    cluster: { redis: bed.redis.url, name: cluster, node: name, concurrency, deadlockAfterMs: AFTER_MS, deadlockScanMs: 100 },
  });
  bed.engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** The terminal events each engine published, as `<task id>:<type>`: every task ends once. */
function recordEnds(engines: Record<string, Engine>): Record<string, string[]> {
  const ends: Record<string, string[]> = {};
  for (const [name, engine] of Object.entries(engines)) {
    const mine: string[] = (ends[name] = []);
    engine.events$.subscribe((event) => {
      if (['task.completed', 'task.failed', 'task.deadlock', 'task.cancelled', 'task.timeout'].includes(event.type))
        mine.push(`${(event as { taskId: string }).taskId}:${event.type}`);
    });
  }
  return ends;
}

function expectEachOnce(ends: Record<string, string[]>): void {
  for (const list of Object.values(ends)) expect(new Set(list.map((end) => end.slice(0, end.lastIndexOf(':')))).size).toBe(list.length);
}

function queueOf(cluster: string): Queue {
  const queue = new Queue(cluster, { connection: { url: bed.redis.url }, prefix: CLUSTER_PREFIX });
  queues.push(queue);
  return queue;
}

/** Until the nodes have published awaits of each of the cluster tasks `jobs`. */
async function awaitsPublished(cluster: string, jobs: readonly string[]): Promise<void> {
  const edges = new ClusterWaitEdges({ redis: admin, cluster });
  await until(
    async () => {
      const published = (await edges.snapshot()).nodes.flatMap((node) => node.edges);
      return jobs.every((job) => published.some((edge) => edge.kind === 'awaits' && edge.job === true && edge.awaited === job));
    },
    `the awaits of ${jobs.join(', ')} to be published`,
  );
}

/**
 * The candidates of a scan that read its snapshot after this call: the key is taken away twice, and
 * the scan that writes it the second time began after the first write (one scan at a time).
 */
async function candidatesOfALaterScan(cluster: string): Promise<Record<string, unknown>> {
  const key = `mezan:${cluster}:deadlock:candidates`;
  let stored: string | null = null;
  for (let round = 0; round < 2; round++) {
    await admin.del(key);
    await until(async () => (stored = await admin.get(key)) !== null, 'a scan');
  }
  return JSON.parse(stored!) as Record<string, unknown>;
}

describe("starvation of the cluster's job slots across nodes", () => {
  it('is found and broken: two nodes of one slot, each running a parent that awaits its queued child; the victim fails E_DEADLOCK, then everything settles once', async () => {
    const cluster = bed.freshCluster('starve');
    const [a, b, submitter] = [await node(cluster, 'a', 1), await node(cluster, 'b', 1), await node(cluster, 'submitter', 0)];
    const ends = recordEnds({ a, b, submitter });
    const p1 = submitter.submit<string>('parent', { id: 'p1', priority: 1, input: { child: 'c1' } });
    const p2 = submitter.submit<string>('parent', { id: 'p2', priority: 0, input: { child: 'c2' } });

    // The parent of the lower priority is the victim: its await fails, and it fails with it.
    const error = await rejectionOf(p2);
    expect(error.code).toBe('E_DEADLOCK');
    await expect(p1.result).resolves.toBe('parent<-child c1');

    const victimNode = [a, b].find((engine) => engine.deadlocks().length > 0)!;
    const [report] = victimNode.deadlocks();
    expect(report).toMatchObject({ resolution: 'victim', policy: 'lowest-priority', nodes: ['a', 'b'] });
    expect(report!.deadlocked).toEqual(expect.arrayContaining(['@queued:c1', '@queued:c2']));
    expect(report!.deadlocked).toHaveLength(4);
    expect(report!.cycle).toContain(CLUSTER_SLOTS);
    expect(report!.cycle).toContain(report!.victim);
    // One decision, sent once; the other node reports nothing.
    expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toHaveLength(1);
    expect([a, b].filter((engine) => engine.deadlocks().length > 0)).toHaveLength(1);

    // Every task ends once: the parents on the submitter, each child on the node that submitted it
    // (c2's parent is gone, c2 runs all the same), each attempt on the node that ran it.
    await until(() => ends.a!.length + ends.b!.length === 2 + 2 + 2, 'every attempt and child to end');
    expect(ends.submitter!.sort()).toEqual(['p1:task.completed', 'p2:task.deadlock']);
    expect([...ends.a!, ...ends.b!].filter((end) => /^c\d:/.test(end)).sort()).toEqual(['c1:task.completed', 'c2:task.completed']);
    expect([...ends.a!, ...ends.b!].filter((end) => end.endsWith(':task.deadlock'))).toHaveLength(1);
    expectEachOnce(ends);
  });

  it('is not reported while a third node has a slot: one that publishes nothing (detection off), held by a task that ends later', async () => {
    const cluster = bed.freshCluster('third');
    releaseBlocker = deferred<void>();
    // c takes the blocker alone, before a and b join: its slot is busy, and it tells nobody with what.
    const c = await node(cluster, 'c', 1, 'off');
    const submitter = await node(cluster, 'submitter', 0);
    const blocker = submitter.submit<string>('blocker', { id: 'blocker' });
    await until(() => blocker.status === 'running', 'c to run the blocker');
    const [a, b] = [await node(cluster, 'a', 1), await node(cluster, 'b', 1)];
    const ends = recordEnds({ a, b, c, submitter });
    const p1 = submitter.submit<string>('parent', { id: 'p1', input: { child: 'c1' } });
    const p2 = submitter.submit<string>('parent', { id: 'p2', input: { child: 'c2' } });

    // Every slot is taken and both children are queued, as in a starvation: but c's task will end.
    await awaitsPublished(cluster, ['c1', 'c2']);
    const queue = queueOf(cluster);
    await until(
      async () => (await queue.getJobState('c1')) === 'prioritized' && (await queue.getJobState('c2')) === 'prioritized',
      'the children queued',
    );
    expect(await candidatesOfALaterScan(cluster)).toEqual({});
    // And still nothing once afterMs has passed.
    const [seconds] = await admin.time();
    await until(async () => Number((await admin.time())[0]) * 1000 > Number(seconds) * 1000 + AFTER_MS + 1000, 'afterMs to pass');
    expect(await candidatesOfALaterScan(cluster)).toEqual({});
    expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toEqual([]);

    releaseBlocker.resolve();
    await expect(Promise.all([blocker.result, p1.result, p2.result])).resolves.toEqual(['unblocked', 'parent<-child c1', 'parent<-child c2']);
    for (const engine of [a, b, c, submitter]) expect(engine.deadlocks()).toEqual([]);
    expectEachOnce(ends);
  });

  it('is not reported while an awaited task waits for its retry (delayed); once its retry is due, the same wait is a starvation, and broken', async () => {
    const cluster = bed.freshCluster('delayed');
    const [a, b, submitter] = [await node(cluster, 'a', 1), await node(cluster, 'b', 1), await node(cluster, 'submitter', 0)];
    const ends = recordEnds({ a, b, submitter });
    const queue = queueOf(cluster);
    // p1 awaits c1, which fails its first attempt on the other node and waits an hour for its retry.
    const p1 = submitter.submit<string>('parent', { id: 'p1', priority: 1, input: { child: 'c1', flaky: true } });
    await until(async () => (await queue.getJobState('c1')) === 'delayed', 'c1 to wait for its retry');
    // p2 takes the slot c1 left, and awaits c2, queued behind it.
    const p2 = submitter.submit<string>('parent', { id: 'p2', priority: 0, input: { child: 'c2' } });
    await awaitsPublished(cluster, ['c1', 'c2']);
    await until(async () => (await queue.getJobState('c2')) === 'prioritized', 'c2 queued');
    expect(await candidatesOfALaterScan(cluster)).toEqual({});
    const [seconds] = await admin.time();
    await until(async () => Number((await admin.time())[0]) * 1000 > Number(seconds) * 1000 + AFTER_MS + 1000, 'afterMs to pass');
    expect(await candidatesOfALaterScan(cluster)).toEqual({});

    // c1's retry is due: it is queued, with every slot held by a parent awaiting a queued child.
    await (await queue.getJob('c1'))!.promote();
    await expect(rejectionOf(p2)).resolves.toMatchObject({ code: 'E_DEADLOCK' });
    await expect(p1.result).resolves.toBe('parent<-flaky c1');
    const children = () => [...ends.a!, ...ends.b!].filter((end) => /^c\d:/.test(end)).sort();
    await until(() => children().length === 2, 'the children to end');
    expect(children()).toEqual(['c1:task.completed', 'c2:task.completed']);
    expectEachOnce(ends);
  });
});
