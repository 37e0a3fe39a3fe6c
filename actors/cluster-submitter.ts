import { FlowProducer, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { describeThrown } from '../src/internal/describe-thrown';
import type { Clock } from '../src/clock';
import type { Logger } from '../src/logger';
import type { ResolvedClusterOptions } from '../src/cluster/cluster-options';
import type { ClusterTask } from '../src/cluster/cluster-task';
import { readJobEnd } from './job-end';
import { travellingOutcome } from '../src/cluster/cluster-dependencies';
import { gateChildren, GATES_PREFIX, wakeGate, withdrawnKey, withoutEndedGates } from './cluster-gates';
import { cancelChannel, CLUSTER_PREFIX, keepClusterLimits, whenBackAfterClose, warnOfClusterError, type CancelMessage } from './cluster-redis';
import { JobOutbox, type BulkJob } from './job-outbox';
import type { ClusterSubmissionLink, ClusterSubmissions, HeardJobEvent } from './cluster-submissions';

/** What the submitting side of a cluster node needs of the engine it belongs to. @internal */
export interface ClusterSubmitterHost {
  /** The node's submissions, which outlive this submitter: it sends them, and tells them what it hears and reads of their jobs. */
  readonly submissions: ClusterSubmissions;
  /** The node's logger (its cluster and node named). */
  readonly logger: Logger;
  /** The engine's clock: when a job was sent. */
  readonly clock: Clock;
  /**
   * Told, once, that the submitter failed for good: its queue events' run loop rejected or ended
   * unasked, or the connection of its queue or its queue events ended (ioredis gave up
   * reconnecting). Then {@link ClusterSubmitter.crash}.
   */
  readonly failed?: (error: unknown) => void;
  /**
   * Set for a submitter made only to carry out what the handles asked of the cluster while none was
   * linked, when the engine stopped before a successor came: it neither listens nor sets limits.
   */
  readonly lastRequestsOnly?: boolean;
}

/** How long finished jobs stay in Redis: a late or duplicate submission of the same id still hears how it ended. */
const KEEP_COMPLETED = Object.freeze({ age: 3_600, count: 10_000 });
const KEEP_FAILED = Object.freeze({ age: 24 * 3_600, count: 10_000 });
/** How many jobs a reconciliation reads at once. */
const RECONCILE_BATCH = 100;
/** BullMQ's backoff of a job with retries: the nodes compute its delays, as a local engine does, from the job's retry policy. */
const RETRY_BACKOFF = Object.freeze({ type: 'mezan' });

/**
 * The submitting side of a cluster node's connections: named tasks go to the cluster's BullMQ
 * queue, and what the queue's events say of their jobs goes to the node's
 * {@link ClusterSubmissions}, which settle the handles (the working side is `cluster-worker.ts`).
 * BullMQ keeps the queue, the priorities, the retries and their delays; this class translates. It
 * runs in the `cluster-submitter` actor, and a successor replaces it when it fails: the successor
 * reads the queue's events on from the last one heard, and reconciles every pending handle.
 * @internal
 */
export class ClusterSubmitter implements ClusterSubmissionLink {
  readonly #options: ResolvedClusterOptions;
  readonly #host: ClusterSubmitterHost;
  readonly #submissions: ClusterSubmissions;
  readonly #logger: Logger;
  readonly #connection: { readonly url: string };
  readonly #queue: Queue;
  /** Made with the first submission: a node that only works never reads the queue's events. */
  #events: QueueEvents | undefined = undefined;
  #listening: Promise<unknown> | undefined = undefined;
  #publisher: Redis | undefined = undefined;
  /** The cancelled tasks being taken out of the cluster: closing waits for them (their connection is made on the way). */
  readonly #withdrawals = new Set<Promise<void>>();
  /** Set by {@link ClusterSubmitter.disconnect}: nothing more is sent, and no connection made. */
  #disconnected = false;
  /** Made with the first dependant gated in Redis: adds its flow, and wakes its gates. */
  #flows: FlowProducer | undefined = undefined;
  #gatesQueue: Queue | undefined = undefined;
  /** Gated dependants whose flows this submitter is to add, and has not begun to: given back if it fails. */
  readonly #flowsWaiting = new Set<ClusterTask>();
  /** Reads, now and then, the state of the jobs of handles pending long (see {@link ClusterSubmitter.#reconcile}). */
  #reconciler: unknown = undefined;
  /** The reconciliation under way, if any: one at a time. */
  #reconciling: Promise<void> | undefined = undefined;
  /** The jobs of this turn's submissions, added together. */
  readonly #outbox: JobOutbox;
  /** Settles once the cluster-wide limits this node was given are in Redis (a node that works sets them from its worker). */
  readonly #limitsSet: Promise<void>;
  #closing: Promise<void> | undefined = undefined;
  /** Set once it leaves, or failed: a close or an end of its connections is no failure then. */
  #ending = false;
  /** Set once it failed: what it was to send and has not added goes to its successor. */
  #crashed = false;

  constructor(options: ResolvedClusterOptions, host: ClusterSubmitterHost) {
    this.#options = options;
    this.#host = host;
    this.#submissions = host.submissions;
    this.#logger = host.logger;
    this.#connection = { url: options.redis };
    this.#queue = new Queue(options.name, { connection: this.#connection, prefix: CLUSTER_PREFIX });
    this.#queue.on('error', (error) => this.#logError('the queue', error));
    this.#watchConnection(this.#queue.backend);
    this.#outbox = new JobOutbox(this.#queue, {
      now: () => host.clock.now(),
      // Listening before the job exists: its end cannot be missed.
      listening: () => this.#listen(),
      jobOf: (record) => this.#jobOf(record),
      failed: (record, error) => this.#notAdded(record, error),
    });
    const listens = host.lastRequestsOnly !== true;
    this.#limitsSet = listens && options.concurrency === 0 ? keepClusterLimits(this.#queue, options, this.#logger) : Promise.resolve();
    // A node that only submits listens to the queue's events from the start: its first submission
    // does not wait for that connection. A successor listens at once for the handles pending.
    if (listens && (options.concurrency === 0 || this.#submissions.pending > 0)) void this.#listen().catch(() => undefined);
  }

  /** Resolves once this node's queue is connected (a node that only submits: once it hears the queue's events, and its limits are set). */
  async ready(): Promise<void> {
    await this.#limitsSet;
    await Promise.all([this.#queue.waitUntilReady(), this.#listening]);
  }

  /** Sends task `record`'s job: with the others submitted in the same turn, or as its flow for a gated dependant. */
  send(record: ClusterTask): void {
    if (record.outgoing?.flow === undefined) {
      this.#outbox.push(record);
      return;
    }
    this.#flowsWaiting.add(record);
    void this.#addFlow(record).then(
      () => this.#sendingOver(record),
      (error: unknown) => {
        this.#flowsWaiting.delete(record);
        this.#notAdded(record, error);
        this.#sendingOver(record);
      },
    );
  }

  /** Its job is in Redis, or never will be: unless it went back to the submissions, to be sent again. */
  #sendingOver(record: ClusterTask): void {
    if (record.sentAt !== undefined || record.handle.isSettled) record.sendingOver();
  }

  /** A job that could not be added fails its handle; unless this submitter failed: then its successor sends it. */
  #notAdded(record: ClusterTask, error: unknown): void {
    if (this.#crashed) this.#submissions.giveBack([record]);
    else this.#submissions.notSent(record, error);
  }

  /** Adds a gated dependant's flow, once its dependencies' jobs are in Redis for its gates to read. */
  async #addFlow(record: ClusterTask): Promise<void> {
    const { task, attempts, flow } = record.outgoing!;
    await this.#listen();
    await Promise.all(flow!.after.map((dependency) => dependency.whenAdded()));
    // Failed meanwhile, it gave the dependant back to the submissions.
    if (record.handle.isSettled || this.#crashed) return;
    this.#flowsWaiting.delete(record);
    // Those ended meanwhile travel with it: one cancelled before it was sent has no job for a gate to read.
    const { data, places } = withoutEndedGates(record.outgoing!.data, flow!.places, (index) => {
      const { handle } = flow!.after[index]!;
      return handle.isSettled ? travellingOutcome(handle) : undefined;
    });
    this.#flows ??= new FlowProducer({ connection: this.#connection, prefix: CLUSTER_PREFIX }).on('error', (error) =>
      this.#logError('the flows', error),
    );
    record.adding = true;
    await this.#flows.add({
      name: task,
      queueName: this.#options.name,
      prefix: CLUSTER_PREFIX,
      data,
      opts: this.#jobOptions(record, attempts),
      children: gateChildren(this.#options.name, places),
    });
    record.sentAt = this.#host.clock.now();
    record.outgoing = undefined;
    if (record.withdrawn) await this.#queue.remove(record.id).catch(() => 0);
  }

  /** Wakes a gated dependant's gate: its dependency ended (heard here). */
  wakeGate(gate: string): void {
    if (this.#closing !== undefined) return;
    this.#gatesQueue ??= new Queue(this.#options.name, { connection: this.#connection, prefix: GATES_PREFIX }).on('error', (error) =>
      this.#logError('the gates queue', error),
    );
    void wakeGate(this.#gatesQueue, gate).catch((error: unknown) => this.#logError('waking a gate', error));
  }

  /** Removes task `record`'s job if it is still queued. */
  remove(record: ClusterTask): void {
    void this.#queue.remove(record.id).catch(() => 0);
  }

  /** The job of a task about to be sent: its options are read now, its priority included. */
  #jobOf(record: ClusterTask): BulkJob {
    const { task, data, attempts } = record.outgoing!;
    return { name: task, data, opts: this.#jobOptions(record, attempts) };
  }

  #jobOptions(record: ClusterTask, attempts: number): JobsOptions {
    const opts: JobsOptions = { jobId: record.id, priority: record.queuePriority, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED };
    // Without retries BullMQ's default (no `attempts`: one) is left out of the job's options, stored with each job.
    if (attempts > 1) {
      opts.attempts = attempts;
      opts.backoff = RETRY_BACKOFF;
    }
    return opts;
  }

  #listen(): Promise<unknown> {
    if (this.#listening !== undefined) return this.#listening;
    const submissions = this.#submissions;
    // A successor reads on from the last event its predecessor heard: what came meanwhile is heard too.
    const events = (this.#events = new QueueEvents(this.#options.name, {
      connection: this.#connection,
      prefix: CLUSTER_PREFIX,
      autorun: false,
      lastEventId: submissions.lastEventId,
    }));
    // Once it failed, what it may still hear is its successor's to hear: a start told twice would count twice.
    const hear = (event: HeardJobEvent, id: string): void => {
      if (!this.#crashed) submissions.hear(event, id);
    };
    events.on('error', (error) => this.#logError('the queue events', error));
    events.on('completed', ({ jobId, returnvalue }, id) => hear({ type: 'completed', jobId, value: returnvalue }, id));
    events.on('failed', ({ jobId, failedReason }, id) => hear({ type: 'failed', jobId, reason: failedReason }, id));
    events.on('progress', ({ jobId, data }, id) => hear({ type: 'progress', jobId, data }, id));
    events.on('active', ({ jobId }, id) => hear({ type: 'active', jobId }, id));
    events.on('waiting', ({ jobId }, id) => hear({ type: 'waiting', jobId }, id));
    events.on('delayed', ({ jobId }, id) => hear({ type: 'delayed', jobId }, id));
    events.on('removed', ({ jobId }, id) => hear({ type: 'removed', jobId }, id));
    // The id was taken by a job already there (a submission again of the same id): it may have ended.
    events.on('duplicated', ({ jobId }, id) => {
      if (this.#crashed) return;
      submissions.lastEventId = id;
      void this.#settleIfFinished(jobId, 'reading a duplicated job');
    });
    // Cut off from Redis, the events connection may miss a job's end (the stream is trimmed to its
    // last 10,000 events): once it is back, what ended meanwhile is read from the jobs themselves.
    whenBackAfterClose(events.backend, () => void this.#reconcile(0));
    this.#watchConnection(events.backend);
    void events.run().then(
      () => this.#failed(new Error('its queue events’ run loop ended unasked')),
      (error: unknown) => this.#failed(error),
    );
    this.#armReconciler(this.#options.reconcileIntervalMs);
    // A successor reads what its handles' jobs became while no submitter heard of them.
    this.#listening = events.waitUntilReady().then(() => void this.#reconcile(0));
    return this.#listening;
  }

  /** Tells the host, once, that this submitter failed for good unasked. */
  #failed(error: unknown): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#host.failed?.(error);
  }

  /** Fails this submitter when the connection of `backend` ends for good (ioredis gave up reconnecting); one that drops and comes back is no failure. */
  #watchConnection(backend: Queue['backend']): void {
    backend.on('close', () => {
      // ioredis decides in the same turn whether it reconnects: `end` if it gave up.
      void backend.client.then(
        (client) => client.status === 'end' && this.#failed(new Error('its Redis connection ended')),
        (error: unknown) => this.#failed(error),
      );
    });
  }

  /**
   * Reconciles every `interval` ms until the node closes. A host timer, unreferenced: it must not
   * keep a process alive that has nothing else to do (a node whose close Redis never answers).
   */
  #armReconciler(interval: number): void {
    const timer = setInterval(() => void this.#reconcile(interval), interval);
    timer.unref();
    this.#reconciler = timer;
  }

  #stopReconciler(): void {
    clearInterval(this.#reconciler as ReturnType<typeof setInterval> | undefined);
    this.#reconciler = undefined;
  }

  /**
   * Settles the pending handles whose jobs ended without this node hearing of it, from the jobs'
   * state in Redis: those sent at least `minAgeMs` ago (0: all). Exactly once still: a handle
   * settles once, whether its end is read here or heard from the events.
   */
  #reconcile(minAgeMs: number): Promise<void> {
    if (this.#reconciling !== undefined) return this.#reconciling;
    const due = this.#submissions.sentBefore(minAgeMs);
    if (due.length === 0) return Promise.resolve();
    this.#reconciling = (async () => {
      for (let from = 0; from < due.length; from += RECONCILE_BATCH) {
        await Promise.all(due.slice(from, from + RECONCILE_BATCH).map((record) => this.#settleIfFinished(record.id, 'reconciling a job')));
      }
    })().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  /** Reads job `jobId`'s state and tells the submissions (its handle settles if the job has ended, or is gone once it was sent). */
  async #settleIfFinished(jobId: string, what: string): Promise<void> {
    if (this.#submissions.task(jobId) === undefined) return;
    try {
      this.#submissions.read(jobId, await readJobEnd(this.#queue, jobId));
    } catch (error) {
      this.#logError(what, error);
    }
  }

  /**
   * Takes a cancelled task's job out of the cluster. Queued, it is removed; running, its node hears
   * it on the cancel channel and aborts the attempt (a job locked by a worker is not removed). It is
   * marked withdrawn in Redis first: BullMQ does not remove a gated dependant while one of its gates
   * is being read, and the node that takes it then fails it `E_CANCELLED`, unrun; a gate that finds
   * a dependency's job gone tells its dependant it was cancelled. The mark holds the submission's
   * token: a later submission of the same id is not withdrawn by it.
   */
  withdraw(task: ClusterTask, reason: unknown): void {
    const withdrawal = this.#withdraw(task, reason).finally(() => this.#withdrawals.delete(withdrawal));
    this.#withdrawals.add(withdrawal);
  }

  async #withdraw(task: ClusterTask, reason: unknown): Promise<void> {
    await this.#redisForMessages()
      .set(withdrawnKey(this.#options.name, task.id), task.submission, 'EX', KEEP_FAILED.age)
      .catch(() => 0);
    await this.#queue.remove(task.id).catch(() => 0);
    if (this.#disconnected) return;
    await this.#publish({ jobId: task.id, reason: reason === undefined ? undefined : describeThrown(reason) });
  }

  /** Gives task `task`'s job its priority now. */
  changePriority(task: ClusterTask): void {
    void (async () => {
      const job = await this.#queue.getJob(task.id);
      await job?.changePriority({ priority: task.queuePriority });
    })().catch((error: unknown) => this.#logError('changing a priority', error));
  }

  async #publish(message: CancelMessage): Promise<void> {
    try {
      await this.#redisForMessages().publish(cancelChannel(this.#options.name), JSON.stringify(message));
    } catch (error) {
      this.#logError('publishing a cancellation', error);
    }
  }

  /** The connection this node publishes cancellations and writes withdrawals on: made when first needed. */
  #redisForMessages(): Redis {
    this.#publisher ??= new Redis(this.#options.redis, { maxRetriesPerRequest: null }).on('error', (error) => this.#logError('publishing', error));
    return this.#publisher;
  }

  /**
   * Which node took job `jobId` last, and how many times it was taken: the job's `processedBy` and
   * `attemptsStarted` (fields `pb` and `ats` of its hash), read alone. Read for every start while
   * the task events are built: the whole job (`getJob`: every field, its data and options parsed)
   * cost more to read and to parse. `timestamp`, which every job has, tells a job gone.
   */
  async readRun(jobId: string): Promise<{ readonly node: string | undefined; readonly started: number } | undefined> {
    const client = await this.#queue.backend.client;
    const [node, started, timestamp] = await client.hmget(this.#queue.toKey(jobId), 'pb', 'ats', 'timestamp');
    if (timestamp === null) return undefined;
    return { node: node ?? undefined, started: started === null ? 0 : Number.parseInt(started, 10) };
  }

  /**
   * This submitter failed: it sends nothing more, what it was to send and has not begun to add goes
   * back to the submissions for its successor (an add under way that fails goes back too), and its
   * connections close.
   */
  crash(): Promise<void> {
    this.#crashed = true;
    this.#ending = true;
    this.#submissions.unlink(this);
    const unsent = [...this.#outbox.takeBack(), ...this.#flowsWaiting];
    this.#flowsWaiting.clear();
    this.#submissions.giveBack(unsent);
    return this.close();
  }

  /**
   * Leaves the cluster: every connection closes, once the cancellations on their way have reached
   * the node running their tasks. At the engine's shutdown its tasks are settled by then (drained,
   * or given up at the grace's end).
   */
  close(): Promise<void> {
    this.#ending = true;
    this.#submissions.unlink(this);
    this.#closing ??= (async () => {
      this.#stopReconciler();
      await Promise.allSettled(this.#withdrawals);
      await Promise.allSettled([
        this.#events?.close(),
        this.#queue.close(),
        this.#flows?.close(),
        this.#gatesQueue?.close(),
        this.#publisher?.quit(),
      ]);
    })();
    return this.#closing;
  }

  /**
   * Drops every connection at once, whatever is under way: for a node whose {@link close} Redis
   * does not answer (it is cut off), so that its engine's shutdown ends.
   */
  disconnect(): void {
    this.#ending = true;
    this.#disconnected = true;
    this.#submissions.unlink(this);
    this.#stopReconciler();
    for (const part of [this.#queue, this.#flows, this.#gatesQueue]) void part?.disconnect().catch(() => undefined);
    // Its connection closed, not disconnected: BullMQ's disconnect waits for a connection that was never made (a node refused by Redis).
    void this.#events?.backend.close(true).catch(() => undefined);
    this.#publisher?.disconnect();
  }

  #logError(what: string, error: unknown): void {
    warnOfClusterError(this.#logger, what, error);
  }
}
