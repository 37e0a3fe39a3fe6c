import type { WaitForGraphSnapshot } from '../detection/wait-for-graph';
import { isMachineName, type MachineName } from '../visualization/machines';
import type { DashboardEngine } from './dashboard-engine';
import { machineView } from './machine-views';

/** One actor of the engine's tree, and the state its machine is in. */
export interface DashboardActor {
  /** The actor's id: `supervisor`, `executor`, `main` (the worker), `resource:db`, `shutdown`. */
  readonly id: string;
  /**
   * The machine it runs; `cluster-deadlocks` (a cluster node's cross-node detector part),
   * `cluster-worker` (its working side), `cluster-submitter` (its submitting side) and
   * `cluster-membership` (its record in the cluster) are actor logic with no statechart to draw.
   */
  readonly machine: MachineName | 'cluster-deadlocks' | 'cluster-worker' | 'cluster-submitter' | 'cluster-membership';
  /** The id of the actor that spawned it; `undefined` for the supervisor (the root). */
  readonly parent: string | undefined;
  /** Its state value, such as `busy`. */
  readonly state: string;
  /**
   * The XState id of that state (`'worker.busy'`), which names its node on the machine's drawn
   * diagram; `undefined` when the machine has no such state.
   */
  readonly stateId: string | undefined;
  /** For an agent: the messages waiting in its mailbox, and how many it holds when the metrics say. */
  readonly mailbox?: AgentMailbox;
}

/** An agent's mailbox as the actor tree shows it. */
export interface AgentMailbox {
  /** Messages waiting now. */
  readonly depth: number;
  /** How many it holds; `undefined` when the engine has no metrics to say. */
  readonly capacity: number | undefined;
}

/** What the engine's events said about the actors the engine has no getter for. */
export interface ActorPhases {
  /** The last `shutdown.phase` seen, or `running`. */
  readonly shutdown: 'running' | 'draining' | 'terminating' | 'stopped';
}

/** The system id prefix of a resource pool's actor. */
const RESOURCE_PREFIX = 'resource:';
/** The id prefix of an agent's actor. */
const AGENT_PREFIX = 'agent:';
/** The resources that model worker slots in the wait-for graph (the main worker's, the threads'); they are no pool actors. */
const WORKER_SLOTS = '@workers';
const THREAD_SLOTS = '@threads';

/**
 * Reads the actor tree and each actor's state: from `engine.actors()` when the engine has it (exact),
 * else from the rest of the engine's public surface: workers from
 * `engine.stats()` (their own snapshots), pools from the wait-for graph (its `holds` and `requests`
 * mirror each pool's holders and waiters, which is what the pool machine's guards look at), the
 * executor from `engine.isIdle`, the supervisor and the shutdown machine from `shutdown.phase` events.
 *
 * @param engine - the engine
 * @param phases - what its events said (see {@link ActorPhases})
 * @param graph - its wait-for graph now (read once per update by the caller)
 * @param mailboxes - each agent's mailbox, by agent name (see {@link readAgentMailboxes})
 * @returns the actors, parents before children, in the order of the tree
 */
export function readActorTree(
  engine: DashboardEngine,
  phases: ActorPhases,
  graph: WaitForGraphSnapshot,
  mailboxes: ReadonlyMap<string, AgentMailbox> = new Map(),
): DashboardActor[] {
  // An engine that lists its actors gives their exact states, read from their own snapshots.
  if (typeof engine.actors === 'function') {
    return engine.actors().map(({ id, machine, parent, state }) => {
      const mailbox = machine === 'agent' && id.startsWith(AGENT_PREFIX) ? mailboxes.get(id.slice(AGENT_PREFIX.length)) : undefined;
      const row = actor(id, machine as DashboardActor['machine'], parent, state);
      return mailbox === undefined ? row : { ...row, mailbox };
    });
  }
  const stopped = phases.shutdown === 'stopped';
  const actors: DashboardActor[] = [
    actor('supervisor', 'supervisor', undefined, stopped ? 'stopped' : 'supervising'),
    actor('executor', 'executor', 'supervisor', engine.isIdle ? 'idle' : 'working'),
  ];
  for (const worker of engine.stats().workers) actors.push(actor(worker.id, 'worker', 'executor', worker.state));
  for (const [name, state] of poolStates(graph)) actors.push(actor(`${RESOURCE_PREFIX}${name}`, 'resource', 'supervisor', state));
  actors.push(actor('shutdown', 'shutdown', 'supervisor', phases.shutdown));
  return actors;
}

/**
 * Each running agent's mailbox: from the metrics snapshot when it has agents (depth and capacity,
 * read at the same moment), else from `engine.agents()` (the depth its `stats()` gives).
 *
 * @param engine - the engine
 * @param metrics - what `engine.metrics()` returned, made plain; `undefined` without metrics
 * @returns the mailboxes by agent name
 */
export function readAgentMailboxes(engine: DashboardEngine, metrics: unknown): Map<string, AgentMailbox> {
  const mailboxes = new Map<string, AgentMailbox>();
  const agents = typeof metrics === 'object' && metrics !== null ? (metrics as { agents?: unknown }).agents : undefined;
  if (typeof agents === 'object' && agents !== null) {
    for (const [name, value] of Object.entries(agents as Record<string, { mailboxDepth?: unknown; mailboxCapacity?: unknown }>)) {
      if (typeof value?.mailboxDepth !== 'number') continue;
      mailboxes.set(name, { depth: value.mailboxDepth, capacity: typeof value.mailboxCapacity === 'number' ? value.mailboxCapacity : undefined });
    }
    return mailboxes;
  }
  if (typeof engine.agents !== 'function') return mailboxes;
  for (const agent of engine.agents()) mailboxes.set(agent.name, { depth: agent.stats().mailboxDepth, capacity: undefined });
  return mailboxes;
}

function actor(id: string, machine: DashboardActor['machine'], parent: string | undefined, state: string): DashboardActor {
  const states = isMachineName(machine) ? machineView(machine).states : {};
  return { id, machine, parent, state, stateId: Object.hasOwn(states, state) ? states[state] : undefined };
}

/** Each pool's state as its machine's guards decide it: `contended` with waiters, `exhausted` when full, else `available`. */
function poolStates(graph: WaitForGraphSnapshot): Array<readonly [string, string]> {
  const held = new Map<string, number>();
  const waited = new Set<string>();
  for (const edge of graph.edges) {
    if (edge.kind === 'holds') held.set(edge.from, (held.get(edge.from) ?? 0) + edge.units);
    else if (edge.kind === 'requests') waited.add(edge.to);
  }
  const states: Array<readonly [string, string]> = [];
  for (const node of graph.nodes) {
    if (node.kind !== 'resource' || node.id === WORKER_SLOTS || node.id === THREAD_SLOTS) continue;
    const state = waited.has(node.id) ? 'contended' : (held.get(node.id) ?? 0) >= node.capacity ? 'exhausted' : 'available';
    states.push([node.id, state]);
  }
  return states;
}
