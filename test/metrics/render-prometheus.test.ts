import type { MetricsSnapshot, TaskContext } from '../../src';
import { DURATION_BUCKETS_MS, DurationHistogram, EMPTY_DURATION_SUMMARY, type DurationSummary } from '../../src/metrics/duration-histogram';
import { renderPrometheus } from '../../src/metrics/render-prometheus';
import { startEngine } from '../fixtures/engine-harness';
import { histogramOf, parseExposition, valueOf, type HistogramSeries } from './exposition';

function summaryOf(values: readonly number[]): DurationSummary {
  const histogram = new DurationHistogram();
  for (const value of values) histogram.record(value);
  return histogram.summary();
}

/** Buckets must be cumulative, `+Inf` last and equal to `_count`, every bound of mezan's present. */
function expectWellFormed(series: HistogramSeries): void {
  expect(series.buckets.map(([le]) => le)).toEqual([...DURATION_BUCKETS_MS.map((ms) => ms / 1000), Infinity]);
  for (let index = 1; index < series.buckets.length; index++) {
    expect(series.buckets[index]![1]).toBeGreaterThanOrEqual(series.buckets[index - 1]![1]);
  }
  expect(series.buckets[series.buckets.length - 1]).toEqual([Infinity, series.count]);
}

/** How many of `values` (ms) are at most `le` seconds. */
function atMost(values: readonly number[], le: number): number {
  return values.filter((value) => value <= le * 1000).length;
}

const WAITS_MS = [0, 0, 0.5, 40, 150, 200, 200, 7_000, 400_000];
const RUNS_MS = [10, 100, 100, 250, 320];
const DB_WAITS_MS = [0, 0, 0, 20, 30, 90];
const ASKS_MS = [2, 2, 8, 120];

const SNAPSHOT: MetricsSnapshot = {
  at: 5000,
  queueDepth: 12,
  running: 4,
  pending: 15,
  submitted: 40,
  byStatus: { completed: 20, failed: 2, cancelled: 1, timeout: 1, deadlock: 1, rejected: 0 },
  throughput: { settledPerSec: 5, completedPerSec: 4, elapsedMs: 5000 },
  timings: { sampling: true, since: 0 },
  taskWait: summaryOf(WAITS_MS),
  taskRun: summaryOf(RUNS_MS),
  workers: { total: 4, busy: 3, idle: 1, extra: 0, saturation: 0.75, crashes: 2, restarts: 2, escalations: 0 },
  resources: {
    db: { capacity: 2, inUse: 2, utilization: 1, queued: 3, peakInUse: 2, acquired: 6, meanWaitMs: 23.3, wait: summaryOf(DB_WAITS_MS) },
    'gpu "a"\\b\nc': { capacity: 1, inUse: 0, utilization: 0, queued: 0, peakInUse: 1, acquired: 0, meanWaitMs: 0, wait: EMPTY_DURATION_SUMMARY },
  },
  agents: {
    analyzer: {
      status: 'busy',
      received: 9,
      handled: 5,
      failed: 1,
      dropped: 2,
      restarts: 1,
      mailboxDepth: 1,
      maxMailboxDepth: 4,
      mailboxCapacity: 10,
      ask: summaryOf(ASKS_MS),
    },
  },
  deadlocks: { detected: 3, resolved: 3, resolvedByVictim: 2, resolvedByCompensation: 1 },
  alerts: {
    active: [
      {
        alertId: 'resource.wait:db',
        alert: 'resource.wait',
        severity: 'warning',
        resource: 'db',
        value: 120,
        threshold: 100,
        message: 'waits',
        raisedAt: 4000,
        clearedAt: undefined,
        clearedValue: undefined,
        clearedBy: undefined,
      },
    ],
    raised: 4,
  },
};

