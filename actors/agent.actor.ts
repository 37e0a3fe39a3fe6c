import type { ActorLogic, ActorRef, ActorScope, AnyActorRef, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import type { AgentContext, AgentHandler } from '../src/agents/agent-context';
import type { MailboxOverflow } from '../src/agents/agent-options';
import { agentNodeId, messageNodeId } from '../src/detection/agent-nodes';
import type { NoticeReceiver, ResourceDescriptor } from '../src/internal/task-services';
import type { ResourceGrantedEvent, ResourceRepliesEvent, ResourceReplyEvent, ResourceRequestEvent } from '../src/internal/resource-protocol';
import type { Lease } from '../src/task-options';
import type { AgentGraphChange, AgentVictimEvent } from './detector.actor';
import { Mailbox } from '../src/agents/mailbox';
import type { Clock } from '../src/clock';
import { isMezanError, MezanError } from '../src/errors';
import { describeThrown } from '../src/internal/describe-thrown';
import type { Logger } from '../src/logger';

/**
 * An agent's own statistics; exact, because only the agent updates them. Every message it was given
 * is counted once in `received`; at rest (nothing waiting or being handled) `received` equals
 * `handled + failed + dropped`.
 */
export interface AgentStats {
  /** Messages given to it (sent or asked), refused ones included. */
  received: number;
  /** Messages whose handler returned. */
  handled: number;
  /** Messages whose handler threw, or that a crash interrupted. */
  failed: number;
  /**
   * Messages never handled: refused or dropped by a full mailbox, withdrawn while waiting (their
   * ask timed out or was aborted), or let go when the agent stopped.
   */
  dropped: number;
  /** Restarts after crashes. */
  restarts: number;
  /** Messages waiting in the mailbox now (not those being handled, nor senders waiting for room). */
  mailboxDepth: number;
  /** The most messages that waited in the mailbox at once. */
  maxMailboxDepth: number;
  /** Clock milliseconds its handlers ran, summed over the messages handled or failed. */
  totalMs: number;
  /** `totalMs` over the messages handled or failed; 0 before the first. */
  meanMs: number;
}

/** The statistics of an agent that has done nothing yet. A new object on each call. @internal */
export function zeroAgentStats(): AgentStats {
  return { received: 0, handled: 0, failed: 0, dropped: 0, restarts: 0, mailboxDepth: 0, maxMailboxDepth: 0, totalMs: 0, meanMs: 0 };
}

/** The states of an agent; the statechart `machines/agent.machine.ts` draws them and their transitions. */
export type AgentStatus = 'idle' | 'busy' | 'restarting' | 'stopped';

/** Where the outcome of an asked message goes. Settling it twice is harmless: the first outcome wins. @internal */
export interface AgentReply {
  resolve(value: unknown): void;
  reject(error: MezanError): void;
}

/** One message on its way through an agent. @internal */
export interface AgentDelivery {
  /** Unique in the engine; a withdrawal names it. */
  readonly id: number;
  readonly message: unknown;
  /** The sending agent's name, or `undefined` from outside any agent. */
  readonly from: string | undefined;
  /** `undefined` for a sent message: nobody waits for its outcome. */
  readonly reply: AgentReply | undefined;
}

/** What an agent actor is created with. @internal */
export interface AgentInput {
  readonly name: string;
  readonly receive: AgentHandler<unknown, unknown>;
  readonly capacity: number;
  readonly overflow: MailboxOverflow;
  readonly concurrency: number;
  readonly restart: { readonly maxRestarts: number; readonly withinMs: number };
  readonly clock: Clock;
  readonly logger: Logger;
  /** Makes the context a handler gets with one message. */
  readonly contextFor: (delivery: AgentDelivery, signal: AbortSignal) => AgentContext;
  /** The deadlock detector's inbox, told of its units and mailbox while messages wait (see `src/detection/agent-nodes.ts`). */
  readonly detector?: NoticeReceiver;
  /** The engine's pools, which its handlers take units of (`ctx.acquire`). */
  readonly pools?: ReadonlyMap<string, ResourceDescriptor>;
}

/** A message for the agent. @internal */
export interface AgentDeliverEvent {
  readonly type: 'agent.deliver';
  readonly delivery: AgentDelivery;
}

/** Nobody waits for this message any more (its ask timed out or was aborted): drop it if it waits, abort its handler if it runs. @internal */
export interface AgentWithdrawEvent {
  readonly type: 'agent.withdraw';
  readonly id: number;
  readonly reason: MezanError;
}

/** The agent to itself: a handler settled. @internal */
export interface AgentHandledEvent {
  readonly type: 'agent.handled';
  readonly id: number;
  readonly ok: boolean;
  readonly value: unknown;
}

/** Makes the agent crash, as a fault injection: what it handles fails, and it restarts within its limit. @internal */
export interface AgentCrashEvent {
  readonly type: 'agent.crash';
  readonly reason: MezanError;
}

/** The agent to itself: the restart after a crash is due. @internal */
export interface AgentRestartEvent {
  readonly type: 'agent.restart';
}

/** Stops the agent: what waits or runs is let go, each ask rejected with `reason`. @internal */
export interface AgentStopEvent {
  readonly type: 'agent.stop';
  readonly reason: MezanError;
}

/**
 * The agent to itself, once stopped: it tells its supervisor it ended (`agent.ended`), which stops
 * its actor. Sent from the stopping step, so the events already queued behind that step are
 * answered (refused) first; stopping the actor clears what is left in its XState mailbox.
 * @internal
 */
export interface AgentCloseEvent {
  readonly type: 'agent.close';
}

/**
 * The agents → supervisor, while shutdown drains: whether every agent is idle now. Sent when draining
 * begins and each time that changes; the supervisor reports the work drained only while they are.
 * @internal
 */
export interface AgentsActivityEvent {
  readonly type: 'agents.activity';
  readonly quiet: boolean;
}

/** Agent → supervisor: it stopped and answered everything queued; the supervisor stops its actor. @internal */
export interface AgentEndedEvent {
  readonly type: 'agent.ended';
  readonly ref: AnyActorRef;
}

/**
 * A handler's `ctx.acquire`: the agent requests `units` of the pool for the message `id` (the holder
 * is the message's graph node) and settles `reply` with the lease, or with why not. @internal
 */
export interface AgentAcquireEvent {
  readonly type: 'agent.acquire';
  readonly id: number;
  readonly pool: ResourceDescriptor;
  readonly units: number;
  readonly reply: { resolve(lease: Lease): void; reject(error: unknown): void };
}

/** A handler's `lease.release()` (or `ctx.release(lease)`): the agent gives the units back, once. @internal */
export interface AgentReleaseEvent {
  readonly type: 'agent.release';
  readonly leaseId: string;
}

/** Events an agent accepts. @internal */
export type AgentEvent =
  | AgentAcquireEvent
  | AgentReleaseEvent
  | ResourceReplyEvent
  | ResourceRepliesEvent
  | AgentVictimEvent
  | AgentDeliverEvent
  | AgentWithdrawEvent
  | AgentHandledEvent
  | AgentCrashEvent
  | AgentRestartEvent
  | AgentStopEvent
  | AgentCloseEvent
  /** From its supervisor's `stopChild`, after `agent.ended`: the actor ends. */
  | { readonly type: 'xstate.stop' };

/** What an agent publishes: its state and a copy of its statistics, made anew at each change. */
export type AgentActorSnapshot = Snapshot<undefined> & {
  readonly value: AgentStatus;
  readonly context: { readonly name: string; readonly stats: Readonly<AgentStats> };
};

/** A reference to an agent actor. @internal */
export type AgentRef = ActorRef<AgentActorSnapshot, AgentEvent>;

type AgentScope = ActorScope<AgentActorSnapshot, AgentEvent>;

/** A message being handled. */
interface Run {
  readonly delivery: AgentDelivery;
  readonly controller: AbortController;
  readonly startedAt: number;
  /** Its handler's pool requests not answered yet, and its leases: given back when the run ends, whatever way. */
  pools?: RunPools;
}

interface RunPools {
  readonly pending: Map<string, { readonly pool: ResourceDescriptor; readonly reply: AgentAcquireEvent['reply'] }>;
  readonly leases: Map<string, ResourceDescriptor>;
}

/** The live part of one agent. Only its own transitions touch it. */
class AgentCore {
  readonly #input: AgentInput;
  readonly #self: AnyActorRef;
  readonly #mailbox: Mailbox<AgentDelivery>;
  /** Senders waiting for room (`overflow: 'wait'`), oldest first; at most `capacity` of them, past which a message is refused. */
  readonly #waiting: Mailbox<AgentDelivery>;
  readonly #running = new Map<number, Run>();
  readonly #stats = zeroAgentStats();
  /** Numbers the pool requests of its handlers. */
  #requests = 0;
  /** The message each pending pool request and each lease of its handlers belongs to. */
  readonly #poolOwners = new Map<string, number>();
  /** Whether the detector knows its holders and waiters (messages waited at its last report). */
  #graphKnown = false;
  /** Changes of its units and mailbox since its last report, while the detector knows them. */
  #graphChanges: AgentGraphChange[] = [];
  /** Clock times of the restarts within the window. */
  #restartTimes: number[] = [];
  #restartTimer: unknown = undefined;
  state: AgentStatus = 'idle';
  /** Set once the actor itself ends (`xstate.stop`): handlers that settle later have nobody to tell. */
  #closed = false;

  constructor(input: AgentInput, self: AnyActorRef) {
    this.#input = input;
    this.#self = self;
    this.#mailbox = new Mailbox(input.capacity);
    this.#waiting = new Mailbox(input.capacity);
  }

  snapshot(): AgentActorSnapshot {
    // Stopped, it stays an active actor until its supervisor stops it: a message already queued behind
    // the stopping step still gets its answer (`E_AGENT_STOPPED`); once ended, its handle answers for it.
    const context = { name: this.#input.name, stats: { ...this.#stats } };
    return { status: this.#closed ? 'stopped' : 'active', output: undefined, error: undefined, value: this.state, context };
  }

  /**
   * Applies one event.
   * @returns whether its published snapshot changed
   */
  receive(event: AgentEvent): boolean {
    const changed = this.#receive(event);
    if (this.#input.detector !== undefined) this.#reportGraph(this.#input.detector);
    return changed;
  }

  /**
   * Tells the detector what changed of its units (held by the messages handled) and its mailbox
   * (messages waiting for a unit, in order), as a pool does: only while messages wait, since a
   * holder with nobody waiting for the agent can be on no cycle through it.
   */
  #reportGraph(detector: NoticeReceiver): void {
    const contended = this.state !== 'stopped' && this.#mailbox.size + this.#waiting.size > 0;
    // The common case, an agent nobody waits for: nothing to tell, nothing made.
    if (!this.#graphKnown && !contended) return;
    const agent = agentNodeId(this.#input.name);
    const capacity = this.#input.concurrency;
    if (!this.#graphKnown) {
      const changes: AgentGraphChange[] = [];
      for (const id of this.#running.keys()) changes.push({ message: this.#messageNode(id), kind: 'holds', units: 1 });
      for (const delivery of this.#mailbox.values()) changes.push({ message: this.#messageNode(delivery.id), kind: 'requests', units: 1 });
      for (const delivery of this.#waiting.values()) changes.push({ message: this.#messageNode(delivery.id), kind: 'requests', units: 1 });
      this.#graphKnown = true;
      detector.send({ type: 'graph.agent-changes', agent, capacity, contended, changes });
      return;
    }
    const changes = this.#graphChanges;
    if (changes.length === 0 && contended) return;
    this.#graphChanges = [];
    this.#graphKnown = contended;
    detector.send({ type: 'graph.agent-changes', agent, capacity, contended, changes });
  }

  #messageNode(id: number): string {
    return messageNodeId(this.#input.name, id);
  }

  /** Records a change of its units or mailbox for the detector, when it knows them. */
  #noteGraph(id: number, kind: AgentGraphChange['kind'], units: 0 | 1): void {
    if (this.#graphKnown) this.#graphChanges.push({ message: this.#messageNode(id), kind, units });
  }

  #receive(event: AgentEvent): boolean {
    switch (event.type) {
      case 'agent.acquire':
        this.#acquire(event);
        return false;
      case 'agent.release':
        this.#release(event.leaseId);
        return false;
      case 'resource.granted':
      case 'resource.denied':
      case 'resource.cancelled':
      case 'resource.revoked':
        this.#onPoolReply(event);
        return false;
      case 'resource.replies':
        for (const reply of event.replies) this.#onPoolReply(reply);
        return false;
      case 'agent.deliver':
        this.#deliver(event.delivery);
        return true;
      case 'agent.withdraw':
        return this.#withdraw(event.id, event.reason);
      case 'agent.victim':
        return this.#victim(event.id, event.error);
      case 'agent.handled':
        return this.#handled(event);
      case 'agent.crash':
        return this.#crash(event.reason);
      case 'agent.restart':
        if (this.state !== 'restarting') return false;
        this.#restartTimer = undefined;
        this.#stats.restarts++;
        this.state = 'idle';
        this.#dispatch();
        return true;
      case 'agent.stop':
        return this.#stop(event.reason);
      case 'agent.close':
        if (this.state === 'stopped') this.#self._parent?.send({ type: 'agent.ended', ref: this.#self } satisfies AgentEndedEvent);
        return false;
      case 'xstate.stop':
        // Only ever after `agent.ended`: the agent is stopped already, and its actor now ends.
        this.#stop(new MezanError('E_AGENT_STOPPED', `Agent "${this.#input.name}" was stopped`, { details: { agent: this.#input.name } }));
        this.#closed = true;
        return true;
    }
  }

  #deliver(delivery: AgentDelivery): void {
    const stats = this.#stats;
    stats.received++;
    if (this.state === 'stopped') {
      this.#drop(delivery, new MezanError('E_AGENT_STOPPED', `Agent "${this.#input.name}" is stopped`, { details: { agent: this.#input.name } }));
      return;
    }
    if (this.#mailbox.isFull) {
      const { overflow, capacity } = this.#input;
      if (overflow === 'wait' && !this.#waiting.isFull) {
        this.#waiting.push(delivery);
        this.#noteGraph(delivery.id, 'requests', 1);
        return;
      }
      const full = new MezanError(
        'E_MAILBOX_FULL',
        overflow === 'wait'
          ? `The mailbox of agent "${this.#input.name}" is full (${capacity} messages), and so is its line of ${capacity} waiting senders`
          : `The mailbox of agent "${this.#input.name}" is full (${capacity} messages)`,
        { details: { agent: this.#input.name, capacity, overflow } },
      );
      if (overflow === 'reject' || overflow === 'wait') {
        this.#drop(delivery, full);
        return;
      }
      const oldest = this.#mailbox.shift()!;
      this.#noteGraph(oldest.id, 'requests', 0);
      this.#drop(oldest, full);
    }
    this.#mailbox.push(delivery);
    this.#noteGraph(delivery.id, 'requests', 1);
    this.#dispatch();
  }

  /** Requests units of a pool for a handled message; its handler hears when they are granted. */
  #acquire(event: AgentAcquireEvent): void {
    const run = this.#running.get(event.id);
    if (run === undefined) {
      event.reply.reject(
        new MezanError('E_CANCELLED', `The message of agent "${this.#input.name}" is no longer handled`, { details: { agent: this.#input.name } }),
      );
      return;
    }
    if (run.controller.signal.aborted) {
      event.reply.reject(run.controller.signal.reason);
      return;
    }
    const pools = (run.pools ??= { pending: new Map(), leases: new Map() });
    const requestId = `${this.#messageNode(event.id)}#${++this.#requests}`;
    pools.pending.set(requestId, { pool: event.pool, reply: event.reply });
    this.#poolOwners.set(requestId, event.id);
    event.pool.ref.send({
      type: 'resource.request',
      requestId,
      taskId: this.#messageNode(event.id),
      units: event.units,
      at: this.#input.clock.now(),
      replyTo: this.#self,
    } satisfies ResourceRequestEvent);
  }

  #release(leaseId: string): void {
    const id = this.#poolOwners.get(leaseId);
    const pools = id === undefined ? undefined : this.#running.get(id)?.pools;
    const pool = pools?.leases.get(leaseId);
    if (pool === undefined) return;
    pools!.leases.delete(leaseId);
    this.#poolOwners.delete(leaseId);
    pool.ref.send({ type: 'resource.release', leaseId, at: this.#input.clock.now() });
  }

  #onPoolReply(reply: ResourceReplyEvent): void {
    const id = this.#poolOwners.get(reply.requestId);
    this.#poolOwners.delete(reply.requestId);
    const pools = id === undefined ? undefined : this.#running.get(id)?.pools;
    const pending = pools?.pending.get(reply.requestId);
    if (pending === undefined) {
      // Its run ended meanwhile: units granted to nobody go straight back.
      if (reply.type === 'resource.granted') this.#returnGrant(reply);
      return;
    }
    pools!.pending.delete(reply.requestId);
    switch (reply.type) {
      case 'resource.granted': {
        pools!.leases.set(reply.leaseId, pending.pool);
        this.#poolOwners.set(reply.leaseId, id!);
        const self = this.#self;
        const lease: Lease = Object.freeze({
          leaseId: reply.leaseId,
          resource: reply.resource,
          units: reply.units,
          release: () => self.send({ type: 'agent.release', leaseId: reply.leaseId } satisfies AgentReleaseEvent),
        });
        pending.reply.resolve(lease);
        return;
      }
      case 'resource.denied':
        pending.reply.reject(new MezanError('E_INVALID_OPTION', reply.reason, { details: { option: 'units', resource: reply.resource } }));
        return;
      case 'resource.cancelled':
        return;
      case 'resource.revoked':
        if (reply.leaseId !== undefined) pools!.leases.delete(reply.leaseId);
        pending.reply.reject(reply.reason);
        return;
    }
  }

  #returnGrant(grant: ResourceGrantedEvent): void {
    this.#input.pools?.get(grant.resource)?.ref.send({ type: 'resource.release', leaseId: grant.leaseId, at: this.#input.clock.now() });
  }

  /** A run's handler was aborted: its pending pool requests are withdrawn and rejected with `reason`; its leases stay until it ends. */
  #endPoolRequests(run: Run, reason: MezanError): void {
    const pools = run.pools;
    if (pools === undefined || pools.pending.size === 0) return;
    const at = this.#input.clock.now();
    for (const [requestId, pending] of pools.pending) {
      this.#poolOwners.delete(requestId);
      pending.pool.ref.send({ type: 'resource.cancel', requestId, at });
      pending.reply.reject(reason);
    }
    pools.pending.clear();
  }

  /** A run ended (whatever way): its pending requests are withdrawn, rejected with `reason`, and its leases given back. */
  #endPools(run: Run, reason: MezanError): void {
    const pools = run.pools;
    if (pools === undefined) return;
    run.pools = undefined;
    const at = this.#input.clock.now();
    for (const [requestId, pending] of pools.pending) {
      this.#poolOwners.delete(requestId);
      pending.pool.ref.send({ type: 'resource.cancel', requestId, at });
      pending.reply.reject(reason);
    }
    for (const [leaseId, pool] of pools.leases) {
      this.#poolOwners.delete(leaseId);
      pool.ref.send({ type: 'resource.release', leaseId, at });
    }
  }

  /**
   * The ask of message `id` was chosen to break a deadlock: it rejects with `error` now; the message
   * is then withdrawn as a timed-out ask's is (dropped if it waits, its handler's signal aborted if
   * it runs).
   */
  #victim(id: number, error: MezanError): boolean {
    const delivery = this.#running.get(id)?.delivery ?? this.#find(id);
    if (delivery === undefined) return false;
    delivery.reply?.reject(error);
    return this.#withdraw(id, error);
  }

  #find(id: number): AgentDelivery | undefined {
    for (const delivery of this.#mailbox.values()) if (delivery.id === id) return delivery;
    for (const delivery of this.#waiting.values()) if (delivery.id === id) return delivery;
    return undefined;
  }

  #withdraw(id: number, reason: MezanError): boolean {
    const waiting = this.#mailbox.remove(id) ?? this.#waiting.remove(id);
    if (waiting !== undefined) {
      this.#noteGraph(id, 'requests', 0);
      this.#drop(waiting, reason);
      this.#dispatch();
      return true;
    }
    // A handler already running is told through its signal (and its pending pool requests fail);
    // its outcome is counted when it returns, and what it holds is given back then.
    const run = this.#running.get(id);
    if (run !== undefined) {
      run.controller.abort(reason);
      this.#endPoolRequests(run, reason);
    }
    return false;
  }

  #handled(event: AgentHandledEvent): boolean {
    const run = this.#running.get(event.id);
    // A handler that settles after a crash or a stop was already counted.
    if (run === undefined) return false;
    // The clock is read before anything changes: if it throws, nothing is half done.
    this.#countTime(run, this.#input.clock.now());
    this.#running.delete(event.id);
    this.#noteGraph(event.id, 'holds', 0);
    this.#endPools(run, HANDLER_ENDED);
    const { reply } = run.delivery;
    if (event.ok) {
      this.#stats.handled++;
      reply?.resolve(event.value);
    } else {
      this.#stats.failed++;
      this.#fail(run.delivery, this.#failure(event.value));
    }
    this.#dispatch();
    return true;
  }

  #crash(reason: MezanError): boolean {
    if (this.state === 'stopped' || this.state === 'restarting') return false;
    const { name, restart, clock, logger } = this.#input;
    const now = clock.now();
    for (const run of this.#running.values()) {
      run.controller.abort(reason);
      this.#noteGraph(run.delivery.id, 'holds', 0);
      this.#endPools(run, reason);
      this.#countTime(run, now);
      this.#stats.failed++;
      this.#fail(
        run.delivery,
        new MezanError('E_AGENT_FAILED', `Agent "${name}" crashed while handling the message`, { cause: reason, details: { agent: name } }),
      );
    }
    this.#running.clear();
    const recent = [...this.#restartTimes.filter((at) => now - at < restart.withinMs), now];
    this.#restartTimes = recent;
    if (recent.length > restart.maxRestarts) {
      logger.error('agent crashed past its restart limit: it stops', { agent: name, restarts: recent.length - 1, withinMs: restart.withinMs });
      return this.#stop(
        new MezanError('E_AGENT_STOPPED', `Agent "${name}" stopped after ${recent.length} crashes within ${restart.withinMs} ms`, {
          cause: reason,
          details: { agent: name, crashes: recent.length, withinMs: restart.withinMs },
        }),
      );
    }
    logger.warn('agent crashed: it restarts', { agent: name, error: reason.message });
    this.state = 'restarting';
    // The restart is its own step, after this one: the agent is seen `restarting` in between.
    this.#restartTimer = clock.setTimeout(() => {
      if (!this.#closed) this.#self.send({ type: 'agent.restart' } satisfies AgentRestartEvent);
    }, 0);
    return true;
  }

  /** Stops the agent after a fault in its own step (the clock threw), without the clock. */
  stopAfterFault(thrown: unknown): void {
    const name = this.#input.name;
    this.#input.logger.error('an agent failed in its own step: it stops', { agent: name, error: describeThrown(thrown) });
    this.#restartTimer = undefined;
    this.#stop(
      new MezanError('E_AGENT_STOPPED', `Agent "${name}" stopped after a fault: ${describeThrown(thrown)}`, {
        cause: thrown,
        details: { agent: name },
      }),
    );
  }

  #stop(reason: MezanError): boolean {
    if (this.state === 'stopped') return false;
    if (this.#restartTimer !== undefined) this.#input.clock.clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    for (const run of this.#running.values()) {
      run.controller.abort(reason);
      this.#noteGraph(run.delivery.id, 'holds', 0);
      this.#endPools(run, reason);
      this.#drop(run.delivery, reason);
    }
    this.#running.clear();
    for (const delivery of this.#mailbox.drain()) {
      this.#noteGraph(delivery.id, 'requests', 0);
      this.#drop(delivery, reason);
    }
    for (const delivery of this.#waiting.drain()) {
      this.#noteGraph(delivery.id, 'requests', 0);
      this.#drop(delivery, reason);
    }
    this.#stats.mailboxDepth = 0;
    this.state = 'stopped';
    this.#self.send({ type: 'agent.close' } satisfies AgentCloseEvent);
    return true;
  }

  /** Starts waiting messages while a slot is free, lets waiting senders in, and settles the state. */
  #dispatch(): void {
    const mailbox = this.#mailbox;
    if (this.state !== 'restarting' && this.state !== 'stopped') {
      while (this.#running.size < this.#input.concurrency && mailbox.size > 0) {
        const startedAt = this.#input.clock.now();
        const delivery = mailbox.shift()!;
        this.#noteGraph(delivery.id, 'requests', 0);
        this.#noteGraph(delivery.id, 'holds', 1);
        this.#start(delivery, startedAt);
      }
      this.state = this.#running.size > 0 ? 'busy' : 'idle';
    }
    while (!mailbox.isFull && this.#waiting.size > 0) mailbox.push(this.#waiting.shift()!);
    const stats = this.#stats;
    stats.mailboxDepth = mailbox.size;
    if (mailbox.size > stats.maxMailboxDepth) stats.maxMailboxDepth = mailbox.size;
  }

  #start(delivery: AgentDelivery, startedAt: number): void {
    const { receive, contextFor } = this.#input;
    const controller = new AbortController();
    this.#running.set(delivery.id, { delivery, controller, startedAt });
    const self = this.#self;
    const id = delivery.id;
    const settle = (ok: boolean, value: unknown): void => {
      if (!this.#closed) self.send({ type: 'agent.handled', id, ok, value } satisfies AgentHandledEvent);
    };
    // The handler runs in a promise job, never inside this transition; whatever it throws or returns
    // (a thenable that throws included) settles the promise, so it reaches the agent as an event.
    void Promise.resolve()
      .then(() => receive(delivery.message, contextFor(delivery, controller.signal)))
      .then(
        (value) => settle(true, value),
        (error: unknown) => settle(false, error),
      );
  }

  /** Adds a run that ends now to the handlers' time; called before the run is counted handled or failed. */
  #countTime(run: Run, now: number): void {
    const stats = this.#stats;
    stats.totalMs += Math.max(0, now - run.startedAt);
    stats.meanMs = stats.totalMs / (stats.handled + stats.failed + 1);
  }

  /**
   * What a handler threw, as its ask fails: always `E_AGENT_FAILED` (a handler cannot choose the code
   * its ask fails with), the very thrown value as `cause`, and the cause's own code in `details` when
   * it has one (a member's `E_TIMEOUT` in a team stays visible without unwrapping).
   */
  #failure(thrown: unknown): MezanError {
    const name = this.#input.name;
    const details = isMezanError(thrown) ? { agent: name, causeCode: thrown.code } : { agent: name };
    return new MezanError('E_AGENT_FAILED', `Agent "${name}" failed to handle the message: ${describeThrown(thrown)}`, { cause: thrown, details });
  }

  /** Fails a message: its ask rejects, or, sent, the failure is logged (nobody else would hear of it). */
  #fail(delivery: AgentDelivery, error: MezanError): void {
    if (delivery.reply !== undefined) delivery.reply.reject(error);
    else this.#input.logger.warn('an agent failed to handle a sent message', { agent: this.#input.name, from: delivery.from, error: error.message });
  }

  /** Counts a message that will not be handled and tells its asker why. */
  #drop(delivery: AgentDelivery, reason: MezanError): void {
    this.#stats.dropped++;
    if (delivery.reply !== undefined) delivery.reply.reject(reason);
    else this.#input.logger.debug('an agent dropped a sent message', { agent: this.#input.name, code: reason.code });
  }
}

