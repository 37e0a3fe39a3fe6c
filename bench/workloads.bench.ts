import { seededRandom } from '../src/index';
import { alternateRuns, type Side } from './alternating-runs';
import type { WorkloadsConfig } from './bench-config';
import { buildTaskDag } from './dag-workload';
import { formatCount } from './format';
import { mezanContender, timeIdleShutdown } from './mezan-contender';
import { loadPQueueContender } from './p-queue-contender';
import { median, ratio, tasksPerSecond } from './stats';
import type { WorkloadContender } from './workload-contender';

/** The rows of the table, in the order they run. */
export type WorkloadId = 'noop-c8' | 'immediate-c64' | 'sleep-c1000' | 'dag-c8' | 'priority-c8' | 'noop-c512' | 'idle-latency' | 'idle-shutdown';

/** What a row's figures count: throughput, a time in milliseconds, or a latency in microseconds. */
export type WorkloadUnit = 'tasks/s' | 'ms' | 'µs';

/** How a row's ratio is formed, and which way is better for mezan. */
export type RatioKind = 'mezan/peer tasks/s, higher is better' | 'peer/mezan makespan, higher is better' | 'mezan/peer latency, lower is better';

/** One side's timed runs of a workload. */
export interface ContenderFigures {
  /** Each timed run in the order it ran: its wall time in ms (idle latency: the median of its samples, in µs). */
  readonly runs: readonly number[];
  /** The row's figure in its `unit`: the median of the runs' tasks/s or ms, or of every latency sample. */
  readonly median: number;
}

/** One row of the table. */
export interface WorkloadResult {
  readonly id: WorkloadId;
  readonly workload: string;
  /** Tasks per run (idle latency: timed samples per side; idle shutdown: tasks run before it). */
  readonly tasks: number;
  readonly concurrency: number;
  readonly unit: WorkloadUnit;
  readonly mezan: ContenderFigures;
  /** p-queue's figures; `null` for a workload it has no counterpart of. */
  readonly peer: ContenderFigures | null;
  /** `NaN` (`null` in JSON) without a peer. */
  readonly ratio: number;
  readonly ratioKind: RatioKind | null;
  /** The makespan without overhead, `ceil(tasks / concurrency)` sleeps back to back; set on the sleep row only. */
  readonly idealMs: number | null;
  /** The spec's bound, as text. */
  readonly required: string;
  /** The spec's goal, as text. */
  readonly goal: string;
}

/** What {@link runWorkloadsBench} measured. */
export interface WorkloadsResult {
  readonly config: WorkloadsConfig;
  readonly peer: 'p-queue';
  readonly rows: readonly WorkloadResult[];
}

// The workloads' fixed shapes, from the spec; only task and sample counts change with --quick.
const NOOP_CONCURRENCY = 8;
const IMMEDIATE_CONCURRENCY = 64;
const SLEEP_CONCURRENCY = 1_000;
const SLEEP_MS = 1;
const DAG_CONCURRENCY = 8;
const PRIORITY_CONCURRENCY = 8;
const PRIORITY_LEVELS = 10;
const WIDE_CONCURRENCY = 512;
const LATENCY_CONCURRENCY = 8;
const SHUTDOWN_CONCURRENCY = 5_000;

type Log = (line: string) => void;

/**
 * Races mezan against p-queue workload by workload, each side in turn in the same process, then
 * times the idle shutdown of a wide engine (which p-queue has no counterpart of).
 *
 * @param config - sizes; see {@link WorkloadsConfig}
 * @param log - receives one line per timed run
 * @returns one row per workload, in the order of {@link WorkloadId}
 * @throws when a contender does not run every task exactly once (or a DAG task before its dependencies)
 */
