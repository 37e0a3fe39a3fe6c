import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DashboardMonitor, type DashboardEvent, type DashboardSample, type DashboardState } from './dashboard-monitor';
import type { DashboardEngine } from './dashboard-engine';
import { resolveDashboardOptions, type DashboardOptions } from './dashboard-options';
import { machineViews } from './machine-views';
import { DASHBOARD_HTML } from './page/dashboard-html';
import { DASHBOARD_SCRIPT } from './page/dashboard-script';
import { DASHBOARD_STYLES } from './page/dashboard-styles';
import { readVendorAsset } from './vendor-assets';

/** A running dashboard: where to open it, and how to stop it. */
export interface DashboardServer {
  /** The page's address, such as `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** Stops serving: ends the event streams, closes the server and stops watching the engine. Idempotent. */
  close(): Promise<void>;
}

/** What the first message of `/events` carries: everything a page needs to draw itself. */
export interface DashboardSnapshotMessage {
  readonly state: DashboardState;
  readonly events: readonly DashboardEvent[];
  readonly samples: readonly DashboardSample[];
}

/** What each later message of `/events` carries: the state now and what happened since the last one. */
export type DashboardUpdateMessage = DashboardSnapshotMessage;

/** A state is sent at least this often, even when no event happened (the clock moves on). */
const IDLE_UPDATE_MS = 1000;
/** A comment line keeps idle event streams open through proxies. */
const HEARTBEAT_MS = 15_000;
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Serves a live dashboard of an engine on `http://127.0.0.1:<port>/`: the actor tree with each
 * actor's state on its machine diagram, the wait-for graph with the latest deadlock's cycle and
 * victim, charts, alerts and a filterable event log. Updates stream to the page as server-sent
 * events. Every file the page loads comes from this package and its dependencies; nothing is
 * fetched from the network.
 *
 * Routes: `/` (the page), `/dashboard.js`, `/dashboard.css`, `/vendor/*` (Mermaid, Cytoscape.js and
 * Chart.js from `node_modules`), `/machines` (the machines' diagrams, JSON), `/state` (a
 * {@link DashboardState}, JSON), `/events` (server-sent events: `snapshot`, then `update`s) and
 * `/metrics` (`engine.prometheus()`, when the engine has it; 404 otherwise).
 *
 * @param engine - the engine to watch (only its public getters and `events$` are read)
 * @param options - see {@link DashboardOptions}
 * @returns once listening: the page's `url` and `close()`
 * @throws {MezanError} `E_INVALID_OPTION` for a bad option (the promise rejects)
 * @example
 * ```ts
 * const dashboard = await serveDashboard(engine, { port: 7077 });
 * console.log(`open ${dashboard.url}`);
 * // ...
 * await dashboard.close();
 * ```
 */
