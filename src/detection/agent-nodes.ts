/**
 * How agents appear in the wait-for graph. An agent is a resource of `concurrency` units, its id
 * `@agent:<name>` (node kind `agent`): each message being handled holds one unit, and each message
 * waiting in its mailbox (or, under `overflow: 'wait'`, for room in it) requests one, in arrival
 * order. A message is a node of its own, its id `@agent:<name>#<n>` (node kind `message`), `n` its
 * delivery number, unique in the engine: an asker (a handler's message, or a task) that waits for
 * its reply has an `asks` edge to it, as a task that awaits another has an `awaits` edge. Ids
 * starting with `@` are no pool's (pool names may not start with it).
 * @internal
 */
export const AGENT_NODE_PREFIX = '@agent:';

/** The graph id of the agent named `name`. @internal */
export function agentNodeId(name: string): string {
  return `${AGENT_NODE_PREFIX}${name}`;
}

/** The graph id of message `delivery` of the agent named `name`. @internal */
export function messageNodeId(name: string, delivery: number): string {
  return `${AGENT_NODE_PREFIX}${name}#${delivery}`;
}

/** Whether `id` is an agent's graph id (not one of its messages). @internal */
export function isAgentNodeId(id: string): boolean {
  return id.startsWith(AGENT_NODE_PREFIX) && parseMessageNodeId(id) === undefined;
}

/**
 * The agent and delivery number of a message's graph id; `undefined` for any other id.
 * @internal
 */
export function parseMessageNodeId(id: string): { readonly agent: string; readonly delivery: number } | undefined {
  if (!id.startsWith(AGENT_NODE_PREFIX)) return undefined;
  const hash = id.lastIndexOf('#');
  if (hash <= AGENT_NODE_PREFIX.length) return undefined;
  const digits = id.slice(hash + 1);
  if (!/^[1-9][0-9]*$/.test(digits)) return undefined;
  return { agent: id.slice(AGENT_NODE_PREFIX.length, hash), delivery: Number(digits) };
}
