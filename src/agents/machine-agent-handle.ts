import type { EventObject } from 'xstate';
import type { AgentRef } from '../../actors/agent.actor';
import { AgentHandle, type AgentHandlePort } from './agent';
import { MezanError } from '../errors';
import { describeThrown } from '../internal/describe-thrown';
import { fail, isOptionsObject } from '../internal/validate';

/**
 * The event a machine agent's machine receives for `message`: a copy of its own enumerable
 * properties, taken when it is sent, so that nothing the sender does afterwards (a change, a getter
 * or a `Proxy` trap that throws) reaches the machine.
 *
 * @throws {MezanError} `E_INVALID_OPTION` (`details.option` `'message'`) unless `message` is an
 *   object with a non-empty string `type` that does not start with `xstate.` (XState's own events,
 *   `xstate.stop` among them, are not messages)
 * @internal
 */
export function toMachineEvent(message: unknown): EventObject {
  if (!isOptionsObject(message)) fail('message', 'an event object { type, ... }', message);
  let event: { type?: unknown };
  try {
    event = { ...message };
  } catch (error) {
    throw new MezanError('E_INVALID_OPTION', `Reading the message threw: ${describeThrown(error)}`, { cause: error, details: { option: 'message' } });
  }
  const type = event.type;
  if (typeof type !== 'string' || type.length === 0) fail('message.type', 'a non-empty string', type);
  if (type.startsWith('xstate.')) fail('message.type', 'a type that does not start with `xstate.` (XState keeps those)', type);
  return event as EventObject;
}

/**
 * The handle of a machine agent: it refuses what is no event before it reaches the agent (an ask
 * rejects, a send throws, with `E_INVALID_OPTION`), and delivers a copy of each message.
 * @internal
 */
export class MachineAgentHandle<M = unknown, R = unknown> extends AgentHandle<M, R> {
  constructor(name: string, ref: AgentRef, port: AgentHandlePort, mailboxCapacity: number) {
    super(name, ref, port, mailboxCapacity, toMachineEvent);
  }
}
