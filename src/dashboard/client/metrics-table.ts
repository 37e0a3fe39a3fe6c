import { element } from './dom-helpers';
import { formatMs } from './time-format';

/** The most rows the table shows. */
const MAX_ROWS = 300;
/** How deep into nested objects the table reads. */
const MAX_DEPTH = 5;

/**
 * Lists `engine.metrics()` as one row per number, string or boolean in it, by dotted path, or says
 * that the engine has none.
 *
 * @param details - the `details` element around the table (`data-available` says whether there are metrics)
 * @param body - the table's body
 * @param metrics - `state.metrics`
 */
export function renderMetricsTable(details: HTMLElement, body: HTMLTableSectionElement, metrics: unknown): void {
  if (metrics === undefined || metrics === null) {
    details.dataset['available'] = 'false';
    body.replaceChildren(row('engine.metrics()', 'not available on this engine: the charts read progress() and stats()'));
    return;
  }
  details.dataset['available'] = 'true';
  const rows: HTMLTableRowElement[] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (rows.length >= MAX_ROWS) return;
    if (typeof value === 'number') rows.push(row(path, formatMs(value)));
    else if (typeof value === 'string' || typeof value === 'boolean') rows.push(row(path, String(value)));
    else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH)
      for (const [key, inner] of Object.entries(value)) walk(inner, path === '' ? key : `${path}.${key}`, depth + 1);
  };
  walk(metrics, '', 0);
  body.replaceChildren(...rows);
}

function row(key: string, value: string): HTMLTableRowElement {
  const tr = element('tr');
  tr.append(element('td', undefined, key), element('td', undefined, value));
  return tr;
}
