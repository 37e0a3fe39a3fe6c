import type { TaskHandle } from '../task-handle';

/**
 * Cancels `handle` when `signal` aborts (at once if it has). Returns what removes the listener once
 * the task settled, or `undefined` when there is none to remove.
 * @internal
 */
export function cancelOnAbort(signal: AbortSignal, handle: TaskHandle<unknown>): (() => void) | undefined {
  if (signal.aborted) {
    handle.cancel(signal.reason);
    return undefined;
  }
  const onAbort = (): void => void handle.cancel(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
