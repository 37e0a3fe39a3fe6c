/**
 * The public surface of `mezan/metrics`: the shape of an engine's metrics (`engine.metrics()`) and
 * their Prometheus text (`engine.prometheus()` is `renderPrometheus(engine.metrics())`).
 *
 * @module mezan/metrics
 */

export { renderPrometheus } from '../metrics/render-prometheus';
export type { AgentMetrics, MetricsSnapshot, ResourceMetrics, WorkerMetrics } from '../metrics/metrics-snapshot';
export { DURATION_BUCKETS_MS } from '../metrics/duration-histogram';
export type { DurationSummary, DurationBucket } from '../metrics/duration-histogram';
export type { AlertRecord } from '../metrics/alert-book';
