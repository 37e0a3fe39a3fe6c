import type { AlertEventBase, AlertKind, AlertSeverity } from '../engine-events';

/** One alert, from the moment it was raised; `clearedAt` is set once it cleared. */
export interface AlertRecord extends Omit<AlertEventBase, 'type' | 'at'> {
  /** Clock time it was raised. */
  readonly raisedAt: number;
  /** Clock time it cleared; `undefined` while it is active. */
  readonly clearedAt: number | undefined;
  /** The value it cleared at. */
  readonly clearedValue: number | undefined;
  /** Why it cleared: its value `recovered`, or the engine `stopped`. */
  readonly clearedBy: 'recovered' | 'stopped' | undefined;
}

/** What raises an alert. */
export interface AlertSpec {
  readonly alertId: string;
  readonly alert: AlertKind;
  readonly severity: AlertSeverity;
  readonly resource: string | undefined;
  /** The agent, for `agent.mailbox`; absent for the others. */
  readonly agent?: string;
  readonly value: number;
  readonly threshold: number;
  readonly message: string;
}

/** An alert that was just raised or cleared. */
export type AlertChange =
  | { readonly kind: 'raised'; readonly record: AlertRecord }
  | { readonly kind: 'cleared'; readonly record: AlertRecord; readonly clearLevel: number; readonly message: string };

/** How many alerts, raised or cleared, are kept for reports; the oldest go first. */
export const MAX_ALERT_HISTORY = 1000;

/**
 * The monitor's alerts: which are active, and the history of those raised (the last
 * {@link MAX_ALERT_HISTORY}). Raising an active alert or clearing an inactive one does nothing, so
 * each alert is raised once and cleared once per episode. Only the monitor's actions touch it.
 *
 * @internal
 */
export class AlertBook {
  readonly #active = new Map<string, AlertRecord>();
  #history: AlertRecord[] = [];
  #raised = 0;
  #critical = 0;

  /** Alerts raised so far, history limit aside. */
  get raisedTotal(): number {
    return this.#raised;
  }

  /** How many alerts are active. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** How many active alerts are critical. */
  get criticalCount(): number {
    return this.#critical;
  }

  /** Whether the alert `alertId` is active. */
  isActive(alertId: string): boolean {
    return this.#active.has(alertId);
  }

  /** The active alerts, oldest first. */
  active(): AlertRecord[] {
    return [...this.#active.values()];
  }

  /** The alerts raised, oldest first, each as it stands now (cleared or not). */
  history(): AlertRecord[] {
    return [...this.#history];
  }

  /** Raises an alert unless it is active. @returns the new record, or `undefined` */
  raise(spec: AlertSpec, at: number): AlertRecord | undefined {
    if (this.#active.has(spec.alertId)) return undefined;
    const record: AlertRecord = Object.freeze({ ...spec, raisedAt: at, clearedAt: undefined, clearedValue: undefined, clearedBy: undefined });
    this.#active.set(spec.alertId, record);
    if (record.severity === 'critical') this.#critical++;
    this.#raised++;
    this.#history.push(record);
    if (this.#history.length > MAX_ALERT_HISTORY) this.#history.shift();
    return record;
  }

  /** Clears an active alert. @returns the cleared record, or `undefined` when it was not active */
  clear(alertId: string, at: number, value: number, by: 'recovered' | 'stopped' = 'recovered'): AlertRecord | undefined {
    const active = this.#active.get(alertId);
    if (active === undefined) return undefined;
    this.#active.delete(alertId);
    if (active.severity === 'critical') this.#critical--;
    const cleared: AlertRecord = Object.freeze({ ...active, clearedAt: at, clearedValue: value, clearedBy: by });
    const index = this.#history.lastIndexOf(active);
    if (index >= 0) this.#history[index] = cleared;
    return cleared;
  }
}
