import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { ClusterPoolWaits } from './cluster-pool.actor';
import type { ClusterAwaits } from './detector.actor';
import type { PoolHolding } from './pool.actor';
import type { Clock } from '../src/clock';
import { parseMessageNodeId } from '../src/detection/agent-nodes';
import type { DeadlockPolicy } from '../src/detection/deadlock-policy';
import type { DeadlockReport, TaskFacts } from '../src/detection/deadlock-resolver';
import { MezanError } from '../src/errors';
import type { ResourceWaiter } from '../src/internal/waiter-queue';
import type { Logger } from '../src/logger';
import { readDeadlockCandidates, scanClusterDeadlocks, type ClusterDeadlockVictim } from '../src/cluster/cluster-deadlock-scan';
import { ClusterWaitEdges, EDGE_RECORDS, type ClusterWaitEdge } from './cluster-wait-edges';
import { MEMBER_RECORDS } from './cluster-membership';
import { UnreadableRecordsLog } from './node-records';
import { readClusterScanSnapshot } from './cluster-scan-snapshot';
import { CLUSTER_SLOTS } from '../src/cluster/cluster-slots';
import { LocalPoolWaits } from '../src/cluster/local-pool-waits';
import type { GraphPoolChangesEvent } from '../src/internal/resource-protocol';
import { warnOfClusterError } from './cluster-redis';

/** What {@link ClusterDeadlocks} is created with. @internal */
export interface ClusterDeadlocksOptions {
  /** The cluster's Redis URL: the victims' channel and the detector's queue open connections of their own. */
  readonly url: string;
  /**
   * The connection the edges are published and read on (the cluster pools'), not owned; without
   * one (a node without cluster pools) the part opens its own, which it quits as it leaves.
   */
  readonly redis?: Redis;
  readonly cluster: string;
  readonly node: string;
  /** Times the publishes and heartbeats. */
  readonly clock: Clock;
  /** How long a deadlock across nodes must stay before its victim is chosen. */
  readonly afterMs: number;
  /** How often the cluster's detector scans (a BullMQ job scheduler; one scan at a time cluster-wide). */
  readonly scanMs: number;
  /** How long a node's edges live without a heartbeat. @default 10000 */
  readonly ttlMs?: number;
  /** The longest a change of this node's waits waits before it is published. @default 50 */
  readonly publishMs?: number;
  /** How long a scan job is locked by its node without renewal: a node that dies mid-scan has its job taken over after this and a stalled check. @default 30000 */
  readonly lockDurationMs?: number;
  /** How often the node looks for a scan job whose lock lapsed. @default 30000 */
  readonly stalledIntervalMs?: number;
  /**
   * Resolves the deadlock `report` (across nodes, with its `nodes`) by task `taskId` of this node:
   * fails its pending waits with `error` and frees its leases, reporting it as the engine reports a
   * deadlock of its own (the engine's detector: `deadlock.detected`, `task.victim`, `deadlock.resolved`).
   */
  readonly victimize: (taskId: string, error: MezanError, report: DeadlockReport) => void;
  /**
   * How this node's scans choose a victim (the engine's `deadlock.policy`); the nodes of a cluster
   * are to share one, since any of them may scan. @default 'youngest'
   */
  readonly policy?: DeadlockPolicy;
  /**
   * Asks this node's executor what a victim policy weighs of its tasks (`undefined` for one that is
   * no longer unfinished); published with their edges. Without it, none is published.
   */
  readonly describe?: (taskIds: readonly string[]) => Promise<ReadonlyMap<string, TaskFacts | undefined>>;
  /** Whether `taskId` is a cluster task (a job's id) this node submitted and is waiting for: an await of it is published as one. */
  readonly isClusterTask?: (taskId: string) => boolean;
  /** The cluster task (its job's id) whose attempt this node's task `taskId` runs, if it runs one. */
  readonly jobOf?: (taskId: string) => string | undefined;
  /**
   * Told that this part failed for good: its scans' queue could not be joined (its global
   * concurrency or its job scheduler not set), so this node would never scan. Its supervisor
   * replaces it (actors/cluster-deadlocks.actor.ts). Not told once it is closing.
   */
  readonly failed?: (error: unknown) => void;
  /** The node's parts' logger (a `ClusterLogger`): the connections' errors are written once, then counted. */
  readonly logger?: Logger;
}

