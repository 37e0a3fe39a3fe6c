import type { Subscription } from 'rxjs';
import type { ClusterView } from '../cluster/cluster-view';
import type { EngineEvent } from '../engine-events';
import type { EngineProgress, EngineStats } from '../engine-snapshots';
import type { WaitForGraphSnapshot } from '../detection/wait-for-graph';
import { readActorTree, readAgentMailboxes, type ActorPhases, type DashboardActor } from './actor-tree';
import type { DashboardEngine } from './dashboard-engine';

/** An engine event as the page gets it: plain JSON (errors as `{ name, message, code }`), numbered. */
export interface DashboardEvent {
  /** Its number among the events this dashboard saw, from 1. */
  readonly seq: number;
  readonly type: string;
  readonly at: number;
  readonly [field: string]: unknown;
}

/** A deadlock as the page draws it: the graph at detection, the cycle, and how it was resolved. */
export interface DashboardDeadlock {
  readonly at: number;
  readonly deadlocked: readonly string[];
  /** Closed: the first id repeated at the end. */
  readonly cycle: readonly string[];
  /** The wait-for graph at the moment of detection (the live one changes at once when it is resolved). */
  readonly graph: WaitForGraphSnapshot;
  readonly resolution?: 'victim' | 'compensation';
  readonly victim?: string;
  readonly policy?: string;
  /** For a deadlock across the nodes of a cluster: the nodes whose tasks are on the cycle (its ids are `<node>/<task id>` and pool names). */
  readonly nodes?: readonly string[];
  /** For a deadlock across the nodes of a cluster: the cluster as the dashboard last read it before, which had the cycle (it lasted `deadlockAfterMs`). */
  readonly cluster?: ClusterView;
}

/** An alert raised by the engine's monitor (`alert.raised`), and when it cleared (`alert.cleared`). */
export interface DashboardAlert {
  /** What identifies the alert across its raised and cleared events. */
  readonly key: string;
  readonly severity: string;
  readonly message: string;
  readonly raisedAt: number;
  readonly clearedAt?: number;
  /** The `alert.raised` event itself. */
  readonly event: DashboardEvent;
}

/** One point of the page's charts. */
export interface DashboardSample {
  /** Its number among the samples this dashboard took, from 1. */
  readonly n: number;
  readonly at: number;
  readonly pending: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly timedOut: number;
  readonly deadlocked: number;
  readonly rejected: number;
  /** Held units over capacity, in `[0, 1]`, per resource pool; taken worker slots over worker slots as `@workers`. */
  readonly utilization: Readonly<Record<string, number>>;
}

/** The cluster as the dashboard last read it (a cluster node's dashboard only). */
export interface DashboardCluster {
  /** The latest view read; `undefined` until a read answered. */
  readonly view: ClusterView | undefined;
  /** Why the latest read failed, if it did (the view is then the one before). */
  readonly error: string | undefined;
}

/** Everything the page shows, at one moment; what `/state` returns and each server-sent update carries. */
export interface DashboardState {
  readonly engineId: string | undefined;
  /** The engine's time now (virtual time in a simulation). */
  readonly at: number;
  /**
   * The engine's time when the dashboard began to watch it: the page shows every time relative to
   * it (on the real clock, the engine's times are epoch milliseconds).
   */
  readonly origin: number;
  readonly accepting: boolean;
  readonly idle: boolean;
  readonly progress: EngineProgress;
  readonly stats: EngineStats;
  readonly actors: readonly DashboardActor[];
  readonly graph: WaitForGraphSnapshot;
  readonly deadlocks: {
    /** How many were detected so far. */
    readonly detected: number;
    /** How many were resolved so far. */
    readonly resolved: number;
    /** The latest, drawn over the live graph until the next one. */
    readonly last: DashboardDeadlock | undefined;
  };
  readonly alerts: {
    readonly active: readonly DashboardAlert[];
    /** The latest alerts, active or cleared, newest first. */
    readonly recent: readonly DashboardAlert[];
  };
  /** `engine.metrics()` when the engine has it; `undefined` otherwise. */
  readonly metrics: unknown;
  /** Whether `/metrics` serves the Prometheus text (the engine has `prometheus()`). */
  readonly prometheus: boolean;
  /** How many engine events the dashboard saw. */
  readonly events: number;
  /**
   * The cluster, when the engine is a cluster node (it has the `cluster` option); `undefined`
   * otherwise, and until the first read says which.
   */
  readonly cluster: DashboardCluster | undefined;
}

