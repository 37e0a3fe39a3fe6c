import type { AgentStatus } from '../../actors/agent.actor';
import type { TerminalTaskStatus } from '../task-status';
import type { AlertRecord } from './alert-book';
import type { DurationSummary } from './duration-histogram';

/** One pool's metrics in a {@link MetricsSnapshot}. Times are clock milliseconds. */
export interface ResourceMetrics {
  /** The pool's capacity now, in units. */
  readonly capacity: number;
  /** Units held now. */
  readonly inUse: number;
  /** `inUse / capacity` now (a pool of no capacity counts as full when anyone holds or wants it). */
  readonly utilization: number;
  /** Requests queued now. */
  readonly queued: number;
  /** The most units held at once. */
  readonly peakInUse: number;
  /** Leases granted so far. */
  readonly acquired: number;
  /** Mean wait of the granted requests (0 for an immediate grant), exact, from the pool's own statistics. */
  readonly meanWaitMs: number;
  /** Distribution of the waits: one sample per request, 0 for an immediate grant, the time queued for one that waited (granted or not). */
  readonly wait: DurationSummary;
}

/** One running agent's metrics in a {@link MetricsSnapshot}: its own exact counts, read from `agent.stats()`. */
export interface AgentMetrics {
  /** `idle`, `busy`, `restarting` or `stopped`. */
  readonly status: AgentStatus;
  /** Messages given to it (sent or asked), refused ones included. */
  readonly received: number;
  /** Messages whose handler returned. */
  readonly handled: number;
  /** Messages whose handler threw, or that a crash interrupted. */
  readonly failed: number;
  /** Messages never handled: refused or dropped by a full mailbox, withdrawn, or let go when it stopped. */
  readonly dropped: number;
  /** Restarts after crashes. */
  readonly restarts: number;
  /** Messages waiting in its mailbox now. */
  readonly mailboxDepth: number;
  /** The most messages that waited in its mailbox at once. */
  readonly maxMailboxDepth: number;
  /** How many messages its mailbox holds. */
  readonly mailboxCapacity: number;
  /**
   * Time from each ask to its outcome (a reply, or an error: a timeout, a full mailbox...), as the
   * asker sees it, while timings are sampled (see `timings`).
   */
  readonly ask: DurationSummary;
}

/** Worker figures in a {@link MetricsSnapshot}. */
export interface WorkerMetrics {
  /** Worker slots in service (the engine's concurrency), compensation slots included. */
  readonly total: number;
  /** Slots taken now: tasks running, or handed to a worker and about to start. */
  readonly busy: number;
  /** Slots free now. */
  readonly idle: number;
  /** Compensation slots in service. */
  readonly extra: number;
  /** `busy / total` now; 1 when no slot is in service. */
  readonly saturation: number;
  /** Worker crashes so far. */
  readonly crashes: number;
  /** Crashed workers restarted so far. */
  readonly restarts: number;
  /** Times the restarts went past the supervision limit. */
  readonly escalations: number;
}

/** An engine's metrics at one moment; returned by `engine.metrics()`. Times are clock milliseconds. */
export interface MetricsSnapshot {
  /** Clock time of the snapshot. */
  readonly at: number;
  /** Tasks ready and waiting for a worker. */
  readonly queueDepth: number;
  /** Tasks on a worker. */
  readonly running: number;
  /** Tasks waiting for dependencies, queued, or between retries. */
  readonly pending: number;
  /** Every task submitted, rejected ones included. */
  readonly submitted: number;
  /** Tasks by the status they ended in. */
  readonly byStatus: Readonly<Record<TerminalTaskStatus, number>>;
  /** Tasks settled and completed per second of clock time, averaged since the first submission. */
  readonly throughput: {
    /** Tasks settled, in any status, per second. */
    readonly settledPerSec: number;
    /** Tasks completed per second. */
    readonly completedPerSec: number;
    /** Clock time since the first submission, in milliseconds. */
    readonly elapsedMs: number;
  };
  /** Whether task wait and run times are sampled, and since when (see the `metrics.timings` option). */
  readonly timings: {
    /** `true` while task wait and run times are sampled. */
    readonly sampling: boolean;
    /** Clock time sampling began; `undefined` while it has not. */
    readonly since: number | undefined;
  };
  /** Time from queued to started, per attempt, while timings are sampled. */
  readonly taskWait: DurationSummary;
  /** Run time of each attempt that ended its task (completed, failed after running, timed out), while timings are sampled. */
  readonly taskRun: DurationSummary;
  /** The worker slots, their use, and the workers' crashes and restarts. */
  readonly workers: WorkerMetrics;
  /** Each pool, by name. */
  readonly resources: Readonly<Record<string, ResourceMetrics>>;
  /** Each running agent, by name, in the order they were spawned. */
  readonly agents: Readonly<Record<string, AgentMetrics>>;
  /** Deadlocks found and how they were resolved, so far. */
  readonly deadlocks: {
    /** Deadlocks detected. */
    readonly detected: number;
    /** Deadlocks resolved. */
    readonly resolved: number;
    /** Resolved by failing a victim's wait (`E_DEADLOCK`). */
    readonly resolvedByVictim: number;
    /** Resolved by a compensation slot. */
    readonly resolvedByCompensation: number;
  };
  /** The monitor's alerts. */
  readonly alerts: {
    /** The alerts active now, oldest first. */
    readonly active: readonly AlertRecord[];
    /** Alerts raised so far. */
    readonly raised: number;
  };
}
