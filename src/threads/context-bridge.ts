import type { MessagePort } from 'node:worker_threads';
import type { Logger } from '../logger';
import type { TaskHandle } from '../task-handle';
import type { AcquireOptions, AwaitOptions, Lease, TaskContext, TaskOptions } from '../task-options';
import { inThread } from './in-thread';
import { describeError, type CallMessage, type FromThreadMessage, type ToThreadMessage } from './thread-protocol';

/**
 * The engine's side of one thread attempt's `ctx`: it answers the messages the thread's code sends
 * about the attempt (over its thread's MessagePort) by calling the attempt's own context on the main
 * thread, so that what the thread does (progress, logs, sleeps, pool leases and waits, nested tasks
 * and awaits) is the task's own: its waits show in the wait-for graph, and its leases are revoked
 * with its attempt.
 *
 * @internal
 */
export class ContextBridge {
  readonly #runId: number;
  readonly #ctx: TaskContext;
  readonly #logger: Logger;
  /** Made on first use, as is `#handles`: most runs never call their `ctx`. */
  #leases: Map<string, Lease> | undefined = undefined;
  /** The thread's `ctx.submit`s, by the number the thread gave each; a submission the engine refused keeps its error. */
  #handles: Map<number, { readonly handle?: TaskHandle<unknown>; readonly refused?: unknown }> | undefined = undefined;
  #closed = false;
  /** How many of the run's messages came. */
  #received = 0;
  /** Waits for the run's last messages: set while the run has ended and some have not come yet. */
  #allReceived: { readonly count: number; readonly resolve: () => void } | undefined = undefined;

  constructor(runId: number, ctx: TaskContext, logger: Logger) {
    this.#runId = runId;
    this.#ctx = ctx;
    this.#logger = logger;
  }

  /** How many of the run's messages came. */
  get receivedCount(): number {
    return this.#received;
  }

  /** Settles once `count` messages of the run have come (the thread's count, with its result). */
  received(count: number): Promise<void> {
    if (this.#received >= count) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#allReceived = { count, resolve }));
  }

  /** The attempt is over: nothing more is answered. */
  close(): void {
    this.#closed = true;
    this.#allReceived?.resolve();
    this.#allReceived = undefined;
  }

  /** A message of the run, from its thread's `port` (where the answers go). */
  receive(message: FromThreadMessage, port: MessagePort): void {
    if (this.#closed) return;
    this.#received++;
    try {
      switch (message.t) {
        case 'call':
          this.#answer(message, port);
          break;
        case 'progress':
          this.#ctx.progress(message.fraction as number, message.message as string | undefined);
          break;
        case 'log':
          this.#ctx.logger[message.level](message.message, isDetails(message.details) ? message.details : undefined);
          break;
        case 'release':
          this.#leases?.get(message.leaseId)?.release();
          this.#leases?.delete(message.leaseId);
          break;
        case 'submit':
          this.#submit(message.handle, message.target.module, message.target.exportName, message.options);
          break;
        case 'cancel':
          this.#handles?.get(message.handle)?.handle?.cancel(message.reason);
          break;
      }
    } catch (error) {
      this.#logger.warn('a thread task sent a message the engine could not perform', { taskId: this.#ctx.id, error: describeError(error).message });
    }
    const waiting = this.#allReceived;
    if (waiting !== undefined && this.#received >= waiting.count) {
      this.#allReceived = undefined;
      waiting.resolve();
    }
  }

  #submit(key: number, module: string, exportName: string, options: unknown): void {
    try {
      const handle = this.#ctx.submit(inThread(module, { export: exportName }), options as TaskOptions | undefined);
      // Its failure is the thread's to hear (through `result` or `await`), not an unhandled error of the engine's.
      handle.result.catch(() => undefined);
      (this.#handles ??= new Map()).set(key, { handle });
    } catch (error) {
      (this.#handles ??= new Map()).set(key, { refused: error });
    }
  }

  #answer(call: CallMessage, port: MessagePort): void {
    let answer: Promise<unknown>;
    switch (call.op) {
      case 'sleep':
        answer = this.#ctx.sleep(call.args.ms as number);
        break;
      case 'acquire':
        answer = this.#ctx.acquire(call.args.resource as string, call.args.options as AcquireOptions | undefined).then((lease) => {
          (this.#leases ??= new Map()).set(lease.leaseId, lease);
          return { leaseId: lease.leaseId, resource: lease.resource, units: lease.units };
        });
        break;
      case 'await':
      case 'result': {
        const submitted = this.#handles?.get(call.args.handle);
        if (submitted?.handle === undefined) answer = Promise.reject(submitted?.refused ?? new Error('No task was submitted with that handle'));
        else if (call.op === 'result') answer = submitted.handle.result;
        else answer = this.#ctx.await(submitted.handle, (call as { args: { options: unknown } }).args.options as AwaitOptions | undefined);
        break;
      }
    }
    const runId = this.#runId;
    answer.then(
      (value) => {
        if (this.#closed) return;
        try {
          port.postMessage({ t: 'reply', runId, id: call.id, ok: true, value } satisfies ToThreadMessage);
        } catch (error) {
          // A value that cannot be cloned to the thread: the call fails there instead.
          port.postMessage({ t: 'reply', runId, id: call.id, ok: false, error: describeError(error) } satisfies ToThreadMessage);
        }
      },
      (error: unknown) => {
        if (!this.#closed) port.postMessage({ t: 'reply', runId, id: call.id, ok: false, error: describeError(error) } satisfies ToThreadMessage);
      },
    );
  }
}

function isDetails(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
