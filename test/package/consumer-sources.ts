/**
 * The small programs that use mezan as an installed package, written into a consumer project by
 * test/package/package.test.ts: TypeScript that must compile under `strict` with each module
 * resolution, and JavaScript that runs as an ES module, as CommonJS, and as both in one process.
 */

/** A scenario small enough to simulate in a moment: two tasks, one resource. */
const SCENARIO = JSON.stringify({
  name: 'consumer',
  engine: { concurrency: 2, resources: { db: 1 } },
  tasks: [
    { id: 'a', steps: [{ acquire: 'db' }, { work: 10 }] },
    { id: 'b', steps: [{ acquire: 'db' }, { work: 10 }] },
  ],
  expect: { completed: 2 },
});

/**
 * A TypeScript program using every entry the way an application would, strict-clean. The same text
 * compiles as an ES module (`.mts`, `.ts` under `bundler`) and as CommonJS (`.cts`).
 */
export const TYPESCRIPT_CONSUMER = `
import { createEngine, isMezanError, MezanError, seededRandom, VirtualClock } from 'mezan';
import type { EngineEvent, Logger, MezanErrorCode, TaskContext, TaskHandle, TaskOptions } from 'mezan';
import { loadScenario, parseScenario, simulate } from 'mezan/simulation';
import type { Scenario, SimulationReport } from 'mezan/simulation';
import { serveDashboard } from 'mezan/dashboard';
import type { DashboardServer } from 'mezan/dashboard';
import { renderPrometheus } from 'mezan/metrics';
import type { MetricsSnapshot } from 'mezan/metrics';
import { MACHINE_NAMES, MEZAN_MACHINES, toDot, toMermaid } from 'mezan/diagrams';
import type { MachineName } from 'mezan/diagrams';
// @ts-expect-error: simulations are not part of the core entry
import { simulate as notInTheCore } from 'mezan';

const logger: Logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => logger };

export async function run(): Promise<string[]> {
  const seen: string[] = [];
  const engine = createEngine({ concurrency: 2, clock: new VirtualClock(), random: seededRandom(7), logger });
  engine.events$.subscribe((event: EngineEvent) => {
    if (event.type === 'task.completed') seen.push(event.taskId);
  });
  const options: TaskOptions = { name: 'answer', retries: { max: 1, delayMs: 5 } };
  const handle: TaskHandle<number> = engine.submit(async (ctx: TaskContext) => {
    ctx.progress(1, 'done');
    return 42;
  }, options);
  const value: number = await handle.result;
  try {
    createEngine({ concurrency: 0 });
  } catch (error) {
    if (error instanceof MezanError) {
      const code: MezanErrorCode = error.code;
      seen.push(code);
    }
    if (isMezanError(error)) seen.push(error.message);
  }
  const metrics: MetricsSnapshot = engine.metrics();
  const prometheus: string = renderPrometheus(metrics);
  await engine.shutdown();
  const scenario: Scenario = parseScenario(${JSON.stringify(SCENARIO)});
  const report: SimulationReport = await simulate(scenario, { seed: 1 });
  const name: MachineName = MACHINE_NAMES[0] ?? 'supervisor';
  const drawings: string[] = [toMermaid(MEZAN_MACHINES[name]), toDot(MEZAN_MACHINES[name])];
  const serve: (engine: Parameters<typeof serveDashboard>[0]) => Promise<DashboardServer> = serveDashboard;
  void [loadScenario, serve, notInTheCore];
  return [String(value), String(metrics.submitted), prometheus, String(report.ok), ...seen, ...drawings];
}
`;

