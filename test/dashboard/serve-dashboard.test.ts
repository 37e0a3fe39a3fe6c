import { Subject } from 'rxjs';
import type { DashboardEngine } from '../../src/dashboard/dashboard-engine';
import type { ClusterView } from '../../src/cluster/cluster-view';
import type { DashboardState } from '../../src/dashboard/dashboard-monitor';
import { serveDashboard, type DashboardServer, type DashboardSnapshotMessage } from '../../src/dashboard/serve-dashboard';
import { createEngine, type Engine } from '../../src/engine';
import type { EngineEvent } from '../../src/engine-events';
import { isMezanError } from '../../src/errors';
import type { TaskContext } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';
import { EventStreamReader } from '../fixtures/event-stream-reader';
import { dashboardView as view } from '../fixtures/dashboard-view';
import { MACHINE_NAMES } from '../../src/visualization/machines';

const transfer =
  (first: string, second: string) =>
  async (ctx: TaskContext): Promise<void> => {
    const a = await ctx.acquire(first);
    await ctx.sleep(10);
    const b = await ctx.acquire(second);
    await ctx.sleep(10);
    b.release();
    a.release();
  };

let clock: VirtualClock;
let engine: Engine;
let dashboard: DashboardServer | undefined;

beforeEach(() => {
  clock = new VirtualClock();
  engine = createEngine({
    clock,
    concurrency: 2,
    resources: { accounts: 1, ledger: 1, db: 2 },
    deadlock: { detect: 'immediate', policy: 'youngest' },
    onUnhandledError: () => undefined,
  });
});

afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
  const stopped = engine.shutdown({ force: true });
  await clock.runAll();
  await stopped;
});

async function serve(source: DashboardEngine = view(engine)): Promise<DashboardServer> {
  dashboard = await serveDashboard(source, { port: 0, now: () => clock.now(), updateIntervalMs: 10 });
  return dashboard;
}

async function getState(server: DashboardServer): Promise<DashboardState> {
  const response = await fetch(new URL('/state', server.url));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as DashboardState;
}

/** Submits the two transfers that take `accounts` and `ledger` in opposite orders. */
async function lockOrderInversion(): Promise<void> {
  engine.submit(transfer('accounts', 'ledger'), { id: 'transfer-ab' });
  await clock.advanceBy(1);
  engine.submit(transfer('ledger', 'accounts'), { id: 'transfer-ba' });
}

