import { describeThrown } from './describe-thrown';
import { didYouMean } from './did-you-mean';
import { findThrowingPath } from './throwing-path';
import { MezanError } from '../errors';

/** Renders a received value for an error message: strings quoted, objects by kind. @internal */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') {
    try {
      return Array.isArray(value) ? 'an array' : 'an object';
    } catch {
      // A revoked proxy: `Array.isArray` throws.
      return 'an object';
    }
  }
  return String(value);
}

/**
 * Throws the `E_INVALID_OPTION` error for `option`: "Expected `option` to be <expected>, got <value>".
 * @internal
 */
export function fail(option: string, expected: string, received: unknown): never {
  throw new MezanError('E_INVALID_OPTION', `Expected \`${option}\` to be ${expected}, got ${describeValue(received)}`, {
    details: { option, expected, received },
  });
}

/** An argument of a call, read by its checks: a caller's options object, a graph, a handle. @internal */
export interface ReadArgument {
  /** The argument as the caller gave it. */
  readonly value: unknown;
  /** Its path: `options` (whose keys are named bare: `signal`), `graph`, `handle`. */
  readonly root: string;
  /** The keys the checks read: a proxy may list none and still throw when one is read. */
  readonly keys?: Readonly<Record<string, true>>;
  /** Keys, at any depth, whose values the checks never read: the caller's own data (a task's `meta`, `input`). */
  readonly opaque?: readonly string[];
}

/**
 * What to throw when reading a caller's arguments threw `error`. A `MezanError` (a check's verdict)
 * passes as it is; anything else came from the caller's objects themselves (a getter, or a trap of a
 * `Proxy`) and becomes `E_INVALID_OPTION` naming the option whose reading threw, with `error` as its
 * `cause`. The option is found by reading the arguments again, each read guarded: the first one
 * with a read that throws is named (its root when none does: a value that throws only sometimes).
 * @param call - the call, for the message: `` the options of `submit` ``
 * @internal
 */
export function optionReadError(error: unknown, call: string, ...args: readonly ReadArgument[]): MezanError {
  if (isMezanError(error)) return error;
  let option: string | undefined;
  for (const { value, root, keys, opaque } of args) {
    const join = root === 'options' ? (_path: string, key: string) => key : (path: string, key: string) => `${path}.${key}`;
    option = findThrowingPath(value, root, keys === undefined ? [] : Object.keys(keys), join, opaque);
    if (option !== undefined) break;
  }
  option ??= args[0]?.root ?? 'options';
  return new MezanError('E_INVALID_OPTION', `Reading \`${option}\` (${call}) threw: ${describeThrown(error)}`, {
    cause: error,
    details: { option },
  });
}

/** Whether `value` is a `MezanError`; never throws, even for a proxy whose `getPrototypeOf` trap does. */
function isMezanError(value: unknown): value is MezanError {
  try {
    return value instanceof MezanError;
  } catch {
    return false;
  }
}

/** The longest delay a host timer takes, 2^31 - 1 ms (Node fires a longer one at once). @internal */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Throws `E_INVALID_OPTION` unless `value` is `undefined` or a number of milliseconds from 0 to
 * {@link MAX_TIMER_MS}.
 * @internal
 */
export function expectOptionalTimerMs(option: string, value: unknown): asserts value is number | undefined {
  if (value !== undefined && (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_MS)))
    fail(option, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`, value);
}

/**
 * Whether `value` is an options object: an object that is neither `null` nor an array (an empty
 * array is no options object, and is refused as one like any other value).
 * @internal
 */
export function isOptionsObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return !Array.isArray(value);
  } catch {
    // A revoked proxy: `Array.isArray` throws.
    return false;
  }
}

/** Throws `E_INVALID_OPTION` unless `value` is an options object (see {@link isOptionsObject}). @internal */
export function expectOptionsObject(option: string, value: unknown, expected = 'an object'): asserts value is object {
  if (!isOptionsObject(value)) fail(option, expected, value);
}

/**
 * `value`, or `fallback` when it is `undefined`. An optional option is absent only when `undefined`
 * (as its type says): `null` stays, to be refused by the option's check.
 * @internal
 */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** Throws `E_INVALID_OPTION` unless `value` is an integer of 1 or more. @internal */
export function expectPositiveInteger(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(option, 'a positive integer', value);
}

/** Throws `E_INVALID_OPTION` unless `value` is an integer of 0 or more. @internal */
export function expectNonNegativeInteger(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(option, 'a non-negative integer', value);
}

/** Throws `E_INVALID_OPTION` unless `value` is a finite number of 0 or more. @internal */
export function expectNonNegativeNumber(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(option, 'a non-negative finite number', value);
}

/** Throws `E_INVALID_OPTION` unless `value` is a finite number. @internal */
export function expectFiniteNumber(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(option, 'a finite number', value);
}

/** Throws `E_INVALID_OPTION` unless `value` is a non-empty string. @internal */
export function expectNonEmptyString(option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'a non-empty string', value);
}

/** Throws `E_INVALID_OPTION` unless `value` is a function. @internal */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any function: its caller calls it with its own arguments
export function expectFunction(option: string, value: unknown): asserts value is (...args: any[]) => any {
  if (typeof value !== 'function') fail(option, 'a function', value);
}

/** Throws `E_INVALID_OPTION` unless `value` is one of `allowed`. @internal */
export function expectOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) fail(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

/**
 * A promise rejected with the error `thrower` throws: the asynchronous calls of a task's context
 * reject on bad arguments rather than throw.
 * @internal
 */
export function rejectInvalid(thrower: () => never): Promise<never> {
  try {
    thrower();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Throws `E_INVALID_OPTION` for the first own key of `value` that is not in `known`, naming it with
 * its path and the closest known key: a misspelt option must not be ignored.
 * @param option - the path of the object (`''` for a top-level options object)
 * @param known - every key the object may have; a record, so that its type lists them all
 * @internal
 */
export function expectKnownKeys(option: string, value: object, known: Readonly<Record<string, true>>): void {
  if (!hasOnlyKnownKeys(value, known)) failUnknownKey(option, value, known);
}

/**
 * Throws the `E_INVALID_OPTION` error for the first own key of `value` not in `known`.
 * @internal
 */
export function failUnknownKey(option: string, value: object, known: Readonly<Record<string, true>>): never {
  const names = Object.keys(known);
  const key = Object.keys(value).find((candidate) => !Object.hasOwn(known, candidate)) ?? '';
  const path = option === '' ? key : `${option}.${key}`;
  throw new MezanError('E_INVALID_OPTION', `Unknown option \`${path}\`${didYouMean(key, names)}; known: ${names.join(', ')}`, {
    details: { option: path, known: names },
  });
}

/** Whether every own key of `value` is in `known`. @internal */
export function hasOnlyKnownKeys(value: object, known: Readonly<Record<string, true>>): boolean {
  for (const key in value) if (Object.hasOwn(value, key) && !Object.hasOwn(known, key)) return false;
  return true;
}
