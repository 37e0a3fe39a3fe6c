// Type tests of the public API, one block per entry, checked by `npm run typecheck` (not run by
// jest: a type that drifts fails the compilation). They import the sources of the entries; the
// packed package's declarations are compiled by consumers in test/package/package.test.ts.
import { expectTypeOf } from 'expect-type';
import type winston from 'winston';
import type { Observable } from 'rxjs';
import * as core from '../../src';
import {
  createEngine,
  createQuietLogger,
  Engine,
  isMezanError,
  MezanError,
  seededRandom,
  TaskHandle,
  VirtualClock,
  type Clock,
  type EngineEvent,
  type EngineOptions,
  type EngineProgress,
  type Logger,
  type MezanErrorCode,
  type RandomSource,
  type ShutdownReport,
  type TaskContext,
  type TaskFunction,
  type TaskOptions,
  type TaskStatus,
} from '../../src';
import * as simulation from '../../src/entries/simulation';
import type { Scenario, SimulateOptions, SimulationReport } from '../../src/entries/simulation';
import * as dashboard from '../../src/entries/dashboard';
import type { DashboardOptions, DashboardServer } from '../../src/entries/dashboard';
import * as metrics from '../../src/entries/metrics';
import type { MetricsSnapshot } from '../../src/entries/metrics';
import * as diagrams from '../../src/entries/diagrams';
import type { MachineName } from '../../src/entries/diagrams';

// mezan: the engine and its tasks.
expectTypeOf(createEngine).parameters.toEqualTypeOf<[options?: EngineOptions]>();
expectTypeOf(createEngine).returns.toEqualTypeOf<Engine>();
expectTypeOf<Engine['submit']>().toEqualTypeOf<{
  <T>(fn: (context: TaskContext) => T | PromiseLike<T>, options?: TaskOptions): TaskHandle<T>;
  <T = unknown>(task: string, options?: TaskOptions): TaskHandle<T>;
}>();
expectTypeOf(createEngine().submit(async () => 42)).toEqualTypeOf<TaskHandle<number>>();
expectTypeOf(createEngine().submit('resize', { input: { id: 42 } })).toEqualTypeOf<TaskHandle<unknown>>();
expectTypeOf(createEngine().submit<string>('resize')).toEqualTypeOf<TaskHandle<string>>();
expectTypeOf<Engine['define']>().parameters.toEqualTypeOf<[name: string, fn: TaskFunction]>();
expectTypeOf<TaskHandle<string>['result']>().toEqualTypeOf<Promise<string>>();
expectTypeOf<TaskHandle['status']>().toEqualTypeOf<TaskStatus>();
expectTypeOf<TaskHandle['cancel']>().returns.toEqualTypeOf<boolean>();
expectTypeOf<Engine['shutdown']>().returns.toEqualTypeOf<Promise<ShutdownReport>>();
expectTypeOf<Engine['metrics']>().returns.toEqualTypeOf<MetricsSnapshot>();
expectTypeOf<Engine['prometheus']>().returns.toEqualTypeOf<Promise<string>>();
expectTypeOf<Engine['serveDashboard']>().parameters.toEqualTypeOf<[options?: DashboardOptions]>();
expectTypeOf<Engine['serveDashboard']>().returns.toEqualTypeOf<Promise<DashboardServer>>();
expectTypeOf<Engine['clusterView']>().returns.toEqualTypeOf<Promise<core.ClusterView | undefined>>();
expectTypeOf<NonNullable<core.EngineOptions['cluster']>>().toEqualTypeOf<core.ClusterOptions>();
expectTypeOf<NonNullable<core.ClusterOptions['rateLimit']>>().toEqualTypeOf<core.ClusterRateLimit>();
expectTypeOf<Engine['onClusterReady']>().parameters.toEqualTypeOf<[options?: core.ClusterReadyOptions]>();
expectTypeOf<core.ClusterView['nodes'][number]['runningTasks']>().toEqualTypeOf<readonly core.ClusterRunningTask[]>();
expectTypeOf(createEngine().submitGraph({ a: { run: () => 'x' }, b: { run: async () => 1, dependsOn: ['a'] } })).toEqualTypeOf<{
  a: TaskHandle<string>;
  b: TaskHandle<number>;
}>();

// Agents: the handler's message and reply types carry to the handle.
const typedAgent = createEngine().spawnAgent({ name: 'typed', receive: async (n: number) => String(n) });
expectTypeOf(typedAgent).toEqualTypeOf<core.Agent<number, string>>();
expectTypeOf(typedAgent.ask).parameters.toEqualTypeOf<[message: number, options?: core.AskOptions]>();
expectTypeOf(typedAgent.ask).returns.toEqualTypeOf<Promise<string>>();
expectTypeOf(typedAgent.status).toEqualTypeOf<'idle' | 'busy' | 'restarting' | 'stopped'>();
expectTypeOf(typedAgent.stats()).toEqualTypeOf<core.AgentStats>();
expectTypeOf<core.AgentContext['from']>().toEqualTypeOf<string | undefined>();
expectTypeOf<Engine['agents']>().returns.toEqualTypeOf<core.Agent[]>();
expectTypeOf<core.MailboxOverflow>().toEqualTypeOf<'reject' | 'drop-oldest' | 'wait'>();

