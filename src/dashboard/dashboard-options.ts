import { expectFunction, expectKnownKeys, expectNonEmptyString, expectPositiveInteger, fail, MAX_TIMER_MS } from '../internal/validate';

/** Options of `serveDashboard`. */
export interface DashboardOptions {
  /** The TCP port; `0` picks a free one (read it from the returned `url`). @default 0 */
  port?: number;
  /** The address to listen on. Keep the loopback default unless the page must be seen from elsewhere. @default '127.0.0.1' */
  host?: string;
  /**
   * The engine's time now, for the page's clock and charts (a simulation passes its paced virtual
   * time). @default the time of the latest engine event
   */
  now?: () => number;
  /** Real milliseconds between two updates streamed to the page, up to 2^31 − 1. @default 100 */
  updateIntervalMs?: number;
  /** How many recent events a page gets when it connects. @default 2000 */
  eventBuffer?: number;
  /** How many chart samples a page gets when it connects. @default 1200 */
  sampleBuffer?: number;
  /** How many event streams may be open at once; more are refused with 503. @default 32 */
  maxClients?: number;
  /**
   * Real milliseconds between two reads of the cluster's view from Redis, while a page is open (a
   * cluster node's dashboard only). @default 1000
   */
  clusterIntervalMs?: number;
}

/** {@link DashboardOptions} with every field filled. @internal */
export interface ResolvedDashboardOptions {
  readonly port: number;
  readonly host: string;
  readonly now: (() => number) | undefined;
  readonly updateIntervalMs: number;
  readonly eventBuffer: number;
  readonly sampleBuffer: number;
  readonly maxClients: number;
  readonly clusterIntervalMs: number;
}

/** The defaults of {@link DashboardOptions}. */
export const DASHBOARD_DEFAULTS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  updateIntervalMs: 100,
  eventBuffer: 2000,
  sampleBuffer: 1200,
  maxClients: 32,
  clusterIntervalMs: 1000,
});

/** Every key of {@link DashboardOptions}, for the check of unknown keys. */
const DASHBOARD_OPTION_KEYS: Readonly<Record<keyof DashboardOptions, true>> = Object.freeze({
  port: true,
  host: true,
  now: true,
  updateIntervalMs: true,
  eventBuffer: true,
  sampleBuffer: true,
  maxClients: true,
  clusterIntervalMs: true,
});

const MAX_PORT = 65_535;

/**
 * Validates and fills {@link DashboardOptions}.
 * @throws {MezanError} `E_INVALID_OPTION` naming the option and the value received
 * @internal
 */
export function resolveDashboardOptions(options: DashboardOptions = {}): ResolvedDashboardOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options);
  expectKnownKeys('', options, DASHBOARD_OPTION_KEYS);
  const port = options.port ?? DASHBOARD_DEFAULTS.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > MAX_PORT) fail('port', `an integer from 0 to ${MAX_PORT}`, port);
  const host = options.host ?? DASHBOARD_DEFAULTS.host;
  expectNonEmptyString('host', host);
  if (options.now !== undefined) expectFunction('now', options.now);
  const updateIntervalMs = options.updateIntervalMs ?? DASHBOARD_DEFAULTS.updateIntervalMs;
  // The interval of a host timer: a longer one would fire every millisecond.
  if (typeof updateIntervalMs !== 'number' || !Number.isInteger(updateIntervalMs) || updateIntervalMs < 1 || updateIntervalMs > MAX_TIMER_MS)
    fail('updateIntervalMs', `a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`, updateIntervalMs);
  const eventBuffer = options.eventBuffer ?? DASHBOARD_DEFAULTS.eventBuffer;
  expectPositiveInteger('eventBuffer', eventBuffer);
  const sampleBuffer = options.sampleBuffer ?? DASHBOARD_DEFAULTS.sampleBuffer;
  expectPositiveInteger('sampleBuffer', sampleBuffer);
  const maxClients = options.maxClients ?? DASHBOARD_DEFAULTS.maxClients;
  expectPositiveInteger('maxClients', maxClients);
  const clusterIntervalMs = options.clusterIntervalMs ?? DASHBOARD_DEFAULTS.clusterIntervalMs;
  expectPositiveInteger('clusterIntervalMs', clusterIntervalMs);
  return Object.freeze({ port, host, now: options.now, updateIntervalMs, eventBuffer, sampleBuffer, maxClients, clusterIntervalMs });
}
