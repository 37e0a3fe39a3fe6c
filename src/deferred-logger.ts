import type { LogDetails, Logger } from './logger';

/** winston's npm levels by severity: a logger at a level writes the lines of that level and above. */
const SEVERITY: Readonly<Record<string, number>> = Object.freeze({ error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 });

/** The levels {@link DeferredLogger} knows, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';

/**
 * A logger that makes the logger it writes to only when it first writes a line at its level, so
 * that an engine that logs nothing never loads the logging library. It answers `isLevelEnabled`
 * itself; its children are deferred too, each made from its parent's logger on its own first line.
 *
 * @internal
 */
export class DeferredLogger implements Logger {
  readonly #level: LogLevel;
  readonly #make: () => Logger;
  #target: Logger | undefined = undefined;

  /**
   * @param level - the least severe level written; lines below it are dropped without making the logger
   * @param make - makes the logger written to, called at most once
   */
  constructor(level: LogLevel, make: () => Logger) {
    this.#level = level;
    this.#make = make;
  }

  isLevelEnabled(level: string): boolean {
    const severity = SEVERITY[level];
    return severity !== undefined && severity <= (SEVERITY[this.#level] as number);
  }

  error(message: string, details?: LogDetails): unknown {
    return this.#write('error', message, details);
  }

  warn(message: string, details?: LogDetails): unknown {
    return this.#write('warn', message, details);
  }

  info(message: string, details?: LogDetails): unknown {
    return this.#write('info', message, details);
  }

  debug(message: string, details?: LogDetails): unknown {
    return this.#write('debug', message, details);
  }

  child(details: LogDetails): Logger {
    return new DeferredLogger(this.#level, () => this.#logger().child(details));
  }

  #write(level: 'error' | 'warn' | 'info' | 'debug', message: string, details: LogDetails | undefined): unknown {
    if (!this.isLevelEnabled(level)) return undefined;
    const target = this.#logger();
    return details === undefined ? target[level](message) : target[level](message, details);
  }

  #logger(): Logger {
    this.#target ??= this.#make();
    return this.#target;
  }
}
