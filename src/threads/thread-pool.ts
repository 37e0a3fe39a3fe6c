import path from 'node:path';
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { loadPiscina } from '../load-on-use';
import type { Clock } from '../clock';
import { MezanError } from '../errors';
import type { Logger } from '../logger';
import type { RunOrder } from '../internal/task-protocol';
import type { DependencyOutcome, TaskContext, TaskFunction } from '../task-options';
import { describeThrown } from '../internal/describe-thrown';
import { ContextBridge } from './context-bridge';
import { contextViewOf, threadTargetOf, type ThreadTarget } from './in-thread';
import {
  describeError,
  isCloneable,
  type FromThreadMessage,
  type ThreadDependencyOutcome,
  type ThreadPortMessage,
  type ThreadTaskPayload,
  type ThreadTaskResult,
  type ToThreadMessage,
} from './thread-protocol';

/** How an engine's worker threads are set up. @internal */
export interface ThreadSettings {
  /** How many threads, and so how many thread tasks run at once. */
  readonly count: number;
  /** How long a thread task's function may go on after its abort before its thread is terminated, in milliseconds. */
  readonly abandonAfterMs: number;
}

/** The code each thread loads: plain CommonJS beside this file, in the sources as in dist/. */
const THREAD_ENTRY = path.join(__dirname, 'thread-entry.cjs');

/**
 * The worker threads of the engine's thread worker, on Piscina, started on the first thread task.
 * It never holds more runs than threads: the thread worker is handed an attempt only for a free
 * slot, and a slot stays taken until the run ends, so Piscina's queue never reorders anything.
 * Each thread hands the pool a MessagePort when it starts; a run's `ctx` calls come over its thread's
 * port, named by the run's id, and a {@link ContextBridge} per run performs them. An aborted
 * attempt's thread hears of it at once (the abort goes to every thread: one message each, and aborts
 * are rare, where a port per run would cost more than a tiny task); if its function has not returned
 * `abandonAfterMs` later, its run is aborted, which terminates its thread (Piscina starts another).
 * A run that ends without a result (the thread crashed or exited) fails its attempt only, with
 * `E_WORKER_CRASHED`.
 *
 * @internal
 */
export class ThreadPool {
  readonly #settings: ThreadSettings;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #workerId: string;
  #piscina: Piscina | undefined = undefined;
  #destroyed = false;
  /** The errors this pool made for crashed runs, told apart from whatever a function threw. */
  readonly #crashes = new WeakSet<object>();
  /** The threads' ports. */
  readonly #ports = new Set<MessagePort>();
  /** The runs under way, by id. */
  readonly #runs = new Map<number, ThreadRun>();
  /** The aborts of runs under way, sent again to a thread whose port comes later. */
  readonly #aborts = new Map<number, ToThreadMessage>();
  #nextRunId = 0;

  constructor(settings: ThreadSettings, clock: Clock, logger: Logger, workerId: string) {
    this.#settings = settings;
    this.#clock = clock;
    this.#logger = logger;
    this.#workerId = workerId;
  }

