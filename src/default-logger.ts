import { DeferredLogger, type LogLevel } from './deferred-logger';
import { loadWinston } from './load-on-use';
import { SILENT_LOGGER, type Logger } from './logger';

/** The levels `MEZAN_LOG_LEVEL` may name: winston's npm levels, and `silent`. */
const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'silent'] as const;

/**
 * The default logger: warnings and errors (a task that failed with nobody awaiting it, a crash, a
 * deadlock, a raised alert) go to stderr, one line each, so that they show without configuration.
 * The environment variable `MEZAN_LOG_LEVEL` (`error`, `warn`, `info`, `debug`, … or `silent`)
 * changes the level. It is a winston logger, loaded on its first line: an engine that writes none
 * never loads winston. Pass your own logger for structured logs (each line carries task and actor
 * ids), or `logger: false` for none.
 *
 * @param environment - where `MEZAN_LOG_LEVEL` is read (default: `process.env`)
 * @internal
 */
export function createDefaultLogger(environment: NodeJS.ProcessEnv = process.env): Logger {
  const fromEnvironment = environment['MEZAN_LOG_LEVEL'];
  const level = LEVELS.find((candidate) => candidate === fromEnvironment) ?? 'warn';
  if (level === 'silent') return SILENT_LOGGER;
  return new DeferredLogger(level, () => createWinstonLogger(level));
}

/** The winston logger the default logger writes to: `mezan <level>: <message> <details as JSON>` on stderr. */
function createWinstonLogger(level: LogLevel): Logger {
  const winston = loadWinston();
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
