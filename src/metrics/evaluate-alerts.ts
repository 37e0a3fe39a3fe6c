import type { ResolvedAlertThresholds } from '../engine-options';
import type { AlertBook, AlertChange, AlertSpec } from './alert-book';
import type { MailboxRecord, MonitorBook, PoolRecord } from './monitor-book';
import type { GaugeReading, PoolGauge } from './monitor-observation';

/** Everything the alert rules need to know besides what they measure. @internal */
export interface AlertSettings extends ResolvedAlertThresholds {
  /** The supervision window: crashes within it count toward `workerRestarts`. */
  readonly restartWindowMs: number;
}

/**
 * Applies every alert rule to what the monitor knows now (`gauges.at`): raises the alerts whose
 * measure went over its threshold, clears those whose measure fell to or below the clear level.
 * Each rule has hysteresis: raised over the threshold, cleared at or below `clearRatio` of it.
 *
 * @returns the alerts raised and cleared, in that order per rule
 * @internal
 */
export function evaluateAlerts(book: MonitorBook, alerts: AlertBook, gauges: GaugeReading, settings: AlertSettings): AlertChange[] {
  const changes: AlertChange[] = [];
  const now = gauges.at;
  const ratio = settings.clearRatio;
  const raise = (spec: AlertSpec): void => {
    const record = alerts.raise(spec, now);
    if (record !== undefined) changes.push({ kind: 'raised', record });
  };
  const clear = (alertId: string, value: number, clearLevel: number, message: string): void => {
    const record = alerts.clear(alertId, now, value);
    if (record !== undefined) changes.push({ kind: 'cleared', record, clearLevel, message });
  };

  const queueLimit = settings.queueDepth;
  if (queueLimit !== undefined) {
    const depth = gauges.queueDepth;
    if (!alerts.isActive('queue.depth')) {
      if (depth > queueLimit) {
        const message = `${depth} tasks queued, over the threshold of ${queueLimit}`;
        raise({
          alertId: 'queue.depth',
          alert: 'queue.depth',
          severity: 'warning',
          resource: undefined,
          value: depth,
          threshold: queueLimit,
          message,
        });
      }
    } else if (depth <= queueLimit * ratio) {
      clear('queue.depth', depth, queueLimit * ratio, `${depth} tasks queued, back at or below ${queueLimit * ratio}`);
    }
  }

  if (settings.deadlock) {
    const state = book.deadlock;
    if (state.unseenDetections > 0 || state.open) {
      const message = `Deadlock detected: ${deadlockedWhat(state.lastDeadlocked - state.lastDeadlockedMessages, state.lastDeadlockedMessages)} could never finish`;
      raise({
        alertId: 'deadlock',
        alert: 'deadlock',
        severity: 'critical',
        resource: undefined,
        value: state.lastDeadlocked,
        threshold: 0,
        message,
      });
      state.unseenDetections = 0;
    }
    if (!state.open && state.unseenDetections === 0) clear('deadlock', 0, 0, 'The wait-for graph is free of deadlocks');
  }

  const restartLimit = settings.workerRestarts;
  if (restartLimit !== undefined) {
    const crashes = book.crashesWithin(now);
    const within = settings.restartWindowMs;
    if (!alerts.isActive('worker.restarts')) {
      if (crashes > restartLimit) {
        const message = `${crashes} worker crashes within ${within} ms, over the limit of ${restartLimit}`;
        raise({
          alertId: 'worker.restarts',
          alert: 'worker.restarts',
          severity: 'critical',
          resource: undefined,
          value: crashes,
          threshold: restartLimit,
          message,
        });
      }
    } else if (crashes <= restartLimit * ratio) {
      clear(
        'worker.restarts',
        crashes,
        restartLimit * ratio,
        `${crashes} worker crashes within ${within} ms, back at or below ${restartLimit * ratio}`,
      );
    }
  }

  for (const gauge of gauges.pools) {
    const pool = book.pool(gauge.name);
    if (settings.resourceWaitMs !== undefined) evaluateWait(pool, now, settings.resourceWaitMs, ratio, alerts, raise, clear);
    if (settings.poolUtilization !== undefined) {
      evaluateUtilization(pool, gauge, now, settings.poolUtilization, settings.poolUtilizationForMs, ratio, alerts, raise, clear);
    }
  }

  const mailboxLimit = settings.agentMailbox;
  for (const mailbox of book.mailboxes()) {
    if (mailboxLimit !== undefined) evaluateMailbox(mailbox, mailboxLimit, ratio, alerts, raise, clear);
    if (mailbox.depth === 0 && !alerts.isActive(mailbox.alertId)) book.forgetMailbox(mailbox.agent);
  }
  return changes;
}

/**
 * The next clock time at which an alert could change with no new observation: an open wait reaching
 * the threshold, a utilization held long enough, a crash leaving the window.
 * @returns `undefined` when only new observations can change an alert
 * @internal
 */
export function nextAlertCheckAt(book: MonitorBook, alerts: AlertBook, gauges: GaugeReading, settings: AlertSettings): number | undefined {
  let next = Number.POSITIVE_INFINITY;
  if (settings.workerRestarts !== undefined && alerts.isActive('worker.restarts')) next = Math.min(next, book.nextCrashExpiry() ?? next);
  for (const gauge of gauges.pools) {
    const pool = book.pool(gauge.name);
    if (settings.resourceWaitMs !== undefined && !alerts.isActive(pool.waitAlertId)) {
      const oldest = oldestOpenWait(pool);
      if (oldest !== undefined) next = Math.min(next, oldest + settings.resourceWaitMs);
    }
    if (settings.poolUtilization !== undefined) {
      const since = alerts.isActive(pool.utilizationAlertId) ? pool.underSince : pool.overSince;
      if (since !== undefined) next = Math.min(next, since + settings.poolUtilizationForMs);
    }
  }
  return next === Number.POSITIVE_INFINITY ? undefined : next;
}