/** Options of {@link DashboardMonitor}. */
export interface DashboardMonitorOptions {
  /** The engine's time now; the time of the latest event when absent. */
  readonly now?: () => number;
  /** How many recent events it keeps for a page that connects. */
  readonly eventBuffer: number;
  /** How many chart samples it keeps. */
  readonly sampleBuffer: number;
  /** Real milliseconds between two reads of the cluster's view (see {@link DashboardMonitor.refreshCluster}). @default 1000 */
  readonly clusterIntervalMs?: number;
}

const RECENT_ALERTS = 50;
/**
 * The most samples taken between two {@link DashboardMonitor.takeUpdate} calls: one per turn of the
 * event loop that saw events, so a simulation gets one per virtual instant, but a busy engine does
 * not pay for thousands a second.
 */
const MAX_SAMPLES_PER_UPDATE = 20;
const WORKER_SLOTS = '@workers';
/** The threads' slots in the wait-for graph: counted in `@workers`' utilization, from the thread worker's statistics. */
const THREAD_SLOTS = '@threads';
/** Fields an alert event may name itself by, in order of preference. */
const ALERT_KEY_FIELDS = ['alertId', 'id', 'key', 'alert', 'name', 'rule', 'metric'] as const;

/**
 * Watches one engine for the dashboard: keeps its recent events, its deadlocks (with the graph at
 * detection), its alerts and a history of samples for the charts, and builds {@link DashboardState}
 * snapshots from the engine's public getters. It only reads: nothing it does changes the engine.
 */
export class DashboardMonitor {
  readonly #engine: DashboardEngine;
  readonly #options: DashboardMonitorOptions;
  readonly #subscription: Subscription;
  readonly #events: DashboardEvent[] = [];
  #unsent: DashboardEvent[] = [];
  readonly #samples: DashboardSample[] = [];
  #unsentSamples: DashboardSample[] = [];
  #sampleQueued = false;
  #samplesSinceUpdate = 0;
  #closed = false;
  #seq = 0;
  #lastAt = 0;
  #phases: ActorPhases = { shutdown: 'running' };
  #deadlocksDetected = 0;
  #deadlocksResolved = 0;
  #lastDeadlock: DashboardDeadlock | undefined;
  readonly #activeAlerts = new Map<string, DashboardAlert>();
  #recentAlerts: DashboardAlert[] = [];
  #sampledSeq = -1;
  readonly #origin: number;
  #cluster: DashboardCluster | undefined;
  /** Whether the engine said it is no cluster node (its view is `undefined`): it is not asked again. */
  #clusterless = false;
  #clusterReading = false;
  /** When the latest read of the cluster ended (`Date.now()`), and whether one ended since the last update. */
  #clusterReadAt = Number.NEGATIVE_INFINITY;
  #clusterNews = false;

  constructor(engine: DashboardEngine, options: DashboardMonitorOptions) {
    this.#engine = engine;
    this.#options = options;
    this.#origin = this.now();
    this.#subscription = engine.events$.subscribe((event) => this.#onEvent(event));
    // The first read answers whether the engine is a cluster node, for the first page that connects.
    this.refreshCluster();
  }

