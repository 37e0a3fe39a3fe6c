import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Clock } from '../src/clock';
import { readClusterMember, type ClusterMember } from '../src/cluster/cluster-view';
import { NodeRecords, type RecordReader } from './node-records';
import type { Logger } from '../src/logger';
import { mendClusterLimits, warnOfClusterError, type ClusterLimits } from './cluster-redis';

/** What a node says of itself at each heartbeat: all of its record but who and where it is. @internal */
export type ClusterMemberDescription = Omit<ClusterMember, 'node' | 'host' | 'pid' | 'startedAt' | 'heartbeatAt'>;

/** What {@link ClusterMembership} is created with. @internal */
export interface ClusterMembershipInput {
  /** The cluster's Redis URL: the membership opens a connection of its own, which the cluster's view reads on too. */
  readonly url: string;
  readonly cluster: string;
  readonly node: string;
  /** Times the heartbeats; stamps the record. */
  readonly clock: Clock;
  /** The node's record now (its load, its phase, the tasks it defines). */
  readonly describe: () => ClusterMemberDescription;
  /** Told once, after the node's first record is written, of the other live nodes' records (unreadable ones left out). */
  readonly onJoined?: (others: readonly ClusterMember[]) => void;
  /** How long the record lives without a heartbeat: a node that dies vanishes this long after its last one. @default 10000 */
  readonly ttlMs?: number;
  /** The node's parts' logger (a `ClusterLogger`): the connection's errors, and the record's failed writes, are written once, then counted. */
  readonly logger?: Logger;
  /** Told, once, that its connection ended for good (ioredis gave up reconnecting) before it left: it writes its record no more. */
  readonly failed?: (error: unknown) => void;
  /**
   * The cluster-wide limits the node was given: each heartbeat sets again those Redis lost while
   * the connections stayed (see {@link mendClusterLimits}); a reconnection has the node's queue set them.
   */
  readonly limits?: ClusterLimits;
}

/** The kind of the membership records: keys `mezan:<cluster>:members:*`. @internal */
export const MEMBER_RECORDS = 'members';
/** How long a member's record lives without a heartbeat, by default. @internal */
export const MEMBER_TTL_MS = 10_000;

/**
 * A membership record's payload as node `node`'s: `undefined` for one this version cannot read, or
 * that names another node. @internal
 */
export const readMemberRecord: RecordReader<ClusterMember> = (value, node) => {
  const member = readClusterMember(value);
  return member?.node === node ? member : undefined;
};

/**
 * Whether a live node of cluster `cluster` other than `node`, running and taking tasks, defines task
 * `task` (its membership record lists it).
 * @throws what the Redis connection throws
 * @internal
 */
export async function liveNodeDefines(redis: Redis, cluster: string, node: string, task: string): Promise<boolean> {
  const { records } = await new NodeRecords({ redis, cluster, kind: MEMBER_RECORDS, ttlMs: MEMBER_TTL_MS }).read(readMemberRecord);
  return records.some(
    ({ payload }) => payload.node !== node && payload.phase === 'running' && payload.concurrency > 0 && payload.tasks.includes(task),
  );
}

/**
 * A node's membership record in Redis (`mezan:<cluster>:members:node:<node>`, see
 * {@link ClusterMember}): written when the node joins, written again with its load at each
 * heartbeat (three per time to live) and when its engine's phase changes, removed when it leaves.
 * A node that dies stops writing it, and it vanishes `ttlMs` later. It is how the other nodes'
 * dashboards know which nodes are alive, what they run and with which workers: the record is
 * read on demand ({@link ClusterViewReader}), never sent per task.
 *
 * @internal
 */
export class ClusterMembership {
  readonly #input: ClusterMembershipInput;
  readonly #ttlMs: number;
  readonly #redis: Redis;
  readonly #records: NodeRecords;
  readonly #startedAt: number;
  #version = 0;
  #timer: unknown;
  #writing: Promise<void> | undefined;
  /** A write asked for while one was under way: done once it ends. */
  #again = false;
  #joined = false;
  /** Whether a write of the record landed. */
  #written = false;
  /** Whether a record of this node's name by another engine was seen (and warned about). */
  #sharedName = false;
  #left: Promise<void> | undefined;
  /** Set once its connection ended for good before it left: a successor is to write the record. */
  #failed = false;

