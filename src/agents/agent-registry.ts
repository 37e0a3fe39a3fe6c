import { createActor, type AnyActorRef } from 'xstate';
import { agentLogic, type AgentActorSnapshot, type AgentRef, type AgentsActivityEvent } from '../../actors/agent.actor';
import { AgentHandle, crashAgent, requestAs, stopAgentWith, tellAgent, type Agent, type AgentHandlePort } from './agent';
import type { AgentOrName } from './agent-context';
import { resolveAgentOptions, unknownAgentError, type AgentOptions } from './agent-options';
import { MachineAgent } from './machine-agent';
import { MachineAgentHandle } from './machine-agent-handle';
import type { Clock } from '../clock';
import { HandlerContext, type HandlerServices } from './handler-context';
import { resolveSuperviseOptions, SupervisionGroup, type SuperviseOptions } from './agent-supervision';
import type { NoticeReceiver, ResourceDescriptor } from '../internal/task-services';
import { TaskHandle } from '../task-handle';
import type { Lease, TaskFunction, TaskOptions } from '../task-options';
import { MezanError } from '../errors';
import type { Logger } from '../logger';
import { fail, rejectInvalid } from '../internal/validate';

/** What the engine hears of its agents, for metrics and alerts. @internal */
export interface AgentObserver {
  /** An ask is made: returns what to call with its outcome, or `undefined` to hear nothing. */
  onAsk(agent: string): ((ok: boolean) => void) | undefined;
  /** An agent's snapshot changed. */
  changed(agent: AgentHandle, snapshot: AgentActorSnapshot): void;
}

/** Where handlers' `ctx.submit` submits: the engine, by function or by task name. @internal */
export interface TaskSubmitter {
  submit<T>(fn: TaskFunction<T> | string, options?: TaskOptions): TaskHandle<T>;
}

/**
 * The engine's running agents by name: it spawns each as an actor under the supervisor, resolves
 * the names handlers send to, refuses outside callers once shutdown began, and stops every agent
 * when shutdown terminates. An agent that stops (asked to, past its restart limit, or by shutdown)
 * leaves it, and its name is free again.
 * @internal
 */
export class AgentRegistry {
  readonly #agents = new Map<string, AgentHandle>();
  /** The supervision group of each agent in one. */
  readonly #groups = new Map<AgentHandle, SupervisionGroup>();
  readonly #parent: AnyActorRef;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #nextId = 1;
  #refusal: MezanError | undefined = undefined;
  /** Set once shutdown drains: from then on the supervisor hears each time the agents become quiet or busy. */
  #draining = false;
  #wasQuiet = true;
  /** Work outside the agents that draining waits for too (a cluster node's unsettled handles), if any. */
  #outsideWork: (() => boolean) | undefined = undefined;
  readonly #port: AgentHandlePort;
  /** What every handler's context shares. */
  readonly #services: HandlerServices;
  readonly #detector: NoticeReceiver | undefined;
  /** The engine's pools, for handlers' `ctx.acquire`. */
  readonly #pools: ReadonlyMap<string, ResourceDescriptor> | undefined;
  #tasks: TaskSubmitter | undefined = undefined;
  readonly #observer: AgentObserver | undefined;

