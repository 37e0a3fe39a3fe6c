import winston from 'winston';

/** The logger mezan writes to: a winston logger (or anything with the same `child` and level methods). */
export type Logger = winston.Logger;

/** The levels `MEZAN_LOG_LEVEL` may name: winston's npm levels, and `silent`. */
const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent'] as const;

/**
 * A silent logger: what `logger: false` gives, for an engine that must print nothing.
 */
export function createQuietLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

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
