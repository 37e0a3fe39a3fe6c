import type { Core } from 'cytoscape';
import type { DashboardEvent, DashboardState } from '../dashboard-monitor';
import type { DrawnMachineView } from '../machine-views';
import type { MetricCharts } from './metric-charts';

/**
 * Everything the page keeps between two messages of the server: the latest state, the events it
 * shows, what the user selected, and the drawings it made. The page exposes it as
 * `window.mezanDashboard`, for debugging and for the browser test.
 */
export interface DashboardPage {
  /** The latest state, from `/state` first, then from each message of `/events`. */
  state: DashboardState | undefined;
  /** The machines with their diagrams, from `/machines`. */
  machines: readonly DrawnMachineView[] | undefined;
  /** The events kept for the log, oldest first, at most {@link MAX_KEPT_EVENTS}. */
  events: DashboardEvent[];
  /** The number of the latest event kept: an event at or below it is a repeat. */
  lastSeq: number;
  /** How many states have been drawn. */
  updates: number;
  /** The id of the actor the user clicked, whose state is outlined on its machine. */
  selected: string | undefined;
  /** Whether the engine has stopped: the badge then says so whatever the stream does. */
  stopped: boolean;
  /** Whether every machine's diagram is on the page. */
  diagramsReady: boolean;
  /** Each machine's state nodes on its diagram, by machine name, then by XState state id. */
  readonly diagramNodes: Map<string, Map<string, SVGGElement>>;
  /** The wait-for graph's Cytoscape.js instance, once drawn. */
  cy: Core | undefined;
  /** The cluster graph's Cytoscape.js instance, once drawn (a cluster node's dashboard only). */
  clusterCy: Core | undefined;
  /** The Chart.js charts, once drawn. */
  charts: MetricCharts | undefined;
  /** Task names by task id, read from the events (the wait-for graph has ids only). */
  readonly names: Map<string, string>;
  /** What went wrong while drawing, as `where: message`. */
  readonly errors: string[];
  /** The open event stream. */
  source: EventSource | undefined;
}

/** How many events the page keeps for its log. */
export const MAX_KEPT_EVENTS = 2000;

declare global {
  interface Window {
    mezanDashboard: DashboardPage;
  }
}

/**
 * A page with nothing drawn yet.
 *
 * @returns a fresh {@link DashboardPage}
 */
export function createDashboardPage(): DashboardPage {
  return {
    state: undefined,
    machines: undefined,
    events: [],
    lastSeq: 0,
    updates: 0,
    selected: undefined,
    stopped: false,
    diagramsReady: false,
    diagramNodes: new Map(),
    cy: undefined,
    clusterCy: undefined,
    charts: undefined,
    names: new Map(),
    errors: [],
    source: undefined,
  };
}

/**
 * Keeps what went wrong, on the page (`errors`) and in the console: one part of the page that fails
 * to draw leaves the others drawn.
 *
 * @param page - the page
 * @param where - what was being drawn
 * @param error - what was thrown
 */
export function recordError(page: DashboardPage, where: string, error: unknown): void {
  const text = `${where}: ${error instanceof Error ? error.message : String(error)}`;
  page.errors.push(text);
  console.error(text);
}
