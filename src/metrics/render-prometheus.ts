import type { DurationSummary } from './duration-histogram';
import type { MetricsSnapshot } from './metrics-snapshot';
import { formatValue, NO_LABELS, PrometheusTextWriter, type PrometheusLabels } from './prometheus-text';

const MS_PER_SECOND = 1000;

/** One labelled series of a histogram family. */
interface HistogramSeries {
  readonly labels: PrometheusLabels;
  readonly summary: DurationSummary;
}

/**
 * Renders an engine's metrics in the Prometheus text exposition format (version 0.0.4), written
 * directly, without a client library. Metric names start with `mezan_`; durations are in seconds,
 * as Prometheus has them. Counters carry the snapshot's exact counts. Durations are histograms with
 * the fixed buckets of {@link DurationSummary.buckets} (as `le` in seconds), so that the series of
 * several engines add up:
 * `histogram_quantile(0.95, sum by (le) (rate(mezan_task_run_seconds_bucket[5m])))`.
 *
 * @param snapshot - what `engine.metrics()` returned
 * @returns the text: a `# HELP` and a `# TYPE` line per family, then its samples, every line ended
 *   by a line feed
 * @example
 * ```ts
 * http.createServer((req, res) => res.end(renderPrometheus(engine.metrics()))).listen(9464);
 * ```
 */
