import { Counter, Gauge, Registry, Summary } from 'prom-client';
import type { DurationSummary } from './duration-histogram';
import type { MetricsSnapshot } from './metrics-snapshot';

type SummaryValues = Awaited<ReturnType<Summary['get']>>['values'];

/** The quantiles a summary exposes, with the fields of {@link DurationSummary} they come from. */
const QUANTILES = [
  ['0.5', 'p50'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
  ['1', 'max'],
] as const;

const MS_PER_SECOND = 1000;

/**
 * A summary whose quantiles were computed elsewhere (by mezan's fixed-size histograms): it exposes
 * the values it is given instead of observing samples itself.
 */
class PrecomputedSummary<T extends string = never> extends Summary<T> {
  #values: SummaryValues = [];
  readonly #name: string;

  constructor(name: string, help: string, registry: Registry, labelNames: readonly T[] = []) {
    super({ name, help, labelNames, registers: [registry] });
    this.#name = name;
  }

  /** Replaces the exposed values with `summaries`, converted from milliseconds to seconds. */
  update(summaries: ReadonlyArray<{ readonly labels: Partial<Record<T, string>>; readonly summary: DurationSummary }>): void {
    const values: SummaryValues = [];
    for (const { labels, summary } of summaries) {
      for (const [quantile, field] of QUANTILES) {
        values.push({ labels: { ...labels, quantile }, value: summary[field] / MS_PER_SECOND });
      }
      values.push({ metricName: `${this.#name}_sum`, labels, value: summary.sum / MS_PER_SECOND });
      values.push({ metricName: `${this.#name}_count`, labels, value: summary.count });
    }
    this.#values = values;
  }

  override async get(): ReturnType<Summary<T>['get']> {
    const base = await super.get();
    return { ...base, values: this.#values };
  }
}

/**
 * The Prometheus exposition of one engine's metrics, built with prom-client on a registry of its own
 * (never the global one, so that engines and the host application do not collide). Metric names
 * start with `mezan_`; durations are in seconds, as Prometheus has it.
 *
 * @internal
 */
export class PrometheusExporter {
  readonly #registry = new Registry();
  readonly #queueDepth: Gauge;
  readonly #running: Gauge;
  readonly #pending: Gauge;
  readonly #submitted: Counter;
  readonly #settled: Counter<'status'>;
  readonly #throughput: Gauge;
  readonly #taskWait: PrecomputedSummary;
  readonly #taskRun: PrecomputedSummary;
  readonly #workers: Gauge;
  readonly #busyWorkers: Gauge;
  readonly #saturation: Gauge;
  readonly #crashes: Counter;
  readonly #restarts: Counter;
  readonly #escalations: Counter;
  readonly #capacity: Gauge<'resource'>;
  readonly #inUse: Gauge<'resource'>;
  readonly #utilization: Gauge<'resource'>;
  readonly #queued: Gauge<'resource'>;
  readonly #acquired: Counter<'resource'>;
  readonly #resourceWait: PrecomputedSummary<'resource'>;
  readonly #deadlocksDetected: Counter;
  readonly #deadlocksResolved: Counter<'resolution'>;
  readonly #alertsActive: Gauge<'alert' | 'severity' | 'resource'>;
  readonly #alertsRaised: Counter;

  constructor() {
    const registers = [this.#registry];
    const gauge = <T extends string = never>(name: string, help: string, labelNames: readonly T[] = []): Gauge<T> =>
      new Gauge<T>({ name, help, labelNames, registers });
    const counter = <T extends string = never>(name: string, help: string, labelNames: readonly T[] = []): Counter<T> =>
      new Counter<T>({ name, help, labelNames, registers });
    this.#queueDepth = gauge('mezan_queue_depth', 'Tasks ready and waiting for a worker.');
    this.#running = gauge('mezan_tasks_running', 'Tasks on a worker.');
    this.#pending = gauge('mezan_tasks_pending', 'Tasks waiting for dependencies, queued, or between retries.');
    this.#submitted = counter('mezan_tasks_submitted_total', 'Tasks submitted, rejected ones included.');
    this.#settled = counter('mezan_tasks_settled_total', 'Tasks by the status they ended in.', ['status']);
    this.#throughput = gauge('mezan_throughput_tasks_per_second', 'Tasks settled per second, averaged since the first submission.');
    this.#taskWait = new PrecomputedSummary('mezan_task_wait_seconds', 'Time from queued to started, per attempt.', this.#registry);
    this.#taskRun = new PrecomputedSummary('mezan_task_run_seconds', 'Run time of the attempts that ended their task.', this.#registry);
    this.#workers = gauge('mezan_workers', 'Workers in service, compensation workers included.');
    this.#busyWorkers = gauge('mezan_workers_busy', 'Workers holding a dispatch.');
    this.#saturation = gauge('mezan_worker_saturation_ratio', 'Busy workers over workers in service.');
    this.#crashes = counter('mezan_worker_crashes_total', 'Worker crashes.');
    this.#restarts = counter('mezan_worker_restarts_total', 'Crashed workers restarted.');
    this.#escalations = counter('mezan_escalations_total', 'Times worker restarts went past the supervision limit.');
    this.#capacity = gauge('mezan_resource_capacity_units', 'Units a resource pool has.', ['resource']);
    this.#inUse = gauge('mezan_resource_in_use_units', 'Units of a resource pool held.', ['resource']);
    this.#utilization = gauge('mezan_resource_utilization_ratio', 'Units held over capacity.', ['resource']);
    this.#queued = gauge('mezan_resource_queued_requests', 'Requests queued for a resource pool.', ['resource']);
    this.#acquired = counter('mezan_resource_acquired_total', 'Leases a resource pool granted.', ['resource']);
    this.#resourceWait = new PrecomputedSummary(
      'mezan_resource_wait_seconds',
      'Time a request waited for a resource pool (0 for an immediate grant).',
      this.#registry,
      ['resource'],
    );
    this.#deadlocksDetected = counter('mezan_deadlocks_detected_total', 'Deadlocks detected.');
    this.#deadlocksResolved = counter('mezan_deadlocks_resolved_total', 'Deadlocks resolved, by a victim or by compensation.', ['resolution']);
    this.#alertsActive = gauge('mezan_alerts_active', 'Alerts active now.', ['alert', 'severity', 'resource']);
    this.#alertsRaised = counter('mezan_alerts_raised_total', 'Alerts raised.');
  }

  /** The registry the metrics are registered with. */
  get registry(): Registry {
    return this.#registry;
  }

  /**
   * Sets every metric from `snapshot` and renders the text exposition.
   * @returns the Prometheus text format (version 0.0.4)
   */
  render(snapshot: MetricsSnapshot): Promise<string> {
    this.#update(snapshot);
    return this.#registry.metrics();
  }

  #update(snapshot: MetricsSnapshot): void {
    this.#queueDepth.set(snapshot.queueDepth);
    this.#running.set(snapshot.running);
    this.#pending.set(snapshot.pending);
    setCounter(this.#submitted, snapshot.submitted);
    this.#settled.reset();
    for (const [status, count] of Object.entries(snapshot.byStatus)) this.#settled.inc({ status }, count);
    this.#throughput.set(snapshot.throughput.settledPerSec);
    this.#taskWait.update([{ labels: {}, summary: snapshot.taskWait }]);
    this.#taskRun.update([{ labels: {}, summary: snapshot.taskRun }]);
    const { workers } = snapshot;
    this.#workers.set(workers.total);
    this.#busyWorkers.set(workers.busy);
    this.#saturation.set(workers.saturation);
    setCounter(this.#crashes, workers.crashes);
    setCounter(this.#restarts, workers.restarts);
    setCounter(this.#escalations, workers.escalations);
    for (const metric of [this.#capacity, this.#inUse, this.#utilization, this.#queued]) metric.reset();
    this.#acquired.reset();
    const waits: Array<{ labels: { resource: string }; summary: DurationSummary }> = [];
    for (const [resource, pool] of Object.entries(snapshot.resources)) {
      const labels = { resource };
      this.#capacity.set(labels, pool.capacity);
      this.#inUse.set(labels, pool.inUse);
      this.#utilization.set(labels, pool.utilization);
      this.#queued.set(labels, pool.queued);
      this.#acquired.inc(labels, pool.acquired);
      waits.push({ labels, summary: pool.wait });
    }
    this.#resourceWait.update(waits);
    setCounter(this.#deadlocksDetected, snapshot.deadlocks.detected);
    this.#deadlocksResolved.reset();
    this.#deadlocksResolved.inc({ resolution: 'victim' }, snapshot.deadlocks.resolvedByVictim);
    this.#deadlocksResolved.inc({ resolution: 'compensation' }, snapshot.deadlocks.resolvedByCompensation);
    this.#alertsActive.reset();
    for (const alert of snapshot.alerts.active) {
      this.#alertsActive.inc({ alert: alert.alert, severity: alert.severity, resource: alert.resource ?? '' }, 1);
    }
    setCounter(this.#alertsRaised, snapshot.alerts.raised);
  }
}

/** A counter's value comes from an exact count kept elsewhere: set it rather than add to it. */
function setCounter(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}
