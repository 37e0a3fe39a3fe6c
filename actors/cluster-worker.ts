import { DelayedError, Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { MezanError, type MezanErrorCode } from '../src/errors';
import { describeThrown } from '../src/internal/describe-thrown';
import type { NamedTasks } from '../src/internal/named-tasks';
import { unknownTask } from '../src/internal/named-tasks';
import { retryDelay } from '../src/internal/retry-policy';
import type { Logger } from '../src/logger';
import type { RandomSource } from '../src/random';
import type { TaskHandle } from '../src/task-handle';
import { NO_RETRIES, type TaskFunction, type TaskOptions } from '../src/task-options';
import { threadTargetOf, withContextView, type ContextView } from '../src/threads/in-thread';
import { FINAL_CODES, fromQueuePriority, submissionOf, writeFailure, type ClusterJobData } from '../src/cluster/cluster-job';
import type { ResolvedClusterOptions } from '../src/cluster/cluster-options';
import { ClusterTaskContext, type ProgressReporter } from '../src/cluster/cluster-task-context';
import { dependencyFailedError, reviveOutcomes, type TravellingOutcome } from '../src/cluster/cluster-dependencies';
import { isGivenBack, type ClusterProgress, type ClusterRetrying, type ClusterStarted, type GivenBack } from '../src/cluster/cluster-task-events';
import { AttemptProgress } from './attempt-progress';
import { ClusterGates, gatedOutcomes, gatesQueueKey, withdrawnKey, withdraws } from './cluster-gates';
import { liveNodeDefines } from './cluster-membership';
import { cancelChannel, CLUSTER_PREFIX, readCancelMessage, keepClusterLimits, warnOfClusterError } from './cluster-redis';

/** What the working side of a cluster node needs of the engine it belongs to. @internal */
export interface ClusterWorkerHost {
  readonly tasks: NamedTasks;
  /** The node's logger (its cluster and node named). */
  readonly logger: Logger;
  readonly random: RandomSource;
  /** `false` once the engine's shutdown began. */
  isAccepting(): boolean;
  /** Runs a function on the engine's own executor and workers, as `engine.submit(fn, options)`. */
  runLocal(fn: TaskFunction, options: TaskOptions): TaskHandle<unknown>;
  /** Told which local task runs which job's attempt, as it begins and ends (for the cluster's wait-for graph). */
  readonly runs?: ClusterRuns;
  /**
   * Told, once, that the worker failed for good: its run loop rejected or ended unasked, it closed
   * unasked, or its connection ended (ioredis gave up reconnecting). Then {@link ClusterWorker.crash}.
   */
  readonly failed?: (error: unknown) => void;
}

/** Where a working node tells which of its local tasks runs which cluster task's attempt. @internal */
export interface ClusterRuns {
  /** Local task `taskId` began (`active`) or ended running the attempt of job `jobId`. */
  runs(taskId: string, jobId: string, active: boolean): void;
}

/**
 * What an attempt whose worker crashed returns to BullMQ: nothing, ever, so its job's end is not
 * reported (its lock lapses). One per attempt: a promise that never settles keeps what waits on it.
 */
const unreported = (): Promise<never> => new Promise<never>(() => undefined);

/**
 * Whether an attempt's function is still running, as its node tells on the main thread: one whose
 * handle settled meanwhile (cancelled or timed out, its signal ignored) lingers, keeping its slot.
 */
interface AttemptCall {
  running: boolean;
  lingering: boolean;
}

/** How long a job whose task this node does not define, but another live node does, waits before it is taken again. */
const UNKNOWN_TASK_DELAY_MS = 1_000;

/**
 * Whether `error` is, or was caused by, a refusal for a shutdown (`E_SHUTDOWN`), within a few
 * causes: this engine's own only if it is shutting down (see {@link ClusterWorker}'s `#failed`).
 */
function refusedForShutdown(error: unknown): boolean {
  try {
    for (let depth = 0; depth < 5 && error instanceof Error; depth++) {
      if (error instanceof MezanError && error.code === 'E_SHUTDOWN') return true;
      error = error.cause;
    }
  } catch {
    // The task threw a hostile value (a Proxy whose traps throw): no refusal of this engine's.
  }
  return false;
}

/**
 * The working side of a cluster node: a BullMQ worker whose jobs run through the engine's own
 * executor, workers and pools, one local attempt per BullMQ attempt, the node's worker of the
 * cluster's gates, and the connection that hears cancellations. BullMQ keeps the leases and their
 * recovery when a node dies; this class translates a job into a local task and its end back. It
 * takes only as many jobs as the engine can start: an attempt whose function outlives its handle
 * (its signal ignored) keeps its local slot, and one BullMQ place with it (`#fitConcurrency`).
 * @internal
 */
export class ClusterWorker implements ProgressReporter {
  readonly #options: ResolvedClusterOptions;
  readonly #host: ClusterWorkerHost;
  /** The cluster's queue, read by the gates and for a withdrawn dependant; where this node's limits are set. */
  readonly #queue: Queue;
  readonly #worker: Worker;
  /** The connection that hears cancellations. */
  readonly #subscriber: Redis;
  /**
   * The connection a gated dependant's withdrawal and the cluster's members are read on, and a job
   * given back wakes the idle nodes on: made when first needed.
   */
  #reader: Redis | undefined = undefined;
  /** This node's worker of the cluster's gates. */
  readonly #gates: ClusterGates;
  /** The local handles of the jobs this node runs, by job id. */
  readonly #running = new Map<string, TaskHandle<unknown>>();
  /**
   * The gated dependants whose gates this node reads, by job id, with the reason of a cancellation
   * heard meanwhile (`{ reason }`): the attempt then starts cancelled. Without it, a cancel whose
   * withdrawal the node did not read in time, heard before the attempt runs, would be lost.
   */
  readonly #opening = new Map<string, { reason: unknown } | undefined>();
  /**
   * The delays of the retries this node announced, by job (BullMQ asks its backoff with the job its
   * processor was given): one whose failure BullMQ never reports (its lock lost) goes with the job.
   */
  readonly #nextDelays = new WeakMap<object, number>();
  /** The progress of each attempt, by the job its processor was given: one write at a time, the latest value only. */
  readonly #progress = new WeakMap<Job<ClusterJobData>, AttemptProgress>();
  /** Settles once the cluster-wide limits this node was given are in Redis: its worker takes no job before. */
  readonly #limitsSet: Promise<void>;
  #stopping: Promise<void> | undefined = undefined;
  #closing: Promise<void> | undefined = undefined;
  /** Set once it was asked to stop, or failed: a close or an end of its connection is no failure then. */
  #ending = false;
  /** Set once it crashed: the attempts under way are not reported. */
  #crashed = false;
  /** How many attempts linger: their jobs ended, their functions still run, each in a local slot. */
  #lingering = 0;

  constructor(options: ResolvedClusterOptions, host: ClusterWorkerHost) {
    this.#options = options;
    this.#host = host;
    const connection = { url: options.redis };
    this.#queue = new Queue(options.name, { connection, prefix: CLUSTER_PREFIX });
    this.#queue.on('error', (error) => this.#logError('the queue', error));
    this.#limitsSet = keepClusterLimits(this.#queue, options, host.logger);
    this.#gates = new ClusterGates(options.name, {
      connection,
      queue: this.#queue,
      pollMs: options.reconcileIntervalMs,
      onError: (error) => this.#logError('the gates worker', error),
    });
    // Two parameters, not three: BullMQ would make an AbortController per job for a third, and a
    // cancellation reaches the running task through `#running` instead.
    this.#worker = new Worker(options.name, (job: Job<ClusterJobData>, token?: string) => this.#process(job, token), {
      connection,
      prefix: CLUSTER_PREFIX,
      name: options.node,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount,
      settings: { backoffStrategy: (attemptsMade, _type, _error, job) => this.#backoff(attemptsMade, job) },
      // It takes no job before the cluster's limits given to this node are in Redis.
      autorun: false,
    });
    // A stale node's completion refused by its lost lock is reported here: that is the fencing at work.
    this.#worker.on('error', (error) => this.#logError('the worker', error));
    this.#watch(this.#worker);
    this.#subscriber = new Redis(options.redis, { maxRetriesPerRequest: null, lazyConnect: false });
    this.#subscriber.on('error', (error) => this.#logError('the cancellation channel', error));
    this.#subscriber.on('message', (_channel, message) => this.#onCancelMessage(message));
    this.#subscriber.subscribe(cancelChannel(options.name)).catch((error: unknown) => this.#logError('the cancellation channel', error));
  }

  /**
   * Runs the worker once the limits are set, and tells `failed` when it stops for good unasked:
   * its run loop rejects or ends, it closes, or its connection ends. A connection that drops and
   * comes back is no failure: BullMQ's loop waits and goes on.
   */
  #watch(worker: Worker): void {
    const failed = (error: unknown): void => {
      if (this.#ending) return;
      this.#ending = true;
      this.#host.failed?.(error);
    };
    void this.#limitsSet
      .then(() => {
        if (this.#ending) return undefined;
        this.#warnIfNoTask();
        return worker.run();
      })
      .then(
        () => failed(new Error('its run loop ended unasked')),
        (error: unknown) => failed(error),
      );
    worker.on('closed', () => failed(new Error('it closed unasked')));
    worker.on('ioredis:close', () => {
      // ioredis decides in the same turn whether it reconnects: `end` if it gave up.
      void worker.backend.client.then(
        (client) => client.status === 'end' && failed(new Error('its Redis connection ended')),
        (error: unknown) => failed(error),
      );
    });
  }

  /**
   * Warns of a node that takes the cluster's tasks but defines none (by the time it joined: the
   * engine's `define` calls after its creation counted): it can run none of them.
   */
  #warnIfNoTask(): void {
    if (this.#host.tasks.size > 0) return;
    this.#host.logger.warn(
      `node "${this.#options.node}" takes the cluster's tasks (cluster.concurrency ${this.#options.concurrency}) but defines none: it gives each back while another node defines it, and fails it E_UNKNOWN_TASK otherwise; give it \`tasks\`, or cluster.concurrency 0 for a node that only submits`,
      { option: 'cluster.concurrency' },
    );
  }

  /** Resolves once this node takes tasks from the cluster. */
  async ready(): Promise<void> {
    await this.#limitsSet;
    await Promise.all([this.#queue.waitUntilReady(), this.#worker.waitUntilReady(), this.#gates.ready()]);
  }

  #onCancelMessage(message: string): void {
    const cancel = readCancelMessage(message);
    if (cancel === undefined) return;
    if (this.#opening.has(cancel.jobId)) this.#opening.set(cancel.jobId, { reason: cancel.reason });
    this.#running.get(cancel.jobId)?.cancel(cancel.reason);
  }

  /**
   * Sends a cluster task's progress to its submitter, as the job's BullMQ progress: one write at a
   * time for each attempt, the latest value only while one is in flight ({@link AttemptProgress}).
   * @internal
   */
  reportProgress(job: Job<ClusterJobData>, attempt: number, fraction: number, message: string | undefined): void {
    const progress: ClusterProgress = { fraction, ...(message === undefined ? {} : { message }), attempt, node: this.#options.node };
    let writes = this.#progress.get(job);
    if (writes === undefined) {
      writes = new AttemptProgress(async (value) => {
        try {
          await job.updateProgress(value);
        } catch (error) {
          this.#logError('reporting progress', error);
        }
      });
      this.#progress.set(job, writes);
    }
    writes.report(progress);
  }

  /**
   * `end()` (the attempt's end for BullMQ) once the progress the attempt reported is written, so
   * that its last value precedes its end in the queue's events; at once when none is being written.
   */
  #afterProgress(job: Job<ClusterJobData>, end: () => unknown): unknown {
    const written = this.#progress.get(job)?.flushed();
    if (written === undefined) return end();
    return written.then(() => (this.#crashed ? unreported() : end()));
  }

  /**
   * BullMQ's processor: one attempt of a job, run as a task of the local engine. Not `async`: a
   * job's end is one reaction to the local task's result (BullMQ awaits the processor in a `try`,
   * so what it throws at once fails the job as a rejection would).
   */
  #process(job: Job<ClusterJobData>, token: string | undefined): Promise<unknown> {
    if (this.#crashed) return unreported();
    // A draining node gives back every job, one whose task it does not define too: another node may.
    if (!this.#host.isAccepting()) return this.#giveBack(job, token);
    const fn = this.#host.tasks.find(job.name);
    if (fn === undefined) return this.#unknownTask(job, token);
    // The runs before this one: failed attempts, and runs lost with their node. Not BullMQ's
    // `attemptsStarted`, which also counts a job a draining node fetched and gave back unrun.
    const attempt = job.attemptsMade + job.stalledCounter + 1;
    // A plain job taken for the first time runs at once: a cancel before removed it (nobody held it),
    // one after reaches it running.
    if (job.data.gates === undefined && attempt === 1) return this.#runAttempt(job, token, fn, attempt, job.data.dependencies);
    const id = job.id!;
    this.#opening.set(id, undefined);
    return this.#opened(job, attempt).then(
      (outcomes) => {
        const heard = this.#opening.get(id);
        this.#opening.delete(id);
        return this.#runAttempt(job, token, fn, attempt, outcomes, heard);
      },
      (error: unknown) => {
        this.#opening.delete(id);
        throw error;
      },
    );
  }

  /**
   * A job whose task this node does not define: given back, a little later and without counting an
   * attempt, while another live node that takes tasks defines it (a rolling upgrade: this node is
   * of an older version); failed `E_UNKNOWN_TASK` when none does.
   */
  async #unknownTask(job: Job<ClusterJobData>, token: string | undefined): Promise<never> {
    const { name, node } = this.#options;
    // Unread (Redis cut off), it is given back: failing it for good on a read that failed would lose it.
    const elsewhere = await liveNodeDefines(this.#redisReader(), name, node, job.name).catch((error: unknown) => {
      this.#logError('reading the cluster’s members', error);
      return true;
    });
    if (elsewhere) return this.#giveBack(job, token, UNKNOWN_TASK_DELAY_MS);
    const error = unknownTask(job.name, this.#host.tasks.names(), `node "${node}"`);
    throw new UnrecoverableError(writeFailure(error.code, error.message, error.details));
  }

  /** Runs the attempt on the local engine (`cancelled` at once if so heard); what it ends with is the job's end. */
  #runAttempt(
    job: Job<ClusterJobData>,
    token: string | undefined,
    fn: TaskFunction,
    attempt: number,
    outcomes: readonly TravellingOutcome[] | undefined,
    cancelled?: { readonly reason: unknown },
  ): Promise<unknown> {
    const id = job.id!;
    if (this.#crashed) return unreported();
    // Given back before, its job's start is no start for its submitter until this node says it runs it.
    if (isGivenBack(job.progress)) {
      const started: ClusterStarted = { started: true, attempt, node: this.#options.node };
      job.updateProgress(started as unknown as object).catch((error: unknown) => this.#logError('reporting a start', error));
    }
    const call: AttemptCall = { running: false, lingering: false };
    const local = this.#runLocal(job, fn, attempt, outcomes, call);
    this.#running.set(id, local);
    this.#host.runs?.runs(local.id, id, true);
    // Cancelled while its gates were read: it ends `E_CANCELLED`, as if heard running.
    if (cancelled !== undefined) local.cancel(cancelled.reason);
    return local.result.then(
      (value) => {
        this.#settledWhileRunning(call);
        if (!this.#attemptEnded(id, local)) return unreported();
        return this.#afterProgress(job, () => this.#completed(value, job, attempt));
      },
      (error: unknown) => {
        this.#settledWhileRunning(call);
        if (!this.#attemptEnded(id, local)) return unreported();
        return this.#afterProgress(job, () => this.#failed(error, job, token, attempt));
      },
    );
  }

  /**
   * Submits the attempt to the local engine.
   * @throws {UnrecoverableError} when the engine refuses it: what is left to refuse is this node's (its pools)
   */
  #runLocal(
    job: Job<ClusterJobData>,
    fn: TaskFunction,
    attempt: number,
    outcomes: readonly TravellingOutcome[] | undefined,
    call: AttemptCall,
  ): TaskHandle<unknown> {
    const data = job.data;
    try {
      const dependencies = reviveOutcomes(outcomes);
      // A view, not an arrow around `fn`: a thread task stays one, so it runs on this node's threads
      // (with this context there), not on its main thread.
      const clusterView: ContextView = (ctx) => new ClusterTaskContext(ctx, job, attempt, dependencies, this);
      const viewed = withContextView(fn, clusterView);
      return this.#host.runLocal(threadTargetOf(fn) === undefined ? this.#watchedCall(viewed, call) : viewed, {
        name: data.name ?? job.name,
        // Its priority in the cluster is its priority here too (what a deadlock's victim policy weighs).
        priority: fromQueuePriority(job.priority),
        input: data.input,
        meta: data.meta,
        timeoutMs: data.timeoutMs,
        resources: data.resources,
      });
    } catch (error) {
      // The options were checked where the task was submitted; what is left is this node's: its pools.
      const refused = error instanceof MezanError ? error : new MezanError('E_INVALID_OPTION', describeThrown(error));
      throw new UnrecoverableError(writeFailure(refused.code, `${refused.message} (on node "${this.#options.node}")`));
    }
  }

  /** `fn`, which tells `call` whether it runs: called, and until what it returned settles. */
  #watchedCall(fn: TaskFunction, call: AttemptCall): TaskFunction {
    const returned = (): void => this.#returned(call);
    return (ctx) => {
      call.running = true;
      try {
        const result = fn(ctx);
        Promise.resolve(result).then(returned, returned);
        return result;
      } catch (error) {
        returned();
        throw error;
      }
    };
  }

  /**
   * The attempt's handle settled: if its function still runs (it ignored its signal), it lingers in
   * its local slot, and the worker takes one job fewer until it returns.
   */
  #settledWhileRunning(call: AttemptCall): void {
    if (!call.running || call.lingering) return;
    call.lingering = true;
    this.#lingering++;
    this.#fitConcurrency();
  }

  /** The attempt's function returned (or threw): a lingering one gives its slot back to the worker. */
  #returned(call: AttemptCall): void {
    call.running = false;
    if (!call.lingering) return;
    call.lingering = false;
    this.#lingering--;
    this.#fitConcurrency();
  }

  /**
   * Takes from BullMQ only as many jobs as the engine's slots can start: its worker frees a job's
   * place once the processor's promise settles, as the attempt's handle does, while a lingering
   * function keeps its local slot. Set before that promise settles, so that BullMQ fetches no job in
   * its place. At least 1 (BullMQ's least): a node all of whose slots linger may still take one job,
   * which waits for a slot. A raised concurrency is used once one of BullMQ's fetches or jobs ends.
   */
  #fitConcurrency(): void {
    this.#worker.concurrency = Math.max(1, this.#options.concurrency - this.#lingering);
  }

  /** `false` if the worker crashed under the attempt: its end is not to be reported. */
  #attemptEnded(id: string, local: TaskHandle<unknown>): boolean {
    if (this.#crashed) return false;
    if (this.#running.get(id) === local) {
      this.#running.delete(id);
      this.#host.runs?.runs(local.id, id, false);
    }
    return true;
  }

  /**
   * What a job that could not simply be removed needs read before it runs: whether it was withdrawn
   * (its handle cancelled), and a gated dependant's dependencies. A gated dependant is not removed
   * while a gate is read; a job taken again (a retry, or a run after its node was lost) may have
   * been cancelled while no node could hear it: its node dead, paused or cut off, or between a
   * failed attempt's end and its retry. Withdrawn, it fails `E_CANCELLED`, unrecoverably, unrun.
   */
  async #opened(job: Job<ClusterJobData>, attempt: number): Promise<readonly TravellingOutcome[] | undefined> {
    const { gates, dependencies, name = job.name } = job.data;
    if (await this.#isWithdrawn(job)) {
      const when = gates === undefined ? `before its attempt ${attempt} ran` : 'while it waited for its dependencies';
      const error = new MezanError('E_CANCELLED', `Task "${name}" was cancelled ${when}`);
      throw new UnrecoverableError(writeFailure(error.code, error.message));
    }
    return gates === undefined ? dependencies : this.#openedGates(job);
  }

  /**
   * A gated dependant's dependencies, read from its gates: it fails, unrecoverably, if one that must
   * complete did not (its submitter, if alive, has failed its handle and removed it already).
   */
  async #openedGates(job: Job<ClusterJobData>): Promise<readonly TravellingOutcome[]> {
    const { gates = [], dependencies = [], name = job.name } = job.data;
    let outcomes: TravellingOutcome[];
    try {
      outcomes = await gatedOutcomes(job, gatesQueueKey(this.#options.name), dependencies, gates);
    } catch (error) {
      if (!(error instanceof MezanError)) throw error;
      throw new UnrecoverableError(writeFailure(error.code, error.message));
    }
    const stop = gates.find(({ at, allow }) => allow === 'completed' && outcomes[at]!.status !== 'completed');
    if (stop === undefined) return outcomes;
    const { id, status } = outcomes[stop.at]!;
    const error = dependencyFailedError(name, job.id!, id, status);
    throw new UnrecoverableError(writeFailure(error.code, error.message, error.details));
  }

  /**
   * What BullMQ must hear of a completed attempt: its value as JSON carries it, which BullMQ stores.
   * One JSON cannot carry (a BigInt, a cycle, a throwing `toJSON`; a function or a symbol, of which
   * it makes nothing) fails the task for good: BullMQ would fail the completion and retry a function
   * that succeeded. What was checked is what travels: BullMQ encodes the value again a few turns
   * later, when a value of the task's could have changed.
   */
  #completed(value: unknown, job: Job<ClusterJobData>, attempt: number): unknown {
    if (value === undefined) return null;
    // What JSON always carries as itself needs no copy.
    if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw this.#unfitResult(job, attempt, describeThrown(error));
    }
    if (text !== undefined) return JSON.parse(text) as unknown;
    throw this.#unfitResult(job, attempt, `JSON makes nothing of ${typeof value === 'object' ? 'what its toJSON() returns' : `a ${typeof value}`}`);
  }

  /** The failure, for good, of an attempt that completed with a result JSON cannot carry (`why`). */
  #unfitResult(job: Job<ClusterJobData>, attempt: number, why: string): UnrecoverableError {
    const message = `Task "${job.data.name ?? job.name}" completed on node "${this.#options.node}", attempt ${attempt}, with a result JSON cannot carry: ${why}`;
    return new UnrecoverableError(writeFailure('E_TASK_FAILED', message));
  }

  /** What BullMQ must hear of a failed attempt: a retry (an error), no retry (unrecoverable), or the job given back. */
  async #failed(error: unknown, job: Job<ClusterJobData>, token: string | undefined, attempt: number): Promise<never> {
    if (!(error instanceof MezanError)) throw new Error(writeFailure('E_TASK_FAILED', describeThrown(error)));
    // The engine is shutting down under the task: it has not run to its end, so another node runs
    // it. So too when the task failed because this engine refused it something for its shutdown (a
    // child it submitted while the node drained): on another node it would not have. An E_SHUTDOWN
    // while this engine accepts is not its own (the task's, or another engine's it called): a
    // failure like any other, or every node would give it back and run it again, for ever.
    const refused = error.code === 'E_SHUTDOWN' || (error.code === 'E_TASK_FAILED' && refusedForShutdown(error.cause));
    if (refused && !this.#host.isAccepting()) return this.#giveBack(job, token);
    const where = `on node "${this.#options.node}", attempt ${attempt}`;
    const message =
      error.code === 'E_TASK_FAILED'
        ? `Task "${job.data.name ?? job.name}" failed ${where}: ${describeThrown(error.cause)}`
        : `${error.message} (${where})`;
    const reason = writeFailure(error.code, message, error.details);
    if (FINAL_CODES.has(error.code)) throw new UnrecoverableError(reason);
    // BullMQ retries it (as in its `shouldRetryJob`) after the delay computed here, which the
    // submitter hears first, for its `task.retrying`.
    if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) await this.#announceRetry(job, attempt, error.code, message);
    throw new Error(reason);
  }

  /** Computes the delay before job `job`'s next attempt, keeps it for BullMQ's backoff, and tells the submitter. */
  async #announceRetry(job: Job<ClusterJobData>, attempt: number, code: MezanErrorCode, message: string): Promise<void> {
    const delayMs = this.#retryDelay(job.attemptsMade + 1, job.data);
    this.#nextDelays.set(job, delayMs);
    const retrying: ClusterRetrying = { retrying: true, attempt, node: this.#options.node, code, message, delayMs };
    await job.updateProgress(retrying as unknown as object).catch((error: unknown) => this.#logError('reporting a retry', error));
  }

  /** BullMQ's backoff: the delay announced to the submitter, else one computed now. */
  #backoff(attemptsMade: number, job: { readonly data: unknown } | undefined): number {
    // Kept, not taken: BullMQ asks again when it tries the failure's report again.
    const kept = job === undefined ? undefined : this.#nextDelays.get(job);
    return kept ?? this.#retryDelay(attemptsMade, job?.data as ClusterJobData | undefined);
  }

  /** Puts the job back in the queue (after `delayMs`, if given), for another node, without counting an attempt. */
  async #giveBack(job: Job<ClusterJobData>, token: string | undefined, delayMs?: number): Promise<never> {
    const id = job.id!;
    // A cancel heard meanwhile, or asked before (its submitter could not remove the job this node
    // held), ends the job here: given back, another node would run a task its handle said cancelled.
    this.#opening.set(id, undefined);
    let withdrawn: boolean;
    try {
      withdrawn = (await this.#isWithdrawn(job)) || this.#opening.get(id) !== undefined;
    } finally {
      this.#opening.delete(id);
    }
    if (withdrawn) {
      const error = new MezanError('E_CANCELLED', `Task "${job.data.name ?? job.name}" was cancelled before it ran`);
      throw new UnrecoverableError(writeFailure(error.code, error.message));
    }
    // The submitter counts the job's starts for its events' attempts: this one was none.
    const givenBack: GivenBack = { givenBack: true, node: this.#options.node };
    await job.updateProgress(givenBack as unknown as object).catch((error: unknown) => this.#logError('reporting a job given back', error));
    if (delayMs === undefined) {
      await job.moveToWait(token);
      await this.#wakeIdleNodes().catch((error: unknown) => this.#logError('waking the nodes waiting for a job', error));
      throw new WaitingError();
    }
    // BullMQ's delayed set is scored in wall-clock milliseconds: `moveToDelayed` counts no attempt.
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  /**
   * Wakes the nodes waiting for a job (blocked on the queue's marker for up to BullMQ's
   * `drainDelay`, 5 s): BullMQ's `moveToWait` adds no marker for a job with a priority, and every
   * cluster job has one, so a job given back would wait for the next poll. The marker is BullMQ's
   * base marker (what its scripts add when a job is ready): BullMQ has no call that adds only it,
   * and `changePriority` would put the job behind its priority's later jobs. One that finds the
   * queue paused or at its concurrency wakes a node that takes nothing and waits again.
   */
  async #wakeIdleNodes(): Promise<void> {
    // On the connection the give-back read its withdrawn mark on: BullMQ's client offers no ZADD.
    await this.#redisReader().zadd(this.#queue.toKey('marker'), 0, '0');
  }

  /** Whether this submission of job `job` was withdrawn (its handle cancelled), read from its mark in Redis. */
  async #isWithdrawn(job: Job<ClusterJobData>): Promise<boolean> {
    const id = job.id!;
    return withdraws(await this.#redisReader().get(withdrawnKey(this.#options.name, id)), submissionOf(id, job.data));
  }

  /**
   * The connection a gated dependant's withdrawal and the cluster's members are read on, and a job
   * given back wakes the idle nodes on: made when first needed.
   */
  #redisReader(): Redis {
    this.#reader ??= new Redis(this.#options.redis, { maxRetriesPerRequest: null }).on('error', (error) => this.#logError('reading', error));
    return this.#reader;
  }

  #retryDelay(attemptsMade: number, data: ClusterJobData | undefined): number {
    const retry = data?.retry;
    if (retry === undefined) return 0;
    const policy = { ...NO_RETRIES, ...retry, maxDelayMs: retry.maxDelayMs ?? Infinity, max: attemptsMade };
    return Math.round(retryDelay(policy, attemptsMade, this.#host.random));
  }

  /**
   * Stops taking tasks: resolves once the tasks this node runs have ended and been reported (the
   * draining phase of the engine's shutdown).
   */
  stopTaking(): Promise<void> {
    this.#ending = true;
    this.#stopping ??= Promise.all([this.#worker.close(), this.#gates.close()]).then(() => undefined);
    return this.#stopping;
  }

  /**
   * After a failure ({@link ClusterWorkerHost.failed}): the attempts under way are cancelled
   * (`E_WORKER_CRASHED`) and their ends are not reported, so their jobs' locks lapse and BullMQ's
   * stalled check gives them to a node again (at least once); then every connection closes.
   * @returns settles once they have closed
   */
  crash(error: unknown): Promise<void> {
    this.#ending = true;
    this.#crashed = true;
    const node = this.#options.node;
    const reason = new MezanError('E_WORKER_CRASHED', `The cluster worker of node "${node}" failed: ${describeThrown(error)}`, {
      cause: error instanceof Error ? error : undefined,
      details: { node },
    });
    for (const [jobId, local] of this.#running) {
      this.#host.runs?.runs(local.id, jobId, false);
      local.cancel(reason);
    }
    this.#running.clear();
    // Forced: the worker does not wait for the attempts it will not report.
    this.#stopping ??= Promise.all([this.#worker.close(true), this.#gates.close()]).then(() => undefined);
    return this.close();
  }

  /** Leaves the cluster once the engine has stopped: the worker's last reports, then every connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.stopTaking().catch((error: unknown) => this.#logError('closing the worker', error));
      await Promise.allSettled([this.#queue.close(), this.#subscriber.quit(), this.#reader?.quit()]);
    })();
    return this.#closing;
  }

  /**
   * Drops every connection at once, whatever is under way: for a node whose {@link close} Redis
   * does not answer (it is cut off), so that its engine's shutdown ends.
   */
  disconnect(): void {
    this.#ending = true;
    // Forced: BullMQ's `disconnect()` first waits for a connection that may never have opened (a node Redis refused).
    for (const part of [this.#worker, this.#queue]) void part.backend.close(true).catch(() => undefined);
    this.#gates.disconnect();
    this.#subscriber.disconnect();
    this.#reader?.disconnect();
  }

  #logError(what: string, error: unknown): void {
    warnOfClusterError(this.#host.logger, what, error);
  }
}
