import { createActor, type AnyActor, type AnyActorRef, type AnyStateMachine, type EventObject } from 'xstate';
import type { AgentActorSnapshot, AgentEvent } from '../../actors/agent.actor';
import type { AgentHandler } from './agent-context';
import { MACHINE_REPLY, type MachineReplyEvent } from './reply';
import type { Clock } from '../clock';
import { MezanError } from '../errors';
import { describeThrown } from '../internal/describe-thrown';
import type { Logger } from '../logger';

/** A message given to the machine, waiting for its reply or for the machine to be at rest. */
interface Pending {
  readonly event: EventObject;
  /** The actors the machine ran, and its delayed events, when the message arrived. */
  readonly children: ReadonlySet<unknown>;
  readonly scheduled: ReadonlySet<unknown>;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

/** Where the adapter tells its agent that the machine failed: the agent actor's own events. */
interface AgentPort {
  send(event: AgentEvent): void;
  subscribe(observer: { next: (snapshot: AgentActorSnapshot) => void }): unknown;
}

/**
 * A user's XState machine as an agent's handler. The agent actor runs it as it runs any handler
 * (mailbox, `concurrency`, statistics, restarts); this adapter keeps the machine's actor, gives it
 * each message as an event, and settles the message when the machine replies (the `reply` action,
 * an emitted `mezan.reply`) or, without a reply, once the machine is at rest for it: no actor it
 * runs and no delayed event it has pending was started since the message arrived. The machine
 * failing (an action or guard throws) or reaching a final state is a crash of the agent: the
 * machine is started anew when the agent restarts, its mailbox kept.
 * @internal
 */
export class MachineAgent {
  /** The handler the agent actor runs. */
  readonly receive: AgentHandler<unknown, unknown> = (message, ctx) => this.#take(message as EventObject, ctx.signal);
  readonly #machine: AnyStateMachine;
  readonly #name: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #agent: AgentPort | undefined = undefined;
  /** The running machine, if any. */
  #actor: AnyActor | undefined = undefined;
  /** The machine failed and the agent has not restarted yet: a message given now waits for the crash that fails it. */
  #failed = false;
  #stopped = false;
  /** The messages given to the machine and not settled, oldest first. */
  #pending: Pending[] = [];
  /** The message whose event the machine is taking now. */
  #current: Pending | undefined = undefined;
  /** Every event given to a machine of this agent: a reply naming one is for a message. */
  readonly #given = new WeakSet<object>();

  constructor(machine: AnyStateMachine, name: string, clock: Clock, logger: Logger) {
    this.#machine = machine;
    this.#name = name;
    this.#clock = clock;
    this.#logger = logger;
  }

