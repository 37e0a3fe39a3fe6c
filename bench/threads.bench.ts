import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { createEngine, inThread } from '../src/index';
import { alternateRuns, type RaceRounds } from './alternating-runs';
import { formatCount } from './format';
import { median, ratio, tasksPerSecond } from './stats';
import { hashRounds } from './thread-tasks';

/** The sizes of the threads benchmark. */
export interface ThreadsBenchConfig extends RaceRounds {
  /** Threads on both sides. */
  readonly threads: number;
  /** CPU tasks per run. */
  readonly cpuTasks: number;
  /** SHA-256 rounds over a megabyte per CPU task (about 5 ms of CPU here with 10). */
  readonly hashRounds: number;
  /** Tiny tasks per run. */
  readonly tinyTasks: number;
}

/** The sizes of the rows: 400 tasks of about 5 ms and 10,000 tiny ones, on 2 threads. */
export function threadsBenchConfig(quick: boolean): ThreadsBenchConfig {
  return quick
    ? { threads: 2, cpuTasks: 40, hashRounds: 10, tinyTasks: 1_000, runs: 3, warmupRounds: 1 }
    : { threads: 2, cpuTasks: 400, hashRounds: 10, tinyTasks: 10_000, runs: 5, warmupRounds: 2 };
}

/** One row: mezan's figure against its peer's (Piscina's, or mezan on the main thread). */
export interface ThreadsRow {
  readonly id: 'cpu-vs-piscina' | 'cpu-vs-main-thread' | 'tiny-vs-piscina';
  readonly workload: string;
  readonly tasks: number;
  /** mezan with threads: each timed run's tasks/s, and their median. */
  readonly mezan: { readonly runs: readonly number[]; readonly median: number };
  readonly peerName: string;
  readonly peer: { readonly runs: readonly number[]; readonly median: number };
  /** mezan/peer tasks/s: higher is better. */
  readonly ratio: number;
  readonly required: string;
}

/** What {@link runThreadsBench} measured. */
export interface ThreadsResult {
  readonly config: ThreadsBenchConfig;
  /** The milliseconds one CPU task took on the main thread, measured before the rows. */
  readonly cpuTaskMs: number;
  readonly availableParallelism: number;
  readonly rows: readonly ThreadsRow[];
}

/** The module both sides' threads load: compiled beside this file. */
const TASKS = path.join(__dirname, 'thread-tasks.js');

/**
 * mezan's worker threads against Piscina's used directly, and against the main thread: 400 CPU tasks
 * of about 5 ms (SHA-256 over a megabyte, with node:crypto) and 10,000 tiny ones, each race's runs
 * alternating in one process. Each side keeps one engine or pool for its race, warmed by the
 * warm-up round; a run submits every task at once and waits for all.
 */
export async function runThreadsBench(config: ThreadsBenchConfig, log: (line: string) => void): Promise<ThreadsResult> {
  const cpuTaskMs = timeOneCpuTask(config.hashRounds);
  log(`threads: one CPU task takes ${cpuTaskMs.toFixed(2)} ms on the main thread`);
  const rows: ThreadsRow[] = [];
  const cpuTask = inThread(TASKS, { export: 'hashTask' });
  const tinyTask = inThread(TASKS, { export: 'tinyTask' });
  const threaded = createEngine({ threads: config.threads, logger: false });
  const mainOnly = createEngine({ threads: 0, concurrency: 1, logger: false });
  const piscina = new Piscina({ filename: TASKS, minThreads: config.threads, maxThreads: config.threads });
  try {
    const cpuMezan = (): Promise<number> => timeAll(config.cpuTasks, () => threaded.submit(cpuTask, { input: config.hashRounds }).result);
    rows.push(
      await race(
        'cpu-vs-piscina',
        `${config.cpuTasks} CPU tasks (${config.hashRounds} × SHA-256 of 1 MB)`,
        config,
        'Piscina',
        '≥ 0.9×',
        cpuMezan,
        () => timeAll(config.cpuTasks, () => piscina.run(config.hashRounds, { name: 'hashHandler' })),
        log,
      ),
    );
    rows.push(
      await race(
        'cpu-vs-main-thread',
        `${config.cpuTasks} CPU tasks (${config.hashRounds} × SHA-256 of 1 MB)`,
        config,
        'mezan, main thread',
        `≥ 1.7× on 2 cores`,
        cpuMezan,
        () => timeAll(config.cpuTasks, () => mainOnly.submit(() => hashRounds(config.hashRounds)).result),
        log,
      ),
    );
    rows.push(
      await race(
        'tiny-vs-piscina',
        `${formatCount(config.tinyTasks)} tiny tasks`,
        config,
        'Piscina',
        '≥ 0.8×',
        () => timeAll(config.tinyTasks, (n) => threaded.submit(tinyTask, { input: n }).result),
        () => timeAll(config.tinyTasks, (n) => piscina.run(n, { name: 'tinyHandler' })),
        log,
      ),
    );
  } finally {
    await Promise.all([threaded.shutdown(), mainOnly.shutdown(), piscina.destroy()]);
  }
  return { config, cpuTaskMs, availableParallelism: os.availableParallelism(), rows };
}

