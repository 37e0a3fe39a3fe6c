import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeThrown } from '../src/internal/describe-thrown';
import type { Logger } from '../src/logger';
import type { ResolvedClusterOptions } from '../src/cluster/cluster-options';
import { ClusterLogger } from './cluster-logger';

/** The Redis key prefix of every cluster's queue (BullMQ's is `bull`). @internal */
export const CLUSTER_PREFIX = 'mezan';

/** A cancellation on a cluster's cancel channel: the submitter's word that job `jobId` is cancelled. @internal */
export interface CancelMessage {
  readonly jobId: string;
  readonly reason: string | undefined;
}

/** The Redis channel on which submitters publish cancellations and working nodes hear them. @internal */
export function cancelChannel(cluster: string): string {
  return `${CLUSTER_PREFIX}:${cluster}:cancel`;
}

/** Reads a message of the cancel channel: `undefined` for one that is not a cancellation. @internal */
export function readCancelMessage(message: string): { readonly jobId: string; readonly reason: unknown } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  // Anyone who can publish on the cluster's Redis speaks on this channel: `null`, a number, an array are no cancellation.
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { jobId, reason } = parsed as { readonly jobId?: unknown; readonly reason?: unknown };
  return typeof jobId === 'string' ? { jobId, reason } : undefined;
}

/**
 * Sets the cluster-wide limits this node was given (`globalConcurrency`, `rateLimit`) in Redis,
 * where BullMQ keeps them with the queue for every node's worker. A failure is logged: the node
 * runs on, under whatever limits Redis has.
 */
async function setClusterLimits(queue: Queue, options: ResolvedClusterOptions, logger: Logger): Promise<void> {
  const { globalConcurrency, rateLimit } = options;
  try {
    if (globalConcurrency !== undefined) await queue.setGlobalConcurrency(globalConcurrency);
    if (rateLimit !== undefined) await queue.setGlobalRateLimit(rateLimit.limit, rateLimit.intervalMs);
  } catch (error) {
    warnOfClusterError(logger, 'setting the cluster’s limits', error);
  }
}

/**
 * Sets the cluster-wide limits this node was given now, and again each time its connection is back
 * after a close: a Redis that restarted empty (without persistence) forgot them, and every node
 * would otherwise run on without a limit. Setting them again is harmless when Redis kept them.
 * @internal
 */
export function keepClusterLimits(queue: Queue, options: ResolvedClusterOptions, logger: Logger): Promise<void> {
  if (options.globalConcurrency === undefined && options.rateLimit === undefined) return Promise.resolve();
  whenBackAfterClose(queue.backend, () => void setClusterLimits(queue, options, logger));
  return setClusterLimits(queue, options, logger);
}

/** The cluster-wide limits a node was given. @internal */
export type ClusterLimits = Pick<ResolvedClusterOptions, 'globalConcurrency' | 'rateLimit'>;

/**
 * Sets again, saying so, those of the cluster-wide limits this node was given that Redis no longer
 * has: it lost its data while the connections stayed (a `FLUSHALL`, a failover behind a proxy that
 * kept them), and no reconnection tells. One read of the queue's meta when they are there; a limit
 * Redis has, another node's too, is left as it is. Written as BullMQ's `setGlobalConcurrency` and
 * `setGlobalRateLimit` write them, fields of the queue's meta hash.
 * @throws what the connection throws
 * @internal
 */
export async function mendClusterLimits(redis: Redis, cluster: string, limits: ClusterLimits, logger: Logger | undefined): Promise<void> {
  const { globalConcurrency, rateLimit } = limits;
  if (globalConcurrency === undefined && rateLimit === undefined) return;
  const meta = `${CLUSTER_PREFIX}:${cluster}:meta`;
  const [concurrency, max, duration] = await redis.hmget(meta, 'concurrency', 'max', 'duration');
  const lost: Record<string, number> = {};
  if (globalConcurrency !== undefined && concurrency === null) lost['concurrency'] = globalConcurrency;
  if (rateLimit !== undefined && (max === null || duration === null)) Object.assign(lost, { max: rateLimit.limit, duration: rateLimit.intervalMs });
  if (Object.keys(lost).length === 0) return;
  const what = [...('concurrency' in lost ? ['its global concurrency'] : []), ...('max' in lost ? ['its rate limit'] : [])].join(' and ');
  logger?.warn(`the cluster's queue had lost ${what} (Redis restarted empty, or its data was flushed?): set again`, { cluster });
  await redis.hset(meta, lost);
}

/** Calls `back` each time a BullMQ object's connection is ready again after a close (not when it first connects). @internal */
export function whenBackAfterClose(backend: { on(event: 'close' | 'ready', listener: () => void): unknown }, back: () => void): void {
  let cutOff = false;
  backend.on('close', () => {
    cutOff = true;
  });
  backend.on('ready', () => {
    if (!cutOff) return;
    cutOff = false;
    back();
  });
}

/**
 * Logs an error a part of the cluster's (a BullMQ object, a connection) reported: it goes on, or is
 * replaced. A node's {@link ClusterLogger} counts repeated errors rather than writing each, and
 * hears a refusal while the node joins.
 * @internal
 */
export function warnOfClusterError(logger: Logger, what: string, error: unknown): void {
  if (logger instanceof ClusterLogger) logger.clusterError(what, error);
  else logger.warn(`cluster: ${what} reported an error`, { error: describeThrown(error) });
}
