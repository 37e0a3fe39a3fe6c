type EventListener = (event: Event) => void;
type Listener = EventListener | { handleEvent(event: Event): void };

/**
 * Makes what user code adds to `signal` unable to throw out of its abort: Node reports a throw from
 * an `EventTarget` listener as an uncaught exception (in a later tick, where no caller can catch it),
 * so the listeners added through this signal's own `addEventListener` and `onabort` run inside a
 * `try`, and what they throw goes to `onThrow`. The signal stays the very `AbortSignal` it was (an
 * `instanceof` check, `AbortSignal.any` and `fetch` take it); only its instance gets the two
 * wrappers, shadowing the prototype's.
 *
 * @param signal - a signal made by the engine, before user code sees it
 * @param onThrow - told of each throw (the agent logs it)
 * @returns `signal`
 * @internal
 */
export function containListeners(signal: AbortSignal, onThrow: (error: unknown) => void): AbortSignal {
  const wrappers = new WeakMap<object, EventListener>();
  const wrap = (listener: Listener): EventListener => {
    let wrapped = wrappers.get(listener);
    if (wrapped === undefined) {
      wrapped = function (this: unknown, event: Event): void {
        try {
          if (typeof listener === 'function') listener.call(this, event);
          else listener.handleEvent(event);
        } catch (error) {
          onThrow(error);
        }
      };
      wrappers.set(listener, wrapped);
    }
    return wrapped;
  };
  const target = EventTarget.prototype;
  Object.defineProperties(signal, {
    addEventListener: {
      value(type: string, listener: Listener | null, options?: Parameters<EventTarget['addEventListener']>[2]): void {
        // Without a listener there is nothing to add (as the prototype's, which ignores it).
        if (isListener(listener)) target.addEventListener.call(signal, type, wrap(listener), options);
      },
      configurable: true,
      writable: true,
    },
    removeEventListener: {
      value(type: string, listener: Listener | null, options?: Parameters<EventTarget['removeEventListener']>[2]): void {
        if (isListener(listener)) target.removeEventListener.call(signal, type, wrappers.get(listener) ?? listener, options);
      },
      configurable: true,
      writable: true,
    },
  });
  const onabort = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'onabort');
  if (onabort?.set !== undefined && onabort.get !== undefined) {
    let handler: unknown = null;
    Object.defineProperty(signal, 'onabort', {
      get: () => handler,
      set: (value: unknown) => {
        handler = value;
        onabort.set!.call(signal, typeof value === 'function' ? wrap(value as EventListener) : value);
      },
      configurable: true,
    });
  }
  return signal;
}

function isListener(value: unknown): value is Listener {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}
