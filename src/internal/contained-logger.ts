import { missingLoggerMethod, type Logger } from '../logger';

/** The methods of a winston logger that write (and so run the user's transports and formats). */
const WRITING = new Set(['log', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']);

const contained = new WeakSet<object>();

/**
 * The caller's logger, with every call the engine makes through it contained: a method, transport or
 * format that throws is ignored (the engine cannot log that its logger failed, and must not fail
 * with it), a writing method that is missing does nothing, `isLevelEnabled` that throws reads as
 * `false` (and a missing one as `true`: the logger decides), and `child` gives a contained logger too (the parent itself when `child`
 * throws or returns something that is not a logger). Everything else passes through unchanged.
 *
 * @internal
 */
export function containLogger(logger: Logger): Logger {
  if (contained.has(logger)) return logger;
  const target = logger;
  // The proxy's own target is a blank object inheriting from the logger: a frozen logger would bind
  // the proxy to answer with its very methods (a Proxy invariant), not with contained ones.
  const proxy = new Proxy(Object.create(logger) as Logger, {
    get(_shadow, property, receiver) {
      let value: unknown;
      try {
        value = Reflect.get(target, property, target);
      } catch {
        // A getter or a proxy trap of the caller's logger threw: as if the property were missing.
        value = undefined;
      }
      if (typeof property !== 'string') return value;
      if (typeof value !== 'function') {
        // A child logger may be anything its parent's `child` returned: the calls the engine makes stay safe.
        if (WRITING.has(property)) return () => receiver;
        // Without it, every level may be written (the logger decides).
        if (property === 'isLevelEnabled') return () => true;
        if (property === 'child') return () => receiver;
        return value;
      }
      if (WRITING.has(property)) {
        return (...args: unknown[]) => {
          try {
            (value as (...args: unknown[]) => unknown).apply(target, args);
          } catch {
            // The caller's logger failed; the engine goes on without that line.
          }
          return receiver;
        };
      }
      if (property === 'isLevelEnabled') {
        return (level: string) => {
          try {
            return (value as (level: string) => unknown).call(target, level) === true;
          } catch {
            return false;
          }
        };
      }
      if (property === 'child') {
        return (...args: unknown[]) => {
          try {
            const child: unknown = (value as (...args: unknown[]) => unknown).apply(target, args);
            if (typeof child !== 'object' || child === null || missingLoggerMethod(child) !== undefined) return receiver;
            return containLogger(child as Logger);
          } catch {
            return receiver;
          }
        };
      }
      return value;
    },
  });
  contained.add(proxy);
  return proxy;
}