/** Why a handler's pending pool request fails once its handler returned (shared: it names no agent). */
const HANDLER_ENDED = new MezanError('E_CANCELLED', 'The handler has returned');

const cores = new WeakMap<AnyActorRef, AgentCore>();

/**
 * The logic of an agent: a mailbox (a bounded FIFO), a handler run on up to `concurrency` messages
 * at once, exact statistics, and one-for-one supervision of itself: a crash fails what it was
 * handling, keeps its mailbox, and restarts it within `restart`'s limit; past it, it stops. It is
 * `idle` with nothing to handle, `busy` while a handler runs, `restarting` between a crash and its
 * restart, `stopped` (final: it then only refuses what reaches it) once stopped. Every message ends
 * once: handled, failed or dropped, and its asker hears which.
 *
 * Custom actor logic rather than a machine: its transitions are plain code, run once per message and
 * once per handler that settles. The statechart it follows is `machines/agent.machine.ts`, which
 * tests hold it to.
 *
 * @internal
 */
export const agentLogic: ActorLogic<AgentActorSnapshot, AgentEvent, AgentInput, AnyActorSystem, EventObject> = {
  config: 'mezan.agent',
  getInitialSnapshot(scope: AgentScope, input: AgentInput) {
    const core = new AgentCore(input, scope.self);
    cores.set(scope.self, core);
    return core.snapshot();
  },
  transition(snapshot, event, scope) {
    const core = cores.get(scope.self);
    if (core === undefined || snapshot.status !== 'active') return snapshot;
    try {
      return core.receive(event) ? core.snapshot() : snapshot;
    } catch (error) {
      // Only the injected clock is user code here: if it throws, the agent stops rather than fail
      // its actor, and every message it held still gets its answer.
      core.stopAfterFault(error);
      return core.snapshot();
    }
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
