import { parseMessageNodeId } from '../detection/agent-nodes';
import { DurationHistogram, EMPTY_DURATION_SUMMARY, type DurationSummary } from './duration-histogram';
import type { MonitorObservation } from './monitor-observation';

/** One pool as the monitor follows it: its waits, and the timing of its utilization alert. @internal */
export interface PoolRecord {
  readonly name: string;
  /** The ids of its wait and utilization alerts, made once: they are looked up at every evaluation. */
  readonly waitAlertId: string;
  readonly utilizationAlertId: string;
  /** One sample per request: 0 for an immediate grant, the time queued for one that waited. */
  readonly waits: DurationHistogram;
  /** Tasks whose request is queued, by the clock time they began to wait; oldest first. */
  readonly open: Map<string, number>;
  /** Tasks whose wait ended in the current batch (their grant, if any, is no immediate one). */
  readonly endedInBatch: Set<string>;
  /** The last wait that ended (0 for an immediate grant); `undefined` before the first. */
  lastWaitMs: number | undefined;
  /** Since when utilization has been over its threshold, the alert not raised. */
  overSince: number | undefined;
  /** Since when utilization has been at or below its clear level, the alert raised. */
  underSince: number | undefined;
}

/** One agent's mailbox as the monitor follows it, for its alert. @internal */
export interface MailboxRecord {
  readonly agent: string;
  /** The id of its alert, made once. */
  readonly alertId: string;
  /** Messages waiting, as last told. */
  depth: number;
  capacity: number;
  /** The deepest it was told of since the alerts were last evaluated: a crossing within one batch still counts. */
  peak: number;
}

/** What the monitor counts from events. @internal */
export interface MonitorCounters {
  deadlocksDetected: number;
  deadlocksResolvedByVictim: number;
  deadlocksResolvedByCompensation: number;
  workerCrashes: number;
  workerRestarts: number;
  escalations: number;
}

/** Whether a deadlock is in the graph, for the deadlock alert. @internal */
export interface DeadlockState {
  /** Detected and not yet reported gone. */
  open: boolean;
  /** Detections the alert has not accounted for yet. */
  unseenDetections: number;
  /** How many tasks and agents' messages the last detection found deadlocked. */
  lastDeadlocked: number;
  /** How many of those were agents' messages (their handlers, or their asks waiting in a mailbox). */
  lastDeadlockedMessages: number;
}

/**
 * The monitor's private bookkeeping: fixed-size histograms of task wait and run times, of each
 * pool's waits and of each agent's asks, counters, the open waits of each pool, the mailboxes near
 * their alert, recent crashes. It grows with what is unfinished (queued tasks, queued requests,
 * crashes within the window) and with the names of the agents asked, never with what finished.
 * Only the monitor's own actions touch it.
 *
 * @internal
 */
export class MonitorBook {
  /** Time from `task.queued` to `task.started`, per attempt. */
  readonly taskWait = new DurationHistogram();
  /** `durationMs` of each attempt that ended its task (completed, failed after running, timed out). */
  readonly taskRun = new DurationHistogram();
  readonly counters: MonitorCounters = {
    deadlocksDetected: 0,
    deadlocksResolvedByVictim: 0,
    deadlocksResolvedByCompensation: 0,
    workerCrashes: 0,
    workerRestarts: 0,
    escalations: 0,
  };
  readonly deadlock: DeadlockState = { open: false, unseenDetections: 0, lastDeadlocked: 0, lastDeadlockedMessages: 0 };
  /** When each queued attempt was queued (the first time, if it was handed back and queued again). */
  readonly #queuedAt = new Map<string, { readonly at: number; readonly attempt: number }>();
  readonly #pools = new Map<string, PoolRecord>();
  /** Each agent's ask latencies, by name (kept after it stops: a name asked again adds to it). */
  readonly #asks = new Map<string, DurationHistogram>();
  /** The mailboxes that have something to say to their alert: dropped once empty and quiet. */
  readonly #mailboxes = new Map<string, MailboxRecord>();
  readonly #touched = new Set<PoolRecord>();
  #crashTimes: number[] = [];
  readonly #crashWindowMs: number;

  /** @param crashWindowMs - how long a crash counts toward the restarts alert (the supervision window) */
  constructor(crashWindowMs: number) {
    this.#crashWindowMs = crashWindowMs;
  }

  /** Queued attempts whose start is awaited for a wait-time sample. */
  get trackedTasks(): number {
    return this.#queuedAt.size;
  }

  /** The pool's record, created on first use. */
  pool(name: string): PoolRecord {
    let pool = this.#pools.get(name);
    if (pool === undefined) {
      pool = {
        name,
        waitAlertId: `resource.wait:${name}`,
        utilizationAlertId: `resource.utilization:${name}`,
        waits: new DurationHistogram(),
        open: new Map(),
        endedInBatch: new Set(),
        lastWaitMs: undefined,
        overSince: undefined,
        underSince: undefined,
      };
      this.#pools.set(name, pool);
    }
    return pool;
  }

  /** The distribution of a pool's waits, read without creating its record. */
  poolWaits(name: string): DurationSummary {
    return this.#pools.get(name)?.waits.summary() ?? EMPTY_DURATION_SUMMARY;
  }

