// The optional parts of mezan that the core reaches only when they are used: requiring them here,
// on first use, rather than importing them at the top of a module keeps `import 'mezan'` light
// (winston alone takes about 45 ms to load). The package runs as CommonJS
// in both module formats (its ES module entries re-export the CommonJS build), so `require` is
// always there.
/* eslint-disable @typescript-eslint/no-require-imports -- loading on first use is the point */

/**
 * winston, for the default logger's first line.
 * @internal
 */
export function loadWinston(): typeof import('winston') {
  return require('winston') as typeof import('winston');
}

/**
 * The dashboard's server, for `engine.serveDashboard()`.
 * @internal
 */
export function loadDashboardServer(): typeof import('./dashboard/serve-dashboard') {
  return require('./dashboard/serve-dashboard') as typeof import('./dashboard/serve-dashboard');
}

/**
 * RxJS, for `engine.events$` and `engine.progress$` (its root import takes about 60 ms).
 * @internal
 */
export function loadRxjs(): typeof import('rxjs') {
  return require('rxjs') as typeof import('rxjs');
}

/**
 * The observable that contains its subscribers' throws, for `engine.events$`.
 * @internal
 */
export function loadContainedObservable(): typeof import('./internal/contained-observable') {
  return require('./internal/contained-observable') as typeof import('./internal/contained-observable');
}

/**
 * Piscina, for the worker threads of an engine's first thread task.
 * @internal
 */
export function loadPiscina(): typeof import('piscina') {
  return require('piscina') as typeof import('piscina');
}

/**
 * A cluster node's submissions, the registry of the cluster tasks it submitted, for an engine made
 * with the `cluster` option.
 * @internal
 */
export function loadClusterSubmissions(): typeof import('../actors/cluster-submissions') {
  return require('../actors/cluster-submissions') as typeof import('../actors/cluster-submissions');
}

/**
 * A cluster node's submitting side, the supervisor's `cluster-submitter` (with BullMQ and ioredis),
 * for an engine made with the `cluster` option.
 * @internal
 */
export function loadClusterSubmitter(): typeof import('../actors/cluster-submitter.actor') {
  return require('../actors/cluster-submitter.actor') as typeof import('../actors/cluster-submitter.actor');
}

/**
 * A cluster node's joining and the logger of its parts, for an engine made with the `cluster` option.
 * @internal
 */
export function loadClusterJoin(): typeof import('../actors/cluster-join') {
  return require('../actors/cluster-join') as typeof import('../actors/cluster-join');
}

/**
 * A cluster node's working side, the supervisor's `cluster-worker` (with BullMQ and ioredis), for an
 * engine of the cluster with `cluster.concurrency` above 0.
 * @internal
 */
export function loadClusterWorker(): typeof import('../actors/cluster-worker.actor') {
  return require('../actors/cluster-worker.actor') as typeof import('../actors/cluster-worker.actor');
}

/**
 * The cluster pools' actor, with ioredis and redis-semaphore, for an engine with a pool of
 * `scope: 'cluster'`.
 * @internal
 */
export function loadClusterPool(): typeof import('../actors/cluster-pool.actor') {
  return require('../actors/cluster-pool.actor') as typeof import('../actors/cluster-pool.actor');
}

/**
 * Detection of deadlocks across the nodes of a cluster (with BullMQ), for an engine with a pool of
 * `scope: 'cluster'` or one that runs cluster tasks.
 * @internal
 */
export function loadClusterDeadlocks(): typeof import('../actors/cluster-deadlocks.actor') {
  return require('../actors/cluster-deadlocks.actor') as typeof import('../actors/cluster-deadlocks.actor');
}

/**
 * A node's membership record in Redis, the supervisor's `cluster-membership`, for an engine made
 * with the `cluster` option.
 * @internal
 */
export function loadClusterMembership(): typeof import('../actors/cluster-membership.actor') {
  return require('../actors/cluster-membership.actor') as typeof import('../actors/cluster-membership.actor');
}

/**
 * The reader of the cluster's view (with BullMQ), for `engine.clusterView()`.
 * @internal
 */
export function loadClusterViewReader(): typeof import('../actors/cluster-view-reader') {
  return require('../actors/cluster-view-reader') as typeof import('../actors/cluster-view-reader');
}
