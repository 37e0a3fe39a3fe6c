/**
 * The public surface of `mezan/simulation`: scripted, seeded, replayable runs of an engine in
 * virtual time, from a scenario object or a YAML/JSON file. Loads the scenario parser (yaml, ajv).
 *
 * @module mezan/simulation
 */

export { simulate } from '../simulation/simulate';
export type { SimulateOptions, SimulationReport, SimulationIncidents } from '../simulation/simulate';
export type { ExpectationResult } from '../simulation/expectations';
export { loadScenario, parseScenario } from '../simulation/load-scenario';
export type { ScenarioFileLimits } from '../simulation/load-scenario';
export { SCENARIO_SCHEMA } from '../simulation/scenario-schema';
export type {
  Scenario,
  ScenarioTask,
  TaskTemplate,
  TaskGenerator,
  Step,
  Fault,
  Duration,
  Expectation,
  ScenarioDependency,
  ScenarioAgent,
  AgentStep,
  AskStep,
  SendStep,
  AskFailure,
  ScenarioMessage,
  ScenarioMessageArrivals,
} from '../simulation/scenario';
export type { ScenarioAskCounts } from '../simulation/scenario-agents';
