import { traceValue } from './trace-value';

/** What {@link encodeTraceJson} returns when the entry did not fit in the room left. */
export const NO_ROOM = -1;
/** What {@link encodeTraceJson} returns for an entry it leaves to `JSON.stringify` (see there). */
export const UNUSUAL = -2;

// Deeper than this (a cycle, or data nobody traces) is left to JSON.stringify, which serializes it
// or throws as it always did.
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BACKSLASH = 0x5c;
const ZERO = 0x30;
const MINUS = 0x2d;
// The longest `String(number)` is 25 characters (`-1.2345678901234567e-300`).
const NUMBER_ROOM = 25;

/**
 * Encodes `entry` as UTF-8 JSON into `buffer` from `offset`, byte for byte as
 * `JSON.stringify(entry, traceValue)` would, without building a string: an engine event costs no
 * allocation (its errors, rare, one small object each). Values that need more than plain data (a
 * `toJSON`, a boxed primitive, a `bigint`, an inherited enumerable key, nesting deeper than 64, or a
 * top level that is not an object) are left to the caller.
 *
 * @returns the offset after the last byte written, {@link NO_ROOM} when the JSON did not fit before
 *   `buffer.length` (what was written past `offset` is garbage), or {@link UNUSUAL}
 * @internal
 */
export function encodeTraceJson(entry: object, buffer: Buffer, offset: number): number {
  if (typeof entry !== 'object' || entry === null) return UNUSUAL;
  return encodeValue(entry, buffer, offset, 0);
}

/** Encodes a value that JSON.stringify would not leave out (see {@link isOmitted}). */
function encodeValue(value: unknown, buffer: Buffer, offset: number, depth: number): number {
  switch (typeof value) {
    case 'string':
      return encodeString(value, buffer, offset);
    case 'number':
      return Number.isFinite(value) ? encodeNumber(value, buffer, offset) : encodeAscii('null', buffer, offset);
    case 'boolean':
      return encodeAscii(value ? 'true' : 'false', buffer, offset);
    case 'object':
      if (value === null) return encodeAscii('null', buffer, offset);
      if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return UNUSUAL;
      if (Array.isArray(value)) return encodeArray(value, buffer, offset, depth);
      if (value instanceof Error) return encodeObject(traceValue('', value) as object, buffer, offset, depth);
      if (!isPlainPrototype(value) && isBoxed(value)) return UNUSUAL;
      return encodeObject(value, buffer, offset, depth);
    default:
      // A bigint makes JSON.stringify throw; anything else omitted never reaches here.
      return UNUSUAL;
  }
}

/**
 * `true` for what JSON.stringify leaves out of an object (and writes as `null` in an array):
 * `undefined`, symbols, functions. A function with a `toJSON` is not plain data: the caller checks.
 */
function isOmitted(value: unknown): boolean {
  const type = typeof value;
  return type === 'undefined' || type === 'symbol' || type === 'function';
}

function hasToJSON(value: unknown): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function isPlainPrototype(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** JSON.stringify unwraps these to their primitive value. */
function isBoxed(value: object): boolean {
  return value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof BigInt;
}

function encodeObject(value: object, buffer: Buffer, offset: number, depth: number): number {
  if (offset >= buffer.length) return NO_ROOM;
  buffer[offset++] = OPEN_BRACE;
  let first = true;
  // `for...in` visits own enumerable keys in JSON.stringify's order, then inherited ones, which it
  // would not serialize: those are left to it.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return UNUSUAL;
    const item: unknown = (value as Record<string, unknown>)[key];
    if (isOmitted(item)) {
      if (typeof item === 'function' && hasToJSON(item)) return UNUSUAL;
      continue;
    }
    if (!first) {
      if (offset >= buffer.length) return NO_ROOM;
      buffer[offset++] = COMMA;
    }
    first = false;
    offset = encodeString(key, buffer, offset);
    if (offset < 0) return offset;
    if (offset >= buffer.length) return NO_ROOM;
    buffer[offset++] = COLON;
    offset = encodeValue(item, buffer, offset, depth + 1);
    if (offset < 0) return offset;
  }
  if (offset >= buffer.length) return NO_ROOM;
  buffer[offset++] = CLOSE_BRACE;
  return offset;
}

function encodeArray(value: readonly unknown[], buffer: Buffer, offset: number, depth: number): number {
  if (offset >= buffer.length) return NO_ROOM;
  buffer[offset++] = OPEN_BRACKET;
  for (let index = 0; index < value.length; index++) {
    if (index > 0) {
      if (offset >= buffer.length) return NO_ROOM;
      buffer[offset++] = COMMA;
    }
    const item = value[index];
    if (isOmitted(item)) {
      if (typeof item === 'function' && hasToJSON(item)) return UNUSUAL;
      offset = encodeAscii('null', buffer, offset);
    } else offset = encodeValue(item, buffer, offset, depth + 1);
    if (offset < 0) return offset;
  }
  if (offset >= buffer.length) return NO_ROOM;
  buffer[offset++] = CLOSE_BRACKET;
  return offset;
}

/** Writes a string that needs no escape and is ASCII (a literal or a number's digits). */
function encodeAscii(text: string, buffer: Buffer, offset: number): number {
  if (offset + text.length > buffer.length) return NO_ROOM;
  for (let index = 0; index < text.length; index++) buffer[offset++] = text.charCodeAt(index);
  return offset;
}

function encodeNumber(value: number, buffer: Buffer, offset: number): number {
  // Small integers digit by digit; the rest as the engine prints them (-0 is written 0, as JSON does).
  if (!Number.isInteger(value) || value > 0x7fffffff || value < -0x7fffffff) {
    if (offset + NUMBER_ROOM > buffer.length) return NO_ROOM;
    return encodeAscii(String(value), buffer, offset);
  }
  if (offset + 11 > buffer.length) return NO_ROOM;
  let rest = value;
  if (rest < 0) {
    buffer[offset++] = MINUS;
    rest = -rest;
  }
  let digits = 1;
  for (let scale = 10; scale <= rest; scale *= 10) digits++;
  for (let index = offset + digits - 1; index >= offset; index--) {
    buffer[index] = ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return offset + digits;
}

/** Writes a JSON string: ASCII with no escape byte by byte, anything else as JSON.stringify quotes it. */
function encodeString(text: string, buffer: Buffer, offset: number): number {
  const length = text.length;
  if (offset + length + 2 > buffer.length) return NO_ROOM;
  let at = offset;
  buffer[at++] = QUOTE;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code >= 0x7f || code === QUOTE || code === BACKSLASH) return encodeQuoted(text, buffer, offset);
    buffer[at++] = code;
  }
  buffer[at++] = QUOTE;
  return at;
}

function encodeQuoted(text: string, buffer: Buffer, offset: number): number {
  const quoted = JSON.stringify(text);
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
  if (offset + quoted.length * 3 > buffer.length) return NO_ROOM;
  return offset + buffer.write(quoted, offset, 'utf8');
}
