/** Sizes and limits of `npm run soak`. */
export interface SoakConfig {
  /** `true` for the smoke-test sizes of `--quick`. */
  readonly quick: boolean;
  /** `true` to print the result as JSON instead of tables. */
  readonly json: boolean;
  /** Seeds every choice the soak makes (task kinds, cancels, crashes, positions of the deadlocks). */
  readonly seed: number;
  /** Tasks streamed through the engine before the shutdown burst (children of tasks not counted). */
  readonly tasks: number;
  /** Tasks submitted at once; the next chunk is submitted once the engine is idle again. */
  readonly chunk: number;
  /** Memory is sampled after every this many streamed tasks; the first sample ends the warm-up. */
  readonly sampleEvery: number;
  /** Tasks submitted just before `engine.shutdown({ graceMs: shutdownGraceMs })`. */
  readonly burst: number;
  /** How long the shutdown under load may drain before it aborts what runs. */
  readonly shutdownGraceMs: number;
  /** Pairs of tasks per chunk (and in the burst) that take two pools in opposite orders. */
  readonly deadlockPairsPerChunk: number;
  /** The chance that a worker crash is injected while a chunk runs (at most one per chunk). */
  readonly crashChance: number;
  /** The engine's concurrency. */
  readonly concurrency: number;
  /** A chunk that has not settled after this long is a hang: the soak stops and fails. */
  readonly chunkTimeoutMs: number;
  /** The most `heapUsed` may grow from the first sample after warm-up to the last one. */
  readonly maxHeapGrowthBytes: number;
}

const MIB = 1024 * 1024;

/** The sizes issue 9 asks for: a million tasks, in well under three minutes on two cores. */
export const SOAK_FULL: Omit<SoakConfig, 'quick' | 'json' | 'seed'> = Object.freeze({
  tasks: 1_000_000,
  chunk: 10_000,
  sampleEvery: 100_000,
  burst: 50_000,
  shutdownGraceMs: 50,
  deadlockPairsPerChunk: 4,
  crashChance: 0.5,
  concurrency: 32,
  chunkTimeoutMs: 60_000,
  maxHeapGrowthBytes: 50 * MIB,
});

/** `--quick`: a tenth of the tasks, sampled ten times as often, for a smoke run. */
export const SOAK_QUICK: Omit<SoakConfig, 'quick' | 'json' | 'seed'> = Object.freeze({
  ...SOAK_FULL,
  tasks: 100_000,
  chunk: 5_000,
  sampleEvery: 10_000,
  burst: 10_000,
});

/** The seed when `--seed` is not given. */
export const DEFAULT_SOAK_SEED = 9;

export const SOAK_USAGE = 'Usage: node --expose-gc dist/bench/soak.js [--quick] [--json] [--seed <integer>]';

/**
 * Reads the soak's command-line flags: `--quick`, `--json`, `--seed <n>` (or `--seed=<n>`).
 *
 * @param argv - the arguments after the script, e.g. `process.argv.slice(2)`
 * @throws {Error} naming the first argument it does not understand
 */
export function parseSoakArgs(argv: readonly string[]): SoakConfig {
  let quick = false;
  let json = false;
  let seed = DEFAULT_SOAK_SEED;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = true;
    else if (arg === '--seed' || arg.startsWith('--seed=')) {
      const text = arg === '--seed' ? argv[++i] : arg.slice('--seed='.length);
      if (text === undefined || !/^-?\d+$/.test(text)) throw new Error(`--seed needs an integer, got ${JSON.stringify(text)}. ${SOAK_USAGE}`);
      seed = Number(text);
    } else throw new Error(`Unknown option \`${arg}\`. ${SOAK_USAGE}`);
  }
  return { quick, json, seed, ...(quick ? SOAK_QUICK : SOAK_FULL) };
}
