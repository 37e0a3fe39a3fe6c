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

/** What Piscina hands the thread for one attempt. */
export interface ThreadTaskPayload {
  /** Unique among the runs of a pool: the messages of the run carry it. */
  readonly runId: number;
  readonly module: string;
  readonly exportName: string;
  readonly input: unknown;
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
}

/** What the thread returns for an attempt: the function's value, or what it threw. */
export type ThreadTaskResult = (
  | { readonly ok: true; readonly value: unknown }
  /** `code`: the thrown error's own `code`, which its clone lost. */
  | { readonly ok: false; readonly error: unknown; readonly code?: string }
) & {
  /** How many messages the run sent the engine: the run ends once the engine has them all. */
  readonly sent: number;
};

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

function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
