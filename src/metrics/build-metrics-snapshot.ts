import type { TerminalTaskStatus } from '../task-status';
import type { EngineProgress } from '../engine-snapshots';
import type { AlertBook } from './alert-book';
import { utilizationOf } from './evaluate-alerts';
import type { MonitorBook } from './monitor-book';
import type { AgentGauge, GaugeReading, WorkerGauge } from './monitor-observation';
import type { AgentMetrics, MetricsSnapshot, ResourceMetrics } from './metrics-snapshot';

/** What a {@link MetricsSnapshot} is made of. @internal */
export interface MetricsSources {
  readonly progress: EngineProgress;
  readonly gauges: GaugeReading;
  readonly workers: WorkerGauge;
  /** The running agents, as their handles show them. */
  readonly agents: readonly AgentGauge[];
  readonly book: MonitorBook;
  readonly alerts: AlertBook;
  readonly timingsSince: number | undefined;
}

/** Builds a plain, frozen {@link MetricsSnapshot}: nothing in it is shared with an actor. @internal */
export function buildMetricsSnapshot({ progress, gauges, workers, agents, book, alerts, timingsSince }: MetricsSources): MetricsSnapshot {
  const settled = progress.completed + progress.failed + progress.cancelled + progress.timedOut + progress.deadlocked + progress.rejected;
  const seconds = progress.elapsedMs / 1000;
  const resources: Record<string, ResourceMetrics> = {};
  for (const pool of gauges.pools) {
    resources[pool.name] = Object.freeze({
      capacity: pool.capacity,
      inUse: pool.inUse,
      utilization: utilizationOf(pool),
      queued: pool.queued,
      peakInUse: pool.peakInUse,
      acquired: pool.acquired,
      meanWaitMs: pool.acquired === 0 ? 0 : pool.totalWaitMs / pool.acquired,
      wait: book.poolWaits(pool.name),
    });
  }
  const agentMetrics: Record<string, AgentMetrics> = {};
  for (const { name, status, capacity, stats } of agents) {
    agentMetrics[name] = Object.freeze({
      status,
      received: stats.received,
      handled: stats.handled,
      failed: stats.failed,
      dropped: stats.dropped,
      restarts: stats.restarts,
      mailboxDepth: stats.mailboxDepth,
      maxMailboxDepth: stats.maxMailboxDepth,
      mailboxCapacity: capacity,
      ask: book.askLatency(name),
    });
  }
  const { counters } = book;
  const { total, busy } = workers;
  return Object.freeze({
    at: gauges.at,
    queueDepth: gauges.queueDepth,
    running: progress.running,
    pending: progress.pending,
    submitted: progress.total,
    byStatus: Object.freeze(countsByStatus(progress)),
    throughput: Object.freeze({
      settledPerSec: seconds > 0 ? settled / seconds : 0,
      completedPerSec: seconds > 0 ? progress.completed / seconds : 0,
      elapsedMs: progress.elapsedMs,
    }),
    timings: Object.freeze({ sampling: timingsSince !== undefined, since: timingsSince }),
    taskWait: book.taskWait.summary(),
    taskRun: book.taskRun.summary(),
    workers: Object.freeze({
      total,
      busy,
      idle: total - busy,
      extra: workers.extra,
      saturation: total === 0 ? 1 : busy / total,
      crashes: counters.workerCrashes,
      restarts: counters.workerRestarts,
      escalations: counters.escalations,
    }),
    resources: Object.freeze(resources),
    agents: Object.freeze(agentMetrics),
    deadlocks: Object.freeze({
      detected: counters.deadlocksDetected,
      resolved: counters.deadlocksResolvedByVictim + counters.deadlocksResolvedByCompensation,
      resolvedByVictim: counters.deadlocksResolvedByVictim,
      resolvedByCompensation: counters.deadlocksResolvedByCompensation,
    }),
    alerts: Object.freeze({ active: Object.freeze(alerts.active()), raised: alerts.raisedTotal }),
  });
}

/** The counts of `progress` by terminal task status, named as the statuses are. @internal */
export function countsByStatus(progress: EngineProgress): Record<TerminalTaskStatus, number> {
  return {
    completed: progress.completed,
    failed: progress.failed,
    cancelled: progress.cancelled,
    timeout: progress.timedOut,
    deadlock: progress.deadlocked,
    rejected: progress.rejected,
  };
}