  constructor(input: ClusterMembershipInput) {
    this.#input = input;
    this.#ttlMs = input.ttlMs ?? MEMBER_TTL_MS;
    // A connection that fails in a loop (a Redis that resets or refuses it) reports an error per attempt.
    this.#redis = new Redis(input.url, { maxRetriesPerRequest: null }).on('error', (error: unknown) => {
      if (input.logger !== undefined) warnOfClusterError(input.logger, 'the cluster membership’s Redis connection', error);
    });
    this.#redis.on('end', () => {
      if (this.#left !== undefined) return;
      this.#failed = true;
      input.failed?.(new Error('its Redis connection ended'));
    });
    this.#records = new NodeRecords({ redis: this.#redis, cluster: input.cluster, kind: MEMBER_RECORDS, ttlMs: this.#ttlMs });
    this.#startedAt = input.clock.now();
  }

  /** The membership's connection, for reading the cluster's view; it quits when the node leaves. */
  get connection(): Redis {
    return this.#redis;
  }

  /** Whether the node has left (or is leaving) the cluster. */
  get hasLeft(): boolean {
    return this.#left !== undefined;
  }

  /** Whether its connection ended for good before it left (ioredis gave up, or it was closed from outside): nothing can be read on it. */
  get hasFailed(): boolean {
    return this.#failed;
  }

  /** Writes the record now (the node joined, or its phase changed), and heartbeats from then on. */
  refresh(): void {
    if (this.#left !== undefined) return;
    if (this.#writing !== undefined) {
      this.#again = true;
      return;
    }
    const { clock, node, logger } = this.#input;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    let payload: string;
    let engineId: string;
    try {
      const record = this.#record();
      engineId = record.engineId;
      payload = JSON.stringify(record);
    } catch (error) {
      logger?.warn('describing this node for its cluster membership failed', { error });
      this.#arm();
      return;
    }
    // Read before the write, on the same connection: what another engine wrote since this one's last write.
    const stored = this.#written && !this.#sharedName ? this.#records.readOne(node, readMemberRecord).catch(() => undefined) : undefined;
    // Not at the first write: the node's parts are setting the limits as it joins.
    const heartbeat = this.#written;
    // Versions only grow, across restarts of a node of the same name too: its last record may still be stored.
    this.#version = Math.max(this.#version + 1, Math.floor(clock.now()));
    this.#writing = this.#records
      .publish(node, payload, this.#version)
      .then(
        async () => {
          this.#written = true;
          this.#checkName(engineId, await stored);
          await this.#tellJoined();
          if (heartbeat) await this.#mendLimits();
        },
        // Failing at every heartbeat (a Redis that refuses the write), it is counted as the connection's errors are.
        (error: unknown) => logger !== undefined && warnOfClusterError(logger, 'writing the cluster membership record', error),
      )
      .then(() => {
        this.#writing = undefined;
        if (this.#again) {
          this.#again = false;
          this.refresh();
        } else this.#arm();
      });
  }

  /** Leaves the cluster: no more heartbeats, the record removed, the connection closed. Idempotent. */
  leave(): Promise<void> {
    this.#left ??= (async () => {
      if (this.#timer !== undefined) this.#input.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      // The write under way lands first: on one connection, the removal comes after it.
      await this.#writing;
      await this.#records.withdraw(this.#input.node).catch(() => undefined);
      await this.#redis.quit().catch(() => undefined);
    })();
    return this.#left;
  }

  /** Drops its connection at once (a node leaving a Redis that does not answer): its record lapses. */
  disconnect(): void {
    if (this.#timer !== undefined) this.#input.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#left ??= Promise.resolve();
    // One that ended already is left alone: ioredis would wait for it to close again, on a timer.
    if (this.#redis.status !== 'end') this.#redis.disconnect();
  }

  /**
   * Warns, once, when the record this node's last write replaced was another engine's: two live
   * engines share the node's name, and overwrite each other's record. Not at the first write, which
   * may replace the record of a node of that name that died a moment ago.
   */
  #checkName(engineId: string, stored: { readonly payload: ClusterMember } | undefined): void {
    if (stored === undefined || stored.payload.engineId === engineId) return;
    this.#sharedName = true;
    const { cluster, node, logger } = this.#input;
    const { host, pid, engineId: other } = stored.payload;
    logger?.warn(
      `another engine (${other}, pid ${pid} on ${host}) runs as node "${node}" of cluster "${cluster}": give each engine its own cluster.node, or they share one membership record and their tasks' ids collide in the detection of deadlocks across nodes`,
      { node, engineId, otherEngineId: other },
    );
  }

  /** Once, after the first record landed: the other members as they are now. */
  async #tellJoined(): Promise<void> {
    const { onJoined, node, logger } = this.#input;
    if (this.#joined || onJoined === undefined) return;
    this.#joined = true;
    try {
      // A record this version cannot read is left out.
      const { records } = await this.#records.read(readMemberRecord);
      onJoined(records.filter((record) => record.node !== node).map((record) => record.payload));
    } catch (error) {
      logger?.warn('reading the other members of the cluster failed', { error });
    }
  }

  /** Sets again the limits the node was given that Redis lost (one read when it has them); a failure is logged (once, then counted), and looked at again next time. */
  async #mendLimits(): Promise<void> {
    const { limits, cluster, logger } = this.#input;
    if (limits === undefined) return;
    await mendClusterLimits(this.#redis, cluster, limits, logger).catch(
      (error: unknown) => logger !== undefined && warnOfClusterError(logger, 'setting again the cluster’s limits Redis lost', error),
    );
  }

  #arm(): void {
    if (this.#left !== undefined) return;
    this.#timer = this.#input.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.refresh();
      },
      Math.max(1, Math.floor(this.#ttlMs / 3)),
    );
  }

  #record(): ClusterMember {
    const { node, clock, describe } = this.#input;
    return { node, host: hostname(), pid: process.pid, startedAt: this.#startedAt, heartbeatAt: clock.now(), ...describe() };
  }
}
