import type { DashboardState } from '../dashboard-monitor';

/**
 * A number of milliseconds as the page shows it: to a tenth, with thousands separators.
 *
 * @param value - milliseconds
 * @returns such as `1,234.5`
 */
export function formatMs(value: number): string {
  return (Math.round(value * 10) / 10).toLocaleString('en-US');
}

/**
 * The engine's time `at` relative to when the dashboard began to watch the engine
 * (`state.origin`): on the real clock, the engine's own times are epoch milliseconds.
 *
 * @param state - the latest state, or `undefined` before the first
 * @param at - a time of the engine's
 * @returns milliseconds since the origin
 */
export function sinceOrigin(state: DashboardState | undefined, at: number): number {
  return at - (state?.origin ?? 0);
}
