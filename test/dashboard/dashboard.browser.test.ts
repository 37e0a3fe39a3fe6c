import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createEngine, VirtualClock, type AgentContext } from '../../src';
import { ScenarioRun } from '../../src/simulation/scenario-run';
import { serveDashboard, type DashboardServer } from '../../src/dashboard/serve-dashboard';
import { parseScenario } from '../../src/simulation/load-scenario';
import { MACHINE_NAMES } from '../../src/visualization/machines';
import { ARTIFACTS, launchChromium, PAGE_WAIT, type ChromiumSession } from '../fixtures/chromium';

// These run in the page (the project's type check has no DOM library).
declare const window: any;
declare const document: any;
declare function getComputedStyle(element: unknown): { fill: string };

/**
 * A lock-order inversion (transfer-ab takes accounts then ledger, transfer-ba the other way round),
 * then six jobs: the deadlock is found at t = 110, transfer-ba (the youngest) is the victim.
 */
const SCENARIO = `
name: browser deadlock
engine:
  concurrency: 3
  resources: { accounts: 1, ledger: 1 }
  deadlock: { detect: immediate, policy: youngest }
tasks:
  - id: transfer-ab
    steps: [{ acquire: accounts }, { work: 100 }, { acquire: ledger }, { work: 100 }]
  - id: transfer-ba
    at: 10
    steps: [{ acquire: ledger }, { work: 100 }, { acquire: accounts }, { work: 100 }]
  - generate: { count: 6, start: 150, name: job, steps: [{ work: 50 }] }
`;

let chromium: ChromiumSession;
let context: BrowserContext;
let run: ScenarioRun;
let dashboard: DashboardServer;
let page: Page;
const requests: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  chromium = await launchChromium();
  ({ context, page } = chromium);
  run = new ScenarioRun(parseScenario(SCENARIO, 'browser-deadlock.yaml'));
  dashboard = await serveDashboard(run.engine, { port: 0, now: () => run.clock.now(), updateIntervalMs: 20 });
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(dashboard.url);
  await page.waitForSelector('#connection[data-connected="true"]', PAGE_WAIT);
  await page.waitForFunction(() => (window as any).mezanDashboard.diagramsReady === true, null, PAGE_WAIT);
});

afterAll(async () => {
  await chromium?.close();
  await dashboard?.close();
  if (run !== undefined) await run.finish();
});

const counter = (name: string): Promise<number> => page.$eval(`[data-counter="${name}"]`, (node) => Number((node as any).dataset['value'] ?? 'NaN'));

async function waitForCounter(name: string, value: number): Promise<void> {
  await page.waitForFunction(
    ([key, expected]) => document.querySelector(`[data-counter="${key}"]`)?.getAttribute('data-value') === String(expected),
    [name, value] as const,
    PAGE_WAIT,
  );
}

