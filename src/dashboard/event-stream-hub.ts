import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardEvent, DashboardMonitor, DashboardSample, DashboardState } from './dashboard-monitor';

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
/** A stream that has this much unsent and still does not read is dropped (it reconnects with a fresh snapshot). */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

/** What the hub keeps of one open stream. */
interface Client {
  /** The numbers of the last event and sample it got (its snapshot may hold some not yet flushed). */
  seq: number;
  n: number;
  /** Set while its socket's buffer is full: it gets nothing until it drains, then one update with all it missed. */
  congested: boolean;
}

/**
 * The open `/events` streams. Updates are batched: every `updateIntervalMs` the events since the
 * last batch go out with a fresh state, so a burst of thousands of events costs one message. A
 * stream that stops reading gets nothing more until its socket drains, then one coalesced update
 * (its buffer never holds more than one message beyond the socket's own); one whose unsent bytes pass
 * a bound anyway is dropped. At most `maxClients` streams are open at once; more get 503.
 *
 * @internal
 */
export class EventStreamHub {
  readonly #monitor: DashboardMonitor;
  readonly #maxClients: number;
  readonly #clients = new Map<ServerResponse, Client>();
  #lastSentAt = 0;
  #lastHeartbeatAt = Date.now();

  constructor(monitor: DashboardMonitor, maxClients: number) {
    this.#monitor = monitor;
    this.#maxClients = maxClients;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#clients.size;
  }

  attach(request: IncomingMessage, response: ServerResponse): void {
    if (this.#clients.size >= this.#maxClients) {
      response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      response.end(`too many event streams (at most ${this.#maxClients})\n`);
      return;
    }
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
    const client: Client = { seq: snapshot.events.at(-1)?.seq ?? 0, n: snapshot.samples.at(-1)?.n ?? 0, congested: false };
    this.#clients.set(response, client);
    this.#write(response, client, `retry: 1000\n\n${message('snapshot', snapshot)}`);
    response.on('drain', () => this.#drained(response, client));
    request.on('close', () => this.#clients.delete(response));
  }

  /** Sends what happened since the last flush (or the state alone, now and then), to every stream that reads. */
  flush(): void {
    const { events, samples, cluster } = this.#monitor.takeUpdate();
    const now = Date.now();
    if (this.#clients.size === 0) return;
    if (events.length === 0 && samples.length === 0 && !cluster && now - this.#lastSentAt < IDLE_UPDATE_MS) {
      if (now - this.#lastHeartbeatAt >= HEARTBEAT_MS) {
        this.#lastHeartbeatAt = now;
        for (const [response, client] of this.#clients) if (!client.congested) this.#write(response, client, ': heartbeat\n\n');
      }
      return;
    }
    const state = this.#monitor.state();
    const shared = message('update', { state, events, samples } satisfies DashboardUpdateMessage);
    const lastSeq = events.at(-1)?.seq;
    const lastN = samples.at(-1)?.n;
    for (const [response, client] of this.#clients) {
      // A congested stream is skipped; what it misses goes out in one update once it drains.
      if (client.congested) continue;
      // A stream opened since the last flush got some of these in its snapshot.
      const fresh = (events[0]?.seq ?? Infinity) > client.seq && (samples[0]?.n ?? Infinity) > client.n;
      this.#write(response, client, fresh ? shared : message('update', this.#since(client, state, events, samples)));
      client.seq = lastSeq ?? client.seq;
      client.n = lastN ?? client.n;
    }
    this.#lastSentAt = now;
    this.#lastHeartbeatAt = now;
  }

  close(): void {
    for (const client of this.#clients.keys()) client.end();
    this.#clients.clear();
  }

  /** The socket took what was waiting: the stream gets, in one update, everything it missed that the monitor still keeps. */
  #drained(response: ServerResponse, client: Client): void {
    if (!client.congested || !this.#clients.has(response)) return;
    client.congested = false;
    const update = this.#since(client, this.#monitor.state(), this.#monitor.recentEvents(), this.#monitor.samples());
    this.#write(response, client, message('update', update));
    client.seq = update.events.at(-1)?.seq ?? client.seq;
    client.n = update.samples.at(-1)?.n ?? client.n;
  }

  #since(client: Client, state: DashboardState, events: readonly DashboardEvent[], samples: readonly DashboardSample[]): DashboardUpdateMessage {
    return { state, events: events.filter((event) => event.seq > client.seq), samples: samples.filter((sample) => sample.n > client.n) };
  }

  #write(response: ServerResponse, client: Client, text: string): void {
    if (response.writableLength > MAX_UNSENT_BYTES) {
      this.#clients.delete(response);
      response.destroy();
      return;
    }
    if (!response.write(text)) client.congested = true;
  }
}

function message(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
