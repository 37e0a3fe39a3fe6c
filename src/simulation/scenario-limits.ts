import { MezanError } from '../errors';
import type { Scenario } from './scenario';

/** How many top-level tasks a scenario may make (explicit ones and those of `generate` blocks), unless raised. */
export const DEFAULT_MAX_SCENARIO_TASKS = 1_000_000;

/** How large a scenario file may be, in bytes, unless raised: 16 MiB. */
export const DEFAULT_MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

/**
 * Refuses a scenario that would make more than `maxTasks` top-level tasks: a run prepares every
 * arrival up front, so a count of a trillion would block the event loop and exhaust memory before the
 * first task ran. The message names the largest `generate` block.
 *
 * @throws MezanError `E_INVALID_SCENARIO` over the limit
 * @internal
 */
export function checkScenarioTaskCount(scenario: Scenario, maxTasks: number = DEFAULT_MAX_SCENARIO_TASKS): void {
  let total = 0;
  let largest: { readonly index: number; readonly count: number } | undefined;
  (scenario.tasks ?? []).forEach((entry, index) => {
    const count = 'generate' in entry ? (entry.generate.times?.length ?? entry.generate.count ?? 0) : 1;
    total += count;
    if ('generate' in entry && (largest === undefined || count > largest.count)) largest = { index, count };
  });
  checkScenarioMessageCount(scenario, maxTasks);
  if (total <= maxTasks) return;
  const where = largest === undefined ? '' : ` (tasks[${largest.index}].generate makes ${largest.count.toLocaleString('en-US')})`;
  const name = scenario.file ?? scenario.name ?? 'the scenario';
  throw new MezanError(
    'E_INVALID_SCENARIO',
    `${name}: makes ${total.toLocaleString('en-US')} tasks${where}, over the limit of ${maxTasks.toLocaleString('en-US')}; raise it with --max-tasks (or the maxTasks option)`,
    { details: { file: scenario.file, path: 'tasks', reason: 'too many tasks', total, limit: maxTasks } },
  );
}

/**
 * Refuses a scenario whose `messages` would give more than `maxMessages` messages: their arrivals
 * are prepared up front too, so they are held to the same limit as the tasks, on their own.
 */
function checkScenarioMessageCount(scenario: Scenario, maxMessages: number): void {
  let total = 0;
  let largest: { readonly index: number; readonly count: number } | undefined;
  (scenario.messages ?? []).forEach((message, index) => {
    const count = message.times?.length ?? message.count ?? 1;
    total += count;
    if (largest === undefined || count > largest.count) largest = { index, count };
  });
  if (total <= maxMessages) return;
  const where = largest === undefined ? '' : ` (messages[${largest.index}] gives ${largest.count.toLocaleString('en-US')})`;
  const name = scenario.file ?? scenario.name ?? 'the scenario';
  throw new MezanError(
    'E_INVALID_SCENARIO',
    `${name}: gives ${total.toLocaleString('en-US')} messages${where}, over the limit of ${maxMessages.toLocaleString('en-US')}; raise it with --max-tasks (or the maxTasks option), which bounds the messages too`,
    { details: { file: scenario.file, path: 'messages', reason: 'too many messages', total, limit: maxMessages } },
  );
}
