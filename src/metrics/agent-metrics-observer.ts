import type { AgentActorSnapshot } from '../../actors/agent.actor';
import type { AgentHandle } from '../agents/agent';
import type { AgentObserver } from '../agents/agent-registry';
import type { Clock } from '../clock';
import type { ResolvedAlertThresholds } from '../engine-options';
import type { MonitorFeed } from './monitor-feed';

/** Where a mailbox stands against its alert: at or below the clear level (0), between (1), or over the threshold (2). */
type MailboxBand = 0 | 1 | 2;

/**
 * What the engine's monitor hears of its agents, through the feed: each ask's latency, while the
 * monitor samples timings (nothing is timed otherwise), and each agent's mailbox when it crosses a
 * level its alert watches: over the `agentMailbox` fraction of its capacity, or down to the clear
 * level. Within a band the alert cannot change, so nothing is sent: an agent's step costs a
 * comparison, not a message (and nothing with the alert off).
 *
 * @internal
 */
export class AgentMetricsObserver implements AgentObserver {
  readonly #feed: MonitorFeed;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #ratio: number | undefined;
  readonly #clearRatio: number;
  /** The band each agent's mailbox was last reported in; a new agent's is empty. */
  readonly #bands = new WeakMap<AgentHandle, MailboxBand>();

  /**
   * @param feed - carries the notices to the monitor
   * @param clock - the engine's clock, to time the asks
   * @param thresholds - `agentMailbox` (`undefined`: the alert is off) and `clearRatio`
   */
  constructor(feed: MonitorFeed, clock: Pick<Clock, 'now'>, thresholds: Pick<ResolvedAlertThresholds, 'agentMailbox' | 'clearRatio'>) {
    this.#feed = feed;
    this.#clock = clock;
    this.#ratio = thresholds.agentMailbox;
    this.#clearRatio = thresholds.clearRatio;
  }

  onAsk(agent: string): ((ok: boolean) => void) | undefined {
    const feed = this.#feed;
    if (!feed.collectTasks) return undefined;
    const clock = this.#clock;
    const startedAt = readClock(clock);
    if (startedAt === undefined) return undefined;
    return (ok) => {
      const at = readClock(clock);
      if (at !== undefined) feed.pushSample({ type: 'agent.asked', at, agent, durationMs: at - startedAt, ok });
    };
  }

  changed(agent: AgentHandle, snapshot: AgentActorSnapshot): void {
    const ratio = this.#ratio;
    if (ratio === undefined) return;
    const depth = snapshot.context.stats.mailboxDepth;
    const capacity = agent.mailboxCapacity;
    const threshold = capacity * ratio;
    const band: MailboxBand = depth > threshold ? 2 : depth > threshold * this.#clearRatio ? 1 : 0;
    if (band === (this.#bands.get(agent) ?? 0)) return;
    const at = readClock(this.#clock);
    if (at === undefined) return;
    this.#bands.set(agent, band);
    this.#feed.push({ type: 'agent.mailbox', at, agent: agent.name, depth, capacity });
  }
}

/** The clock's time, or `undefined` if the injected clock throws: a sample is lost, never an ask or an agent's step. */
function readClock(clock: Pick<Clock, 'now'>): number | undefined {
  try {
    return clock.now();
  } catch {
    return undefined;
  }
}