// Routers and teams: agents; a router's reward sees its arms' replies, its stats its arms.
const typedRouter = createEngine().router<number, string>({ name: 'r', arms: ['a'], reward: (outcome) => (outcome.value === undefined ? 0 : 1) });
expectTypeOf(typedRouter).toMatchTypeOf<core.Agent<number, string>>();
expectTypeOf(typedRouter.stats()).toEqualTypeOf<core.RouterStats>();
expectTypeOf(typedRouter.stats().arms).toEqualTypeOf<core.RouterArmStats[]>();
expectTypeOf<core.RewardFunction<string>>().parameter(0).toEqualTypeOf<core.RouterOutcome<string>>();
expectTypeOf<core.RouterOutcome<string>['value']>().toEqualTypeOf<string | undefined>();
expectTypeOf(createEngine().team<string, number>({ name: 't', members: ['a'], synthesizer: 's' })).toEqualTypeOf<core.Agent<string, number>>();
expectTypeOf<core.TeamOptions['onMemberFailure']>().toEqualTypeOf<core.MemberFailureMode | undefined>();
expectTypeOf<core.MemberFailureMode>().toEqualTypeOf<'placeholder' | 'fail'>();
expectTypeOf<core.TeamSynthesis<string, number>['results']>().toEqualTypeOf<readonly core.TeamMemberResult<number>[]>();

// Events narrow by type, as a `strict` consumer's switch does.
expectTypeOf<Engine['events$']>().toEqualTypeOf<Observable<EngineEvent>>();
expectTypeOf<Engine['progress$']>().toEqualTypeOf<Observable<EngineProgress>>();
expectTypeOf<Extract<EngineEvent, { type: 'task.completed' }>>().toHaveProperty('taskId').toEqualTypeOf<string>();
expectTypeOf<Extract<EngineEvent, { type: 'engine.idle' }>>().not.toHaveProperty('taskId');
expectTypeOf<EngineEvent['type']>().toExtend<string>();

// Errors: a code to switch on, and a guard.
expectTypeOf<MezanError>().toExtend<Error>();
expectTypeOf<MezanError['code']>().toEqualTypeOf<MezanErrorCode>();
expectTypeOf<'E_TIMEOUT'>().toExtend<MezanErrorCode>();
expectTypeOf<'E_NOT_A_CODE'>().not.toExtend<MezanErrorCode>();
expectTypeOf(isMezanError).guards.toEqualTypeOf<MezanError>();

// Time, randomness, logging: injected, and mezan's own Logger, which winston's logger satisfies.
expectTypeOf(new VirtualClock()).toExtend<Clock>();
expectTypeOf(seededRandom).returns.toEqualTypeOf<RandomSource>();
expectTypeOf(createQuietLogger).returns.toEqualTypeOf<Logger>();
expectTypeOf<winston.Logger>().toExtend<Logger>();
expectTypeOf({ error() {}, warn() {}, info() {}, debug() {}, child: (): Logger => createQuietLogger() }).toExtend<Logger>();
expectTypeOf<EngineOptions['logger']>().toEqualTypeOf<Logger | false | undefined>();

// The core entry holds none of the optional parts.
expectTypeOf(core).not.toHaveProperty('simulate');
expectTypeOf(core).not.toHaveProperty('parseScenario');
expectTypeOf(core).not.toHaveProperty('serveDashboard');
expectTypeOf(core).not.toHaveProperty('toMermaid');
expectTypeOf(core).not.toHaveProperty('supervisorMachine');

// mezan/simulation
expectTypeOf(simulation.simulate).parameters.toEqualTypeOf<[scenario: Scenario, options?: SimulateOptions]>();
expectTypeOf(simulation.simulate).returns.toEqualTypeOf<Promise<SimulationReport>>();
expectTypeOf(simulation.parseScenario).returns.toEqualTypeOf<Scenario>();
expectTypeOf(simulation.loadScenario).returns.toEqualTypeOf<Scenario>();
expectTypeOf<SimulationReport['ok']>().toEqualTypeOf<boolean>();
expectTypeOf<SimulationReport['traceHash']>().toEqualTypeOf<string>();

// mezan/dashboard
expectTypeOf<Engine>().toExtend<Parameters<typeof dashboard.serveDashboard>[0]>();
expectTypeOf(dashboard.serveDashboard).returns.toEqualTypeOf<Promise<DashboardServer>>();
expectTypeOf<DashboardServer['url']>().toEqualTypeOf<string>();

// mezan/diagrams
expectTypeOf(diagrams.toMermaid).returns.toEqualTypeOf<string>();
expectTypeOf(diagrams.toDot).returns.toEqualTypeOf<string>();
expectTypeOf(diagrams.dotToSvg).returns.toEqualTypeOf<Promise<string>>();
expectTypeOf(diagrams.MACHINE_NAMES).toEqualTypeOf<readonly MachineName[]>();
expectTypeOf<MachineName>().toEqualTypeOf<'supervisor' | 'executor' | 'worker' | 'resource' | 'detector' | 'shutdown' | 'monitor' | 'agent'>();

// mezan/metrics
expectTypeOf(metrics.renderPrometheus).parameters.toEqualTypeOf<[snapshot: MetricsSnapshot]>();
expectTypeOf(metrics.renderPrometheus).returns.toEqualTypeOf<string>();
expectTypeOf(metrics.DURATION_BUCKETS_MS).toEqualTypeOf<readonly number[]>();
expectTypeOf<metrics.DurationSummary['buckets']>().toEqualTypeOf<readonly metrics.DurationBucket[]>();