/** A cluster pool's part in this node's waits, as it last told it. */
interface PoolWaits {
  readonly capacity: number;
  readonly holdings: readonly PoolHolding[];
  readonly waiting: readonly ResourceWaiter[];
}

/** The victim decision the detector sends its node. */
type VictimMessage = Omit<ClusterDeadlockVictim, 'node'>;

/**
 * The key prefix of the clusters' queues of deadlock scans, each named as its cluster: a prefix of
 * their own, so that no cluster's name can spell another's scans queue. @internal
 */
export const DEADLOCKS_PREFIX = 'mezan-deadlocks';
const SCHEDULER = 'deadlock-scan';

/**
 * The victim decision in `text` as heard on a victims' channel, or why it is none (`not JSON`, `not
 * a victim decision`): anyone who can publish on the cluster's Redis can send anything there.
 */
function readVictimMessage(text: string): VictimMessage | 'not JSON' | 'not a victim decision' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not a victim decision';
  const { task, request, cycle, deadlocked, nodes, policy } = value as Record<string, unknown>;
  const isStrings = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string');
  const fits =
    typeof task === 'string' &&
    typeof request === 'string' &&
    typeof policy === 'string' &&
    isStrings(cycle) &&
    isStrings(deadlocked) &&
    isStrings(nodes);
  return fits ? { task, request, cycle, deadlocked, nodes, policy } : 'not a victim decision';
}

/**
 * Local pool `pool` of node `node` in the cluster's wait-for graph: `<pool>@<node>`, apart from the
 * cluster pools (named as in `resources`) and from the local pools of the same name on other nodes.
 * @internal
 */
export function localPoolNode(pool: string, node: string): string {
  return `${pool}@${node}`;
}

/** The Redis channel on which node `node` hears that one of its tasks is a deadlock's victim. @internal */
export function victimChannel(cluster: string, node: string): string {
  return `mezan:${cluster}:deadlock:victim:${node}`;
}

/**
 * Deadlocks across the nodes of a cluster, this node's part of it:
 *
 * - it publishes this node's waits (each task's holds and pending requests on cluster pools, and
 *   its awaits of tasks, as `<node>/<task>`, each wait with its id; an awaited cluster task by its
 *   job's id, and the attempt of one this node runs with that id, which holds one of the cluster's
 *   job slots, `@cluster-slots`; what a victim policy weighs of each task) through {@link ClusterWaitEdges}, versioned, at most every `publishMs`, and keeps
 *   them alive with a heartbeat while any task waits;
 * - it takes its turn as the cluster's detector: every node works the queue `mezan-deadlocks:<cluster>`
 *   with a concurrency of 1, and the queue's global concurrency is 1, so one scan runs at a time in
 *   the cluster (a node that dies mid-scan loses the job's lock, and another node takes it);
 *   a job scheduler adds a scan every `scanMs` ({@link scanClusterDeadlocks}: a deadlock is
 *   confirmed across two snapshots at least `afterMs` apart, then its victim chosen); the queue's
 *   global concurrency and scheduler are made again when they are found gone, looked at when its
 *   connection comes back after a close (Redis restarted empty) and every third of `ttlMs` (its
 *   data lost while the connections stayed); a node's edges this version cannot read are left
 *   out, as if it published none;
 * - the victim's node hears the decision on its channel ({@link victimChannel}), and fails that
 *   task's waits with `E_DEADLOCK` carrying the cycle, its leases freed, if that very request or
 *   await still waits (a decision heard twice, or late, does nothing; a message that is no
 *   decision is ignored, each kind logged once). The detector sends one
 *   decision per wait (a key set `NX`), sent again only once that key lapses with the deadlock still there.
 *
 * @internal
 */
