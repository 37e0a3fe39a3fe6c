/**
 * The messages between a thread task's code (src/threads/thread-entry.cjs, in a worker thread) and
 * the engine (src/threads/context-bridge.ts), over the thread's own MessagePort, which the thread
 * hands the engine when it starts ({@link ThreadPortMessage}). Every message names its run. Plain
 * data: every message is structured-cloned.
 *
 * @internal
 */
import type { MessagePort } from 'node:worker_threads';
import type { ThreadTarget } from './in-thread';

/** A thread's first message, through Piscina: the port its runs' messages come and go on. */
export interface ThreadPortMessage {
  readonly t: 'mezan.port';
  readonly port: MessagePort;
}

/**
 * What Piscina hands the thread for one attempt: an array rather than an object, as an array's
 * clone is cheaper (no key names), and a tiny task pays for it twice. `meta` and `dependencies` are
 * there only when the task has them.
 */
export type ThreadTaskPayload = readonly [
  /** Unique among the runs of a pool: the messages of the run carry it. */
  runId: number,
  module: string,
  exportName: string,
  input: unknown,
  id: string,
  name: string,
  attempt: number,
  meta?: unknown,
  dependencies?: readonly ThreadDependencyOutcome[],
];

/** A dependency's outcome as it crosses to the thread (`ctx.dependencies`): its error as a {@link DescribedError}. */
export interface ThreadDependencyOutcome {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly value?: unknown;
  readonly error?: DescribedError;
}

/**
 * What the thread returns for an attempt: `[1, value, sent]` for the function's value, `[0, error,
 * sent, code]` for what it threw (`code`: the thrown error's own `code`, which its clone lost).
 * `sent`: how many messages the run sent the engine; the run ends once the engine has them all.
 */
export type ThreadTaskResult =
  readonly [ok: 1, value: unknown, sent: number] | readonly [ok: 0, error: unknown, sent: number, code: string | undefined];

/** An error as it crosses to the thread: what survives of a `MezanError`. */
export interface DescribedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly details?: unknown;
}

/** A request of the thread's `ctx` that the engine answers with a {@link ReplyMessage} of the same `id`. */
export type CallMessage =
  | { readonly t: 'call'; readonly id: number; readonly op: 'sleep'; readonly args: { readonly ms: unknown } }
  | { readonly t: 'call'; readonly id: number; readonly op: 'acquire'; readonly args: { readonly resource: unknown; readonly options: unknown } }
  | { readonly t: 'call'; readonly id: number; readonly op: 'await'; readonly args: { readonly handle: number; readonly options: unknown } }
  | { readonly t: 'call'; readonly id: number; readonly op: 'result'; readonly args: { readonly handle: number } };

/** Messages from the thread, each naming its run. */
export type FromThreadMessage = { readonly runId: number } & (
  | CallMessage
  | { readonly t: 'progress'; readonly fraction: unknown; readonly message: unknown }
  | { readonly t: 'log'; readonly level: 'error' | 'warn' | 'info' | 'debug'; readonly message: string; readonly details: unknown }
  | { readonly t: 'release'; readonly leaseId: string }
  | { readonly t: 'submit'; readonly handle: number; readonly target: ThreadTarget; readonly options: unknown }
  | { readonly t: 'cancel'; readonly handle: number; readonly reason: string | undefined }
);

/** Messages to a thread, each naming its run. An abort goes to every thread: only the run's own acts on it. */
export type ToThreadMessage =
  | { readonly t: 'abort'; readonly runId: number; readonly reason: DescribedError }
  | { readonly t: 'reply'; readonly runId: number; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'reply'; readonly runId: number; readonly id: number; readonly ok: false; readonly error: DescribedError };

/** What crosses to the thread of an error (or any thrown value). */
export function describeError(error: unknown): DescribedError {
  // Told by shape, not `instanceof`: an error may come from another realm.
  if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') {
    const { name, message, code, details } = error as Error & { code?: unknown; details?: unknown };
    return {
      name: typeof name === 'string' ? name : 'Error',
      message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(details !== undefined && isCloneable(details) ? { details } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** Whether `value` survives a structured clone. */
export function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