  /**
   * Reads the cluster's view from the engine, unless a read is under way or the last one ended
   * less than `clusterIntervalMs` ago, or the engine is no cluster node. The read answers later:
   * the next update carries it (or, when it failed, the error beside the view before).
   */
  refreshCluster(): void {
    const read = this.#engine.clusterView;
    if (typeof read !== 'function' || this.#clusterless || this.#clusterReading || this.#closed) return;
    if (Date.now() - this.#clusterReadAt < (this.#options.clusterIntervalMs ?? 1000)) return;
    this.#clusterReading = true;
    const ended = (): void => {
      this.#clusterReading = false;
      this.#clusterReadAt = Date.now();
      this.#clusterNews = true;
    };
    let reading: Promise<ClusterView | undefined>;
    try {
      reading = read.call(this.#engine);
    } catch (error) {
      reading = Promise.reject(error);
    }
    reading.then(
      (view) => {
        ended();
        if (view === undefined) this.#clusterless = true;
        else this.#cluster = { view: toPlain(view) as ClusterView, error: undefined };
      },
      (error: unknown) => {
        ended();
        this.#cluster = { view: this.#cluster?.view, error: error instanceof Error ? error.message : String(error) };
      },
    );
  }

  /** The engine's time now. */
  now(): number {
    return this.#options.now?.() ?? this.#lastAt;
  }

  /** The events kept for a page that connects now, oldest first. */
  recentEvents(): readonly DashboardEvent[] {
    return [...this.#events];
  }

  /** The chart samples kept, oldest first. */
  samples(): readonly DashboardSample[] {
    return [...this.#samples];
  }

  /**
   * What happened since the last call: the events (at most `eventBuffer` of them) and the samples,
   * oldest first, and whether a read of the cluster ended. A last sample is taken first when events
   * came after the latest one.
   */
  takeUpdate(): { readonly events: DashboardEvent[]; readonly samples: DashboardSample[]; readonly cluster: boolean } {
    this.sample();
    const update = { events: this.#unsent, samples: this.#unsentSamples, cluster: this.#clusterNews };
    this.#clusterNews = false;
    this.#unsent = [];
    this.#unsentSamples = [];
    this.#samplesSinceUpdate = 0;
    return update;
  }

  /**
   * Takes a chart sample when events came since the last one (or `force`).
   * @returns the new sample, or `undefined` when nothing changed
   */
  sample(force = false): DashboardSample | undefined {
    if (!force && this.#sampledSeq === this.#seq) return undefined;
    this.#sampledSeq = this.#seq;
    const progress = this.#engine.progress();
    // Worker slots from the workers' own statistics (the graph shows '@workers' holds only while they
    // matter to a wait): slots taken over slots in service, compensation slots included; a crashed
    // worker runs nothing until it is restarted.
    let slots = 0;
    let taken = 0;
    for (const worker of this.#engine.stats().workers) {
      slots += worker.slots;
      if (worker.state !== 'crashed') taken += Math.min(worker.running, worker.slots);
    }
    const utilization: Record<string, number> = { [WORKER_SLOTS]: slots === 0 ? 0 : taken / slots };
    const graph = this.#engine.waitForGraph();
    const held = new Map<string, number>();
    for (const edge of graph.edges) if (edge.kind === 'holds') held.set(edge.from, (held.get(edge.from) ?? 0) + edge.units);
    for (const node of graph.nodes) {
      if (node.kind !== 'resource' || node.id === WORKER_SLOTS || node.id === THREAD_SLOTS) continue;
      utilization[node.id] = node.capacity > 0 ? Math.min(1, (held.get(node.id) ?? 0) / node.capacity) : 0;
    }
    const sample: DashboardSample = {
      n: this.#samples.length === 0 ? 1 : this.#samples.at(-1)!.n + 1,
      at: this.now(),
      pending: progress.pending,
      running: progress.running,
      completed: progress.completed,
      failed: progress.failed,
      cancelled: progress.cancelled,
      timedOut: progress.timedOut,
      deadlocked: progress.deadlocked,
      rejected: progress.rejected,
      utilization,
    };
    for (const list of [this.#samples, this.#unsentSamples]) {
      list.push(sample);
      if (list.length > this.#options.sampleBuffer) list.splice(0, list.length - this.#options.sampleBuffer);
    }
    this.#samplesSinceUpdate++;
    return sample;
  }

  /** Everything the page shows, now. */
  state(): DashboardState {
    const engine = this.#engine;
    const graph = engine.waitForGraph();
    const metrics = this.#metrics();
    return {
      engineId: typeof engine.id === 'string' ? engine.id : undefined,
      at: this.now(),
      origin: this.#origin,
      accepting: engine.isAccepting,
      idle: engine.isIdle,
      progress: engine.progress(),
      stats: engine.stats(),
      actors: readActorTree(engine, this.#phases, graph, readAgentMailboxes(engine, metrics)),
      graph,
      deadlocks: { detected: this.#deadlocksDetected, resolved: this.#deadlocksResolved, last: this.#lastDeadlock },
      alerts: { active: [...this.#activeAlerts.values()], recent: [...this.#recentAlerts] },
      metrics,
      prometheus: typeof engine.prometheus === 'function',
      events: this.#seq,
      cluster: this.#cluster,
    };
  }

  /** Stops watching the engine. */
  close(): void {
    this.#closed = true;
    this.#subscription.unsubscribe();
  }

  #metrics(): unknown {
    if (typeof this.#engine.metrics !== 'function') return undefined;
    try {
      return toPlain(this.#engine.metrics());
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  #onEvent(event: EngineEvent | { readonly type: string; readonly at: number }): void {
    const plain = { ...(toPlain(event) as object), seq: ++this.#seq } as DashboardEvent;
    if (typeof event.at === 'number') this.#lastAt = event.at;
    this.#events.push(plain);
    if (this.#events.length > this.#options.eventBuffer) this.#events.splice(0, this.#events.length - this.#options.eventBuffer);
    this.#unsent.push(plain);
    if (this.#unsent.length > this.#options.eventBuffer) this.#unsent.splice(0, this.#unsent.length - this.#options.eventBuffer);
    this.#track(event as EngineEvent, plain);
    // After the current turn: the state once every timer of this instant has fired.
    if (!this.#sampleQueued && this.#samplesSinceUpdate < MAX_SAMPLES_PER_UPDATE) {
      this.#sampleQueued = true;
      queueMicrotask(() => {
        this.#sampleQueued = false;
        if (!this.#closed) this.sample();
      });
    }
  }

  #track(event: EngineEvent, plain: DashboardEvent): void {
    switch (event.type) {
      case 'shutdown.phase':
        this.#phases = { shutdown: event.phase };
        return;
      case 'deadlock.detected':
        this.#deadlocksDetected++;
        // Read now: resolving it (in the same turn) releases the victim's leases and changes the graph.
        this.#lastDeadlock = {
          at: event.at,
          deadlocked: [...event.deadlocked],
          cycle: [...event.cycle],
          graph: this.#engine.waitForGraph(),
          ...this.#acrossNodes(event.nodes),
        };
        return;
      case 'deadlock.resolved': {
        this.#deadlocksResolved++;
        const last = this.#lastDeadlock;
        const sameCycle = last !== undefined && last.resolution === undefined && sameIds(last.cycle, event.cycle);
        const base = sameCycle
          ? last
          : { at: event.at, deadlocked: [], cycle: [...event.cycle], graph: this.#engine.waitForGraph(), ...this.#acrossNodes(event.nodes) };
        this.#lastDeadlock = { ...base, resolution: event.resolution, victim: event.victim, policy: event.policy };
        return;
      }
      default:
        if ((event.type as string) === 'alert.raised') this.#raise(plain);
        else if ((event.type as string) === 'alert.cleared') this.#clear(plain);
    }
  }

  /** What a deadlock across nodes keeps besides: its nodes, and the cluster as last read. */
  #acrossNodes(nodes: readonly string[] | undefined): Pick<DashboardDeadlock, 'nodes' | 'cluster'> {
    if (nodes === undefined) return {};
    const cluster = this.#cluster?.view;
    return cluster === undefined ? { nodes: [...nodes] } : { nodes: [...nodes], cluster };
  }

  #raise(event: DashboardEvent): void {
    const alert: DashboardAlert = {
      key: alertKey(event),
      severity: typeof event['severity'] === 'string' ? event['severity'] : 'warning',
      message: alertMessage(event),
      raisedAt: event.at,
      event,
    };
    this.#activeAlerts.set(alert.key, alert);
    this.#remember(alert);
  }

  #clear(event: DashboardEvent): void {
    const key = alertKey(event);
    const active = this.#activeAlerts.get(key);
    if (active === undefined) return;
    this.#activeAlerts.delete(key);
    const cleared = { ...active, clearedAt: event.at };
    this.#recentAlerts = this.#recentAlerts.map((alert) => (alert === active ? cleared : alert));
  }

  #remember(alert: DashboardAlert): void {
    this.#recentAlerts.unshift(alert);
    if (this.#recentAlerts.length > RECENT_ALERTS) this.#recentAlerts.length = RECENT_ALERTS;
  }
}

/** Names an alert by its own id field, or by its other scalar fields when it has none. */
function alertKey(event: DashboardEvent): string {
  for (const field of ALERT_KEY_FIELDS) {
    const value = event[field];
    if (typeof value === 'string' || typeof value === 'number') {
      const resource = event['resource'];
      return typeof resource === 'string' && field !== 'id' && field !== 'alertId' ? `${value}:${resource}` : String(value);
    }
  }
  const { seq: _seq, at: _at, type: _type, message: _message, severity: _severity, value: _value, ...rest } = event;
  return JSON.stringify(rest);
}

function alertMessage(event: DashboardEvent): string {
  if (typeof event['message'] === 'string') return event['message'];
  const { seq: _seq, at: _at, type: _type, severity: _severity, ...rest } = event;
  return JSON.stringify(rest);
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

/**
 * A JSON-safe copy: errors become `{ name, message, code }`, functions and symbols are dropped,
 * cycles are cut, bigints become strings.
 */
export function toPlain(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Error) {
      const code = (item as { code?: unknown }).code;
      return code === undefined ? { name: item.name, message: item.message } : { name: item.name, message: item.message, code };
    }
    if (typeof item === 'bigint') return item.toString();
    if (item instanceof Map) return Object.fromEntries(item);
    if (item instanceof Set) return [...item];
    if (typeof item === 'object' && item !== null) {
      if (seen.has(item)) return '[circular]';
      seen.add(item);
    }
    return item;
  });
  return text === undefined ? undefined : JSON.parse(text);
}
