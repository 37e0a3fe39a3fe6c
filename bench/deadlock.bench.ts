import { performance } from 'node:perf_hooks';
import { createEngine, seededRandom } from '../src/index';
import { runBlockedEngine, type BlockedEngineRun, type BlockingScenario, type DetectMode } from './blocked-engine';
import { collectGarbage } from './collect-garbage';
import type { DeadlockBenchConfig } from './deadlock-config';
import { microsPerEvent, slowdownPercent } from './overhead';
import { median, tasksPerSecond } from './stats';
import { BLOCKING_EVENT_KINDS, BLOCKING_EVENT_MIX, buildWaitForWorkload, type BlockingEventKind } from './wait-for-workload';

/** Detection times of one kind of blocking event (or of all of them), in microseconds. */
export interface DetectionTiming {
  readonly kind: BlockingEventKind | 'all';
  /** Its weight in the mix of events (1 for `all`). */
  readonly weight: number;
  readonly events: number;
  readonly detectFromMeanUs: number;
  readonly detectFromP99Us: number;
  readonly detectFromMaxUs: number;
  /** Of these events, how many were also checked with a full `detect`, and its mean time. */
  readonly fullDetections: number;
  readonly detectMeanUs: number;
}

/** The detector alone on a graph of `waitingTasks` waiting tasks. */
export interface GraphDetectionResult {
  readonly config: DeadlockBenchConfig['graph'];
  readonly waitingTasks: number;
  readonly taskNodes: number;
  readonly resources: number;
  readonly edges: number;
  readonly buildMs: number;
  /** One row per kind, then `all`. */
  readonly timings: readonly DetectionTiming[];
  /** Events where `detectFrom` found a deadlock where none was made, or missed the one made: should be 0. */
  readonly wrongVerdicts: number;
  /** Events where `detectFrom` and `detect` named different deadlocked sets: should be 0. */
  readonly disagreements: number;
}

/** Medians of one detection mode's runs of a {@link BlockedEngineRun} scenario. */
export interface BlockedEngineMode {
  readonly detect: DetectMode;
  readonly runs: readonly BlockedEngineRun[];
  readonly medianBlockMs: number;
  readonly medianTotalMs: number;
}

/** An engine scenario with detection on and off, and what the difference costs per blocking event. */
export interface EngineBlockingResult {
  readonly scenario: BlockingScenario;
  readonly waitingTasks: number;
  readonly blockingEvents: number;
  readonly immediate: BlockedEngineMode;
  readonly off: BlockedEngineMode;
  /** Time inside the detector per blocking event, median over the `immediate` runs. */
  readonly detectorUsPerEvent: number;
  /** (median block time with detection − without) per blocking event: the engine's whole cost of a check. */
  readonly blockDifferenceUsPerEvent: number;
  /** The same with the total time (blocking, then every task finishing). */
  readonly totalDifferenceUsPerEvent: number;
}

/** One detection mode's throughput runs on the no-op benchmark. */
export interface OverheadMode {
  readonly detect: DetectMode;
  readonly runsMs: readonly number[];
  readonly runsTasksPerSecond: readonly number[];
  readonly medianTasksPerSecond: number;
}

/** The no-op throughput with deadlock detection on (the default) and off. */
export interface OverheadResult {
  readonly config: DeadlockBenchConfig['overhead'];
  readonly immediate: OverheadMode;
  readonly off: OverheadMode;
  /** How much slower the median with detection on is, in percent. */
  readonly slowdownPercent: number;
}

/** What {@link runDeadlockBench} measured. */
export interface DeadlockResult {
  readonly overhead: OverheadResult;
  readonly graph: GraphDetectionResult;
  readonly engines: readonly EngineBlockingResult[];
}

/**
 * Deadlock detection's costs (issue 3): the throughput overhead of detection on the no-op benchmark
 * (first, before the big engines load the heap), the detector alone on a graph of waiting tasks,
 * then engines where thousands of tasks block, with detection on and off.
 *
 * @param log - receives one line per run
 * @throws when a run does not do what it should (tasks not run, not blocked, or not finished)
 */