  /**
   * Follows the agent: the machine starts with it, is dropped when it crashes (a new one starts
   * when it restarts) and stops with it. Called before the agent actor starts.
   */
  attach(agent: AgentPort): void {
    this.#agent = agent;
    agent.subscribe({
      next: (snapshot) => {
        if (snapshot.value === 'restarting' || snapshot.value === 'stopped') {
          this.#stopped = snapshot.value === 'stopped';
          this.#retire();
        } else if (this.#actor === undefined && !this.#failed && !this.#stopped) this.#start();
      },
    });
  }

  #take(event: EventObject, signal: AbortSignal): Promise<unknown> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (this.#actor === undefined && !this.#failed) this.#start();
      const actor = this.#actor;
      if (signal.aborted) {
        // Starting the machine failed, and the crash already failed this message.
        reject(signal.reason);
        return;
      }
      if (actor === undefined) {
        // The machine failed: the crash on its way fails this message too, through its signal.
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        return;
      }
      const pending: Pending = {
        event,
        children: new Set(runningChildren(actor)),
        scheduled: new Set(scheduledEvents(actor)),
        signal,
        onAbort: () => this.#settle(pending, false, signal.reason),
        resolve,
        reject,
        settled: false,
      };
      signal.addEventListener('abort', pending.onAbort, { once: true });
      this.#pending.push(pending);
      this.#given.add(event);
      this.#current = pending;
      try {
        actor.send(event);
      } finally {
        this.#current = undefined;
      }
    });
  }

  /**
   * Starts a new actor of the machine. Nothing here throws: XState reports what its observers
   * throw as an uncaught exception, so each callback is guarded, and a machine that XState cannot
   * even create or start is a failure of the machine like any other.
   */
  #start(): void {
    let actor: AnyActor | undefined;
    try {
      actor = createActor(this.#machine, { clock: this.#clock, id: this.#name });
      const started = actor;
      this.#actor = started;
      started.subscribe({
        next: (snapshot: { status: string }) =>
          this.#guarded(started, () => {
            if (snapshot.status === 'active' && this.#actor === started) this.#settleAtRest(started);
          }),
        error: (error: unknown) => this.#machineFailed(started, 'failed: ' + describeThrown(error), error),
        complete: () =>
          this.#guarded(started, () =>
            this.#machineFailed(started, started.getSnapshot().status === 'done' ? 'reached a final state' : 'stopped', undefined),
          ),
      });
      // A machine may emit `mezan.reply` itself: `to` and `value` are then whatever it gave.
      started.on(MACHINE_REPLY, (emitted: EventObject) =>
        this.#guarded(started, () => {
          if (this.#actor === started) this.#reply(emitted as MachineReplyEvent);
        }),
      );
      started.start();
    } catch (error) {
      this.#actor = actor;
      this.#machineFailed(actor, 'could not start: ' + describeThrown(error), error);
    }
  }

  /** Runs one of the machine's callbacks; what it throws is a failure of that machine. */
  #guarded(actor: AnyActor, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#machineFailed(actor, 'failed: ' + describeThrown(error), error);
    }
  }

  /** Settles each message for which the machine is at rest: it started nothing that still runs or waits. */
  #settleAtRest(actor: AnyActor): void {
    if (this.#pending.length === 0) return;
    const children = runningChildren(actor);
    const scheduled = scheduledEvents(actor);
    for (const pending of [...this.#pending]) {
      if (children.every((child) => pending.children.has(child)) && scheduled.every((delayed) => pending.scheduled.has(delayed)))
        this.#settle(pending, true, undefined);
    }
  }

  #reply(emitted: MachineReplyEvent): void {
    const { to, value } = emitted;
    let target: Pending | undefined;
    if (typeof to === 'object' && to !== null && this.#given.has(to)) {
      target = this.#pending.find((pending) => pending.event === to);
      if (target === undefined) {
        this.#logger.debug('a second reply to a message was ignored', { agent: this.#name });
        return;
      }
    } else {
      target = this.#current ?? (this.#pending.length === 1 ? this.#pending[0] : undefined);
      if (target === undefined || target.settled) {
        this.#logger.warn(
          this.#pending.length === 0
            ? 'a reply with no message waiting for one was dropped'
            : 'a reply naming no message, with several waiting, was dropped: name it with `to`',
          { agent: this.#name, waiting: this.#pending.length },
        );
        return;
      }
    }
    this.#settle(target, true, value);
  }

  #settle(pending: Pending, ok: boolean, value: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.signal.removeEventListener('abort', pending.onAbort);
    const index = this.#pending.indexOf(pending);
    if (index >= 0) this.#pending.splice(index, 1);
    if (ok) pending.resolve(value);
    else pending.reject(value);
  }

  /**
   * The machine is gone: the agent crashes at once, before it can start another message on it, so
   * that its whole mailbox waits for the new machine. The messages the machine was handling fail,
   * one it answered in this last step included.
   */
  #machineFailed(actor: AnyActor | undefined, what: string, cause: unknown): void {
    if (this.#actor !== actor) return;
    this.#actor = undefined;
    this.#failed = true;
    const reason = new MezanError('E_AGENT_FAILED', `The machine of agent "${this.#name}" ${what}`, { cause, details: { agent: this.#name } });
    this.#agent?.send({ type: 'agent.crash', reason });
    stopQuietly(actor);
  }

  /** Drops the machine (the agent crashed or stopped): its messages were failed by the agent already. */
  #retire(): void {
    this.#failed = false;
    const gone = new MezanError('E_AGENT_FAILED', `The machine of agent "${this.#name}" was dropped`, { details: { agent: this.#name } });
    for (const pending of [...this.#pending]) this.#settle(pending, false, gone);
    const actor = this.#actor;
    this.#actor = undefined;
    stopQuietly(actor);
  }
}

/**
 * Stops a machine's actor and what it runs. A machine that failed or ended is already stopped, but
 * XState leaves its children running (an invoked machine's timers, a callback actor's cleanup not
 * called): each is sent `xstate.stop`, which every actor logic obeys. A throw on the way changes
 * nothing: nothing of this machine is used again.
 */
function stopQuietly(actor: AnyActor | undefined): void {
  if (actor === undefined) return;
  try {
    if (actor.getSnapshot().status === 'active') actor.stop();
    else for (const child of runningChildren(actor)) (child as AnyActorRef).send({ type: 'xstate.stop' });
  } catch {
    // Its exit actions or its children threw.
  }
}

/** The actors a machine runs now (invoked or spawned). */
function runningChildren(actor: AnyActor): unknown[] {
  return Object.values((actor.getSnapshot() as { children: Record<string, unknown> }).children).filter((child) => child !== undefined);
}

/** The delayed events pending in a machine's actor system. */
function scheduledEvents(actor: AnyActor): unknown[] {
  return Object.values(actor.system.getSnapshot()._scheduledEvents);
}
