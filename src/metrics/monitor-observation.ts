/**
 * What the monitor learns: engine events (the supervisor's always, task events only while it samples
 * timings), two notices of its own from the supervisor, and gauges it reads from snapshots.
 *
 * @internal
 */
import type { AgentStats, AgentStatus } from '../../actors/agent.actor';
import type { EngineEvent } from '../engine-events';

/** A task's queued request for a pool ended (granted, withdrawn or revoked): its wait is over. */
export interface ResourceWaitEndedNotice {
  readonly type: 'resource.wait-ended';
  readonly at: number;
  readonly taskId: string;
  readonly resource: string;
}

/** The wait-for graph is free of the deadlocks detected since the last such notice. */
export interface DeadlockClearedNotice {
  readonly type: 'deadlock.cleared';
  readonly at: number;
}

/** An agent's mailbox crossed a level its alert watches (the engine's agent observer tells the monitor). */
export interface AgentMailboxNotice {
  readonly type: 'agent.mailbox';
  readonly at: number;
  readonly agent: string;
  /** Messages waiting in its mailbox now. */
  readonly depth: number;
  readonly capacity: number;
}

/** An ask to an agent settled, with a reply or an error, after `durationMs` (only while timings are sampled). */
export interface AgentAskNotice {
  readonly type: 'agent.asked';
  readonly at: number;
  readonly agent: string;
  readonly durationMs: number;
  readonly ok: boolean;
}

/** What the monitor is told besides engine events: by the supervisor, and by the engine's agent observer. */
export type MonitorNotice = ResourceWaitEndedNotice | DeadlockClearedNotice | AgentMailboxNotice | AgentAskNotice;

/** Everything the monitor observes, in the order it happened. */
export type MonitorObservation = EngineEvent | MonitorNotice;

/** One pool as the gauges read it. */
export interface PoolGauge {
  readonly name: string;
  readonly capacity: number;
  /** Units held now. */
  readonly inUse: number;
  /** Requests queued now. */
  readonly queued: number;
  /** The most units held at once. */
  readonly peakInUse: number;
  /** Leases granted so far. */
  readonly acquired: number;
  /** Sum over granted requests of their wait (0 for an immediate grant), in milliseconds. */
  readonly totalWaitMs: number;
  /** The longest wait of a granted request, in milliseconds. */
  readonly maxWaitMs: number;
}

/** Gauges read from the executor's and the pools' snapshots at one moment: what the alerts watch. */
export interface GaugeReading {
  /** Clock time of the reading. */
  readonly at: number;
  /** Tasks ready and waiting for a worker. */
  readonly queueDepth: number;
  readonly pools: readonly PoolGauge[];
}

/** One agent as its handle shows it, read when the metrics are. */
export interface AgentGauge {
  readonly name: string;
  readonly status: AgentStatus;
  readonly capacity: number;
  readonly stats: Readonly<AgentStats>;
}

/** The workers as a snapshot of the executor shows them. */
export interface WorkerGauge {
  /** Workers in service (compensation workers included, crashed ones not). */
  readonly total: number;
  /** Workers in service that hold a dispatch. */
  readonly busy: number;
  /** Compensation workers in service. */
  readonly extra: number;
}

/** The monitor's answer to "what must the engine do for you": which events to build, when to wake it. */
export interface MonitorDemand {
  /** Build task events (for the wait and run time histograms). */
  readonly collectTasks: boolean;
  /**
   * Wake the monitor when more tasks than this are queued, or when this few or fewer are: the band
   * in which the queue alert cannot change. `[-1, Infinity]` never wakes it.
   */
  readonly queueNudgeAbove: number;
  readonly queueNudgeAtOrBelow: number;
}
