import type { AgentAcquireEvent, AgentRef, AgentReleaseEvent, AgentStats, AgentStatus } from '../../actors/agent.actor';
import { resolveAskOptions, type AskOptions } from './agent-options';
import { AskCall } from './ask-call';
import { messageNodeId } from '../detection/agent-nodes';
import type { NoticeReceiver } from '../internal/task-services';
import type { Clock } from '../clock';
import { MezanError } from '../errors';
import type { Logger } from '../logger';

/**
 * A running agent, as {@link Engine.spawnAgent} returns it: send it messages, ask it and await the
 * reply, read its state and statistics, stop it.
 *
 * @typeParam M - the messages it takes
 * @typeParam R - what it replies
 */
export interface Agent<M = unknown, R = unknown> {
  /** Its name, unique among the engine's running agents. */
  readonly name: string;
  /** `idle`, `busy` (a handler runs), `restarting` (after a crash) or `stopped`. */
  readonly status: AgentStatus;
  /**
   * Sends a message, fire and forget: nobody hears of its reply. A message the agent cannot take (a
   * full mailbox with `overflow: 'reject'`, a stopped agent) is counted in `dropped`, and a handler
   * that throws on it is logged; once shutdown began, the message is refused, and that is logged.
   */
  send(message: M): void;
  /**
   * Asks the agent and waits for its reply.
   * @returns the handler's reply; rejects with `E_AGENT_FAILED` (the handler threw; its error is the
   * `cause`), `E_MAILBOX_FULL` (refused, or dropped for a newer message), `E_TIMEOUT` (past
   * `timeoutMs`), `E_CANCELLED` (`signal` aborted), `E_AGENT_STOPPED` (the agent stopped first),
   * `E_SHUTDOWN` (the engine is shutting down), `E_INVALID_OPTION` (bad options)
   * @example
   * ```ts
   * const reply = await analyzer.ask({ problem }, { timeoutMs: 1_000 });
   * ```
   */
  ask(message: M, options?: AskOptions): Promise<R>;
  /** Its statistics now: a copy. */
  stats(): AgentStats;
  /**
   * Stops it: what waits in its mailbox and what its handlers run is let go, each ask rejected with
   * `E_AGENT_STOPPED`, and its handlers' signals aborted.
   * @returns a promise that resolves once it is stopped
   */
  stop(): Promise<void>;
}

/** What a handle needs from whoever made it. @internal */
export interface AgentHandlePort {
  readonly clock: Clock;
  /** A new delivery id, unique in the engine. */
  nextId(): number;
  /** `undefined` while outside callers may send, else the error that refuses them (`E_SHUTDOWN`). */
  refusal(): MezanError | undefined;
  /** Where a refused `send`, which has nobody to reject, is reported. */
  readonly logger: Logger;
  /** The deadlock detector's inbox: an asker (a handler, a task) waiting for a reply is a wait-for edge. */
  readonly detector?: NoticeReceiver;
  /** Told of each ask as it is made (for metrics): returns what to call with its outcome, or `undefined` to hear nothing. */
  readonly onAsk?: (agent: string) => ((ok: boolean) => void) | undefined;
}

/** What a handle keeps out of reach of the user code that holds it. */
interface HandleCore {
  readonly ref: AgentRef;
  readonly port: AgentHandlePort;
  /** Checks and copies a message before it is delivered (a machine agent's event); throws `E_INVALID_OPTION`. */
  readonly prepare: ((message: unknown) => unknown) | undefined;
  /** Messages that reached it once its actor had ended: refused here, and counted as received and dropped. */
  late: number;
}

// Module-private: the handle a user holds has only the public methods; the engine's parts reach its
// actor through the functions below, which nothing outside mezan's own modules imports.
const cores = new WeakMap<object, HandleCore>();

function coreOf(handle: AgentHandle): HandleCore {
  return cores.get(handle)!;
}

/**
 * The {@link Agent} handle over an agent actor. Its internals (its actor, a sender's name, fault
 * injection) are module-private: see {@link postAs}, {@link requestAs}, {@link stopAgentWith} and
 * {@link crashAgent}.
 * @internal
 */
export class AgentHandle<M = unknown, R = unknown> implements Agent<M, R> {
  readonly name: string;
  /** The capacity of its mailbox, for metrics and the mailbox alert. */
  readonly mailboxCapacity: number;

  /**
   * @param prepare - checks and copies each message before it is delivered; what it throws refuses the message
   */
  constructor(name: string, ref: AgentRef, port: AgentHandlePort, mailboxCapacity: number, prepare?: (message: unknown) => unknown) {
    this.name = name;
    this.mailboxCapacity = mailboxCapacity;
    cores.set(this, { ref, port, prepare, late: 0 });
  }

  get status(): AgentStatus {
    return coreOf(this).ref.getSnapshot().value;
  }

  send(message: M): void {
    const { port } = coreOf(this);
    const refusal = port.refusal();
    if (refusal === undefined) postAs(this, message, undefined);
    else port.logger.warn('a message sent to an agent after shutdown began was refused', { agent: this.name, code: refusal.code });
  }

  ask(message: M, options?: AskOptions): Promise<R> {
    const refusal = coreOf(this).port.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return requestAs(this, message, undefined, options) as Promise<R>;
  }

