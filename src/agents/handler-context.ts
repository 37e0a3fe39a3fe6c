import type { AgentDelivery } from '../../actors/agent.actor';
import { postAs, requestAs, tellAgent, type AgentHandle } from './agent';
import type { AgentContext, AgentOrName } from './agent-context';
import type { AskOptions } from './agent-options';
import { unknownAgentError } from './agent-options';
import { containListeners } from './contained-signal';
import type { Clock } from '../clock';
import { messageNodeId } from '../detection/agent-nodes';
import { describeThrown } from '../internal/describe-thrown';
import type { NoticeReceiver } from '../internal/task-services';
import { fail, rejectInvalid } from '../internal/validate';
import type { Logger } from '../logger';
import { TaskHandle } from '../task-handle';
import type { Lease, TaskFunction, TaskOptions } from '../task-options';

/** What every handler's context of one engine shares: made once by the agent registry. @internal */
export interface HandlerServices {
  readonly clock: Clock;
  /** The deadlock detector's inbox, if any. */
  readonly detector: NoticeReceiver | undefined;
  /** The running agent `to` names (a handle passes as it is). */
  resolve(to: AgentOrName): AgentHandle | undefined;
  /** Units of a pool for message `id` of `self`. */
  acquire(self: AgentHandle, id: number, signal: AbortSignal, pool: unknown, units: unknown): Promise<Lease>;
  /** Submits a task to the engine. */
  submit<T>(fn: TaskFunction<T> | string, options: TaskOptions | undefined): TaskHandle<T>;
}

/**
 * The `ctx` a handler gets with one message. A class, its methods on the prototype: one is made for
 * every message, and most handlers touch one or two of them (as a task's `ctx`, its methods are
 * called on it, not taken off it).
 * @internal
 */
export class HandlerContext implements AgentContext {
  readonly self: AgentHandle;
  readonly logger: Logger;
  readonly #services: HandlerServices;
  readonly #delivery: AgentDelivery;
  readonly #signal: AbortSignal;
  #contained: AbortSignal | undefined = undefined;

  constructor(services: HandlerServices, self: AgentHandle, delivery: AgentDelivery, signal: AbortSignal, logger: Logger) {
    this.#services = services;
    this.self = self;
    this.#delivery = delivery;
    this.#signal = signal;
    this.logger = logger;
  }

  get from(): string | undefined {
    return this.#delivery.from;
  }

  get signal(): AbortSignal {
    // What the handler adds to its signal runs when the agent aborts it, inside the agent's step: a
    // throw there must neither fail the agent nor reach the process as an uncaught exception.
    // Contained on first use: most handlers never read their signal.
    return (this.#contained ??= containListeners(this.#signal, (error) =>
      this.logger.warn("an abort listener on a handler's signal threw", { agent: this.self.name, error: describeThrown(error) }),
    ));
  }

  /** This message's node in the wait-for graph. */
  get #node(): string {
    return messageNodeId(this.self.name, this.#delivery.id);
  }

  sleep(ms: number): Promise<void> {
    return sleepOn(this.#services.clock, this.#signal, ms);
  }

  send(to: AgentOrName, message: unknown): void {
    const target = this.#services.resolve(to);
    if (target === undefined) throw unknownAgentError(to);
    postAs(target, message, this.self.name);
  }

  ask<R = unknown>(to: AgentOrName, message: unknown, options?: AskOptions): Promise<R> {
    const target = this.#services.resolve(to);
    if (target === undefined) return Promise.reject(unknownAgentError(to));
    return requestAs(target, message, this.self.name, options, { node: this.#node, isTask: false }) as Promise<R>;
  }

  acquire(pool: string, units?: number): Promise<Lease> {
    return this.#services.acquire(this.self, this.#delivery.id, this.#signal, pool, units ?? 1);
  }

  release(lease: Lease): void {
    if (typeof lease !== 'object' || lease === null || typeof (lease as Partial<Lease>).leaseId !== 'string')
      fail('lease', 'a lease that ctx.acquire gave', lease);
    tellAgent(this.self, { type: 'agent.release', leaseId: lease.leaseId });
  }

  submit<T>(fn: TaskFunction<T>, options?: TaskOptions): TaskHandle<T>;
  submit<T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
  submit<T>(fn: TaskFunction<T> | string, options?: TaskOptions): TaskHandle<T> {
    return this.#services.submit(fn, options);
  }

  await<T>(handle: TaskHandle<T>): Promise<T> {
    return awaitTask(this.#services.detector, this.#node, this.#signal, handle);
  }
}

/**
 * Waits for a task's result from a handler: while it waits, the handler's message awaits the task in
 * the wait-for graph (the awaited task's need for a worker slot is watched as for a task's await).
 */
function awaitTask<T>(detector: NoticeReceiver | undefined, node: string, signal: AbortSignal, handle: TaskHandle<T>): Promise<T> {
  if (!(handle instanceof TaskHandle)) return rejectInvalid(() => fail('handle', 'a task handle', handle));
  if (handle.isSettled || detector === undefined) return handle.result;
  if (signal.aborted) return Promise.reject(signal.reason);
  detector.send({ type: 'graph.await', taskId: node, awaited: handle.id, active: true });
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      signal.removeEventListener('abort', onAbort);
      detector.send({ type: 'graph.await', taskId: node, awaited: handle.id, active: false });
      return true;
    };
    const onAbort = (): void => {
      if (finish()) reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    handle.result.then(
      (value) => finish() && resolve(value),
      (error: unknown) => finish() && reject(error),
    );
  });
}

/** Waits `ms` of `clock`'s time, or rejects with `signal`'s reason once it aborts. */
function sleepOn(clock: Clock, signal: AbortSignal, ms: unknown): Promise<void> {
  if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms))
    return rejectInvalid(() => fail('ms', 'a non-negative finite number of milliseconds', ms));
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
