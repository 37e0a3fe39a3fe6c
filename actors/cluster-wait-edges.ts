import type { Redis } from 'ioredis';
import { expectNonEmptyString, fail } from '../src/internal/validate';
import { NodeRecords, type NodeRecord } from './node-records';

/**
 * One edge of a node's part of the cluster's wait-for graph: a task `holds` or `requests` units of
 * a cluster pool, or `awaits` a task (of any node); or, for a task with such edges, what a victim
 * policy weighs of it (`runs`). Task ids are the cluster's (stable across nodes); a pool is named
 * as in `resources`.
 */
export type ClusterWaitEdge =
  | {
      readonly kind: 'holds' | 'requests';
      readonly task: string;
      readonly resource: string;
      readonly units: number;
      /** The pool's capacity, cluster-wide, as the publishing node has it. */
      readonly capacity?: number;
      /** Of a request: the id its node gave it, so that a decision about it names this wait and no later one. */
      readonly request?: string;
    }
  | {
      readonly kind: 'awaits';
      readonly task: string;
      /** The awaited task: `<node>/<task>` as its node publishes it, or with `job` a cluster task's id (its job's, `ctx.id`), whichever node runs it. */
      readonly awaited: string;
      /** Set when `awaited` is a cluster task's id. */
      readonly job?: boolean;
      /** The id its node gave this wait, so that a decision about it names this wait and no later one. */
      readonly request?: string;
    }
  | {
      readonly kind: 'runs';
      readonly task: string;
      /** The cluster task (its job's id) this task is the running attempt of, if it is one. */
      readonly job?: string;
      /** The task's priority (higher runs first). */
      readonly priority: number;
      /** When its attempt started, in milliseconds since the epoch on its node's clock. */
      readonly startedAt: number;
    };

/** What one node last published: its edges, the version it gave them. */
export interface ClusterNodeEdges {
  readonly node: string;
  readonly version: number;
  readonly edges: readonly ClusterWaitEdge[];
}

/** The kind of the wait-for edges' records: keys `mezan:<cluster>:edges:*`. @internal */
export const EDGE_RECORDS = 'edges';

/**
 * A node's edges as its record's JSON holds them, or `undefined` for what is not an array of edges
 * this version knows (all of them, or the node's edges are unknown: one left out could make a
 * deadlock of tasks that are not deadlocked). @internal
 */
export function readEdges(value: unknown): ClusterWaitEdge[] | undefined {
  if (!Array.isArray(value)) return undefined;
  try {
    value.forEach(expectEdge);
  } catch {
    return undefined;
  }
  return value as ClusterWaitEdge[];
}

/** Each node's edges, from its record as read. @internal */
export function nodeEdgesOf(records: readonly NodeRecord<ClusterWaitEdge[]>[]): ClusterNodeEdges[] {
  return records.map(({ node, version, payload }) => ({ node, version, edges: payload }));
}

/** Options of {@link ClusterWaitEdges}. */
export interface ClusterWaitEdgesOptions {
  /** The connection its scripts run on; it does not own it (nor close it). */
  readonly redis: Redis;
  /** The cluster's name: keys are `mezan:<cluster>:edges:*`. */
  readonly cluster: string;
  /**
   * How long a node's edges live without a publish or a heartbeat: a node that dies has its edges
   * vanish this long after its last one. @default 10000
   */
  readonly ttlMs?: number;
}

