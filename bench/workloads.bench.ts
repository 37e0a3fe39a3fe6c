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

/** What the spec fixes for a row: its concurrency, and the bound and goal of its ratio (or figure, without a peer). */
interface RowSpec {
  readonly concurrency: number;
  readonly required: string;
  readonly goal: string;
}

/** Each row's fixed shape and bounds, from the spec; only task and sample counts change with --quick. */
const SPEC: Readonly<Record<WorkloadId, RowSpec>> = {
  'noop-c8': { concurrency: 8, required: '≥ 1.0×', goal: '≥ 1.5×' },
  'immediate-c64': { concurrency: 64, required: '≥ 1.0×', goal: '≥ 1.5×' },
  'sleep-c1000': { concurrency: 1_000, required: '≥ 1.0×', goal: 'within 2× of ideal' },
  'dag-c8': { concurrency: 8, required: '≥ 0.5×', goal: '≥ 1.0×' },
  'priority-c8': { concurrency: 8, required: '≥ 1.0×', goal: 'keep the lead' },
  'noop-c512': { concurrency: 512, required: '≥ 1.0×', goal: '≥ 1.5×' },
  'idle-latency': { concurrency: 8, required: '≤ 4×', goal: '≤ 2×' },
  'idle-shutdown': { concurrency: 5_000, required: '≤ 100 ms', goal: '≤ 10 ms' },
};
/** How long each task of the sleep row sleeps, in ms. */
const SLEEP_MS = 1;
/** The priority row's tasks draw their priority from 0 to this less one. */
const PRIORITY_LEVELS = 10;

type Log = (line: string) => void;

/** One run of a workload by a contender, at the row's concurrency; it returns the run's wall time in ms. */
type WorkloadRun = (contender: WorkloadContender, concurrency: number) => Promise<number>;

/** A race of mezan against p-queue on one row's workload: each side's timed runs, in ms. */
type Race = (id: WorkloadId, run: WorkloadRun) => Promise<Record<Side, number[]>>;

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
  const race: Race = (id, run) =>
    alternateRuns(
      (side) => run(contenders[side], SPEC[id].concurrency),
      config,
      (index, side, ms) => log(runLine(id, index, config.runs, side, `${ms.toFixed(1)} ms`)),
    );
  const throughput = async (workload: ThroughputWorkload): Promise<WorkloadResult> => throughputRow(workload, await race(workload.id, workload.run));
  const { noopTasks, immediateTasks, dagTasks, priorityTasks } = config;
  const noops = (id: 'noop-c8' | 'noop-c512'): ThroughputWorkload => ({
    id,
    tasks: noopTasks,
    workload: `${formatCount(noopTasks)} no-op async tasks`,
    run: (contender, concurrency) => contender.noops(noopTasks, concurrency),
  });

  const rows: WorkloadResult[] = [];
  rows.push(await throughput(noops('noop-c8')));
  rows.push(
    await throughput({
      id: 'immediate-c64',
      tasks: immediateTasks,
      workload: `${formatCount(immediateTasks)} tasks awaiting a setImmediate`,
      run: (contender, concurrency) => contender.immediates(immediateTasks, concurrency),
    }),
  );
  rows.push(await sleepRow(config, race));
  rows.push(
    await throughput({
      id: 'dag-c8',
      tasks: dagTasks,
      workload: `DAG of ${formatCount(dagTasks)} tasks, 1-3 dependencies each (seed ${config.seed})`,
      run: (contender, concurrency) => contender.dag(dag, concurrency),
    }),
  );
  rows.push(
    await throughput({
      id: 'priority-c8',
      tasks: priorityTasks,
      workload: `${formatCount(priorityTasks)} no-op tasks, priorities 0-${PRIORITY_LEVELS - 1} (seed ${config.seed + 1})`,
      run: (contender, concurrency) => contender.noops(priorityTasks, concurrency, priorities),
    }),
  );
  rows.push(await throughput(noops('noop-c512')));
  rows.push(await latencyRow(config, contenders, log));
  rows.push(await shutdownRow(config, log));
  return { config, peer: 'p-queue', rows };
}

/** A workload measured in tasks per second: its row's text (before its concurrency), and one run of it by a contender. */
interface ThroughputWorkload extends Pick<WorkloadResult, 'id' | 'workload' | 'tasks'> {
  readonly run: WorkloadRun;
}

function throughputRow({ id, workload, tasks }: ThroughputWorkload, runsMs: Record<Side, number[]>): WorkloadResult {
  const figures = perSide(runsMs, (runs) => ({ runs, median: median(runs.map((ms) => tasksPerSecond(tasks, ms))) }));
  return tableRow(id, { workload: `${workload}, concurrency ${SPEC[id].concurrency}`, tasks, unit: 'tasks/s', ...figures });
}

