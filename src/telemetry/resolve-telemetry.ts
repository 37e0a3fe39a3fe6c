import type { Tracer } from '@opentelemetry/api';
import { packageVersion } from '../cli/package-version';
import { expectKnownKeys, expectOptionsObject, fail, isOptionsObject } from '../internal/validate';
import { loadOpenTelemetry, type OpenTelemetryApi } from './load-opentelemetry';
import { TELEMETRY_OPTION_KEYS, type TelemetryOptions } from './telemetry-options';

/** Telemetry turned on: the API loaded and the tracer to use. @internal */
export interface ResolvedTelemetry {
  readonly api: OpenTelemetryApi;
  readonly tracer: Tracer;
}

/**
 * Validates the `telemetry` option and, when it turns telemetry on, loads `@opentelemetry/api`.
 * `false` or absent: off, and nothing is loaded. `true` or `{}`: the global tracer provider's
 * tracer named `mezan`. `{ tracer }`: that tracer.
 *
 * @param option - what the caller passed as `telemetry`
 * @param load - how to load the API (tests pass their own)
 * @returns `undefined` when telemetry is off
 * @throws {MezanError} `E_INVALID_OPTION` for a value that is neither a boolean nor `{ tracer? }`, a
 *   tracer without `startSpan`, or `@opentelemetry/api` missing
 * @internal
 */
export function resolveTelemetry(
  option: boolean | TelemetryOptions | undefined,
  load: () => OpenTelemetryApi = loadOpenTelemetry,
): ResolvedTelemetry | undefined {
  if (option === undefined || option === false) return undefined;
  let tracer: unknown;
  if (option !== true) {
    expectOptionsObject('telemetry', option, 'a boolean or { tracer }');
    expectKnownKeys('telemetry', option, TELEMETRY_OPTION_KEYS);
    tracer = option.tracer;
    if (tracer !== undefined && !(isOptionsObject(tracer) && typeof (tracer as { startSpan?: unknown }).startSpan === 'function')) {
      fail('telemetry.tracer', 'an OpenTelemetry tracer (an object with startSpan())', tracer);
    }
  }
  const api = load();
  return Object.freeze({ api, tracer: (tracer as Tracer | undefined) ?? api.trace.getTracer('mezan', packageVersion()) });
}
