import type { ActorLogic, ActorRef, ActorScope, AnyActorRef, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import type { Clock } from '../src/clock';
import type { AlertClearedEvent, AlertRaisedEvent } from '../src/engine-events';
import type { TimingsMode } from '../src/engine-options';
import type { EngineProgress } from '../src/engine-snapshots';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import { AlertBook, type AlertChange, type AlertRecord } from '../src/metrics/alert-book';
import { buildMetricsSnapshot } from '../src/metrics/build-metrics-snapshot';
import { evaluateAlerts, nextAlertCheckAt, type AlertSettings } from '../src/metrics/evaluate-alerts';
import type { MetricsSnapshot } from '../src/metrics/metrics-snapshot';
import { MonitorBook } from '../src/metrics/monitor-book';
import type { MonitorObserveEvent } from '../src/metrics/monitor-feed';
import type { AgentGauge, GaugeReading, MonitorDemand, WorkerGauge } from '../src/metrics/monitor-observation';

/** The monitor's input. @internal */
export interface MonitorInput {
  readonly clock: Pick<Clock, 'now'>;
  readonly settings: AlertSettings;
  readonly timings: TimingsMode;
  /** Reads the gauges from the other actors' snapshots (a read, never a message). */
  readonly readGauges: () => GaugeReading;
  /** Where `alert.raised` and `alert.cleared` go. */
  readonly sink: EventSink;
  readonly logger: Logger;
}

/** Events the monitor accepts. @internal */
export type MonitorEvent =
  | MonitorObserveEvent
  /** Time passed: an open wait, a held utilization or a crash window may have crossed a line. */
  | { readonly type: 'monitor.check' }
  /** Someone reads the metrics: sample task timings from now on (`on-demand`). */
  | { readonly type: 'metrics.collect' }
  /** The engine stopped: every active alert clears. */
  | { readonly type: 'monitor.close' }
  | { readonly type: 'xstate.stop' };

/** What the monitor emits to the engine: what it needs built and when it wants to be woken. @internal */
export type MonitorEmitted = { readonly type: 'monitor.demand' } & MonitorDemand;

/** Whether task timings are sampled: not yet (`standby`, until someone reads the metrics), now, or never. */
export type MonitorTimingsState = 'standby' | 'collecting' | 'disabled';

/** Whether alerts are active, and whether one of them is critical. */
export type MonitorAlertsState = 'quiet' | { readonly alerting: 'warning' | 'critical' };

/** The monitor's state: its two regions while it watches; `closed` once the engine stopped. */
export type MonitorState = { readonly watching: { readonly timings: MonitorTimingsState; readonly alerts: MonitorAlertsState } } | 'closed';

/** What the monitor publishes: a summary made anew at each change, and queries answered from its books. */
export interface MonitorSummary {
  /** Clock time from which task wait and run times are sampled; `undefined` while they are not. */
  readonly timingsSince: number | undefined;
  /** The alerts active now, oldest first. */
  readonly activeAlerts: readonly AlertRecord[];
  /** The alerts raised so far (the last 1000), oldest first: a copy. */
  readonly alertHistory: () => AlertRecord[];
  /** The engine's metrics now, from the monitor's books and the gauges (the agents as their handles show them): a plain frozen copy. */
  readonly readMetrics: (progress: EngineProgress, workers: WorkerGauge, agents?: readonly AgentGauge[]) => MetricsSnapshot;
}

/** The monitor's snapshot. */
export type MonitorSnapshot = Snapshot<undefined> & { readonly value: MonitorState; readonly context: MonitorSummary };

/** A reference to the monitor actor. @internal */
export type MonitorRef = ActorRef<MonitorSnapshot, MonitorEvent, MonitorEmitted>;

type MonitorScope = ActorScope<MonitorSnapshot, MonitorEvent, AnyActorSystem, MonitorEmitted>;

const CHECK_ID = 'monitor.check';
const CHECK_EVENT: MonitorEvent = { type: 'monitor.check' };

/** The live part of the monitor: its books, its pending check and its demand. Only its own transitions touch it. */
class MonitorCore {
  readonly #input: MonitorInput;
  readonly #logger: Logger;
  readonly #self: AnyActorRef;
  readonly #system: AnyActorSystem;
  readonly #book: MonitorBook;
  readonly #alerts = new AlertBook();
  #timings: MonitorTimingsState;
  #timingsSince: number | undefined;
  #closed = false;
  /** The clock time the pending `monitor.check` is due, if one is. */
  #checkAt: number | undefined;
  /** What the engine was last told to do for the monitor. */
  #demand: MonitorDemand | undefined;
  #activeAlerts: readonly AlertRecord[] = [];
  readonly #alertHistory = (): AlertRecord[] => this.#alerts.history();
  readonly #readMetrics = (progress: EngineProgress, workers: WorkerGauge, agents: readonly AgentGauge[] = []): MetricsSnapshot =>
    buildMetricsSnapshot({
      progress,
      gauges: this.#input.readGauges(),
      workers,
      agents,
      book: this.#book,
      alerts: this.#alerts,
      timingsSince: this.#timingsSince,
    });
  /** Set when the published snapshot is out of date. */
  changed = false;
  /** What the current transition emits, sent once it is over. */
  outbox: MonitorEmitted[] = [];

  constructor(input: MonitorInput, self: AnyActorRef, system: AnyActorSystem) {
    this.#input = input;
    this.#self = self;
    this.#system = system;
    this.#logger = input.logger.child({ actor: 'monitor' });
    this.#book = new MonitorBook(input.settings.restartWindowMs);
    this.#timings = input.timings === 'always' ? 'collecting' : input.timings === 'off' ? 'disabled' : 'standby';
    if (this.#timings === 'collecting') this.#timingsSince = input.clock.now();
  }

  snapshot(): MonitorSnapshot {
    const context: MonitorSummary = {
      timingsSince: this.#timingsSince,
      activeAlerts: this.#activeAlerts,
      alertHistory: this.#alertHistory,
      readMetrics: this.#readMetrics,
    };
    if (this.#closed) return { status: 'done', output: undefined, error: undefined, value: 'closed', context };
    return {
      status: 'active',
      output: undefined,
      error: undefined,
      value: { watching: { timings: this.#timings, alerts: this.#alertsState() } },
      context,
    };
  }

  /** What the engine must know from the start: the first demand. */
  start(): void {
    this.#announceDemand();
  }

  receive(event: Exclude<MonitorEvent, { type: 'xstate.stop' }>): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'monitor.observe': {
        const book = this.#book;
        for (const observation of event.observations) book.observe(observation);
        book.endBatch();
        this.#watch();
        return;
      }
      case 'monitor.check':
        this.#checkAt = undefined;
        this.#watch();
        return;
      case 'metrics.collect':
        if (this.#timings !== 'standby') return;
        this.#timings = 'collecting';
        this.#timingsSince = this.#input.clock.now();
        this.changed = true;
        this.#announceDemand();
        return;
      case 'monitor.close':
        this.#close();
        return;
    }
  }

  /** Reads the gauges, applies the alert rules, sets the next check and tells the engine what it needs. */
  #watch(): void {
    const gauges = this.#input.readGauges();
    this.#publish(evaluateAlerts(this.#book, this.#alerts, gauges, this.#input.settings), gauges.at);
    this.#scheduleCheck(gauges);
    this.#announceDemand();
  }

  /**
   * One pending check at a time, due when the next alert could change with time alone: a delayed
   * event to itself on the system's scheduler (the injected clock), which XState cancels if the
   * monitor stops first.
   */
  #scheduleCheck(gauges: GaugeReading): void {
    const due = nextAlertCheckAt(this.#book, this.#alerts, gauges, this.#input.settings);
    if (due === this.#checkAt) return;
    this.#cancelCheck();
    this.#checkAt = due;
    if (due !== undefined) this.#system.scheduler.schedule(this.#self, this.#self, CHECK_EVENT, Math.max(0, due - gauges.at), CHECK_ID);
  }

  #cancelCheck(): void {
    if (this.#checkAt === undefined) return;
    this.#checkAt = undefined;
    this.#system.scheduler.cancel(this.#self, CHECK_ID);
  }

  #announceDemand(): void {
    const demand = this.#demandNow();
    const last = this.#demand;
    if (
      last !== undefined &&
      last.collectTasks === demand.collectTasks &&
      last.queueNudgeAbove === demand.queueNudgeAbove &&
      last.queueNudgeAtOrBelow === demand.queueNudgeAtOrBelow
    )
      return;
    this.#demand = demand;
    this.outbox.push({ type: 'monitor.demand', ...demand });
  }

  #demandNow(): MonitorDemand {
    const queueLimit = this.#input.settings.queueDepth;
    const collectTasks = this.#timingsSince !== undefined;
    if (queueLimit === undefined) return { collectTasks, queueNudgeAbove: Number.POSITIVE_INFINITY, queueNudgeAtOrBelow: -1 };
    // Raised, only a queue down to the clear level can change it; otherwise only one over the threshold.
    if (this.#alerts.isActive('queue.depth')) {
      return { collectTasks, queueNudgeAbove: Number.POSITIVE_INFINITY, queueNudgeAtOrBelow: queueLimit * this.#input.settings.clearRatio };
    }
    return { collectTasks, queueNudgeAbove: queueLimit, queueNudgeAtOrBelow: -1 };
  }

  #close(): void {
    this.#cancelCheck();
    const at = this.#input.clock.now();
    const changes: AlertChange[] = [];
    for (const active of this.#alerts.active()) {
      const record = this.#alerts.clear(active.alertId, at, active.value, 'stopped');
      if (record !== undefined)
        changes.push({ kind: 'cleared', record, clearLevel: active.threshold, message: `${active.message} (the engine stopped)` });
    }
    this.#publish(changes, at);
    this.#closed = true;
    this.changed = true;
  }

  #alertsState(): MonitorAlertsState {
    if (this.#alerts.activeCount === 0) return 'quiet';
    return { alerting: this.#alerts.criticalCount > 0 ? 'critical' : 'warning' };
  }

  /** Logs and publishes the alerts raised and cleared. */
  #publish(changes: readonly AlertChange[], at: number): void {
    if (changes.length === 0) return;
    this.changed = true;
    this.#activeAlerts = Object.freeze(this.#alerts.active());
    const { sink } = this.#input;
    for (const change of changes) {
      const { record } = change;
      const base = {
        at,
        alertId: record.alertId,
        alert: record.alert,
        severity: record.severity,
        resource: record.resource,
        ...(record.agent === undefined ? {} : { agent: record.agent }),
        threshold: record.threshold,
      };
      if (change.kind === 'raised') {
        const details = { alertId: record.alertId, value: record.value, threshold: record.threshold };
        if (record.severity === 'critical') this.#logger.error(`alert: ${record.message}`, details);
        else this.#logger.warn(`alert: ${record.message}`, details);
        if (sink.active) {
          const event: AlertRaisedEvent = { type: 'alert.raised', ...base, value: record.value, message: record.message };
          sink.publish(event);
        }
      } else {
        this.#logger.info(`alert cleared: ${change.message}`, { alertId: record.alertId, value: record.clearedValue, raisedAt: record.raisedAt });
        if (sink.active) {
          const event: AlertClearedEvent = {
            type: 'alert.cleared',
            ...base,
            value: record.clearedValue ?? 0,
            clearLevel: change.clearLevel,
            raisedAt: record.raisedAt,
            message: change.message,
          };
          sink.publish(event);
        }
      }
    }
  }
}

const cores = new WeakMap<object, MonitorCore>();

function flushOutbox(core: MonitorCore, scope: MonitorScope): void {
  const outbox = core.outbox;
  if (outbox.length === 0) return;
  core.outbox = [];
  for (const emitted of outbox) scope.emit(emitted);
}

/**
 * The logic of the monitor: metrics and alerts. It learns from batches of observations (engine
 * events, carried by the engine's feed, one message per turn of the event loop) and reads gauges
 * from the other actors' snapshots, keeps fixed-size histograms and counters, and raises and clears
 * alerts with hysteresis. It is lazy: it asks for task events only while it samples timings, and to
 * be woken by the queue only when it crosses the level that can change the queue alert.
 *
 * Custom actor logic: it takes a batch in every turn in which tasks end, and a machine's macrostep
 * costs microseconds. The statechart it follows is `machines/monitor.machine.ts` (regions `timings`
 * and `alerts`, then `closed`), which tests hold it to.
 *
 * @internal
 */
export const monitorLogic: ActorLogic<MonitorSnapshot, MonitorEvent, MonitorInput, AnyActorSystem, MonitorEmitted> = {
  config: 'mezan.monitor',
  getInitialSnapshot(scope: MonitorScope, input: MonitorInput) {
    const core = new MonitorCore(input, scope.self, scope.system);
    cores.set(scope.self, core);
    return core.snapshot();
  },
  start(_snapshot, scope) {
    const core = cores.get(scope.self)!;
    core.start();
    flushOutbox(core, scope);
  },
  transition(snapshot, event, scope) {
    const core = cores.get(scope.self);
    if (core === undefined || snapshot.status !== 'active') return snapshot;
    if (event.type === 'xstate.stop') return { ...snapshot, status: 'stopped' };
    core.receive(event);
    if (core.outbox.length > 0) scope.defer(() => flushOutbox(core, scope));
    if (!core.changed) return snapshot;
    core.changed = false;
    return core.snapshot();
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
