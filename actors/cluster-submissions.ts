import { randomBytes } from 'node:crypto';
import { MezanError } from '../src/errors';
import { cancelOnAbort } from '../src/internal/cancel-on-abort';
import { describeThrown } from '../src/internal/describe-thrown';
import type { EventSink } from '../src/internal/event-sink';
import { fail } from '../src/internal/validate';
import type { Clock } from '../src/clock';
import type { Logger } from '../src/logger';
import { taskBehind, type TaskHandle } from '../src/task-handle';
import type { TaskOptions } from '../src/task-options';
import type { TerminalTaskStatus } from '../src/task-status';
import type { ClusterTaskCounts } from '../src/engine-snapshots';
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
import { ClusterTaskTally } from '../src/cluster/cluster-task-tally';
import { ClusterTaskEvents, isGivenBack, isRetrying, isStarted, type ReadRun } from '../src/cluster/cluster-task-events';
import type { JobEnd } from './job-end';
import { warnOfClusterError } from './cluster-redis';
import { gateId, type GateData, type GatePlace } from './cluster-gates';

/** What the cluster tasks a node submits need of the engine it belongs to. @internal */
export interface ClusterSubmissionsHost {
  /** The node's logger (its cluster and node named). */
  readonly logger: Logger;
  /** `false` once the engine's shutdown began. */
  isAccepting(): boolean;
  /** The engine's task sink: its `events$` and the monitor's timings. */
  readonly sink: EventSink;
  /** The engine's clock: events' times, and the age of a handle to reconcile. */
  readonly clock: Clock;
  /** A cluster task submitted here settled (for `onUnhandledError`, and `onIdle` when none is left). */
  taskSettled(handle: TaskHandle<unknown>, error: MezanError | undefined, pending: number): void;
}

/**
 * The submitting side's connections as the node's submissions use them: the `cluster-submitter`
 * actor's (`cluster-submitter.ts`), while one runs.
 * @internal
 */
export interface ClusterSubmissionLink {
  /** Sends task `task`'s job (`task.outgoing`): a plain job, or a gated dependant's flow. */
  send(task: ClusterTask): void;
  /** Wakes a gated dependant's gate `gate`: its dependency ended. */
  wakeGate(gate: string): void;
  /** Takes cancelled task `task`'s job out of the cluster (removed if queued, its node told if running). */
  withdraw(task: ClusterTask, reason: unknown): void;
  /** Removes task `task`'s job, if it is still queued (a dependant whose dependency failed). */
  remove(task: ClusterTask): void;
  /** Gives task `task`'s job its priority now (`task.queuePriority`). */
  changePriority(task: ClusterTask): void;
  /** Which node took job `jobId` last, and how many times it was taken. */
  readRun(jobId: string): ReturnType<ReadRun>;
}

/** What the queue's events said of a job, as a submitter heard them. @internal */
export type HeardJobEvent =
  | { readonly type: 'completed'; readonly jobId: string; readonly value: unknown }
  | { readonly type: 'failed'; readonly jobId: string; readonly reason: string }
  | { readonly type: 'progress'; readonly jobId: string; readonly data: unknown }
  | { readonly type: 'active' | 'waiting' | 'delayed' | 'removed'; readonly jobId: string };

const NO_DEPENDENCIES: readonly ClusterDependency[] = Object.freeze([]);

/**
 * The cluster tasks this node submitted and not settled, by job id, and what their handles show:
 * owned by the engine, so that they outlive the `cluster-submitter` actor that holds the
 * connections. Each handle settles once, from what the submitter linked now hears of its job or
 * reads of it. While none is linked (the one that failed is being replaced) new submissions, and
 * what the handles ask of the cluster (a withdrawal, a priority), wait for the next one.
 * @internal
 */
