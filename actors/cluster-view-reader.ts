import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ClusterWaitEdges, EDGE_RECORDS } from './cluster-wait-edges';
import { assembleClusterView, MAX_RUNNING_SHOWN, type ActiveJob, type ClusterView, type PoolPermit } from '../src/cluster/cluster-view';
import type { Logger } from '../src/logger';
import { NodeRecords, UnreadableRecordsLog } from './node-records';
import { MEMBER_RECORDS, MEMBER_TTL_MS, readMemberRecord } from './cluster-membership';
import { DEFAULT_LEASE_TTL_MS, readPermit } from './cluster-leases';
import { clusterPoolKey } from './cluster-pool.actor';
import { CLUSTER_PREFIX, warnOfClusterError } from './cluster-redis';

/**
 * Reads the cluster's view from Redis, on demand: one query, answered from what the nodes keep
 * there anyway, never a message per task. The live nodes come from their membership records
 * ({@link ClusterMembership}), the cluster tasks each runs from BullMQ's active jobs (the worker
 * that took a job is named after its node), each cluster pool's holders from its permits (the
 * sorted set of `redis-semaphore`, whose members name their node and task), its waiters and the
 * cross-node wait-for edges from what the nodes publish for detection
 * ({@link ClusterWaitEdges}). Each of those is read at one instant of Redis; the view as a whole is
 * a few reads apart.
 *
 * @internal
 */
export class ClusterViewReader {
  readonly #redis: Redis;
  readonly #cluster: string;
  readonly #node: string;
  readonly #members: NodeRecords;
  readonly #edges: ClusterWaitEdges;
  readonly #unreadable: UnreadableRecordsLog;
  readonly #logger: Logger | undefined;
  #queue: Queue | undefined;

  /**
   * @param redis - the connection to read on (the membership's); not owned
   * @param cluster - the cluster's name
   * @param node - the node that reads (marked `self` in the view)
   * @param logger - told, once per kind, of records left out of the view as unreadable, and of
   *   the errors of its queue's connection (through {@link warnOfClusterError}, which counts repeats)
   */
  constructor(redis: Redis, cluster: string, node: string, logger?: Logger) {
    this.#redis = redis;
    this.#logger = logger;
    this.#unreadable = new UnreadableRecordsLog(logger);
    this.#cluster = cluster;
    this.#node = node;
    // The time to live matters to writers only: a reader's records are written by the nodes.
    this.#members = new NodeRecords({ redis, cluster, kind: MEMBER_RECORDS, ttlMs: MEMBER_TTL_MS });
    this.#edges = new ClusterWaitEdges({ redis, cluster });
  }

  /**
   * The cluster now. A node's record this version cannot read (of another version, or anything else
   * written under the cluster's keys) is left out: its node is not listed, its edges not shown.
   * Rejects with Redis's error when a read fails.
   */
  async read(): Promise<ClusterView> {
    const [memberRecords, { nodes: edges, unreadable }, [seconds, micros], active] = await Promise.all([
      this.#members.read(readMemberRecord),
      this.#edges.snapshot(),
      this.#redis.time(),
      this.#activeJobs(),
    ]);
    const members = memberRecords.records.map(({ payload }) => payload);
    this.#unreadable.note(this.#cluster, MEMBER_RECORDS, memberRecords.unreadable);
    this.#unreadable.note(this.#cluster, EDGE_RECORDS, unreadable);
    const poolNames = [...new Set(members.flatMap((member) => member.pools.map((pool) => pool.name)))];
    const permits = new Map<string, PoolPermit[]>(await Promise.all(poolNames.map(async (name) => [name, await this.#permits(name)] as const)));
    return assembleClusterView({
      cluster: this.#cluster,
      node: this.#node,
      at: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
      members,
      edges,
      permits,
      active,
      defaultLeaseMs: DEFAULT_LEASE_TTL_MS,
    });
  }

  /** Stops reading: closes its handle on the queue (not the connection, which it does not own). */
  async close(): Promise<void> {
    await this.#queue?.close();
  }

  /** Drops its handle on the queue at once (a node leaving a Redis that does not answer). */
  disconnect(): void {
    void this.#queue?.disconnect().catch(() => undefined);
  }

  async #permits(pool: string): Promise<PoolPermit[]> {
    const flat = await this.#redis.zrange(clusterPoolKey(this.#cluster, pool), 0, -1, 'WITHSCORES');
    const permits: PoolPermit[] = [];
    for (let index = 0; index < flat.length; index += 2) permits.push({ holder: readPermit(flat[index]!), refreshedAt: Number(flat[index + 1]) });
    return permits;
  }

  async #activeJobs(): Promise<ActiveJob[]> {
    // Without a listener, BullMQ writes each error of the connection it shares to the console.
    this.#queue ??= new Queue(this.#cluster, { connection: this.#redis, prefix: CLUSTER_PREFIX }).on('error', (error) => {
      if (this.#logger !== undefined) warnOfClusterError(this.#logger, 'the cluster view', error);
    });
    const jobs = await this.#queue.getActive(0, MAX_RUNNING_SHOWN - 1);
    return jobs
      .filter((job) => job !== undefined && job.id !== undefined)
      .map((job) => ({
        id: job.id!,
        name: job.name,
        node: job.processedBy,
        attempt: job.attemptsMade + job.stalledCounter + 1,
        startedAt: job.processedOn,
      }));
  }
}
