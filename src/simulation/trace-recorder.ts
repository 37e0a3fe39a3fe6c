import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeTraceJson, NO_ROOM } from './trace-json-encoder';
import { traceValue } from './trace-value';

export { traceValue } from './trace-value';

// Lines are encoded straight into one reused buffer, hashed (and written) a chunk at a time: one
// `hash.update` per chunk rather than per line, and no string is built for a line.
const CHUNK_BYTES = 1 << 16;
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
    let end = encodeTraceJson(entry, this.#chunk, this.#used);
    if (end === NO_ROOM && this.#used > 0) {
      this.#flush();
      end = encodeTraceJson(entry, this.#chunk, 0);
    }
    // The room for the newline is a byte that could have been JSON.
    if (end >= 0 && end < CHUNK_BYTES) {
      this.#chunk[end] = NEWLINE;
      this.#used = end + 1;
      return;
    }
    // An entry larger than a chunk, or one the encoder leaves to JSON.stringify.
    this.#flush();
    this.#take(Buffer.from(traceLine(entry), 'utf8'));
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
 * An entry's trace line: exactly `JSON.stringify(entry, traceValue)` and a newline.
 * @internal
 */
export function traceLine(entry: object): string {
  return `${JSON.stringify(entry, traceValue)}\n`;
}
