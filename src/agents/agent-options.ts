import type { AnyStateMachine } from 'xstate';
import type { AgentHandler } from './agent-context';
import { MezanError } from '../errors';
import {
  describeValue,
  expectFunction,
  expectKnownKeys,
  expectOneOf,
  expectOptionalTimerMs,
  expectOptionsObject,
  fail,
  MAX_TIMER_MS,
  orDefault,
} from '../internal/validate';

/** What an agent does with a message that finds its mailbox full. */
export type MailboxOverflow = 'reject' | 'drop-oldest' | 'wait';

/** An agent's mailbox: a bounded first-in, first-out queue of the messages it has not started. */
export interface MailboxOptions {
  /**
   * How many messages wait at most (those being handled are not counted).
   * @default 1000
   */
  capacity?: number;
  /**
   * When the mailbox is full: `'reject'` refuses the new message (`E_MAILBOX_FULL`),
   * `'drop-oldest'` drops the oldest waiting one to make room (its ask fails with `E_MAILBOX_FULL`),
   * `'wait'` keeps the sender waiting until there is room (its ask's `timeoutMs` still counts); past
   * a second `capacity` of waiting senders, a message is refused as under `'reject'`.
   * @default 'reject'
   */
  overflow?: MailboxOverflow;
}

/** How an agent restarts after a crash: one-for-one, at most `maxRestarts` within any `withinMs`; past it, it stops. */
export interface AgentRestartOptions {
  /**
   * Restarts allowed within the window.
   * @default 3
   */
  maxRestarts?: number;
  /**
   * The window, in clock milliseconds.
   * @default 10000
   */
  withinMs?: number;
}

/** What every agent's options have, whether it handles messages with `receive` or with `machine`. */
export interface AgentCommonOptions {
  /** Its name, unique among the engine's running agents: its id (`agent:<name>` in `engine.actors()`). */
  name: string;
  /** Its mailbox. @default `{ capacity: 1000, overflow: 'reject' }` */
  mailbox?: MailboxOptions;
  /**
   * How many messages it handles at once.
   * @default 1
   */
  concurrency?: number;
  /** Its restart limit. @default `{ maxRestarts: 3, withinMs: 10000 }` */
  restart?: AgentRestartOptions;
}

/**
 * Options of a handler agent: a function handles each message.
 *
 * @typeParam M - the messages it takes
 * @typeParam R - what it replies
 */
export interface HandlerAgentOptions<M = unknown, R = unknown> extends AgentCommonOptions {
  /** Handles one message and returns the reply (to an ask; a sent message's reply is dropped). */
  receive: AgentHandler<M, R>;
  /** A handler agent has no machine. */
  machine?: undefined;
}

/**
 * An XState machine that takes events of type `M`: what `machine` is, typed so that the agent's
 * messages are inferred from the machine's events. `transition` is a method here, not a function
 * property, so that its parameters are compared both ways: a machine can be given where the
 * messages are typed wider than its events (`spawnAgent<unknown>`).
 */
export type MachineTaking<M> = AnyStateMachine & { transition(snapshot: never, event: M, actorScope: never): unknown };

/**
 * Options of a machine agent: a user's own XState machine takes each message as an event and answers
 * with the `reply` action (see docs/agents.md, "Machine agents").
 *
 * @typeParam M - the messages it takes: the machine's events
 */
export interface MachineAgentOptions<M = unknown> extends AgentCommonOptions {
  /**
   * The machine, written with plain XState: it gets each message (an event object `{ type, ... }`)
   * as an event, and answers with `reply(value)`. A new actor of it runs from each (re)start.
   */
  machine: MachineTaking<M>;
  /** A machine agent has no handler. */
  receive?: undefined;
}

/**
 * Options of {@link Engine.spawnAgent}: a handler agent (`receive`) or a machine agent (`machine`),
 * never both.
 *
 * @typeParam M - the messages it takes
 * @typeParam R - what it replies
 */
export type AgentOptions<M = unknown, R = unknown> = HandlerAgentOptions<M, R> | MachineAgentOptions<M>;

/** {@link AgentOptions} with every default filled in. @internal */
export interface ResolvedAgentOptions {
  readonly name: string;
  /** Exactly one of `receive` and `machine` is set. */
  readonly receive: AgentHandler<unknown, unknown> | undefined;
  readonly machine: AnyStateMachine | undefined;
  readonly mailbox: Readonly<Required<MailboxOptions>>;
  readonly concurrency: number;
  readonly restart: Readonly<Required<AgentRestartOptions>>;
}

/** The defaults of {@link AgentOptions}. */
export const AGENT_DEFAULTS = Object.freeze({
  /** A thousand waiting messages, a new one refused when full. */
  mailbox: Object.freeze({ capacity: 1_000, overflow: 'reject' as MailboxOverflow }),
  /** One message at a time. */
  concurrency: 1,
  /** Three restarts within ten seconds. */
  restart: Object.freeze({ maxRestarts: 3, withinMs: 10_000 }),
});

const AGENT_OPTION_KEYS: Readonly<Record<keyof AgentOptions, true>> = {
  name: true,
  receive: true,
  machine: true,
  mailbox: true,
  concurrency: true,
  restart: true,
};
const MAILBOX_OPTION_KEYS: Readonly<Record<keyof MailboxOptions, true>> = { capacity: true, overflow: true };
const RESTART_OPTION_KEYS: Readonly<Record<keyof AgentRestartOptions, true>> = { maxRestarts: true, withinMs: true };
const OVERFLOWS: readonly MailboxOverflow[] = ['reject', 'drop-oldest', 'wait'];

