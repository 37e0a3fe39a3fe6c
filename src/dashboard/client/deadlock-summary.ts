import type { DashboardState } from '../dashboard-monitor';
import { element } from './dom-helpers';
import { formatMs, sinceOrigin } from './time-format';

/**
 * Says, above the wait-for graph, whether a deadlock was found: the latest one's cycle (its victim
 * marked), how it was resolved, and how many were found in all.
 *
 * @param summary - the element that holds the summary
 * @param state - the state to show
 */
export function renderDeadlockSummary(summary: HTMLElement, state: DashboardState): void {
  const { last, detected } = state.deadlocks;
  if (last === undefined) {
    summary.dataset['deadlock'] = 'none';
    summary.textContent = 'No deadlock so far.';
    return;
  }
  summary.dataset['deadlock'] = 'found';
  summary.dataset['victim'] = last.victim ?? '';
  summary.replaceChildren(element('span', undefined, `Deadlock at t = ${formatMs(sinceOrigin(state, last.at))} ms: `));
  last.cycle.forEach((id, index) => {
    if (index > 0) summary.append(' → ');
    const node = element('span', id === last.victim ? 'cycle-node victim' : 'cycle-node', id);
    node.dataset['node'] = id;
    summary.append(node);
  });
  summary.append(
    last.resolution === 'victim'
      ? ` — victim ${last.victim ?? '?'} (${last.policy ?? '?'})`
      : last.resolution === 'compensation'
        ? ' — resolved by an extra worker slot'
        : ' — resolving…',
  );
  if (detected > 1) summary.append(` · ${detected} found in all`);
}
