import type { AnyActorRef } from 'xstate';
import type { Clock } from '../src/clock';
import type { TaskServices } from '../src/internal/task-services';
import type { TaskHandle } from '../src/task-handle';
import { AttemptWaits } from './attempt-waits';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import { expectFiniteNumber, fail } from '../src/internal/validate';
import type { RunOrder } from '../src/internal/task-protocol';
import type { AcquireOptions, Lease, TaskContext, TaskFunction, TaskOptions } from '../src/task-options';

/** What every context of one worker shares. @internal */
export interface RunEnvironment {
  readonly workerId: string;
  readonly clock: Clock;
  readonly sink: EventSink;
  readonly logger: Logger;
  readonly services: TaskServices;
}

/** A {@link RunEnvironment} with the runner's own ref, which pools answer. @internal */
export interface RunnerHost extends RunEnvironment {
  readonly self: AnyActorRef;
}

/**
 * The `ctx` one attempt of a task receives. Its abort controller and child logger are made on first
 * use: most tasks never touch them, and the hot path stays allocation-light.
 *
 * @internal
 */
export class TaskRunContext implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
  readonly meta: unknown;
  readonly #environment: RunnerHost;
  #controller: AbortController | undefined = undefined;
  #logger: Logger | undefined = undefined;
  #waits: AttemptWaits | undefined = undefined;

  constructor(order: RunOrder, environment: RunnerHost) {
    this.id = order.taskId;
    this.name = order.name;
    this.attempt = order.attempt;
    this.meta = order.meta;
    this.#environment = environment;
  }

  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  get logger(): Logger {
    return (this.#logger ??= this.#environment.logger.child({ taskId: this.id, taskName: this.name, attempt: this.attempt }));
  }

  progress(fraction: number, message?: string): void {
    expectFiniteNumber('progress fraction', fraction);
    if (fraction < 0 || fraction > 1) fail('progress fraction', 'a number in [0, 1]', fraction);
    const { sink, clock, workerId } = this.#environment;
    if (!sink.active) return;
    sink.publish({
      type: 'task.progress',
      at: clock.now(),
      taskId: this.id,
      name: this.name,
      attempt: this.attempt,
      workerId,
      fraction,
      message,
    });
  }

  sleep(ms: number): Promise<void> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    const { clock } = this.#environment;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clock.clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  acquire(resource: string, options?: AcquireOptions): Promise<Lease> {
    return this.#ensureWaits().acquire(resource, options);
  }

  /** Takes every declared resource, in order, before the function runs. */
  async acquireDeclared(resources: ReadonlyArray<readonly [string, number]>): Promise<void> {
    for (const [resource, units] of resources) await this.acquire(resource, { units });
  }

  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T> {
    return this.#environment.services.submitChild(this.id, fn as TaskFunction, options) as TaskHandle<T>;
  }

  await<T>(handle: TaskHandle<T>): Promise<T> {
    return this.#ensureWaits().await(handle);
  }

  /** The attempt's waits, once it has acquired or awaited anything. */
  get waits(): AttemptWaits | undefined {
    return this.#waits;
  }

  #ensureWaits(): AttemptWaits {
    return (this.#waits ??= new AttemptWaits(this.#environment, this.id, this.attempt));
  }

  /** Aborts this attempt's signal with `reason`. */
  abort(reason: unknown): void {
    const controller = (this.#controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(reason);
  }
}