export class ClusterDeadlocks implements ClusterPoolWaits, ClusterAwaits {
  readonly #options: ClusterDeadlocksOptions;
  readonly #edges: ClusterWaitEdges;
  /** Where the edges are published and the scans read: the options' connection, or its own (`#ownsRedis`). */
  readonly #redis: Redis;
  readonly #ownsRedis: boolean;
  readonly #ttlMs: number;
  readonly #pools = new Map<string, PoolWaits>();
  /** This node's pending awaits: by waiting task, the awaited tasks and the id given each wait. */
  readonly #awaits = new Map<string, Map<string, string>>();
  /** Makes the awaits' ids, unique to this node's life: a decision about an await names it and no later one. */
  readonly #awaitPrefix = `await-${randomUUID().slice(0, 8)}-`;
  #awaitCount = 0;
  /** This node's local pools in which requests wait: published (as `<pool>@<node>`) with its waits on the cluster. */
  readonly #localPools = new LocalPoolWaits(`local-${randomUUID().slice(0, 8)}-`);
  #version = 0;
  /** Whether the last publish had edges: an empty one need not be kept alive, nor sent again. */
  #publishedEdges = false;
  #publishTimer: unknown;
  #heartbeatTimer: unknown;
  #publishing: Promise<void> | undefined;
  #dirty = false;
  #closed = false;
  /** Resolves on `close()`: a question to the executor is not waited for any longer. */
  readonly #closing: Promise<undefined>;
  #resolveClosing!: (value: undefined) => void;
  #queue: Queue | undefined;
  /** Settles once this node's worker is seen and the scheduler made (or that failed). */
  #joined: Promise<void> = Promise.resolve();
  #scheduled = false;
  /** Settles once the scans' queue is looked at, and made whole again if need be (see #mend): one look at a time. */
  #mending: Promise<void> | undefined;
  /** The next look at the scans' queue (see #armMend). */
  #mendTimer: unknown;
  #worker: Worker | undefined;
  /** The connections it opened (the queue's and the worker's), quit once those are closed. */
  readonly #connections: Redis[] = [];
  /** Records a scan left out as unreadable, logged once per kind. */
  readonly #unreadable: UnreadableRecordsLog;
  /** The kinds of victim messages this node could not read, each logged once. */
  readonly #misheard = new Set<string>();
  /** Resolves once Redis confirmed the subscription to this node's victims' channel (see {@link listening}). */
  #listening: Promise<void> | undefined;

