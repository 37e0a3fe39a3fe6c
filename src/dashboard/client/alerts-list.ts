import type { DashboardState } from '../dashboard-monitor';
import { element } from './dom-helpers';
import { formatMs, sinceOrigin } from './time-format';

/**
 * Lists the latest alerts, newest first: severity, message, when raised and, once cleared, when.
 *
 * @param list - the `ul` of alerts
 * @param state - the state to show
 */
export function renderAlertsList(list: HTMLElement, state: DashboardState): void {
  const { recent } = state.alerts;
  if (recent.length === 0) {
    list.replaceChildren(element('li', 'none', 'No alert.'));
    return;
  }
  list.replaceChildren(
    ...recent.map((alert) => {
      const cleared = alert.clearedAt !== undefined;
      const item = element('li', `${alert.severity} ${cleared ? 'cleared' : 'active'}`);
      item.dataset['alert'] = alert.key;
      let when = `t = ${formatMs(sinceOrigin(state, alert.raisedAt))} ms`;
      if (alert.clearedAt !== undefined) when += `, cleared at ${formatMs(sinceOrigin(state, alert.clearedAt))} ms`;
      item.append(element('strong', undefined, `${alert.severity} `), `${alert.message} (${when})`);
      return item;
    }),
  );
}
