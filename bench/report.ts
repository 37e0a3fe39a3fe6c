import os from 'node:os';
import Table from 'cli-table3';
import { formatBytes, formatCount } from './format';
import type { MemoryResult } from './memory.bench';
import type { ThroughputResult } from './throughput.bench';

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
  readonly throughput: ThroughputResult;
  readonly memory: MemoryResult;
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
    ...throughputSection(results.throughput),
    '',
    ...queuedSection(results.memory),
    '',
    ...streamedSection(results.memory),
    '',
    `Total bench time: ${(results.totalMs / 1000).toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

function throughputSection(result: ThroughputResult): string[] {
  const { tasks, concurrency, runs, warmupRounds } = result.config;
  const table = new Table({
    head: ['', 'median tasks/s', 'min tasks/s', 'max tasks/s', 'run times (ms, in order)'],
    colAligns: ['left', 'right', 'right', 'right', 'left'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  for (const contender of [result.mezan, result.pQueue]) {
    table.push([
      contender.name,
      formatCount(contender.medianTasksPerSecond),
      formatCount(Math.min(...contender.runsTasksPerSecond)),
      formatCount(Math.max(...contender.runsTasksPerSecond)),
      contender.runsMs.map((ms) => ms.toFixed(0)).join(', '),
    ]);
  }
  return [
    `Throughput: ${formatCount(tasks)} no-op async tasks, concurrency ${concurrency}, median of ${runs} alternating runs each after ${warmupRounds} warm-up round${warmupRounds === 1 ? '' : 's'}`,
    table.toString(),
    `Ratio mezan / p-queue (median tasks/s): ${formatCount(result.ratio, 2)}`,
  ];
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
