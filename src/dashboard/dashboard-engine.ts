import type { ClusterView } from '../cluster/cluster-view';
import type { Engine } from '../engine';

/**
 * What the dashboard reads from an engine: its public surface only. `metrics()` and `prometheus()`
 * are used when the engine has them (they are looked for at run time), so the dashboard works with
 * an engine built with or without its monitor.
 */
export type DashboardEngine = Pick<Engine, 'events$' | 'progress' | 'stats' | 'waitForGraph' | 'deadlocks' | 'isIdle' | 'isAccepting'> & {
  /** The engine's id, shown in the page's title when present. */
  readonly id?: string;
  /** A snapshot of the engine's metrics (gauges, counters, histograms), when the engine has a monitor. */
  readonly metrics?: () => unknown;
  /** Every actor and its state, read from the actors' snapshots, when the engine offers it. */
  readonly actors?: () => ReadonlyArray<{
    /** The actor's id. */
    readonly id: string;
    /** The machine it follows, such as `worker`. */
    readonly machine: string;
    /** Its parent's id; `undefined` for the root. */
    readonly parent: string | undefined;
    /** The state it is in. */
    readonly state: string;
  }>;
  /** The running agents, when the engine has them: their names and statistics (the mailbox depth). */
  readonly agents?: () => ReadonlyArray<{
    /** The agent's name; its actor's id is `agent:<name>`. */
    readonly name: string;
    /** Its statistics now. */
    stats(): { readonly mailboxDepth: number };
  }>;
  /**
   * The cluster read from Redis, when the engine has it: `undefined` for an engine without the
   * `cluster` option (the dashboard then shows no Cluster panel).
   */
  readonly clusterView?: () => Promise<ClusterView | undefined>;
  /** The Prometheus text exposition of those metrics, when the engine has a monitor. */
  readonly prometheus?: () => string | Promise<string>;
};
