import { hostname } from 'node:os';
import Redis from 'ioredis';
import { ClusterMembership, type ClusterMemberDescription } from '../../actors/cluster-membership';
import { ClusterViewReader } from '../../actors/cluster-view-reader';
import { createEngine, realClock, VirtualClock, type Engine, type EngineOptions, type TaskContext } from '../../src';
import type { ClusterView } from '../../src/cluster/cluster-view';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { crossingTask, until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// The cluster's view as a node reads it from a real redis-server: engines of one process joined to
// one cluster, their membership records, their cluster pools' permits, their published wait-for
// edges and the queue's active jobs. Real time: the tests wait for what they must see (bounded),
// never for a delay.

const bed = useClusterTestBed();

function node(
  cluster: string,
  name: string,
  options: EngineOptions = {},
  clusterOptions: Partial<NonNullable<EngineOptions['cluster']>> = {},
): Engine {
  const engine = createEngine({ logger: false, ...options, cluster: { redis: bed.redis.url, name: cluster, node: name, ...clusterOptions } });
  bed.engines.push(engine);
  return engine;
}

/** Reads `engine`'s view of the cluster until `predicate` holds of it. */
async function viewWhere(engine: Engine, predicate: (view: ClusterView) => boolean, what: string): Promise<ClusterView> {
  let view: ClusterView | undefined;
  await until(async () => {
    view = await engine.clusterView();
    return view !== undefined && predicate(view);
  }, what);
  return view!;
}

const names = (view: ClusterView): string[] => view.nodes.map((member) => member.node);

describe("the cluster's view", () => {
  it('is undefined for an engine without the `cluster` option', async () => {
    const engine = createEngine({ logger: false });
    bed.engines.push(engine);
    await expect(engine.clusterView()).resolves.toBeUndefined();
  });

  it('lists the live nodes with their workers, tasks, pools and running cluster tasks, and drops a node that leaves', async () => {
    const cluster = bed.freshCluster('view');
    const holding = deferred();
    const gate = deferred();
    const hold = async (ctx: TaskContext): Promise<string> => {
      const lease = await ctx.acquire('db');
      holding.resolve();
      await gate.promise;
      lease.release();
      return 'held';
    };
    const db = { capacity: 2, scope: 'cluster' } as const;
    // a only submits: the task it submits runs on b.
    const a = node(cluster, 'a', { concurrency: 2, tasks: { hold }, resources: { db } }, { concurrency: 0 });
    const b = node(cluster, 'b', { concurrency: 3, tasks: { hold, other: async () => 1 }, resources: { db, local: 1 } });
    await Promise.all([a.onClusterReady(), b.onClusterReady()]);
    const both = await viewWhere(a, (view) => view.nodes.length === 2, 'both nodes to be members');
    expect(both).toMatchObject({ cluster, node: 'a' });
    expect(both.nodes.map((member) => [member.node, member.self])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    const common = { host: hostname(), pid: process.pid, phase: 'running', runningTasks: [] };
    expect(both.nodes[0]).toMatchObject({
      ...common,
      engineId: a.id,
      concurrency: 0,
      tasks: ['hold'],
      pools: [{ name: 'db', capacity: 2 }],
      workers: [{ id: 'main', slots: 2, running: 0 }],
    });
    expect(both.nodes[1]).toMatchObject({
      ...common,
      engineId: b.id,
      concurrency: 3,
      tasks: ['hold', 'other'],
      pools: [{ name: 'db', capacity: 2 }],
      workers: [{ id: 'main', slots: 3, running: 0 }],
    });
    expect(both.nodes[1]!.startedAt).toBeLessThanOrEqual(both.nodes[1]!.heartbeatAt);
    expect(both.pools).toEqual([{ name: 'db', capacity: 2, agreed: true, nodes: ['a', 'b'], held: 0, holders: [], waiters: [] }]);

    const handle = a.submit<string>('hold');
    await holding.promise;
    const running = await viewWhere(a, (view) => view.nodes[1]?.runningTasks.length === 1, 'b to run the task');
    expect(running.nodes[1]!.runningTasks).toEqual([{ id: handle.id, name: 'hold', attempt: 1, startedAt: expect.any(Number) }]);
    // The unit is held by b's local task that runs the cluster task.
    expect(running.pools[0]).toMatchObject({ held: 1, holders: [{ node: 'b', task: expect.stringMatching(/^task-\d+$/), units: 1, alive: true }] });
    gate.resolve();
    await expect(handle.result).resolves.toBe('held');

    bed.engines.splice(bed.engines.indexOf(b), 1);
    await b.shutdown();
    // b removed its record as it left: the next read no longer has it.
    const alone = (await a.clusterView())!;
    expect(names(alone)).toEqual(['a']);
    expect(alone.pools).toEqual([{ name: 'db', capacity: 2, agreed: true, nodes: ['a'], held: 0, holders: [], waiters: [] }]);
    await expect(b.clusterView()).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
  });

  it("shows each pool's holders and waiters by node and task, and the wait-for edges of a deadlock across two nodes", async () => {
    const cluster = bed.freshCluster('view-edges');
    const resources = { db: { capacity: 1, scope: 'cluster' }, gpu: { capacity: 1, scope: 'cluster' } } as const;
    // The deadlock stays: the cluster's detector would break it only after an hour.
    const slow = { deadlockAfterMs: 3_600_000 };
    const a = node(cluster, 'eu:a', { resources }, slow);
    const b = node(cluster, 'eu:b', { resources }, slow);
    await Promise.all([a.onClusterReady(), b.onClusterReady()]);
    const aHolds = deferred();
    const bHolds = deferred();
    const first = crossingTask(a, 'order:1', 'db', 'gpu', aHolds, bHolds);
    const second = crossingTask(b, 'order:2', 'gpu', 'db', bHolds, aHolds);
    const view = await viewWhere(b, (read) => read.edges.length === 4, 'both nodes to publish their waits');
    const edge = (at: string, kind: string, resource: string) => ({
      node: at,
      kind,
      task: `${at}/order:${at === 'eu:a' ? 1 : 2}`,
      resource,
      units: 1,
      capacity: 1,
      ...(kind === 'requests' ? { request: expect.any(String) } : {}),
    });
    const sorted = [...view.edges].sort((x, y) => `${x.node} ${x.kind}`.localeCompare(`${y.node} ${y.kind}`));
    expect(sorted).toEqual([
      edge('eu:a', 'holds', 'db'),
      edge('eu:a', 'requests', 'gpu'),
      edge('eu:b', 'holds', 'gpu'),
      edge('eu:b', 'requests', 'db'),
    ]);
    const share = (at: string, task: string) => ({ node: at, task, units: 1, alive: true });
    expect(view.pools).toEqual([
      {
        name: 'db',
        capacity: 1,
        agreed: true,
        nodes: ['eu:a', 'eu:b'],
        held: 1,
        holders: [share('eu:a', 'order:1')],
        waiters: [share('eu:b', 'order:2')],
      },
      {
        name: 'gpu',
        capacity: 1,
        agreed: true,
        nodes: ['eu:a', 'eu:b'],
        held: 1,
        holders: [share('eu:b', 'order:2')],
        waiters: [share('eu:a', 'order:1')],
      },
    ]);
    // Forced down, the engines abort both tasks (their waits end with the engine).
    await Promise.all(bed.engines.splice(0).map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
    expect((await rejectionOf(first)).code).toBe('E_SHUTDOWN');
    expect((await rejectionOf(second)).code).toBe('E_SHUTDOWN');
  });

  it("lets a node that died vanish after its record's time to live, while one that heartbeats stays, until it leaves", async () => {
    const cluster = bed.freshCluster('view-members');
    const redis = new Redis(bed.redis.url);
    const description: ClusterMemberDescription = {
      engineId: 'e',
      phase: 'running',
      concurrency: 1,
      deadlockPolicy: 'youngest',
      workers: [{ id: 'main', slots: 1, running: 0, state: 'idle' }],
      tasks: [],
      pools: [],
      running: 0,
      pending: 0,
    };
    // Its clock never moves: after its first write, it never heartbeats (as a node killed with SIGKILL).
    const dying = new ClusterMembership({
      url: bed.redis.url,
      cluster,
      node: 'dying',
      clock: new VirtualClock(),
      ttlMs: 400,
      describe: () => description,
    });
    const staying = new ClusterMembership({
      url: bed.redis.url,
      cluster,
      node: 'staying',
      clock: realClock,
      // Written again every second: a heartbeat late by two seconds still finds it alive.
      ttlMs: 3_000,
      describe: () => description,
    });
    const reader = new ClusterViewReader(redis, cluster, 'staying');
    try {
      dying.refresh();
      staying.refresh();
      const read = async (): Promise<string[]> => names(await reader.read());
      await until(async () => (await read()).length === 2, 'both records to be written');
      await until(async () => !(await read()).includes('dying'), 'the dead node to vanish');
      const [first] = (await reader.read()).nodes;
      expect(first?.node).toBe('staying');
      // Its heartbeat writes it again, with the time of the heartbeat.
      await until(async () => (await reader.read()).nodes[0]!.heartbeatAt > first!.heartbeatAt, 'the living node to heartbeat');
      expect(await redis.smembers(`mezan:${cluster}:members:nodes`)).toEqual(['staying']);
      await staying.leave();
      expect(staying.hasLeft).toBe(true);
      expect(await read()).toEqual([]);
    } finally {
      await Promise.all([dying.leave(), staying.leave(), reader.close()]);
      redis.disconnect();
    }
  });
});
