import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { MezanError } from '../src/errors';
import { cancelOnAbort } from '../src/internal/cancel-on-abort';
import { describeThrown } from '../src/internal/describe-thrown';
import { fail } from '../src/internal/validate';
import type { Clock } from '../src/clock';
import type { Logger } from '../src/logger';
import { taskBehind, type TaskHandle } from '../src/task-handle';
import type { TaskOptions } from '../src/task-options';
import { readClusterSubmission, readFailure, toQueuePriority, type ClusterJobData } from '../src/cluster/cluster-job';
import type { ResolvedClusterOptions } from '../src/cluster/cluster-options';
import { ClusterTask, type ClusterTaskOwner } from '../src/cluster/cluster-task';
import {
  dependencyFailedError,
  failedDependency,
  resolveClusterDependencies,
  travellingOutcomes,
  type ClusterDependency,
} from '../src/cluster/cluster-dependencies';
import { readJobEnd } from './job-end';
import { ClusterTaskTally } from '../src/cluster/cluster-task-tally';
import type { ClusterTaskCounts } from '../src/engine-snapshots';
import { gateChildren, gateId, GATES_PREFIX, wakeGate, withdrawnKey, type GateData, type GatePlace } from './cluster-gates';
import { cancelChannel, CLUSTER_PREFIX, keepClusterLimits, whenBackAfterClose, warnOfClusterError, type CancelMessage } from './cluster-redis';
import { JobOutbox, type BulkJob } from './job-outbox';
import { ClusterTaskEvents, isGivenBack, isRetrying } from '../src/cluster/cluster-task-events';
import type { EventSink } from '../src/internal/event-sink';
import type { TerminalTaskStatus } from '../src/task-status';

/** What the submitting side of a cluster node needs of the engine it belongs to. @internal */
export interface ClusterSubmitterHost {
  /** The node's logger (its cluster and node named). */
  readonly logger: Logger;
  /** `false` once the engine's shutdown began. */
  isAccepting(): boolean;
  /** The engine's task sink: its `events$` and the monitor's timings. */
  readonly sink: EventSink;
  /** The engine clock's time, for events. */
  now(): number;
  /** The engine's clock: when a job was sent. */
  readonly clock: Clock;
  /** A cluster task submitted here settled (for `onUnhandledError`, and `onIdle` when none is left). */
  taskSettled(handle: TaskHandle<unknown>, error: MezanError | undefined, pending: number): void;
}

const NO_DEPENDENCIES: readonly ClusterDependency[] = Object.freeze([]);
/** How long finished jobs stay in Redis: a late or duplicate submission of the same id still hears how it ended. */
const KEEP_COMPLETED = Object.freeze({ age: 3_600, count: 10_000 });
const KEEP_FAILED = Object.freeze({ age: 24 * 3_600, count: 10_000 });
/** How many jobs a reconciliation reads at once. */
const RECONCILE_BATCH = 100;
/** BullMQ's backoff of a job with retries: the nodes compute its delays, as a local engine does, from the job's retry policy. */
const RETRY_BACKOFF = Object.freeze({ type: 'mezan' });

/**
 * The submitting side of a cluster node: named tasks go to the cluster's BullMQ queue, and their
 * handles settle once from the queue's events (the working side is `cluster-worker.ts`). BullMQ
 * keeps the queue, the priorities, the retries and their delays; this class translates.
 * @internal
 */
export class ClusterSubmitter implements ClusterTaskOwner {
  readonly #options: ResolvedClusterOptions;
  readonly #host: ClusterSubmitterHost;
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
  /** Tasks submitted here and not settled, by job id. */
  readonly #pending = new Map<string, ClusterTask>();
  /** Reads, now and then, the state of the jobs of handles pending long (see {@link ClusterSubmitter.#reconcile}). */
  #reconciler: unknown = undefined;
  /** The reconciliation under way, if any: one at a time. */
  #reconciling: Promise<void> | undefined = undefined;
  readonly #taskEvents: ClusterTaskEvents;
  readonly #tally = new ClusterTaskTally();
  /** The jobs of this turn's submissions, added together. */
  readonly #outbox: JobOutbox;
  /**
   * The ids of the tasks submitted here without one: a random prefix of this node's (96 bits from
   * the system's cryptographic source, never the engine's `random`, which a seed may repeat on
   * another node), then a count. A job id names the job in Redis for as long as it is kept there.
   */
  readonly #idPrefix = `${randomBytes(12).toString('base64url')}-`;
  #idCount = 0;
  /** Settles once the cluster-wide limits this node was given are in Redis (a node that works sets them from its worker). */
  readonly #limitsSet: Promise<void>;
  /** Set once the engine stopped waiting for its cluster tasks ({@link ClusterSubmitter.stopWaiting}). */
  #waitingStopped = false;
  #closing: Promise<void> | undefined = undefined;

