import type { PoolPost } from './pool-post';
import type { AnyActorRef } from 'xstate';
import type { Clock } from '../src/clock';
import type { TaskServices } from '../src/internal/task-services';
import type { TaskHandle } from '../src/task-handle';
import { AttemptWaits } from './attempt-waits';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import { expectFiniteNumber, fail, optionReadError, rejectInvalid } from '../src/internal/validate';
import type { RunOrder } from '../src/internal/task-protocol';
import { MezanError } from '../src/errors';
import type { AskOptions } from '../src/agents/agent-options';
import { ACQUIRE_OPTION_KEYS, AWAIT_OPTION_KEYS } from '../src/task-options';
import type { AcquireOptions, AwaitOptions, DependencyOutcome, Lease, TaskContext, TaskFunction, TaskOptions } from '../src/task-options';

/** Hears once that an attempt was aborted (see {@link TaskRunContext.listenForAbort}). @internal */
export interface AbortListener {
  attemptAborted(reason: unknown): void;
}

/** A pending `ctx.sleep`. */
interface Sleeper {
  readonly timer: unknown;
  readonly reject: (reason: unknown) => void;
}

/** Marks an attempt not aborted (`undefined` is a possible abort reason). */
const NOT_ABORTED: unique symbol = Symbol('not aborted');

/** What every context of one worker shares. @internal */
export interface RunEnvironment {
  readonly workerId: string;
  readonly clock: Clock;
  readonly sink: EventSink;
  readonly logger: Logger;
  readonly services: TaskServices;
}

/** A {@link RunEnvironment} with the runner's own ref, which pools answer, and its pace. @internal */
export interface RunnerHost extends RunEnvironment {
  readonly self: AnyActorRef;
  /** A slowed worker (a simulated fault) stretches `ctx.sleep` by `factor` until clock time `until`. */
  readonly pace: { factor: number; until: number };
  /** Set for the thread worker: how many threads run its tasks. */
  readonly threads?: number;
  /** How its attempts' pool requests, releases and cancels reach the pools (see {@link PoolPost}). */
  readonly post?: PoolPost;
}

/**
 * The `ctx` one attempt of a task receives. Its abort controller and child logger are made on first
 * use: most tasks never touch them, and the hot path stays allocation-light.
 *
 * @internal
 */
export class TaskRunContext implements TaskContext {
  /**
   * What the attempt runs, as the executor handed it over; its identity, metadata and input are read
   * from it (they never change), not copied: a context is made for every attempt. @internal
   */
  readonly order: RunOrder;
  /** The attempt's number as it started (the order's goes on counting for the next). */
  readonly attempt: number;
  #dependencies: readonly DependencyOutcome[] | undefined = undefined;
  readonly #environment: RunnerHost;
  /** Unique among the attempts of its runner (a task id may be reused once its task settled). @internal */
  readonly serial: number;
  #controller: AbortController | undefined = undefined;
  #logger: Logger | undefined = undefined;
  #waits: AttemptWaits | undefined = undefined;
  #abortReason: unknown = NOT_ABORTED;
  /** Aborted when the attempt is aborted or over: withdraws the asks it still has out (`ctx.ask`). */
  #asks: AbortController | undefined = undefined;
  /** Pending sleeps: rarely more than one, so a small array (a hash set would cost each sleeper an identity hash). */
  #sleepers: Sleeper[] | undefined = undefined;
  #abortListener: AbortListener | undefined = undefined;

  constructor(order: RunOrder, environment: RunnerHost, serial: number) {
    this.order = order;
    this.serial = serial;
    this.attempt = order.attempt;
    this.#environment = environment;
  }

  get id(): string {
    return this.order.taskId;
  }

  get name(): string {
    return this.order.name;
  }

  get meta(): unknown {
    return this.order.meta;
  }

  get input(): unknown {
    return this.order.input;
  }

