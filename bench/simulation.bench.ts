// Simulation speed: simulated task lifecycles per second of wall time, on a scenario of 100,000
// tasks with two resource pools, acquire timeouts, failures, retries and task timeouts. The
// simulation drives the real engine (the same machines and actors) in virtual time.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadScenario } from '../src/simulation/load-scenario';
import { simulate, type SimulationReport } from '../src/simulation/simulate';
import { collectGarbage } from './collect-garbage';
import type { Scenario } from '../src/simulation/scenario';

/** What the simulation bench measured. */
export interface SimulationResult {
  readonly scenario: string;
  /** Tasks that reached a terminal status (children included), in each run. */
  readonly lifecycles: number;
  /** The wall time of the median run. */
  readonly wallMs: number;
  readonly virtualMs: number;
  /** The median of the runs' lifecycles per wall second. */
  readonly lifecyclesPerSecond: number;
  /** Each run's lifecycles per wall second, in the order they ran. */
  readonly runs: readonly number[];
  readonly events: number;
  /** Whether every run's expectations held and every run made the same trace. */
  readonly ok: boolean;
}

/** Runs of the full scenario: one run's figure moves by a third from run to run on a shared machine. */
const FULL_RUNS = 5;
/** The warm-up is the scenario scaled down by this: enough for the JIT to compile the simulation's paths. */
const WARM_UP_SCALE = 10;

/**
 * Runs the 100,000-task scenario 5 times (a tenth of it once, with `quick`), timing each run, and
 * reports the median. The full runs come after an untimed run of a tenth of the scenario, as the
 * workload table warms up before its timed runs: the first run otherwise paid for compiling the
 * simulation's code (about a third of its time).
 * @param quick - scale the scenario's task counts down by 10
 */
export async function runSimulationBench(quick: boolean, log: (line: string) => void): Promise<SimulationResult> {
  const loaded = loadScenario(join(__dirname, '..', '..', 'bench', 'scenarios', 'lifecycles-100k.yaml'));
  const scenario: Scenario = quick ? scaleDown(loaded, WARM_UP_SCALE) : loaded;
  const runs = quick ? 1 : FULL_RUNS;
  if (!quick) await simulate(scaleDown(loaded, WARM_UP_SCALE), { seed: 1 });
  const timed: Array<{ readonly wallMs: number; readonly perSecond: number; readonly report: SimulationReport }> = [];
  for (let run = 1; run <= runs; run++) {
    collectGarbage();
    const start = performance.now();
    const report = await simulate(scenario, { seed: 1 });
    const wallMs = performance.now() - start;
    const perSecond = (lifecyclesOf(report) / wallMs) * 1000;
    log(`simulation: ${scenario.name}${quick ? ' (a tenth)' : ''}, run ${run}/${runs}: ${Math.round(perSecond)} lifecycles/s`);
    timed.push({ wallMs, perSecond, report });
  }
  const middle = [...timed].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(timed.length / 2)]!;
  const { report } = middle;
  return {
    scenario: scenario.name ?? 'scenario',
    lifecycles: lifecyclesOf(report),
    wallMs: middle.wallMs,
    virtualMs: report.makespanMs,
    lifecyclesPerSecond: middle.perSecond,
    runs: timed.map((entry) => entry.perSecond),
    events: report.events,
    ok: timed.every((entry) => entry.report.ok && entry.report.traceHash === report.traceHash),
  };
}

function lifecyclesOf(report: SimulationReport): number {
  return Object.values(report.byStatus).reduce((sum, count) => sum + count, 0);
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