export async function runWorkloadsBench(config: WorkloadsConfig, log: Log = () => {}): Promise<WorkloadsResult> {
  const contenders: Record<Side, WorkloadContender> = { mezan: mezanContender, peer: await loadPQueueContender() };
  const dag = buildTaskDag(config.dagTasks, seededRandom(config.seed));
  const random = seededRandom(config.seed + 1);
  const priorities = Array.from({ length: config.priorityTasks }, () => Math.floor(random() * PRIORITY_LEVELS));
  const race = (id: WorkloadId, run: (contender: WorkloadContender) => Promise<number>): Promise<Record<Side, number[]>> =>
    alternateRuns(
      (side) => run(contenders[side]),
      config,
      (index, side, ms) => log(runLine(id, index, config.runs, side, `${ms.toFixed(1)} ms`)),
    );
  const throughput = async (workload: ThroughputWorkload): Promise<WorkloadResult> => throughputRow(workload, await race(workload.id, workload.run));
  const { noopTasks, immediateTasks, dagTasks, priorityTasks } = config;

  const rows: WorkloadResult[] = [];
  rows.push(
    await throughput({
      id: 'noop-c8',
      workload: `${formatCount(noopTasks)} no-op async tasks, concurrency ${NOOP_CONCURRENCY}`,
      tasks: noopTasks,
      concurrency: NOOP_CONCURRENCY,
      run: (contender) => contender.noops(noopTasks, NOOP_CONCURRENCY),
      required: '≥ 1.0×',
      goal: '≥ 1.5×',
    }),
  );
  rows.push(
    await throughput({
      id: 'immediate-c64',
      workload: `${formatCount(immediateTasks)} tasks awaiting a setImmediate, concurrency ${IMMEDIATE_CONCURRENCY}`,
      tasks: immediateTasks,
      concurrency: IMMEDIATE_CONCURRENCY,
      run: (contender) => contender.immediates(immediateTasks, IMMEDIATE_CONCURRENCY),
      required: '≥ 1.0×',
      goal: '≥ 1.5×',
    }),
  );
  rows.push(sleepRow(config, await race('sleep-c1000', (contender) => contender.sleeps(config.sleepTasks, SLEEP_CONCURRENCY, SLEEP_MS))));
  rows.push(
    await throughput({
      id: 'dag-c8',
      workload: `DAG of ${formatCount(dagTasks)} tasks, 1-3 dependencies each (seed ${config.seed}), concurrency ${DAG_CONCURRENCY}`,
      tasks: dagTasks,
      concurrency: DAG_CONCURRENCY,
      run: (contender) => contender.dag(dag, DAG_CONCURRENCY),
      required: '≥ 0.5×',
      goal: '≥ 1.0×',
    }),
  );
  rows.push(
    await throughput({
      id: 'priority-c8',
      workload: `${formatCount(priorityTasks)} no-op tasks, priorities 0-${PRIORITY_LEVELS - 1} (seed ${config.seed + 1}), concurrency ${PRIORITY_CONCURRENCY}`,
      tasks: priorityTasks,
      concurrency: PRIORITY_CONCURRENCY,
      run: (contender) => contender.noops(priorityTasks, PRIORITY_CONCURRENCY, priorities),
      required: '≥ 1.0×',
      goal: 'keep the lead',
    }),
  );
  rows.push(
    await throughput({
      id: 'noop-c512',
      workload: `${formatCount(noopTasks)} no-op async tasks, concurrency ${WIDE_CONCURRENCY}`,
      tasks: noopTasks,
      concurrency: WIDE_CONCURRENCY,
      run: (contender) => contender.noops(noopTasks, WIDE_CONCURRENCY),
      required: '≥ 1.0×',
      goal: '≥ 1.5×',
    }),
  );
  rows.push(await latencyRow(config, contenders, log));
  rows.push(await shutdownRow(config, log));
  return { config, peer: 'p-queue', rows };
}

/** A workload measured in tasks per second: its row's text, and one run of it by a contender. */
interface ThroughputWorkload extends Pick<WorkloadResult, 'id' | 'workload' | 'tasks' | 'concurrency' | 'required' | 'goal'> {
  /** @returns the run's wall time in ms */
  readonly run: (contender: WorkloadContender) => Promise<number>;
}