  stats(): AgentStats {
    const core = coreOf(this);
    const stats = { ...core.ref.getSnapshot().context.stats };
    stats.received += core.late;
    stats.dropped += core.late;
    return stats;
  }

  stop(): Promise<void> {
    const { ref } = coreOf(this);
    if (ended(ref)) return Promise.resolve();
    ref.send({
      type: 'agent.stop',
      reason: new MezanError('E_AGENT_STOPPED', `Agent "${this.name}" was stopped`, { details: { agent: this.name } }),
    });
    return whenStopped(ref);
  }
}

/** Whether an agent's actor has ended (after it stopped): nothing can be sent to it any more. */
function ended(ref: AgentRef): boolean {
  return ref.getSnapshot().status !== 'active';
}

/** Resolves once the agent is stopped: the stop may be queued behind the agent's current step. */
function whenStopped(ref: AgentRef): Promise<void> {
  return new Promise((resolve) => {
    if (ref.getSnapshot().value === 'stopped') {
      resolve();
      return;
    }
    const subscription = ref.subscribe({
      next: (snapshot) => {
        if (snapshot.value !== 'stopped') return;
        subscription.unsubscribe();
        resolve();
      },
      complete: () => resolve(),
      error: () => resolve(),
    });
  });
}

/**
 * Stops an agent with `reason` as every pending ask's error (shutdown's `E_SHUTDOWN`).
 * @internal
 */
export function stopAgentWith(handle: AgentHandle, reason: MezanError): void {
  const { ref } = coreOf(handle);
  if (!ended(ref)) ref.send({ type: 'agent.stop', reason });
}

/**
 * Sends an agent an event of its own making (a handler's `agent.acquire` or `agent.release`), unless it has ended.
 * @returns whether it was sent
 * @internal
 */
export function tellAgent(handle: AgentHandle, event: AgentAcquireEvent | AgentReleaseEvent): boolean {
  const { ref } = coreOf(handle);
  if (ended(ref)) return false;
  ref.send(event);
  return true;
}

/**
 * Crashes an agent, as a fault injection.
 * @internal
 */
export function crashAgent(handle: AgentHandle, reason: MezanError): void {
  const { ref } = coreOf(handle);
  if (!ended(ref)) ref.send({ type: 'agent.crash', reason });
}

/**
 * Delivers a sent message from `from` (an agent's name, or `undefined` from outside any agent).
 * @throws {MezanError} `E_INVALID_OPTION` when the agent refuses the message as it is (a machine agent's non-event)
 * @internal
 */
export function postAs(handle: AgentHandle, message: unknown, from: string | undefined): void {
  const core = coreOf(handle);
  const delivered = core.prepare === undefined ? message : core.prepare(message);
  if (ended(core.ref)) {
    core.late++;
    core.port.logger.debug('an agent dropped a sent message', { agent: handle.name, code: 'E_AGENT_STOPPED' });
    return;
  }
  core.ref.send({ type: 'agent.deliver', delivery: { id: core.port.nextId(), message: delivered, from, reply: undefined } });
}

/**
 * Who waits for an ask's reply, in the wait-for graph: a message whose handler asked
 * (`@agent:<name>#<n>`), or a task on a worker.
 * @internal
 */
export interface Asker {
  readonly node: string;
  readonly isTask: boolean;
}

/**
 * Delivers an asked message from `from`; with an `asker`, the detector hears that it waits for the
 * reply until the ask settles.
 * @returns a promise that settles once, with its outcome
 * @internal
 */
export function requestAs(handle: AgentHandle, message: unknown, from: string | undefined, options: unknown, asker?: Asker): Promise<unknown> {
  const core = coreOf(handle);
  let resolved: AskOptions;
  let delivered: unknown;
  try {
    resolved = resolveAskOptions(options);
    delivered = core.prepare === undefined ? message : core.prepare(message);
  } catch (error) {
    return Promise.reject(error);
  }
  const { ref, port } = core;
  if (ended(ref)) {
    core.late++;
    return Promise.reject(new MezanError('E_AGENT_STOPPED', `Agent "${handle.name}" is stopped`, { details: { agent: handle.name } }));
  }
  const id = port.nextId();
  const call = new AskCall(handle.name, (reason) => {
    if (!ended(ref)) ref.send({ type: 'agent.withdraw', id, reason });
  });
  const settled = port.onAsk?.(handle.name);
  if (settled !== undefined)
    void call.promise.then(
      () => settled(true),
      () => settled(false),
    );
  if (!call.arm(port.clock, resolved.timeoutMs, resolved.signal)) return call.promise;
  const detector = port.detector;
  if (asker !== undefined && detector !== undefined) {
    const edge = { waiter: asker.node, waiterIsTask: asker.isTask, message: messageNodeId(handle.name, id), agentRef: ref };
    detector.send({ type: 'graph.ask', ...edge, active: true });
    const ended = (): void => detector.send({ type: 'graph.ask', ...edge, active: false });
    void call.promise.then(ended, ended);
  }
  ref.send({ type: 'agent.deliver', delivery: { id, message: delivered, from, reply: call } });
  return call.promise;
}
