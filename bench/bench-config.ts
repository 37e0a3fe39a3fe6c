/** Sizes of the throughput benchmark. */
export interface ThroughputConfig {
  /** No-op tasks per run. */
  readonly tasks: number;
  /** mezan workers and p-queue concurrency. */
  readonly concurrency: number;
  /** Timed runs per contender; the median is reported. */
  readonly runs: number;
  /** Untimed rounds (one run of each contender) before the timed ones, to warm the JIT. */
  readonly warmupRounds: number;
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
  readonly throughput: ThroughputConfig;
  readonly memory: MemoryConfig;
}

/** The sizes issue 2 asks for. */
export const FULL_SIZES = Object.freeze({
  throughput: Object.freeze({ tasks: 100_000, concurrency: 8, runs: 7, warmupRounds: 2 }),
  memory: Object.freeze({ queuedTasks: 100_000, workers: 8, streamedTasks: 1_000_000, chunk: 10_000, sampleEvery: 100_000 }),
});

/** Sizes for `--quick`: the same shape, a tenth of the work, for a smoke test. */
export const QUICK_SIZES = Object.freeze({
  throughput: Object.freeze({ tasks: 10_000, concurrency: 8, runs: 5, warmupRounds: 1 }),
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
  return { quick, json, throughput: sizes.throughput, memory: sizes.memory };
}
