import winston from 'winston';

/** The logger mezan writes to: a winston logger (or anything with the same `child` and level methods). */
export type Logger = winston.Logger;

/**
 * The default logger: silent, so an embedded engine prints nothing unless given a logger.
 * Pass your own winston logger to see mezan's structured logs (each line carries task and actor ids).
 */
export function createQuietLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
