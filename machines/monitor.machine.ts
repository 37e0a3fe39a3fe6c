import { assertEvent, assign, enqueueActions, setup } from 'xstate';
import type { Clock } from '../src/clock';
import type { AlertClearedEvent, AlertRaisedEvent } from '../src/engine-events';
import type { TimingsMode } from '../src/engine-options';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import { AlertBook, type AlertChange } from '../src/metrics/alert-book';
import { evaluateAlerts, nextAlertCheckAt, type AlertSettings } from '../src/metrics/evaluate-alerts';
import { MonitorBook } from '../src/metrics/monitor-book';
import type { MonitorObserveEvent } from '../src/metrics/monitor-feed';
import type { GaugeReading, MonitorDemand } from '../src/metrics/monitor-observation';

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

/**
 * The monitor's context. `book`, `alerts`, `latest`, `check` and `demand` are private structures
 * that only its own actions touch, in place; read them through the latest snapshot. @internal
 */
export interface MonitorContext extends MonitorInput {
  readonly book: MonitorBook;
  readonly alerts: AlertBook;
  /** The last gauges read. */
  readonly latest: { gauges: GaugeReading | undefined };
  /** The clock time the pending `monitor.check` is due, if one is. */
  readonly check: { at: number | undefined };
  /** What the engine was last told to do for the monitor. */
  readonly demand: { last: MonitorDemand | undefined };
  /** Clock time from which task wait and run times are sampled; `undefined` while they are not. */
  readonly timingsSince: number | undefined;
}

/** Events the monitor accepts. @internal */
export type MonitorEvent =
  | MonitorObserveEvent
  /** Time passed: an open wait, a held utilization or a crash window may have crossed a line. */
  | { readonly type: 'monitor.check' }
  /** Someone reads the metrics: sample task timings from now on (`on-demand`). */
  | { readonly type: 'metrics.collect' }
  /** The engine stopped: every active alert clears. */
  | { readonly type: 'monitor.close' };

/** What the monitor emits to the engine: what it needs built and when it wants to be woken. @internal */
export type MonitorEmitted = { readonly type: 'monitor.demand' } & MonitorDemand;

const CHECK_ID = 'monitor.check';

function publishChanges(context: MonitorContext, changes: readonly AlertChange[], at: number): void {
  for (const change of changes) {
    const { record } = change;
    const base = {
      at,
      alertId: record.alertId,
      alert: record.alert,
      severity: record.severity,
      resource: record.resource,
      threshold: record.threshold,
    };
    if (change.kind === 'raised') {
      const details = { alertId: record.alertId, value: record.value, threshold: record.threshold };
      if (record.severity === 'critical') context.logger.error(`alert: ${record.message}`, details);
      else context.logger.warn(`alert: ${record.message}`, details);
      if (context.sink.active) {
        const event: AlertRaisedEvent = { type: 'alert.raised', ...base, value: record.value, message: record.message };
        context.sink.publish(event);
      }
    } else {
      context.logger.info(`alert cleared: ${change.message}`, { alertId: record.alertId, value: record.clearedValue, raisedAt: record.raisedAt });
      if (context.sink.active) {
        const event: AlertClearedEvent = {
          type: 'alert.cleared',
          ...base,
          value: record.clearedValue ?? 0,
          clearLevel: change.clearLevel,
          raisedAt: record.raisedAt,
          message: change.message,
        };
        context.sink.publish(event);
      }
    }
  }
}

function demandOf(context: MonitorContext): MonitorDemand {
  const queueLimit = context.settings.queueDepth;
  const collectTasks = context.timingsSince !== undefined;
  if (queueLimit === undefined) return { collectTasks, queueNudgeAbove: Number.POSITIVE_INFINITY, queueNudgeAtOrBelow: -1 };
  // Raised, only a queue down to the clear level can change it; otherwise only one over the threshold.
  if (context.alerts.isActive('queue.depth')) {
    return { collectTasks, queueNudgeAbove: Number.POSITIVE_INFINITY, queueNudgeAtOrBelow: queueLimit * context.settings.clearRatio };
  }
  return { collectTasks, queueNudgeAbove: queueLimit, queueNudgeAtOrBelow: -1 };
}

/**
 * The monitor: metrics and alerts. It learns from batches of observations (engine events, carried by
 * the engine's feed, one message per turn of the event loop) and reads gauges from the other actors'
 * snapshots, keeps fixed-size histograms and counters, and raises and clears alerts with hysteresis.
 * It is lazy: it asks for task events only while it samples timings (`timings` region), and to be
 * woken by the queue only when it crosses the level that can change the queue alert.
 *
 * Regions: `timings` (`standby` until someone reads the metrics, `collecting`, or `disabled`) and
 * `alerts` (`quiet`, or `alerting` at `warning` or `critical`).
 */