  constructor(options: ClusterDeadlocksOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#ownsRedis = options.redis === undefined;
    this.#redis =
      options.redis ?? new Redis(options.url, { maxRetriesPerRequest: null }).on('error', (error: unknown) => this.#connectionError(error));
    this.#edges = new ClusterWaitEdges({ redis: this.#redis, cluster: options.cluster, ttlMs: this.#ttlMs });
    this.#closing = new Promise((resolve) => (this.#resolveClosing = resolve));
    this.#unreadable = new UnreadableRecordsLog(options.logger);
  }

  /**
   * Resolves once Redis has confirmed, after {@link start}, this node's subscription to its victims'
   * channel: a victim decision published before would find no subscriber, and be lost. Rejects when
   * the subscription fails (its connection closed first).
   */
  listening(): Promise<void> {
    return this.#listening ?? Promise.reject(new Error('the cluster deadlocks part has not started'));
  }

  /** Subscribes to this node's victims, and joins the detector's queue. */
  start(): void {
    const { url, cluster, node, scanMs, logger } = this.#options;
    const onError = (error: unknown): void => this.#connectionError(error);
    const connect = (): Redis => {
      const connection = new Redis(url, { maxRetriesPerRequest: null }).on('error', onError);
      this.#connections.push(connection);
      return connection;
    };
    const subscriber = connect();
    subscriber.on('message', (_channel: string, message: string) => {
      // Inside ioredis's data handler a throw is uncaught, and ends the process.
      try {
        this.#heard(message);
      } catch (error) {
        logger?.error('hearing a deadlock victim decision failed', { error });
      }
    });
    this.#listening = subscriber.subscribe(victimChannel(cluster, node)).then(() => undefined);
    this.#listening.catch(onError);
    const name = cluster;
    const queueConnection = connect();
    const queue = (this.#queue = new Queue(name, { connection: queueConnection, prefix: DEADLOCKS_PREFIX }));
    queue.on('error', onError);
    // A Redis that restarted empty (no persistence) has lost the scheduler and the global
    // concurrency: nothing else would make them again until a node joins.
    let lost = false;
    queueConnection.on('close', () => (lost = true));
    queueConnection.on('ready', () => {
      if (!lost) return;
      lost = false;
      this.#lookAgain(queue);
    });
    const worker = (this.#worker = new Worker(name, () => this.scan().then(() => undefined), {
      connection: connect(),
      prefix: DEADLOCKS_PREFIX,
      // Named: its connection tells the other nodes that this one works the queue (see #leave).
      name: node,
      concurrency: 1,
      lockDuration: this.#options.lockDurationMs ?? 30_000,
      stalledInterval: this.#options.stalledIntervalMs ?? 30_000,
      // While another node scans (the global concurrency is reached), look again a scan later, not BullMQ's 30 s.
      maximumRateLimitDelay: scanMs,
    }).on('error', onError));
    // The scheduler is made once this node's worker is seen: a node that leaves meanwhile then sees it too.
    this.#joined = queue
      .setGlobalConcurrency(1)
      .then(() => worker.waitUntilReady())
      .then(() => this.#schedule(queue))
      .then(() => {
        this.#scheduled = true;
        this.#armMend(queue);
      })
      .catch((error: unknown) => {
        onError(error);
        if (!this.#closed) this.#options.failed?.(error);
      });
  }

  /** Looks at the scans' queue now (see #mend), unless a look is under way. */
  #lookAgain(queue: Queue): void {
    this.#mending ??= this.#mend(queue)
      .catch((error: unknown) => this.#connectionError(error))
      .finally(() => {
        this.#mending = undefined;
      });
  }

  /**
   * Looks at the scans' queue every third of the edges' time to live (as the membership's
   * heartbeat), while this node is in the cluster: a Redis that lost its data while the
   * connections stayed (a `FLUSHALL`, a failover behind a proxy that kept them) tells no
   * reconnection, and no scan would be scheduled again.
   */
  #armMend(queue: Queue): void {
    const { clock } = this.#options;
    if (this.#closed) return;
    this.#mendTimer = clock.setTimeout(
      () => {
        this.#mendTimer = undefined;
        this.#lookAgain(queue);
        void this.#mending?.then(() => this.#armMend(queue));
      },
      Math.max(1, Math.floor(this.#ttlMs / 3)),
    );
  }

  /**
   * Makes again the scans' queue's global concurrency of 1 and its job scheduler if Redis lost them
   * (restarted empty, or its data flushed), saying so: two reads of a hash field when they are there.
   */
  async #mend(queue: Queue): Promise<void> {
    await this.#joined;
    if (this.#closed || !this.#scheduled) return;
    const [concurrency, scheduled] = await Promise.all([queue.backend.getQueueMetaField('concurrency'), queue.backend.isJobScheduler(SCHEDULER)]);
    const missing = [...(concurrency === '1' ? [] : ['its global concurrency of 1']), ...(scheduled ? [] : ['its job scheduler'])];
    // A node that leaves meanwhile waits for this (see #leave): it may then remove the scheduler made here.
    if (missing.length === 0 || this.#closed) return;
    this.#options.logger?.warn(
      `the cluster's deadlock scans' queue had lost ${missing.join(' and ')} (Redis restarted empty, or its data was flushed?): made again`,
      { cluster: this.#options.cluster },
    );
    if (concurrency !== '1') await queue.setGlobalConcurrency(1);
    if (!scheduled) await this.#schedule(queue);
  }

  /** Makes (or keeps) the job scheduler that adds a scan every `scanMs`. */
  async #schedule(queue: Queue): Promise<void> {
    await queue.upsertJobScheduler(
      SCHEDULER,
      { every: this.#options.scanMs },
      { name: 'scan', opts: { removeOnComplete: true, removeOnFail: true } },
    );
  }

  /** How many nodes but this one work the scans' queue: their workers' connections, named after them. */
  async #otherScanners(queue: Queue): Promise<number> {
    // BullMQ names a named worker's connection `<prefix>:<queue name in base64>:w:<worker name>`:
    // the whole name, since another node's name may end as this one's (`y:w:x` and `x`).
    const own = `${DEADLOCKS_PREFIX}:${Buffer.from(queue.name).toString('base64')}:w:${this.#options.node}`;
    // Where Redis lists no clients (CLIENT LIST refused), BullMQ answers with one nameless entry: another, for all it knows.
    return (await queue.getWorkers()).filter((worker) => worker.rawname !== own).length;
  }

  /**
   * A node that leaves last removes the scans' job scheduler, which would stay in Redis otherwise.
   * Safe against a node that joins meanwhile: a node makes the scheduler only once its worker is
   * seen, so one that made it before this removal is seen after it, and the scheduler is made again
   * for it. Nodes that leave at once may each see the other and leave the scheduler in place; a
   * node killed, or cut off from Redis as it leaves, leaves it too (the next node to join keeps it).
   */
  async #leave(queue: Queue): Promise<void> {
    await this.#joined;
    await this.#mending;
    // A node that never joined, or is cut off from Redis as it leaves, does not wait to ask: the scheduler stays.
    if (!this.#scheduled || (await queue.backend.client).status !== 'ready') return;
    if ((await this.#otherScanners(queue)) > 0) return;
    await queue.removeJobScheduler(SCHEDULER);
    if ((await this.#otherScanners(queue)) > 0) await this.#schedule(queue);
  }

  /** A cluster pool's holdings and queue after a change (see {@link ClusterPoolWaits}). */
  update(pool: string, capacity: number, holdings: readonly PoolHolding[], waiting: readonly ResourceWaiter[]): void {
    const before = this.#pools.get(pool);
    if (before !== undefined && before.waiting.length === 0 && waiting.length === 0 && !this.#publishedEdges) {
      // Nothing waits here, before or now: there is nothing to publish.
      this.#pools.set(pool, { capacity, holdings, waiting });
      return;
    }
    this.#pools.set(pool, { capacity, holdings, waiting });
    this.#schedulePublish();
  }

  /**
   * A local pool's changes of one transition (see {@link ClusterAwaits}). Its waits are published
   * only with waits on the cluster (an await, a cluster pool's request): a deadlock the cluster's
   * detector is to break leaves this node by one of those; one made of local waits alone is the
   * node's own detector's.
   */
  localPoolChanged(change: GraphPoolChangesEvent): void {
    this.#localPools.apply(change);
    if (this.#publishedEdges || this.#waitsOnTheCluster()) this.#schedulePublish();
  }

  /** Whether a task of this node awaits a task, or waits for a cluster pool. */
  #waitsOnTheCluster(): boolean {
    return this.#awaits.size > 0 || [...this.#pools.values()].some((pool) => pool.waiting.length > 0);
  }

  /** A task of this node began (`active`) or ended an await of task `awaited` (see {@link ClusterAwaits}). */
  awaits(taskId: string, awaited: string, active: boolean): void {
    let awaitedByTask = this.#awaits.get(taskId);
    if (active) {
      if (awaitedByTask === undefined) this.#awaits.set(taskId, (awaitedByTask = new Map()));
      awaitedByTask.set(awaited, `${this.#awaitPrefix}${++this.#awaitCount}`);
    } else {
      if (awaitedByTask?.delete(awaited) !== true) return;
      if (awaitedByTask.size === 0) this.#awaits.delete(taskId);
    }
    this.#schedulePublish();
  }

  /**
   * One scan of the cluster's detector: reads the snapshot, the candidates of the last scan and
   * Redis's time, keeps this scan's candidates, and sends the victim of each confirmed deadlock.
   * @returns the victims decided (whether or not their decisions were already sent)
   */
  async scan(): Promise<readonly ClusterDeadlockVictim[]> {
    const { cluster, afterMs, logger } = this.#options;
    const redis = this.#redis;
    const candidatesKey = `mezan:${cluster}:deadlock:candidates`;
    const [{ nodes, slots, unreadableEdges, unreadableMembers }, [seconds, micros], stored] = await Promise.all([
      readClusterScanSnapshot(redis, cluster),
      redis.time(),
      redis.get(candidatesKey),
    ]);
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    this.#unreadable.note(cluster, EDGE_RECORDS, unreadableEdges);
    this.#unreadable.note(cluster, MEMBER_RECORDS, unreadableMembers);
    const previous = readDeadlockCandidates(stored);
    const { candidates, victims, policyError } = scanClusterDeadlocks(nodes, previous, now, afterMs, this.#options.policy, slots);
    if (policyError !== undefined)
      logger?.error('the deadlock policy failed on a deadlock across the cluster; choosing the youngest instead', { error: policyError });
    await redis.set(candidatesKey, JSON.stringify(candidates), 'PX', Math.max(afterMs, this.#ttlMs) * 10);
    await Promise.all(victims.map((victim) => this.#decide(victim)));
    return victims;
  }

  /** Sends `victim`'s node the decision, unless it was sent already for that very wait. */
  async #decide(victim: ClusterDeadlockVictim): Promise<void> {
    const { cluster, afterMs, logger } = this.#options;
    const redis = this.#redis;
    const decided = `mezan:${cluster}:deadlock:decided:${victim.node}/${victim.task}:${victim.request}`;
    const first = await redis.set(decided, '1', 'PX', Math.max(afterMs * 4, this.#ttlMs), 'NX');
    if (first !== 'OK') return;
    logger?.warn('deadlock across the cluster', { cycle: victim.cycle, deadlocked: victim.deadlocked, victim: `${victim.node}/${victim.task}` });
    const { task, request, cycle, deadlocked, nodes: spanned, policy } = victim;
    const message: VictimMessage = { task, request, cycle, deadlocked, nodes: spanned, policy };
    await redis.publish(victimChannel(cluster, victim.node), JSON.stringify(message));
  }

  /** Leaves: stops scanning and publishing, withdraws this node's edges, closes its connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#resolveClosing(undefined);
    const { clock, node } = this.#options;
    if (this.#publishTimer !== undefined) clock.clearTimeout(this.#publishTimer);
    if (this.#heartbeatTimer !== undefined) clock.clearTimeout(this.#heartbeatTimer);
    if (this.#mendTimer !== undefined) clock.clearTimeout(this.#mendTimer);
    const queue = this.#queue;
    if (queue !== undefined) {
      await this.#leave(queue).catch((error: unknown) =>
        this.#options.logger?.warn('the cluster deadlock detector could not tell whether it was the last node to scan', { error }),
      );
    }
    await Promise.allSettled([this.#publishing, this.#worker?.close(), queue?.close()]);
    await Promise.allSettled(this.#connections.map((connection) => connection.quit()));
    await this.#edges.withdraw(node).catch(() => undefined);
    if (this.#ownsRedis) await this.#redis.quit().catch(() => undefined);
  }

  /** Drops its connections at once (a node leaving a Redis that does not answer). */
  disconnect(): void {
    // Forced: BullMQ's `disconnect()` first waits for a connection that may never have opened (a
    // Redis that resets or refuses every connection), and the worker's own blocking connection would
    // reconnect for ever; closing the worker also stops its timer of lock renewals.
    void this.#worker?.close(true).catch(() => undefined);
    for (const part of [this.#worker, this.#queue]) void part?.backend.close(true).catch(() => undefined);
    for (const connection of this.#connections) connection.disconnect();
    if (this.#ownsRedis) this.#redis.disconnect();
  }

  /**
   * An error of its connections, queue or worker: written once, then counted by the node's logger,
   * as a connection that fails in a loop (a Redis that resets or refuses it) reports one per attempt.
   */
  #connectionError(error: unknown): void {
    const logger = this.#options.logger;
    if (logger !== undefined) warnOfClusterError(logger, 'the cluster deadlock detector’s Redis connection', error);
  }

  #heard(text: string): void {
    const message = readVictimMessage(text);
    if (typeof message === 'string') {
      if (this.#misheard.has(message)) return;
      this.#misheard.add(message);
      this.#options.logger?.warn(`a message on this node's deadlock victims' channel is ${message}: ignored (logged once)`, {
        channel: victimChannel(this.#options.cluster, this.#options.node),
        message: text.slice(0, 200),
      });
      return;
    }
    // Only the very request the detector saw: a wait that ended meanwhile, or a decision heard
    // again, fails nothing.
    const waiting =
      [...(this.#awaits.get(message.task)?.values() ?? [])].includes(message.request) ||
      [...this.#pools.values()].some((pool) =>
        pool.waiting.some((waiter) => waiter.requestId === message.request && waiter.taskId === message.task),
      ) ||
      this.#localPools.isWaiting(message.task, message.request);
    if (!waiting) return;
    const { node, clock } = this.#options;
    const { cycle, deadlocked, nodes, policy } = message;
    const victim = `${node}/${message.task}`;
    const error = new MezanError(
      'E_DEADLOCK',
      `Task ${message.task} of node ${node} was chosen (${policy}) to break a deadlock across the cluster: ${cycle.join(' → ')}`,
      { details: { victim, node, nodes, cycle, deadlocked, policy } },
    );
    this.#options.victimize(message.task, error, { deadlocked, cycle, victim, resolution: 'victim', policy, at: clock.now(), nodes });
  }

  #schedulePublish(): void {
    this.#dirty = true;
    if (this.#closed || this.#publishTimer !== undefined || this.#publishing !== undefined) return;
    this.#publishTimer = this.#options.clock.setTimeout(() => {
      this.#publishTimer = undefined;
      this.#publish();
    }, this.#options.publishMs ?? 50);
  }

  #currentEdges(): ClusterWaitEdge[] {
    const { node } = this.#options;
    const edges: ClusterWaitEdge[] = [];
    if (!this.#waitsOnTheCluster()) return edges;
    const pools = [...this.#pools, ...[...this.#localPools.pools()].map(([pool, waits]) => [localPoolNode(pool, node), waits] as const)];
    for (const [resource, { capacity, holdings, waiting }] of pools) {
      for (const { taskId, units } of holdings) edges.push({ kind: 'holds', task: `${node}/${taskId}`, resource, units, capacity });
      for (const { taskId, units, requestId } of waiting)
        edges.push({ kind: 'requests', task: `${node}/${taskId}`, resource, units, capacity, request: requestId });
    }
    const isClusterTask = this.#options.isClusterTask ?? (() => false);
    for (const [taskId, awaitedByTask] of this.#awaits) {
      for (const [awaited, request] of awaitedByTask) {
        // A cluster task is named by its job's id, whichever node runs it; a task of this node as its other edges name it.
        const edge = isClusterTask(awaited) ? { awaited, job: true } : { awaited: `${node}/${awaited}` };
        edges.push({ kind: 'awaits', task: `${node}/${taskId}`, ...edge, request });
      }
    }
    // A task that runs a cluster job holds one of the cluster's job slots while it waits (one that
    // does not wait will finish, and give it back: it need not be published).
    const jobOf = this.#options.jobOf;
    if (jobOf === undefined) return edges;
    for (const task of new Set(edges.map((edge) => edge.task))) {
      if (jobOf(task.slice(node.length + 1)) !== undefined) edges.push({ kind: 'holds', task, resource: CLUSTER_SLOTS, units: 1 });
    }
    return edges;
  }

  #publish(): void {
    if (this.#closed) return;
    this.#dirty = false;
    const edges = this.#currentEdges();
    if (edges.length === 0 && !this.#publishedEdges) return;
    const { clock, node, logger } = this.#options;
    // Versions only grow, across restarts of a node of the same name too: its last version may still be stored.
    this.#version = Math.max(this.#version + 1, Math.floor(clock.now()));
    this.#publishedEdges = edges.length > 0;
    const version = this.#version;
    this.#publishing = this.#withFacts(edges)
      .then((published) => this.#edges.publish(node, published, version))
      .then(
        () => undefined,
        (error: unknown) => {
          logger?.warn('publishing the wait-for edges of the cluster pools failed', { error });
          this.#dirty = true;
        },
      )
      .then(() => {
        this.#publishing = undefined;
        this.#armHeartbeat();
        if (this.#dirty) this.#schedulePublish();
      });
  }

  /** `edges` and, for each task of this node in them, what a victim policy weighs of it (a `runs` edge), as its executor tells. */
  async #withFacts(edges: ClusterWaitEdge[]): Promise<ClusterWaitEdge[]> {
    const { describe, node } = this.#options;
    if (describe === undefined) return edges;
    const taskIds = new Set<string>();
    for (const edge of edges) {
      const taskId = edge.task.slice(node.length + 1);
      // An agent's message is no task of the executor.
      if (parseMessageNodeId(taskId) === undefined) taskIds.add(taskId);
    }
    if (taskIds.size === 0) return edges;
    // A node that leaves does not wait for an executor that may have stopped.
    const facts = await Promise.race([describe([...taskIds]), this.#closing]);
    if (facts === undefined) return edges;
    const described: ClusterWaitEdge[] = [...edges];
    for (const taskId of taskIds) {
      const known = facts.get(taskId);
      if (known === undefined) continue;
      const job = this.#options.jobOf?.(taskId);
      const runs = { kind: 'runs', task: `${node}/${taskId}`, priority: known.priority, startedAt: known.dispatchedAt } as const;
      described.push(job === undefined ? runs : { ...runs, job });
    }
    return described;
  }

  #armHeartbeat(): void {
    const { clock, node } = this.#options;
    if (this.#heartbeatTimer !== undefined) clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    if (this.#closed || !this.#publishedEdges) return;
    this.#heartbeatTimer = clock.setTimeout(
      () => {
        this.#heartbeatTimer = undefined;
        void this.#edges.heartbeat(node).then(
          (alive) => {
            // Lapsed (Redis restarted, or the node stalled past the time to live): publish anew.
            if (!alive) this.#schedulePublish();
            else this.#armHeartbeat();
          },
          () => this.#schedulePublish(),
        );
      },
      Math.max(1, Math.floor(this.#ttlMs / 3)),
    );
  }
}
