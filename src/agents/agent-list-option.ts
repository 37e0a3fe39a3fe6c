import type { AgentOrName } from './agent-context';
import { fail } from '../internal/validate';

/**
 * Checks an option that names the agents a layer talks to (a router's `arms`, a team's `members`):
 * a non-empty array of running agents of this engine, or of names (looked up at each ask, so an
 * agent spawned later under that name is found).
 *
 * @param option - the option's name, for the errors
 * @param value - what the caller passed
 * @param lookup - the engine's running agent of a name, to tell its own handles from anything else
 * @param self - the name of the layer's own agent, which it may not talk to (it would wait for itself)
 * @returns a copy of the array, and each entry's name
 * @throws {MezanError} `E_INVALID_OPTION` naming the entry at fault (`arms[1]`)
 * @internal
 */
export function resolveAgentList(
  option: string,
  value: unknown,
  lookup: (name: string) => unknown,
  self: unknown,
): { readonly agents: readonly AgentOrName[]; readonly names: readonly string[] } {
  if (!Array.isArray(value) || value.length === 0) fail(option, 'a non-empty array of agents or agent names', value);
  const agents = [...(value as unknown[])].map((entry, index) => resolveAgentOrName(`${option}[${index}]`, entry, lookup, self));
  return { agents, names: agents.map((agent) => (typeof agent === 'string' ? agent : agent.name)) };
}

/**
 * Checks one agent-or-name option.
 * @throws {MezanError} `E_INVALID_OPTION` for anything but a non-empty name or a running agent of
 * this engine, and for the layer's own name `self`
 * @internal
 */
export function resolveAgentOrName(option: string, value: unknown, lookup: (name: string) => unknown, self: unknown): AgentOrName {
  if (typeof value === 'string') {
    if (value.trim().length === 0) fail(option, 'a non-empty agent name', value);
    if (value === self) fail(option, 'an agent other than the one being made (it would wait for itself)', value);
    return value;
  }
  const name = typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined;
  // Only the engine's own handle can be asked by reference; a stopped one (or another engine's) would fail every ask.
  if (typeof name !== 'string' || lookup(name) !== value) fail(option, 'an agent name, or a running agent of this engine', value);
  return value as AgentOrName;
}