describe('renderPrometheus', () => {
  it('writes text that follows the format’s grammar, every family typed and prefixed mezan_', () => {
    const families = parseExposition(renderPrometheus(SNAPSHOT));
    expect(families.every((family) => family.name.startsWith('mezan_'))).toBe(true);
    expect(Object.fromEntries(families.map((family) => [family.name, family.type]))).toEqual({
      mezan_queue_depth: 'gauge',
      mezan_tasks_running: 'gauge',
      mezan_tasks_pending: 'gauge',
      mezan_tasks_submitted_total: 'counter',
      mezan_tasks_settled_total: 'counter',
      mezan_throughput_tasks_per_second: 'gauge',
      mezan_task_wait_seconds: 'histogram',
      mezan_task_run_seconds: 'histogram',
      mezan_workers: 'gauge',
      mezan_workers_busy: 'gauge',
      mezan_worker_saturation_ratio: 'gauge',
      mezan_worker_crashes_total: 'counter',
      mezan_worker_restarts_total: 'counter',
      mezan_escalations_total: 'counter',
      mezan_resource_capacity_units: 'gauge',
      mezan_resource_in_use_units: 'gauge',
      mezan_resource_utilization_ratio: 'gauge',
      mezan_resource_queued_requests: 'gauge',
      mezan_resource_acquired_total: 'counter',
      mezan_resource_wait_seconds: 'histogram',
      mezan_agent_messages_received_total: 'counter',
      mezan_agent_messages_handled_total: 'counter',
      mezan_agent_messages_failed_total: 'counter',
      mezan_agent_messages_dropped_total: 'counter',
      mezan_agent_restarts_total: 'counter',
      mezan_agent_mailbox_depth: 'gauge',
      mezan_agent_mailbox_capacity: 'gauge',
      mezan_agent_ask_seconds: 'histogram',
      mezan_deadlocks_detected_total: 'counter',
      mezan_deadlocks_resolved_total: 'counter',
      mezan_alerts_active: 'gauge',
      mezan_alerts_raised_total: 'counter',
    });
  });

  it('gives counters and gauges the snapshot’s values', () => {
    const families = parseExposition(renderPrometheus(SNAPSHOT));
    expect(valueOf(families, 'mezan_queue_depth')).toBe(12);
    expect(valueOf(families, 'mezan_tasks_running')).toBe(4);
    expect(valueOf(families, 'mezan_tasks_pending')).toBe(15);
    expect(valueOf(families, 'mezan_tasks_submitted_total')).toBe(40);
    for (const [status, count] of Object.entries(SNAPSHOT.byStatus)) expect(valueOf(families, 'mezan_tasks_settled_total', { status })).toBe(count);
    expect(valueOf(families, 'mezan_throughput_tasks_per_second')).toBe(5);
    expect(valueOf(families, 'mezan_workers')).toBe(4);
    expect(valueOf(families, 'mezan_workers_busy')).toBe(3);
    expect(valueOf(families, 'mezan_worker_saturation_ratio')).toBe(0.75);
    expect(valueOf(families, 'mezan_worker_crashes_total')).toBe(2);
    expect(valueOf(families, 'mezan_worker_restarts_total')).toBe(2);
    expect(valueOf(families, 'mezan_escalations_total')).toBe(0);
    expect(valueOf(families, 'mezan_resource_capacity_units', { resource: 'db' })).toBe(2);
    expect(valueOf(families, 'mezan_resource_in_use_units', { resource: 'db' })).toBe(2);
    expect(valueOf(families, 'mezan_resource_utilization_ratio', { resource: 'db' })).toBe(1);
    expect(valueOf(families, 'mezan_resource_queued_requests', { resource: 'db' })).toBe(3);
    expect(valueOf(families, 'mezan_resource_acquired_total', { resource: 'db' })).toBe(6);
    // A label value's quote, backslash and line feed are escaped, and read back as they were.
    expect(valueOf(families, 'mezan_resource_capacity_units', { resource: 'gpu "a"\\b\nc' })).toBe(1);
    const analyzer = { agent: 'analyzer' };
    expect(valueOf(families, 'mezan_agent_messages_received_total', analyzer)).toBe(9);
    expect(valueOf(families, 'mezan_agent_messages_handled_total', analyzer)).toBe(5);
    expect(valueOf(families, 'mezan_agent_messages_failed_total', analyzer)).toBe(1);
    expect(valueOf(families, 'mezan_agent_messages_dropped_total', analyzer)).toBe(2);
    expect(valueOf(families, 'mezan_agent_restarts_total', analyzer)).toBe(1);
    expect(valueOf(families, 'mezan_agent_mailbox_depth', analyzer)).toBe(1);
    expect(valueOf(families, 'mezan_agent_mailbox_capacity', analyzer)).toBe(10);
    expect(valueOf(families, 'mezan_deadlocks_detected_total')).toBe(3);
    expect(valueOf(families, 'mezan_deadlocks_resolved_total', { resolution: 'victim' })).toBe(2);
    expect(valueOf(families, 'mezan_deadlocks_resolved_total', { resolution: 'compensation' })).toBe(1);
    expect(valueOf(families, 'mezan_alerts_active', { alert: 'resource.wait', severity: 'warning', resource: 'db' })).toBe(1);
    expect(valueOf(families, 'mezan_alerts_raised_total')).toBe(4);
  });

  it('writes durations as histograms in seconds: cumulative buckets at fixed bounds, +Inf equal to _count, the exact _sum', () => {
    const families = parseExposition(renderPrometheus(SNAPSHOT));
    for (const [name, values, labels] of [
      ['mezan_task_wait_seconds', WAITS_MS, {}],
      ['mezan_task_run_seconds', RUNS_MS, {}],
      ['mezan_resource_wait_seconds', DB_WAITS_MS, { resource: 'db' }],
      ['mezan_agent_ask_seconds', ASKS_MS, { agent: 'analyzer' }],
    ] as const) {
      const series = histogramOf(families, name, labels);
      expectWellFormed(series);
      for (const [le, count] of series.buckets) expect(count).toBe(atMost(values, le));
      expect(series.count).toBe(values.length);
      expect(series.sum).toBeCloseTo(values.reduce((sum, value) => sum + value, 0) / 1000, 9);
    }
    // 400 s is above the last bound (300 s): in +Inf only.
    expect(histogramOf(families, 'mezan_task_wait_seconds').buckets.slice(-2)).toEqual([
      [300, 8],
      [Infinity, 9],
    ]);
    const empty = histogramOf(families, 'mezan_resource_wait_seconds', { resource: 'gpu "a"\\b\nc' });
    expectWellFormed(empty);
    expect(empty).toMatchObject({ sum: 0, count: 0 });
    // No summary's quantiles any more: they cannot be added up across engines.
    expect(renderPrometheus(SNAPSHOT)).not.toContain('quantile=');
  });

  it('counts several alerts of one kind in one series, and writes a family without series when nothing is active', () => {
    const [first] = SNAPSHOT.alerts.active;
    const twice: MetricsSnapshot = { ...SNAPSHOT, alerts: { active: [first!, { ...first!, alertId: 'again' }], raised: 5 } };
    expect(
      valueOf(parseExposition(renderPrometheus(twice)), 'mezan_alerts_active', { alert: 'resource.wait', severity: 'warning', resource: 'db' }),
    ).toBe(2);
    // An agent's alert is labelled with its agent.
    const mailbox = { ...first!, alertId: 'agent.mailbox:analyzer', alert: 'agent.mailbox' as const, resource: undefined, agent: 'analyzer' };
    const withAgent = parseExposition(renderPrometheus({ ...SNAPSHOT, alerts: { active: [mailbox], raised: 5 } }));
    expect(valueOf(withAgent, 'mezan_alerts_active', { alert: 'agent.mailbox', severity: 'warning', resource: '', agent: 'analyzer' })).toBe(1);
    const quiet = parseExposition(renderPrometheus({ ...SNAPSHOT, alerts: { active: [], raised: 4 } }));
    expect(quiet.find((family) => family.name === 'mezan_alerts_active')?.samples).toEqual([]);
  });
});