async function sleepRow(config: WorkloadsConfig, race: Race): Promise<WorkloadResult> {
  const { sleepTasks } = config;
  const runsMs = await race('sleep-c1000', (contender, concurrency) => contender.sleeps(sleepTasks, concurrency, SLEEP_MS));
  const { concurrency } = SPEC['sleep-c1000'];
  const idealMs = Math.ceil(sleepTasks / concurrency) * SLEEP_MS;
  const figures = perSide(runsMs, (runs) => ({ runs, median: median(runs) }));
  const workload = `${formatCount(sleepTasks)} tasks sleeping ${SLEEP_MS} ms (real timers), concurrency ${formatCount(concurrency)}: makespan, ideal ${idealMs} ms`;
  return tableRow('sleep-c1000', { workload, tasks: sleepTasks, unit: 'ms', ...figures, idealMs });
}

async function latencyRow(config: WorkloadsConfig, contenders: Record<Side, WorkloadContender>, log: Log): Promise<WorkloadResult> {
  const { concurrency } = SPEC['idle-latency'];
  const perRun = Math.ceil(config.latencySamples / config.runs);
  // One engine (one queue) per side for all the runs, idle between them, as an application keeps its engine.
  const probes = { mezan: contenders.mezan.latencyProbe(concurrency), peer: contenders.peer.latencyProbe(concurrency) };
  const samplesUs = await alternateRuns(
    (side) => probes[side].sample(perRun, config.latencyWarmupSamples),
    config,
    (index, side, samples) => log(runLine('idle-latency', index, config.runs, side, `median ${median(samples).toFixed(1)} µs`)),
  );
  await Promise.all([probes.mezan.close(), probes.peer.close()]);
  const figures = perSide(samplesUs, (runs) => ({ runs: runs.map((samples) => median(samples)), median: median(runs.flat()) }));
  const tasks = perRun * config.runs;
  const workload = `idle latency, submit → awaited result, one at a time: ${formatCount(tasks)} samples, concurrency ${concurrency}`;
  return tableRow('idle-latency', { workload, tasks, unit: 'µs', ...figures });
}

async function shutdownRow(config: WorkloadsConfig, log: Log): Promise<WorkloadResult> {
  const { concurrency } = SPEC['idle-shutdown'];
  const runs: number[] = [];
  for (let index = 0; index < config.shutdownRuns; index++) {
    const ms = await timeIdleShutdown(concurrency, config.shutdownTasks);
    runs.push(ms);
    log(runLine('idle-shutdown', index, config.shutdownRuns, 'mezan', `${ms.toFixed(1)} ms`));
  }
  const workload = `shutdown of an idle engine, concurrency ${formatCount(concurrency)}, after ${config.shutdownTasks} tasks (no peer)`;
  return tableRow('idle-shutdown', { workload, tasks: config.shutdownTasks, unit: 'ms', mezan: { runs, median: median(runs) }, peer: null });
}

/** Each side's figures, from its measurements; mezan's first. */
function perSide<T>(measured: Record<Side, T>, figures: (measured: T) => ContenderFigures): Record<Side, ContenderFigures> {
  return { mezan: figures(measured.mezan), peer: figures(measured.peer) };
}

/** How a row in each unit forms its ratio, when it has a peer. */
const RATIOS: Readonly<Record<WorkloadUnit, { readonly kind: RatioKind; readonly of: (mezan: number, peer: number) => number }>> = {
  'tasks/s': { kind: 'mezan/peer tasks/s, higher is better', of: (mezan, peer) => ratio(mezan, peer) },
  ms: { kind: 'peer/mezan makespan, higher is better', of: (mezan, peer) => ratio(peer, mezan) },
  µs: { kind: 'mezan/peer latency, lower is better', of: (mezan, peer) => ratio(mezan, peer) },
};

/** What a row measured; {@link tableRow} adds what {@link SPEC} fixes for it, and the ratio. */
type Measured = Pick<WorkloadResult, 'workload' | 'tasks' | 'unit' | 'mezan' | 'peer'> & { readonly idealMs?: number };

function tableRow(id: WorkloadId, { workload, tasks, unit, mezan, peer, idealMs }: Measured): WorkloadResult {
  const { concurrency, required, goal } = SPEC[id];
  return {
    id,
    workload,
    tasks,
    concurrency,
    unit,
    mezan,
    peer,
    ratio: peer === null ? Number.NaN : RATIOS[unit].of(mezan.median, peer.median),
    ratioKind: peer === null ? null : RATIOS[unit].kind,
    idealMs: idealMs ?? null,
    required,
    goal,
  };
}

function runLine(id: WorkloadId, index: number, runs: number, side: Side, measured: string): string {
  return `workload ${id} run ${index + 1}/${runs} ${(side === 'peer' ? 'p-queue' : side).padEnd(7)} ${measured}`;
}
