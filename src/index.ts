/**
 * The public surface of `mezan`: the core (the engine, tasks, events, errors, clocks, randomness,
 * the logger interface), which loads nothing it does not use. The optional parts have their own
 * entries in src/entries/ (`mezan/simulation`, `mezan/dashboard`, `mezan/metrics`,
 * `mezan/diagrams`); everything else is internal.
 *
 * @module mezan
 */

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
  NamedTaskFunctions,
} from './engine-options';
export type { TelemetryOptions, TelemetryTracer, TelemetrySpan } from './telemetry/telemetry-options';
export type { ClusterOptions, ClusterRateLimit, ClusterReadyOptions } from './cluster/cluster-options';
export type { DeadlockReport } from './detection/deadlock-resolver';
export type { DeadlockCandidate } from './detection/deadlock-policy';
export type { WaitForGraphSnapshot, WaitForNode, WaitForEdge } from './detection/wait-for-graph';
export { ENGINE_DEFAULTS } from './engine-options';
export type { EngineProgress, EngineStats, WorkerSnapshot, ShutdownReport, ShutdownPhase, ClusterTaskCounts } from './engine-snapshots';
export type { WorkerStats } from '../actors/worker.actor';

// Metrics, alerts and the dashboard's types (`engine.metrics()`, `engine.serveDashboard()`)
export type { AgentMetrics, MetricsSnapshot, ResourceMetrics, WorkerMetrics } from './metrics/metrics-snapshot';
export type { DurationSummary, DurationBucket } from './metrics/duration-histogram';
export type { AlertRecord } from './metrics/alert-book';
export type { DashboardOptions } from './dashboard/dashboard-options';
export type { DashboardServer } from './dashboard/serve-dashboard';
export type {
  ClusterView,
  ClusterViewNode,
  ClusterViewPool,
  ClusterViewEdge,
  ClusterPoolShare,
  ClusterRunningTask,
  ClusterMember,
  ClusterNodeWorker,
  ClusterNodePool,
} from './cluster/cluster-view';

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
export { inThread } from './threads/in-thread';
export type { InThreadOptions } from './threads/in-thread';

// Agents
export { AGENT_DEFAULTS } from './agents/agent-options';
export type { AgentOptions, MailboxOptions, MailboxOverflow, AgentRestartOptions, AskOptions } from './agents/agent-options';
export type { AgentCommonOptions, HandlerAgentOptions, MachineAgentOptions, MachineTaking } from './agents/agent-options';
export { reply, MACHINE_REPLY } from './agents/reply';
export type { MachineReplyEvent, ReplyOptions, ReplyValue } from './agents/reply';
export type { Agent } from './agents/agent';
export { SUPERVISE_DEFAULTS } from './agents/agent-supervision';
export type { SuperviseOptions, SupervisionStrategy } from './agents/agent-supervision';
export type { AgentContext, AgentHandler, AgentOrName } from './agents/agent-context';
export type { AgentStats, AgentStatus } from '../actors/agent.actor';

// Routers and teams (`engine.router`, `engine.team`)
export type { Router } from './agents/router';
export type { LayerAgentOptions } from './agents/layer-agent-options';
export { ROUTER_DEFAULTS } from './agents/router-options';
export type { RouterOptions, RouterStats, RouterArmStats } from './agents/router-options';
export type { BanditStrategy, EpsilonGreedyStrategy } from './agents/bandit/bandit-strategy';
export { defaultReward } from './agents/bandit/router-reward';
export type { RouterOutcome, RewardFunction } from './agents/bandit/router-reward';
export { TEAM_DEFAULTS } from './agents/team-options';
export type { TeamOptions, TeamMemberResult, TeamSynthesis, MemberFailureMode } from './agents/team-options';

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
export type { Logger, LogDetails } from './logger';