describe('engine.prometheus()', () => {
  const sleeper =
    (ms: number) =>
    async (ctx: TaskContext): Promise<void> => {
      await ctx.sleep(ms);
    };

  it('counts what ran, in virtual time: _count and _sum of waits and runs, each bucket exact', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, resources: { db: 1 }, metrics: { timings: 'always' } });
    // Four tasks of 100 ms on two slots: two wait 0 ms, two wait 100 ms.
    for (let i = 0; i < 4; i++) engine.submit(sleeper(100));
    await clock.runAll();
    // Two tasks share the one db unit: the first holds it 40 ms, the second waits that long for it.
    for (let i = 0; i < 2; i++) {
      engine.submit(async (ctx) => {
        const lease = await ctx.acquire('db');
        await ctx.sleep(40);
        lease.release();
      });
    }
    await clock.runAll();
    engine.submit(sleeper(3_000));
    await clock.runAll();
    const families = parseExposition(await engine.prometheus());

    const waits = histogramOf(families, 'mezan_task_wait_seconds');
    expectWellFormed(waits);
    expect(waits.count).toBe(7);
    expect(waits.sum).toBeCloseTo(0.2, 9);
    expect(new Map(waits.buckets).get(0.001)).toBe(5);
    expect(new Map(waits.buckets).get(0.05)).toBe(5);
    expect(new Map(waits.buckets).get(0.1)).toBe(7);

    const runs = histogramOf(families, 'mezan_task_run_seconds');
    expectWellFormed(runs);
    expect(runs.count).toBe(7);
    expect(runs.sum).toBeCloseTo(4 * 0.1 + 0.04 + 0.08 + 3, 9);
    expect(new Map(runs.buckets).get(0.025)).toBe(0);
    expect(new Map(runs.buckets).get(0.05)).toBe(1);
    expect(new Map(runs.buckets).get(0.1)).toBe(6);
    expect(new Map(runs.buckets).get(2.5)).toBe(6);
    expect(new Map(runs.buckets).get(5)).toBe(7);

    const db = histogramOf(families, 'mezan_resource_wait_seconds', { resource: 'db' });
    expectWellFormed(db);
    expect(db.count).toBe(2);
    expect(db.sum).toBeCloseTo(0.04, 9);
    expect(new Map(db.buckets).get(0.025)).toBe(1);
    expect(new Map(db.buckets).get(0.05)).toBe(2);

    expect(valueOf(families, 'mezan_tasks_settled_total', { status: 'completed' })).toBe(7);
    await engine.shutdown();
  });

  it('agrees with engine.metrics(): the same counts, sums and buckets, in seconds', async () => {
    const { engine, clock } = startEngine({ concurrency: 3 });
    engine.metrics();
    for (const ms of [5, 30, 30, 700, 1_200, 45_000]) engine.submit(sleeper(ms));
    await clock.runAll();
    const metrics = engine.metrics();
    const runs = histogramOf(parseExposition(await engine.prometheus()), 'mezan_task_run_seconds');
    expect(runs.count).toBe(metrics.taskRun.count);
    expect(runs.sum).toBe(metrics.taskRun.sum / 1000);
    expect(runs.buckets.slice(0, -1)).toEqual(metrics.taskRun.buckets.map((bucket) => [bucket.le / 1000, bucket.count]));
    await engine.shutdown();
  });
});
