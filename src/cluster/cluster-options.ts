import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  expectKnownKeys,
  expectNonEmptyString,
  expectOptionsObject,
  expectPositiveInteger,
  fail,
  orDefault,
  MAX_TIMER_MS,
} from '../internal/validate';
import { redactRedisUrl } from './redact-redis-url';

/**
 * Options of `createEngine({ cluster })`: the engine joins a cluster of mezan nodes that share one
 * queue of named tasks on Redis (through BullMQ). Nothing of it is loaded without this option.
 */
export interface ClusterOptions {
  /** The Redis server, as a `redis://` or `rediss://` URL. @example `'redis://127.0.0.1:6379'` */
  redis: string;
  /** The cluster's name: nodes with the same name (on the same Redis) share one queue. */
  name: string;
  /**
   * This node's name, in logs and on the jobs it runs; unique in the cluster (two live engines of
   * one name share one membership record, and are warned of it). Visible ASCII characters, `!` to
   * `~`, without spaces: Redis names the node's connections after it. @default `<hostname>-<pid>-<6 random hex digits>`, unique to the engine
   */
  node?: string;
  /**
   * How many named tasks this node takes from the cluster at once (its BullMQ worker's
   * concurrency); `0` makes a node that only submits. @default the engine's `concurrency`; `0` for
   * an engine created with no named task (`tasks`): it could run none of the cluster's
   */
  concurrency?: number;
  /**
   * How long a node's lease on a running task lasts without being renewed (it renews it at half
   * that while it runs): a node that dies or stops answering for longer has the task run elsewhere.
   * @default 30000
   */
  lockDurationMs?: number;
  /** How often each node looks for tasks whose lease lapsed. @default 30000 */
  stalledIntervalMs?: number;
  /**
   * How many times a task may lose its lease (its node died) and be run again before it fails
   * with `E_WORKER_CRASHED`. @default 1
   */
  maxStalledCount?: number;
  /**
   * How often a submitting node reads the state of the tasks it submitted that have been pending
   * for at least this long, and settles those that ended without its hearing (their end event
   * trimmed from the queue's events while it was cut off). It does so at once on reconnecting too.
   * @default 30000
   */
  reconcileIntervalMs?: number;
  /**
   * With cluster pools or cluster tasks to run: how long a deadlock across nodes (their tasks'
   * holds and requests on cluster pools, their awaits, the cluster's job slots) must stay, unchanged, before the cluster's detector breaks it: a wait that
   * ends sooner is never taken for a deadlock. @default 1000
   */
  deadlockAfterMs?: number;
  /** With cluster pools or cluster tasks to run: how often the cluster's detector (one node's at a time) scans the nodes' waits. @default 1000 */
  deadlockScanMs?: number;
  /**
   * How long the engine's shutdown waits, once its actors have stopped, for this node's last
   * words to Redis (its leases given back, its records withdrawn, its connections closed): cut off
   * from Redis, the node then drops its connections and the shutdown ends. A node that never
   * joined waits for nothing: it drops them at once. @default 5000
   */
  leaveTimeoutMs?: number;
  /**
   * How many named tasks the whole cluster runs at once, over all its nodes (BullMQ's global
   * concurrency, kept in Redis with the queue). A node given it sets it when it joins; one not
   * given it leaves it as it is. Give every node the same. @default no limit but the nodes' own
   */
  globalConcurrency?: number;
  /**
   * At most `limit` named tasks start per `intervalMs` over the whole cluster (BullMQ's global rate
   * limit, kept in Redis with the queue). Set as `globalConcurrency` is. @default no limit
   */
  rateLimit?: ClusterRateLimit;
}

/** A cluster-wide rate limit: at most `limit` starts per `intervalMs`. */
export interface ClusterRateLimit {
  /** How many tasks may start per interval: a positive integer. */
  limit: number;
  /** The interval, in milliseconds, from 1 to 2^31 − 1. */
  intervalMs: number;
}

/** Options of `engine.onClusterReady()`. */
export interface ClusterReadyOptions {
  /**
   * How long to wait for the node to join (milliseconds, a positive integer): past it, the promise
   * rejects `E_TIMEOUT`, naming the server and the last error its connections heard; the node
   * goes on trying to join. @default no limit: a Redis server not reached is waited for
   */
  timeoutMs?: number;
}

/** @internal */
export const CLUSTER_READY_OPTION_KEYS: Readonly<Record<keyof ClusterReadyOptions, true>> = Object.freeze({ timeoutMs: true });

/** Cluster options with every field filled. @internal */
export interface ResolvedClusterOptions {
  readonly redis: string;
  readonly name: string;
  readonly node: string;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly reconcileIntervalMs: number;
  readonly deadlockAfterMs: number;
  readonly deadlockScanMs: number;
  readonly leaveTimeoutMs: number;
  readonly globalConcurrency: number | undefined;
  readonly rateLimit: Readonly<ClusterRateLimit> | undefined;
}

/** @internal */
export const CLUSTER_OPTION_KEYS: Readonly<Record<keyof ClusterOptions, true>> = Object.freeze({
  redis: true,
  name: true,
  node: true,
  concurrency: true,
  lockDurationMs: true,
  stalledIntervalMs: true,
  maxStalledCount: true,
  reconcileIntervalMs: true,
  deadlockAfterMs: true,
  deadlockScanMs: true,
  leaveTimeoutMs: true,
  globalConcurrency: true,
  rateLimit: true,
});

