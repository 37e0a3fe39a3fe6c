import type { Scenario } from './scenario';

/**
 * What a scenario still writes the old way: one message per deprecated field it uses, for
 * `report.warnings` and the CLI, as the engine warns once through its logger for the same options.
 *
 * @param scenario - a scenario, as `loadScenario` returns it
 * @returns the warnings, in the order of the fields; empty when there is nothing to say
 * @example
 * ```ts
 * scenarioWarnings(parseScenario('engine: { workers: 2 }\n'));
 * // ['engine.workers is deprecated: use engine.concurrency (the number of tasks that run at once); read as concurrency: 2']
 * ```
 */
export function scenarioWarnings(scenario: Scenario): string[] {
  const warnings: string[] = [];
  const workers = scenario.engine?.workers;
  if (workers !== undefined) {
    warnings.push(`engine.workers is deprecated: use engine.concurrency (the number of tasks that run at once); read as concurrency: ${workers}`);
  }
  return warnings;
}