export async function runDeadlockBench(config: DeadlockBenchConfig, log: (line: string) => void = () => {}): Promise<DeadlockResult> {
  const overhead = await measureOverhead(config.overhead, log);
  const graph = measureGraphDetection(config.graph, log);
  const engines: EngineBlockingResult[] = [];
  const { engine } = config;
  engines.push(await measureEngine('acquire', engine.acquireTasks, engine.acquireRuns, config, log));
  engines.push(await measureEngine('await', engine.awaitTasks, engine.awaitRuns, config, log));
  return { overhead, graph, engines };
}

async function measureOverhead(config: DeadlockBenchConfig['overhead'], log: (line: string) => void): Promise<OverheadResult> {
  const runsMs: Record<DetectMode, number[]> = { immediate: [], off: [] };
  for (let round = 0; round < config.warmupRounds; round++) {
    for (const detect of ['immediate', 'off'] as const) await runNoops(config.tasks, config.concurrency, detect);
  }
  for (let run = 0; run < config.runs; run++) {
    const order: DetectMode[] = run % 2 === 0 ? ['immediate', 'off'] : ['off', 'immediate'];
    for (const detect of order) {
      const elapsedMs = await runNoops(config.tasks, config.concurrency, detect);
      runsMs[detect].push(elapsedMs);
      log(`detection overhead run ${run + 1}/${config.runs} detect ${detect.padEnd(9)} ${elapsedMs.toFixed(1).padStart(8)} ms`);
    }
  }
  const summarize = (detect: DetectMode): OverheadMode => {
    const runsTasksPerSecond = runsMs[detect].map((ms) => tasksPerSecond(config.tasks, ms));
    return { detect, runsMs: runsMs[detect], runsTasksPerSecond, medianTasksPerSecond: median(runsTasksPerSecond) };
  };
  const immediate = summarize('immediate');
  const off = summarize('off');
  return { config, immediate, off, slowdownPercent: slowdownPercent(off.medianTasksPerSecond, immediate.medianTasksPerSecond) };
}

/** The no-op run of the throughput benchmark; `immediate` is the default engine, with no deadlock option. */
async function runNoops(tasks: number, concurrency: number, detect: DetectMode): Promise<number> {
  const engine = createEngine(detect === 'off' ? { concurrency, deadlock: { detect: 'off' } } : { concurrency });
  let calls = 0;
  const noop = async (): Promise<void> => {
    calls++;
  };
  collectGarbage();
  const start = performance.now();
  for (let i = 0; i < tasks; i++) engine.submit(noop);
  await engine.onIdle();
  const elapsedMs = performance.now() - start;
  const report = await engine.shutdown();
  if (calls !== tasks || report.completed !== tasks)
    throw new Error(`mezan (detect ${detect}) ran ${calls} of ${tasks} tasks (${report.completed} completed)`);
  return elapsedMs;
}

