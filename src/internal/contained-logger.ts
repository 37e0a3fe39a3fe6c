import type { Logger } from '../logger';

/** The methods of a winston logger that write (and so run the user's transports and formats). */
const WRITING = new Set(['log', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']);

const contained = new WeakSet<object>();

/**
 * The caller's logger, with every call the engine makes through it contained: a method, transport or
 * format that throws is ignored (the engine cannot log that its logger failed, and must not fail
 * with it), `isLevelEnabled` that throws reads as `false`, and `child` gives a contained logger too.
 * Everything else passes through unchanged.
 *
 * @internal
 */
export function containLogger(logger: Logger): Logger {
  if (contained.has(logger)) return logger;
  const proxy = new Proxy(logger, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
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
            return containLogger((value as (...args: unknown[]) => Logger).apply(target, args));
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