function throughputRow({ id, workload, tasks, concurrency, required, goal }: ThroughputWorkload, runsMs: Record<Side, number[]>): WorkloadResult {
  const figures = (runs: number[]): ContenderFigures => ({ runs, median: median(runs.map((ms) => tasksPerSecond(tasks, ms))) });
  const mezan = figures(runsMs.mezan);
  const peer = figures(runsMs.peer);
  return {
    id,
    workload,
    tasks,
    concurrency,
    unit: 'tasks/s',
    mezan,
    peer,
    ratio: ratio(mezan.median, peer.median),
    ratioKind: 'mezan/peer tasks/s, higher is better',
    idealMs: null,
    required,
    goal,
  };
}

function sleepRow(config: WorkloadsConfig, runsMs: Record<Side, number[]>): WorkloadResult {
  const idealMs = Math.ceil(config.sleepTasks / SLEEP_CONCURRENCY) * SLEEP_MS;
  const mezan = { runs: runsMs.mezan, median: median(runsMs.mezan) };
  const peer = { runs: runsMs.peer, median: median(runsMs.peer) };
  return {
    id: 'sleep-c1000',
    workload: `${formatCount(config.sleepTasks)} tasks sleeping ${SLEEP_MS} ms (real timers), concurrency ${formatCount(SLEEP_CONCURRENCY)}: makespan, ideal ${idealMs} ms`,
    tasks: config.sleepTasks,
    concurrency: SLEEP_CONCURRENCY,
    unit: 'ms',
    mezan,
    peer,
    ratio: ratio(peer.median, mezan.median),
    ratioKind: 'peer/mezan makespan, higher is better',
    idealMs,
    required: '≥ 1.0×',
    goal: 'within 2× of ideal',
  };
}

async function latencyRow(config: WorkloadsConfig, contenders: Record<Side, WorkloadContender>, log: Log): Promise<WorkloadResult> {
  const perRun = Math.ceil(config.latencySamples / config.runs);
  const samplesUs = await alternateRuns(
    (side) => contenders[side].latencies(perRun, config.latencyWarmupSamples, LATENCY_CONCURRENCY),
    config,
    (index, side, samples) => log(runLine('idle-latency', index, config.runs, side, `median ${median(samples).toFixed(1)} µs`)),
  );
  const figures = (runs: number[][]): ContenderFigures => ({ runs: runs.map((samples) => median(samples)), median: median(runs.flat()) });
  const mezan = figures(samplesUs.mezan);
  const peer = figures(samplesUs.peer);
  return {
    id: 'idle-latency',
    workload: `idle latency, submit → awaited result, one at a time: ${formatCount(perRun * config.runs)} samples, concurrency ${LATENCY_CONCURRENCY}`,
    tasks: perRun * config.runs,
    concurrency: LATENCY_CONCURRENCY,
    unit: 'µs',
    mezan,
    peer,
    ratio: ratio(mezan.median, peer.median),
    ratioKind: 'mezan/peer latency, lower is better',
    idealMs: null,
    required: '≤ 4×',
    goal: '≤ 2×',
  };
}

async function shutdownRow(config: WorkloadsConfig, log: Log): Promise<WorkloadResult> {
  const runs: number[] = [];
  for (let index = 0; index < config.shutdownRuns; index++) {
    const ms = await timeIdleShutdown(SHUTDOWN_CONCURRENCY, config.shutdownTasks);
    runs.push(ms);
    log(runLine('idle-shutdown', index, config.shutdownRuns, 'mezan', `${ms.toFixed(1)} ms`));
  }
  return {
    id: 'idle-shutdown',
    workload: `shutdown of an idle engine, concurrency ${formatCount(SHUTDOWN_CONCURRENCY)}, after ${config.shutdownTasks} tasks (no peer)`,
    tasks: config.shutdownTasks,
    concurrency: SHUTDOWN_CONCURRENCY,
    unit: 'ms',
    mezan: { runs, median: median(runs) },
    peer: null,
    ratio: Number.NaN,
    ratioKind: null,
    idealMs: null,
    required: '≤ 100 ms',
    goal: '≤ 10 ms',
  };
}

function runLine(id: WorkloadId, index: number, runs: number, side: Side, measured: string): string {
  return `workload ${id} run ${index + 1}/${runs} ${(side === 'peer' ? 'p-queue' : side).padEnd(7)} ${measured}`;
}