export async function serveDashboard(engine: DashboardEngine, options: DashboardOptions = {}): Promise<DashboardServer> {
  const resolved = resolveDashboardOptions(options);
  const monitor = new DashboardMonitor(engine, resolved);
  const hub = new EventStreamHub(monitor);
  const server = createServer((request, response) => void route(request, response, engine, monitor, hub));
  try {
    await listen(server, resolved.port, resolved.host);
  } catch (error) {
    monitor.close();
    throw error;
  }
  const timer = setInterval(() => hub.flush(), resolved.updateIntervalMs);
  timer.unref();
  const { port } = server.address() as AddressInfo;
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | undefined;
  return Object.freeze({
    url: `http://${host}:${port}/`,
    close: () => {
      closing ??= (async () => {
        clearInterval(timer);
        hub.close();
        monitor.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  engine: DashboardEngine,
  monitor: DashboardMonitor,
  hub: EventStreamHub,
): Promise<void> {
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    switch (path) {
      case '/':
      case '/index.html':
        return send(response, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
      case '/dashboard.js':
        return send(response, 200, 'text/javascript; charset=utf-8', DASHBOARD_SCRIPT);
      case '/dashboard.css':
        return send(response, 200, 'text/css; charset=utf-8', DASHBOARD_STYLES);
      case '/machines':
        return sendJson(response, machineViews());
      case '/state':
        return sendJson(response, monitor.state());
      case '/events':
        return hub.attach(request, response);
      case '/favicon.ico':
        response.writeHead(204).end();
        return;
      case '/metrics':
        if (typeof engine.prometheus !== 'function')
          return send(response, 404, 'text/plain; charset=utf-8', 'this engine has no prometheus() metrics\n');
        return send(response, 200, PROMETHEUS_CONTENT_TYPE, await engine.prometheus());
      default: {
        const asset = path.startsWith('/vendor/') ? readVendorAsset(path) : undefined;
        if (asset !== undefined) return send(response, 200, 'text/javascript; charset=utf-8', asset, 'public, max-age=3600');
        return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
      }
    }
  } catch (error) {
    if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `${error instanceof Error ? error.message : String(error)}\n`);
    else response.destroy();
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, cache = 'no-store'): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': cache });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function sendJson(response: ServerResponse, value: unknown): void {
  send(response, 200, 'application/json; charset=utf-8', JSON.stringify(value));
}

/**
 * The open `/events` streams. Updates are batched: every `updateIntervalMs` the events since the
 * last batch go out with a fresh state, so a burst of thousands of events costs one message.
 */
class EventStreamHub {
  readonly #monitor: DashboardMonitor;
  /** Each open stream, with the numbers of the last event and sample it got (its snapshot may hold some not yet flushed). */
  readonly #clients = new Map<ServerResponse, { readonly seq: number; readonly n: number }>();
  #lastSentAt = 0;
  #lastHeartbeatAt = Date.now();

  constructor(monitor: DashboardMonitor) {
    this.#monitor = monitor;
  }

  attach(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    // Sampled first, so the snapshot's charts reach the state it carries.
    this.#monitor.sample();
    const snapshot: DashboardSnapshotMessage = {
      state: this.#monitor.state(),
      events: this.#monitor.recentEvents(),
      samples: this.#monitor.samples(),
    };
    response.write(`retry: 1000\n\n${message('snapshot', snapshot)}`);
    this.#clients.set(response, { seq: snapshot.events.at(-1)?.seq ?? 0, n: snapshot.samples.at(-1)?.n ?? 0 });
    request.on('close', () => this.#clients.delete(response));
  }

  /** Sends what happened since the last flush (or the state alone, now and then), to every stream. */
  flush(): void {
    const { events, samples } = this.#monitor.takeUpdate();
    const now = Date.now();
    if (this.#clients.size === 0) return;
    if (events.length === 0 && samples.length === 0 && now - this.#lastSentAt < IDLE_UPDATE_MS) {
      if (now - this.#lastHeartbeatAt >= HEARTBEAT_MS) {
        this.#lastHeartbeatAt = now;
        for (const client of this.#clients.keys()) client.write(': heartbeat\n\n');
      }
      return;
    }
    const state = this.#monitor.state();
    const shared = message('update', { state, events, samples } satisfies DashboardUpdateMessage);
    const lastSeq = events.at(-1)?.seq;
    const lastN = samples.at(-1)?.n;
    for (const [client, seen] of this.#clients) {
      // A stream opened since the last flush got some of these in its snapshot.
      const fresh = (events[0]?.seq ?? Infinity) > seen.seq && (samples[0]?.n ?? Infinity) > seen.n;
      const update: DashboardUpdateMessage = { state, events: events.filter((e) => e.seq > seen.seq), samples: samples.filter((s) => s.n > seen.n) };
      client.write(fresh ? shared : message('update', update));
      this.#clients.set(client, { seq: lastSeq ?? seen.seq, n: lastN ?? seen.n });
    }
    this.#lastSentAt = now;
    this.#lastHeartbeatAt = now;
  }

  close(): void {
    for (const client of this.#clients.keys()) client.end();
    this.#clients.clear();
  }
}

function message(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
