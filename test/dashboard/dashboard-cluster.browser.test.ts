import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createEngine, type Engine, type TaskContext } from '../../src';
import { serveDashboard, type DashboardServer } from '../../src/dashboard/serve-dashboard';
import { ARTIFACTS, launchChromium, PAGE_WAIT, type ChromiumSession } from '../fixtures/chromium';
import { crossingTask, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { deferred } from '../fixtures/engine-harness';

// These run in the page (the project's type check has no DOM library).
declare const window: any;
declare const document: any;

// The Cluster panel of a cluster node's dashboard in Chromium, over a real redis-server: two
// engines of one process joined to one cluster, a deadlock between them on two cluster pools (left
// in place: the cluster's detector would break it only after an hour), and a named task that one
// node submits and the other runs. The test waits for what the page must show, never for a delay.

const bed = useClusterTestBed();
let chromium: ChromiumSession;
let dashboard: DashboardServer | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  chromium = await launchChromium();
  chromium.page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await chromium?.close();
  await dashboard?.close();
});

const resources = { db: { capacity: 1, scope: 'cluster' }, gpu: { capacity: 1, scope: 'cluster' } } as const;

function node(cluster: string, name: string, spin: (ctx: TaskContext) => Promise<string>, concurrency?: number): Engine {
  const engine = createEngine({
    logger: false,
    concurrency: 2,
    tasks: { spin },
    resources,
    cluster: { redis: bed.redis.url, name: cluster, node: name, deadlockAfterMs: 3_600_000, concurrency },
  });
  bed.engines.push(engine);
  return engine;
}

