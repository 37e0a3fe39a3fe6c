import type { EngineProgress, ShutdownReport } from '../engine-snapshots';
import type { DeadlockReport } from '../detection/deadlock-resolver';
import type { EngineEvent } from '../engine-events';
import type { TerminalTaskStatus } from '../task-status';
import { evaluateExpectations, type ExpectationResult } from './expectations';
import type { Scenario } from './scenario';
import { scenarioWarnings } from './scenario-warnings';
import type { AlertRecord } from '../metrics/alert-book';
import { ScenarioRun } from './scenario-run';
import { TraceRecorder } from './trace-recorder';
import type { AgentStats } from '../../actors/agent.actor';
import type { ScenarioAskCounts } from './scenario-agents';

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The seed of every random draw (durations, failures, arrivals, jitter). @default 1 */
  seed?: number;
  /** Writes the trace, JSON lines of engine events in virtual time, to this file. */
  trace?: string;
  /** Virtual time after which the run is shut down with `force`. @default 86_400_000 (a day) */
  maxVirtualMs?: number;
  /** Called now and then with the engine's progress (for a progress bar). */
  onProgress?: (progress: EngineProgress) => void;
  /** The most top-level tasks the scenario may make. @default 1,000,000 */
  maxTasks?: number;
}

/** What a simulation found. The same scenario and seed give the same report and the same trace. */
export interface SimulationReport {
  /** The scenario's name, or its file. */
  readonly scenario: string;
  /** The seed the run used. */
  readonly seed: number;
  /** `true` when every expectation held. */
  readonly ok: boolean;
  /** Virtual time from the start to the last task's end. */
  readonly makespanMs: number;
  /** Tasks by terminal status (children included). */
  readonly byStatus: Readonly<Record<TerminalTaskStatus, number>>;
  /** Tasks that did not complete, by error code. */
  readonly byCode: Readonly<Record<string, number>>;
  /** The deadlocks found and resolved, in order. */
  readonly deadlocks: readonly DeadlockReport[];
  /** Alerts raised during the run, with when each cleared. */
  readonly alerts: readonly AlertRecord[];
  /** The most tasks queued at once. */
  readonly maxQueueDepth: number;
  /** SHA-256 of the trace, header included: equal hashes mean byte-for-byte equal traces. */
  readonly traceHash: string;
  /** Each expectation of the scenario's `expect`, checked, in the order written. */
  readonly expectations: readonly ExpectationResult[];
  /** How the engine's shutdown at the end of the run accounted for every task. */
  readonly shutdown: ShutdownReport;
  /** How many engine events the trace holds. */
  readonly events: number;
  /** What happened besides the tasks' ends, counted from the events. */
  readonly incidents: SimulationIncidents;
  /** Each agent's statistics at the end of the run, by name, in the order declared; empty without agents. */
  readonly agents: Readonly<Record<string, AgentStats>>;
  /** How the asks of the scenario's steps and messages ended: replied, failed, and failed by code. */
  readonly asks: ScenarioAskCounts;
  /** What the scenario still writes the old way (deprecated fields), one message each; empty when nothing. */
  readonly warnings: readonly string[];
}

/** What a simulation counted besides the tasks' ends. */
export interface SimulationIncidents {
  /** Workers that crashed (`worker.crashed`). */
  readonly workerCrashes: number;
  /** Crashed workers restarted (`worker.restarted`). */
  readonly workerRestarts: number;
  /** Attempts after a task's first (`task.retrying`). */
  readonly retries: number;
  /** Lock-order violations: inversions learned and rank violations (`lockorder.violation`). */
  readonly lockOrderViolations: number;
  /** Times the engine escalated (`engine.escalated`). */
  readonly escalations: number;
}

/** The events a simulation counts as incidents, and where. */
const INCIDENT_OF: Readonly<Partial<Record<EngineEvent['type'], keyof SimulationIncidents>>> = {
  'worker.crashed': 'workerCrashes',
  'worker.restarted': 'workerRestarts',
  'task.retrying': 'retries',
  'lockorder.violation': 'lockOrderViolations',
  'engine.escalated': 'escalations',
};

/**
 * Runs a scenario on the real engine (the same machines and actors) in virtual time, with seeded
 * randomness: the same scenario and seed give the same report and the same trace, byte for byte.
 *
 * @example
 * ```ts
 * const report = await simulate(loadScenario('examples/dining-philosophers.yaml'), { seed: 7, trace: 'out.jsonl' });
 * console.log(report.ok, report.deadlocks.length, report.traceHash);
 * ```
 */
export async function simulate(scenario: Scenario, options: SimulateOptions = {}): Promise<SimulationReport> {
  // ScenarioRun checks the seed.
  const seed = options.seed ?? 1;
  const trace = new TraceRecorder(options.trace);
  try {
    // The scenario's content, not where it was read from: a copy elsewhere, or the same file named
    // another way, makes the same trace and hash on every machine.
    const { file: _readFrom, ...content } = scenario;
    trace.record({ type: 'simulation.start', at: 0, seed, maxVirtualMs: options.maxVirtualMs, scenario: content });
    const run = new ScenarioRun(scenario, {
      seed,
      maxVirtualMs: options.maxVirtualMs,
      maxTasks: options.maxTasks,
      // Every fault is in the trace, whether or not it changes anything.
      onFault: (fault, at) => trace.record({ type: 'simulation.fault', at, fault }),
      onAgentEvent: (event) => trace.record(event),
    });
    const { engine, clock } = run;
    let events = 0;
    const incidents = { workerCrashes: 0, workerRestarts: 0, retries: 0, lockOrderViolations: 0, escalations: 0 };
    engine.events$.subscribe((event) => {
      events++;
      trace.record(event);
      const incident = INCIDENT_OF[event.type];
      if (incident !== undefined) incidents[incident]++;
    });
    for (let steps = 1; await run.step(); steps++) {
      if (steps % 1024 === 0) options.onProgress?.(engine.progress());
    }
    const summary = await run.finish();
    options.onProgress?.(engine.progress());
    const deadlocks = engine.deadlocks();
    const maxQueueDepth = engine.progress().peakQueued;
    const expectations = evaluateExpectations(scenario.expect ?? {}, {
      ...summary.byStatus,
      deadlocks: deadlocks.length,
      lost: summary.shutdown.lost,
      maxQueueDepth,
      makespanMs: summary.makespanMs,
      byCode: summary.byCode,
      asks: summary.asks,
      agents: summary.agents,
    });
    trace.record({ type: 'simulation.end', at: clock.now(), shutdown: summary.shutdown, expectations });
    return {
      scenario: scenario.name ?? scenario.file ?? '<inline>',
      seed,
      ok: expectations.every((expectation) => expectation.ok),
      makespanMs: summary.makespanMs,
      byStatus: summary.byStatus,
      byCode: summary.byCode,
      deadlocks,
      alerts: engine.alerts(),
      maxQueueDepth,
      traceHash: trace.digest(),
      expectations,
      shutdown: summary.shutdown,
      events,
      incidents,
      agents: summary.agents,
      asks: summary.asks,
      warnings: scenarioWarnings(scenario),
    };
  } finally {
    trace.close();
  }
}
