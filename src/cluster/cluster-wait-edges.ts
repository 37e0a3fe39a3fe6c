import type { Redis } from 'ioredis';
import { expectNonEmptyString, fail } from '../internal/validate';

/**
 * One edge of a node's part of the cluster's wait-for graph: a task `holds` or `requests` units of
 * a cluster pool, or `awaits` a task (of any node). Task ids are the cluster's (stable across nodes);
 * a pool is named as in `resources`.
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
  | { readonly kind: 'awaits'; readonly task: string; readonly awaited: string };

/** What one node last published: its edges, the version it gave them. */
export interface ClusterNodeEdges {
  readonly node: string;
  readonly version: number;
  readonly edges: readonly ClusterWaitEdge[];
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

// Stores a node's edges unless what is stored is as new or newer: a publish that arrives late
// (after a newer one) must not bring back edges that no longer exist. Keeps the node in the set of
// nodes the snapshot reads. KEYS: the node's key, the set of nodes. ARGV: node, version, payload, ttl.
const PUBLISH = `
local stored = redis.call('GET', KEYS[1])
if stored then
  local version = tonumber(string.match(stored, '^(%d+)\\n'))
  if version and version >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2] .. '\\n' .. ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`;

// Reads every live node's edges in one script, so the snapshot is one instant of Redis: no publish
// lands between two nodes' reads. Nodes whose key expired leave the set. KEYS: the set of nodes.
// ARGV: the prefix of a node's key. Returns node, stored value, node, stored value...
const SNAPSHOT = `
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local stored = redis.call('GET', ARGV[1] .. node)
  if stored then
    table.insert(out, node)
    table.insert(out, stored)
  else
    redis.call('SREM', KEYS[1], node)
  end
end
return out
`;

function expectEdge(edge: unknown, index: number): asserts edge is ClusterWaitEdge {
  const option = `edges[${index}]`;
  if (typeof edge !== 'object' || edge === null) fail(option, 'an edge { kind, task, ... }', edge);
  const { kind, task } = edge as Record<string, unknown>;
  expectNonEmptyString(`${option}.task`, task);
  if (kind === 'awaits') {
    expectNonEmptyString(`${option}.awaited`, (edge as Record<string, unknown>).awaited);
  } else if (kind === 'holds' || kind === 'requests') {
    const { resource, units, capacity, request } = edge as Record<string, unknown>;
    expectNonEmptyString(`${option}.resource`, resource);
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) fail(`${option}.units`, 'a positive integer', units);
    if (capacity !== undefined && (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1))
      fail(`${option}.capacity`, 'a positive integer', capacity);
    if (request !== undefined) expectNonEmptyString(`${option}.request`, request);
  } else {
    fail(`${option}.kind`, "'holds', 'requests' or 'awaits'", kind);
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
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #nodesKey: string;
  readonly #ttlMs: number;

  /** @throws {MezanError} `E_INVALID_OPTION` for a cluster name that is not a non-empty string, or a `ttlMs` that is not a positive integer */
  constructor(options: ClusterWaitEdgesOptions) {
    expectNonEmptyString('cluster', options.cluster);
    const ttlMs = options.ttlMs ?? 10_000;
    if (!Number.isInteger(ttlMs) || ttlMs < 1) fail('ttlMs', 'a positive integer of milliseconds', ttlMs);
    this.#redis = options.redis;
    this.#prefix = `mezan:${options.cluster}:edges:node:`;
    this.#nodesKey = `mezan:${options.cluster}:edges:nodes`;
    this.#ttlMs = ttlMs;
  }

  /**
   * Replaces node `node`'s edges with `edges`, as version `version`, and re-arms their time to live.
   * @returns `false` when a version as new or newer is stored (this publish came late, and is dropped)
   * @throws {MezanError} `E_INVALID_OPTION` for an invalid node, version or edge (rejects, as an asynchronous method does)
   */
  async publish(node: string, edges: readonly ClusterWaitEdge[], version: number): Promise<boolean> {
    expectNonEmptyString('node', node);
    if (!Number.isSafeInteger(version) || version < 0) fail('version', 'a non-negative integer', version);
    if (!Array.isArray(edges)) fail('edges', 'an array of edges', edges);
    edges.forEach(expectEdge);
    const stored = await this.#redis.eval(
      PUBLISH,
      2,
      this.#prefix + node,
      this.#nodesKey,
      node,
      String(version),
      JSON.stringify(edges),
      String(this.#ttlMs),
    );
    return stored === 1;
  }

  /**
   * Keeps node `node`'s edges alive for another `ttlMs`.
   * @returns `false` when they had already vanished (the node must publish again)
   */
  async heartbeat(node: string): Promise<boolean> {
    expectNonEmptyString('node', node);
    return (await this.#redis.pexpire(this.#prefix + node, this.#ttlMs)) === 1;
  }

  /** Removes node `node`'s edges at once (a node that leaves the cluster cleanly). */
  async withdraw(node: string): Promise<void> {
    expectNonEmptyString('node', node);
    await this.#redis
      .multi()
      .del(this.#prefix + node)
      .srem(this.#nodesKey, node)
      .exec();
  }

  /** Every live node's edges, read at one instant of Redis, ordered by node. */
  async snapshot(): Promise<{ readonly nodes: readonly ClusterNodeEdges[] }> {
    const flat = (await this.#redis.eval(SNAPSHOT, 1, this.#nodesKey, this.#prefix)) as string[];
    const nodes: ClusterNodeEdges[] = [];
    for (let index = 0; index < flat.length; index += 2) {
      const stored = flat[index + 1]!;
      const newline = stored.indexOf('\n');
      nodes.push({
        node: flat[index]!,
        version: Number(stored.slice(0, newline)),
        edges: JSON.parse(stored.slice(newline + 1)) as ClusterWaitEdge[],
      });
    }
    nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return { nodes };
  }
}
