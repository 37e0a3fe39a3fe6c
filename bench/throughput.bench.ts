import { performance } from 'node:perf_hooks';
import { createEngine } from '../src/index';
import type { ThroughputConfig } from './bench-config';
import { collectGarbage } from './collect-garbage';
import { median, ratio, tasksPerSecond } from './stats';

/** The name of a contender in the throughput race. */
export type ContenderName = 'mezan' | 'p-queue';

/** One contender's timed runs and their median. */
export interface ContenderResult {
  readonly name: ContenderName;
  /** Wall time of each timed run, in milliseconds, in the order they ran. */
  readonly runsMs: readonly number[];
  /** Tasks per second of each timed run. */
  readonly runsTasksPerSecond: readonly number[];
  /** The median of `runsTasksPerSecond`. */
  readonly medianTasksPerSecond: number;
}

/** What {@link runThroughputBench} measured. */
export interface ThroughputResult {
  readonly config: ThroughputConfig;
  readonly mezan: ContenderResult;
  readonly pQueue: ContenderResult;
  /** mezan's median tasks/s over p-queue's. */
  readonly ratio: number;
}

/** Runs `tasks` no-op tasks at `concurrency` and returns the wall time, in milliseconds. */
type Contender = (tasks: number, concurrency: number) => Promise<number>;

/**
 * Races mezan against p-queue on no-op async tasks: a warm-up round, then timed runs that
 * alternate which contender goes first, so neither always runs on a warmer or a dirtier heap.
 *
 * @param config - sizes; see {@link ThroughputConfig}
 * @param log - receives one line per timed run
 * @returns every run's figures, the medians and their ratio
 * @throws when a contender does not run every task exactly once
 */
export async function runThroughputBench(config: ThroughputConfig, log: (line: string) => void = () => {}): Promise<ThroughputResult> {
  const contenders: Record<ContenderName, Contender> = { mezan: runMezan, 'p-queue': await loadPQueueContender() };
  const runsMs: Record<ContenderName, number[]> = { mezan: [], 'p-queue': [] };
  const { tasks, concurrency } = config;

  for (let round = 0; round < config.warmupRounds; round++) {
    for (const name of ['mezan', 'p-queue'] as const) await contenders[name](tasks, concurrency);
  }
  for (let run = 0; run < config.runs; run++) {
    const order: ContenderName[] = run % 2 === 0 ? ['mezan', 'p-queue'] : ['p-queue', 'mezan'];
    for (const name of order) {
      const elapsedMs = await contenders[name](tasks, concurrency);
      runsMs[name].push(elapsedMs);
      log(`throughput run ${run + 1}/${config.runs} ${name.padEnd(7)} ${elapsedMs.toFixed(1).padStart(8)} ms`);
    }
  }

  const mezan = summarize('mezan', runsMs.mezan, tasks);
  const pQueue = summarize('p-queue', runsMs['p-queue'], tasks);
  return { config, mezan, pQueue, ratio: ratio(mezan.medianTasksPerSecond, pQueue.medianTasksPerSecond) };
}

function summarize(name: ContenderName, runsMs: readonly number[], tasks: number): ContenderResult {
  const runsTasksPerSecond = runsMs.map((ms) => tasksPerSecond(tasks, ms));
  return { name, runsMs, runsTasksPerSecond, medianTasksPerSecond: median(runsTasksPerSecond) };
}

/** Counts calls; both contenders run the same kind of task, so the count costs them alike. */
function countingNoop(): { readonly task: () => Promise<void>; readonly calls: () => number } {
  let calls = 0;
  return {
    task: async () => {
      calls++;
    },
    calls: () => calls,
  };
}

async function runMezan(tasks: number, concurrency: number): Promise<number> {
  const engine = createEngine({ workers: concurrency });
  const noop = countingNoop();
  collectGarbage();
  const start = performance.now();
  for (let i = 0; i < tasks; i++) engine.submit(noop.task);
  await engine.onIdle();
  const elapsedMs = performance.now() - start;
  const report = await engine.shutdown();
  if (noop.calls() !== tasks || report.completed !== tasks) {
    throw new Error(`mezan ran ${noop.calls()} of ${tasks} tasks (${report.completed} completed)`);
  }
  return elapsedMs;
}

async function loadPQueueContender(): Promise<Contender> {
  // p-queue 9 is ESM-only; module node16 keeps this import() as a real dynamic import in CommonJS output.
  const { default: PQueue } = await import('p-queue');
  return async (tasks, concurrency) => {
    const queue = new PQueue({ concurrency });
    const noop = countingNoop();
    collectGarbage();
    const start = performance.now();
    for (let i = 0; i < tasks; i++) void queue.add(noop.task);
    await queue.onIdle();
    const elapsedMs = performance.now() - start;
    if (noop.calls() !== tasks || queue.size !== 0 || queue.pending !== 0) {
      throw new Error(`p-queue ran ${noop.calls()} of ${tasks} tasks`);
    }
    return elapsedMs;
  };
}
