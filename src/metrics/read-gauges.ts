import type { ExecutorRef } from '../../actors/executor.actor';
import type { Agent } from '../agents/agent';
import type { PoolSnapshot } from '../../actors/pool.actor';
import type { Clock } from '../clock';
import type { ResourceDescriptor } from '../internal/task-services';
import type { AgentGauge, GaugeReading, PoolGauge, WorkerGauge } from './monitor-observation';

/**
 * Reads what the alerts watch from the latest snapshots of the executor and the pools: a read,
 * never a message, so it costs the actors nothing. O(pools).
 *
 * @internal
 */
export function readGauges(executor: ExecutorRef, pools: ReadonlyMap<string, ResourceDescriptor>, clock: Pick<Clock, 'now'>): GaugeReading {
  const gauges: PoolGauge[] = [];
  for (const { name, ref } of pools.values()) {
    const { capacity, stats } = (ref.getSnapshot() as PoolSnapshot).context;
    gauges.push({
      name,
      capacity,
      inUse: stats.inUse,
      queued: stats.queueLength,
      peakInUse: stats.peakInUse,
      acquired: stats.acquired,
      totalWaitMs: stats.totalWaitMs,
      maxWaitMs: stats.maxWaitMs,
    });
  }
  return { at: clock.now(), queueDepth: executor.getSnapshot().context.counts.queued, pools: gauges };
}

/**
 * Counts the worker slots in the executor's latest snapshot: `total` slots in service, `busy` ones
 * taken, and `extra` compensation slots among them. O(workers): read for `engine.metrics()` only.
 * @internal
 */
export function readWorkerGauge(executor: ExecutorRef): WorkerGauge {
  const context = executor.getSnapshot().context;
  let total = 0;
  let busy = 0;
  for (const worker of context.workers) {
    if (worker.down) continue;
    total += worker.capacity;
    busy += worker.capacity - worker.free;
  }
  return { total, busy, extra: context.extraSlots };
}

/**
 * Reads each running agent from its handle: its status and `stats()` (its own exact counts, copied
 * from its latest snapshot) and its mailbox's capacity. O(agents): read for `engine.metrics()` only.
 * @internal
 */
export function readAgentGauges(agents: ReadonlyArray<Agent & { readonly mailboxCapacity: number }>): AgentGauge[] {
  return agents.map((agent) => ({ name: agent.name, status: agent.status, capacity: agent.mailboxCapacity, stats: agent.stats() }));
}