describe('the dashboard in Chromium', () => {
  it('draws every machine from its Graphviz layout and marks the states the actors are in', async () => {
    expect(await counter('total')).toBe(0);
    const machines = await page.$$eval('.machine', (cards) =>
      cards.map((card) => [(card as any).dataset['machine'], card.querySelectorAll('svg g.node').length > 0]),
    );
    expect(machines).toEqual(MACHINE_NAMES.map((name) => [name, true]));
    const current = await page.$$eval('.machine svg g.node.is-current', (nodes) => nodes.map((node) => (node as any).dataset['stateId']).sort());
    expect(current).toEqual([
      'detector.watching',
      'executor.idle',
      'resource.available',
      'shutdown.running',
      'supervisor.supervising',
      'worker.idle',
    ]);
    // Marked in colour, not only by a class: the page's styles win over Graphviz's own attributes.
    const fills = await page.$$eval('#machine-worker svg g.node > path:first-of-type', (paths) =>
      paths.map((path) => [(path.parentNode as any).dataset['stateId'], getComputedStyle(path).fill]),
    );
    expect(fills).toEqual([
      ['worker.idle', 'rgb(255, 213, 79)'],
      ['worker.busy', 'none'],
      ['worker.crashed', 'none'],
    ]);
  });

  it('highlights the cycle and the victim of a deadlock on the wait-for graph', async () => {
    while (run.engine.deadlocks().length === 0) expect(await run.step()).toBe(true);
    await page.waitForFunction(() => (window as any).mezanDashboard.cy?.nodes('.victim').length === 1, null, PAGE_WAIT);
    const graph = await page.evaluate(() => {
      const cy = (window as any).mezanDashboard.cy;
      const ids = (selection: any): string[] => selection.map((element: any) => element.id()).sort();
      return {
        cycle: ids(cy.nodes('.cycle')),
        victim: ids(cy.nodes('.victim')),
        cycleEdges: cy
          .edges('.cycle')
          .map((edge: any) => `${edge.source().id()}>${edge.target().id()}`)
          .sort(),
        victimColor: cy.getElementById('transfer-ba').style('background-color'),
        bystanderColor: cy.getElementById('transfer-ab').style('background-color'),
      };
    });
    expect(graph.cycle).toEqual(['accounts', 'ledger', 'transfer-ab', 'transfer-ba']);
    expect(graph.victim).toEqual(['transfer-ba']);
    expect(graph.cycleEdges).toEqual(['accounts>transfer-ab', 'ledger>transfer-ba', 'transfer-ab>ledger', 'transfer-ba>accounts']);
    expect(graph.victimColor).toBe('rgb(142,0,0)');
    expect(graph.bystanderColor).not.toBe(graph.victimColor);
    expect(await page.$eval('#deadlock-summary', (node) => (node as any).dataset['victim'])).toBe('transfer-ba');
    expect(await page.$$eval('#deadlock-summary .victim', (nodes) => nodes.map((node) => node.textContent))).toEqual(['transfer-ba', 'transfer-ba']);
    await waitForCounter('deadlocks', 1);
    // The machines follow (on a later update, maybe): the worker runs the survivor, both pools are
    // held (the victim's ledger went to transfer-ab).
    const marked = async (): Promise<string[]> =>
      page.$$eval('#machine-worker g.node.is-current, #machine-resource g.node.is-current', (nodes) =>
        nodes.map((node) => `${(node as any).dataset['stateId']}×${(node as any).dataset['actors']}`),
      );
    await page
      .waitForFunction(
        () =>
          [...document.querySelectorAll('#machine-worker g.node.is-current, #machine-resource g.node.is-current')]
            .map((node: any) => `${node.dataset['stateId']}×${node.dataset['actors']}`)
            .join() === 'worker.busy×1,resource.exhausted×2',
        null,
        PAGE_WAIT,
      )
      .catch(async (error: Error) => {
        throw new Error(`${error.message}; the machines mark ${(await marked()).join(', ')}`);
      });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-deadlock.png'), fullPage: true });
  });

  it('outlines the state of the actor clicked on its machine, until it is clicked again', async () => {
    const selected = (): Promise<string[]> =>
      page.$$eval('.machine svg g.node.is-selected', (nodes) => nodes.map((node) => (node as any).dataset['stateId']));
    expect(await selected()).toEqual([]);
    await page.click('.actor[data-actor-id="resource:ledger"]');
    expect(await selected()).toEqual(['resource.exhausted']);
    expect(await page.$$eval('.actor.selected', (rows) => rows.map((row) => (row as any).dataset['actorId']))).toEqual(['resource:ledger']);
    await page.click('.actor[data-actor-id="main"]');
    expect(await selected()).toEqual(['worker.busy']);
    await page.click('.actor[data-actor-id="main"]');
    expect(await selected()).toEqual([]);
  });

  it('moves its counters, charts and actor states as the run goes on, to its end', async () => {
    const completedBefore = await counter('completed');
    const eventsBefore = await counter('events');
    expect(completedBefore).toBe(0);
    while (await run.step());
    await run.finish();
    // transfer-ab and the six jobs complete; transfer-ba ends `deadlock`.
    await waitForCounter('completed', 7);
    await waitForCounter('deadlocked', 1);
    expect(await counter('events')).toBeGreaterThan(eventsBefore);
    await page.waitForSelector('.actor[data-actor-id="shutdown"][data-state="stopped"]', PAGE_WAIT);
    // The badge says the run is over, not "live".
    await page.waitForSelector('#connection[data-connected="stopped"]', PAGE_WAIT);
    expect(await page.textContent('#connection')).toBe('stopped');
    const current = await page.$$eval('#machine-shutdown svg g.node.is-current', (nodes) => nodes.map((node) => (node as any).dataset['stateId']));
    expect(current).toEqual(['shutdown.stopped']);
    const points = await page.evaluate(
      () => (window as any).mezanDashboard.charts.settled.data.datasets.find((d: any) => d.label === 'completed').data.at(-1).y,
    );
    expect(points).toBe(7);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-final.png'), fullPage: true });
  });

  it('filters the event log by kind and by text', async () => {
    await page.selectOption('#log-kind', 'deadlock.');
    expect(await page.$$eval('#log tbody tr', (rows) => rows.map((row) => (row as any).dataset['type']))).toEqual([
      'deadlock.resolved',
      'deadlock.detected',
    ]);
    await page.selectOption('#log-kind', '');
    await page.fill('#log-filter', 'job-3');
    const types = await page.$$eval('#log tbody tr', (rows) => rows.map((row) => (row as any).dataset['type']));
    expect(types.reverse()).toEqual(['task.queued', 'task.started', 'task.completed']);
    await page.fill('#log-filter', '');
  });

  it('paints from /state alone when the event stream cannot connect, and says the engine stopped', async () => {
    const second = await context.newPage();
    const errors: string[] = [];
    second.on('pageerror', (error) => errors.push(error.message));
    await second.route('**/events', (route) => route.abort());
    try {
      await second.goto(dashboard.url);
      await second.waitForSelector('[data-counter="completed"][data-value="7"]', PAGE_WAIT);
      expect(await second.textContent('#engine-id')).toBe(run.engine.id);
      expect(await second.textContent('#connection')).toBe('stopped');
      await second.waitForFunction(() => (window as any).mezanDashboard.diagramsReady === true, null, PAGE_WAIT);
      const current = await second.$$eval('#machine-shutdown svg g.node.is-current', (nodes) =>
        nodes.map((node) => (node as any).dataset['stateId']),
      );
      expect(current).toEqual(['shutdown.stopped']);
      expect(await second.evaluate(() => (window as any).mezanDashboard.updates)).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it("shows an agent's row with its state and mailbox, and draws agents, ask edges and kinds it does not know in the wait-for graph", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    const solver = engine.spawnAgent({ name: 'solver', receive: (_: number, ctx: AgentContext) => ctx.sleep(10), mailbox: { capacity: 5 } });
    for (let n = 0; n < 4; n++) solver.send(n);
    await clock.advanceBy(0);
    const served = await serveDashboard(engine, { port: 0, now: () => clock.now() });
    const third = await context.newPage();
    const errors: string[] = [];
    third.on('pageerror', (error) => errors.push(error.message));
    // The page paints from /state alone, with agent nodes and edges (and a kind it does not know) in its graph.
    await third.route('**/events', (route) => route.abort());
    await third.route('**/state', async (route) => {
      const state = await (await route.fetch()).json();
      state.graph = {
        nodes: [
          { id: '@agent:solver', kind: 'agent', capacity: 1 },
          { id: '@agent:solver#1', kind: 'message' },
          { id: '@agent:solver#2', kind: 'message' },
          { id: 'inbox', kind: 'queue' },
        ],
        edges: [
          { from: '@agent:solver', to: '@agent:solver#1', kind: 'holds', units: 1 },
          { from: '@agent:solver#1', to: '@agent:solver#2', kind: 'asks' },
          { from: '@agent:solver#2', to: 'inbox', kind: 'drains' },
        ],
      };
      await route.fulfill({ json: state });
    });
    try {
      await third.goto(served.url);
      const row = await third.waitForSelector('.actor[data-actor-id="agent:solver"]', PAGE_WAIT);
      expect(await row.getAttribute('data-state')).toBe('busy');
      expect(await row.getAttribute('data-mailbox-depth')).toBe('3');
      expect(await row.$eval('.mailbox', (node) => node.textContent)).toBe('✉ 3/5');
      await third.waitForFunction(() => (window as any).mezanDashboard.cy?.nodes().length === 4, null, PAGE_WAIT);
      const drawn = await third.evaluate(() => {
        const cy = (window as any).mezanDashboard.cy;
        const node = (id: string) => cy.getElementById(id);
        return {
          agent: [node('@agent:solver').style('shape'), node('@agent:solver').data('label')],
          message: [node('@agent:solver#2').style('shape'), node('@agent:solver#2').data('label')],
          unknown: [node('inbox').style('shape'), node('inbox').data('label')],
          asks: cy.edges('[kind = "asks"]').map((edge: any) => [edge.id(), edge.style('line-color')]),
          other: cy.edges('[kind = "drains"]').map((edge: any) => edge.data('label')),
        };
      });
      expect(drawn).toEqual({
        agent: ['hexagon', 'solver\n(×1)'],
        message: ['tag', '✉ solver#2'],
        unknown: ['rectangle', 'inbox\n(queue)'],
        asks: [['@agent:solver#1 -> @agent:solver#2 : asks', 'rgb(142,36,170)']],
        other: ['drains'],
      });
      expect(errors).toEqual([]);
    } finally {
      await third.close();
      await served.close();
      await clock.runAll();
      await engine.shutdown();
    }
  });

  it('loaded nothing from outside the dashboard and met no script error', async () => {
    expect(requests.length).toBeGreaterThan(0);
    // The first paint came from /state, before the stream.
    expect(requests).toContain(new URL('/state', dashboard.url).href);
    expect(requests.filter((url) => !url.startsWith(dashboard.url))).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await page.evaluate(() => (window as any).mezanDashboard.errors)).toEqual([]);
    // An engine without the `cluster` option has no Cluster panel.
    expect(await page.$eval('#cluster-panel', (node) => (node as any).hidden)).toBe(true);
  });
});
