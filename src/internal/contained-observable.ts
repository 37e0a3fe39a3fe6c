import { Observable, Subscriber, type Observer, type Operator, type Subscription } from 'rxjs';
import { contained } from './contained-observer';

/**
 * An observable whose subscribers' callbacks are contained: what a `next`, `error` or `complete`
 * callback throws goes to `onError` instead of RxJS's default, which rethrows it asynchronously and
 * takes the process down. A subscriber without an `error` callback has its errors go there too.
 * Operators applied with `pipe` keep the containment (it survives `lift`), so a chain of operators
 * ending in a throwing callback is contained as well.
 *
 * @internal
 */
export class ContainedObservable<T> extends Observable<T> {
  readonly #onError: (error: unknown) => void;

  constructor(subscribe: ((subscriber: Subscriber<T>) => void | (() => void) | Subscription) | undefined, onError: (error: unknown) => void) {
    super(subscribe);
    this.#onError = onError;
  }

  /** Wraps `source` (every subscription to it goes through this one's containment). */
  static of<T>(source: Observable<T>, onError: (error: unknown) => void): ContainedObservable<T> {
    return new ContainedObservable<T>((subscriber) => source.subscribe(subscriber), onError);
  }

  // RxJS builds each operator's observable with `lift`; returning our own kind keeps the containment.
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const observable = new ContainedObservable<R>(undefined, this.#onError);
    observable.source = this;
    observable.operator = operator;
    return observable;
  }

  override subscribe(
    observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null,
    error?: ((error: unknown) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    // RxJS's own subscribers (between operators) pass through: only the caller's callbacks are user code.
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    const observer: Partial<Observer<T>> =
      typeof observerOrNext === 'function' || observerOrNext === null || observerOrNext === undefined
        ? { next: observerOrNext ?? undefined, error: error ?? undefined, complete: complete ?? undefined }
        : observerOrNext;
    const onError = this.#onError;
    return super.subscribe({
      next: contained(observer.next, observer, onError),
      error: observer.error === undefined ? onError : contained(observer.error, observer, onError),
      complete: contained<void>(observer.complete, observer, onError) as (() => void) | undefined,
    });
  }
}
