import type { DashboardState } from '../dashboard-monitor';
import { query } from './dom-helpers';
import type { DashboardPage } from './page-model';
import { formatMs, sinceOrigin } from './time-format';

/** What the connection badge says: the stream is open (`'true'`), lost (`'false'`), or the engine has stopped. */
export type ConnectionStatus = 'true' | 'false' | 'stopped';

/**
 * Draws the header: the counters, the engine's clock (from the origin), its id, its shutdown phase,
 * and, once the engine has stopped, the `stopped` badge.
 *
 * @param page - the page (its `stopped` is set here)
 * @param state - the state to show
 */
export function renderHeader(page: DashboardPage, state: DashboardState): void {
  const { progress } = state;
  const values: Record<string, number> = {
    total: progress.total,
    pending: progress.pending,
    running: progress.running,
    completed: progress.completed,
    failed: progress.failed,
    deadlocked: progress.deadlocked,
    timedOut: progress.timedOut,
    cancelled: progress.cancelled,
    rejected: progress.rejected,
    deadlocks: state.deadlocks.detected,
    events: state.events,
  };
  for (const [key, value] of Object.entries(values)) {
    const counter = document.querySelector<HTMLElement>(`[data-counter="${key}"]`);
    if (counter === null) continue;
    counter.textContent = value.toLocaleString('en-US');
    counter.dataset['value'] = String(value);
  }
  query('#clock').textContent = `t = ${formatMs(sinceOrigin(state, state.at))} ms`;
  query('#engine-id').textContent = state.engineId ?? '';
  const shutdown = state.actors.find((actor) => actor.id === 'shutdown');
  query('#engine-phase').textContent =
    shutdown !== undefined && shutdown.state !== 'running' ? `shutdown: ${shutdown.state}` : state.accepting ? '' : 'not accepting';
  page.stopped = shutdown?.state === 'stopped';
  if (page.stopped) showConnection(page, 'stopped', 'the engine has stopped: nothing more will come');
}

/**
 * Sets the connection badge: `live`, `reconnecting…`, or `stopped` once the engine has stopped
 * (whatever the stream does after that).
 *
 * @param page - the page
 * @param status - what to show
 * @param text - the badge's text (its tooltip for `stopped`)
 */
export function showConnection(page: DashboardPage, status: ConnectionStatus, text: string): void {
  if (page.stopped && status !== 'stopped') return;
  const badge = query('#connection');
  badge.dataset['connected'] = status;
  badge.textContent = status === 'stopped' ? 'stopped' : text;
  badge.title = text;
}
