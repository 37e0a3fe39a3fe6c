import { EventHub } from '../../src/internal/event-hub';

describe('EventHub', () => {
  it('hands each value to every subscriber, in the order they subscribed', () => {
    const hub = new EventHub<number>();
    const seen: string[] = [];
    hub.observable.subscribe((value) => seen.push(`a${value}`));
    hub.observable.subscribe((value) => seen.push(`b${value}`));
    hub.next(1);
    hub.next(2);
    expect(seen).toEqual(['a1', 'b1', 'a2', 'b2']);
  });

  it('is observed only while someone is subscribed', () => {
    const hub = new EventHub<number>();
    expect(hub.observed).toBe(false);
    const subscription = hub.observable.subscribe(() => undefined);
    expect(hub.observed).toBe(true);
    subscription.unsubscribe();
    expect(hub.observed).toBe(false);
  });

  it('a subscriber unsubscribed during a delivery hears nothing more, not even the value being delivered', () => {
    const hub = new EventHub<number>();
    const seen: string[] = [];
    const second = { unsubscribe: (): void => undefined };
    hub.observable.subscribe((value) => {
      seen.push(`a${value}`);
      second.unsubscribe();
    });
    const subscription = hub.observable.subscribe((value) => seen.push(`b${value}`));
    second.unsubscribe = () => subscription.unsubscribe();
    hub.next(1);
    hub.next(2);
    expect(seen).toEqual(['a1', 'a2']);
  });

  it('a subscriber that arrives during delivery hears the values after the current one', () => {
    const hub = new EventHub<number>();
    const seen: string[] = [];
    let joined = false;
    hub.observable.subscribe((value) => {
      seen.push(`a${value}`);
      if (joined) return;
      joined = true;
      hub.observable.subscribe((later) => seen.push(`late${later}`));
    });
    hub.next(1);
    hub.next(2);
    expect(seen).toEqual(['a1', 'a2', 'late2']);
  });

  it('completes its subscribers once, drops values after that, and completes late subscribers at once', () => {
    const hub = new EventHub<number>();
    const seen: string[] = [];
    hub.observable.subscribe({ next: (value) => seen.push(`next${value}`), complete: () => seen.push('complete') });
    hub.complete();
    hub.complete();
    hub.next(3);
    hub.observable.subscribe({ next: (value) => seen.push(`late${value}`), complete: () => seen.push('late complete') });
    expect(seen).toEqual(['complete', 'late complete']);
    expect(hub.observed).toBe(false);
  });
});