describe("a cluster node's dashboard in Chromium", () => {
  it('shows the Cluster panel: the nodes with what they run, the pools with their holders and waiters, and the graph across nodes', async () => {
    const cluster = bed.freshCluster('browser');
    const spinning = deferred();
    const stop = deferred();
    const spin = async (): Promise<string> => {
      spinning.resolve();
      await stop.promise;
      return 'spun';
    };
    // a takes no cluster task: the one it submits runs on b.
    const a = node(cluster, 'a', spin, 0);
    const b = node(cluster, 'b', spin);
    await Promise.all([a.onClusterReady(), b.onClusterReady()]);
    const aHolds = deferred();
    const bHolds = deferred();
    crossingTask(a, 'order:1', 'db', 'gpu', aHolds, bHolds);
    crossingTask(b, 'order:2', 'gpu', 'db', bHolds, aHolds);
    const spun = a.submit<string>('spin', { id: 'spin-1' });
    await spinning.promise;

    dashboard = await serveDashboard(a, { port: 0, updateIntervalMs: 20, clusterIntervalMs: 20 });
    const { page } = chromium;
    await page.goto(dashboard.url);
    await page.waitForSelector('#cluster-panel:not([hidden])', PAGE_WAIT);
    // Both nodes, b running the task a submitted; both pools held by one node and waited for by the other.
    await page.waitForSelector('#cluster-nodes tr[data-node="b"][data-running="1"]', PAGE_WAIT);
    await page.waitForSelector('#cluster-pools tr[data-pool="db"][data-held="1"][data-waiting="1"]', PAGE_WAIT);
    await page.waitForSelector('#cluster-pools tr[data-pool="gpu"][data-held="1"][data-waiting="1"]', PAGE_WAIT);
    const nodes = await page.$$eval('#cluster-nodes tbody tr', (rows) =>
      rows.map((row: any) => ({
        node: row.dataset.node,
        self: row.classList.contains('self'),
        phase: row.dataset.phase,
        defines: row.querySelector('td.tasks').textContent,
        running: row.querySelector('td.running').textContent,
      })),
    );
    expect(nodes).toEqual([
      { node: 'a', self: true, phase: 'running', defines: 'spin', running: '—' },
      { node: 'b', self: false, phase: 'running', defines: 'spin', running: 'spin spin-1' },
    ]);
    const pools = await page.$$eval('#cluster-pools tbody tr', (rows) =>
      rows.map((row: any) => [row.dataset.pool, row.querySelector('td.holders').textContent, row.querySelector('td.waiters').textContent]),
    );
    expect(pools).toEqual([
      ['db', 'a/order:1', 'b/order:2'],
      ['gpu', 'b/order:2', 'a/order:1'],
    ]);
    expect(await page.textContent('#cluster-summary')).toBe(`cluster ${cluster} seen from node a: 2 nodes, 2 cluster pools, 4 published waits`);

    // The graph: each node a box around its task, the pools outside, the four edges between nodes.
    await page.waitForFunction(() => (window as any).mezanDashboard.clusterCy?.edges().length === 4, null, PAGE_WAIT);
    const graph = await page.evaluate(() => {
      const cy = (window as any).mezanDashboard.clusterCy;
      return {
        boxes: cy
          .nodes('[kind = "node"]')
          .map(
            (box: any) =>
              `${box.id()}: ${box
                .children()
                .map((task: any) => task.id())
                .join(' ')}`,
          )
          .sort(),
        edges: cy
          .edges()
          .map((edge: any) => `${edge.source().id()} > ${edge.target().id()} ${edge.hasClass('cross') ? 'cross' : ''}`)
          .sort(),
        selfBorder: cy.getElementById('node:a').style('border-style'),
      };
    });
    expect(graph).toEqual({
      boxes: ['node:a: task:a/order:1', 'node:b: task:b/order:2'],
      edges: [
        'pool:db > task:a/order:1 cross',
        'pool:gpu > task:b/order:2 cross',
        'task:a/order:1 > pool:gpu cross',
        'task:b/order:2 > pool:db cross',
      ],
      selfBorder: 'solid',
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-cluster.png'), fullPage: true });

    // b leaves: its row goes, and its holdings with it
    stop.resolve();
    await expect(spun.result).resolves.toBe('spun');
    bed.engines.splice(bed.engines.indexOf(b), 1);
    await b.shutdown({ force: true, graceMs: 0 });
    await page.waitForFunction(() => document.querySelectorAll('#cluster-nodes tbody tr').length === 1, null, PAGE_WAIT);
    // (a's task may take the unit b gave back meanwhile.)
    await page.waitForFunction(
      () => !document.querySelector('#cluster-pools tr[data-pool="gpu"] td.holders').textContent.includes('b/'),
      null,
      PAGE_WAIT,
    );
    expect(await page.$$eval('#cluster-nodes tbody tr', (rows) => rows.map((row: any) => row.dataset.node))).toEqual(['a']);
    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => (window as any).mezanDashboard.errors)).toEqual([]);
  });

  it('draws over the cluster graph the cycle and the victim of a deadlock across nodes that this node reported', async () => {
    const cluster = bed.freshCluster('browser-deadlock');
    // The victim is the task of the lower priority: b's, so b's dashboard reports it.
    const [a, b] = ['a', 'b'].map((name) => {
      const engine = createEngine({
        logger: false,
        deadlock: { policy: 'lowest-priority' },
        resources,
        cluster: { redis: bed.redis.url, name: cluster, node: name, concurrency: 0, deadlockAfterMs: 500, deadlockScanMs: 200 },
      });
      bed.engines.push(engine);
      return engine;
    }) as [Engine, Engine];
    await Promise.all([a.onClusterReady(), b.onClusterReady()]);
    await dashboard?.close();
    dashboard = await serveDashboard(b, { port: 0, updateIntervalMs: 20, clusterIntervalMs: 20 });
    const { page } = chromium;
    await page.goto(dashboard.url);
    await page.waitForSelector('#cluster-panel:not([hidden])', PAGE_WAIT);
    const aHolds = deferred();
    const bHolds = deferred();
    const survivor = crossingTask(a, 'order:1', 'db', 'gpu', aHolds, bHolds, 1);
    const victim = crossingTask(b, 'order:2', 'gpu', 'db', bHolds, aHolds, 0);
    await expect(victim.result).rejects.toMatchObject({ code: 'E_DEADLOCK' });
    await survivor.result;
    await page.waitForFunction(() => (window as any).mezanDashboard.clusterCy?.nodes('.victim').length === 1, null, PAGE_WAIT);
    const drawn = await page.evaluate(() => {
      const cy = (window as any).mezanDashboard.clusterCy;
      const ids = (selection: any): string[] => selection.map((element: any) => element.id()).sort();
      return { victim: ids(cy.nodes('.victim')), cycle: ids(cy.nodes('.cycle')), edges: ids(cy.edges('.cycle')) };
    });
    expect(drawn).toEqual({
      victim: ['task:b/order:2'],
      cycle: ['pool:db', 'pool:gpu', 'task:a/order:1', 'task:b/order:2'],
      edges: [
        'pool:db -> task:a/order:1 : holds',
        'pool:gpu -> task:b/order:2 : holds',
        'task:a/order:1 -> pool:gpu : requests',
        'task:b/order:2 -> pool:db : requests',
      ],
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-cluster-deadlock.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => (window as any).mezanDashboard.errors)).toEqual([]);
  });
});
