import type { BulkJobOptions, Queue } from 'bullmq';
import type { ClusterJobData } from '../src/cluster/cluster-job';
import type { ClusterTask } from '../src/cluster/cluster-task';

/** A job as `Queue.addBulk` takes it. @internal */
export interface BulkJob {
  readonly name: string;
  readonly data: ClusterJobData;
  readonly opts: BulkJobOptions;
}

/** What the outbox needs of the node it sends for. @internal */
export interface JobOutboxHost {
  /** Resolves once the node hears the queue's events: a job is added only then, so its end cannot be missed. */
  listening(): Promise<unknown>;
  /** The job of task `task`, made when it is sent (its priority may have changed since it was submitted). */
  jobOf(task: ClusterTask): BulkJob;
  /** Task `task`'s job could not be added: its handle is failed, or the task is taken back to be sent again. */
  failed(task: ClusterTask, error: unknown): void;
  /** The engine clock's time: when a job was sent. */
  now(): number;
}

/** The most jobs of one `addBulk` (one pipeline, one write to the socket). */
const MOST_PER_BULK = 500;

/**
 * The cluster tasks a node submits, sent to the queue together: those submitted in one turn of the
 * event loop are added by one `Queue.addBulk` (one pipeline of BullMQ's add scripts, one write to
 * the socket) rather than one `Queue.add` (one write, one reply awaited) each. A task settled
 * before its turn to be sent (cancelled) is not sent; one settled while its job was being added
 * has its job removed.
 * @internal
 */
export class JobOutbox {
  readonly #queue: Queue;
  readonly #host: JobOutboxHost;
  #tasks: ClusterTask[] = [];

  constructor(queue: Queue, host: JobOutboxHost) {
    this.#queue = queue;
    this.#host = host;
  }

  /** Sends task `task`'s job with the others of this turn. */
  push(task: ClusterTask): void {
    this.#tasks.push(task);
    if (this.#tasks.length === 1) void this.#sendAfterTurn();
  }

  /** Takes back the tasks not on their way yet (their submitter failed): the outbox sends none of them. */
  takeBack(): ClusterTask[] {
    const tasks = this.#tasks;
    this.#tasks = [];
    return tasks;
  }

  async #sendAfterTurn(): Promise<void> {
    try {
      await this.#host.listening();
    } catch (error) {
      for (const task of this.#take()) this.#failed(task, error);
      return;
    }
    const tasks = this.#take();
    for (let from = 0; from < tasks.length; from += MOST_PER_BULK) void this.#addBulk(tasks.slice(from, from + MOST_PER_BULK));
  }

  /** The tasks to send now: those not settled meanwhile (the others never will be). */
  #take(): ClusterTask[] {
    const tasks = this.#tasks;
    this.#tasks = [];
    const live: ClusterTask[] = [];
    for (const task of tasks) {
      if (task.handle.isSettled) task.sendingOver();
      else {
        task.adding = true;
        live.push(task);
      }
    }
    return live;
  }

  #failed(task: ClusterTask, error: unknown): void {
    this.#host.failed(task, error);
    // Unless the host took it back, to send it again.
    if (task.handle.isSettled) task.sendingOver();
  }

  async #addBulk(tasks: readonly ClusterTask[]): Promise<void> {
    try {
      await this.#queue.addBulk(tasks.map((task) => this.#host.jobOf(task)));
    } catch {
      // `addBulk` tells the first error of the pipeline only: some jobs may be in the queue, others
      // not. Each is added again alone; one already there is not added twice (its id is taken), and
      // a job that fails alone fails its task.
      await Promise.all(tasks.map((task) => this.#addOne(task)));
      return;
    }
    for (const task of tasks) this.#sent(task);
  }

  async #addOne(task: ClusterTask): Promise<void> {
    if (task.handle.isSettled) {
      task.sendingOver();
      return;
    }
    const { name, data, opts } = this.#host.jobOf(task);
    try {
      await this.#queue.add(name, data, opts);
    } catch (error) {
      this.#failed(task, error);
      return;
    }
    this.#sent(task);
  }

  #sent(task: ClusterTask): void {
    task.sentAt = this.#host.now();
    task.outgoing = undefined;
    task.sendingOver();
    // Cancelled while it was being added: it must not run.
    if (task.withdrawn) void this.#queue.remove(task.id).catch(() => 0);
  }
}
