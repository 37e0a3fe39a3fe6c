// The soak's figures and its verdict: what `--json` prints, and the checks that decide the exit code.
// Pure: nothing here runs an engine.
import type { ShutdownReport } from '../src/engine-snapshots';
import type { SoakConfig } from './soak-config';

/** The terminal statuses a handle can end in, in the order the report prints them. */
export const SOAK_STATUSES = ['completed', 'failed', 'cancelled', 'timeout', 'deadlock', 'rejected'] as const;

/** A terminal status of a task. */
export type SoakStatus = (typeof SOAK_STATUSES)[number];

/** Handles by the status they ended in. */
export type StatusCounts = Record<SoakStatus, number>;

/** How the handles of a phase settled: each must settle exactly once, consistently with its status. */
export interface SettlementCheck {
  /** Handles tracked (tasks submitted, children of tasks and refused submissions included). */
  readonly handles: number;
  /** Handles whose `result` settled exactly once. */
  readonly settledOnce: number;
  /** Handles whose `result` never settled. */
  readonly neverSettled: number;
  /** Handles whose `result` callbacks ran more than once (a promise cannot: this is a bookkeeping check). */
  readonly settledTwice: number;
  /**
   * Handles whose outcome disagrees with their status: not terminal after settling, fulfilled
   * without `completed` (or the reverse), or an error that is not a `MezanError` with a code.
   */
  readonly inconsistent: number;
  /** By terminal status. */
  readonly byStatus: StatusCounts;
  /** Rejections by `MezanError` code. */
  readonly byCode: Readonly<Record<string, number>>;
  /** A few of the handles that failed a check, described. */
  readonly examples: readonly string[];
}

