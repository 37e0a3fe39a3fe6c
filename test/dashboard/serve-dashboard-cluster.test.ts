import type { ClusterView } from '../../src/cluster/cluster-view';
import type { DashboardState } from '../../src/dashboard/dashboard-monitor';
import { serveDashboard, type DashboardServer, type DashboardSnapshotMessage } from '../../src/dashboard/serve-dashboard';
import { createEngine, type Engine } from '../../src/engine';
import { deferred } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { dashboardView } from '../fixtures/dashboard-view';
import { EventStreamReader } from '../fixtures/event-stream-reader';

// The dashboard of a cluster node, on a real redis-server: its /cluster route and the cluster in
// its state and its event stream. Real time: the tests wait for what the stream must carry, never
// for a delay.

const bed = useClusterTestBed();
let dashboard: DashboardServer | undefined;
let stream: EventStreamReader | undefined;

afterEach(async () => {
  await stream?.cancel();
  stream = undefined;
  await dashboard?.close();
  dashboard = undefined;
});

function node(cluster: string, name: string): Engine {
  const engine = createEngine({
    logger: false,
    concurrency: 2,
    resources: { db: { capacity: 1, scope: 'cluster' } },
    cluster: { redis: bed.redis.url, name: cluster, node: name },
  });
  bed.engines.push(engine);
  return engine;
}

async function open(server: DashboardServer): Promise<DashboardSnapshotMessage> {
  const response = await fetch(new URL('/events', server.url));
  stream = new EventStreamReader(response);
  const first = await stream.next();
  expect(first.event).toBe('snapshot');
  return first.data as DashboardSnapshotMessage;
}

/** Reads the stream's updates until the cluster's view in one satisfies `predicate`. */
async function viewInStream(predicate: (view: ClusterView) => boolean): Promise<ClusterView> {
  const update = await stream!.until((message) => message.state.cluster?.view !== undefined && predicate(message.state.cluster.view));
  return update.state.cluster!.view!;
}

const names = (view: ClusterView): string[] => view.nodes.map((member) => member.node);

describe('the dashboard of a cluster node', () => {
  it('serves the cluster at /cluster and streams it: nodes, their tasks, the pool and its holder, a node leaving', async () => {
    const cluster = bed.freshCluster('dashboard');
    const a = node(cluster, 'a');
    const b = node(cluster, 'b');
    await Promise.all([a.onClusterReady(), b.onClusterReady()]);
    dashboard = await serveDashboard(a, { port: 0, updateIntervalMs: 10, clusterIntervalMs: 10 });
    let served: ClusterView | undefined;
    await until(async () => {
      const response = await fetch(new URL('/cluster', dashboard!.url));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      served = (await response.json()) as ClusterView;
      return served.nodes.length === 2;
    }, '/cluster to list both nodes');
    expect(served).toMatchObject({ cluster, node: 'a', pools: [{ name: 'db', capacity: 1, held: 0, nodes: ['a', 'b'] }] });
    expect(served!.nodes.map((member) => [member.node, member.self, member.engineId])).toEqual([
      ['a', true, a.id],
      ['b', false, b.id],
    ]);

    await open(dashboard);
    const holding = deferred();
    const gate = deferred();
    const held = b.submit(
      async (ctx) => {
        const lease = await ctx.acquire('db');
        holding.resolve();
        await gate.promise;
        lease.release();
      },
      { id: 'hold-1' },
    );
    await holding.promise;
    const holder = await viewInStream((view) => view.pools[0]?.held === 1);
    expect(holder.pools[0]!.holders).toEqual([{ node: 'b', task: 'hold-1', units: 1, alive: true }]);
    gate.resolve();
    await held.result;
    await viewInStream((view) => view.pools[0]?.held === 0);

    bed.engines.splice(bed.engines.indexOf(b), 1);
    await b.shutdown();
    expect(names(await viewInStream((view) => view.nodes.length === 1))).toEqual(['a']);
    const state = (await (await fetch(new URL('/state', dashboard.url))).json()) as DashboardState;
    expect(state.cluster?.error).toBeUndefined();
    expect(names(state.cluster!.view!)).toEqual(['a']);
  });

  it('keeps the view it had and says why when a read fails', async () => {
    const cluster = bed.freshCluster('dashboard-fails');
    const a = node(cluster, 'a');
    await a.onClusterReady();
    let failing = false;
    const source = dashboardView(a, { clusterView: () => (failing ? Promise.reject(new Error('Redis is gone')) : a.clusterView()) });
    dashboard = await serveDashboard(source, { port: 0, updateIntervalMs: 10, clusterIntervalMs: 10 });
    await open(dashboard);
    await viewInStream((view) => view.nodes.length === 1);
    failing = true;
    const update = await stream!.until((message) => message.state.cluster?.error !== undefined);
    expect(update.state.cluster).toMatchObject({ error: 'Redis is gone', view: { cluster, nodes: [{ node: 'a' }] } });
  });

  it('has no cluster without the `cluster` option: /cluster answers 404 and the state has none', async () => {
    const engine = createEngine({ logger: false });
    bed.engines.push(engine);
    dashboard = await serveDashboard(engine, { port: 0, updateIntervalMs: 10 });
    const response = await fetch(new URL('/cluster', dashboard.url));
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('not a cluster node');
    const snapshot = await open(dashboard);
    expect(snapshot.state.cluster).toBeUndefined();
    engine.submit(() => 1);
    // An update that came after the engine's first answer still has no cluster.
    const update = await stream!.until((message) => message.events.some((event) => event.type === 'task.completed'));
    expect(update.state.cluster).toBeUndefined();
  });
});
