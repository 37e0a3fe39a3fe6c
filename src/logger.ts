import winston from 'winston';

/** Structured details of a log line: task and actor ids, error codes, figures. */
export type LogDetails = Record<string, unknown>;

/**
 * The logger mezan writes to: winston's and pino's fit it as they are, and so does any object with
 * these methods (wrap `console` in one). Each writing method takes a message and, optionally, the
 * line's structured details. `child` gives a logger whose lines carry `details` too. When
 * `isLevelEnabled` is there, mezan asks it before building a debug line.
 */
export interface Logger {
  error(message: string, details?: LogDetails): unknown;
  warn(message: string, details?: LogDetails): unknown;
  info(message: string, details?: LogDetails): unknown;
  debug(message: string, details?: LogDetails): unknown;
  child(details: LogDetails): Logger;
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

/** The levels `MEZAN_LOG_LEVEL` may name: winston's npm levels, and `silent`. */
const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent'] as const;

/**
 * A silent logger: what `logger: false` gives, for an engine that must print nothing.
 */
export function createQuietLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
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
 * The default logger: warnings and errors (a task that failed with nobody awaiting it, a crash, a
 * deadlock, a raised alert) go to stderr, one line each, so that they show without configuration.
 * The environment variable `MEZAN_LOG_LEVEL` (`error`, `warn`, `info`, `debug`, … or `silent`)
 * changes the level. Pass your own winston logger for structured logs (each line carries task and
 * actor ids), or `logger: false` for none.
 */
export function createDefaultLogger(): Logger {
  const fromEnvironment = process.env['MEZAN_LOG_LEVEL'];
  const level = LEVELS.find((candidate) => candidate === fromEnvironment) ?? 'warn';
  if (level === 'silent') return createQuietLogger();
  return winston.createLogger({
    level,
    format: winston.format.combine(
      winston.format.label({ label: 'mezan' }),
      winston.format.printf(({ level: written, message, label, ...meta }) => {
        const details = Object.keys(meta).length === 0 ? '' : ` ${JSON.stringify(meta)}`;
        return `${String(label)} ${written}: ${String(message)}${details}`;
      }),
    ),
    transports: [new winston.transports.Console({ stderrLevels: [...LEVELS] })],
  });
}
