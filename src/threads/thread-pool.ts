import path from 'node:path';
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { loadPiscina } from '../load-on-use';
import type { Clock } from '../clock';
import { MezanError } from '../errors';
import type { Logger } from '../logger';
import type { RunOrder } from '../internal/task-protocol';
import type { TaskContext } from '../task-options';
import { describeThrown } from '../internal/describe-thrown';
import { ContextBridge } from './context-bridge';
import { threadTargetOf, type ThreadTarget } from './in-thread';
import {
  describeError,
  type FromThreadMessage,
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
  readonly #runs = new Map<number, ContextBridge>();
  /** The aborts of runs under way, sent again to a thread whose port comes later. */
  readonly #aborts = new Map<number, ToThreadMessage>();
  #nextRunId = 0;

  constructor(settings: ThreadSettings, clock: Clock, logger: Logger, workerId: string) {
    this.#settings = settings;
    this.#clock = clock;
    this.#logger = logger;
    this.#workerId = workerId;
  }

  /** The orders as the thread worker's runner calls them: each thread task's function runs its export on a thread. */
  wrap(orders: readonly RunOrder[]): RunOrder[] {
    return orders.map((order) => {
      const target = threadTargetOf(order.fn);
      if (target === undefined) return order;
      const transfer = order.transfer;
      // A copy: the order is the executor's record, whose `fn` is the caller's.
      return {
        taskId: order.taskId,
        name: order.name,
        attempt: order.attempt,
        fn: (ctx: TaskContext) => this.run(target, ctx, transfer),
        timeoutMs: order.timeoutMs,
        resources: order.resources,
        meta: order.meta,
        input: order.input,
        group: order.group,
        dependencies: order.dependencies,
      };
    });
  }

  /** Whether `error` is this pool's verdict that an attempt's thread crashed. */
  isCrash(error: unknown): error is MezanError {
    return typeof error === 'object' && error !== null && this.#crashes.has(error);
  }

  /** Runs one attempt of a thread task on a thread; resolves with what its function returned, rejects with what it threw. */
  async run(target: ThreadTarget, ctx: TaskContext, transfer?: ReadonlyArray<TransferListItem>): Promise<unknown> {
    const piscina = this.#start();
    const runId = this.#nextRunId++;
    const bridge = new ContextBridge(runId, ctx, this.#logger);
    this.#runs.set(runId, bridge);
    const stop = new RunStop();
    let abandonTimer: unknown = undefined;
    const signal = ctx.signal;
    const onAbort = (): void => {
      this.#abort(runId, signal.reason);
      abandonTimer = this.#clock.setTimeout(() => stop.abort(), this.#settings.abandonAfterMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const payload: ThreadTaskPayload = {
      runId,
      module: target.module,
      exportName: target.exportName,
      input: ctx.input,
      id: ctx.id,
      name: ctx.name,
      attempt: ctx.attempt,
    };
    let result: ThreadTaskResult;
    try {
      const transferList = transfer === undefined ? undefined : (transfer as TransferListItem[]);
      result = (await piscina.run(payload, { signal: stop, transferList })) as ThreadTaskResult;
      // Its messages come on another channel than its result: the run ends once all have come.
      if (result.sent > 0) await bridge.received(result.sent);
    } catch (error) {
      throw this.#runFailure(error, ctx, stop.aborted);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (abandonTimer !== undefined) this.#clock.clearTimeout(abandonTimer);
      bridge.close();
      this.#runs.delete(runId);
      this.#aborts.delete(runId);
    }
    if (result.ok) return result.value;
    const { error, code } = result;
    if (code !== undefined && typeof error === 'object' && error !== null)
      Object.defineProperty(error, 'code', { value: code, enumerable: true, configurable: true, writable: true });
    throw error;
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
    port.on('message', (message: FromThreadMessage) => this.#runs.get(message.runId)?.receive(message, port));
    port.on('close', () => this.#ports.delete(port));
    // An idle engine must not keep the process alive for its threads' ports (Piscina unrefs its idle threads too).
    port.unref();
    // A run may be aborted before its thread's port came.
    for (const abort of this.#aborts.values()) port.postMessage(abort);
  }

  /** What a run that did not return a result fails its attempt with. */
  #runFailure(error: unknown, ctx: TaskContext, abandoned: boolean): unknown {
    // The input (or a result) could not be cloned: the task's fault, not the thread's.
    if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'DataCloneError') return error;
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
    const piscina = new (loadPiscina().Piscina)({ filename: THREAD_ENTRY, minThreads: count, maxThreads: count, concurrentTasksPerWorker: 1 });
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
 * What aborts one Piscina run (which terminates its thread): the event-emitter kind of signal
 * Piscina takes, one small object, where an AbortController per run would cost a tiny task dearly.
 */
class RunStop {
  aborted = false;
  #listener: (() => void) | undefined = undefined;

  once(_event: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  off(): void {
    this.#listener = undefined;
  }

  /** What Piscina calls (its type names `off`). */
  removeListener(): void {
    this.#listener = undefined;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}
