import type { DashboardEvent, DashboardState } from '../dashboard-monitor';
import { element } from './dom-helpers';
import { MAX_KEPT_EVENTS, type DashboardPage } from './page-model';
import { formatMs, sinceOrigin } from './time-format';

/** The most rows the log shows: the latest that match its filters. */
const MAX_ROWS = 400;
/** Fields every event has, shown in their own columns. */
const OWN_COLUMNS = new Set(['seq', 'type', 'at']);

/** The log's controls and table. */
export interface EventLogElements {
  /** Text to look for in an event's type, ids and fields. */
  readonly filter: HTMLInputElement;
  /** A type prefix (`task.`, `deadlock.`…), or `''` for all. */
  readonly kind: HTMLSelectElement;
  /** While checked, the log does not change. */
  readonly pause: HTMLInputElement;
  readonly body: HTMLTableSectionElement;
  /** Says how many events match. */
  readonly count: HTMLElement;
}

/**
 * Keeps new events for the log (a repeat, by `seq`, is skipped; at most {@link MAX_KEPT_EVENTS}
 * are kept) and learns task names from them.
 *
 * @param page - the page
 * @param events - the events of a message, oldest first
 * @param reset - whether they replace every event kept (a fresh snapshot)
 */
export function keepEvents(page: DashboardPage, events: readonly DashboardEvent[], reset: boolean): void {
  if (reset) {
    page.events = [];
    page.lastSeq = 0;
    page.names.clear();
  }
  for (const event of events) {
    if (event.seq <= page.lastSeq) continue;
    page.lastSeq = event.seq;
    page.events.push(event);
    const { taskId, name } = event;
    if (typeof taskId === 'string' && typeof name === 'string') page.names.set(taskId, name);
  }
  if (page.events.length > MAX_KEPT_EVENTS) page.events.splice(0, page.events.length - MAX_KEPT_EVENTS);
}

/**
 * Draws the log: the latest events that match the kind and the text, newest first.
 *
 * @param log - its controls and table
 * @param events - the events kept, oldest first
 * @param state - the latest state (for the origin of times)
 */
export function renderEventLog(log: EventLogElements, events: readonly DashboardEvent[], state: DashboardState | undefined): void {
  if (log.pause.checked) return;
  const text = log.filter.value.trim().toLowerCase();
  const kind = log.kind.value;
  const rows: HTMLTableRowElement[] = [];
  let matched = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (kind !== '' && !event.type.startsWith(kind)) continue;
    const details = summarize(event);
    if (text !== '' && !`${event.type} ${details}`.toLowerCase().includes(text)) continue;
    matched++;
    if (rows.length >= MAX_ROWS) continue;
    const row = element('tr', event.type.split('.')[0]);
    row.dataset['type'] = event.type;
    row.dataset['seq'] = String(event.seq);
    row.append(element('td', 'at', formatMs(sinceOrigin(state, event.at))), element('td', 'type', event.type), element('td', 'details', details));
    rows.push(row);
  }
  log.body.replaceChildren(...rows);
  log.count.textContent = `${matched} of ${events.length} kept events${matched > MAX_ROWS ? ` (latest ${MAX_ROWS} shown)` : ''}`;
}

/** An event's own fields, as `key=value` (objects as JSON). */
function summarize(event: DashboardEvent): string {
  return Object.entries(event)
    .filter(([key]) => !OWN_COLUMNS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`)
    .join(' ');
}
