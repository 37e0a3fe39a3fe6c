import { createActor } from 'xstate';
import { monitorLogic, type MonitorSummary } from '../../actors/monitor.actor';
import { VirtualClock, type AlertClearedEvent, type AlertRaisedEvent, type EngineEvent, type TimingsMode } from '../../src';
import type { AlertSettings } from '../../src/metrics/evaluate-alerts';
import type { GaugeReading, MonitorDemand, MonitorObservation, PoolGauge } from '../../src/metrics/monitor-observation';
import { recordingLogger } from '../fixtures/engine-harness';
import { ALERT_SETTINGS, noProgress, poolGauge } from '../fixtures/monitor-inputs';

type Gauges = Omit<GaugeReading, 'at'>;

/** The metrics the monitor answers with, for an engine that has done nothing itself. */
const metricsOf = (actor: { getSnapshot(): { context: MonitorSummary } }) =>
  actor.getSnapshot().context.readMetrics(noProgress(), { total: 1, busy: 0, extra: 0 });

const SETTINGS = ALERT_SETTINGS;
const pool = poolGauge;

/** A monitor on a virtual clock, with gauges the test sets and everything it publishes, logs and emits. */
function startMonitor(options: { settings?: Partial<AlertSettings>; timings?: TimingsMode; pools?: PoolGauge[] } = {}) {
  const clock = new VirtualClock();
  let gauges: Gauges = { queueDepth: 0, pools: options.pools ?? [] };
  const events: EngineEvent[] = [];
  const demands: MonitorDemand[] = [];
  const { logger, records } = recordingLogger();
  const actor = createActor(monitorLogic, {
    clock,
    input: {
      clock,
      settings: { ...SETTINGS, ...options.settings },
      timings: options.timings ?? 'on-demand',
      readGauges: () => ({ at: clock.now(), ...gauges }),
      sink: { active: true, publish: (event) => events.push(event) },
      logger,
    },
  });
  actor.on('monitor.demand', ({ collectTasks, queueNudgeAbove, queueNudgeAtOrBelow }) =>
    demands.push({ collectTasks, queueNudgeAbove, queueNudgeAtOrBelow }),
  );
  actor.start();
  return {
    actor,
    clock,
    events,
    demands,
    records,
    /** Changes the gauges and hands the monitor a batch (empty: a nudge). */
    observe(observations: MonitorObservation[] = [], change: Partial<Gauges> = {}) {
      gauges = { ...gauges, ...change };
      actor.send({ type: 'monitor.observe', observations });
    },
    raised: () => events.filter((event): event is AlertRaisedEvent => event.type === 'alert.raised'),
    cleared: () => events.filter((event): event is AlertClearedEvent => event.type === 'alert.cleared'),
    alertsState: () => (actor.getSnapshot().value as { watching: { alerts: unknown } }).watching.alerts,
    timingsState: () => (actor.getSnapshot().value as { watching: { timings: unknown } }).watching.timings,
  };
}

