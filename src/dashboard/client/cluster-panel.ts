import type { ClusterPoolShare, ClusterView, ClusterViewNode, ClusterViewPool } from '../../cluster/cluster-view';
import type { DashboardState } from '../dashboard-monitor';
import { element } from './dom-helpers';
import { formatMs } from './time-format';

/** The elements of the page's Cluster panel. */
export interface ClusterPanelElements {
  /** The panel itself: hidden for an engine without the `cluster` option. */
  readonly panel: HTMLElement;
  /** One line: the cluster, the node that read it, how many nodes, pools and edges; or what went wrong. */
  readonly summary: HTMLElement;
  readonly nodes: HTMLTableSectionElement;
  readonly pools: HTMLTableSectionElement;
}

/** How many of a node's running tasks its row names; the others are counted. */
const RUNNING_NAMED = 5;

/**
 * Shows the cluster's view, when the engine is a cluster node: its live nodes (this one first
 * marked), with their phase, workers, named tasks and the cluster tasks they run, and its cluster
 * pools with their holders and waiters by node and task. Ages are counted from Redis's time at the
 * read. The panel stays hidden for an engine without the `cluster` option.
 *
 * @param elements - where to draw
 * @param state - the state to show
 * @returns the view drawn, if any (the cluster graph draws it too)
 */
export function renderClusterPanel(elements: ClusterPanelElements, state: DashboardState): ClusterView | undefined {
  const { cluster } = state;
  elements.panel.hidden = cluster === undefined;
  if (cluster === undefined) return undefined;
  const { view, error } = cluster;
  elements.panel.dataset['error'] = error === undefined ? 'false' : 'true';
  if (view === undefined) {
    elements.summary.textContent = error === undefined ? 'Reading the cluster…' : `The cluster could not be read: ${error}`;
    elements.nodes.replaceChildren();
    elements.pools.replaceChildren();
    return undefined;
  }
  const count = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;
  const crossing = view.edges.length;
  elements.summary.replaceChildren(
    'cluster ',
    element('strong', undefined, view.cluster),
    ` seen from node `,
    element('strong', undefined, view.node),
    `: ${count(view.nodes.length, 'node')}, ${count(view.pools.length, 'cluster pool')}, ${count(crossing, 'published wait')}`,
    ...(error === undefined ? [] : [element('span', 'cluster-error', ` (the latest read failed: ${error})`)]),
  );
  elements.nodes.replaceChildren(...view.nodes.map((node) => nodeRow(node, view.at)));
  elements.pools.replaceChildren(...(view.pools.length === 0 ? [emptyRow(5, 'No cluster pool.')] : view.pools.map(poolRow)));
  return view;
}

function nodeRow(node: ClusterViewNode, at: number): HTMLTableRowElement {
  const row = element('tr', node.self ? 'self' : undefined);
  row.dataset['node'] = node.node;
  row.dataset['phase'] = node.phase;
  row.dataset['running'] = String(node.runningTasks.length);
  const workers = node.workers.map((worker) => `${worker.id} ${worker.running}/${worker.slots}`).join(' · ');
  const shown = node.runningTasks
    .slice(0, RUNNING_NAMED)
    .map((task) => `${task.name} ${task.id}${task.attempt > 1 ? ` (attempt ${task.attempt})` : ''}`);
  if (node.runningTasks.length > RUNNING_NAMED) shown.push(`and ${node.runningTasks.length - RUNNING_NAMED} more`);
  const name = element('td', 'node-name', node.node);
  if (node.self) name.append(element('span', 'self-mark', ' (this node)'));
  const phase = element('span', 'badge', node.phase);
  phase.dataset['state'] = node.phase;
  row.append(
    name,
    element('td', undefined, `${node.host}:${node.pid}`),
    cell(phase),
    element('td', 'number', `${formatMs((at - node.startedAt) / 1000)} s`),
    element('td', 'number', `${formatMs((at - node.heartbeatAt) / 1000)} s ago`),
    element('td', 'number', node.concurrency),
    element('td', undefined, workers),
    element('td', 'tasks', node.tasks.join(', ')),
    element('td', 'running', shown.length === 0 ? '—' : shown.join(', ')),
  );
  return row;
}

function poolRow(pool: ClusterViewPool): HTMLTableRowElement {
  const row = element('tr');
  row.dataset['pool'] = pool.name;
  row.dataset['held'] = String(pool.held);
  row.dataset['waiting'] = String(pool.waiters.length);
  const capacity = element('td', 'number', pool.capacity);
  if (!pool.agreed) capacity.append(element('span', 'warn', ' ⚠ nodes disagree'));
  row.append(
    element('td', 'pool-name', pool.name),
    capacity,
    element('td', 'number', `${pool.held}/${pool.capacity}`),
    element('td', 'holders', shares(pool.holders)),
    element('td', 'waiters', shares(pool.waiters)),
  );
  return row;
}

/** Units by node and task, as `a/task-3 ×2` (a dead node's marked †). */
function shares(list: readonly ClusterPoolShare[]): string {
  if (list.length === 0) return '—';
  return list.map((share) => `${share.node}/${share.task}${share.units === 1 ? '' : ` ×${share.units}`}${share.alive ? '' : ' †'}`).join(', ');
}

function cell(child: HTMLElement): HTMLTableCellElement {
  const td = element('td');
  td.append(child);
  return td;
}

function emptyRow(columns: number, text: string): HTMLTableRowElement {
  const row = element('tr', 'none');
  const td = element('td', undefined, text);
  td.colSpan = columns;
  row.append(td);
  return row;
}