  constructor(options: ResolvedClusterOptions, host: ClusterSubmitterHost) {
    this.#options = options;
    this.#host = host;
    this.#logger = host.logger;
    this.#connection = { url: options.redis };
    this.#queue = new Queue(options.name, { connection: this.#connection, prefix: CLUSTER_PREFIX });
    this.#queue.on('error', (error) => this.#logError('the queue', error));
    this.#outbox = new JobOutbox(this.#queue, {
      now: () => host.clock.now(),
      // Listening before the job exists: its end cannot be missed.
      listening: () => this.#listen(),
      jobOf: (record) => this.#jobOf(record),
      failed: (record, error) => this.#notSent(record, error),
    });
    this.#taskEvents = new ClusterTaskEvents(
      host.sink,
      () => host.now(),
      (jobId) => this.#readRun(jobId),
      (error) => this.#logError('publishing a task event', error),
    );
    this.#limitsSet = options.concurrency === 0 ? keepClusterLimits(this.#queue, options, this.#logger) : Promise.resolve();
    // A node that only submits listens to the queue's events from the start: its first
    // submission does not wait for that connection.
    if (options.concurrency === 0) void this.#listen().catch(() => undefined);
  }

  /** How many tasks submitted here are still unsettled. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Whether `taskId` is a cluster task this node submitted and whose end it waits for (for the cluster's wait-for graph). */
  isWaitingFor(taskId: string): boolean {
    return this.#pending.has(taskId);
  }

  /** Resolves once this node's queue is connected (a node that only submits: once it hears the queue's events, and its limits are set). */
  async ready(): Promise<void> {
    await this.#limitsSet;
    await Promise.all([this.#queue.waitUntilReady(), this.#listening]);
  }

  /**
   * Submits named task `task` to the cluster.
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option (see {@link readClusterSubmission})
   */
  submit(task: string, options: TaskOptions): TaskHandle<unknown> {
    const submission = readClusterSubmission(task, options, this.#options.node);
    const id = submission.id ?? `${this.#idPrefix}${(++this.#idCount).toString(36)}`;
    if (this.#pending.has(id)) fail('id', 'an id no unfinished task of this engine has', id);
    const dependencies =
      submission.dependsOn === undefined
        ? NO_DEPENDENCIES
        : resolveClusterDependencies(
            submission.dependsOn,
            (dependencyId) => this.#pending.get(dependencyId)?.handle,
            (handle) => this.#ownTask(handle) !== undefined,
          );
    const record = new ClusterTask(
      id,
      submission.displayName,
      submission.meta,
      this,
      submission.priority,
      dependencies.length > 0 ? 'waiting' : 'queued',
    );
    record.priority = options.priority ?? 0;
    this.#tally.submitted();
    const handle = record.handle;
    if (!this.#host.isAccepting()) {
      handle.settle(
        'rejected',
        undefined,
        new MezanError('E_SHUTDOWN', `Task "${record.name}" was submitted after shutdown began`, { details: { taskId: id } }),
      );
      return handle;
    }
    this.#pending.set(id, record);
    if (submission.signal !== undefined) record.unlisten = cancelOnAbort(submission.signal, handle);
    // Its signal had aborted already: it is cancelled, and nothing of it may follow its end.
    if (handle.isSettled) return handle;
    if (dependencies.length === 0) this.#send(record, task, submission.data, submission.attempts);
    else this.#gate(record, task, submission.data, submission.attempts, dependencies);
    return handle;
  }

  /** The cluster task behind `handle` if this node submitted it. */
  #ownTask(handle: TaskHandle<unknown>): ClusterTask | undefined {
    const task = taskBehind(handle);
    return task instanceof ClusterTask && task.owner === this ? task : undefined;
  }

  /**
   * Sends the dependant with its dependencies: with their outcomes if they have all ended, and
   * otherwise as a BullMQ flow whose children are gates, one per dependency not ended yet
   * (`cluster-gates.ts`), so that its wait lives in Redis and outlives this node. It fails
   * `E_DEPENDENCY_FAILED` as soon as one that must complete did not, as a local engine does (its
   * job removed with its gates); a node that takes it after its submitter is gone checks the same.
   */
  #gate(record: ClusterTask, task: string, data: ClusterJobData, attempts: number, dependencies: readonly ClusterDependency[]): void {
    if (this.#stopIfFailed(record, dependencies)) return;
    const waitingFor = dependencies.filter(({ handle }) => !handle.isSettled);
    if (waitingFor.length === 0) {
      this.#mark(record, 'queued');
      this.#send(record, task, { ...data, dependencies: travellingOutcomes(dependencies) }, attempts);
      return;
    }
    const places: Array<GatePlace & GateData> = [];
    dependencies.forEach(({ handle, allow }, at) => {
      if (!handle.isSettled) places.push({ at, gate: gateId(record.id, at), allow, job: handle.id, name: handle.name });
    });
    const gates = places.map(({ at, gate, allow }) => ({ at, gate, allow }));
    const ended = travellingOutcomes(dependencies.filter(({ handle }) => handle.isSettled));
    record.gated = true;
    const flow = this.#addFlow(record, task, { ...data, dependencies: ended, gates }, attempts, places, waitingFor);
    void flow.catch((error: unknown) => this.#notSent(record, error)).then(() => record.sendingOver());
    for (const place of places) {
      const dependency = this.#ownTask(dependencies[place.at]!.handle)!;
      dependency.whenSettled(() => {
        // Its handle settled because this engine stopped waiting: the dependency goes on, and so does the gate.
        if (this.#waitingStopped) return;
        if (this.#stopIfFailed(record, dependencies)) void this.#queue.remove(record.id).catch(() => 0);
        // A flow that could not be added failed the handle already (`record.added`).
        else if (!record.handle.isSettled)
          void flow.then(
            () => this.#wakeGate(place.gate),
            () => undefined,
          );
      });
    }
  }

  /** Fails the dependant if a dependency that must complete did not; `true` if it did. */
  #stopIfFailed(record: ClusterTask, dependencies: readonly ClusterDependency[]): boolean {
    if (record.handle.isSettled) return false;
    const failed = failedDependency(dependencies);
    if (failed === undefined) return false;
    record.withdrawn = true;
    record.handle.settle('failed', undefined, dependencyFailedError(record.name, record.id, failed.id, failed.status));
    return true;
  }

  /** Adds a gated dependant's flow, once its dependencies' jobs are in Redis for its gates to read. */
  async #addFlow(
    record: ClusterTask,
    task: string,
    data: ClusterJobData,
    attempts: number,
    places: ReadonlyArray<GatePlace & GateData>,
    dependencies: readonly ClusterDependency[],
  ): Promise<void> {
    await this.#listen();
    await Promise.all(dependencies.map(({ handle }) => this.#ownTask(handle)!.whenAdded()));
    if (record.handle.isSettled) return;
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
    if (record.withdrawn) await this.#queue.remove(record.id).catch(() => 0);
  }

  /** Wakes a gated dependant's gate: its dependency ended (heard here). */
  async #wakeGate(gate: string): Promise<void> {
    if (this.#closing !== undefined) return;
    this.#gatesQueue ??= new Queue(this.#options.name, { connection: this.#connection, prefix: GATES_PREFIX }).on('error', (error) =>
      this.#logError('the gates queue', error),
    );
    await wakeGate(this.#gatesQueue, gate).catch((error: unknown) => this.#logError('waking a gate', error));
  }

  /** A job that could not be added fails its handle. */
  #notSent(record: ClusterTask, error: unknown): void {
    const reason = new MezanError(
      'E_TASK_FAILED',
      `Task "${record.name}" could not be sent to cluster "${this.#options.name}": ${describeThrown(error)}`,
      { cause: error, details: { taskId: record.id } },
    );
    record.handle.settle('failed', undefined, reason);
  }

  /** Sends the task's job, with the others submitted in the same turn; a failure to add it fails the handle. */
  #send(record: ClusterTask, task: string, data: ClusterJobData, attempts: number): void {
    this.#taskEvents.queued(record);
    record.outgoing = { task, data, attempts };
    this.#outbox.push(record);
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
    const events = (this.#events = new QueueEvents(this.#options.name, { connection: this.#connection, prefix: CLUSTER_PREFIX }));
    events.on('error', (error) => this.#logError('the queue events', error));
    events.on('completed', ({ jobId, returnvalue }) => this.#pending.get(jobId)?.handle.settle('completed', returnvalue, undefined));
    events.on('failed', ({ jobId, failedReason }) => {
      const record = this.#pending.get(jobId);
      if (record === undefined) return;
      const { status, error } = readFailure(failedReason, jobId);
      record.handle.settle(status, undefined, error);
    });
    events.on('active', ({ jobId }) => {
      const record = this.#pending.get(jobId);
      if (record === undefined) return;
      this.#mark(record, 'running');
      record.starts++;
      this.#taskEvents.started(record);
    });
    events.on('progress', ({ jobId, data }) => {
      const record = this.#pending.get(jobId);
      if (record === undefined) return;
      if (isGivenBack(data)) record.givenBack++;
      else if (isRetrying(data)) this.#taskEvents.retrying(record, data);
      else this.#taskEvents.progress(record, data);
    });
    events.on('waiting', ({ jobId }) => {
      const record = this.#pending.get(jobId);
      if (record === undefined) return;
      // A gated dependant whose gates all opened: it joins the queue, as a local one does then.
      if (record.handle.status === 'waiting') this.#taskEvents.queued(record);
      this.#mark(record, 'queued');
      // Back in the queue after a retry's delay (BullMQ's `waiting`, from `delayed` or at once).
      if (record.retryPending) {
        record.retryPending = false;
        this.#taskEvents.queued(record, record.starts - record.givenBack + 1);
      }
    });
    events.on('delayed', ({ jobId }) => {
      const record = this.#pending.get(jobId);
      if (record !== undefined) this.#mark(record, 'queued');
    });
    // The id was taken by a job already there (a submission again of the same id): it may have ended.
    events.on('duplicated', ({ jobId }) => void this.#settleIfFinished(jobId, 'reading a duplicated job'));
    events.on('removed', ({ jobId }) => {
      const record = this.#pending.get(jobId);
      record?.handle.settle(
        'cancelled',
        undefined,
        new MezanError('E_CANCELLED', `Task "${record.name}" was removed from the queue`, { details: { taskId: jobId } }),
      );
    });
    // Cut off from Redis, the events connection may miss a job's end (the stream is trimmed to its
    // last 10,000 events): once it is back, what ended meanwhile is read from the jobs themselves.
    whenBackAfterClose(events.backend, () => void this.#reconcile(0));
    const interval = this.#options.reconcileIntervalMs;
    this.#armReconciler(interval);
    this.#listening = events.waitUntilReady();
    return this.#listening;
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
    const sentBefore = this.#host.clock.now() - minAgeMs;
    const due = [...this.#pending.values()].filter((record) => record.sentAt !== undefined && record.sentAt <= sentBefore);
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

  /** Reads job `jobId`'s state and settles its handle if the job has ended (or is gone, once it was sent). */
  async #settleIfFinished(jobId: string, what: string): Promise<void> {
    if (!this.#pending.has(jobId)) return;
    try {
      const end = await readJobEnd(this.#queue, jobId);
      const record = this.#pending.get(jobId);
      if (record === undefined) return;
      switch (end.state) {
        case 'completed':
          record.handle.settle('completed', end.value, undefined);
          return;
        case 'failed': {
          const { status, error } = readFailure(end.reason, jobId);
          record.handle.settle(status, undefined, error);
          return;
        }
        case 'running':
          this.#mark(record, 'running');
          return;
        case 'queued':
          this.#mark(record, 'queued');
          return;
        case 'waiting':
          // A gated dependant still waits for its dependencies: `task.queued` comes when it is queued.
          return;
        case 'gone':
          // Not yet added, it is not gone; once added, it was removed (a `removed` event this node
          // missed) or its record expired after it ended: either way it will not be heard of again.
          if (record.sentAt === undefined) return;
          record.handle.settle(
            'failed',
            undefined,
            new MezanError(
              'E_TASK_FAILED',
              `Task "${record.name}" is no longer in cluster "${this.#options.name}" (removed, or its record expired after it ended) and this engine did not hear how it ended`,
              { details: { taskId: jobId } },
            ),
          );
      }
    } catch (error) {
      this.#logError(what, error);
    }
  }

  /** @internal */
  cancelTask(task: ClusterTask, reason: unknown): boolean {
    const error = new MezanError('E_CANCELLED', `Task "${task.name}" was cancelled`, {
      cause: reason instanceof Error ? reason : undefined,
      details: { taskId: task.id, reason },
    });
    task.withdrawn = true;
    task.handle.settle('cancelled', undefined, error);
    // Not on its way to Redis yet: it never will be (the outbox and the flow leave a settled task out).
    if (task.sentAt === undefined && !task.adding) return true;
    const withdrawal = this.#withdraw(task, reason).finally(() => this.#withdrawals.delete(withdrawal));
    this.#withdrawals.add(withdrawal);
    return true;
  }

  /**
   * Takes a cancelled task's job out of the cluster. Queued, it is removed; running, its node hears
   * it on the cancel channel and aborts the attempt (a job locked by a worker is not removed). It is
   * marked withdrawn in Redis first: BullMQ does not remove a gated dependant while one of its gates
   * is being read, and the node that takes it then fails it `E_CANCELLED`, unrun; a gate that finds
   * a dependency's job gone tells its dependant it was cancelled.
   */
  async #withdraw(task: ClusterTask, reason: unknown): Promise<void> {
    await this.#redisForMessages()
      .set(withdrawnKey(this.#options.name, task.id), '1', 'EX', KEEP_FAILED.age)
      .catch(() => 0);
    await this.#queue.remove(task.id).catch(() => 0);
    if (this.#disconnected) return;
    await this.#publish({ jobId: task.id, reason: reason === undefined ? undefined : describeThrown(reason) });
  }

  /** A pending task's status, as heard: on a node, or in the queue (for a dependant, once its dependencies allow it). */
  #mark(record: ClusterTask, status: 'queued' | 'running'): void {
    if (record.handle.isSettled) return;
    record.handle.markStatus(status);
    this.#tally.running(record, status === 'running');
  }

  /** The cluster tasks submitted here, counted: for `engine.progress()`, `engine.stats()` and the shutdown report. */
  counts(): ClusterTaskCounts {
    return this.#tally.counts();
  }

  /** @internal */
  taskSettled(task: ClusterTask, error: MezanError | undefined): void {
    this.#pending.delete(task.id);
    task.unlisten?.();
    const status = task.handle.status as TerminalTaskStatus;
    this.#tally.settled(task, status);
    this.#taskEvents.settled(task, status, error);
    task.notifySettled();
    this.#host.taskSettled(task.handle, error, this.#pending.size);
  }

  /** @internal */
  reprioritize(task: ClusterTask, priority: number): void {
    task.priority = priority;
    task.queuePriority = toQueuePriority(priority);
    void (async () => {
      const job = await this.#queue.getJob(task.id);
      await job?.changePriority({ priority: toQueuePriority(priority) });
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

  /** Which node took job `jobId` last, and how many times it was taken. */
  async #readRun(jobId: string): Promise<{ readonly node: string | undefined; readonly started: number } | undefined> {
    const job = await this.#queue.getJob(jobId);
    if (job === undefined) return undefined;
    return { node: job.processedBy, started: job.attemptsStarted };
  }

  /**
   * Stops waiting for the tasks submitted here (the grace period of the engine's shutdown is over):
   * their handles settle `E_SHUTDOWN`, and their jobs go on in the cluster.
   */
  stopWaiting(): void {
    this.#waitingStopped = true;
    for (const record of [...this.#pending.values()]) {
      // A task whose job's add is under way goes on as a sent one: a node may take it as soon as the
      // add lands, before a removal could. One not yet on its way is never sent.
      const sent = record.sentAt !== undefined || record.adding;
      if (!sent) record.withdrawn = true;
      const fate = sent ? 'the task itself goes on in the cluster' : 'it had not reached the cluster, and will not run';
      record.handle.settle(
        'cancelled',
        undefined,
        new MezanError('E_SHUTDOWN', `The engine stopped waiting for cluster task "${record.name}" when its shutdown's grace period ended; ${fate}`, {
          details: { taskId: record.id },
        }),
      );
    }
  }

  /**
   * Leaves the cluster once the engine has stopped: every connection closes. Tasks submitted here
   * are settled by then (drained, or given up at the grace's end).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopReconciler();
      this.stopWaiting();
      // A cancellation on its way still reaches the node running the task, before the connections quit.
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
    this.#disconnected = true;
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
