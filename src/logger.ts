/** Structured details of a log line: task and actor ids, error codes, figures. */
export type LogDetails = Record<string, unknown>;

/**
 * The logger mezan writes to: winston's and pino's fit it as they are, and so does any object with
 * these methods (wrap `console` in one). Each writing method takes a message and, optionally, the
 * line's structured details. `child` gives a logger whose lines carry `details` too. When
 * `isLevelEnabled` is there, mezan asks it before building a debug line.
 */
export interface Logger {
  /** Writes an error line: something failed that nobody else will report. */
  error(message: string, details?: LogDetails): unknown;
  /** Writes a warning line: a deadlock, a raised alert, a deprecated option... */
  warn(message: string, details?: LogDetails): unknown;
  /** Writes an informational line. */
  info(message: string, details?: LogDetails): unknown;
  /** Writes a debug line. */
  debug(message: string, details?: LogDetails): unknown;
  /** A logger whose lines also carry `details` (an actor's or a task's ids). */
  child(details: LogDetails): Logger;
  /** Whether lines of `level` are written; when there, asked before a debug line is built. */
  isLevelEnabled?(level: string): boolean;
}

/** The methods of a {@link Logger} mezan calls: a logger given must have each as a function. @internal */
export const LOGGER_METHODS = ['child', 'error', 'warn', 'info', 'debug'] as const;

/**
 * The first of {@link LOGGER_METHODS} that `logger` does not have as a function, or `undefined`
 * when it has them all. Reads the properties (a throwing getter throws).
 * @internal
 */
export function missingLoggerMethod(logger: object): (typeof LOGGER_METHODS)[number] | undefined {
  return LOGGER_METHODS.find((method) => typeof (logger as Record<string, unknown>)[method] !== 'function');
}

const writeNothing = (): void => undefined;

/**
 * What `logger: false` gives: a logger that writes nothing and costs nothing per line. Not a
 * winston logger: a silent one still builds each record and passes it through its streams (a
 * simulation logs every alert and deadlock). It has the methods mezan calls, and winston's levels.
 * @internal
 */
export const SILENT_LOGGER: Logger = Object.freeze({
  child: (): Logger => SILENT_LOGGER,
  log: writeNothing,
  error: writeNothing,
  warn: writeNothing,
  info: writeNothing,
  http: writeNothing,
  verbose: writeNothing,
  debug: writeNothing,
  silly: writeNothing,
  isLevelEnabled: (): boolean => false,
}) as unknown as Logger;

/**
 * A silent logger: what `logger: false` gives, for an engine (or a part of one) that must print
 * nothing. It costs nothing per line.
 *
 * @example
 * ```ts
 * const engine = createEngine({ logger: createQuietLogger() });
 * ```
 */
export function createQuietLogger(): Logger {
  return SILENT_LOGGER;
}