function expectEdge(edge: unknown, index: number): asserts edge is ClusterWaitEdge {
  const option = `edges[${index}]`;
  if (typeof edge !== 'object' || edge === null) fail(option, 'an edge { kind, task, ... }', edge);
  const { kind, task } = edge as Record<string, unknown>;
  expectNonEmptyString(`${option}.task`, task);
  if (kind === 'awaits') {
    const { awaited, job, request } = edge as Record<string, unknown>;
    expectNonEmptyString(`${option}.awaited`, awaited);
    if (job !== undefined && typeof job !== 'boolean') fail(`${option}.job`, 'a boolean', job);
    if (request !== undefined) expectNonEmptyString(`${option}.request`, request);
  } else if (kind === 'runs') {
    const { priority, startedAt, job } = edge as Record<string, unknown>;
    if (job !== undefined) expectNonEmptyString(`${option}.job`, job);
    if (typeof priority !== 'number' || !Number.isFinite(priority)) fail(`${option}.priority`, 'a finite number', priority);
    if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) fail(`${option}.startedAt`, 'a finite number of milliseconds', startedAt);
  } else if (kind === 'holds' || kind === 'requests') {
    const { resource, units, capacity, request } = edge as Record<string, unknown>;
    expectNonEmptyString(`${option}.resource`, resource);
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) fail(`${option}.units`, 'a positive integer', units);
    if (capacity !== undefined && (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1))
      fail(`${option}.capacity`, 'a positive integer', capacity);
    if (request !== undefined) expectNonEmptyString(`${option}.request`, request);
  } else {
    fail(`${option}.kind`, "'holds', 'requests', 'awaits' or 'runs'", kind);
  }
}

/**
 * The cluster's wait-for graph in Redis, node by node: each node publishes its waiting edges on
 * cluster pools and cross-node awaits (`publish`), versioned, and keeps them alive with a heartbeat
 * (`heartbeat`, or another publish); a node that dies stops doing so, and its edges vanish after
 * `ttlMs`. A detector reads them all at one instant (`snapshot`). Node ids are unique in the
 * cluster; a node's versions only grow.
 *
 * @example
 * ```ts
 * const edges = new ClusterWaitEdges({ redis, cluster: 'orders', ttlMs: 10_000 });
 * await edges.publish('api-1', [{ kind: 'requests', task: 't1', resource: 'db', units: 1 }], 7);
 * const { nodes } = await edges.snapshot(); // [{ node: 'api-1', version: 7, edges: [...] }, ...]
 * ```
 */
export class ClusterWaitEdges {
  readonly #records: NodeRecords;

  /** @throws {MezanError} `E_INVALID_OPTION` for a cluster name that is not a non-empty string, or a `ttlMs` that is not a positive integer */
  constructor(options: ClusterWaitEdgesOptions) {
    this.#records = new NodeRecords({ redis: options.redis, cluster: options.cluster, kind: EDGE_RECORDS, ttlMs: options.ttlMs ?? 10_000 });
  }

  /**
   * Replaces node `node`'s edges with `edges`, as version `version`, and re-arms their time to live.
   * @returns `false` when a version as new or newer is stored (this publish came late, and is dropped)
   * @throws {MezanError} `E_INVALID_OPTION` for an invalid node, version or edge (rejects, as an asynchronous method does)
   */
  async publish(node: string, edges: readonly ClusterWaitEdge[], version: number): Promise<boolean> {
    expectNonEmptyString('node', node);
    if (!Array.isArray(edges)) fail('edges', 'an array of edges', edges);
    edges.forEach(expectEdge);
    return this.#records.publish(node, JSON.stringify(edges), version);
  }

  /**
   * Keeps node `node`'s edges alive for another `ttlMs`.
   * @returns `false` when they had already vanished (the node must publish again)
   */
  heartbeat(node: string): Promise<boolean> {
    return this.#records.heartbeat(node);
  }

  /** Removes node `node`'s edges at once (a node that leaves the cluster cleanly). */
  withdraw(node: string): Promise<void> {
    return this.#records.withdraw(node);
  }

  /**
   * Every live node's edges, read at one instant of Redis, ordered by node; the nodes whose record
   * this version cannot read ({@link readEdges}) left out, and named in `unreadable`.
   */
  async snapshot(): Promise<{ readonly nodes: readonly ClusterNodeEdges[]; readonly unreadable: readonly string[] }> {
    const { records, unreadable } = await this.#records.read(readEdges);
    return { nodes: nodeEdgesOf(records), unreadable };
  }
}