describe('serveDashboard', () => {
  it('listens on 127.0.0.1 and serves the page, its styles, and its script with the drawing libraries bundled in', async () => {
    const server = await serve();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    // Nothing from the network: every script and stylesheet is a path on this server.
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(sources).toEqual(['/dashboard.css', '/dashboard.js']);
    const script = await fetch(new URL('/dashboard.js', server.url));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const text = await script.text();
    // The licence of every package bundled in goes with its code.
    const notice = text.slice(text.indexOf('/*! Bundled packages:'));
    const bundled = notice.split('\n----\n').map((part) => /([@\w./-]+) \d+\.\d+\.\d+ \(MIT\)\n\n[^]*Copyright/.exec(part)?.[1]);
    expect(bundled).toEqual(['@kurkle/color', 'chart.js', 'cytoscape']);
    const styles = await fetch(new URL('/dashboard.css', server.url));
    expect(styles.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves each machine with its diagram as SVG, in which every state is a node titled with its id', async () => {
    const server = await serve();
    const views = (await (await fetch(new URL('/machines', server.url))).json()) as Array<{
      name: string;
      svg: string;
      states: Record<string, string>;
    }>;
    expect(views.map((v) => v.name)).toEqual(MACHINE_NAMES);
    const worker = views.find((v) => v.name === 'worker')!;
    expect(worker.states).toEqual({ idle: 'worker.idle', busy: 'worker.busy', crashed: 'worker.crashed' });
    for (const machine of views) {
      expect(machine.svg).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
      const nodeTitles = [...machine.svg.matchAll(/<g id="node\d+" class="node">\s*<title>([^<]*)<\/title>/g)].map((match) => match[1]);
      expect(nodeTitles).toEqual(expect.arrayContaining(Object.values(machine.states)));
    }
  });

  it('gives, with each state, the time it began to watch the engine: the page shows times from there', async () => {
    await clock.advanceBy(1_000);
    const server = await serve();
    await clock.advanceBy(5);
    expect(await getState(server)).toMatchObject({ origin: 1_000, at: 1_005 });
  });

  it('answers /state with the actor tree, each actor in its state, and the progress counters', async () => {
    const server = await serve();
    engine.submit((ctx) => ctx.sleep(10), { name: 'slow' });
    engine.submit(async (ctx) => {
      const lease = await ctx.acquire('db', { units: 2 });
      await ctx.sleep(5);
      lease.release();
    });
    await clock.advanceBy(1);
    const busy = await getState(server);
    expect(busy.actors.map((a) => [a.id, a.parent, a.state])).toEqual([
      ['supervisor', undefined, 'supervising'],
      ['executor', 'supervisor', 'working'],
      ['main', 'executor', 'busy'],
      ['resource:accounts', 'supervisor', 'available'],
      ['resource:ledger', 'supervisor', 'available'],
      ['resource:db', 'supervisor', 'exhausted'],
      ['shutdown', 'supervisor', 'running'],
    ]);
    expect(busy.actors.find((a) => a.id === 'main')!.stateId).toBe('worker.busy');
    expect(busy.stats.workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 2 })]);
    expect(busy.progress).toMatchObject({ total: 2, running: 2, completed: 0 });
    expect(busy.at).toBe(1);
    await clock.advanceBy(20);
    const done = await getState(server);
    expect(done.progress).toMatchObject({ total: 2, running: 0, completed: 2 });
    expect(done.actors.filter((a) => a.machine === 'worker').map((a) => [a.id, a.state])).toEqual([['main', 'idle']]);
    expect(done.stats.workers).toEqual([expect.objectContaining({ id: 'main', state: 'idle', slots: 2, running: 0 })]);
    expect(done.actors.find((a) => a.id === 'executor')!.state).toBe('idle');
    expect(done.events).toBeGreaterThan(busy.events);
  });

  it('keeps the graph of a deadlock as it was when detected, with its cycle and its victim', async () => {
    const server = await serve();
    await lockOrderInversion();
    await clock.advanceBy(10);
    const state = await getState(server);
    expect(state.deadlocks.detected).toBe(1);
    expect(state.deadlocks.resolved).toBe(1);
    const last = state.deadlocks.last!;
    expect(last).toMatchObject({ resolution: 'victim', victim: 'transfer-ba', policy: 'youngest', at: 11 });
    expect(last.cycle).toEqual(['transfer-ba', 'accounts', 'transfer-ab', 'ledger', 'transfer-ba']);
    // Each step of the cycle is an edge of the graph captured at detection (holds point from the resource).
    for (let i = 0; i + 1 < last.cycle.length; i++) {
      const [from, to] = [last.cycle[i], last.cycle[i + 1]];
      expect(last.graph.edges.some((e) => (e.from === from && e.to === to) || (e.from === to && e.to === from))).toBe(true);
    }
    // The live graph no longer holds the cycle: the victim's lease was released.
    expect(state.graph.edges.some((e) => e.from === 'ledger' && e.to === 'transfer-ba')).toBe(false);
  });

  it('streams a snapshot on /events, then updates with the new events and the state', async () => {
    const server = await serve();
    engine.submit((ctx) => ctx.sleep(5), { name: 'first' });
    await clock.advanceBy(10);
    const response = await fetch(new URL('/events', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = new EventStreamReader(response);
    const first = await stream.next();
    expect(first.event).toBe('snapshot');
    const snapshot = first.data as DashboardSnapshotMessage;
    expect(snapshot.state.progress.completed).toBe(1);
    expect(snapshot.events.map((e) => e.type)).toEqual(['task.queued', 'task.started', 'task.completed', 'engine.idle']);
    expect(snapshot.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(snapshot.samples.at(-1)).toMatchObject({ completed: 1, running: 0 });

    engine.submit((ctx) => ctx.sleep(5), { name: 'second' });
    await clock.advanceBy(10);
    const update = await stream.until((u) => u.events.some((e) => e.type === 'task.completed' && e['name'] === 'second'));
    expect(update.events.every((e) => e.seq > 4)).toBe(true);
    expect(update.state.progress.completed).toBe(2);
    await stream.cancel();
  });

  it("samples the worker slots' utilization as @workers: slots taken over slots", async () => {
    const server = await serve();
    engine.submit((ctx) => ctx.sleep(10), { name: 'one' });
    await clock.advanceBy(1);
    const stream = new EventStreamReader(await fetch(new URL('/events', server.url)));
    const snapshot = (await stream.next()).data as DashboardSnapshotMessage;
    expect(snapshot.samples.at(-1)!.utilization['@workers']).toBe(0.5);
    engine.submit((ctx) => ctx.sleep(10), { name: 'two' });
    await clock.advanceBy(1);
    const both = await stream.until((u) => u.events.some((e) => e.type === 'task.started' && e['name'] === 'two'));
    expect(both.samples.at(-1)!.utilization['@workers']).toBe(1);
    await clock.advanceBy(20);
    const done = await stream.until((u) => u.events.some((e) => e.type === 'engine.idle'));
    expect(done.samples.at(-1)!.utilization['@workers']).toBe(0);
    await stream.cancel();
  });

  it('turns errors in events into plain data', async () => {
    const server = await serve();
    engine.submit(
      () => {
        throw new Error('boom');
      },
      { name: 'failing' },
    );
    await clock.advanceBy(1);
    const response = await fetch(new URL('/events', server.url));
    const stream = new EventStreamReader(response);
    const { data } = await stream.next();
    const failed = (data as DashboardSnapshotMessage).events.find((e) => e.type === 'task.failed')!;
    expect(failed['error']).toEqual({ name: 'Error', message: 'boom' });
    await stream.cancel();
  });

  it('serves /metrics from engine.prometheus() when the engine has it, with the Prometheus content type', async () => {
    const text = '# HELP mezan_tasks_total Tasks.\n# TYPE mezan_tasks_total counter\nmezan_tasks_total 3\n';
    const server = await serve(view(engine, { prometheus: async () => text }));
    const response = await fetch(new URL('/metrics', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toBe(text);
    expect((await getState(server)).prometheus).toBe(true);
  });

  it('answers /metrics with 404 when the engine has no prometheus()', async () => {
    const server = await serve(view(engine));
    expect((await fetch(new URL('/metrics', server.url))).status).toBe(404);
    expect((await getState(server)).prometheus).toBe(false);
  });

  it('puts engine.metrics() in the state when the engine has it', async () => {
    const withMetrics = await serve(view(engine, { metrics: () => ({ queueDepth: 0, waits: { p95: 12 } }) }));
    expect((await getState(withMetrics)).metrics).toEqual({ queueDepth: 0, waits: { p95: 12 } });
    await withMetrics.close();
    const without = await serve(view(engine));
    expect((await getState(without)).metrics).toBeUndefined();
  });

  it('keeps, with a deadlock across nodes, its nodes and the cluster as last read before it; not with a local one', async () => {
    const events = new Subject<EngineEvent>();
    const cluster = { cluster: 'c', node: 'a', at: 7, nodes: [], pools: [{ name: 'db' }], edges: [] } as unknown as ClusterView;
    const server = await serve(view(engine, { clusterView: async () => cluster }, events));
    // The first read, made when the dashboard began, has answered.
    expect((await getState(server)).cluster).toEqual({ view: cluster, error: undefined });
    const cycle = ['a/t1', 'gpu', 'b/t2', 'db', 'a/t1'];
    events.next({ type: 'deadlock.detected', at: 10, deadlocked: ['a/t1', 'b/t2'], cycle, nodes: ['a', 'b'] });
    events.next({ type: 'deadlock.resolved', at: 10, resolution: 'victim', victim: 'b/t2', policy: 'youngest', cycle, nodes: ['a', 'b'] });
    expect((await getState(server)).deadlocks.last).toMatchObject({ cycle, victim: 'b/t2', nodes: ['a', 'b'], cluster });
    events.next({ type: 'deadlock.detected', at: 11, deadlocked: ['t1'], cycle: ['t1', 'db', 't1'] });
    const local = (await getState(server)).deadlocks.last!;
    expect(local.cycle).toEqual(['t1', 'db', 't1']);
    expect(local).not.toHaveProperty('nodes');
    expect(local).not.toHaveProperty('cluster');
  });

  it('lists alerts from alert.raised until alert.cleared', async () => {
    const events = new Subject<EngineEvent>();
    const server = await serve(view(engine, {}, events));
    const raise = (at: number): void =>
      events.next({
        type: 'alert.raised',
        at,
        alert: 'resource-wait',
        resource: 'db',
        severity: 'warning',
        message: 'db waits over 100 ms',
      } as never);
    raise(5);
    let state = await getState(server);
    expect(state.alerts.active).toEqual([
      expect.objectContaining({ key: 'resource-wait:db', severity: 'warning', message: 'db waits over 100 ms', raisedAt: 5 }),
    ]);
    events.next({ type: 'alert.cleared', at: 9, alert: 'resource-wait', resource: 'db', severity: 'warning' } as never);
    state = await getState(server);
    expect(state.alerts.active).toEqual([]);
    expect(state.alerts.recent).toEqual([expect.objectContaining({ key: 'resource-wait:db', raisedAt: 5, clearedAt: 9 })]);
  });

  it('answers 404 for an unknown path and 405 for a method other than GET or HEAD', async () => {
    const server = await serve();
    expect((await fetch(new URL('/nope', server.url))).status).toBe(404);
    expect((await fetch(new URL('/vendor/mermaid.min.js', server.url))).status).toBe(404);
    expect((await fetch(new URL('/state', server.url), { method: 'POST' })).status).toBe(405);
    const head = await fetch(new URL('/state', server.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('ends the event streams and frees its port on close, once however often it is called', async () => {
    const server = await serve();
    const stream = new EventStreamReader(await fetch(new URL('/events', server.url)));
    expect((await stream.next()).event).toBe('snapshot');
    await Promise.all([server.close(), server.close()]);
    // An update flushed before the close may still be buffered: read on until the stream ends.
    const readToEnd = async (): Promise<never> => {
      for (;;) await stream.next();
    };
    await expect(readToEnd()).rejects.toThrow();
    await expect(fetch(server.url)).rejects.toThrow();
    dashboard = undefined;
  });

  it.each([
    ['port', { port: -1 }],
    ['port', { port: 70000 }],
    ['port', { port: 1.5 }],
    ['host', { host: '' }],
    ['now', { now: 5 }],
    ['updateIntervalMs', { updateIntervalMs: 0 }],
    // Past the longest host timer, its interval would fire every millisecond.
    ['updateIntervalMs', { updateIntervalMs: 2 ** 31 }],
    ['clusterIntervalMs', { clusterIntervalMs: 0 }],
    ['clusterIntervalMs', { clusterIntervalMs: 2.5 }],
  ])('rejects a bad %s with E_INVALID_OPTION', async (option, options) => {
    let error: unknown;
    try {
      await serveDashboard(view(engine), options as never);
    } catch (caught) {
      error = caught;
    }
    expect(isMezanError(error, 'E_INVALID_OPTION')).toBe(true);
    expect((error as { details: { option: string } }).details.option).toBe(option);
  });

  it('rejects with the listen error when the port is taken', async () => {
    const server = await serve();
    const port = Number(new URL(server.url).port);
    await expect(serveDashboard(view(engine), { port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
