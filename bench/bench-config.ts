/** Sizes of the workload table: mezan against p-queue, workload by workload. */
export interface WorkloadsConfig {
  /** Timed runs per contender of each workload, alternating which goes first; the median is reported. */
  readonly runs: number;
  /** Untimed rounds (one run of each contender) before the timed ones, to warm the JIT. */
  readonly warmupRounds: number;
  /** Tasks of the no-op workloads (concurrency 8 and 512). */
  readonly noopTasks: number;
  /** Tasks that each await a `setImmediate`. */
  readonly immediateTasks: number;
  /** Tasks that each sleep 1 ms on real timers. */
  readonly sleepTasks: number;
  /** Tasks of the DAG. */
  readonly dagTasks: number;
  /** No-op tasks with random priorities. */
  readonly priorityTasks: number;
  /** Idle-latency samples per contender, spread evenly over the timed runs (rounded up to a multiple of `runs`). */
  readonly latencySamples: number;
  /** Untimed samples at the start of each idle-latency run. */
  readonly latencyWarmupSamples: number;
  /** Timed shutdowns of an idle engine; no warm-up, and few, as one took seconds with 5,000 workers when this was written. */
  readonly shutdownRuns: number;
  /** Tasks an engine runs before its idle shutdown is timed. */
  readonly shutdownTasks: number;
  /** Seeds the DAG and the priorities, so both contenders (and every run) get the same ones. */
  readonly seed: number;
}

/** Sizes of the memory benchmark. */
export interface MemoryConfig {
  /** Tasks left in the queue behind blocked workers. */
  readonly queuedTasks: number;
  /** Workers, each blocked by one task while the queue is measured. */
  readonly workers: number;
  /** Tasks streamed through an engine in total. */
  readonly streamedTasks: number;
  /** Tasks submitted at once before waiting for the engine to go idle. */
  readonly chunk: number;
  /** Memory is sampled after every this many streamed tasks; the first sample is the reference. */
  readonly sampleEvery: number;
}

/** Everything `npm run bench` needs to know. */
export interface BenchConfig {
  /** `true` for the small smoke-test sizes of `--quick`. */
  readonly quick: boolean;
  /** `true` to print the results as JSON instead of tables. */
  readonly json: boolean;
  readonly workloads: WorkloadsConfig;
  readonly memory: MemoryConfig;
}

/** The sizes issue 2 and the workload table ask for. */
export const FULL_SIZES = Object.freeze({
  workloads: Object.freeze({
    runs: 5,
    warmupRounds: 1,
    noopTasks: 100_000,
    immediateTasks: 100_000,
    sleepTasks: 20_000,
    dagTasks: 50_000,
    priorityTasks: 100_000,
    latencySamples: 2_000,
    latencyWarmupSamples: 200,
    shutdownRuns: 3,
    shutdownTasks: 5,
    seed: 7,
  }),
  memory: Object.freeze({ queuedTasks: 100_000, workers: 8, streamedTasks: 1_000_000, chunk: 10_000, sampleEvery: 100_000 }),
});

/** Sizes for `--quick`: the same shape, a tenth of the work or less, for a smoke test. */
export const QUICK_SIZES = Object.freeze({
  workloads: Object.freeze({
    runs: 3,
    warmupRounds: 1,
    noopTasks: 10_000,
    immediateTasks: 10_000,
    sleepTasks: 2_000,
    dagTasks: 5_000,
    priorityTasks: 10_000,
    latencySamples: 150,
    latencyWarmupSamples: 20,
    shutdownRuns: 1,
    shutdownTasks: 5,
    seed: 7,
  }),
  memory: Object.freeze({ queuedTasks: 10_000, workers: 8, streamedTasks: 100_000, chunk: 1_000, sampleEvery: 10_000 }),
});

const USAGE = 'Usage: node --expose-gc dist/bench/run.js [--quick] [--json]';

/**
 * Reads the benchmark's command-line flags.
 *
 * @param argv - the arguments after the script, e.g. `process.argv.slice(2)`
 * @returns the configuration they select
 * @throws {Error} naming the first flag it does not know
 */
export function parseBenchArgs(argv: readonly string[]): BenchConfig {
  let quick = false;
  let json = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = true;
    else throw new Error(`Unknown option \`${arg}\`. ${USAGE}`);
  }
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  return { quick, json, workloads: sizes.workloads, memory: sizes.memory };
}