export class ClusterSubmissions implements ClusterTaskOwner {
  readonly #options: ResolvedClusterOptions;
  readonly #host: ClusterSubmissionsHost;
  /** Tasks submitted here and not settled, by job id. */
  readonly #pending = new Map<string, ClusterTask>();
  readonly #taskEvents: ClusterTaskEvents;
  readonly #tally = new ClusterTaskTally();
  /**
   * The ids of the tasks submitted here without one: a random prefix of this node's (96 bits from
   * the system's cryptographic source, never the engine's `random`, which a seed may repeat on
   * another node), then a count. A job id names the job in Redis for as long as it is kept there.
   */
  readonly #idPrefix = `${randomBytes(12).toString('base64url')}-`;
  #idCount = 0;
  /** Set once the engine stopped waiting for its cluster tasks ({@link ClusterSubmissions.stopWaiting}). */
  #waitingStopped = false;
  /** The submitter whose connections send the tasks now; `undefined` while one is being replaced. */
  #link: ClusterSubmissionLink | undefined = undefined;
  /** Tasks to send once a submitter is linked: submitted while none was, or given back by one that failed. */
  #unsent: ClusterTask[] = [];
  /** What the handles asked of the cluster while no submitter was linked, in order. */
  #deferred: Array<(link: ClusterSubmissionLink) => void> = [];
  /** The id of the last of the queue's events a submitter heard: its successor reads on from there. */
  lastEventId: string | undefined = undefined;