/** What every JavaScript consumer does with the entries it was given: a task, a refused option, a simulation, a drawing. */
const EXERCISE = `
async function exercise({ core, simulation, diagrams, dashboard, metrics }) {
  const engine = core.createEngine({ concurrency: 2, clock: new core.VirtualClock(), logger: false });
  const answer = await engine.submit(async () => 42).result;
  const prometheus = metrics.renderPrometheus(engine.metrics());
  await engine.shutdown();
  let refused;
  try {
    core.createEngine({ concurrency: 0 });
  } catch (error) {
    refused = error instanceof core.MezanError ? error.code : 'not a MezanError';
  }
  const report = await simulation.simulate(simulation.parseScenario(${JSON.stringify(SCENARIO)}), { seed: 1 });
  return {
    answer,
    refused,
    simulated: report.ok,
    drawn: diagrams.toMermaid(diagrams.MEZAN_MACHINES.supervisor).startsWith('stateDiagram'),
    dashboard: typeof dashboard.serveDashboard,
    prometheus: prometheus.includes('mezan_tasks_submitted_total 1'),
  };
}
`;

/** An ES module importing every entry by name. */
export const ESM_CONSUMER = `
import * as core from 'mezan';
import * as simulation from 'mezan/simulation';
import * as diagrams from 'mezan/diagrams';
import * as dashboard from 'mezan/dashboard';
import * as metrics from 'mezan/metrics';
import { createEngine, MezanError } from 'mezan';
import { simulate } from 'mezan/simulation';
${EXERCISE}
const named = typeof createEngine === 'function' && typeof MezanError === 'function' && typeof simulate === 'function';
console.log(JSON.stringify({ named, ...(await exercise({ core, simulation, diagrams, dashboard, metrics })) }));
`;

/** A CommonJS module requiring every entry, and the scenario schema. */
export const CJS_CONSUMER = `
const core = require('mezan');
const simulation = require('mezan/simulation');
const diagrams = require('mezan/diagrams');
const dashboard = require('mezan/dashboard');
const metrics = require('mezan/metrics');
const schema = require('mezan/scenario.schema.json');
${EXERCISE}
exercise({ core, simulation, diagrams, dashboard, metrics }).then((result) => {
  console.log(JSON.stringify({ named: true, schema: schema.$schema, ...result }));
});
`;

/**
 * An ES module that also requires mezan: both must be the same module, so an error made by one
 * is an instance of the other's class, and each entry exports the same names in both formats.
 */
export const MIXED_CONSUMER = `
import { createRequire } from 'node:module';
import * as imported from 'mezan';
import * as importedSimulation from 'mezan/simulation';
const require = createRequire(import.meta.url);
const required = require('mezan');
const requiredSimulation = require('mezan/simulation');
const sameNames = {};
for (const entry of ['mezan', 'mezan/simulation', 'mezan/dashboard', 'mezan/metrics', 'mezan/diagrams']) {
  const names = (namespace) => JSON.stringify(Object.keys(namespace).filter((name) => name !== '__esModule').sort());
  sameNames[entry] = names(await import(entry)) === names(require(entry));
}
function refusal(core) {
  try {
    core.createEngine({ concurrency: 0 });
  } catch (error) {
    return error;
  }
}
const fromImport = refusal(imported);
const fromRequire = refusal(required);
console.log(JSON.stringify({
  sameClass: imported.MezanError === required.MezanError,
  sameEngine: imported.Engine === required.Engine,
  sameSimulate: importedSimulation.simulate === requiredSimulation.simulate,
  requiredIsImported: fromRequire instanceof imported.MezanError,
  importedIsRequired: fromImport instanceof required.MezanError,
  guards: [imported.isMezanError(fromRequire), required.isMezanError(fromImport)],
  sameNames,
}));
`;

/** Lists the packages (from node_modules) that loading the core entry loaded, in either format. */
function coreLoads(load: string): string {
  return `
${load}
const { sep } = require('node:path');
const loaded = new Set();
for (const file of Object.keys(require.cache)) {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) continue;
  const name = parts[at + 1].startsWith('@') ? parts[at + 1] + '/' + parts[at + 2] : parts[at + 1];
  if (name !== 'mezan') loaded.add(name);
}
console.log(JSON.stringify([...loaded].sort()));
`;
}

/** A CommonJS module that requires only the core and lists the packages that came with it. */
export const CJS_CORE_LOADS = coreLoads(`require('mezan');`);

/** An ES module that imports only the core and lists the packages that came with it. */
export const ESM_CORE_LOADS = coreLoads(
  `import 'mezan';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);`,
);