  get dependencies(): readonly DependencyOutcome[] {
    // Made on first use, from the dependencies' handles: every one has settled before this task started.
    this.#dependencies ??= Object.freeze((this.order.dependencies ?? []).map((ref) => ref.reporter.describeOutcome()!));
    return this.#dependencies;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== NOT_ABORTED) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get logger(): Logger {
    return (this.#logger ??= this.#environment.logger.child({ taskId: this.id, taskName: this.name, attempt: this.attempt }));
  }

  progress(fraction: number, message?: string): void {
    expectFiniteNumber('progress fraction', fraction);
    if (fraction < 0 || fraction > 1) fail('progress fraction', 'a number in [0, 1]', fraction);
    if (message !== undefined && typeof message !== 'string') fail('message', 'a string, or nothing', message);
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
    // Sleeps are aborted by `abort()` directly, so a task that never reads `ctx.signal` never
    // costs an AbortController.
    if (this.#abortReason !== NOT_ABORTED) return Promise.reject(this.#abortReason);
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      return rejectInvalid(() => fail('ms', 'a non-negative finite number of milliseconds', ms));
    }
    const { clock, pace } = this.#environment;
    if (pace.factor !== 1 && clock.now() < pace.until) ms *= pace.factor;
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        reject,
        timer: clock.setTimeout(() => {
          this.#forgetSleeper(sleeper);
          resolve();
        }, ms),
      };
      (this.#sleepers ??= []).push(sleeper);
    });
  }

  acquire(resource: string, options?: AcquireOptions): Promise<Lease> {
    // An aborted attempt (cancelled, timed out, crashed, shut down) takes nothing more.
    if (this.#abortReason !== NOT_ABORTED) return Promise.reject(this.#abortReason);
    try {
      return this.#ensureWaits().acquire(resource, options);
    } catch (error) {
      // Reading the caller's arguments threw (a hostile proxy): a rejection, as for any bad argument.
      return Promise.reject(optionReadError(error, 'the arguments of `ctx.acquire`', { value: options, root: 'options', keys: ACQUIRE_OPTION_KEYS }));
    }
  }

  /** Takes every declared resource, in order, then runs `fn`, unless the attempt was aborted meanwhile. */
  async runWithDeclared<T>(resources: ReadonlyArray<readonly [string, number]>, fn: TaskFunction<T>): Promise<T> {
    for (const [resource, units] of resources) await this.acquire(resource, { units });
    if (this.#abortReason !== NOT_ABORTED) throw this.#abortReason;
    return fn(this);
  }

  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T>;
  submit<T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
  submit<T>(fn: TaskFunction<T> | string, options?: TaskOptions): TaskHandle<T> {
    return this.#environment.services.submitChild(this.id, fn as TaskFunction | string, options) as TaskHandle<T>;
  }

  ask<R = unknown>(agent: unknown, message: unknown, options?: AskOptions): Promise<R> {
    if (this.#abortReason !== NOT_ABORTED) return Promise.reject(this.#abortReason);
    const askAgent = this.#environment.services.askAgent;
    if (askAgent === undefined) return Promise.reject(new MezanError('E_AGENT_STOPPED', 'No agent runs in this engine', { details: { agent } }));
    let withSignal: unknown;
    try {
      // The ask is withdrawn when the attempt is aborted or over (its wait-for edge must not outlive
      // it), as well as by the caller's own signal.
      const ends = (this.#asks ??= new AbortController()).signal;
      if (options === undefined) withSignal = { signal: ends };
      else if (typeof options !== 'object' || options === null) withSignal = options;
      else {
        const own = (options as AskOptions).signal;
        withSignal = { ...options, signal: own instanceof AbortSignal ? AbortSignal.any([own, ends]) : (own ?? ends) };
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return askAgent(this.id, agent, message, withSignal) as Promise<R>;
  }

  await<T>(handle: TaskHandle<T>, options?: AwaitOptions): Promise<T> {
    if (this.#abortReason !== NOT_ABORTED) return Promise.reject(this.#abortReason);
    try {
      return this.#ensureWaits().await(handle, options);
    } catch (error) {
      // Reading the caller's arguments threw (a hostile proxy): a rejection, as for any bad argument.
      return Promise.reject(
        optionReadError(
          error,
          'the arguments of `ctx.await`',
          { value: handle, root: 'handle' },
          { value: options, root: 'options', keys: AWAIT_OPTION_KEYS },
        ),
      );
    }
  }

  /** The attempt's waits, once it has acquired or awaited anything. */
  get waits(): AttemptWaits | undefined {
    return this.#waits;
  }

  #ensureWaits(): AttemptWaits {
    return (this.#waits ??= new AttemptWaits(this.#environment, this.id, `${this.attempt}.${this.serial}`));
  }

  /**
   * The attempt is over (its function returned): sleeps it left pending are dropped with their
   * timers, so a finished task never keeps a timer of the engine alive.
   */
  dispose(): void {
    this.#asks?.abort(new MezanError('E_CANCELLED', `The attempt of task ${this.id} has ended`, { details: { taskId: this.id } }));
    const sleepers = this.#sleepers;
    if (sleepers === undefined) return;
    for (const sleeper of sleepers) this.#environment.clock.clearTimeout(sleeper.timer);
    sleepers.length = 0;
  }

  /**
   * Has `listener` hear the attempt's abort (at once when it was aborted already); `undefined` stops
   * it. One listener, without an AbortSignal: what runs a thread task's attempt listens this way, as
   * an AbortController per attempt would cost a tiny thread task dearly. @internal
   */
  listenForAbort(listener: AbortListener | undefined): void {
    this.#abortListener = listener;
    if (listener !== undefined && this.#abortReason !== NOT_ABORTED) listener.attemptAborted(this.#abortReason);
  }

  /** Aborts this attempt: its signal (if anyone made it) and its sleeps, with `reason`; once. */
  abort(reason: unknown): void {
    if (this.#abortReason !== NOT_ABORTED) return;
    this.#abortReason = reason;
    this.#abortListener?.attemptAborted(reason);
    this.#controller?.abort(reason);
    this.#asks?.abort(reason);
    // Its pending waits fail now, not when (or if) the function returns.
    this.#waits?.end(reason);
    for (const sleeper of this.#sleepers ?? []) {
      this.#environment.clock.clearTimeout(sleeper.timer);
      sleeper.reject(reason);
    }
    if (this.#sleepers !== undefined) this.#sleepers.length = 0;
  }

  #forgetSleeper(sleeper: Sleeper): void {
    const sleepers = this.#sleepers!;
    const index = sleepers.indexOf(sleeper);
    if (index < 0) return;
    sleepers[index] = sleepers[sleepers.length - 1]!;
    sleepers.pop();
  }
}
