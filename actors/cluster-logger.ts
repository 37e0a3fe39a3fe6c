import type { LogDetails, Logger } from '../src/logger';
import { describeThrown } from '../src/internal/describe-thrown';
import { redisRefusal } from '../src/cluster/redis-refusal';

/** How long the same error of the same part is counted, not written, after it was written. */
export const REPEATED_ERROR_INTERVAL_MS = 10_000;
/** How many different errors are counted at once; the oldest is summed up and forgotten beyond. */
const MAX_COUNTED = 64;

/** What the logger needs of the node it logs for. @internal */
export interface ClusterLoggerHost {
  /** The current time, in milliseconds. */
  now(): number;
  /** Redis refused the node while it was joining (see {@link redisRefusal}): `what` heard `reason`. Told once. */
  refused(what: string, reason: string): void;
}

/** One error of one part, written at `writtenAt`, heard `repeats` more times since. */
interface Repeated {
  readonly what: string;
  readonly error: string;
  writtenAt: number;
  repeats: number;
}

/**
 * The logger of a cluster node's parts (its queue, worker, connections). The errors they report
 * (`warnOfClusterError`) are written once, then counted: a connection that fails in a loop writes
 * one line per part and error every {@link REPEATED_ERROR_INTERVAL_MS}, with how many it left out,
 * not one per failure (a flood of lines fills the log and the heap). Until the node has joined, an
 * error by which Redis refuses it for good (wrong password, no permission) is told to the node,
 * which then gives up joining; the last error heard meanwhile says why it has not joined yet.
 * @internal
 */
export class ClusterLogger implements Logger {
  readonly #logger: Logger;
  readonly #host: ClusterLoggerHost;
  readonly #repeated = new Map<string, Repeated>();
  /** Set once the node has joined, or was refused: a refusal is then no longer told. */
  #settled = false;
  /** The last error a part reported while the node joins. */
  #lastError: { readonly what: string; readonly reason: string } | undefined = undefined;

  constructor(logger: Logger, host: ClusterLoggerHost) {
    this.#logger = logger;
    this.#host = host;
  }

  /** The node has joined: an error now is one more failure of a node that works, retried. */
  joined(): void {
    this.#settled = true;
    this.#lastError = undefined;
  }

  /** The last error a part reported while the node joins (`what` heard `reason`): why it has not joined yet. */
  get lastError(): { readonly what: string; readonly reason: string } | undefined {
    return this.#lastError;
  }

  /** Writes a part's error, or counts it if it was written less than the interval ago. */
  clusterError(what: string, thrown: unknown): void {
    if (!this.#settled) {
      const refusal = redisRefusal(thrown);
      if (refusal !== undefined) {
        this.#settled = true;
        this.#host.refused(what, refusal);
      }
    }
    const error = describeThrown(thrown);
    if (!this.#settled) this.#lastError = { what, reason: error };
    const key = `${what}\n${error}`;
    const now = this.#host.now();
    const seen = this.#repeated.get(key);
    if (seen !== undefined && now - seen.writtenAt < REPEATED_ERROR_INTERVAL_MS) {
      seen.repeats++;
      return;
    }
    if (seen !== undefined) this.#repeated.delete(key);
    this.#logger.warn(
      `cluster: ${what} reported an error`,
      seen === undefined || seen.repeats === 0 ? { error } : { error, ...this.#since(seen, now) },
    );
    this.#repeated.set(key, { what, error, writtenAt: now, repeats: 0 });
    if (this.#repeated.size > MAX_COUNTED) {
      const [oldest] = this.#repeated.values();
      this.#repeated.delete(`${oldest!.what}\n${oldest!.error}`);
      this.#sumUp(oldest!, now);
    }
  }

  /** Writes how many times each error counted and not written was heard: the node leaves. */
  flush(): void {
    const now = this.#host.now();
    for (const repeated of this.#repeated.values()) this.#sumUp(repeated, now);
    this.#repeated.clear();
  }

  #sumUp(repeated: Repeated, now: number): void {
    if (repeated.repeats > 0)
      this.#logger.warn(`cluster: ${repeated.what} reported the same error again`, { error: repeated.error, ...this.#since(repeated, now) });
  }

  /** The count of a repeated error: `repeated` times (not written) in the `sinceMs` since it was last written. */
  #since(repeated: Repeated, now: number): LogDetails {
    return { repeated: repeated.repeats, sinceMs: now - repeated.writtenAt };
  }

  error(message: string, details?: LogDetails): unknown {
    return this.#logger.error(message, details);
  }

  warn(message: string, details?: LogDetails): unknown {
    return this.#logger.warn(message, details);
  }

  info(message: string, details?: LogDetails): unknown {
    return this.#logger.info(message, details);
  }

  debug(message: string, details?: LogDetails): unknown {
    return this.#logger.debug(message, details);
  }

  child(details: LogDetails): Logger {
    return this.#logger.child(details);
  }

  isLevelEnabled(level: string): boolean {
    return this.#logger.isLevelEnabled?.(level) ?? true;
  }
}