  /** The distribution of the asks to an agent, from ask to outcome. */
  askLatency(agent: string): DurationSummary {
    return this.#asks.get(agent)?.summary() ?? EMPTY_DURATION_SUMMARY;
  }

  /** The mailboxes followed for their alert. */
  mailboxes(): IterableIterator<MailboxRecord> {
    return this.#mailboxes.values();
  }

  /** Stops following a mailbox (empty, its alert not active). */
  forgetMailbox(agent: string): void {
    this.#mailboxes.delete(agent);
  }

  /** Worker crashes within the window ending at `now`. */
  crashesWithin(now: number): number {
    this.#pruneCrashes(now);
    return this.#crashTimes.length;
  }

  /** The clock time the oldest crash in the window leaves it; `undefined` without crashes. */
  nextCrashExpiry(): number | undefined {
    const oldest = this.#crashTimes[0];
    return oldest === undefined ? undefined : oldest + this.#crashWindowMs;
  }

  /** Learns from one observation. */
  observe(observation: MonitorObservation): void {
    switch (observation.type) {
      case 'task.queued': {
        const known = this.#queuedAt.get(observation.taskId);
        if (known === undefined || known.attempt !== observation.attempt) {
          this.#queuedAt.set(observation.taskId, { at: observation.at, attempt: observation.attempt });
        }
        return;
      }
      case 'task.started': {
        const queued = this.#queuedAt.get(observation.taskId);
        if (queued === undefined) return;
        this.#queuedAt.delete(observation.taskId);
        if (queued.attempt === observation.attempt) this.taskWait.record(observation.at - queued.at);
        return;
      }
      case 'task.completed':
      case 'task.timeout':
        this.#queuedAt.delete(observation.taskId);
        this.taskRun.record(observation.durationMs);
        return;
      case 'task.failed':
        this.#queuedAt.delete(observation.taskId);
        if (observation.durationMs !== undefined) this.taskRun.record(observation.durationMs);
        return;
      case 'task.cancelled':
      case 'task.deadlock':
      case 'task.rejected':
        this.#queuedAt.delete(observation.taskId);
        return;
      case 'resource.waiting': {
        const pool = this.pool(observation.resource);
        if (!pool.open.has(observation.taskId)) pool.open.set(observation.taskId, observation.at);
        return;
      }
      case 'resource.wait-ended': {
        const pool = this.pool(observation.resource);
        const since = pool.open.get(observation.taskId);
        if (since === undefined) return;
        pool.open.delete(observation.taskId);
        const waitedMs = Math.max(0, observation.at - since);
        pool.waits.record(waitedMs);
        pool.lastWaitMs = waitedMs;
        pool.endedInBatch.add(observation.taskId);
        this.#touched.add(pool);
        return;
      }
      case 'resource.acquired': {
        const pool = this.pool(observation.resource);
        // The supervisor hears a waited request's end before its grant: that grant was no immediate one.
        if (pool.endedInBatch.delete(observation.taskId) || pool.open.has(observation.taskId)) return;
        pool.waits.record(0);
        pool.lastWaitMs = 0;
        return;
      }
      case 'deadlock.detected':
        this.counters.deadlocksDetected++;
        this.deadlock.open = true;
        this.deadlock.unseenDetections++;
        this.deadlock.lastDeadlocked = observation.deadlocked.length;
        this.deadlock.lastDeadlockedMessages = observation.deadlocked.filter((id) => parseMessageNodeId(id) !== undefined).length;
        return;
      case 'deadlock.cleared':
        this.deadlock.open = false;
        return;
      case 'deadlock.resolved':
        if (observation.resolution === 'victim') this.counters.deadlocksResolvedByVictim++;
        else this.counters.deadlocksResolvedByCompensation++;
        return;
      case 'worker.crashed':
        this.counters.workerCrashes++;
        this.#crashTimes.push(observation.at);
        this.#pruneCrashes(observation.at);
        return;
      case 'worker.restarted':
        this.counters.workerRestarts++;
        return;
      case 'engine.escalated':
        this.counters.escalations++;
        return;
      case 'agent.mailbox': {
        let mailbox = this.#mailboxes.get(observation.agent);
        if (mailbox === undefined) {
          mailbox = { agent: observation.agent, alertId: `agent.mailbox:${observation.agent}`, depth: 0, capacity: 0, peak: 0 };
          this.#mailboxes.set(observation.agent, mailbox);
        }
        mailbox.depth = observation.depth;
        mailbox.capacity = observation.capacity;
        if (observation.depth > mailbox.peak) mailbox.peak = observation.depth;
        return;
      }
      case 'agent.asked': {
        let asks = this.#asks.get(observation.agent);
        if (asks === undefined) this.#asks.set(observation.agent, (asks = new DurationHistogram()));
        asks.record(observation.durationMs);
        return;
      }
      default:
        return;
    }
  }

  /** Ends a batch of observations: a grant seen after it is an immediate one again. */
  endBatch(): void {
    for (const pool of this.#touched) pool.endedInBatch.clear();
    this.#touched.clear();
  }

  #pruneCrashes(now: number): void {
    let expired = 0;
    while (expired < this.#crashTimes.length && now - this.#crashTimes[expired]! >= this.#crashWindowMs) expired++;
    if (expired > 0) this.#crashTimes = this.#crashTimes.slice(expired);
  }
}