async function race(
  id: ThreadsRow['id'],
  workload: string,
  config: ThreadsBenchConfig,
  peerName: string,
  required: string,
  mezan: () => Promise<number>,
  peer: () => Promise<number>,
  log: (line: string) => void,
): Promise<ThreadsRow> {
  const tasks = id === 'tiny-vs-piscina' ? config.tinyTasks : config.cpuTasks;
  const measured = await alternateRuns(
    (side) => (side === 'mezan' ? mezan() : peer()),
    config,
    (index, side, ms) => log(`threads ${id}: run ${index + 1} ${side === 'mezan' ? 'mezan' : peerName} ${ms.toFixed(0)} ms`),
  );
  const mezanRuns = measured.mezan.map((ms) => tasksPerSecond(tasks, ms));
  const peerRuns = measured.peer.map((ms) => tasksPerSecond(tasks, ms));
  const mezanMedian = median(mezanRuns);
  const peerMedian = median(peerRuns);
  return {
    id,
    workload,
    tasks,
    mezan: { runs: mezanRuns, median: mezanMedian },
    peerName,
    peer: { runs: peerRuns, median: peerMedian },
    ratio: ratio(mezanMedian, peerMedian),
    required,
  };
}

/** Starts `count` tasks at once and waits for all; returns the wall time in milliseconds. */
async function timeAll(count: number, start: (n: number) => Promise<unknown>): Promise<number> {
  const begun = performance.now();
  const results: Array<Promise<unknown>> = new Array(count);
  for (let n = 0; n < count; n++) results[n] = start(n);
  await Promise.all(results);
  return performance.now() - begun;
}

/** The median of a few timed CPU tasks on the main thread, after a warm-up. */
function timeOneCpuTask(rounds: number): number {
  for (let warm = 0; warm < 3; warm++) hashRounds(rounds);
  const samples: number[] = [];
  for (let sample = 0; sample < 9; sample++) {
    const begun = performance.now();
    hashRounds(rounds);
    samples.push(performance.now() - begun);
  }
  return median(samples);
}

/** The rows as a table, in the report's style. */
export function formatThreadsReport(result: ThreadsResult): string {
  const lines = [
    `Worker threads (${result.config.threads} threads; ${result.availableParallelism} available; one CPU task ${result.cpuTaskMs.toFixed(2)} ms; tasks/s, medians of ${result.config.runs} alternating runs)`,
    '',
    '| workload | mezan threads | peer | peer tasks/s | ratio | required |',
    '| --- | ---: | --- | ---: | ---: | --- |',
  ];
  for (const row of result.rows) {
    lines.push(
      `| ${row.workload} | ${formatCount(Math.round(row.mezan.median))} | ${row.peerName} | ${formatCount(Math.round(row.peer.median))} | ${row.ratio.toFixed(2)}× | ${row.required} |`,
    );
  }
  return lines.join('\n');
}
