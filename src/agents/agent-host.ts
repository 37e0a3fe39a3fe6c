import type { Agent } from './agent';
import type { AgentOptions } from './agent-options';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { RandomSource } from '../random';

/**
 * What a layer built on agents (a router, a team) needs from the engine: to spawn its own agent,
 * to look running agents up, and the engine's clock, random source and logger.
 * @internal
 */
export interface AgentHost {
  spawnAgent<M, R>(options: AgentOptions<M, R>): Agent<M, R>;
  /** The running agent named `name`, or `undefined`. */
  agent(name: string): Agent | undefined;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
}
