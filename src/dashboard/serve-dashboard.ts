import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { DashboardMonitor } from './dashboard-monitor';
import { EventStreamHub } from './event-stream-hub';
import type { DashboardEngine } from './dashboard-engine';
import { resolveDashboardOptions, type DashboardOptions } from './dashboard-options';
import { readDashboardClientScript } from './dashboard-client-script';
import { drawnMachineViews } from './machine-views';
import { DASHBOARD_HTML } from './page/dashboard-html';
import { DASHBOARD_STYLES } from './page/dashboard-styles';

export type { DashboardSnapshotMessage, DashboardUpdateMessage } from './event-stream-hub';

/** A running dashboard: where to open it, and how to stop it. */
export interface DashboardServer {
  /** The page's address, such as `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** Stops serving: ends the event streams, closes the server and stops watching the engine. Idempotent. */
  close(): Promise<void>;
}

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Serves a live dashboard of an engine on `http://127.0.0.1:<port>/`: the actor tree with each
 * actor's state on its machine diagram, the wait-for graph with the latest deadlock's cycle and
 * victim, charts, alerts and a filterable event log. Updates stream to the page as server-sent
 * events. Every file the page loads comes from this package; nothing is fetched from the network.
 *
 * Routes: `/` (the page), `/dashboard.js` (the page's script, with Cytoscape.js and Chart.js bundled
 * in at build time), `/dashboard.css`, `/machines` (the machines with their diagrams laid out as SVG
 * on the server, JSON), `/state` (a
 * snapshot of the engine's state, JSON), `/events` (server-sent events: `snapshot`, then `update`s),
 * `/cluster` (the cluster read from Redis now, JSON, when the engine is a cluster node; 404
 * otherwise) and `/metrics` (`engine.prometheus()`, when the engine has it; 404 otherwise). A
 * cluster node's state carries its cluster too, read every `clusterIntervalMs` while a page watches.
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
  const hub = new EventStreamHub(monitor, resolved.maxClients);
  const server = createServer((request, response) => {
    // A page on another site that rebinds its name to this address must not read the dashboard.
    if (!isAllowedHost(request.headers.host, resolved.host)) {
      send(response, 403, 'text/plain; charset=utf-8', 'forbidden: the Host header must name this address or localhost\n');
      return;
    }
    void route(request, response, engine, monitor, hub);
  });
  try {
    await listen(server, resolved.port, resolved.host);
  } catch (error) {
    monitor.close();
    throw error;
  }
  const timer = setInterval(() => {
    // The cluster is read only while a page watches (the first read was made when the monitor began).
    if (hub.size > 0) monitor.refreshCluster();
    hub.flush();
  }, resolved.updateIntervalMs);
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

/**
 * Whether a request's `Host` names the dashboard itself: `localhost`, the address it listens on, or
 * any IP literal (a DNS rebinding attack needs a name it controls, never an IP literal).
 */
function isAllowedHost(header: string | undefined, boundHost: string): boolean {
  if (header === undefined || header.length === 0) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return bare === 'localhost' || bare === boundHost || isIP(bare) !== 0;
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
        return send(response, 200, 'text/javascript; charset=utf-8', await readDashboardClientScript(__dirname));
      case '/dashboard.css':
        return send(response, 200, 'text/css; charset=utf-8', DASHBOARD_STYLES);
      case '/machines':
        return sendJson(response, await drawnMachineViews());
      case '/state':
        return sendJson(response, monitor.state());
      case '/events':
        return hub.attach(request, response);
      case '/cluster': {
        const view = typeof engine.clusterView === 'function' ? await engine.clusterView() : undefined;
        if (view === undefined) return send(response, 404, 'text/plain; charset=utf-8', 'this engine is not a cluster node (no `cluster` option)\n');
        return sendJson(response, view);
      }
      case '/favicon.ico':
        response.writeHead(204).end();
        return;
      case '/metrics':
        if (typeof engine.prometheus !== 'function')
          return send(response, 404, 'text/plain; charset=utf-8', 'this engine has no prometheus() metrics\n');
        return send(response, 200, PROMETHEUS_CONTENT_TYPE, await engine.prometheus());
      default:
        return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  } catch (error) {
    if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `${error instanceof Error ? error.message : String(error)}\n`);
    else response.destroy();
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function sendJson(response: ServerResponse, value: unknown): void {
  send(response, 200, 'application/json; charset=utf-8', JSON.stringify(value));
}
