/**
 * The dashboard page's script, bundled with Cytoscape.js and Chart.js into `/dashboard.js`. It paints
 * first from `/state`, follows `/events` (a snapshot, then updates), and draws the machines from
 * `/machines` when they come. Each part of the page draws on its own: one that fails is recorded in
 * `window.mezanDashboard.errors` and leaves the others drawn.
 */
import type { DashboardState } from '../dashboard-monitor';
import type { DashboardSnapshotMessage } from '../event-stream-hub';
import type { DrawnMachineView } from '../machine-views';
import { renderActorTree } from './actor-tree-view';
import { renderAlertsList } from './alerts-list';
import { renderClusterPanel, type ClusterPanelElements } from './cluster-panel';
import { renderDeadlockSummary } from './deadlock-summary';
import { query } from './dom-helpers';
import { keepEvents, renderEventLog, type EventLogElements } from './event-log';
import { renderHeader, showConnection } from './header-view';
import { highlightStates, renderMachineDiagrams } from './machine-diagrams';
import { addSamples, createMetricCharts } from './metric-charts';
import { renderMetricsTable } from './metrics-table';
import { createDashboardPage, recordError } from './page-model';
import { renderClusterGraph, renderWaitForGraph } from './wait-for-graph-view';

const page = createDashboardPage();
window.mezanDashboard = page;

const log: EventLogElements = {
  filter: query<HTMLInputElement>('#log-filter'),
  kind: query<HTMLSelectElement>('#log-kind'),
  pause: query<HTMLInputElement>('#log-pause'),
  body: query<HTMLTableSectionElement>('#log tbody'),
  count: query('#log-count'),
};

const clusterPanel: ClusterPanelElements = {
  panel: query('#cluster-panel'),
  summary: query('#cluster-summary'),
  nodes: query<HTMLTableSectionElement>('#cluster-nodes tbody'),
  pools: query<HTMLTableSectionElement>('#cluster-pools tbody'),
};

/** Shows the cluster (a cluster node's dashboard only), its tables, then its graph once the panel is shown. */
function drawCluster(state: DashboardState): void {
  const view = renderClusterPanel(clusterPanel, state);
  if (view !== undefined) renderClusterGraph(page, query('#cluster-graph'), view, state.deadlocks.last);
}

function drawActors(state: DashboardState): void {
  renderActorTree(query('#actor-tree'), state.actors, page.selected, (actor) => {
    page.selected = page.selected === actor.id ? undefined : actor.id;
    if (page.state !== undefined) drawActors(page.state);
    highlightStates(page);
    document.getElementById(`machine-${actor.machine}`)?.scrollIntoView({ block: 'nearest' });
  });
}

/** Draws a message of the server: the first paint from `/state`, a snapshot (`reset`), or an update. */
function apply(message: DashboardSnapshotMessage, reset: boolean): void {
  const { state } = message;
  page.state = state;
  page.updates++;
  keepEvents(page, message.events, reset);
  const steps: ReadonlyArray<readonly [string, () => void]> = [
    ['header', () => renderHeader(page, state)],
    ['actors', () => drawActors(state)],
    ['states', () => highlightStates(page)],
    ['graph', () => renderWaitForGraph(page, query('#wait-for-graph'), state)],
    ['deadlock', () => renderDeadlockSummary(query('#deadlock-summary'), state)],
    ['charts', () => addSamples((page.charts ??= createMetricCharts()), state, message.samples, reset)],
    ['metrics', () => renderMetricsTable(query('#metrics-details'), query<HTMLTableSectionElement>('#metrics-table tbody'), state.metrics)],
    ['alerts', () => renderAlertsList(query('#alerts'), state)],
    ['cluster', () => drawCluster(state)],
    ['log', () => renderEventLog(log, page.events, page.state)],
  ];
  for (const [where, step] of steps) {
    try {
      step();
    } catch (error) {
      recordError(page, where, error);
    }
  }
}

function connect(): void {
  const source = new EventSource('/events');
  source.addEventListener('snapshot', (event) => {
    showConnection(page, 'true', 'live');
    apply(JSON.parse(event.data) as DashboardSnapshotMessage, true);
  });
  source.addEventListener('update', (event) => apply(JSON.parse(event.data) as DashboardSnapshotMessage, false));
  source.addEventListener('error', () => showConnection(page, 'false', 'reconnecting…'));
  page.source = source;
}

async function fetchJson<T>(path: string): Promise<T> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

for (const control of [log.filter, log.kind, log.pause]) {
  control.addEventListener('input', () => renderEventLog(log, page.events, page.state));
  control.addEventListener('change', () => renderEventLog(log, page.events, page.state));
}

// The first paint comes from /state, before the stream connects (a one-shot screenshot shows it).
fetchJson<DashboardState>('/state')
  .then((state) => {
    if (page.updates === 0) apply({ state, events: [], samples: [] }, true);
  })
  .catch((error: unknown) => recordError(page, 'state', error));

fetchJson<readonly DrawnMachineView[]>('/machines')
  .then((views) => {
    page.machines = views;
    renderMachineDiagrams(page, views, query('#machines'));
  })
  .catch((error: unknown) => recordError(page, 'machines', error));

connect();