  constructor(options: ResolvedClusterOptions, host: ClusterSubmissionsHost) {
    this.#options = options;
    this.#host = host;
    this.#taskEvents = new ClusterTaskEvents(
      host.sink,
      () => host.clock.now(),
      (jobId) => this.#link?.readRun(jobId) ?? Promise.resolve(undefined),
      (error) => warnOfClusterError(host.logger, 'publishing a task event', error),
    );
  }

  /** How many tasks submitted here are still unsettled. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Whether `taskId` is a cluster task this node submitted and whose end it waits for (for the cluster's wait-for graph). */
  isWaitingFor(taskId: string): boolean {
    return this.#pending.has(taskId);
  }

  /** The pending task of job `jobId`, if any. */
  task(jobId: string): ClusterTask | undefined {
    return this.#pending.get(jobId);
  }

  /** The pending tasks whose jobs were added at least `minAgeMs` ago (0: all), for a reconciliation. */
  sentBefore(minAgeMs: number): ClusterTask[] {
    const before = this.#host.clock.now() - minAgeMs;
    return [...this.#pending.values()].filter((task) => task.sentAt !== undefined && task.sentAt <= before);
  }

  /**
   * Submits named task `task` to the cluster.
   * @throws {MezanError} `E_INVALID_OPTION` for a bad option (see {@link readClusterSubmission})
   */
  submit(task: string, options: TaskOptions): TaskHandle<unknown> {
    const submission = readClusterSubmission(task, options, this.#options.node);
    // Every submission has a token of its own, which a withdrawn mark names: the id itself when it is the node's.
    const token = `${this.#idPrefix}${(++this.#idCount).toString(36)}`;
    const id = submission.id ?? token;
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
      token,
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
    const data = id === token ? submission.data : { ...submission.data, submission: token };
    if (dependencies.length === 0) this.#send(record, task, data, submission.attempts);
    else this.#gate(record, task, data, submission.attempts, dependencies);
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
    if (dependencies.every(({ handle }) => handle.isSettled)) {
      this.mark(record, 'queued');
      this.#send(record, task, { ...data, dependencies: travellingOutcomes(dependencies) }, attempts);
      return;
    }
    const places: Array<GatePlace & GateData> = [];
    const after: ClusterTask[] = [];
    dependencies.forEach(({ handle, allow }, at) => {
      if (handle.isSettled) return;
      const dependency = this.#ownTask(handle)!;
      places.push({ at, gate: gateId(record.id, at), allow, job: handle.id, name: handle.name, submission: dependency.submission });
      after.push(dependency);
    });
    const gates = places.map(({ at, gate, allow }) => ({ at, gate, allow }));
    const ended = travellingOutcomes(dependencies.filter(({ handle }) => handle.isSettled));
    record.gated = true;
    record.outgoing = { task, data: { ...data, dependencies: ended, gates }, attempts, flow: { places, after } };
    this.#dispatch(record);
    places.forEach(({ gate }, index) => {
      after[index]!.whenSettled(() => {
        // Its handle settled because this engine stopped waiting: the dependency goes on, and so does the gate.
        if (this.#waitingStopped) return;
        if (this.#stopIfFailed(record, dependencies)) this.#withLink((link) => link.remove(record));
        // A flow that could not be added failed the handle already; one added has the time it was sent.
        else if (!record.handle.isSettled)
          void record.whenAdded().then(() => {
            if (record.sentAt !== undefined) this.#withLink((link) => link.wakeGate(gate));
          });
      });
    });
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

  /** Sends the task's job, with the others submitted in the same turn. */
  #send(record: ClusterTask, task: string, data: ClusterJobData, attempts: number): void {
    this.#taskEvents.queued(record);
    record.outgoing = { task, data, attempts };
    this.#dispatch(record);
  }

  /** Hands a task to send to the linked submitter, or keeps it for the next one. */
  #dispatch(record: ClusterTask): void {
    if (this.#link !== undefined) this.#link.send(record);
    else this.#unsent.push(record);
  }

  /** Does `use` with the linked submitter now, or with the next one once linked. */
  /** Whether what the handles asked of the cluster waits for a submitter: none was linked when they asked. */
  get hasDeferred(): boolean {
    return this.#deferred.length > 0;
  }

  #withLink(use: (link: ClusterSubmissionLink) => void): void {
    if (this.#link !== undefined) use(this.#link);
    else this.#deferred.push(use);
  }

  /**
   * Links submitter `link`: it sends what was submitted while none was linked, and does what the
   * handles asked of the cluster meanwhile.
   */
  link(link: ClusterSubmissionLink): void {
    this.#link = link;
    const unsent = this.#unsent;
    this.#unsent = [];
    for (const record of unsent) this.#giveBack(record);
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const use of deferred) use(link);
  }

  /** Submitter `link` failed or left: what is submitted from now on waits for the next. */
  unlink(link: ClusterSubmissionLink): void {
    if (this.#link === link) this.#link = undefined;
  }

  /**
   * Tasks a submitter that failed took and did not add to the queue (its add failed, or never
   * began): sent again, by the submitter linked now or the next. An id already in the queue is not
   * added twice.
   */
  giveBack(records: Iterable<ClusterTask>): void {
    for (const record of records) this.#giveBack(record);
  }

  #giveBack(record: ClusterTask): void {
    record.adding = false;
    // Settled meanwhile (cancelled, or given up at the grace's end): it will never reach Redis.
    if (record.handle.isSettled) record.sendingOver();
    else this.#dispatch(record);
  }

  /** Settles the handle of a task whose job could not be added. */
  notSent(record: ClusterTask, error: unknown): void {
    const reason = new MezanError(
      'E_TASK_FAILED',
      `Task "${record.name}" could not be sent to cluster "${this.#options.name}": ${describeThrown(error)}`,
      { cause: error, details: { taskId: record.id } },
    );
    record.handle.settle('failed', undefined, reason);
  }

  /** What the queue's events said of a job (event `eventId` of its stream): the handle follows. */
  hear(event: HeardJobEvent, eventId: string): void {
    this.lastEventId = eventId;
    const record = this.#pending.get(event.jobId);
    if (record === undefined) return;
    switch (event.type) {
      // An end heard is an end read.
      case 'completed':
        this.#confirmStart(record);
        this.read(event.jobId, { state: 'completed', value: event.value });
        return;
      case 'failed':
        this.#confirmStart(record);
        this.read(event.jobId, { state: 'failed', reason: event.reason });
        return;
      case 'active':
        record.starts++;
        // After a give-back, a start is no start until its node says it runs it (or any word of the run comes).
        if (record.givenBackLast) record.startUnconfirmed = true;
        else this.#start(record);
        return;
      case 'progress':
        if (isGivenBack(event.data)) {
          record.givenBack++;
          record.givenBackLast = true;
          // A start published (the first give-back: BullMQ's word of it came before the node could
          // tell) is followed by the task back in the queue; an unconfirmed one was never a start.
          if (!record.startUnconfirmed) this.#taskEvents.queued(record, record.starts - record.givenBack + 1);
          record.startUnconfirmed = false;
          return;
        }
        record.givenBackLast = false;
        this.#confirmStart(record);
        if (isStarted(event.data)) return;
        if (isRetrying(event.data)) this.#taskEvents.retrying(record, event.data);
        else this.#taskEvents.progress(record, event.data);
        return;
      case 'waiting':
        // A gated dependant whose gates all opened: it joins the queue, as a local one does then.
        if (record.handle.status === 'waiting') this.#taskEvents.queued(record);
        this.mark(record, 'queued');
        // Back in the queue after a retry's delay (BullMQ's `waiting`, from `delayed` or at once).
        if (record.retryPending) {
          record.retryPending = false;
          this.#taskEvents.queued(record, record.starts - record.givenBack + 1);
        }
        return;
      case 'delayed':
        this.mark(record, 'queued');
        return;
      case 'removed':
        record.handle.settle(
          'cancelled',
          undefined,
          new MezanError('E_CANCELLED', `Task "${record.name}" was removed from the queue`, { details: { taskId: event.jobId } }),
        );
    }
  }

  /** A node took the task's job, and runs it: the handle says so, and `task.started` follows. */
  #start(record: ClusterTask): void {
    this.mark(record, 'running');
    this.#taskEvents.started(record);
  }

  /** The start heard after a give-back is a run: it is told now. */
  #confirmStart(record: ClusterTask): void {
    if (!record.startUnconfirmed) return;
    record.startUnconfirmed = false;
    this.#start(record);
  }

  /** What job `jobId`'s state in Redis says (read rather than heard): settles its handle if the job has ended, or is gone once sent. */
  read(jobId: string, end: JobEnd): void {
    const record = this.#pending.get(jobId);
    if (record === undefined) return;
    switch (end.state) {
      case 'completed':
        this.#settleOnceSent(record, () => record.handle.settle('completed', end.value, undefined));
        return;
      case 'failed': {
        const { status, error } = readFailure(end.reason, jobId);
        this.#settleOnceSent(record, () => record.handle.settle(status, undefined, error));
        return;
      }
      case 'running':
      case 'queued':
        this.mark(record, end.state);
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
  }

  /**
   * Settles a task whose end was heard or read once its events still held are out (its start's
   * node being read), so that its terminal event names that node; at once when none is held. Its
   * handle may settle otherwise meanwhile (a cancel, the engine no longer waiting): that comes first.
   */
  #settleOnceSent(record: ClusterTask, settle: () => void): void {
    const sent = this.#taskEvents.whenSent(record);
    if (sent === undefined) settle();
    else void sent.then(settle);
  }

  /** @internal */
  cancelTask(task: ClusterTask, reason: unknown): boolean {
    const error = new MezanError('E_CANCELLED', `Task "${task.name}" was cancelled`, {
      cause: reason instanceof Error ? reason : undefined,
      details: { taskId: task.id, reason },
    });
    this.#withdraw(task, error, reason);
    return true;
  }

  /**
   * At a shutdown that drains with `drain: 'cancel'`: cancels, as a local engine cancels its queued
   * tasks, the cluster tasks submitted here that no node was heard to start (queued, or waiting for
   * their dependencies), `E_SHUTDOWN`; those running finish, and are waited for.
   */
  cancelQueued(): void {
    for (const record of [...this.#pending.values()]) {
      if (record.handle.status === 'running') continue;
      const error = new MezanError('E_SHUTDOWN', `Task "${record.name}" was cancelled by shutdown before it ran`, { details: { taskId: record.id } });
      this.#withdraw(record, error, error);
    }
  }

  /** Settles `task` cancelled with `error`, and takes its job out of the cluster (a node that took it meanwhile hears the cancel, with `reason`). */
  #withdraw(task: ClusterTask, error: MezanError, reason: unknown): void {
    task.withdrawn = true;
    task.handle.settle('cancelled', undefined, error);
    // Not on its way to Redis yet: it never will be (the outbox and the flow leave a settled task out).
    if (task.sentAt === undefined && !task.adding) return;
    this.#withLink((link) => link.withdraw(task, reason));
  }

  /** A pending task's status, as heard: on a node, or in the queue (for a dependant, once its dependencies allow it). */
  mark(record: ClusterTask, status: 'queued' | 'running'): void {
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
    // Not on its way yet: its job is made with the priority it has then.
    if (task.sentAt !== undefined || task.adding) this.#withLink((link) => link.changePriority(task));
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
    for (const record of this.#unsent.splice(0)) record.sendingOver();
  }
}