/** Throws `E_INVALID_OPTION` unless `value` is an integer from `min` to `max`. */
function expectIntegerIn(option: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `an integer from ${min} to ${max}`, value);
}

/** A nested options object checked key by key; absent, an empty one (every field takes its default). */
function nestedOptions<T extends object>(option: string, value: unknown, known: Readonly<Record<keyof T, true>>): Partial<T> {
  if (value === undefined) return {};
  expectOptionsObject(option, value);
  expectKnownKeys(option, value, known);
  return value as Partial<T>;
}

/** Whether `value` looks like an XState machine (`setup(...).createMachine(...)` or `createMachine(...)`). */
function isStateMachine(value: unknown): value is AnyStateMachine {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const machine = value as Partial<AnyStateMachine>;
    return typeof machine.transition === 'function' && typeof machine.getInitialSnapshot === 'function' && typeof machine.root === 'object';
  } catch {
    // A getter or a proxy trap threw: no machine.
    return false;
  }
}

/** The agent's `receive` or `machine`: exactly one of them. */
function handlerOrMachine(given: AgentOptions): Pick<ResolvedAgentOptions, 'receive' | 'machine'> {
  const { receive, machine } = given;
  if (receive !== undefined && machine !== undefined)
    fail('machine', 'absent when `receive` is given (an agent has a handler or a machine, not both)', machine);
  if (machine === undefined) {
    if (receive === undefined) fail('receive', 'a function, or `machine` an XState machine (an agent needs one of them)', receive);
    expectFunction('receive', receive);
    return { receive: receive as AgentHandler<unknown, unknown>, machine: undefined };
  }
  if (!isStateMachine(machine)) fail('machine', 'an XState machine (made with `setup(...).createMachine(...)` or `createMachine(...)`)', machine);
  return { receive: undefined, machine };
}

/**
 * Checks an agent's options key by key and fills in the defaults.
 *
 * @param options - what the caller passed to `spawnAgent`
 * @returns the resolved options
 * @throws {MezanError} `E_INVALID_OPTION` naming the option at fault (an unknown key with the closest known one)
 * @internal
 */
export function resolveAgentOptions(options: unknown): ResolvedAgentOptions {
  expectOptionsObject('options', options);
  expectKnownKeys('', options, AGENT_OPTION_KEYS);
  const given = options as AgentOptions;
  if (typeof given.name !== 'string' || given.name.trim().length === 0) fail('name', 'a non-empty string', given.name);
  const { receive, machine } = handlerOrMachine(given);
  const mailbox = nestedOptions<MailboxOptions>('mailbox', given.mailbox, MAILBOX_OPTION_KEYS);
  const capacity = orDefault(mailbox.capacity, AGENT_DEFAULTS.mailbox.capacity);
  expectIntegerIn('mailbox.capacity', capacity, 1, Number.MAX_SAFE_INTEGER);
  const overflow = orDefault(mailbox.overflow, AGENT_DEFAULTS.mailbox.overflow);
  expectOneOf('mailbox.overflow', overflow, OVERFLOWS);
  const concurrency = orDefault(given.concurrency, AGENT_DEFAULTS.concurrency);
  expectIntegerIn('concurrency', concurrency, 1, Number.MAX_SAFE_INTEGER);
  const restart = nestedOptions<AgentRestartOptions>('restart', given.restart, RESTART_OPTION_KEYS);
  const maxRestarts = orDefault(restart.maxRestarts, AGENT_DEFAULTS.restart.maxRestarts);
  expectIntegerIn('restart.maxRestarts', maxRestarts, 0, Number.MAX_SAFE_INTEGER);
  const withinMs = orDefault(restart.withinMs, AGENT_DEFAULTS.restart.withinMs);
  if (typeof withinMs !== 'number' || !(withinMs > 0 && withinMs <= MAX_TIMER_MS))
    fail('restart.withinMs', `a number of milliseconds above 0 and up to ${MAX_TIMER_MS}`, withinMs);
  return {
    name: given.name,
    receive,
    machine,
    mailbox: { capacity, overflow },
    concurrency,
    restart: { maxRestarts, withinMs },
  };
}

/** Options of {@link Agent.ask} and of a handler's `ctx.ask`. */
export interface AskOptions {
  /** Rejects the ask with `E_TIMEOUT` after this many clock milliseconds. @default no limit */
  timeoutMs?: number;
  /** Aborting it rejects the ask with `E_CANCELLED` and withdraws the message (or aborts its handler's signal). */
  signal?: AbortSignal;
}

const ASK_OPTION_KEYS: Readonly<Record<keyof AskOptions, true>> = { timeoutMs: true, signal: true };

/**
 * Checks the options of an ask.
 * @throws {MezanError} `E_INVALID_OPTION`
 * @internal
 */
export function resolveAskOptions(options: unknown): AskOptions {
  if (options === undefined) return {};
  expectOptionsObject('options', options);
  expectKnownKeys('', options, ASK_OPTION_KEYS);
  const { timeoutMs, signal } = options as AskOptions;
  expectOptionalTimerMs('timeoutMs', timeoutMs);
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('signal', 'an AbortSignal', signal);
  return { timeoutMs, signal };
}

/**
 * The error of an agent name no running agent has.
 * @internal
 */
export function unknownAgentError(name: unknown): MezanError {
  return new MezanError('E_AGENT_STOPPED', `No running agent is named ${describeValue(name)}`, { details: { agent: name } });
}
