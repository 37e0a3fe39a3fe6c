import type { Redis } from 'ioredis';
import type { Logger } from '../src/logger';
import { expectNonEmptyString, fail } from '../src/internal/validate';

/** What one node last published of one kind: the version it gave it, and its payload as read. */
export interface NodeRecord<T = string> {
  readonly node: string;
  readonly version: number;
  readonly payload: T;
}

/**
 * Reads the payload of node `node`'s record, parsed from JSON: the value, or `undefined` for one
 * that does not fit (another version's record, or anything else written under the cluster's keys).
 * Never throws.
 */
export type RecordReader<T> = (value: unknown, node: string) => T | undefined;

/** The records read, and the nodes whose records could not be (unparsable, or not of the shape read). */
export interface ReadRecords<T> {
  readonly records: NodeRecord<T>[];
  readonly unreadable: readonly string[];
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

/**
 * The records in the flat list `readRecords` returns, ordered by node, each payload parsed from JSON
 * and read by `read`. A record that is not `<version>\n<JSON>` or that `read` refuses is left out
 * and its node named in `unreadable` (sorted): one node's record must not stop a reader of all of them.
 * @internal
 */
export function parseRecords<T>(flat: readonly string[], read: RecordReader<T>): ReadRecords<T> {
  const records: NodeRecord<T>[] = [];
  const unreadable: string[] = [];
  for (let index = 0; index < flat.length; index += 2) {
    const node = flat[index]!;
    const stored = flat[index + 1]!;
    const newline = stored.indexOf('\n');
    const version = newline > 0 && /^\d+$/.test(stored.slice(0, newline)) ? Number(stored.slice(0, newline)) : Number.NaN;
    const payload = Number.isSafeInteger(version) ? readJson(stored.slice(newline + 1), node, read) : undefined;
    if (payload === undefined) unreadable.push(node);
    else records.push({ node, version, payload });
  }
  records.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { records, unreadable: unreadable.sort() };
}

function readJson<T>(text: string, node: string, read: RecordReader<T>): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return read(value, node);
}

/**
 * Logs, once per kind of record for its whole life, that records of that kind were left out as
 * unreadable: a record of another version lives as long as its node, and is read at every scan. @internal
 */
export class UnreadableRecordsLog {
  readonly #logger: Logger | undefined;
  readonly #logged = new Set<string>();

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
  }

  /** Notes that the records of `kind` of `nodes` were left out (nothing when there is none). */
  note(cluster: string, kind: string, nodes: readonly string[]): void {
    if (nodes.length === 0 || this.#logged.has(kind)) return;
    this.#logged.add(kind);
    this.#logger?.warn(`records under mezan:${cluster}:${kind}: that this version cannot read are left out (logged once)`, { nodes: [...nodes] });
  }
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

  /** Node `node`'s record, its payload read by `read`; `undefined` when there is none, or it cannot be read. */
  async readOne<T>(node: string, read: RecordReader<T>): Promise<NodeRecord<T> | undefined> {
    expectNonEmptyString('node', node);
    const stored = await this.#redis.get(this.#prefix + node);
    return stored === null ? undefined : parseRecords([node, stored], read).records[0];
  }

  /** Every live node's record, read at one instant of Redis, ordered by node, each payload by `read` (see {@link parseRecords}). */
  async read<T>(read: RecordReader<T>): Promise<ReadRecords<T>> {
    return parseRecords((await this.#redis.eval(READ, 1, this.#nodesKey, this.#prefix)) as string[], read);
  }
}