describe('monitorLogic', () => {
  describe('queue depth alert', () => {
    it('is raised once over the threshold and cleared once at or below 80% of it, not in between', () => {
      const monitor = startMonitor();
      for (const queueDepth of [500, 1000, 1001, 1500, 950, 801, 1200, 800, 900, 1000]) monitor.observe([], { queueDepth });

      expect(monitor.raised()).toEqual([
        expect.objectContaining({
          type: 'alert.raised',
          alertId: 'queue.depth',
          alert: 'queue.depth',
          severity: 'warning',
          value: 1001,
          threshold: 1000,
        }),
      ]);
      expect(monitor.cleared()).toEqual([
        expect.objectContaining({ type: 'alert.cleared', alertId: 'queue.depth', value: 800, threshold: 1000, clearLevel: 800, raisedAt: 0 }),
      ]);
      expect(monitor.alertsState()).toBe('quiet');
    });

    it('asks to be woken by a queue over the threshold, and once raised by one down to the clear level', () => {
      const monitor = startMonitor({ settings: { queueDepth: 10 } });
      monitor.observe([], { queueDepth: 11 });
      monitor.observe([], { queueDepth: 8 });
      expect(monitor.demands.map(({ queueNudgeAbove, queueNudgeAtOrBelow }) => [queueNudgeAbove, queueNudgeAtOrBelow])).toEqual([
        [10, -1],
        [Infinity, 8],
        [10, -1],
      ]);
    });

    it('never asks to be woken by the queue when the alert is off', () => {
      const monitor = startMonitor({ settings: { queueDepth: undefined } });
      monitor.observe([], { queueDepth: 1_000_000 });
      expect(monitor.raised()).toEqual([]);
      expect(monitor.demands).toEqual([{ collectTasks: false, queueNudgeAbove: Infinity, queueNudgeAtOrBelow: -1 }]);
    });

    it('logs the alert at warn level and its clearing at info level', () => {
      const monitor = startMonitor({ settings: { queueDepth: 10 } });
      monitor.observe([], { queueDepth: 11 });
      monitor.observe([], { queueDepth: 0 });
      const logged = monitor.records.filter((record) => String(record['message']).startsWith('alert'));
      expect(logged.map((record) => [record['level'], record['alertId']])).toEqual([
        ['warn', 'queue.depth'],
        ['info', 'queue.depth'],
      ]);
    });
  });

  describe('deadlock alert', () => {
    it('is critical: raised on detection, cleared when the supervisor reports the graph free of it', () => {
      const monitor = startMonitor();
      monitor.observe([{ type: 'deadlock.detected', at: 0, deadlocked: ['a', 'b'], cycle: ['a', 'db', 'b', 'cache', 'a'] }]);
      expect(monitor.raised()).toEqual([expect.objectContaining({ alertId: 'deadlock', severity: 'critical', value: 2 })]);
      expect(monitor.alertsState()).toEqual({ alerting: 'critical' });
      expect(monitor.records.find((record) => record['alertId'] === 'deadlock')).toMatchObject({ level: 'error' });

      // Another detection while it is active raises nothing more.
      monitor.observe([{ type: 'deadlock.detected', at: 0, deadlocked: ['c', 'd'], cycle: [] }]);
      monitor.observe([{ type: 'deadlock.cleared', at: 0 }]);
      expect(monitor.raised()).toHaveLength(1);
      expect(monitor.cleared()).toEqual([expect.objectContaining({ alertId: 'deadlock', severity: 'critical', value: 0 })]);
      expect(monitor.alertsState()).toBe('quiet');
    });

    it('is raised and cleared even when the detection and the clearing arrive in one batch', () => {
      const monitor = startMonitor();
      monitor.observe([
        { type: 'deadlock.detected', at: 0, deadlocked: ['a', 'b'], cycle: [] },
        { type: 'deadlock.resolved', at: 0, resolution: 'compensation', victim: undefined, policy: 'youngest', cycle: [] },
        { type: 'deadlock.cleared', at: 0 },
      ]);
      expect(monitor.raised().map((event) => event.alertId)).toEqual(['deadlock']);
      expect(monitor.cleared().map((event) => event.alertId)).toEqual(['deadlock']);
    });
  });

  describe('worker restarts alert', () => {
    it('is raised past the limit within the window and cleared when enough crashes left it, on the clock', async () => {
      const monitor = startMonitor();
      for (let crash = 0; crash < 6; crash++) {
        await monitor.clock.advanceTo(crash * 100);
        monitor.observe([{ type: 'worker.crashed', at: crash * 100, workerId: 'worker-1' }]);
      }
      expect(monitor.raised()).toEqual([
        expect.objectContaining({ alertId: 'worker.restarts', severity: 'critical', value: 6, threshold: 5, at: 500 }),
      ]);

      // Crashes at 0 and 100 leave the window at 1000 and 1100: 4 left, at or below 80% of 5.
      await monitor.clock.advanceTo(1099);
      expect(monitor.cleared()).toEqual([]);
      await monitor.clock.advanceTo(1100);
      expect(monitor.cleared()).toEqual([expect.objectContaining({ alertId: 'worker.restarts', at: 1100, value: 4, clearLevel: 4 })]);
      expect(monitor.clock.pendingTimers).toBe(0);
    });
  });

  describe('resource wait alert', () => {
    it('is raised when a queued request has waited the threshold out, and cleared by a grant without waiting', async () => {
      const monitor = startMonitor({ pools: [pool('db', 1, 1, 1)] });
      monitor.observe([{ type: 'resource.waiting', at: 0, taskId: 'b', resource: 'db', units: 1 }]);
      expect(monitor.clock.pendingTimers).toBe(1);
      await monitor.clock.advanceTo(99);
      expect(monitor.raised()).toEqual([]);
      await monitor.clock.advanceTo(100);
      expect(monitor.raised()).toEqual([
        expect.objectContaining({ alertId: 'resource.wait:db', resource: 'db', value: 100, threshold: 100, at: 100 }),
      ]);

      // Granted at 150 after waiting 150 ms: still over; then an immediate grant: 0 ms.
      await monitor.clock.advanceTo(150);
      monitor.observe(
        [
          { type: 'resource.wait-ended', at: 150, taskId: 'b', resource: 'db' },
          { type: 'resource.acquired', at: 150, taskId: 'b', resource: 'db', units: 1 },
        ],
        { pools: [pool('db', 1, 1)] },
      );
      expect(monitor.cleared()).toEqual([]);
      monitor.observe([{ type: 'resource.acquired', at: 150, taskId: 'c', resource: 'db', units: 1 }]);
      expect(monitor.cleared()).toEqual([expect.objectContaining({ alertId: 'resource.wait:db', value: 0, clearLevel: 80 })]);
      expect(monitor.raised()).toHaveLength(1);
      expect(metricsOf(monitor.actor).resources['db']?.wait).toMatchObject({ count: 2, max: 150, min: 0 });
    });

    it('stays raised while waits stay over the clear level, and does not flap around the threshold', async () => {
      const monitor = startMonitor({ pools: [pool('db', 1, 1, 1)] });
      const wait = (taskId: string, from: number, to: number): MonitorObservation[] => [
        { type: 'resource.waiting', at: from, taskId, resource: 'db', units: 1 },
        { type: 'resource.wait-ended', at: to, taskId, resource: 'db' },
      ];
      // Waits of 101, 90, 85, 99 and 81 ms: over the threshold once, never at or below 80 ms.
      let at = 0;
      for (const ms of [101, 90, 85, 99, 81]) {
        await monitor.clock.advanceTo(at + ms);
        monitor.observe(wait(`t${at}`, at, at + ms));
        at += ms;
      }
      expect(monitor.raised()).toHaveLength(1);
      expect(monitor.cleared()).toHaveLength(0);
      monitor.observe(wait('last', at, at + 80));
      expect(monitor.cleared()).toHaveLength(1);
    });
  });

  describe('pool utilization alert', () => {
    it('is raised when held over 90% for the sustain time, and cleared when held at or below 72% as long', async () => {
      const monitor = startMonitor({ pools: [pool('gpu', 10, 0)] });
      monitor.observe([], { pools: [pool('gpu', 10, 10)] });
      await monitor.clock.advanceTo(500);
      // A dip shorter than the sustain time starts it over.
      monitor.observe([], { pools: [pool('gpu', 10, 9)] });
      monitor.observe([], { pools: [pool('gpu', 10, 10)] });
      await monitor.clock.advanceTo(1499);
      expect(monitor.raised()).toEqual([]);
      await monitor.clock.advanceTo(1500);
      expect(monitor.raised()).toEqual([expect.objectContaining({ alertId: 'resource.utilization:gpu', value: 1, threshold: 0.9, at: 1500 })]);

      monitor.observe([], { pools: [pool('gpu', 10, 8)] }); // 80%: over the clear level
      await monitor.clock.advanceTo(3000);
      monitor.observe([], { pools: [pool('gpu', 10, 7)] });
      await monitor.clock.advanceTo(3500);
      monitor.observe([], { pools: [pool('gpu', 10, 10)] }); // back up before the sustain time
      monitor.observe([], { pools: [pool('gpu', 10, 0)] });
      await monitor.clock.advanceTo(4499);
      expect(monitor.cleared()).toEqual([]);
      await monitor.clock.advanceTo(4500);
      expect(monitor.cleared()).toEqual([expect.objectContaining({ alertId: 'resource.utilization:gpu', value: 0, at: 4500 })]);
      expect(monitor.raised()).toHaveLength(1);
      expect(monitor.clock.pendingTimers).toBe(0);
    });
  });

  describe('timings', () => {
    it('samples nothing on demand until asked, then asks for task events and samples them', () => {
      const monitor = startMonitor();
      const task = (type: 'task.queued' | 'task.started', at: number): MonitorObservation =>
        type === 'task.queued'
          ? { type, at, taskId: 't', name: 't', attempt: 1, priority: 0 }
          : { type, at, taskId: 't', name: 't', attempt: 1, workerId: 'worker-1' };
      expect(monitor.timingsState()).toBe('standby');
      monitor.actor.send({ type: 'metrics.collect' });
      expect(monitor.timingsState()).toBe('collecting');
      expect(monitor.demands.at(-1)).toEqual({ collectTasks: true, queueNudgeAbove: 1000, queueNudgeAtOrBelow: -1 });
      monitor.observe([task('task.queued', 0), task('task.started', 0)]);
      monitor.observe([{ type: 'task.completed', at: 40, taskId: 't', name: 't', attempt: 1, workerId: 'worker-1', durationMs: 40 }]);
      expect(monitor.actor.getSnapshot().context.timingsSince).toBe(0);
      const metrics = metricsOf(monitor.actor);
      expect(metrics.timings).toEqual({ sampling: true, since: 0 });
      expect(metrics.taskWait).toMatchObject({ count: 1, max: 0 });
      expect(metrics.taskRun).toMatchObject({ count: 1, max: 40 });
    });

    it.each([
      ['always', 'collecting', true],
      ['off', 'disabled', false],
    ] as const)('with timings %s starts %s', (timings, state, collectTasks) => {
      const monitor = startMonitor({ timings });
      monitor.actor.send({ type: 'metrics.collect' });
      expect(monitor.timingsState()).toBe(state);
      expect(monitor.demands.at(-1)?.collectTasks).toBe(collectTasks);
    });
  });

  it('clears every active alert when closed, and reaches its final state', () => {
    const monitor = startMonitor();
    monitor.observe([{ type: 'deadlock.detected', at: 0, deadlocked: ['a', 'b'], cycle: [] }], { queueDepth: 5000 });
    expect(monitor.alertsState()).toEqual({ alerting: 'critical' });
    monitor.actor.send({ type: 'monitor.close' });
    expect(
      monitor
        .cleared()
        .map((event) => event.alertId)
        .sort(),
    ).toEqual(['deadlock', 'queue.depth']);
    expect(monitor.actor.getSnapshot().status).toBe('done');
    expect(
      monitor.actor
        .getSnapshot()
        .context.alertHistory()
        .map((record) => record.clearedBy),
    ).toEqual(['stopped', 'stopped']);
  });

  it('publishes nothing when nobody listens, but keeps the alerts', () => {
    const clock = new VirtualClock();
    const published: EngineEvent[] = [];
    const actor = createActor(monitorLogic, {
      clock,
      input: {
        clock,
        settings: SETTINGS,
        timings: 'off',
        readGauges: () => ({ at: 0, queueDepth: 2000, pools: [] }),
        sink: { active: false, publish: (event) => published.push(event) },
        logger: recordingLogger().logger,
      },
    }).start();
    actor.send({ type: 'monitor.observe', observations: [] });
    expect(published).toEqual([]);
    expect(actor.getSnapshot().context.activeAlerts).toEqual([expect.objectContaining({ alertId: 'queue.depth' })]);
  });
});
