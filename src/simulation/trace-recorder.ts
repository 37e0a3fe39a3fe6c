import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

// Lines are encoded into one reused buffer, hashed (and written) a chunk at a time: one
// `hash.update` per chunk rather than per line, and no string is built to join the lines.
const CHUNK_BYTES = 1 << 16;
// Deeper values (and cycles) go through the replacer, which serializes or throws as it always did.
const MAX_DEPTH = 8;
const NEWLINE = 0x0a;

/**
 * The trace: JSON lines, hashed in chunks as they are recorded, and written to a file in chunks if
 * asked. The digest is that of the lines' UTF-8 bytes one after the other, however they were chunked.
 * @internal
 */
export class TraceRecorder {
  readonly #hash: Hash = createHash('sha256');
  readonly #fd: number | undefined;
  /** Encoded lines not hashed yet, from 0 to `#used`. */
  readonly #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;

  /** @param file - where to write the trace; none keeps only its hash */
  constructor(file?: string) {
    this.#fd = file === undefined ? undefined : openSync(file, 'w');
  }

  /** Appends `entry` as one line, {@link traceLine}. */
  record(entry: object): void {
    // The newline is a byte of its own: appending it to the string would copy the whole line.
    const json = traceJson(entry);
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (this.#used + json.length * 3 + 1 > CHUNK_BYTES) {
      this.#flush();
      if (json.length * 3 + 1 > CHUNK_BYTES) {
        this.#take(Buffer.from(`${json}\n`, 'utf8'));
        return;
      }
    }
    this.#used += this.#chunk.write(json, this.#used, 'utf8');
    this.#chunk[this.#used++] = NEWLINE;
  }

  /** The SHA-256 of every line recorded, in hex; call it once, after the last line. */
  digest(): string {
    this.#flush();
    return this.#hash.digest('hex');
  }

  /** Writes what is left to the file and closes it. */
  close(): void {
    if (this.#fd === undefined) return;
    this.#flush();
    closeSync(this.#fd);
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#take(this.#chunk.subarray(0, this.#used));
    this.#used = 0;
  }

  /** Hashes bytes, and writes them to the file if there is one. */
  #take(bytes: Buffer): void {
    this.#hash.update(bytes);
    if (this.#fd !== undefined) writeSync(this.#fd, bytes);
  }
}

/**
 * An entry's trace line: exactly `JSON.stringify(entry, traceValue)` and a newline. The replacer, a
 * callback on every key, is paid only by unusual entries; an event's top-level `Error` is converted
 * up front.
 * @internal
 */
export function traceLine(entry: object): string {
  return `${traceJson(entry)}\n`;
}

/** An entry's trace line without its newline. */
function traceJson(entry: object): string {
  const plain = withPlainErrors(entry);
  return plain === undefined ? JSON.stringify(entry, traceValue) : JSON.stringify(plain);
}

/**
 * Errors become plain data in the trace: their name, message and code.
 * @internal
 */
export function traceValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { name: value.name, message: value.message } : { name: value.name, message: value.message, code };
  }
  return value;
}

/**
 * `entry`, or a shallow copy with its top-level errors as {@link traceValue} makes them, that
 * serializes without a replacer as `entry` does with it; `undefined` when that is not certain.
 */
function withPlainErrors(entry: object): object | undefined {
  if (entry instanceof Error || hasToJSON(entry) || Array.isArray(entry)) return undefined;
  let copy: Record<string, unknown> | undefined;
  // `for...in` visits every own enumerable key that JSON.stringify does (and maybe inherited ones).
  for (const key in entry) {
    const value: unknown = (entry as Record<string, unknown>)[key];
    if (isPlain(value, MAX_DEPTH)) continue;
    if (!(value instanceof Error) || hasToJSON(value) || !Object.hasOwn(entry, key)) return undefined;
    const data = traceValue(key, value);
    if (!isPlain(data, MAX_DEPTH)) return undefined;
    (copy ??= { ...entry })[key] = data;
  }
  return copy ?? entry;
}

/**
 * `true` when the replacer would leave `value` and everything in it as is: no `Error` and no
 * `toJSON` (whose result could be one) down to `depth`.
 */
function isPlain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return true;
    case 'object':
      break;
    default:
      // Functions and bigints may have a `toJSON`.
      return false;
  }
  if (value === null) return true;
  if (depth === 0 || value instanceof Error || hasToJSON(value)) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (!isPlain(value[index], depth - 1)) return false;
    return true;
  }
  for (const key in value) if (!isPlain((value as Record<string, unknown>)[key], depth - 1)) return false;
  return true;
}

function hasToJSON(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}
