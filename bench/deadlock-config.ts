/** Sizes of the deadlock-detection benchmark (issue 3). */
export interface DeadlockBenchConfig {
  /** The detector alone, on a wait-for graph held at a steady size. */
  readonly graph: {
    /** Waiting tasks in the graph. */
    readonly waitingTasks: number;
    /** Timed blocking events, each checked with `detectFrom`. */
    readonly events: number;
    /** Untimed events first, to warm the JIT. */
    readonly warmupEvents: number;
    /** Of the timed events, how many are also checked with a full `detect` (evenly spread). */
    readonly fullDetections: number;
    readonly seed: number;
  };
  /** Engines in virtual time where tasks block, with detection `immediate` and `off`. */
  readonly engine: {
    /** Tasks that block on `ctx.acquire`, one blocking event each. */
    readonly acquireTasks: number;
    /** Timed runs per detection mode of the acquire scenario, alternating. */
    readonly acquireRuns: number;
    /** Waiting tasks of the await scenario: half parents awaiting a child, half children blocked on `ctx.acquire`. */
    readonly awaitTasks: number;
    /** Timed runs per detection mode of the await scenario (each is slow while its cost grows with the awaited tasks). */
    readonly awaitRuns: number;
    /** Size of the untimed warm-up run of each scenario and mode. */
    readonly warmupTasks: number;
    readonly seed: number;
  };
  /** The no-op throughput benchmark with detection on and off. */
  readonly overhead: {
    readonly tasks: number;
    readonly concurrency: number;
    /** Timed runs per mode, alternating which goes first; the median is reported. */
    readonly runs: number;
    readonly warmupRounds: number;
  };
}

/** The sizes issue 3 asks for: 10,000 waiting tasks. */
export const FULL_DEADLOCK_SIZES: DeadlockBenchConfig = Object.freeze({
  graph: Object.freeze({ waitingTasks: 10_000, events: 20_000, warmupEvents: 2_000, fullDetections: 200, seed: 3 }),
  engine: Object.freeze({ acquireTasks: 10_000, acquireRuns: 5, awaitTasks: 10_000, awaitRuns: 1, warmupTasks: 1_000, seed: 3 }),
  overhead: Object.freeze({ tasks: 100_000, concurrency: 8, runs: 7, warmupRounds: 2 }),
});

/** Sizes for `--quick`: a smoke test. */
export const QUICK_DEADLOCK_SIZES: DeadlockBenchConfig = Object.freeze({
  graph: Object.freeze({ waitingTasks: 2_000, events: 2_000, warmupEvents: 500, fullDetections: 40, seed: 3 }),
  engine: Object.freeze({ acquireTasks: 1_000, acquireRuns: 1, awaitTasks: 1_000, awaitRuns: 1, warmupTasks: 200, seed: 3 }),
  overhead: Object.freeze({ tasks: 10_000, concurrency: 8, runs: 5, warmupRounds: 1 }),
});

/** The sizes for a run with or without `--quick`. */
export function deadlockBenchSizes(quick: boolean): DeadlockBenchConfig {
  return quick ? QUICK_DEADLOCK_SIZES : FULL_DEADLOCK_SIZES;
}
