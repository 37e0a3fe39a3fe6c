import os from 'node:os';
import Table from 'cli-table3';
import type { DeadlockResult, DetectionTiming, EngineBlockingResult, OverheadMode } from './deadlock.bench';
import { formatBytes, formatCount } from './format';
import type { MemoryResult } from './memory.bench';
import type { BanditResult } from './bandit.bench';
import type { SimulationResult } from './simulation.bench';
import type { WorkloadResult, WorkloadsResult } from './workloads.bench';

/** Where the figures were measured. */
export interface BenchEnvironment {
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cpus: number;
}

/** Everything one `npm run bench` measured; `--json` prints exactly this. */
export interface BenchResults {
  readonly quick: boolean;
  readonly environment: BenchEnvironment;
  readonly totalMs: number;
  readonly workloads: WorkloadsResult;
  readonly deadlock: DeadlockResult;
  readonly memory: MemoryResult;
  readonly simulation: SimulationResult;
  readonly bandits: BanditResult;
}

/** Describes the machine and the runtime the bench runs on. */
export function describeEnvironment(): BenchEnvironment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: os.availableParallelism(),
  };
}

// No colours and no lines between rows: the report is pasted into issues and READMEs.
const TABLE_STYLE = { head: [], border: [] };
const TABLE_CHARS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/**
 * Renders the results as tables for a terminal or a README.
 *
 * @returns the report, ending with a newline
 */
export function formatReport(results: BenchResults): string {
  const { environment: env } = results;
  const lines = [
    `mezan benchmark${results.quick ? ' (--quick: reduced sizes, a smoke test)' : ''}`,
    `node ${env.node}, ${env.platform}, ${env.cpu}, ${env.cpus} CPUs`,
    '',
    ...workloadsSection(results.workloads),
    '',
    ...overheadSection(results.deadlock),
    '',
    ...detectionSection(results.deadlock),
    '',
    ...engineSection(results.deadlock),
    '',
    ...queuedSection(results.memory),
    '',
    ...streamedSection(results.memory),
    '',
    ...simulationSection(results.simulation),
    '',
    ...banditSection(results.bandits),
    '',
    `Total bench time: ${(results.totalMs / 1000).toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

function banditSection(result: BanditResult): string[] {
  const table = new Table({
    head: ['strategy', 'mean regret', 'min', 'max', 'mean pulls per arm'],
    colAligns: ['left', 'right', 'right', 'right', 'right'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  for (const { label, meanRegret, regrets, meanPulls } of result.strategies) {
    table.push([
      label,
      meanRegret.toFixed(1),
      Math.min(...regrets).toFixed(1),
      Math.max(...regrets).toFixed(1),
      meanPulls.map((pulls) => pulls.toFixed(0)).join(' / '),
    ]);
  }
  const ucb1 = result.strategies.find((strategy) => strategy.label === 'ucb1');
  return [
    `Bandit routing: Bernoulli arms with means ${result.armMeans.join(', ')}, ${formatCount(result.pulls)} pulls, ${result.seeds} seeds (${result.wallMs.toFixed(0)} ms)`,
    table.toString(),
    `UCB1's bound (Auer, Cesa-Bianchi and Fischer, 2002): ${result.ucb1Bound.toFixed(1)}${ucb1 === undefined ? '' : `; UCB1's mean regret ${ucb1.meanRegret.toFixed(1)} is ${ucb1.meanRegret < result.ucb1Bound ? 'under' : 'OVER'} it`}`,
  ];
}

function simulationSection(result: SimulationResult): string[] {
  return [
    `Simulation speed: ${result.scenario} (virtual time, seed 1)`,
    `${result.lifecycles.toLocaleString('en-US')} task lifecycles (${result.events.toLocaleString('en-US')} events, ${(result.virtualMs / 1000).toFixed(1)} s virtual) in ${(result.wallMs / 1000).toFixed(1)} s of wall time (${result.runs.length === 1 ? 'one run' : `the median of ${result.runs.length} runs`}): ${Math.round(result.lifecyclesPerSecond).toLocaleString('en-US')} lifecycles/s (required: 30,000; goal: 50,000)${result.ok ? '' : ' (its expectations did not hold, or its runs made different traces!)'}`,
    `Runs, in order (lifecycles/s): ${result.runs.map((perSecond) => Math.round(perSecond).toLocaleString('en-US')).join(', ')}`,
  ];
}

