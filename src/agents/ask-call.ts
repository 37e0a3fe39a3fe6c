import type { AgentReply } from '../../actors/agent.actor';
import type { Clock } from '../clock';
import { MezanError } from '../errors';

/**
 * One pending ask, on the asker's side: it settles once, with the agent's reply or with the first of
 * its timeout and its caller's abort, and then lets go of its timer and its abort listener.
 * @internal
 */
export class AskCall implements AgentReply {
  readonly promise: Promise<unknown>;
  #resolve!: (value: unknown) => void;
  #reject!: (error: MezanError) => void;
  #settled = false;
  #timer: unknown = undefined;
  #clock: Clock | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  readonly #onAbort = (): void =>
    this.#giveUp(new MezanError('E_CANCELLED', `The ask to agent "${this.agent}" was aborted`, { details: { agent: this.agent } }));

  /**
   * @param agent - the asked agent's name, for the errors
   * @param withdraw - tells the agent nobody waits any more, once the ask timed out or was aborted
   */
  constructor(
    readonly agent: string,
    readonly withdraw: (reason: MezanError) => void,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /**
   * Arms the timeout and the abort, before the message is delivered.
   * @returns `false` if the signal was already aborted (the ask is then rejected)
   */
  arm(clock: Clock, timeoutMs: number | undefined, signal: AbortSignal | undefined): boolean {
    if (signal?.aborted === true) {
      this.#onAbort();
      return false;
    }
    if (timeoutMs !== undefined) {
      this.#clock = clock;
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined;
        this.#giveUp(
          new MezanError('E_TIMEOUT', `Agent "${this.agent}" did not reply within ${timeoutMs} ms`, { details: { agent: this.agent, timeoutMs } }),
        );
      }, timeoutMs);
    }
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    return true;
  }

  resolve(value: unknown): void {
    if (this.#finish()) this.#resolve(value);
  }

  reject(error: MezanError): void {
    if (this.#finish()) this.#reject(error);
  }

  #giveUp(reason: MezanError): void {
    if (!this.#finish()) return;
    this.#reject(reason);
    this.withdraw(reason);
  }

  /** @returns whether this is the first outcome */
  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#timer !== undefined) this.#clock!.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
    return true;
  }
}
