import { MezanError } from '../errors';

/** `@opentelemetry/api`, the module. @internal */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The package mezan's telemetry needs, an optional peer dependency. */
const PACKAGE = '@opentelemetry/api';

/**
 * Loads `@opentelemetry/api` when telemetry is turned on, and only then: the core never imports it,
 * so an application without it (or without telemetry) loads nothing of OpenTelemetry.
 *
 * @param load - how to load a module (Node's `require`; tests pass their own)
 * @throws {MezanError} `E_INVALID_OPTION` (option `telemetry`, `details.missing` naming the package)
 *   when the package is not installed: the option asks for what this installation does not have
 * @internal
 */
export function loadOpenTelemetry(load: (id: string) => unknown = require): OpenTelemetryApi {
  try {
    return load(PACKAGE) as OpenTelemetryApi;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new MezanError('E_INVALID_OPTION', `The option \`telemetry\` needs ${PACKAGE}, which is not installed: npm install ${PACKAGE}`, {
      cause: error,
      details: { option: 'telemetry', missing: PACKAGE },
    });
  }
}

/** Whether `error` says that the package itself cannot be found (not one of its own imports failing). */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && error.message.includes(`'${PACKAGE}'`);
}
