/**
 * The public surface of `mezan/dashboard`: the live dashboard of an engine, served over HTTP.
 * `engine.serveDashboard()` loads the same server on first use.
 *
 * @module mezan/dashboard
 */

export { serveDashboard } from '../dashboard/serve-dashboard';
export type { DashboardServer } from '../dashboard/serve-dashboard';
export type { DashboardOptions } from '../dashboard/dashboard-options';
export type { DashboardEngine } from '../dashboard/dashboard-engine';