/** Process memory after a full garbage collection, `tasks` tasks into the stream. */
export interface SoakMemorySample {
  readonly tasks: number;
  /** Wall time since the soak began, in milliseconds. */
  readonly atMs: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

/** Growth from the first sample after warm-up to the last. */
export interface MemoryGrowth {
  readonly fromTasks: number;
  readonly toTasks: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** `heapUsed` growth per 1,000 tasks between the two samples. */
  readonly heapPerThousandTasks: number;
}

/** The shutdown report, as `engine.shutdown()` resolved it. */
export type SoakShutdownReport = ShutdownReport;

/** Everything one soak measured; `--json` prints exactly this. */
export interface SoakResult {
  readonly config: SoakConfig;
  readonly environment: { readonly node: string; readonly platform: string; readonly cpu: string; readonly cpus: number };
  readonly stream: {
    /** Top-level tasks submitted. */
    readonly tasks: number;
    /** Children submitted by tasks with `ctx.submit`. */
    readonly children: number;
    readonly chunks: number;
    readonly wallMs: number;
    /** Top-level tasks per second of wall time. */
    readonly tasksPerSecond: number;
    /** Tasks per second of the first and of the last tenth of the chunks: a leak slows the stream down. */
    readonly firstTenthTasksPerSecond: number;
    readonly lastTenthTasksPerSecond: number;
    /** Wall time of the slowest chunk. */
    readonly slowestChunkMs: number;
    readonly settlement: SettlementCheck;
    /** Chunks whose handles' statuses disagree with the engine's own counts (`engine.progress()`), described. */
    readonly bookMismatches: readonly string[];
  };
  readonly burst: {
    readonly tasks: number;
    readonly children: number;
    /** Tasks submitted after `shutdown()` was called: they must end `rejected`. */
    readonly submittedAfterShutdown: number;
    /** Tasks that ignore their abort signal, running when the shutdown began: they should be `abandoned`. */
    readonly stubborn: readonly string[];
    /** How long `engine.shutdown()` took to resolve, in wall milliseconds. */
    readonly shutdownMs: number;
    readonly settlement: SettlementCheck;
    readonly bookMismatches: readonly string[];
    readonly report: SoakShutdownReport | undefined;
  };
  readonly engine: {
    readonly deadlocksDetected: number;
    readonly deadlocksResolved: number;
    readonly resolvedByVictim: number;
    readonly resolvedByCompensation: number;
    /** Deadlock pairs submitted (two tasks taking two pools in opposite orders). */
    readonly deadlockPairs: number;
    /** Pair members that gave up waiting for their partner to take its first pool (no deadlock then). */
    readonly pairBarrierTimeouts: number;
    readonly crashesInjected: number;
    readonly crashes: number;
    readonly restarts: number;
    readonly escalations: number;
    /** Attempts after the first that started (retries after failures, crashes and deadlocks). */
    readonly retries: number;
    /** `handle.cancel()` calls, and how many returned `true`. */
    readonly cancelCalls: number;
    readonly cancelsAccepted: number;
    /** Warnings and errors the engine logged, by level and message. */
    readonly logged: Readonly<Record<string, number>>;
  };
  readonly memory: {
    /** Before any task, with the engine created. */
    readonly baseline: SoakMemorySample;
    /** After every `sampleEvery` streamed tasks. */
    readonly samples: readonly SoakMemorySample[];
    readonly growth: MemoryGrowth | undefined;
  };
  /** Set when a chunk or the shutdown did not settle in time: what the engine looked like then. */
  readonly stall: string | null;
  readonly totalMs: number;
  /** Every check that failed; empty when the soak passed. */
  readonly failures: readonly string[];
}

/** An empty {@link StatusCounts}. */
export function emptyStatusCounts(): StatusCounts {
  return { completed: 0, failed: 0, cancelled: 0, timeout: 0, deadlock: 0, rejected: 0 };
}

/**
 * Growth from the first sample (the end of the warm-up) to the last.
 *
 * @returns `undefined` with fewer than two samples
 */
export function memoryGrowth(samples: readonly SoakMemorySample[]): MemoryGrowth | undefined {
  if (samples.length < 2) return undefined;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const heapUsed = last.heapUsed - first.heapUsed;
  const tasks = last.tasks - first.tasks;
  return {
    fromTasks: first.tasks,
    toTasks: last.tasks,
    rss: last.rss - first.rss,
    heapUsed,
    heapPerThousandTasks: tasks > 0 ? (heapUsed / tasks) * 1000 : Number.NaN,
  };
}

/**
 * The engine's counts in a shutdown report set against the handles' statuses and the submissions.
 *
 * @param report - what `engine.shutdown()` resolved with
 * @param handles - every handle of the engine's life, by status
 * @param submitted - every submission the soak made (children and refused ones included)
 * @returns one line per disagreement; empty when everything adds up
 */
export function checkShutdownReport(report: SoakShutdownReport, handles: StatusCounts, submitted: number): string[] {
  const problems: string[] = [];
  if (report.lost !== 0) problems.push(`report.lost is ${report.lost}, not 0`);
  const ended = report.completed + report.failed + report.cancelled + report.timedOut + report.deadlocked + report.rejected;
  if (ended !== report.submitted) problems.push(`the report's statuses add up to ${ended}, but it counts ${report.submitted} submitted`);
  if (report.submitted !== submitted) problems.push(`the report counts ${report.submitted} submitted, the soak submitted ${submitted}`);
  const pairs: ReadonlyArray<readonly [SoakStatus, number]> = [
    ['completed', report.completed],
    ['failed', report.failed],
    ['cancelled', report.cancelled],
    ['timeout', report.timedOut],
    ['deadlock', report.deadlocked],
    ['rejected', report.rejected],
  ];
  for (const [status, count] of pairs) {
    if (handles[status] !== count) problems.push(`the report counts ${count} ${status}, the handles ${handles[status]}`);
  }
  return problems;
}

function settlementFailures(phase: string, check: SettlementCheck): string[] {
  const failures: string[] = [];
  if (check.neverSettled > 0) failures.push(`${phase}: ${check.neverSettled} of ${check.handles} handles never settled`);
  if (check.settledTwice > 0) failures.push(`${phase}: ${check.settledTwice} handles settled more than once`);
  if (check.inconsistent > 0) failures.push(`${phase}: ${check.inconsistent} handles settled inconsistently with their status`);
  if (check.settledOnce !== check.handles) failures.push(`${phase}: ${check.settledOnce} of ${check.handles} handles settled exactly once`);
  return failures;
}

/**
 * The soak's verdict: every check that failed. The soak exits with code 1 when there is any.
 *
 * @param result - the figures, without their verdict
 * @param expectedSubmissions - every submission the soak made (the report must count exactly these)
 */
export function judgeSoak(result: Omit<SoakResult, 'failures'>, expectedSubmissions: number): string[] {
  const failures: string[] = [];
  if (result.stall !== null) failures.push(`stalled: ${result.stall}`);
  failures.push(...settlementFailures('stream', result.stream.settlement));
  failures.push(...settlementFailures('burst', result.burst.settlement));
  for (const mismatch of result.stream.bookMismatches) failures.push(`stream: ${mismatch}`);
  for (const mismatch of result.burst.bookMismatches) failures.push(`burst: ${mismatch}`);
  const report = result.burst.report;
  if (report === undefined) failures.push('the shutdown never resolved');
  else {
    const handles = emptyStatusCounts();
    for (const status of SOAK_STATUSES) handles[status] = result.stream.settlement.byStatus[status] + result.burst.settlement.byStatus[status];
    failures.push(...checkShutdownReport(report, handles, expectedSubmissions).map((problem) => `shutdown: ${problem}`));
    const stubborn = new Set(result.burst.stubborn);
    const unexpected = report.abandoned.filter((id) => !stubborn.has(id));
    if (unexpected.length > 0) failures.push(`shutdown: abandoned tasks that respect their signal: ${unexpected.join(', ')}`);
    const abandoned = new Set(report.abandoned);
    const missing = result.burst.stubborn.filter((id) => !abandoned.has(id));
    if (missing.length > 0) failures.push(`shutdown: tasks deaf to their signal, not reported abandoned: ${missing.join(', ')}`);
  }
  if (result.engine.escalations > 0) failures.push(`the engine escalated ${result.engine.escalations} times (supervision limits exceeded)`);
  const growth = result.memory.growth;
  const limit = result.config.maxHeapGrowthBytes;
  if (growth !== undefined && growth.heapUsed > limit) {
    failures.push(`heapUsed grew by ${growth.heapUsed} bytes from ${growth.fromTasks} to ${growth.toTasks} tasks (limit ${limit})`);
  }
  return failures;
}