/** A pool's utilization: units in use over capacity; a pool of no capacity is full when anyone wants it. */
export function utilizationOf(gauge: PoolGauge): number {
  if (gauge.capacity > 0) return gauge.inUse / gauge.capacity;
  return gauge.inUse > 0 || gauge.queued > 0 ? 1 : 0;
}

type Raise = (spec: AlertSpec) => void;
type Clear = (alertId: string, value: number, clearLevel: number, message: string) => void;

function oldestOpenWait(pool: PoolRecord): number | undefined {
  for (const since of pool.open.values()) return since;
  return undefined;
}

/**
 * A pool's wait: the last wait that ended (0 for an immediate grant) and the age of the oldest
 * request still queued. Raised when either goes over the threshold (a request still queued counts
 * as soon as it has waited the threshold out); cleared when both are at or below the clear level.
 */
function evaluateWait(pool: PoolRecord, now: number, limitMs: number, ratio: number, alerts: AlertBook, raise: Raise, clear: Clear): void {
  const alertId = pool.waitAlertId;
  const oldest = oldestOpenWait(pool);
  const oldestAge = oldest === undefined ? 0 : now - oldest;
  const last = pool.lastWaitMs ?? 0;
  const level = Math.max(last, oldestAge);
  if (!alerts.isActive(alertId)) {
    if (last > limitMs || (oldest !== undefined && oldestAge >= limitMs)) {
      const message =
        oldestAge >= last
          ? `A request for "${pool.name}" has waited ${oldestAge} ms, over the threshold of ${limitMs} ms`
          : `A request for "${pool.name}" waited ${last} ms, over the threshold of ${limitMs} ms`;
      raise({ alertId, alert: 'resource.wait', severity: 'warning', resource: pool.name, value: level, threshold: limitMs, message });
    }
  } else if (level <= limitMs * ratio) {
    clear(alertId, level, limitMs * ratio, `Waits for "${pool.name}" are back at or below ${limitMs * ratio} ms`);
  }
}

/** A pool's utilization, held over the threshold (raise) or at or below the clear level (clear) for `forMs`. */
function evaluateUtilization(
  pool: PoolRecord,
  gauge: PoolGauge,
  now: number,
  limit: number,
  forMs: number,
  ratio: number,
  alerts: AlertBook,
  raise: Raise,
  clear: Clear,
): void {
  const alertId = pool.utilizationAlertId;
  const utilization = utilizationOf(gauge);
  if (!alerts.isActive(alertId)) {
    pool.underSince = undefined;
    if (utilization <= limit) {
      pool.overSince = undefined;
      return;
    }
    pool.overSince ??= now;
    if (now - pool.overSince < forMs) return;
    pool.overSince = undefined;
    const percent = Math.round(utilization * 100);
    const message = `Pool "${pool.name}" is ${percent}% used (${gauge.inUse} of ${gauge.capacity} units), over ${Math.round(limit * 100)}%`;
    raise({ alertId, alert: 'resource.utilization', severity: 'warning', resource: pool.name, value: utilization, threshold: limit, message });
    return;
  }
  pool.overSince = undefined;
  if (utilization > limit * ratio) {
    pool.underSince = undefined;
    return;
  }
  pool.underSince ??= now;
  if (now - pool.underSince < forMs) return;
  pool.underSince = undefined;
  const percent = Math.round(utilization * 100);
  clear(alertId, utilization, limit * ratio, `Pool "${pool.name}" is ${percent}% used, back at or below ${Math.round(limit * ratio * 100)}%`);
}

/**
 * An agent's mailbox: raised when it held more than `limit` of its capacity at any point since the
 * last evaluation (its peak), cleared once it holds at most the clear level.
 * Both can happen in one evaluation: a mailbox that filled and emptied within one batch still
 * raised its alert.
 */
function evaluateMailbox(mailbox: MailboxRecord, limit: number, ratio: number, alerts: AlertBook, raise: Raise, clear: Clear): void {
  const { agent, alertId, capacity } = mailbox;
  const threshold = capacity * limit;
  if (!alerts.isActive(alertId) && mailbox.peak > threshold) {
    const message = `The mailbox of agent "${agent}" holds ${mailbox.peak} of ${capacity} messages, over ${Math.round(limit * 100)}%`;
    raise({ alertId, alert: 'agent.mailbox', severity: 'warning', resource: undefined, agent, value: mailbox.peak, threshold, message });
  }
  mailbox.peak = mailbox.depth;
  const clearLevel = threshold * ratio;
  if (alerts.isActive(alertId) && mailbox.depth <= clearLevel) {
    clear(
      alertId,
      mailbox.depth,
      clearLevel,
      `The mailbox of agent "${agent}" holds ${mailbox.depth} of ${capacity} messages, back at or below ${clearLevel}`,
    );
  }
}

/** "2 tasks", "1 agent message", "1 task and 2 agent messages": what a deadlock holds, counted apart. */
function deadlockedWhat(tasks: number, messages: number): string {
  const taskPart = `${tasks} ${tasks === 1 ? 'task' : 'tasks'}`;
  const messagePart = `${messages} agent ${messages === 1 ? 'message' : 'messages'}`;
  if (messages === 0) return taskPart;
  return tasks === 0 ? messagePart : `${taskPart} and ${messagePart}`;
}
