import type { Redis } from 'ioredis';
import { expectNonEmptyString, fail } from '../src/internal/validate';

/** What one node last published of one kind: the version it gave it, and its payload as stored. */
export interface NodeRecord {
  readonly node: string;
  readonly version: number;
  readonly payload: string;
}

/** Options of {@link NodeRecords}. */
export interface NodeRecordsOptions {
  /** The connection its scripts run on; it does not own it (nor close it). */
  readonly redis: Redis;
  /** The cluster's name. */
  readonly cluster: string;
  /** What the records are: keys are `mezan:<cluster>:<kind>:*`. */
  readonly kind: string;
  /** How long a node's record lives without a publish or a heartbeat. */
  readonly ttlMs: number;
}

// Stores a node's record unless what is stored is as new or newer: a publish that arrives late
// (after a newer one) must not bring back what no longer holds. Keeps the node in the set of
// nodes `read` looks at. KEYS: the node's key, the set of nodes. ARGV: node, version, payload, ttl.
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

/**
 * A Lua function `readRecords(nodesKey, prefix)` that returns every live node's record of one kind
 * (node, stored value, node, stored value...; see {@link parseRecords}), the nodes whose key expired
 * taken out of the set: for scripts that read records together with other keys, at one instant of
 * Redis. @internal
 */
export const READ_RECORDS_LUA = `
local function readRecords(nodesKey, prefix)
  local out = {}
  for _, node in ipairs(redis.call('SMEMBERS', nodesKey)) do
    local stored = redis.call('GET', prefix .. node)
    if stored then
      table.insert(out, node)
      table.insert(out, stored)
    else
      redis.call('SREM', nodesKey, node)
    end
  end
  return out
end
`;

// Reads every live node's record in one script, so the read is one instant of Redis: no publish
// lands between two nodes' reads. KEYS: the set of nodes. ARGV: the prefix of a node's key.
const READ = `${READ_RECORDS_LUA}
return readRecords(KEYS[1], ARGV[1])
`;

/** The keys of the records of kind `kind` in cluster `cluster`: the set of nodes, and the prefix of a node's key. @internal */
export function recordKeys(cluster: string, kind: string): { readonly nodesKey: string; readonly prefix: string } {
  return { nodesKey: `mezan:${cluster}:${kind}:nodes`, prefix: `mezan:${cluster}:${kind}:node:` };
}

/** The records in the flat list `readRecords` returns, ordered by node. @internal */
export function parseRecords(flat: readonly string[]): NodeRecord[] {
  const records: NodeRecord[] = [];
  for (let index = 0; index < flat.length; index += 2) {
    const stored = flat[index + 1]!;
    const newline = stored.indexOf('\n');
    records.push({ node: flat[index]!, version: Number(stored.slice(0, newline)), payload: stored.slice(newline + 1) });
  }
  records.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return records;
}

/**
 * One record per node of a cluster in Redis, of one kind (the wait-for edges, the membership): each
 * node publishes its own (`publish`), versioned, and keeps it alive (`heartbeat`, or another
 * publish); a node that dies stops doing so, and its record vanishes after `ttlMs`; a node that
 * leaves withdraws it at once. `read` gives every live record at one instant of Redis.
 *
 * @internal
 */
export class NodeRecords {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #nodesKey: string;
  readonly #ttlMs: number;

  /** @throws {MezanError} `E_INVALID_OPTION` for a cluster name that is not a non-empty string, or a `ttlMs` that is not a positive integer */
  constructor(options: NodeRecordsOptions) {
    expectNonEmptyString('cluster', options.cluster);
    const { ttlMs } = options;
    if (!Number.isInteger(ttlMs) || ttlMs < 1) fail('ttlMs', 'a positive integer of milliseconds', ttlMs);
    this.#redis = options.redis;
    const { nodesKey, prefix } = recordKeys(options.cluster, options.kind);
    this.#prefix = prefix;
    this.#nodesKey = nodesKey;
    this.#ttlMs = ttlMs;
  }

  /**
   * Replaces node `node`'s record with `payload`, as version `version`, and re-arms its time to live.
   * @returns `false` when a version as new or newer is stored (this publish came late, and is dropped)
   * @throws {MezanError} `E_INVALID_OPTION` for an invalid node or version (rejects)
   */
  async publish(node: string, payload: string, version: number): Promise<boolean> {
    expectNonEmptyString('node', node);
    if (!Number.isSafeInteger(version) || version < 0) fail('version', 'a non-negative integer', version);
    const stored = await this.#redis.eval(PUBLISH, 2, this.#prefix + node, this.#nodesKey, node, String(version), payload, String(this.#ttlMs));
    return stored === 1;
  }

  /**
   * Keeps node `node`'s record alive for another `ttlMs`.
   * @returns `false` when it had already vanished (the node must publish again)
   */
  async heartbeat(node: string): Promise<boolean> {
    expectNonEmptyString('node', node);
    return (await this.#redis.pexpire(this.#prefix + node, this.#ttlMs)) === 1;
  }

  /** Removes node `node`'s record at once (a node that leaves the cluster cleanly). */
  async withdraw(node: string): Promise<void> {
    expectNonEmptyString('node', node);
    await this.#redis
      .multi()
      .del(this.#prefix + node)
      .srem(this.#nodesKey, node)
      .exec();
  }

  /** Every live node's record, read at one instant of Redis, ordered by node. */
  async read(): Promise<NodeRecord[]> {
    return parseRecords((await this.#redis.eval(READ, 1, this.#nodesKey, this.#prefix)) as string[]);
  }
}