export const monitorMachine = setup({
  types: {
    context: {} as MonitorContext,
    events: {} as MonitorEvent,
    input: {} as MonitorInput,
    emitted: {} as MonitorEmitted,
  },
  actions: {
    recordObservations: ({ context, event }) => {
      assertEvent(event, 'monitor.observe');
      const { book } = context;
      for (const observation of event.observations) book.observe(observation);
      book.endBatch();
    },
    readGauges: ({ context }) => {
      context.latest.gauges = context.readGauges();
    },
    evaluateAlerts: ({ context }) => {
      const gauges = context.latest.gauges;
      if (gauges === undefined) return;
      publishChanges(context, evaluateAlerts(context.book, context.alerts, gauges, context.settings), gauges.at);
    },
    /** One pending check at a time, due when the next alert could change with time alone. */
    scheduleCheck: enqueueActions(({ context, enqueue }) => {
      const gauges = context.latest.gauges;
      if (gauges === undefined) return;
      const due = nextAlertCheckAt(context.book, context.alerts, gauges, context.settings);
      if (due === context.check.at) return;
      if (context.check.at !== undefined) enqueue.cancel(CHECK_ID);
      context.check.at = due;
      if (due !== undefined) enqueue.raise({ type: 'monitor.check' }, { id: CHECK_ID, delay: Math.max(0, due - gauges.at) });
    }),
    forgetCheck: ({ context }) => {
      context.check.at = undefined;
    },
    cancelCheck: enqueueActions(({ context, enqueue }) => {
      if (context.check.at === undefined) return;
      context.check.at = undefined;
      enqueue.cancel(CHECK_ID);
    }),
    startTimings: assign({ timingsSince: ({ context }) => context.clock.now() }),
    announceDemand: enqueueActions(({ context, enqueue }) => {
      const demand = demandOf(context);
      const last = context.demand.last;
      if (
        last !== undefined &&
        last.collectTasks === demand.collectTasks &&
        last.queueNudgeAbove === demand.queueNudgeAbove &&
        last.queueNudgeAtOrBelow === demand.queueNudgeAtOrBelow
      )
        return;
      context.demand.last = demand;
      enqueue.emit({ type: 'monitor.demand', ...demand });
    }),
    closeAlerts: ({ context }) => {
      const at = context.clock.now();
      const changes: AlertChange[] = [];
      for (const active of context.alerts.active()) {
        const record = context.alerts.clear(active.alertId, at, active.value, 'stopped');
        if (record !== undefined)
          changes.push({ kind: 'cleared', record, clearLevel: active.threshold, message: `${active.message} (the engine stopped)` });
      }
      publishChanges(context, changes, at);
    },
  },
  guards: {
    samplesAlways: ({ context }) => context.timings === 'always',
    samplesNever: ({ context }) => context.timings === 'off',
    hasActiveAlerts: ({ context }) => context.alerts.activeCount > 0,
    hasNoActiveAlerts: ({ context }) => context.alerts.activeCount === 0,
    hasCriticalAlerts: ({ context }) => context.alerts.criticalCount > 0,
    hasNoCriticalAlerts: ({ context }) => context.alerts.criticalCount === 0,
  },
}).createMachine({
  id: 'monitor',
  context: ({ input }) => ({
    clock: input.clock,
    settings: input.settings,
    timings: input.timings,
    readGauges: input.readGauges,
    sink: input.sink,
    logger: input.logger.child({ actor: 'monitor' }),
    book: new MonitorBook(input.settings.restartWindowMs),
    alerts: new AlertBook(),
    latest: { gauges: undefined },
    check: { at: undefined },
    demand: { last: undefined },
    timingsSince: undefined,
  }),
  initial: 'watching',
  states: {
    watching: {
      type: 'parallel',
      entry: 'announceDemand',
      on: {
        'monitor.observe': { actions: ['recordObservations', 'readGauges', 'evaluateAlerts', 'scheduleCheck', 'announceDemand'] },
        'monitor.check': { actions: ['forgetCheck', 'readGauges', 'evaluateAlerts', 'scheduleCheck', 'announceDemand'] },
        'monitor.close': { target: 'closed', actions: ['cancelCheck', 'closeAlerts'] },
      },
      states: {
        timings: {
          initial: 'choosing',
          states: {
            choosing: {
              always: [{ guard: 'samplesAlways', target: 'collecting' }, { guard: 'samplesNever', target: 'disabled' }, { target: 'standby' }],
            },
            standby: {
              on: { 'metrics.collect': 'collecting' },
            },
            collecting: {
              entry: ['startTimings', 'announceDemand'],
            },
            disabled: {},
          },
        },
        alerts: {
          initial: 'quiet',
          states: {
            quiet: {
              always: { guard: 'hasActiveAlerts', target: 'alerting' },
            },
            alerting: {
              initial: 'warning',
              always: { guard: 'hasNoActiveAlerts', target: 'quiet' },
              states: {
                warning: { always: { guard: 'hasCriticalAlerts', target: 'critical' } },
                critical: { always: { guard: 'hasNoCriticalAlerts', target: 'warning' } },
              },
            },
          },
        },
      },
    },
    closed: { type: 'final' },
  },
});
