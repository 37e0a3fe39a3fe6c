// Simulation speed: simulated task lifecycles per second of wall time, on a scenario of 100,000
// tasks with two resource pools, acquire timeouts, failures, retries and task timeouts. The
// simulation drives the real engine (the same machines and actors) in virtual time.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadScenario } from '../src/simulation/load-scenario';
import { simulate } from '../src/simulation/simulate';
import type { Scenario } from '../src/simulation/scenario';

/** What the simulation bench measured. */
export interface SimulationResult {
  readonly scenario: string;
  /** Tasks that reached a terminal status (children included). */
  readonly lifecycles: number;
  readonly wallMs: number;
  readonly virtualMs: number;
  readonly lifecyclesPerSecond: number;
  readonly events: number;
  readonly ok: boolean;
}

/**
 * Runs the 100,000-task scenario once (or a tenth of it with `quick`) and times it.
 * @param quick - scale the scenario's task counts down by 10
 */
export async function runSimulationBench(quick: boolean, log: (line: string) => void): Promise<SimulationResult> {
  const loaded = loadScenario(join(__dirname, '..', '..', 'bench', 'scenarios', 'lifecycles-100k.yaml'));
  const scenario: Scenario = quick ? scaleDown(loaded, 10) : loaded;
  log(`simulation: ${scenario.name}${quick ? ' (a tenth)' : ''}`);
  const start = performance.now();
  const report = await simulate(scenario, { seed: 1 });
  const wallMs = performance.now() - start;
  const lifecycles = Object.values(report.byStatus).reduce((sum, count) => sum + count, 0);
  return {
    scenario: scenario.name ?? 'scenario',
    lifecycles,
    wallMs,
    virtualMs: report.makespanMs,
    lifecyclesPerSecond: (lifecycles / wallMs) * 1000,
    events: report.events,
    ok: report.ok,
  };
}

function scaleDown(scenario: Scenario, factor: number): Scenario {
  return {
    ...scenario,
    tasks: (scenario.tasks ?? []).map((task) =>
      'generate' in task && task.generate.count !== undefined
        ? { generate: { ...task.generate, count: Math.ceil(task.generate.count / factor) } }
        : task,
    ),
  };
}