const RATE_LIMIT_KEYS: Readonly<Record<keyof ClusterRateLimit, true>> = Object.freeze({ limit: true, intervalMs: true });

/**
 * Checks the `cluster` option and fills in its defaults.
 * @param concurrency - the engine's concurrency, the default of the node's
 * @param definesTasks - whether the engine is created with named tasks: without, the node's
 *   concurrency defaults to 0 (it would take the cluster's tasks only to fail them `E_UNKNOWN_TASK`)
 * @throws {MezanError} `E_INVALID_OPTION` naming `cluster.<field>`
 * @internal
 */
export function resolveClusterOptions(options: ClusterOptions, concurrency: number, definesTasks: boolean): ResolvedClusterOptions {
  expectOptionsObject('cluster', options, 'an object { redis, name, node? }');
  expectKnownKeys('cluster', options, CLUSTER_OPTION_KEYS);
  const { redis, name } = options;
  // A refused URL may still carry a password: it is echoed without it.
  if (typeof redis !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(redis))
    fail('cluster.redis', 'a redis:// or rediss:// URL', typeof redis === 'string' ? redactRedisUrl(redis) : redis);
  expectNonEmptyString('cluster.name', name);
  // The name is part of every Redis key of the cluster: a colon or a space would blur them.
  if (!/^[\w.-]+$/.test(name)) fail('cluster.name', 'a name of letters, digits, _, . and -', name);
  // Random, not the engine's seeded source: two engines of one process may share a seed, never a name.
  const node = orDefault(options.node, `${defaultNodeStem()}-${process.pid}-${randomBytes(3).toString('hex')}`);
  expectNonEmptyString('cluster.node', node);
  // Its workers' connections are named after it (CLIENT SETNAME), and the nodes find each other by
  // those names: Redis refuses, without a word to the node, a name with a space or a character outside.
  if (!NODE_NAME.test(node)) fail('cluster.node', 'a name of visible ASCII characters (! to ~), without spaces', node);
  const nodeConcurrency = orDefault(options.concurrency, definesTasks ? concurrency : 0);
  if (typeof nodeConcurrency !== 'number' || !Number.isInteger(nodeConcurrency) || nodeConcurrency < 0)
    fail('cluster.concurrency', 'a non-negative integer', nodeConcurrency);
  const lockDurationMs = orDefault(options.lockDurationMs, 30_000);
  expectTimerMs('cluster.lockDurationMs', lockDurationMs);
  const stalledIntervalMs = orDefault(options.stalledIntervalMs, 30_000);
  expectTimerMs('cluster.stalledIntervalMs', stalledIntervalMs);
  const maxStalledCount = orDefault(options.maxStalledCount, 1);
  expectPositiveInteger('cluster.maxStalledCount', maxStalledCount);
  const reconcileIntervalMs = orDefault(options.reconcileIntervalMs, 30_000);
  expectTimerMs('cluster.reconcileIntervalMs', reconcileIntervalMs);
  const deadlockAfterMs = orDefault(options.deadlockAfterMs, 1_000);
  expectTimerMs('cluster.deadlockAfterMs', deadlockAfterMs);
  const deadlockScanMs = orDefault(options.deadlockScanMs, 1_000);
  expectTimerMs('cluster.deadlockScanMs', deadlockScanMs);
  const leaveTimeoutMs = orDefault(options.leaveTimeoutMs, 5_000);
  expectTimerMs('cluster.leaveTimeoutMs', leaveTimeoutMs);
  const { globalConcurrency } = options;
  if (globalConcurrency !== undefined) expectPositiveInteger('cluster.globalConcurrency', globalConcurrency);
  return Object.freeze({
    redis,
    name,
    node,
    concurrency: nodeConcurrency,
    lockDurationMs,
    stalledIntervalMs,
    maxStalledCount,
    reconcileIntervalMs,
    deadlockAfterMs,
    deadlockScanMs,
    leaveTimeoutMs,
    globalConcurrency,
    rateLimit: resolveRateLimit(options.rateLimit),
  });
}

/** What Redis takes in a connection's name (CLIENT SETNAME): `!` to `~`. */
const NODE_NAME = /^[!-~]+$/;

/** The host's name, as far as a node's name may carry it: what Redis would refuse becomes `_`. */
function defaultNodeStem(): string {
  return hostname().replace(/[^!-~]/g, '_');
}

function resolveRateLimit(rateLimit: ClusterRateLimit | undefined): Readonly<ClusterRateLimit> | undefined {
  if (rateLimit === undefined) return undefined;
  expectOptionsObject('cluster.rateLimit', rateLimit, 'an object { limit, intervalMs }');
  expectKnownKeys('cluster.rateLimit', rateLimit, RATE_LIMIT_KEYS);
  expectPositiveInteger('cluster.rateLimit.limit', rateLimit.limit);
  expectTimerMs('cluster.rateLimit.intervalMs', rateLimit.intervalMs);
  return Object.freeze({ limit: rateLimit.limit, intervalMs: rateLimit.intervalMs });
}

function expectTimerMs(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS)
    fail(option, `a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`, value);
}