export function renderPrometheus(snapshot: MetricsSnapshot): string {
  const text = new PrometheusTextWriter();
  const single = (name: string, type: 'counter' | 'gauge', help: string, value: number): void => {
    text.family(name, type, help).sample(name, NO_LABELS, value);
  };
  single('mezan_queue_depth', 'gauge', 'Tasks ready and waiting for a worker.', snapshot.queueDepth);
  single('mezan_tasks_running', 'gauge', 'Tasks on a worker.', snapshot.running);
  single('mezan_tasks_pending', 'gauge', 'Tasks waiting for dependencies, queued, or between retries.', snapshot.pending);
  single('mezan_tasks_submitted_total', 'counter', 'Tasks submitted, rejected ones included.', snapshot.submitted);
  text.family('mezan_tasks_settled_total', 'counter', 'Tasks by the status they ended in.');
  for (const [status, count] of Object.entries(snapshot.byStatus)) text.sample('mezan_tasks_settled_total', { status }, count);
  single(
    'mezan_throughput_tasks_per_second',
    'gauge',
    'Tasks settled per second, averaged since the first submission.',
    snapshot.throughput.settledPerSec,
  );
  histogram(text, 'mezan_task_wait_seconds', 'Time from queued to started, per attempt.', [{ labels: NO_LABELS, summary: snapshot.taskWait }]);
  histogram(text, 'mezan_task_run_seconds', 'Run time of the attempts that ended their task.', [{ labels: NO_LABELS, summary: snapshot.taskRun }]);

  const { workers } = snapshot;
  single('mezan_workers', 'gauge', 'Worker slots in service (the concurrency), compensation slots included.', workers.total);
  single('mezan_workers_busy', 'gauge', 'Worker slots taken: tasks running, or handed to a worker and about to start.', workers.busy);
  single('mezan_worker_saturation_ratio', 'gauge', 'Slots taken over slots in service.', workers.saturation);
  single('mezan_worker_crashes_total', 'counter', 'Worker crashes.', workers.crashes);
  single('mezan_worker_restarts_total', 'counter', 'Crashed workers restarted.', workers.restarts);
  single('mezan_escalations_total', 'counter', 'Times worker restarts went past the supervision limit.', workers.escalations);

  const pools = Object.entries(snapshot.resources);
  const perPool = (name: string, type: 'counter' | 'gauge', help: string, read: (pool: (typeof pools)[number][1]) => number): void => {
    text.family(name, type, help);
    for (const [resource, pool] of pools) text.sample(name, { resource }, read(pool));
  };
  perPool('mezan_resource_capacity_units', 'gauge', 'Units a resource pool has.', (pool) => pool.capacity);
  perPool('mezan_resource_in_use_units', 'gauge', 'Units of a resource pool held.', (pool) => pool.inUse);
  perPool('mezan_resource_utilization_ratio', 'gauge', 'Units held over capacity.', (pool) => pool.utilization);
  perPool('mezan_resource_queued_requests', 'gauge', 'Requests queued for a resource pool.', (pool) => pool.queued);
  perPool('mezan_resource_acquired_total', 'counter', 'Leases a resource pool granted.', (pool) => pool.acquired);
  histogram(
    text,
    'mezan_resource_wait_seconds',
    'Time a request waited for a resource pool (0 for an immediate grant).',
    pools.map(([resource, pool]) => ({ labels: { resource }, summary: pool.wait })),
  );

  const agents = Object.entries(snapshot.agents);
  const perAgent = (name: string, type: 'counter' | 'gauge', help: string, read: (agent: (typeof agents)[number][1]) => number): void => {
    text.family(name, type, help);
    for (const [agent, metrics] of agents) text.sample(name, { agent }, read(metrics));
  };
  perAgent('mezan_agent_messages_received_total', 'counter', 'Messages given to an agent (sent or asked), refused ones included.', (a) => a.received);
  perAgent('mezan_agent_messages_handled_total', 'counter', 'Messages whose handler returned.', (a) => a.handled);
  perAgent('mezan_agent_messages_failed_total', 'counter', 'Messages whose handler threw, or that a crash interrupted.', (a) => a.failed);
  perAgent(
    'mezan_agent_messages_dropped_total',
    'counter',
    'Messages an agent never handled: refused, dropped, withdrawn or let go.',
    (a) => a.dropped,
  );
  perAgent('mezan_agent_restarts_total', 'counter', 'Restarts of an agent after crashes.', (a) => a.restarts);
  perAgent('mezan_agent_mailbox_depth', 'gauge', "Messages waiting in an agent's mailbox.", (a) => a.mailboxDepth);
  perAgent('mezan_agent_mailbox_capacity', 'gauge', "Messages an agent's mailbox holds.", (a) => a.mailboxCapacity);
  histogram(
    text,
    'mezan_agent_ask_seconds',
    'Time from an ask to its outcome (a reply or an error), as the asker sees it.',
    agents.map(([agent, metrics]) => ({ labels: { agent }, summary: metrics.ask })),
  );

  const { deadlocks, alerts } = snapshot;
  single('mezan_deadlocks_detected_total', 'counter', 'Deadlocks detected.', deadlocks.detected);
  text
    .family('mezan_deadlocks_resolved_total', 'counter', 'Deadlocks resolved, by a victim or by compensation.')
    .sample('mezan_deadlocks_resolved_total', { resolution: 'victim' }, deadlocks.resolvedByVictim)
    .sample('mezan_deadlocks_resolved_total', { resolution: 'compensation' }, deadlocks.resolvedByCompensation);
  text.family('mezan_alerts_active', 'gauge', 'Alerts active now.');
  const active = new Map<string, { labels: PrometheusLabels; count: number }>();
  for (const alert of alerts.active) {
    const base = { alert: alert.alert, severity: alert.severity, resource: alert.resource ?? '' };
    const labels = alert.agent === undefined ? base : { ...base, agent: alert.agent };
    const key = JSON.stringify(labels);
    const series = active.get(key) ?? { labels, count: 0 };
    series.count++;
    active.set(key, series);
  }
  for (const { labels, count } of active.values()) text.sample('mezan_alerts_active', labels, count);
  single('mezan_alerts_raised_total', 'counter', 'Alerts raised.', alerts.raised);
  return text.toString();
}

/** A histogram family: for each series its cumulative buckets in seconds, `+Inf`, `_sum` and `_count`. */
function histogram(text: PrometheusTextWriter, name: string, help: string, series: readonly HistogramSeries[]): void {
  text.family(name, 'histogram', help);
  for (const { labels, summary } of series) {
    for (const bucket of summary.buckets) text.sample(`${name}_bucket`, { ...labels, le: formatValue(bucket.le / MS_PER_SECOND) }, bucket.count);
    text.sample(`${name}_bucket`, { ...labels, le: '+Inf' }, summary.count);
    text.sample(`${name}_sum`, labels, summary.sum / MS_PER_SECOND);
    text.sample(`${name}_count`, labels, summary.count);
  }
}
