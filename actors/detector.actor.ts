import { createActor, type ActorLogic, type ActorRef, type ActorScope, type AnyActorRef, type EventObject, type Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import type { Clock } from '../src/clock';
import type { Logger } from '../src/logger';
import type { EventSink } from '../src/internal/event-sink';
import { resolveDeadlock, THREAD_SLOTS, WORKER_SLOTS, type DeadlockReport, type TaskFacts } from '../src/detection/deadlock-resolver';
import { chooseVictim, type DeadlockCandidate, type DeadlockPolicy } from '../src/detection/deadlock-policy';
import { isAgentNodeId, parseMessageNodeId } from '../src/detection/agent-nodes';
import { MezanError } from '../src/errors';
import { LearnedLockOrder } from '../src/detection/lock-order';
import type { GraphPoolChangesEvent, ResourceGraphEvent } from '../src/internal/resource-protocol';
import type { WatchedChange, WatchedState } from '../src/internal/task-book';
import type { RunnerGraphNotice } from '../src/internal/task-services';
import { WaitForGraph, type DeadlockAnalysis, type WaitForGraphSnapshot } from '../src/detection/wait-for-graph';
import type { MonitorNotice } from '../src/metrics/monitor-observation';
import type { ExecutorEvent, TasksDescribedEvent } from './executor.actor';
import type { DetectorInbox } from './detector-inbox';
import { timerLogic, type TimerCommand } from './timer.actor';

/** Deadlock detection and resolution, resolved from the engine's options. @internal */
export interface DeadlockSettings {
  /** When to look: at once when a task blocks, after an optimistic delay, or never. */
  readonly detect: 'immediate' | 'off' | { readonly afterMs: number };
  readonly policy: DeadlockPolicy;
  /** The most compensation workers at once; 0 turns compensation off. */
  readonly maxExtraWorkers: number;
}

/**
 * What hears each await of a task (or a handler's message) on another task begin and end, as the
 * detector does: this node's part of the cluster's wait-for graph (actors/cluster-deadlocks.ts),
 * whose awaited task may run on another node. @internal
 */
export interface ClusterAwaits {
  awaits(taskId: string, awaited: string, active: boolean): void;
  /**
   * A local pool's changes of one transition, as the detector hears them: a deadlock may go through
   * a local pool and an await of a cluster task, which only the cluster's detector can follow.
   */
  localPoolChanged(event: GraphPoolChangesEvent): void;
}

/** What the detector is created with. @internal */
export interface DetectorInput {
  readonly clock: Clock;
  /** Where `resource.waiting`, deadlock and lock-order events go. */
  readonly sink: EventSink;
  readonly logger: Logger;
  readonly deadlock: DeadlockSettings;
  /** The engine's concurrency: worker slots without compensation slots. */
  readonly concurrency: number;
  /** The pools, with their capacities at start (a cluster pool's changes are not told to `clusterAwaits`: its own part tells them). */
  readonly pools: ReadonlyArray<{ readonly name: string; readonly capacity: number; readonly scope?: 'local' | 'cluster' }>;
  /** Tells the monitor when a detected deadlock is gone. */
  readonly observe?: (notice: MonitorNotice) => void;
  /** The detector's inbox, where answers to its questions come back in order with every other notice; without one, straight to it. */
  readonly inbox?: DetectorInbox;
  /** Told of every await that begins or ends, in a cluster node with cluster pools or cluster tasks to run. */
  readonly clusterAwaits?: ClusterAwaits;
}

/** The states of the detector: `deadlocked` from a detection until the graph is seen free of deadlocks. */
export type DetectorState = 'watching' | 'deadlocked';

/**
 * What the detector publishes: its state, the deadlocks it found, the last explicit check, and a
 * query of its graph. Made anew at each change that concerns them.
 */
export type DetectorSnapshot = Snapshot<undefined> & {
  readonly value: DetectorState;
  readonly context: {
    /** The deadlocks found so far (the last 100), newest last. */
    readonly deadlocks: readonly DeadlockReport[];
    /** The result of the last `deadlock.check` without resolution (`engine.detectDeadlocks()`). */
    readonly lastCheck: DeadlockAnalysis | undefined;
    /**
     * A plain copy of the wait-for graph as it is now: waits, awaits and worker slots, and the holders
     * of pools where requests wait (an uncontended pool's holders are the pool's to tell).
     */
    readonly describeGraph: () => WaitForGraphSnapshot;
  };
};

/** A crashed worker took these tasks down: their waits are over and their slots free. @internal */
export interface TasksGoneEvent {
  readonly type: 'tasks.gone';
  readonly taskIds: readonly string[];
}

/** One change of an agent's units: a message holds one (it is handled) or requests one (it waits), or no longer does. @internal */
export interface AgentGraphChange {
  /** The message's graph id (`@agent:<name>#<n>`). */
  readonly message: string;
  readonly kind: 'holds' | 'requests';
  readonly units: 0 | 1;
}

/**
 * From an agent, as a pool's `graph.pool-changes`: its changes of one transition, only while messages
 * wait for it (every holder and waiter when they begin to; `contended: false` when none waits any
 * more, and the detector then forgets the agent). See `src/detection/agent-nodes.ts`.
 * @internal
 */
export interface GraphAgentChangesEvent {
  readonly type: 'graph.agent-changes';
  /** The agent's graph id (`@agent:<name>`). */
  readonly agent: string;
  /** Its concurrency: the units of the agent. */
  readonly capacity: number;
  readonly contended: boolean;
  readonly changes: readonly AgentGraphChange[];
}

/** The reply to an ask: `waiter` (a task, or a message whose handler asked) waits for it (`active`), or no longer does. @internal */
export interface GraphAskEvent {
  readonly type: 'graph.ask';
  /** The asker's graph id: a task's id, or a message's (`@agent:<name>#<n>`). */
  readonly waiter: string;
  /** Whether the waiter is a task on a worker (it holds its worker slot while it waits). */
  readonly waiterIsTask: boolean;
  /** The asked message's graph id. */
  readonly message: string;
  readonly active: boolean;
  /** The asked agent: where a deadlock victim's rejection goes (`agent.victim`). */
  readonly agentRef: { send(event: AgentVictimEvent): void };
}

/** Detector → agent: the ask of message `id` was chosen to break a deadlock; it rejects with `error`. @internal */
export interface AgentVictimEvent {
  readonly type: 'agent.victim';
  readonly id: number;
  readonly error: MezanError;
}

/**
 * From the engine: the cluster's detector chose this node's task `taskId` to break a deadlock
 * across the nodes of a cluster (actors/cluster-deadlocks.ts heard the decision, and the very
 * wait it names still waits). The detector resolves it as one of its own: it reports it (`report`,
 * with the cycle's `nodes`), fails the task's waits with `error`, and tells the monitor the deadlock
 * is gone once the victim's waits are over. @internal
 */
export interface ClusterVictimNotice {
  readonly type: 'deadlock.cluster-victim';
  /** The victim's id on this node. */
  readonly taskId: string;
  readonly error: MezanError;
  readonly report: DeadlockReport;
}

/** What the other actors tell the detector, through its {@link DetectorInbox}. @internal */
export type DetectorNotice =
  | GraphPoolChangesEvent
  | ClusterVictimNotice
  | GraphAgentChangesEvent
  | GraphAskEvent
  | RunnerGraphNotice
  | TasksDescribedEvent
  | TasksGoneEvent
  /** From the executor: watched tasks changed their need for a worker slot. */
  | { readonly type: 'tasks.watched'; readonly changes: readonly WatchedChange[] }
  /** From the executor: a compensation slot was retired. */
  | { readonly type: 'slots.retired-extra' };

/** Events the detector accepts. @internal */
export type DetectorEvent =
  | DetectorNotice
  /** The notices of one turn, in the order they happened (see {@link DetectorInbox}). */
  | { readonly type: 'graph.notices'; readonly notices: readonly DetectorNotice[] }
  /** Runs a detection now: `resolve` false only reports (into `lastCheck`). */
  | { readonly type: 'deadlock.check'; readonly resolve: boolean }
  | { readonly type: 'xstate.stop' };

/** A reference to the detector actor. @internal */
export type DetectorRef = ActorRef<DetectorSnapshot, DetectorEvent>;

type DetectorScope = ActorScope<DetectorSnapshot, DetectorEvent>;

const MAX_REPORTS = 100;
const ignoreNotice = (): void => undefined;

/** The executor, reached by system id (it is spawned after the detector); only ever sent messages. */
interface ExecutorView {
  send(event: ExecutorEvent): void;
}

/** The live part of the detector: the wait-for graph and everything kept beside it. Only its own transitions touch it. */
class DetectorCore {
  readonly #input: DetectorInput;
  /** The names of the cluster pools, whose changes the cluster part hears from the pools themselves. */
  readonly #clusterPools = new Set<string>();
  readonly #system: AnyActorSystem;
  readonly #logger: Logger;
  readonly timers: AnyActorRef;
  readonly graph = new WaitForGraph();
  readonly #learnedOrder = new LearnedLockOrder();
  /**
   * Units requested, by pool, then by task, to tell a new wait from a changed one. Two levels, not
   * one key joining both: a joined key was a new string to hash at every change of a contended pool.
   */
  readonly #requests = new Map<string, Map<string, number>>();
  /** How many waits (queued requests, awaits) each waiting task has. */
  readonly #waits = new Map<string, number>();
  /** Tasks holding a worker slot while they wait (the graph's `@workers` and `@threads` holders). */
  readonly #blockedOnWorker = new Set<string>();
  /** Of those, the thread tasks: they hold one of the thread worker's slots (`@threads`), not the main worker's. */
  readonly #blockedOnThread = new Set<string>();
  /** Tasks whose attempt runs on a thread and has waited (`graph.thread-task`), until it ends. */
  readonly #threadTasks = new Set<string>();
  /** How many threads the engine has, once a thread task has waited; `@threads` is in the graph from then on. */
  #threads = 0;
  /** How many waits each awaited task has. */
  readonly #awaited = new Map<string, number>();
  /** Victims whose end has not been seen yet: a deadlock is not resolved twice. */
  readonly #pendingVictims = new Set<string>();
  /** Victims of deadlocks across the cluster whose waits were still seen: the deadlock is open until they end. */
  readonly #clusterVictims = new Set<string>();
  /** The asked agents of the asks some waiter waits for, by message id: where a victim's rejection goes. */
  readonly #askTargets = new Map<string, GraphAskEvent['agentRef']>();
  /** Asks rejected as deadlock victims whose end (`graph.ask` inactive) has not been seen yet. */
  readonly #pendingAskVictims = new Set<string>();
  #extraSlots = 0;
  #checkPending = false;
  /** Whether a deadlock was detected and the graph not yet seen free of it. */
  #deadlockOpen = false;
  #deadlocks: readonly DeadlockReport[] = [];
  /**
   * Set while the executor is asked for the facts a victim policy weighs: the detection to run again
   * when they come (from the task that blocked, or whole), since the graph may change meanwhile.
   */
  #describing: { readonly from: string | undefined } | undefined;
  #lastCheck: DeadlockAnalysis | undefined;
  /**
   * While a batch of notices is applied: the tasks that blocked, looked at once the whole batch is
   * in (the graph then is a state the system was in), and whether a wait ended.
   */
  #batch: { readonly blocked: Set<string>; waitEnded: boolean } | undefined;
  /** Set when the published snapshot is out of date. */
  changed = false;
  readonly #describeGraph = (): WaitForGraphSnapshot => this.graph.snapshot();

  readonly #self: AnyActorRef;

  constructor(input: DetectorInput, self: AnyActorRef, system: AnyActorSystem) {
    this.#input = input;
    this.#self = self;
    this.#system = system;
    this.#logger = input.logger.child({ actor: 'detector' });
    this.graph.addResource(WORKER_SLOTS, input.concurrency);
    for (const { name, capacity, scope } of input.pools) {
      this.graph.addResource(name, capacity);
      if (scope === 'cluster') this.#clusterPools.add(name);
    }
    this.timers = createActor(timerLogic, { id: 'timers', parent: self, input: { clock: input.clock } });
  }

  /** Stopped: notices posted from now on go nowhere. */
  closeInbox(): void {
    this.#input.inbox?.close();
  }

  snapshot(): DetectorSnapshot {
    return {
      status: 'active',
      output: undefined,
      error: undefined,
      value: this.#deadlockOpen ? 'deadlocked' : 'watching',
      context: { deadlocks: this.#deadlocks, lastCheck: this.#lastCheck, describeGraph: this.#describeGraph },
    };
  }

  /**
   * Applies one event. A bug in the books must not bring the engine down with the detector: it is
   * logged, and the engine goes on (detection may be off until the books agree).
   */
  receive(event: Exclude<DetectorEvent, { type: 'xstate.stop' }>): void {
    try {
      this.#apply(event);
    } catch (error) {
      this.#logger.error('deadlock detector bookkeeping failed', { error, stack: error instanceof Error ? error.stack : undefined });
    }
  }

  #apply(event: Exclude<DetectorEvent, { type: 'xstate.stop' }>): void {
    switch (event.type) {
      case 'graph.notices':
        this.#applyBatch(event.notices);
        return;
      case 'graph.pool-changes':
        this.#applyPoolChanges(event);
        return;
      case 'graph.await':
        this.#applyAwait(event.taskId, event.awaited, event.active);
        return;
      case 'graph.agent-changes':
        this.#applyAgentChanges(event);
        return;
      case 'graph.ask':
        this.#applyAsk(event);
        return;
      case 'graph.thread-task':
        if (event.active) this.#addThreadTask(event.taskId, event.threads);
        else this.#threadTasks.delete(event.taskId);
        return;
      case 'graph.attempt-ended':
        // Its pool holds and requests stay until the pools report them gone: they are the pools'
        // to tell, and may still be on their way.
        this.#waits.delete(event.taskId);
        this.#releaseSlot(event.taskId);
        this.#threadTasks.delete(event.taskId);
        this.#pendingVictims.delete(event.taskId);
        this.#noteIfDeadlockGone();
        return;
      case 'tasks.gone':
        for (const taskId of event.taskIds) {
          this.#waits.delete(taskId);
          this.#releaseSlot(taskId);
          this.#threadTasks.delete(taskId);
          this.#pendingVictims.delete(taskId);
        }
        this.#noteIfDeadlockGone();
        return;
      case 'deadlock.cluster-victim':
        this.#resolveClusterVictim(event);
        return;
      case 'lockorder.acquiring':
        this.#recordLockOrder(event.taskId, event.resource, event.holding);
        return;
      case 'lockorder.rank-violation':
        this.#reportRankViolation(event);
        return;
      case 'tasks.watched':
        for (const { taskId, state, threads } of event.changes) {
          if (threads !== undefined) this.#addThreadTask(taskId, threads);
          // A task others await that now waits for a slot may close a cycle through the slots.
          if (this.#markAwaitedNeed(taskId, state)) this.#onBlocked(taskId);
          if (state === 'gone') this.#threadTasks.delete(taskId);
        }
        return;
      case 'tasks.described': {
        const from = this.#describing?.from;
        this.#describing = undefined;
        const facts = new Map<string, TaskFacts | undefined>();
        for (const described of event.facts) facts.set(described.taskId, described.facts);
        let analysis = from === undefined ? this.graph.detect() : this.graph.detectFrom(from);
        // Gone from where it was seen; another one may have formed while the answer was on its way.
        if (analysis.deadlocked.length === 0 && from !== undefined) analysis = this.graph.detect();
        this.#resolve(analysis, from, facts);
        return;
      }
      case 'slots.retired-extra':
        this.#extraSlots = Math.max(0, this.#extraSlots - 1);
        this.#fitSlotCapacity();
        this.#noteIfDeadlockGone();
        return;
      case 'deadlock.check': {
        if (event.resolve) this.#checkPending = false;
        const analysis = this.graph.detect();
        this.#lastCheck = analysis;
        this.changed = true;
        if (event.resolve) this.#resolve(analysis, undefined);
        this.#noteIfDeadlockGone();
        return;
      }
    }
  }

  /** Applies a turn's notices in order, then looks once: from each task that blocked, and whether a deadlock is gone. */
  #applyBatch(notices: readonly DetectorNotice[]): void {
    const batch = (this.#batch = { blocked: new Set<string>(), waitEnded: false });
    try {
      for (const notice of notices) this.#apply(notice);
    } finally {
      this.#batch = undefined;
    }
    for (const taskId of batch.blocked) this.#onBlocked(taskId);
    if (batch.waitEnded) this.#noteIfDeadlockGone();
  }

  /** A pool's changes of one transition, in order; with `contended` false, its holders are forgotten. */
  #applyPoolChanges(event: GraphPoolChangesEvent): void {
    const { graph } = this;
    if (!this.#clusterPools.has(event.resource)) this.#input.clusterAwaits?.localPoolChanged(event);
    // A larger capacity first, so that the holds it allows fit; a smaller one after the changes that made room.
    if (event.capacity > graph.capacityOf(event.resource)) graph.setCapacity(event.resource, event.capacity);
    let blocked: string[] | undefined;
    for (const change of event.changes) {
      if (this.#applyPoolChange(change)) (blocked ??= []).push(change.taskId);
    }
    if (!event.contended) {
      for (const taskId of graph.holdersOf(event.resource)) graph.setHold(taskId, event.resource, 0);
    }
    if (event.capacity < graph.capacityOf(event.resource)) {
      // Holders above a smaller capacity keep their units until they release: the graph counts them.
      graph.setCapacity(event.resource, Math.max(event.capacity, graph.unitsHeldOf(event.resource), graph.largestRequestOf(event.resource)));
    }
    // Looked at once the whole change is in: the pool's holders may come after the request.
    if (blocked !== undefined) for (const taskId of blocked) this.#onBlocked(taskId);
  }

  /**
   * Applies one change of a pool's.
   * @returns whether the task now waits for units of the pool
   */
  #applyPoolChange(change: ResourceGraphEvent): boolean {
    const { graph } = this;
    if (change.type === 'graph.holds') {
      graph.setHold(change.taskId, change.resource, change.units);
      if (change.units === 0) this.#noteIfDeadlockGone();
      return false;
    }
    let requests = this.#requests.get(change.resource);
    if (requests === undefined) this.#requests.set(change.resource, (requests = new Map()));
    const before = requests.get(change.taskId) ?? 0;
    if (change.units === 0) requests.delete(change.taskId);
    else requests.set(change.taskId, change.units);
    // A request comes from a task on a worker, which keeps its slot while it waits, or from an
    // agent's handler (its message's node), which holds no worker slot.
    const onWorker = parseMessageNodeId(change.taskId) === undefined;
    if (before === 0 && change.units > 0 && onWorker) this.#startWaiting(change.taskId);
    graph.setRequest(change.taskId, change.resource, change.units);
    if (before > 0 && change.units === 0) {
      if (onWorker) this.#stopWaiting(change.taskId);
      // A handler's pool wait chosen as a victim is over once the pool says so.
      else this.#pendingVictims.delete(change.taskId);
      this.#noteIfDeadlockGone();
    }
    return change.units > 0;
  }

  /** An agent's changes of one transition, as a pool's: its node is made when messages begin to wait, and dropped when none does. */
  #applyAgentChanges(event: GraphAgentChangesEvent): void {
    const { graph } = this;
    const agent = event.agent;
    if (!graph.hasResource(agent)) graph.addResource(agent, event.capacity);
    let blocked: string[] | undefined;
    for (const change of event.changes) {
      if (change.kind === 'holds') graph.setHold(change.message, agent, change.units);
      else {
        graph.setRequest(change.message, agent, change.units);
        if (change.units > 0) (blocked ??= []).push(change.message);
      }
      if (change.units === 0) this.#noteIfDeadlockGone();
    }
    if (!event.contended) {
      // No message waits: its holders are nobody's concern, and an agent that stopped leaves no node.
      for (const message of graph.holdersOf(agent)) graph.setHold(message, agent, 0);
      if (graph.largestRequestOf(agent) === 0) graph.removeResource(agent);
      this.#noteIfDeadlockGone();
    }
    if (blocked !== undefined) for (const message of blocked) this.#onBlocked(message);
  }

  /** An ask began or ended: its asker waits for the asked message, as a task awaits another (a task keeps its worker slot meanwhile). */
  #applyAsk(event: GraphAskEvent): void {
    const { graph } = this;
    if (event.active) {
      if (event.waiterIsTask) this.#startWaiting(event.waiter);
      this.#askTargets.set(event.message, event.agentRef);
      graph.addAwait(event.waiter, event.message);
      this.#onBlocked(event.waiter);
      return;
    }
    graph.removeAwait(event.waiter, event.message);
    if (event.waiterIsTask) this.#stopWaiting(event.waiter);
    this.#askTargets.delete(event.message);
    this.#pendingAskVictims.delete(event.message);
    this.#noteIfDeadlockGone();
  }

  #applyAwait(taskId: string, awaited: string, active: boolean): void {
    const { graph } = this;
    this.#input.clusterAwaits?.awaits(taskId, awaited, active);
    const count = this.#awaited.get(awaited) ?? 0;
    // A handler's message (`ctx.await` in an agent) holds no worker slot while it awaits.
    const onWorker = parseMessageNodeId(taskId) === undefined;
    if (active) {
      if (onWorker) this.#startWaiting(taskId);
      this.#awaited.set(awaited, count + 1);
      graph.addAwait(taskId, awaited);
      // From now on the executor reports this task's changes, starting with where it stands now.
      if (count === 0) this.#executor()?.send({ type: 'task.watch', taskId: awaited, watching: true });
      this.#onBlocked(taskId);
      return;
    }
    graph.removeAwait(taskId, awaited);
    if (onWorker) this.#stopWaiting(taskId);
    this.#noteIfDeadlockGone();
    if (count > 1) {
      this.#awaited.set(awaited, count - 1);
      return;
    }
    this.#awaited.delete(awaited);
    this.#executor()?.send({ type: 'task.watch', taskId: awaited, watching: false });
    // No longer awaited: the slot it was seen to ask for is nobody's concern now.
    if (!this.#blockedOnWorker.has(awaited) && graph.hasTask(awaited)) graph.setRequest(awaited, this.#slotsOf(awaited), 0);
  }

  /** The graph's node for the slots `taskId` runs in: the thread worker's for a thread task. */
  #slotsOf(taskId: string): string {
    return this.#threadTasks.has(taskId) ? THREAD_SLOTS : WORKER_SLOTS;
  }

  /** `taskId` runs on one of `threads` threads: its slot, held or asked for, is one of `@threads`. */
  #addThreadTask(taskId: string, threads: number): void {
    if (this.#threads === 0) this.graph.addResource(THREAD_SLOTS, threads);
    this.#threads = threads;
    this.#threadTasks.add(taskId);
  }

  #executor(): ExecutorView | undefined {
    return this.#system.get('executor') as ExecutorView | undefined;
  }

  /**
   * An awaited task that is not itself waiting on a worker asks for a worker slot while it is queued
   * (or between retries, or waiting for dependencies) and holds one while dispatched: that is what
   * makes worker-slot starvation visible. Kept up to date by the executor's `tasks.watched` notices.
   * @returns whether the task now asks for a slot
   */
  #markAwaitedNeed(taskId: string, state: WatchedState): boolean {
    if (!this.#awaited.has(taskId) || this.#blockedOnWorker.has(taskId)) return false;
    if (state === 'queued') {
      this.graph.setRequest(taskId, this.#slotsOf(taskId), 1);
      return true;
    }
    if (this.graph.hasTask(taskId)) this.graph.setRequest(taskId, this.#slotsOf(taskId), 0);
    return false;
  }

  /** A task began one more wait (a queued pool request, an await): it holds its worker slot while it does. */
  #startWaiting(taskId: string): void {
    this.#waits.set(taskId, (this.#waits.get(taskId) ?? 0) + 1);
    if (this.#blockedOnWorker.has(taskId)) return;
    this.#blockedOnWorker.add(taskId);
    const slots = this.#slotsOf(taskId);
    if (slots === THREAD_SLOTS) this.#blockedOnThread.add(taskId);
    this.graph.setRequest(taskId, slots, 0);
    this.#fitSlotCapacity();
    this.graph.setHold(taskId, slots, 1);
  }

  /** A task's wait ended; with none left it runs again, and its slot is nobody's concern. */
  #stopWaiting(taskId: string): void {
    const count = (this.#waits.get(taskId) ?? 0) - 1;
    if (count > 0) {
      this.#waits.set(taskId, count);
      return;
    }
    this.#waits.delete(taskId);
    this.#releaseSlot(taskId);
  }

  /** A task on a worker stopped waiting (its attempt ended, or its worker crashed). */
  #releaseSlot(taskId: string): void {
    if (!this.#blockedOnWorker.delete(taskId)) return;
    this.graph.setHold(taskId, this.#blockedOnThread.delete(taskId) ? THREAD_SLOTS : WORKER_SLOTS, 0);
    this.#fitSlotCapacity();
  }

  /**
   * Worker slots are the engine's concurrency plus the compensation slots in service, except that a
   * function which goes on waiting after its worker crashed keeps its slot while the restarted
   * worker takes another: the graph counts what really happens rather than refuse it.
   */
  #fitSlotCapacity(): void {
    const onThreads = this.#blockedOnThread.size;
    const slots = Math.max(this.#input.concurrency + this.#extraSlots, this.#blockedOnWorker.size - onThreads);
    if (slots !== this.graph.capacityOf(WORKER_SLOTS)) this.graph.setCapacity(WORKER_SLOTS, slots);
    if (this.#threads === 0) return;
    const threads = Math.max(this.#threads, onThreads);
    if (threads !== this.graph.capacityOf(THREAD_SLOTS)) this.graph.setCapacity(THREAD_SLOTS, threads);
  }

  /** A task just blocked: look now, or schedule a look after the optimistic delay. */
  #onBlocked(taskId: string): void {
    if (this.#batch !== undefined) {
      this.#batch.blocked.add(taskId);
      return;
    }
    const { detect } = this.#input.deadlock;
    if (detect === 'off') return;
    if (detect === 'immediate') {
      this.#resolve(this.graph.detectFrom(taskId), taskId);
      return;
    }
    if (this.#checkPending) return;
    this.#checkPending = true;
    this.#setTimer('deadlock.check', detect.afterMs);
  }

  #setTimer(key: string, delayMs: number): void {
    const event: DetectorEvent = { type: 'deadlock.check', resolve: true };
    this.timers.send({ type: 'timer.set', key, delayMs, event } satisfies TimerCommand);
  }

  /**
   * Resolves a deadlock: a compensation slot, or a victim chosen by policy, and the events. A victim
   * policy weighs facts only the executor has (priority, age, work done): without `facts`, the
   * detector asks for them and looks again (`from` the same task) when they come.
   */
  #resolve(analysis: DeadlockAnalysis, from: string | undefined, known?: ReadonlyMap<string, TaskFacts | undefined>): void {
    if (analysis.deadlocked.length === 0) return;
    const { clock, sink, deadlock } = this.#input;
    const executor = this.#executor();
    const compensation = analysis.cycle.includes(WORKER_SLOTS) && this.#extraSlots < deadlock.maxExtraWorkers;
    if (!compensation) {
      const asks = asksOn(analysis.cycle, (id) => this.graph.hasResource(id));
      if (asks.length > 0) {
        this.#resolveByAsk(analysis, asks);
        return;
      }
      const poolWaits = messagePoolWaitsOn(
        analysis.cycle,
        (id) => this.graph.hasResource(id) && id !== WORKER_SLOTS && id !== THREAD_SLOTS && !isAgentNodeId(id),
      );
      if (poolWaits.length > 0) {
        this.#resolveByMessagePoolWait(analysis, poolWaits);
        return;
      }
    }
    const missing = !compensation && (known === undefined || analysis.deadlocked.some((taskId) => !known.has(taskId)));
    if (missing) {
      // One question at a time: the answer's detection covers what this one found.
      if (this.#describing !== undefined || executor === undefined) return;
      this.#describing = { from };
      executor.send({ type: 'tasks.describe', taskIds: analysis.deadlocked, replyTo: this.#input.inbox ?? this.#self });
      return;
    }
    const now = clock.now();
    const facts = {
      now,
      extraWorkers: this.#extraSlots,
      blockedOnWorker: this.#blockedOnWorker,
      pendingVictims: this.#pendingVictims,
      isOnCycle: (taskId: string) => this.graph.isOnCycle(taskId),
      unitsHeld: (taskId: string) => this.graph.unitsHeldBy(taskId, this.#slotsOf(taskId)),
      describe: (taskId: string) => known?.get(taskId),
    };
    let resolution;
    try {
      resolution = resolveDeadlock(analysis, { policy: deadlock.policy, maxExtraWorkers: deadlock.maxExtraWorkers }, facts);
    } catch (error) {
      // A policy function that throws, or names no candidate, must not leave the deadlock in place.
      this.#logger.error('the deadlock policy failed; choosing the youngest instead', { error });
      resolution = resolveDeadlock(analysis, { policy: 'youngest', maxExtraWorkers: deadlock.maxExtraWorkers }, facts);
    }
    if (resolution.kind === 'wait') return;
    const { report } = resolution;
    this.#open(report);
    this.#logger.warn('deadlock detected', {
      cycle: report.cycle,
      deadlocked: report.deadlocked,
      resolution: report.resolution,
      victim: report.victim,
    });
    if (sink.active) sink.publish({ type: 'deadlock.detected', at: now, deadlocked: report.deadlocked, cycle: report.cycle });
    if (resolution.kind === 'compensation') {
      this.#extraSlots++;
      this.#fitSlotCapacity();
      executor?.send({ type: 'slots.add-extra' });
    } else {
      this.#pendingVictims.add(report.victim!);
      executor?.send({ type: 'task.victim', taskId: report.victim!, error: resolution.error });
    }
    // Another deadlock may have formed alongside this one: look again, whole graph, once this
    // resolution has reached it (the victim's releases, the extra worker's first dispatch).
    this.#setTimer('deadlock.recheck', 0);
    if (sink.active) {
      sink.publish({
        type: 'deadlock.resolved',
        at: now,
        resolution: report.resolution!,
        victim: report.victim,
        policy: report.policy,
        cycle: report.cycle,
      });
    }
  }

  /**
   * Resolves a deadlock whose cycle goes through asks (an asker waiting for a message's reply): one
   * of those asks, chosen by the deadlock policy, rejects with `E_DEADLOCK` carrying the cycle; the
   * handler (or task) that made it can catch it and carry on. Failing an ask on the cycle breaks it,
   * and no other wait of its asker is touched. The policy weighs each ask as a candidate whose id is
   * the message's graph id, `submittedSeq` its delivery number (a later ask is younger), priority 0,
   * no work done, and the units its asker holds.
   */
  #resolveByAsk(
    analysis: DeadlockAnalysis,
    asks: ReadonlyArray<{ readonly waiter: string; readonly message: string; readonly delivery: number }>,
  ): void {
    const { sink } = this.#input;
    const candidates: DeadlockCandidate[] = [];
    for (const ask of asks) {
      if (this.#pendingAskVictims.has(ask.message)) return;
      if (!this.#askTargets.has(ask.message)) continue;
      const resourcesHeld = this.graph.unitsHeldBy(ask.waiter, this.#slotsOf(ask.waiter));
      candidates.push({ taskId: ask.message, submittedSeq: ask.delivery, priority: 0, workMs: 0, resourcesHeld });
    }
    if (candidates.length === 0) return;
    const { victim, policy, report } = this.#chooseVictim(analysis, candidates);
    const now = report.at;
    const ask = asks.find((candidate) => candidate.message === victim)!;
    const error = new MezanError(
      'E_DEADLOCK',
      `The ask ${victim} of ${ask.waiter} was chosen (${policy}) to break a deadlock: ${analysis.cycle.join(' → ')}`,
      {
        details: { victim, asker: ask.waiter, cycle: analysis.cycle, deadlocked: analysis.deadlocked, policy },
      },
    );
    this.#open(report);
    this.#logger.warn('deadlock detected', { cycle: report.cycle, deadlocked: report.deadlocked, resolution: 'victim', victim });
    if (sink.active) sink.publish({ type: 'deadlock.detected', at: now, deadlocked: report.deadlocked, cycle: report.cycle });
    this.#pendingAskVictims.add(victim);
    this.#askTargets.get(victim)!.send({ type: 'agent.victim', id: ask.delivery, error });
    this.#setTimer('deadlock.recheck', 0);
    if (sink.active) sink.publish({ type: 'deadlock.resolved', at: now, resolution: 'victim', victim, policy, cycle: report.cycle });
  }

  /**
   * The victim the engine's policy picks among `candidates` (the youngest when the policy throws or
   * names none of them), and the report of the deadlock it resolves.
   */
  #chooseVictim(
    analysis: DeadlockAnalysis,
    candidates: Parameters<typeof chooseVictim>[1],
  ): { victim: string; policy: DeadlockReport['policy']; report: DeadlockReport } {
    const { deadlock, clock } = this.#input;
    let victim: string;
    try {
      victim = chooseVictim(deadlock.policy, candidates);
    } catch (error) {
      this.#logger.error('the deadlock policy failed; choosing the youngest instead', { error });
      victim = chooseVictim('youngest', candidates);
    }
    const policy = typeof deadlock.policy === 'function' ? 'custom' : deadlock.policy;
    const report: DeadlockReport = { deadlocked: analysis.deadlocked, cycle: analysis.cycle, victim, resolution: 'victim', policy, at: clock.now() };
    return { victim, policy, report };
  }

  /**
   * Resolves a deadlock whose cycle goes through a handler's pool wait (an agent's message waiting for
   * units) and through no ask: one of those messages, chosen by the deadlock policy, is the victim,
   * as a task would be: the pools revoke what it holds and waits for, and its pending `ctx.acquire`
   * rejects with `E_DEADLOCK` carrying the cycle. The handler can catch it and carry on.
   */
  #resolveByMessagePoolWait(analysis: DeadlockAnalysis, waits: ReadonlyArray<{ readonly message: string; readonly delivery: number }>): void {
    const { sink, pools } = this.#input;
    const candidates: DeadlockCandidate[] = [];
    for (const wait of waits) {
      if (this.#pendingVictims.has(wait.message)) return;
      if (candidates.some((candidate) => candidate.taskId === wait.message)) continue;
      candidates.push({
        taskId: wait.message,
        submittedSeq: wait.delivery,
        priority: 0,
        workMs: 0,
        resourcesHeld: this.graph.unitsHeldBy(wait.message),
      });
    }
    const { victim, policy, report } = this.#chooseVictim(analysis, candidates);
    const now = report.at;
    const error = new MezanError('E_DEADLOCK', `The handler of ${victim} was chosen (${policy}) to break a deadlock: ${analysis.cycle.join(' → ')}`, {
      details: { victim, cycle: analysis.cycle, deadlocked: analysis.deadlocked, policy },
    });
    this.#open(report);
    this.#logger.warn('deadlock detected', { cycle: report.cycle, deadlocked: report.deadlocked, resolution: 'victim', victim });
    if (sink.active) sink.publish({ type: 'deadlock.detected', at: now, deadlocked: report.deadlocked, cycle: report.cycle });
    this.#pendingVictims.add(victim);
    for (const { name } of pools) this.#system.get(`resource:${name}`)?.send({ type: 'resource.revoke', taskId: victim, at: now, reason: error });
    this.#setTimer('deadlock.recheck', 0);
    if (sink.active) sink.publish({ type: 'deadlock.resolved', at: now, resolution: 'victim', victim, policy, cycle: report.cycle });
  }

  /** Keeps a deadlock's report (the last {@link MAX_REPORTS}); the deadlock is open until the graph is seen free of it. */
  #open(report: DeadlockReport): void {
    this.#deadlocks = this.#deadlocks.length < MAX_REPORTS ? [...this.#deadlocks, report] : [...this.#deadlocks.slice(1), report];
    this.#deadlockOpen = true;
    this.changed = true;
  }

  /**
   * Resolves a deadlock across the nodes of a cluster whose victim is a task of this node, as a
   * local one: its report, `deadlock.detected`, the victim's waits failed, `deadlock.resolved`; it
   * stays open (for the monitor's alert) while the victim still has a wait this detector saw.
   */
  #resolveClusterVictim({ taskId, error, report }: ClusterVictimNotice): void {
    const { sink } = this.#input;
    const { at, deadlocked, cycle, nodes } = report;
    this.#open(report);
    this.#logger.warn('deadlock detected across the cluster', { cycle, deadlocked, nodes, resolution: 'victim', victim: report.victim });
    if (sink.active) sink.publish({ type: 'deadlock.detected', at, deadlocked, cycle, nodes });
    if (this.#waits.has(taskId)) this.#clusterVictims.add(taskId);
    this.#executor()?.send({ type: 'task.victim', taskId, error });
    if (sink.active)
      sink.publish({ type: 'deadlock.resolved', at, resolution: 'victim', victim: report.victim, policy: report.policy, cycle, nodes });
    this.#noteIfDeadlockGone();
  }

  /**
   * After a deadlock was detected, tells the monitor once the whole graph is free of deadlocks again.
   * A full detection, run only while a detected deadlock is not known to be gone.
   */
  #noteIfDeadlockGone(): void {
    if (!this.#deadlockOpen) return;
    if (this.#batch !== undefined) {
      this.#batch.waitEnded = true;
      return;
    }
    // A deadlock across the cluster is not in this graph: it is over once its victim's waits are.
    for (const victim of this.#clusterVictims) if (!this.#waits.has(victim)) this.#clusterVictims.delete(victim);
    if (this.#clusterVictims.size > 0) return;
    if (this.graph.detect().deadlocked.length > 0) return;
    this.#deadlockOpen = false;
    this.changed = true;
    (this.#input.observe ?? ignoreNotice)({ type: 'deadlock.cleared', at: this.#input.clock.now() });
  }

  #recordLockOrder(taskId: string, resource: string, holding: readonly string[]): void {
    const { sink, clock } = this.#input;
    for (const inversion of this.#learnedOrder.record(taskId, resource, holding)) {
      this.#logger.warn('lock order inversion: a potential deadlock', { cycle: inversion.cycle, tasks: inversion.tasks });
      if (sink.active) {
        sink.publish({
          type: 'lockorder.violation',
          at: clock.now(),
          kind: 'inversion',
          taskId,
          resources: inversion.cycle,
          tasks: inversion.tasks,
          refused: false,
        });
      }
    }
  }

  #reportRankViolation(event: Extract<RunnerGraphNotice, { type: 'lockorder.rank-violation' }>): void {
    const { sink, clock } = this.#input;
    this.#logger.warn('lock order violation: a lower rank taken while holding a higher one', {
      taskId: event.taskId,
      resource: event.resource,
      refused: event.refused,
    });
    if (!sink.active) return;
    sink.publish({
      type: 'lockorder.violation',
      at: clock.now(),
      kind: 'rank',
      taskId: event.taskId,
      resources: [event.resource, ...event.holding.map((held) => held.resource)],
      tasks: [event.taskId],
      refused: event.refused,
    });
  }
}

/**
 * The asks on a reported cycle: each step from a task or message (not a resource) to a message is its
 * asker waiting for the message's reply.
 */
function asksOn(
  cycle: readonly string[],
  isResource: (id: string) => boolean,
): Array<{ readonly waiter: string; readonly message: string; readonly delivery: number }> {
  const asks: Array<{ readonly waiter: string; readonly message: string; readonly delivery: number }> = [];
  for (let index = 0; index + 1 < cycle.length; index++) {
    const message = parseMessageNodeId(cycle[index + 1]!);
    const waiter = cycle[index]!;
    if (message === undefined || isResource(waiter)) continue;
    asks.push({ waiter, message: cycle[index + 1]!, delivery: message.delivery });
  }
  return asks;
}

/** The handlers' pool waits on a reported cycle: each step from a message to a pool is that message waiting for the pool's units. */
function messagePoolWaitsOn(
  cycle: readonly string[],
  isPool: (id: string) => boolean,
): Array<{ readonly message: string; readonly delivery: number }> {
  const waits: Array<{ readonly message: string; readonly delivery: number }> = [];
  for (let index = 0; index + 1 < cycle.length; index++) {
    const message = parseMessageNodeId(cycle[index]!);
    if (message !== undefined && isPool(cycle[index + 1]!)) waits.push({ message: cycle[index]!, delivery: message.delivery });
  }
  return waits;
}

const cores = new WeakMap<object, DetectorCore>();

/**
 * The logic of the deadlock detector: it owns the wait-for graph and the learned lock order. Pools
 * tell it of their waits (with their holders while requests wait), runners of their awaits and of
 * lock order, the executor of the awaited tasks it watches; it finds deadlocks exactly, at once, after
 * an optimistic delay, or only when asked, and resolves them: an extra worker slot when worker slots
 * are on the cycle and compensation allows one, or a victim chosen by policy, whose wait fails with
 * `E_DEADLOCK`.
 *
 * Custom actor logic: it runs on every change of a contended pool, and a machine's macrostep costs
 * microseconds; its one state that matters is whether a deadlock it found is still there.
 *
 * @internal
 */
export const detectorLogic: ActorLogic<DetectorSnapshot, DetectorEvent, DetectorInput, AnyActorSystem, EventObject> = {
  config: 'mezan.detector',
  getInitialSnapshot(scope: DetectorScope, input: DetectorInput) {
    const core = new DetectorCore(input, scope.self, scope.system);
    cores.set(scope.self, core);
    return core.snapshot();
  },
  start(_snapshot, scope) {
    cores.get(scope.self)?.timers.start();
  },
  transition(snapshot, event, scope) {
    const core = cores.get(scope.self);
    if (core === undefined || snapshot.status !== 'active') return snapshot;
    if (event.type === 'xstate.stop') {
      scope.stopChild(core.timers);
      core.closeInbox();
      return { ...snapshot, status: 'stopped' };
    }
    core.receive(event);
    if (!core.changed) return snapshot;
    core.changed = false;
    return core.snapshot();
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
