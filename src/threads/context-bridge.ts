import type { MessagePort } from 'node:worker_threads';
import type { Logger } from '../logger';
import type { TaskHandle } from '../task-handle';
import type { AcquireOptions, AwaitOptions, Lease, TaskContext, TaskOptions } from '../task-options';
import { inThread } from './in-thread';
import { describeError, type CallMessage, type FromThreadMessage, type ToThreadMessage } from './thread-protocol';

/**
 * The engine's side of one thread attempt's `ctx`: it answers the messages the thread's code sends
 * over the attempt's MessagePort by calling the attempt's own context on the main thread, so that
 * what the thread does (progress, logs, sleeps, pool leases and waits, nested tasks and awaits) is
 * the task's own: its waits show in the wait-for graph, its leases are revoked with its attempt, and
 * its aborts reach the thread as a message.
 *
 * @internal
 */
export class ContextBridge {
  readonly #port: MessagePort;
  readonly #ctx: TaskContext;
  readonly #logger: Logger;
  readonly #leases = new Map<string, Lease>();
  /** The thread's `ctx.submit`s, by the number the thread gave each; a submission the engine refused keeps its error. */
  readonly #handles = new Map<number, { readonly handle?: TaskHandle<unknown>; readonly refused?: unknown }>();
  #closed = false;
  #markFinished: () => void = () => undefined;
  /** Settles once the thread said the function returned (its last message), or the port closed. */
  readonly finished: Promise<void>;

  constructor(port: MessagePort, ctx: TaskContext, logger: Logger) {
    this.#port = port;
    this.#ctx = ctx;
    this.#logger = logger;
    this.finished = new Promise<void>((resolve) => (this.#markFinished = resolve));
    port.on('message', (message: FromThreadMessage) => this.#receive(message));
    port.on('close', () => this.#markFinished());
  }

  /** Tells the thread its attempt was aborted: its `ctx.signal` aborts with `reason`. */
  abort(reason: unknown): void {
    this.#send({ t: 'abort', reason: describeError(reason) });
  }

  /** The attempt is over: nothing more is answered. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    this.#markFinished();
  }

  #receive(message: FromThreadMessage): void {
    if (this.#closed) return;
    try {
      switch (message.t) {
        case 'call':
          this.#answer(message);
          return;
        case 'progress':
          this.#ctx.progress(message.fraction as number, message.message as string | undefined);
          return;
        case 'log':
          this.#ctx.logger[message.level](message.message, isDetails(message.details) ? message.details : undefined);
          return;
        case 'release':
          this.#leases.get(message.leaseId)?.release();
          this.#leases.delete(message.leaseId);
          return;
        case 'submit':
          this.#submit(message.handle, message.target.module, message.target.exportName, message.options);
          return;
        case 'cancel':
          this.#handles.get(message.handle)?.handle?.cancel(message.reason);
          return;
        case 'done':
          this.#markFinished();
          return;
      }
    } catch (error) {
      this.#logger.warn('a thread task sent a message the engine could not perform', { taskId: this.#ctx.id, error: describeError(error).message });
    }
  }

  #submit(key: number, module: string, exportName: string, options: unknown): void {
    try {
      const handle = this.#ctx.submit(inThread(module, { export: exportName }), options as TaskOptions | undefined);
      // Its failure is the thread's to hear (through `result` or `await`), not an unhandled error of the engine's.
      handle.result.catch(() => undefined);
      this.#handles.set(key, { handle });
    } catch (error) {
      this.#handles.set(key, { refused: error });
    }
  }

  #answer(call: CallMessage): void {
    let answer: Promise<unknown>;
    switch (call.op) {
      case 'sleep':
        answer = this.#ctx.sleep(call.args.ms as number);
        break;
      case 'acquire':
        answer = this.#ctx.acquire(call.args.resource as string, call.args.options as AcquireOptions | undefined).then((lease) => {
          this.#leases.set(lease.leaseId, lease);
          return { leaseId: lease.leaseId, resource: lease.resource, units: lease.units };
        });
        break;
      case 'await':
      case 'result': {
        const submitted = this.#handles.get(call.args.handle);
        if (submitted?.handle === undefined) answer = Promise.reject(submitted?.refused ?? new Error('No task was submitted with that handle'));
        else if (call.op === 'result') answer = submitted.handle.result;
        else answer = this.#ctx.await(submitted.handle, (call as { args: { options: unknown } }).args.options as AwaitOptions | undefined);
        break;
      }
    }
    answer.then(
      (value) => this.#reply(call.id, value),
      (error: unknown) => this.#send({ t: 'reply', id: call.id, ok: false, error: describeError(error) }),
    );
  }

  #reply(id: number, value: unknown): void {
    try {
      this.#send({ t: 'reply', id, ok: true, value });
    } catch (error) {
      // A value that cannot be cloned to the thread: the call fails there instead.
      this.#send({ t: 'reply', id, ok: false, error: describeError(error) });
    }
  }

  #send(message: ToThreadMessage): void {
    if (!this.#closed) this.#port.postMessage(message);
  }
}

function isDetails(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
