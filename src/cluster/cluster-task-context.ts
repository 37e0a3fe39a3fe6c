import type { Agent } from '../agents/agent';
import type { AskOptions } from '../agents/agent-options';
import type { Logger } from '../logger';
import type { TaskHandle } from '../task-handle';
import type { Job } from 'bullmq';
import type { AcquireOptions, AwaitOptions, DependencyOutcome, Lease, TaskContext, TaskFunction, TaskOptions } from '../task-options';

/** Who sends a running cluster task's `ctx.progress` on to its submitter. @internal */
export interface ProgressReporter {
  reportProgress(job: Job, attempt: number, fraction: number, message: string | undefined): void;
}

/**
 * The `ctx` of a named task run for the cluster: the local attempt's context, but with the
 * cluster's identity of the task. `id` is the job's id, the same on every node and every attempt,
 * and `attempt` counts every start of the task in the cluster (a retry, or a run again after its
 * node died), so that a function can be idempotent by `(id, attempt)`.
 * @internal
 */
export class ClusterTaskContext implements TaskContext {
  readonly #local: TaskContext;
  readonly id: string;
  readonly attempt: number;
  /** How its dependencies ended, as the submitting node gated them (a local attempt has none). */
  readonly dependencies: readonly DependencyOutcome[];

  readonly #job: Job;
  readonly #reporter: ProgressReporter;

  constructor(local: TaskContext, job: Job, attempt: number, dependencies: readonly DependencyOutcome[], reporter: ProgressReporter) {
    this.#local = local;
    this.#job = job;
    this.#reporter = reporter;
    this.id = job.id!;
    this.attempt = attempt;
    this.dependencies = dependencies;
  }

  get name(): string {
    return this.#local.name;
  }

  get meta(): unknown {
    return this.#local.meta;
  }

  get input(): unknown {
    return this.#local.input;
  }

  get signal(): AbortSignal {
    return this.#local.signal;
  }

  get logger(): Logger {
    return this.#local.logger;
  }

  /** The local attempt's progress, and the submitter's: it travels as the job's progress. */
  progress(fraction: number, message?: string): void {
    this.#local.progress(fraction, message);
    this.#reporter.reportProgress(this.#job, this.attempt, fraction, message);
  }

  sleep(ms: number): Promise<void> {
    return this.#local.sleep(ms);
  }

  acquire(resource: string, options?: AcquireOptions): Promise<Lease> {
    return this.#local.acquire(resource, options);
  }

  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T>;
  submit<T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
  submit<T>(fn: TaskFunction<T> | string, options?: TaskOptions): TaskHandle<T> {
    return typeof fn === 'string' ? this.#local.submit<T>(fn, options) : this.#local.submit(fn, options);
  }

  await<T>(handle: TaskHandle<T>, options?: AwaitOptions): Promise<T> {
    return this.#local.await(handle, options);
  }

  ask<R = unknown>(agent: Agent | string, message: unknown, options?: AskOptions): Promise<R> {
    return this.#local.ask<R>(agent, message, options);
  }
}
