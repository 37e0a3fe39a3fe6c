import type { Observer } from 'rxjs';

// Apart from the observable itself: the core contains an inspection observer without loading RxJS.

/**
 * An observer whose callbacks are those of `observer` (a function is its `next`), each called on
 * `observer` with what it throws handed to `onError`: for observers handed to code that would let a
 * throw loose (XState calls an inspection observer inside its actors' transitions).
 *
 * @internal
 */
export function containObserver<T>(observer: Partial<Observer<T>> | ((value: T) => void), onError: (error: unknown) => void): Partial<Observer<T>> {
  if (typeof observer === 'function') return { next: contained(observer, undefined, onError) };
  return {
    next: contained(observer.next, observer, onError),
    error: contained(observer.error, observer, onError),
    complete: contained<void>(observer.complete, observer, onError) as (() => void) | undefined,
  };
}

/**
 * `callback` called on `observer`, with what it throws handed to `onError`; `undefined` stays so.
 * @internal
 */
export function contained<A>(
  callback: ((argument: A) => void) | undefined,
  observer: object | undefined,
  onError: (error: unknown) => void,
): ((argument: A) => void) | undefined {
  if (callback === undefined) return undefined;
  return (argument: A): void => {
    try {
      callback.call(observer, argument);
    } catch (thrown) {
      onError(thrown);
    }
  };
}