  /**
   * @param parent - the actor the agents are children of (the supervisor): one that fails is its to handle
   * @param clock - the engine's clock
   * @param logger - the engine's logger; each agent logs through a child with its name
   * @param observer - told of asks and of the agents' changes (the engine's metrics)
   */
  constructor(parent: AnyActorRef, clock: Clock, logger: Logger, observer?: AgentObserver) {
    this.#parent = parent;
    this.#clock = clock;
    this.#logger = logger;
    this.#observer = observer;
    // Where the agents and their askers tell the deadlock detector of their waits.
    const context = (parent.getSnapshot() as { context?: { detectorInbox?: NoticeReceiver; resources?: ReadonlyMap<string, ResourceDescriptor> } })
      .context;
    this.#detector = context?.detectorInbox;
    this.#pools = context?.resources;
    this.#services = {
      clock,
      detector: this.#detector,
      resolve: (to) => this.#resolve(to),
      acquire: (self, id, signal, pool, units) => this.#acquire(self, id, signal, pool, units),
      submit: <T>(fn: TaskFunction<T> | string, options: TaskOptions | undefined): TaskHandle<T> => {
        if (this.#tasks === undefined) throw new MezanError('E_SHUTDOWN', 'This agent registry has no engine to submit tasks to');
        return this.#tasks.submit(fn, options);
      },
    };
    this.#port = {
      clock,
      logger,
      detector: this.#detector,
      nextId: () => this.#nextId++,
      refusal: () => this.#refusal,
      onAsk: observer === undefined ? undefined : (agent) => observer.onAsk(agent),
    };
  }

  /**
   * Spawns an agent.
   * @throws {MezanError} `E_INVALID_OPTION` for bad options or a name a running agent has;
   * `E_SHUTDOWN` once shutdown began
   */
  spawn<M, R>(options: AgentOptions<M, R>): Agent<M, R> {
    const resolved = resolveAgentOptions(options);
    if (this.#refusal !== undefined)
      throw new MezanError('E_SHUTDOWN', `Agent "${resolved.name}" was spawned after shutdown began`, { details: { agent: resolved.name } });
    const { name } = resolved;
    if (this.#agents.has(name)) fail('name', 'a name no running agent has', name);
    const logger = this.#logger.child({ agent: name });
    const machine = resolved.machine === undefined ? undefined : new MachineAgent(resolved.machine, name, this.#clock, logger);
    let handle: AgentHandle | undefined;
    const ref = createActor(agentLogic, {
      id: `agent:${name}`,
      parent: this.#parent,
      input: {
        name,
        receive: machine?.receive ?? resolved.receive!,
        capacity: resolved.mailbox.capacity,
        overflow: resolved.mailbox.overflow,
        concurrency: resolved.concurrency,
        restart: resolved.restart,
        clock: this.#clock,
        logger,
        contextFor: (delivery, signal) => new HandlerContext(this.#services, handle!, delivery, signal, logger),
        detector: this.#detector,
        pools: this.#pools,
      },
    }) as AgentRef;
    const Handle = machine === undefined ? AgentHandle : MachineAgentHandle;
    handle = new Handle(name, ref, this.#port, resolved.mailbox.capacity);
    machine?.attach(ref);
    this.#agents.set(name, handle);
    const registered = handle;
    ref.subscribe({
      next: (snapshot) => {
        if (snapshot.value === 'stopped') this.#forget(registered);
        const group = this.#groups.get(registered);
        if (group !== undefined) {
          if (snapshot.value === 'stopped') this.#groups.delete(registered);
          group.noticed(registered, snapshot.value);
        }
        this.#observer?.changed(registered, snapshot);
        this.#checkQuiet();
      },
      error: () => this.#forget(registered),
    });
    ref.start();
    return handle as unknown as Agent<M, R>;
  }

  /** The running agent named `name`, if any. */
  get(name: string): Agent | undefined {
    return this.#agents.get(name);
  }

  /** The running agents, in the order they were spawned. */
  list(): AgentHandle[] {
    return [...this.#agents.values()];
  }

  /** Outside callers are refused with `E_SHUTDOWN` from now on; agents still talk to each other. */
  refuseOutsiders(): void {
    this.#refusal ??= new MezanError('E_SHUTDOWN', 'The engine is shutting down: agents take no new message from outside');
  }

  /**
   * Shutdown drains: outside callers are refused from now on, and the supervisor is told whether the
   * agents are quiet (see {@link AgentRegistry.isQuiet}) now and each time that changes, with an
   * `agents.activity` event: it reports the work drained only while they are.
   */
  beginDraining(): void {
    this.refuseOutsiders();
    if (this.#draining) return;
    this.#draining = true;
    this.#wasQuiet = this.#isDrainQuiet();
    this.#parent.send({ type: 'agents.activity', quiet: this.#wasQuiet } satisfies AgentsActivityEvent);
  }

  /**
   * Makes draining wait for work outside the agents too: the supervisor hears that they are quiet
   * only while `isBusy()` is `false`; {@link AgentRegistry.outsideWorkChanged} tells it to look again.
   * The supervisor reports the work drained once the executor and the agents are quiet: this is the
   * one place it asks, so other work a shutdown must wait for joins here.
   */
  waitAlsoFor(isBusy: () => boolean): void {
    this.#outsideWork = isBusy;
  }

  /** The outside work given to {@link AgentRegistry.waitAlsoFor} may have ended (or begun). */
  outsideWorkChanged(): void {
    this.#checkQuiet();
  }

  #isDrainQuiet(): boolean {
    return this.isQuiet() && this.#outsideWork?.() !== true;
  }

  /** Whether every running agent is idle: nothing waits in its mailbox or runs. */
  isQuiet(): boolean {
    for (const handle of this.#agents.values()) if (handle.status !== 'idle') return false;
    return true;
  }

  /** Stops every agent: each pending ask is rejected with `E_SHUTDOWN`; the supervisor hears when they are quiet (a forced shutdown never drained). */
  stopAll(): void {
    this.beginDraining();
    const reason = new MezanError('E_SHUTDOWN', 'Stopped by shutdown');
    for (const handle of this.list()) stopAgentWith(handle, reason);
  }

  /** Crashes the agent named `name`, as a fault injection. @throws {MezanError} `E_INVALID_OPTION` for an unknown name */
  crash(name: unknown): void {
    const handle = typeof name === 'string' ? this.#agents.get(name) : undefined;
    if (handle === undefined) fail('fault.agent', `the name of a running agent (${[...this.#agents.keys()].join(', ') || 'none'})`, name);
    crashAgent(handle, new MezanError('E_AGENT_FAILED', `Agent "${handle.name}" crashed (injected fault)`, { details: { agent: handle.name } }));
  }

  #forget(handle: AgentHandle): void {
    if (this.#agents.get(handle.name) === handle) this.#agents.delete(handle.name);
  }

  #checkQuiet(): void {
    if (!this.#draining) return;
    const quiet = this.#isDrainQuiet();
    if (quiet === this.#wasQuiet) return;
    this.#wasQuiet = quiet;
    this.#parent.send({ type: 'agents.activity', quiet } satisfies AgentsActivityEvent);
  }

  /** The running agent `to` names (a handle passes as it is). */
  #resolve(to: AgentOrName): AgentHandle | undefined {
    if (to instanceof AgentHandle) return to;
    return typeof to === 'string' ? this.#agents.get(to) : undefined;
  }

  /** Units of a pool for a handled message: the agent requests them, its message's node the holder. */
  #acquire(self: AgentHandle, id: number, signal: AbortSignal, pool: unknown, units: unknown = 1): Promise<Lease> {
    const descriptor = typeof pool === 'string' ? this.#pools?.get(pool) : undefined;
    if (descriptor === undefined)
      return rejectInvalid(() => fail('pool', `one of the engine's resources (${[...(this.#pools?.keys() ?? [])].join(', ') || 'none'})`, pool));
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1 || units > descriptor.capacity)
      return rejectInvalid(() => fail('units', `an integer from 1 to ${descriptor.capacity} (the capacity of "${descriptor.name}")`, units));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Lease>((resolve, reject) => {
      if (!tellAgent(self, { type: 'agent.acquire', id, pool: descriptor, units, reply: { resolve, reject } }))
        reject(new MezanError('E_AGENT_STOPPED', `Agent "${self.name}" is stopped`, { details: { agent: self.name } }));
    });
  }

  /**
   * Puts running agents under a supervision group (`one-for-all` or `rest-for-one`).
   * @throws {MezanError} `E_INVALID_OPTION` for bad options (an agent not running, listed twice, or in a group already)
   */
  supervise(options: SuperviseOptions): void {
    const resolved = resolveSuperviseOptions(
      options,
      (to) => this.#resolveRunning(to),
      (handle) => this.#groups.has(handle),
    );
    const group = new SupervisionGroup(resolved.strategy, resolved.members, resolved, this.#clock, this.#logger);
    for (const member of resolved.members) this.#groups.set(member, group);
  }

  /** A running agent of this registry that `to` stands for (a handle of one, or its name). */
  #resolveRunning(to: unknown): AgentHandle | undefined {
    const handle = to instanceof AgentHandle ? to : typeof to === 'string' ? this.#agents.get(to) : undefined;
    return handle !== undefined && this.#agents.get(handle.name) === handle ? handle : undefined;
  }

  /**
   * A task's `ctx.ask`: asks the agent `to` names with the task's id as `from`; while the task waits
   * for the reply, it waits for the agent in the wait-for graph (keeping its worker slot).
   * @returns the reply; rejects as {@link Agent.ask} does (`E_AGENT_STOPPED` for a name no running agent has)
   */
  askFromTask(taskId: string, to: unknown, message: unknown, options: unknown): Promise<unknown> {
    const target = this.#resolve(to as AgentOrName);
    if (target === undefined) return Promise.reject(unknownAgentError(to));
    return requestAs(target, message, taskId, options, { node: taskId, isTask: true });
  }

  /** Where `ctx.submit` of a handler submits its tasks: the engine, once it is made. */
  useTasks(tasks: TaskSubmitter): void {
    this.#tasks = tasks;
  }
}
