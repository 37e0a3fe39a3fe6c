import type { AgentActorSnapshot, AgentRef, AgentStats, AgentStatus } from '../../actors/agent.actor';
import { resolveAskOptions, type AskOptions } from './agent-options';
import { AskCall } from './ask-call';
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
  /** Told of each ask as it is made (for metrics): returns what to call with its outcome, or `undefined` to hear nothing. */
  readonly onAsk?: (agent: string) => ((ok: boolean) => void) | undefined;
}

/**
 * The {@link Agent} handle over an agent actor. `post` and `request` carry a sender's name, for the
 * handlers of other agents (their `ctx.send` and `ctx.ask`).
 * @internal
 */
export class AgentHandle<M = unknown, R = unknown> implements Agent<M, R> {
  readonly name: string;
  /** The capacity of its mailbox, for metrics and the mailbox alert. */
  readonly mailboxCapacity: number;
  readonly #ref: AgentRef;
  readonly #port: AgentHandlePort;
  /** Messages that reached it once its actor had ended: refused here, and counted as received and dropped. */
  #late = 0;

  constructor(name: string, ref: AgentRef, port: AgentHandlePort, mailboxCapacity: number) {
    this.name = name;
    this.mailboxCapacity = mailboxCapacity;
    this.#ref = ref;
    this.#port = port;
  }

  get status(): AgentStatus {
    return this.#ref.getSnapshot().value;
  }

  /** The actor's snapshot, for `engine.actors()`. */
  get snapshot(): AgentActorSnapshot {
    return this.#ref.getSnapshot();
  }

  send(message: M): void {
    const refusal = this.#port.refusal();
    if (refusal === undefined) this.post(message, undefined);
    else this.#port.logger.warn('a message sent to an agent after shutdown began was refused', { agent: this.name, code: refusal.code });
  }

  ask(message: M, options?: AskOptions): Promise<R> {
    const refusal = this.#port.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return this.request(message, undefined, options);
  }

  stats(): AgentStats {
    const stats = { ...this.#ref.getSnapshot().context.stats };
    stats.received += this.#late;
    stats.dropped += this.#late;
    return stats;
  }

  stop(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ref.send({
      type: 'agent.stop',
      reason: new MezanError('E_AGENT_STOPPED', `Agent "${this.name}" was stopped`, { details: { agent: this.name } }),
    });
    return this.#whenStopped();
  }

  /** Stops it with `reason` as every pending ask's error (shutdown's `E_SHUTDOWN`). */
  stopWith(reason: MezanError): void {
    if (!this.#ended) this.#ref.send({ type: 'agent.stop', reason });
  }

  /** Crashes it, as a fault injection. */
  crash(reason: MezanError): void {
    if (!this.#ended) this.#ref.send({ type: 'agent.crash', reason });
  }

  /** Delivers a sent message from `from`. */
  post(message: unknown, from: string | undefined): void {
    if (this.#ended) {
      this.#late++;
      this.#port.logger.debug('an agent dropped a sent message', { agent: this.name, code: 'E_AGENT_STOPPED' });
      return;
    }
    this.#ref.send({ type: 'agent.deliver', delivery: { id: this.#port.nextId(), message, from, reply: undefined } });
  }

  /** Delivers an asked message from `from`; the promise settles once, with its outcome. */
  request(message: unknown, from: string | undefined, options: unknown): Promise<R> {
    let resolved: AskOptions;
    try {
      resolved = resolveAskOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#ended) {
      this.#late++;
      return Promise.reject(new MezanError('E_AGENT_STOPPED', `Agent "${this.name}" is stopped`, { details: { agent: this.name } }));
    }
    const id = this.#port.nextId();
    const call = new AskCall(this.name, (reason) => {
      if (!this.#ended) this.#ref.send({ type: 'agent.withdraw', id, reason });
    });
    const settled = this.#port.onAsk?.(this.name);
    if (settled !== undefined)
      void call.promise.then(
        () => settled(true),
        () => settled(false),
      );
    if (call.arm(this.#port.clock, resolved.timeoutMs, resolved.signal))
      this.#ref.send({ type: 'agent.deliver', delivery: { id, message, from, reply: call } });
    return call.promise as Promise<R>;
  }

  /** Whether its actor has ended (after it stopped): nothing can be sent to it any more. */
  get #ended(): boolean {
    return this.#ref.getSnapshot().status !== 'active';
  }

  #whenStopped(): Promise<void> {
    return new Promise((resolve) => {
      if (this.status === 'stopped') {
        resolve();
        return;
      }
      // The stop was queued behind the agent's current step: it is over when the snapshot says so.
      const subscription = this.#ref.subscribe({
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
}
