import { register as globalRegistry } from 'prom-client';
import type { MetricsSnapshot } from '../../src';
import { EMPTY_DURATION_SUMMARY } from '../../src/metrics/duration-histogram';
import { PrometheusExporter } from '../../src/metrics/prometheus-exporter';

/** One sample of the text exposition. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text format (0.0.4) back: samples, and each family's type. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    const raw = sample[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value)) throw new Error(`not a number in: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { samples, types };
}

function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.keys(labels).length === Object.keys(sample.labels).length &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const SNAPSHOT: MetricsSnapshot = {
  at: 5000,
  queueDepth: 12,
  running: 4,
  pending: 15,
  submitted: 40,
  byStatus: { completed: 20, failed: 2, cancelled: 1, timeout: 1, deadlock: 1, rejected: 0 },
  throughput: { settledPerSec: 5, completedPerSec: 4, elapsedMs: 5000 },
  timings: { sampling: true, since: 0 },
  taskWait: { count: 24, sum: 1200, mean: 50, min: 0, p50: 40, p95: 150, p99: 180, max: 200 },
  taskRun: { count: 22, sum: 2200, mean: 100, min: 10, p50: 100, p95: 250, p99: 300, max: 320 },
  workers: { total: 4, busy: 3, idle: 1, extra: 0, saturation: 0.75, crashes: 2, restarts: 2, escalations: 0 },
  resources: {
    db: {
      capacity: 2,
      inUse: 2,
      utilization: 1,
      queued: 3,
      peakInUse: 2,
      acquired: 9,
      meanWaitMs: 30,
      wait: { count: 9, sum: 270, mean: 30, min: 0, p50: 20, p95: 90, p99: 90, max: 90 },
    },
    'gpu "a"': { capacity: 1, inUse: 0, utilization: 0, queued: 0, peakInUse: 1, acquired: 1, meanWaitMs: 0, wait: EMPTY_DURATION_SUMMARY },
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

describe('PrometheusExporter', () => {
  it('renders every metric with the mezan_ prefix, typed, and parses back to the snapshot’s values', async () => {
    const { samples, types } = parsePrometheus(await new PrometheusExporter().render(SNAPSHOT));
    expect([...types.keys()].every((name) => name.startsWith('mezan_'))).toBe(true);
    expect(samples.every((sample) => sample.name.startsWith('mezan_'))).toBe(true);

    expect(types.get('mezan_queue_depth')).toBe('gauge');
    expect(valueOf(samples, 'mezan_queue_depth')).toBe(12);
    expect(valueOf(samples, 'mezan_tasks_running')).toBe(4);
    expect(valueOf(samples, 'mezan_tasks_pending')).toBe(15);
    expect(types.get('mezan_tasks_submitted_total')).toBe('counter');
    expect(valueOf(samples, 'mezan_tasks_submitted_total')).toBe(40);
    expect(
      Object.fromEntries(
        samples.filter((sample) => sample.name === 'mezan_tasks_settled_total').map((sample) => [sample.labels['status'], sample.value]),
      ),
    ).toEqual({ completed: 20, failed: 2, cancelled: 1, timeout: 1, deadlock: 1, rejected: 0 });
    expect(valueOf(samples, 'mezan_throughput_tasks_per_second')).toBe(5);

    // Durations in seconds, as a summary with p50, p95, p99 and the max as quantile 1.
    expect(types.get('mezan_task_wait_seconds')).toBe('summary');
    expect(valueOf(samples, 'mezan_task_wait_seconds', { quantile: '0.5' })).toBe(0.04);
    expect(valueOf(samples, 'mezan_task_wait_seconds', { quantile: '0.95' })).toBe(0.15);
    expect(valueOf(samples, 'mezan_task_wait_seconds', { quantile: '0.99' })).toBe(0.18);
    expect(valueOf(samples, 'mezan_task_wait_seconds', { quantile: '1' })).toBe(0.2);
    expect(valueOf(samples, 'mezan_task_wait_seconds_sum')).toBe(1.2);
    expect(valueOf(samples, 'mezan_task_wait_seconds_count')).toBe(24);
    expect(valueOf(samples, 'mezan_task_run_seconds', { quantile: '1' })).toBe(0.32);
    expect(valueOf(samples, 'mezan_task_run_seconds_count')).toBe(22);

    expect(valueOf(samples, 'mezan_workers')).toBe(4);
    expect(valueOf(samples, 'mezan_workers_busy')).toBe(3);
    expect(valueOf(samples, 'mezan_worker_saturation_ratio')).toBe(0.75);
    expect(valueOf(samples, 'mezan_worker_crashes_total')).toBe(2);
    expect(valueOf(samples, 'mezan_worker_restarts_total')).toBe(2);
    expect(valueOf(samples, 'mezan_escalations_total')).toBe(0);

    expect(valueOf(samples, 'mezan_resource_utilization_ratio', { resource: 'db' })).toBe(1);
    expect(valueOf(samples, 'mezan_resource_in_use_units', { resource: 'db' })).toBe(2);
    expect(valueOf(samples, 'mezan_resource_capacity_units', { resource: 'db' })).toBe(2);
    expect(valueOf(samples, 'mezan_resource_queued_requests', { resource: 'db' })).toBe(3);
    expect(valueOf(samples, 'mezan_resource_acquired_total', { resource: 'db' })).toBe(9);
    expect(valueOf(samples, 'mezan_resource_wait_seconds', { resource: 'db', quantile: '0.95' })).toBe(0.09);
    expect(valueOf(samples, 'mezan_resource_wait_seconds_count', { resource: 'db' })).toBe(9);
    // Label values are escaped.
    expect(valueOf(samples, 'mezan_resource_capacity_units', { resource: 'gpu \\"a\\"' })).toBe(1);

    expect(valueOf(samples, 'mezan_deadlocks_detected_total')).toBe(3);
    expect(valueOf(samples, 'mezan_deadlocks_resolved_total', { resolution: 'victim' })).toBe(2);
    expect(valueOf(samples, 'mezan_deadlocks_resolved_total', { resolution: 'compensation' })).toBe(1);
    expect(valueOf(samples, 'mezan_alerts_active', { alert: 'resource.wait', severity: 'warning', resource: 'db' })).toBe(1);
    expect(valueOf(samples, 'mezan_alerts_raised_total')).toBe(4);
  });

  it('sets counters to the snapshot’s counts on every render instead of adding them up, and drops what is gone', async () => {
    const exporter = new PrometheusExporter();
    await exporter.render(SNAPSHOT);
    const later: MetricsSnapshot = { ...SNAPSHOT, submitted: 41, alerts: { active: [], raised: 4 } };
    const { samples } = parsePrometheus(await exporter.render(later));
    expect(valueOf(samples, 'mezan_tasks_submitted_total')).toBe(41);
    expect(valueOf(samples, 'mezan_deadlocks_detected_total')).toBe(3);
    expect(samples.filter((sample) => sample.name === 'mezan_alerts_active')).toEqual([]);
  });

  it('keeps a registry per exporter: two engines do not collide, and the global registry stays empty', async () => {
    const a = new PrometheusExporter();
    const b = new PrometheusExporter();
    const [textA, textB] = await Promise.all([a.render(SNAPSHOT), b.render({ ...SNAPSHOT, queueDepth: 99 })]);
    expect(valueOf(parsePrometheus(textA).samples, 'mezan_queue_depth')).toBe(12);
    expect(valueOf(parsePrometheus(textB).samples, 'mezan_queue_depth')).toBe(99);
    expect(a.registry).not.toBe(b.registry);
    expect(globalRegistry.getMetricsAsArray().filter((metric) => metric.name.startsWith('mezan_'))).toEqual([]);
  });
});