function workloadsSection(result: WorkloadsResult): string[] {
  const { runs, warmupRounds } = result.config;
  const table = new Table({
    head: ['workload', 'mezan', `peer (${result.peer})`, 'ratio', 'required', 'goal'],
    colAligns: ['left', 'right', 'right', 'right', 'left', 'left'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  const details = new Table({
    head: ['workload', 'mezan runs', `${result.peer} runs`],
    colAligns: ['left', 'left', 'left'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  for (const row of result.rows) {
    table.push([
      row.workload,
      formatFigure(row, row.mezan.median) + (row.idealMs === null ? '' : ` (${formatCount(row.mezan.median / row.idealMs, 1)}× ideal)`),
      row.peer === null ? '—' : formatFigure(row, row.peer.median),
      row.ratioKind === null ? '—' : `${formatCount(row.ratio, 2)}×`,
      row.required,
      row.goal,
    ]);
    const runTimes = (runs: readonly number[]) => runs.map((value) => formatCount(value, value < 10 ? 1 : 0)).join(', ');
    details.push([
      `${row.id} (${row.unit === 'µs' ? 'median µs' : 'ms'})`,
      runTimes(row.mezan.runs),
      row.peer === null ? '—' : runTimes(row.peer.runs),
    ]);
  }
  return [
    `Workloads: mezan against ${result.peer} in the same process, median of ${runs} timed runs each (shutdown: ${result.config.shutdownRuns}), ` +
      `alternating which goes first, after ${warmupRounds} warm-up round${warmupRounds === 1 ? '' : 's'}`,
    table.toString(),
    `Ratio: mezan / ${result.peer} tasks/s for throughput (higher is better); ${result.peer} / mezan makespan for the sleeps (higher is better); ` +
      `mezan / ${result.peer} median latency (lower is better).`,
    'Run by run, in order:',
    details.toString(),
  ];
}

/** A row's figure in its unit. */
function formatFigure(row: WorkloadResult, value: number): string {
  if (row.unit === 'tasks/s') return `${formatCount(value)} tasks/s`;
  if (row.unit === 'µs') return `${formatMicros(value)} µs`;
  return `${formatCount(value, value < 100 ? 1 : 0)} ms`;
}

/** Issue 3's goals, printed next to the figures they bound. */
const GOAL_SLOWDOWN_PERCENT = 5;
const GOAL_MICROS_PER_EVENT = 1000;

function overheadSection(deadlock: DeadlockResult): string[] {
  const { overhead } = deadlock;
  const { tasks, concurrency, runs, warmupRounds } = overhead.config;
  const table = new Table({
    head: ['deadlock.detect', 'median tasks/s', 'min tasks/s', 'max tasks/s', 'run times (ms, in order)'],
    colAligns: ['left', 'right', 'right', 'right', 'left'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  const row = (label: string, mode: OverheadMode) => [
    label,
    formatCount(mode.medianTasksPerSecond),
    formatCount(Math.min(...mode.runsTasksPerSecond)),
    formatCount(Math.max(...mode.runsTasksPerSecond)),
    mode.runsMs.map((ms) => ms.toFixed(0)).join(', '),
  ];
  table.push(row("'immediate' (default)", overhead.immediate), row("'off'", overhead.off));
  return [
    `Deadlock detection's overhead: the no-op benchmark (${formatCount(tasks)} tasks, ${concurrency} workers) with deadlock detection on and off, median of ${runs} alternating runs each after ${warmupRounds} warm-up round${warmupRounds === 1 ? '' : 's'}`,
    table.toString(),
    `Slowdown with detection on (median tasks/s): ${formatSigned(overhead.slowdownPercent)}% (goal: under ${GOAL_SLOWDOWN_PERCENT}%)`,
  ];
}

function detectionSection(deadlock: DeadlockResult): string[] {
  const { graph } = deadlock;
  const table = new Table({
    head: ['blocking event', 'share', 'events', 'detectFrom mean µs', 'p99 µs', 'max µs', 'full detects', 'detect mean µs'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  for (const timing of graph.timings) table.push(timingRow(timing));
  const all = graph.timings.find((timing) => timing.kind === 'all');
  const lines = [
    `Deadlock detection alone: a wait-for graph of ${formatCount(graph.waitingTasks)} waiting tasks (${formatCount(graph.taskNodes)} task nodes, ` +
      `${formatCount(graph.resources)} resources, ${formatCount(graph.edges)} edges, built in ${formatCount(graph.buildMs)} ms); each event blocks one more task, ` +
      `is checked, and is undone; times per blocking event`,
    table.toString(),
    'Kinds: pool-wait (a task queues on a pool its holders fill), await-chain (a task awaits the head of a chain of 2-16 awaits), nested-lock (a task queues on a',
    'pool whose holders wait for another), benign-cycle (a cycle closes through a 2-unit pool whose other holder runs: no deadlock), deadlock (a ring of 2-6 closes).',
    `Verdicts: ${graph.wrongVerdicts} wrong (detectFrom against the deadlock made), ${graph.disagreements} disagreements between detectFrom and detect (both should be 0)`,
  ];
  if (all !== undefined) {
    lines.push(
      `Mean per blocking event over the mix: ${formatMicros(all.detectFromMeanUs)} µs with detectFrom (what the detector actor runs), ` +
        `${formatMicros(all.detectMeanUs)} µs if it ran a full detect (goal: well under ${formatCount(GOAL_MICROS_PER_EVENT)} µs)`,
    );
  }
  return lines;
}

function timingRow(timing: DetectionTiming): string[] {
  return [
    timing.kind,
    `${formatCount(timing.weight * 100, timing.weight < 0.1 ? 1 : 0)}%`,
    formatCount(timing.events),
    formatMicros(timing.detectFromMeanUs),
    formatMicros(timing.detectFromP99Us),
    formatMicros(timing.detectFromMaxUs),
    formatCount(timing.fullDetections),
    formatMicros(timing.detectMeanUs),
  ];
}

function engineSection(deadlock: DeadlockResult): string[] {
  const runs = new Table({
    head: ['scenario', 'deadlock.detect', 'median blocked ms', 'median all done ms', 'blocked ms / all done ms (in order)'],
    colAligns: ['left', 'left', 'right', 'right', 'left'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  const costs = new Table({
    head: ['scenario', 'waiting tasks', 'blocking events', 'in the detector µs', 'engine µs (blocking, on − off)', 'engine µs (all, on − off)'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  for (const engine of deadlock.engines) {
    for (const mode of [engine.immediate, engine.off]) {
      runs.push([
        engine.scenario,
        mode.detect,
        formatCount(mode.medianBlockMs),
        formatCount(mode.medianTotalMs),
        mode.runs.map((run) => `${run.blockMs.toFixed(0)} / ${run.totalMs.toFixed(0)}`).join(', '),
      ]);
    }
    costs.push(engineCostRow(engine));
  }
  return [
    'Deadlock detection in engines (virtual clock, a worker per waiting task): tasks block on pools that running holders fill, then the holders let go.',
    'acquire: every task blocks on ctx.acquire; await: half the tasks ctx.await a child, and the children block on ctx.acquire.',
    runs.toString(),
    'Per blocking event (a request or an await in the wait-for graph):',
    costs.toString(),
    'The detector column is timed inside WaitForGraph.detectFrom/detect; the engine columns are differences of noisy medians (whole runs of the engine).',
  ];
}

function engineCostRow(engine: EngineBlockingResult): string[] {
  return [
    engine.scenario,
    formatCount(engine.waitingTasks),
    formatCount(engine.blockingEvents),
    formatMicros(engine.detectorUsPerEvent),
    formatMicros(engine.blockDifferenceUsPerEvent),
    formatMicros(engine.totalDifferenceUsPerEvent),
  ];
}

/** Microseconds with two significant decimals below 10, one below 100, none above. */
function formatMicros(us: number): string {
  const size = Math.abs(us);
  return formatCount(us, size < 10 ? 2 : size < 100 ? 1 : 0);
}

function formatSigned(value: number): string {
  const text = formatCount(value, 1);
  return value > 0 ? `+${text}` : text;
}

function queuedSection(memory: MemoryResult): string[] {
  const { queued } = memory;
  const table = new Table({ head: ['', 'RSS', 'heapUsed'], colAligns: ['left', 'right', 'right'], style: TABLE_STYLE, chars: TABLE_CHARS });
  const rss = queued.queued.rss - queued.baseline.rss;
  const heap = queued.queued.heapUsed - queued.baseline.heapUsed;
  table.push(
    [`${queued.workers} workers blocked, queue empty`, formatBytes(queued.baseline.rss), formatBytes(queued.baseline.heapUsed)],
    [`${formatCount(queued.tasks)} tasks queued`, formatBytes(queued.queued.rss), formatBytes(queued.queued.heapUsed)],
    ['growth', formatBytes(rss, true), formatBytes(heap, true)],
    ['per queued task', formatBytes(rss / queued.tasks), formatBytes(heap / queued.tasks)],
  );
  return [
    `Memory with ${formatCount(queued.tasks)} tasks queued (fresh process, after global.gc(); engine reported running ${formatCount(queued.running)}, pending ${formatCount(queued.pending)})`,
    table.toString(),
  ];
}

function streamedSection(memory: MemoryResult): string[] {
  const { streamed } = memory;
  const first = streamed.samples[0];
  const last = streamed.samples[streamed.samples.length - 1];
  const table = new Table({
    head: ['tasks streamed', 'RSS', 'heapUsed', 'heapUsed vs first sample'],
    colAligns: ['right', 'right', 'right', 'right'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  table.push(['0 (idle engine)', formatBytes(streamed.baseline.rss), formatBytes(streamed.baseline.heapUsed), '']);
  for (const sample of streamed.samples) {
    table.push([
      formatCount(sample.streamed),
      formatBytes(sample.rss),
      formatBytes(sample.heapUsed),
      first === undefined ? '' : formatBytes(sample.heapUsed - first.heapUsed, true),
    ]);
  }
  const lines = [
    `Memory while ${formatCount(streamed.tasks)} tasks stream through (fresh process, chunks of ${formatCount(streamed.chunk)} awaiting onIdle, ${streamed.workers} workers, after global.gc())`,
    table.toString(),
  ];
  if (first !== undefined && last !== undefined && last !== first) {
    const heapGrowth = last.heapUsed - first.heapUsed;
    const tasksBetween = last.streamed - first.streamed;
    lines.push(
      `Heap growth ${formatCount(first.streamed)} → ${formatCount(last.streamed)} streamed: ${formatBytes(heapGrowth, true)} ` +
        `(${formatBytes((heapGrowth / tasksBetween) * 1000, true)} per 1,000 finished tasks); ` +
        `RSS ${formatBytes(last.rss - first.rss, true)}`,
    );
  }
  return lines;
}
