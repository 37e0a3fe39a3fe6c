// The public surface of mezan. Everything else is internal.

// Engine
export { createEngine, Engine } from './engine';
export type { EngineFault, EngineActor } from './engine';
export type {
  EngineOptions,
  SupervisionOptions,
  ShutdownOptions,
  ShutdownRequestOptions,
  DrainMode,
  ResourceOptions,
  RateLimitOptions,
  DeadlockOptions,
  DeadlockPolicy,
  LockOrderMode,
  MetricsOptions,
  TimingsMode,
  AlertThresholds,
  InspectionObserver,
} from './engine-options';
export type { DeadlockReport } from './detection/deadlock-resolver';
export type { DeadlockCandidate } from './detection/deadlock-policy';
export type { WaitForGraphSnapshot, WaitForNode, WaitForEdge } from './detection/wait-for-graph';
export { ENGINE_DEFAULTS } from './engine-options';
export type { EngineProgress, EngineStats, WorkerSnapshot, ShutdownReport, ShutdownPhase } from './engine-snapshots';

// Metrics and alerts
export type { MetricsSnapshot, ResourceMetrics, WorkerMetrics } from './metrics/metrics-snapshot';
export type { DurationSummary } from './metrics/duration-histogram';
export type { AlertRecord } from './metrics/alert-book';

// Tasks
export { TaskHandle } from './task-handle';
export type {
  TaskContext,
  TaskFunction,
  TaskOptions,
  RetryOptions,
  BackoffKind,
  TaskGraphNode,
  AcquireOptions,
  AwaitOptions,
  Lease,
  Dependency,
  DependencySpec,
  DependencyOutcome,
} from './task-options';
export type { TaskStatus, TerminalTaskStatus } from './task-status';
export { isTerminalStatus } from './task-status';

// Events
export type * from './engine-events';

// Errors
export { MezanError, isMezanError } from './errors';
export type { MezanErrorCode, MezanErrorDetails } from './errors';

// Time, randomness, logging
export { realClock } from './clock';
export type { Clock } from './clock';
export { VirtualClock } from './virtual-clock';
export { seededRandom, defaultRandom } from './random';
export type { RandomSource } from './random';
export { createQuietLogger } from './logger';
export type { Logger } from './logger';

// Simulation
export { simulate } from './simulation/simulate';
export type { SimulateOptions, SimulationReport } from './simulation/simulate';
export type { ExpectationResult } from './simulation/expectations';
export { loadScenario, parseScenario } from './simulation/load-scenario';
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
} from './simulation/scenario';

// Dashboard and diagrams
export type { DashboardOptions } from './dashboard/dashboard-options';
export type { DashboardServer } from './dashboard/serve-dashboard';
export { serveDashboard } from './dashboard/serve-dashboard';
export { describeMachine, toMermaid, toDot, toJson } from './visualization/machine-diagram';
export { MEZAN_MACHINES, MACHINE_NAMES } from './visualization/machines';

// Machines, for drawing and inspection
export { executorMachine } from '../machines/executor.machine';
export { workerMachine } from '../machines/worker.machine';
export { supervisorMachine } from '../machines/supervisor.machine';
export { shutdownMachine } from '../machines/shutdown.machine';
export { resourceMachine } from '../machines/resource.machine';
export { monitorMachine } from '../machines/monitor.machine';
export { detectorMachine } from '../machines/detector.machine';
export type { WorkerStats } from '../actors/worker.actor';