  /**
   * What the thread worker's runner calls for a task's function: for a thread task, the one
   * function that runs an attempt's export on a thread (its ctx carries its order); any other
   * function as it is. No function or order is made per task.
   */
  readonly functionFor = (fn: TaskFunction): TaskFunction => (threadTargetOf(fn) === undefined ? fn : this.#runOnThread);

  readonly #runOnThread = (ctx: TaskContext): Promise<unknown> => this.run(ctx as ThreadAttempt);

  /** Whether `error` is this pool's verdict that an attempt's thread crashed. */
  isCrash(error: unknown): error is MezanError {
    return typeof error === 'object' && error !== null && this.#crashes.has(error);
  }

  /**
   * Runs one attempt of a thread task on a thread; resolves with what its function returned, rejects
   * with what it threw. Its function's `ctx` in the thread is the attempt's own, or the one its
   * task's view makes of it (`withContextView`: a cluster node's task sees the cluster's id, attempt
   * and dependencies), and the thread's calls reach that same `ctx`.
   */
  run(attempt: ThreadAttempt): Promise<unknown> {
    const piscina = this.#start();
    const { order } = attempt;
    const target = threadTargetOf(order.fn)!;
    const view = contextViewOf(order.fn);
    const ctx = view === undefined ? attempt : view(attempt);
    // An attempt's own list of dependencies is made on first read: read only when it has some.
    const withDependencies = view === undefined ? order.dependencies !== undefined && order.dependencies.length > 0 : ctx.dependencies.length > 0;
    const run = new ThreadRun(this.#nextRunId++, attempt, ctx, this);
    this.#runs.set(run.runId, run);
    attempt.listenForAbort(run);
    const transferList = order.transfer === undefined ? undefined : (order.transfer as TransferListItem[]);
    return piscina.run(payloadOf(run.runId, target, ctx, withDependencies), { signal: run, transferList }).then(
      (result: ThreadTaskResult) => {
        const sent = result[2];
        // Its messages come on another channel than its result: the run ends once all have come.
        if (sent > 0 && !run.hasReceived(sent))
          return run
            .bridge(this.#logger)
            .received(sent)
            .then(() => this.#outcome(run, result));
        return this.#outcome(run, result);
      },
      (error: unknown) => {
        this.#end(run);
        throw this.#runFailure(error, ctx, run.aborted);
      },
    );
  }

  /** A run's attempt was aborted: its thread hears of it at once, and its thread is terminated if its function has not returned `abandonAfterMs` later. */
  attemptAborted(run: ThreadRun, reason: unknown): void {
    if (!this.#runs.has(run.runId)) return;
    this.#abort(run.runId, reason);
    run.abandonTimer = this.#clock.setTimeout(() => run.abort(), this.#settings.abandonAfterMs);
  }

  /** What the run's function returned (or threw), once the run is over. */
  #outcome(run: ThreadRun, result: ThreadTaskResult): unknown {
    this.#end(run);
    if (result[0] === 1) return result[1];
    const [, error, , code] = result;
    if (code !== undefined && typeof error === 'object' && error !== null)
      Object.defineProperty(error, 'code', { value: code, enumerable: true, configurable: true, writable: true });
    throw error;
  }

  #end(run: ThreadRun): void {
    run.attempt.listenForAbort(undefined);
    if (run.abandonTimer !== undefined) this.#clock.clearTimeout(run.abandonTimer);
    run.close();
    this.#runs.delete(run.runId);
    if (this.#aborts.size > 0) this.#aborts.delete(run.runId);
  }

  /** Tells every thread that run `runId` was aborted: the one running it aborts its `ctx.signal` with `reason`. */
  #abort(runId: number, reason: unknown): void {
    const message: ToThreadMessage = { t: 'abort', runId, reason: describeError(reason) };
    this.#aborts.set(runId, message);
    for (const port of this.#ports) port.postMessage(message);
  }

  /** A thread's port came: its runs' messages are routed to their bridges. */
  #adoptPort(port: MessagePort): void {
    this.#ports.add(port);
    port.on('message', (message: FromThreadMessage) => this.#runs.get(message.runId)?.bridge(this.#logger).receive(message, port));
    port.on('close', () => this.#ports.delete(port));
    // An idle engine must not keep the process alive for its threads' ports (Piscina unrefs its idle threads too).
    port.unref();
    // A run may be aborted before its thread's port came.
    for (const abort of this.#aborts.values()) port.postMessage(abort);
  }

  /** What a run that did not return a result fails its attempt with (`ctx`: the attempt's as its function sees it). */
  #runFailure(error: unknown, ctx: TaskContext, abandoned: boolean): unknown {
    // What it hands the thread could not be cloned: the task's fault, not the thread's.
    if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'DataCloneError') return uncloneableFailure(error, ctx);
    const reason = abandoned
      ? `its function did not return ${this.#settings.abandonAfterMs} ms after its abort: its thread was terminated`
      : `its thread crashed: ${describeThrown(error)}`;
    const crash = new MezanError('E_WORKER_CRASHED', `Task "${ctx.name}" ${reason}`, {
      cause: error,
      details: { taskId: ctx.id, workerId: this.#workerId, abandoned },
    });
    this.#crashes.add(crash);
    return crash;
  }

  #start(): Piscina {
    if (this.#piscina !== undefined) return this.#piscina;
    if (this.#destroyed) throw new MezanError('E_SHUTDOWN', `Worker ${this.#workerId} stopped`);
    const { count } = this.#settings;
    // Loaded here: an engine that never runs a thread task never loads Piscina.
    // Atomics off: an idle thread waits on its event loop rather than blocked in Atomics.wait. The
    // next task, which comes only once the engine has taken in the last result, reaches it sooner
    // (measured: bench/threads.bench.ts, tiny tasks), and its port's messages are read while it waits.
    const piscina = new (loadPiscina().Piscina)({
      filename: THREAD_ENTRY,
      minThreads: count,
      maxThreads: count,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
    });
    // A thread that fails with no task on it: logged, never thrown at the process.
    piscina.on('error', (error: unknown) => this.#logger.error('a worker thread failed', { error: describeThrown(error) }));
    piscina.on('message', (message: unknown) => {
      if (isPortMessage(message)) this.#adoptPort(message.port);
    });
    this.#logger.debug('worker threads started', { threads: count });
    return (this.#piscina = piscina);
  }

  /** Terminates the threads; runs still on them fail. */
  destroy(): void {
    this.#destroyed = true;
    const piscina = this.#piscina;
    this.#piscina = undefined;
    if (piscina === undefined) return;
    for (const port of this.#ports) port.close();
    this.#ports.clear();
    piscina.destroy().catch((error: unknown) => this.#logger.warn('worker threads did not stop cleanly', { error: describeThrown(error) }));
  }
}

function isPortMessage(message: unknown): message is ThreadPortMessage {
  return typeof message === 'object' && message !== null && (message as { t?: unknown }).t === 'mezan.port';
}

/**
 * The context a thread task's attempt runs with: the attempt's own (`actors/task-run-context.ts`),
 * which carries its order and lets one listener hear its abort.
 *
 * @internal
 */
export interface ThreadAttempt extends TaskContext {
  readonly order: RunOrder;
  listenForAbort(listener: { attemptAborted(reason: unknown): void } | undefined): void;
}

/**
 * One run of an attempt on a thread: what the pool keeps of it, what hears its attempt's abort, and
 * what aborts its Piscina run (which terminates its thread): the event-emitter kind of signal
 * Piscina takes. One small object per run, where an AbortController, a listener closure and a
 * bridge each would cost a tiny task dearly; the bridge is made when the run's first message comes.
 */
class ThreadRun {
  readonly runId: number;
  /** The attempt it runs, whose abort it hears. */
  readonly attempt: ThreadAttempt;
  /** The attempt's `ctx` as its function sees it: what the thread's calls reach. */
  readonly ctx: TaskContext;
  aborted = false;
  abandonTimer: unknown = undefined;
  #bridge: ContextBridge | undefined = undefined;
  #listener: (() => void) | undefined = undefined;
  #pool: ThreadPool | undefined = undefined;

  constructor(runId: number, attempt: ThreadAttempt, ctx: TaskContext, pool: ThreadPool) {
    this.runId = runId;
    this.attempt = attempt;
    this.ctx = ctx;
    this.#pool = pool;
  }

  /** The engine's side of the run's `ctx`, made with its first message. */
  bridge(logger: Logger): ContextBridge {
    return (this.#bridge ??= new ContextBridge(this.runId, this.ctx, logger));
  }

  /** Whether `count` messages of the run have come already. */
  hasReceived(count: number): boolean {
    return this.#bridge !== undefined && this.#bridge.receivedCount >= count;
  }

  /** The run is over: its bridge answers nothing more. */
  close(): void {
    this.#bridge?.close();
    this.#pool = undefined;
  }

  /** The attempt was aborted (see `listenForAbort`). */
  attemptAborted(reason: unknown): void {
    this.#pool?.attemptAborted(this, reason);
  }

  /** What Piscina calls (`signal.once('abort', ...)`). */
  once(_event: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  /** What Piscina calls (its type names `off`). */
  off(): void {
    this.#listener = undefined;
  }

  removeListener(): void {
    this.#listener = undefined;
  }

  /** Aborts the Piscina run: its thread is terminated. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

/** What Piscina hands the thread for an attempt whose function sees `ctx`: its dependencies only `withDependencies`. */
function payloadOf(runId: number, target: ThreadTarget, ctx: TaskContext, withDependencies: boolean): ThreadTaskPayload {
  const { meta } = ctx;
  if (!withDependencies) {
    return meta === undefined
      ? [runId, target.module, target.exportName, ctx.input, ctx.id, ctx.name, ctx.attempt]
      : [runId, target.module, target.exportName, ctx.input, ctx.id, ctx.name, ctx.attempt, meta];
  }
  return [runId, target.module, target.exportName, ctx.input, ctx.id, ctx.name, ctx.attempt, meta, ctx.dependencies.map(dependencyOutcomeOf)];
}

function dependencyOutcomeOf(outcome: DependencyOutcome): ThreadDependencyOutcome {
  return outcome.status === 'completed'
    ? { id: outcome.id, name: outcome.name, status: outcome.status, value: outcome.value }
    : { id: outcome.id, name: outcome.name, status: outcome.status, error: describeError(outcome.error) };
}

/**
 * The failure of an attempt whose payload could not be cloned to its thread: it names the part that
 * could not (`input`, `meta`, or a dependency's value), which the clone's own message does not.
 */
function uncloneableFailure(error: object, ctx: TaskContext): Error {
  const parts: Array<[string, unknown]> = [
    ['its input', ctx.input],
    ['its meta', ctx.meta],
    ...ctx.dependencies.map((outcome): [string, unknown] => [`the value of its dependency "${outcome.id}"`, outcome.value]),
  ];
  const part = parts.find(([, value]) => !isCloneable(value))?.[0];
  if (part === undefined) return error as Error;
  const failure = new Error(`Task "${ctx.name}" cannot run on a thread: ${part} cannot be cloned: ${(error as Error).message}`, { cause: error });
  failure.name = 'DataCloneError';
  return failure;
}