function measureGraphDetection(config: DeadlockBenchConfig['graph'], log: (line: string) => void): GraphDetectionResult {
  log(`detection: building a wait-for graph of ${config.waitingTasks.toLocaleString('en-US')} waiting tasks`);
  const buildStart = performance.now();
  const workload = buildWaitForWorkload(config.waitingTasks, seededRandom(config.seed));
  const buildMs = performance.now() - buildStart;
  const { graph } = workload;

  for (let i = 0; i < config.warmupEvents; i++) {
    const event = workload.next();
    graph.detectFrom(event.task);
    if (i % 100 === 0) graph.detect();
    event.undo();
  }

  log(`detection: ${config.events.toLocaleString('en-US')} blocking events with detectFrom, ${config.fullDetections} of them with detect too`);
  collectGarbage();
  const incremental = new Map<BlockingEventKind, number[]>(BLOCKING_EVENT_KINDS.map((kind) => [kind, []]));
  const full = new Map<BlockingEventKind, number[]>(BLOCKING_EVENT_KINDS.map((kind) => [kind, []]));
  const stride = Math.max(1, Math.floor(config.events / Math.max(1, config.fullDetections)));
  let wrongVerdicts = 0;
  let disagreements = 0;
  for (let i = 0; i < config.events; i++) {
    const event = workload.next();
    let start = performance.now();
    const found = graph.detectFrom(event.task);
    incremental.get(event.kind)!.push((performance.now() - start) * 1000);
    if (found.deadlocked.length > 0 !== event.deadlocks) wrongVerdicts++;
    if (i % stride === 0) {
      start = performance.now();
      const all = graph.detect();
      full.get(event.kind)!.push((performance.now() - start) * 1000);
      if (all.deadlocked.join('\u0000') !== found.deadlocked.join('\u0000')) disagreements++;
    }
    event.undo();
  }

  const timings = BLOCKING_EVENT_KINDS.map((kind) => timing(kind, BLOCKING_EVENT_MIX[kind], incremental.get(kind)!, full.get(kind)!));
  timings.push(timing('all', 1, [...incremental.values()].flat(), [...full.values()].flat()));
  return {
    config,
    waitingTasks: workload.waitingTasks,
    taskNodes: workload.taskNodes,
    resources: workload.resources,
    edges: workload.edges,
    buildMs,
    timings,
    wrongVerdicts,
    disagreements,
  };
}

function timing(kind: DetectionTiming['kind'], weight: number, incrementalUs: number[], fullUs: number[]): DetectionTiming {
  const sorted = [...incrementalUs].sort((a, b) => a - b);
  return {
    kind,
    weight,
    events: sorted.length,
    detectFromMeanUs: mean(sorted),
    detectFromP99Us: sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
    detectFromMaxUs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    fullDetections: fullUs.length,
    detectMeanUs: mean(fullUs),
  };
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

async function measureEngine(
  scenario: BlockingScenario,
  waitingTasks: number,
  runs: number,
  config: DeadlockBenchConfig,
  log: (line: string) => void,
): Promise<EngineBlockingResult> {
  const { warmupTasks, seed } = config.engine;
  for (const detect of ['immediate', 'off'] as const) await runBlockedEngine(scenario, warmupTasks, detect, seed);
  const byMode: Record<DetectMode, BlockedEngineRun[]> = { immediate: [], off: [] };
  for (let run = 0; run < runs; run++) {
    const order: DetectMode[] = run % 2 === 0 ? ['immediate', 'off'] : ['off', 'immediate'];
    for (const detect of order) {
      const result = await runBlockedEngine(scenario, waitingTasks, detect, seed);
      byMode[detect].push(result);
      log(
        `engine (${scenario}) run ${run + 1}/${runs} detect ${detect.padEnd(9)} ` +
          `blocked in ${result.blockMs.toFixed(0)} ms, all done in ${result.totalMs.toFixed(0)} ms, detector ${result.detectorMs.toFixed(1)} ms`,
      );
    }
  }
  const mode = (detect: DetectMode): BlockedEngineMode => ({
    detect,
    runs: byMode[detect],
    medianBlockMs: median(byMode[detect].map((run) => run.blockMs)),
    medianTotalMs: median(byMode[detect].map((run) => run.totalMs)),
  });
  const immediate = mode('immediate');
  const off = mode('off');
  const blockingEvents = immediate.runs[0]!.blockingEvents;
  return {
    scenario,
    waitingTasks,
    blockingEvents,
    immediate,
    off,
    detectorUsPerEvent: median(immediate.runs.map((run) => microsPerEvent(run.detectorMs, run.blockingEvents))),
    blockDifferenceUsPerEvent: microsPerEvent(immediate.medianBlockMs - off.medianBlockMs, blockingEvents),
    totalDifferenceUsPerEvent: microsPerEvent(immediate.medianTotalMs - off.medianTotalMs, blockingEvents),
  };
}
