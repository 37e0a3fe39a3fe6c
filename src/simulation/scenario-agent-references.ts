/**
 * What the schema cannot check about a scenario's agents: the names that steps, messages, faults and
 * expectations give must be agents the file declares, and a handler's script must not go on after
 * its `reply`.
 */
import { AGENT_EXPECTATION_PATTERN } from './scenario-schema';
import { checkDuration, type Problem, type Segment } from './scenario-problem';
import type { AgentStep, Scenario, Step, TaskTemplate } from './scenario';

/**
 * The first problem with the scenario's agents and the references to them, or `undefined`.
 * @internal
 */
export function checkAgentReferences(scenario: Scenario): Problem | undefined {
  const agents = new Map<string, number>();
  for (const [index, agent] of (scenario.agents ?? []).entries()) {
    const first = agents.get(agent.name);
    if (first !== undefined)
      return { segments: ['agents', index, 'name'], reason: `duplicate agent name ${JSON.stringify(agent.name)} (also agents[${first}])` };
    agents.set(agent.name, index);
  }
  const agentList = agents.size === 0 ? 'none is declared in agents' : `agents: ${[...agents.keys()].join(', ')}`;
  const known = (name: string, segments: readonly Segment[]): Problem | undefined =>
    agents.has(name) ? undefined : { segments, reason: `unknown agent ${JSON.stringify(name)} (${agentList})` };
  /** The agent an `ask` or `send` (a step or a message) names. */
  const target = (entry: object, at: readonly Segment[]): Problem | undefined => {
    if ('ask' in entry) return known(entry.ask as string, [...at, 'ask']);
    if ('send' in entry) return known(entry.send as string, [...at, 'send']);
    return undefined;
  };

  const resources = new Map<string, number>();
  for (const [name, spec] of Object.entries(scenario.engine?.resources ?? {})) resources.set(name, typeof spec === 'number' ? spec : spec.capacity);
  const resourceList = resources.size === 0 ? 'none are declared in engine.resources' : `resources: ${[...resources.keys()].join(', ')}`;
  /** A handler's `acquire` or `release`, as a task's is checked: a declared pool, within its capacity, a lease to give back. */
  const pool = (
    step: { acquire: string; units?: number } | { release: string },
    at: readonly Segment[],
    held: Map<string, number>,
  ): Problem | undefined => {
    const name = 'acquire' in step ? step.acquire : step.release;
    const capacity = resources.get(name);
    const kind = 'acquire' in step ? 'acquire' : 'release';
    if (capacity === undefined) return { segments: [...at, kind], reason: `unknown resource ${JSON.stringify(name)} (${resourceList})` };
    if ('acquire' in step) {
      if ((step.units ?? 1) > capacity)
        return { segments: [...at, 'units'], reason: `asks for ${step.units} units but ${JSON.stringify(name)} has a capacity of ${capacity}` };
      held.set(name, (held.get(name) ?? 0) + 1);
      return undefined;
    }
    const leases = held.get(name) ?? 0;
    if (leases === 0)
      return { segments: [...at, 'release'], reason: `no lease of ${JSON.stringify(name)} is held here (acquire it in an earlier step)` };
    held.set(name, leases - 1);
    return undefined;
  };

  for (const [index, agent] of (scenario.agents ?? []).entries()) {
    const problem = checkHandlerScript(agent.steps, ['agents', index, 'steps'], target, pool);
    if (problem !== undefined) return problem;
  }

  const checkTemplate = (template: TaskTemplate, at: readonly Segment[]): Problem | undefined => {
    for (const [index, step] of template.steps.entries()) {
      const here = [...at, 'steps', index];
      const problem = 'spawn' in step ? checkTemplate(step.spawn, [...here, 'spawn']) : target(step as Step, here);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  for (const [index, entry] of (scenario.tasks ?? []).entries()) {
    const problem = 'generate' in entry ? checkTemplate(entry.generate, ['tasks', index, 'generate']) : checkTemplate(entry, ['tasks', index]);
    if (problem !== undefined) return problem;
  }

  for (const [index, message] of (scenario.messages ?? []).entries()) {
    const problem = target(message, ['messages', index]);
    if (problem !== undefined) return problem;
    if (message.times !== undefined && (message.at !== undefined || message.count !== undefined || message.rate !== undefined)) {
      return { segments: ['messages', index, 'times'], reason: '`times` goes without `at`, `count` and `rate`' };
    }
  }

  for (const [index, fault] of (scenario.faults ?? []).entries()) {
    if (!('crash' in fault) || typeof fault.crash === 'string') continue;
    const problem = known(fault.crash.agent, ['faults', index, 'crash', 'agent']);
    if (problem !== undefined) return problem;
  }

  for (const name of Object.keys(scenario.expect ?? {})) {
    const match = AGENT_EXPECTATION_PATTERN.exec(name);
    if (match === null) continue;
    const problem = known(match[1]!, ['expect', name]);
    if (problem !== undefined) return { ...problem, atKey: true };
  }
  return undefined;
}

/** A handler's script: its durations, the agents and pools it names, and nothing after a `reply`. */
function checkHandlerScript(
  steps: readonly AgentStep[],
  at: readonly Segment[],
  target: (entry: object, at: readonly Segment[]) => Problem | undefined,
  pool: (step: { acquire: string; units?: number } | { release: string }, at: readonly Segment[], held: Map<string, number>) => Problem | undefined,
): Problem | undefined {
  const held = new Map<string, number>();
  let replied: number | undefined;
  for (const [index, step] of steps.entries()) {
    const here = [...at, index];
    if (replied !== undefined)
      return { segments: here, reason: `comes after the reply of steps[${replied}], which ends the handling: it would never run` };
    if ('reply' in step) replied = index;
    const problem =
      'work' in step
        ? checkDuration(step.work, [...here, 'work'])
        : 'acquire' in step || 'release' in step
          ? pool(step, here, held)
          : target(step, here);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
