import { EventEmitter } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DashboardEvent, DashboardMonitor, DashboardSample, DashboardState } from '../../src/dashboard/dashboard-monitor';
import { EventStreamHub } from '../../src/dashboard/event-stream-hub';
import { createEngine, type Engine } from '../../src/engine';
import type { DashboardServer } from '../../src/dashboard/serve-dashboard';

/** A GET with the headers given; resolves with the status once the head arrives (the body is left unread). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers }, (response) => resolve({ status: response.statusCode ?? 0, response }));
    request.on('error', reject);
    request.end();
  });
}

describe('the dashboard server guards itself', () => {
  let engine: Engine;
  let server: DashboardServer;
  beforeEach(async () => {
    engine = createEngine({ concurrency: 1, logger: false });
    server = await engine.serveDashboard({ maxClients: 2 });
  });
  afterEach(async () => {
    await server.close();
    await engine.shutdown();
  });

  it('answers 403 to a Host that is not this address, localhost or an IP literal (DNS rebinding)', async () => {
    const { port } = new URL(server.url);
    const forbidden = await get(new URL('/state', server.url).href, { host: `evil.example:${port}` });
    expect(forbidden.status).toBe(403);
    forbidden.response.resume();
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const allowed = await get(new URL('/state', server.url).href, { host });
      expect({ host, status: allowed.status }).toEqual({ host, status: 200 });
      allowed.response.resume();
    }
  });

  it('refuses event streams past maxClients with 503, and takes one again once a stream closes', async () => {
    const events = new URL('/events', server.url).href;
    const first = await get(events);
    const second = await get(events);
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await get(events);
    expect(third.status).toBe(503);
    third.response.resume();
    const closed = new Promise((resolve) => first.response.on('close', resolve));
    first.response.destroy();
    await closed;
    // The server hears of the close on its own turn.
    let again = await get(events);
    for (let tries = 0; again.status === 503 && tries < 50; tries++) {
      again.response.resume();
      await new Promise((resolve) => setImmediate(resolve));
      again = await get(events);
    }
    expect(again.status).toBe(200);
    second.response.destroy();
    again.response.destroy();
  });
});

/** A monitor stand-in whose events the test adds. */
class FakeMonitor {
  readonly events: DashboardEvent[] = [];
  #taken = 0;
  add(count: number): void {
    for (let index = 0; index < count; index++) this.events.push({ seq: this.events.length + 1 } as DashboardEvent);
  }
  sample(): void {}
  state(): DashboardState {
    return {} as DashboardState;
  }
  recentEvents(): readonly DashboardEvent[] {
    return this.events;
  }
  samples(): readonly DashboardSample[] {
    return [];
  }
  takeUpdate(): { events: DashboardEvent[]; samples: DashboardSample[] } {
    const events = this.events.slice(this.#taken);
    this.#taken = this.events.length;
    return { events, samples: [] };
  }
}

/** A response stand-in: it keeps what was written, and its socket accepts writes only while `open`. */
class FakeResponse extends EventEmitter {
  readonly written: string[] = [];
  open = true;
  writableLength = 0;
  destroyed = false;
  writeHead(): this {
    return this;
  }
  write(text: string): boolean {
    this.written.push(text);
    if (!this.open) this.writableLength += text.length;
    return this.open;
  }
  end(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

const seqsOf = (text: string): number[] =>
  (JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as { events: Array<{ seq: number }> }).events.map((event) => event.seq);

describe('EventStreamHub: a stream that stops reading', () => {
  function attached() {
    const monitor = new FakeMonitor();
    const hub = new EventStreamHub(monitor as unknown as DashboardMonitor, 4);
    const response = new FakeResponse();
    hub.attach(Object.assign(new EventEmitter(), { method: 'GET' }) as unknown as IncomingMessage, response as unknown as ServerResponse);
    return { monitor, hub, response };
  }

  it('gets nothing while its buffer is full, then everything it missed in one update once it drains', () => {
    const { monitor, hub, response } = attached();
    expect(response.written).toHaveLength(1); // the snapshot
    response.open = false;
    monitor.add(3);
    hub.flush(); // written, but the socket is full from here on
    expect(response.written).toHaveLength(2);
    for (let round = 0; round < 100; round++) {
      monitor.add(10);
      hub.flush();
    }
    expect(response.written).toHaveLength(2);
    response.open = true;
    response.writableLength = 0;
    response.emit('drain');
    expect(response.written).toHaveLength(3);
    expect(seqsOf(response.written[2]!)).toEqual(Array.from({ length: 1000 }, (_, index) => index + 4));
    monitor.add(1);
    hub.flush();
    expect(seqsOf(response.written[3]!)).toEqual([1004]);
  });

  it('is dropped when its unsent bytes pass the bound anyway', () => {
    const { monitor, hub, response } = attached();
    response.writableLength = 5 * 1024 * 1024;
    monitor.add(1);
    hub.flush();
    expect(response.destroyed).toBe(true);
    expect(hub.size).toBe(0);
  });
});
