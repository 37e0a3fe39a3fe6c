import type { AgentRestartOptions, MailboxOptions } from './agent-options';

/**
 * The options of the agent under a router or a team: its name and how it takes messages, passed on
 * to `spawnAgent` and checked there.
 */
export interface LayerAgentOptions {
  /** Its name, unique among the running agents, as `spawnAgent`'s. */
  name: string;
  /**
   * Asks it handles at once: with more than 1, they overlap.
   * @default 1
   */
  concurrency?: number;
  /** Its own mailbox, as `spawnAgent`'s. @default `{ capacity: 1000, overflow: 'reject' }` */
  mailbox?: MailboxOptions;
  /** Its own restart limit, as `spawnAgent`'s. @default `{ maxRestarts: 3, withinMs: 10000 }` */
  restart?: AgentRestartOptions;
}

/** The keys of {@link LayerAgentOptions}, for a layer's own key check. @internal */
export const LAYER_AGENT_OPTION_KEYS: Readonly<Record<keyof LayerAgentOptions, true>> = {
  name: true,
  concurrency: true,
  mailbox: true,
  restart: true,
};
