import type { Observable, Subscriber } from 'rxjs';
import { loadRxjs } from '../load-on-use';

/**
 * A multicast source of values, as an RxJS `Subject` without its costs on the hot path: `next`
 * hands a value to each subscriber in a plain indexed loop over an array replaced (never changed)
 * when someone subscribes or unsubscribes, so delivering allocates nothing. (A `Subject` made a
 * closure and an iterator for every value; the engine delivers several events per task.) A
 * subscriber that arrives after {@link EventHub.complete} is completed at once, as with a `Subject`.
 * RxJS is loaded only when someone asks for the observable: an engine nobody listens to never needs it.
 *
 * @internal
 */
export class EventHub<T> {
  #subscribers: ReadonlyArray<Subscriber<T>> = [];
  #completed = false;
  #observable: Observable<T> | undefined = undefined;

  /** The hub as an observable: each subscription to it receives the values from then on. */
  get observable(): Observable<T> {
    this.#observable ??= new (loadRxjs().Observable)<T>((subscriber) => {
      if (this.#completed) {
        subscriber.complete();
        return undefined;
      }
      this.#subscribers = [...this.#subscribers, subscriber];
      return () => {
        this.#subscribers = this.#subscribers.filter((candidate) => candidate !== subscriber);
      };
    });
    return this.#observable;
  }

  /** Whether anyone is subscribed. */
  get observed(): boolean {
    return this.#subscribers.length > 0;
  }

  /** Hands `value` to the subscribers there are when it is called (one unsubscribed meanwhile hears nothing more). */
  next(value: T): void {
    const subscribers = this.#subscribers;
    for (let index = 0; index < subscribers.length; index++) subscribers[index]!.next(value);
  }

  /** Completes every subscriber; values after this are dropped. */
  complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    const subscribers = this.#subscribers;
    this.#subscribers = [];
    for (const subscriber of subscribers) subscriber.complete();
  }
}
