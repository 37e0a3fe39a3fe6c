import { Command, InvalidArgumentError } from 'commander';
import type { EngineProgress } from '../engine-snapshots';
import { isMezanError } from '../errors';
import { loadScenario } from '../simulation/load-scenario';
import type { Scenario } from '../simulation/scenario';
import { scenarioWarnings } from '../simulation/scenario-warnings';
import { simulate, type SimulationReport } from '../simulation/simulate';
import { LazyProgressBar } from './lazy-progress-bar';
import { helpExamples } from './help-examples';
import { replayTrace, type ReplayResult } from './replay-trace';
import { renderSeedSweep, renderSimulationReport, type SeedOutcome } from './simulation-report-table';

/** The exit codes of `mezan simulate`. */
export const SIMULATE_EXIT = Object.freeze({
  /** Every expectation held (for every seed); or a replay gave the same trace. */
  ok: 0,
  /** An expectation did not hold (for some seed); or a replay's trace differs from the file. */
  failed: 1,
  /** A bad scenario file, a file that is not a trace, or a bad combination of flags: nothing ran. */
  invalid: 2,
});

/** Where `mezan simulate` writes; injected so tests can read it. */
export interface SimulateIo {
  /** Tables, JSON and verdicts. */
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Error messages and the progress bar (drawn only when this is a TTY). */
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Receives the exit code. @default sets `process.exitCode` */
  readonly setExitCode?: (code: number) => void;
  /** Wall-clock milliseconds a run lasts before the progress bar appears. @default 1000 */
  readonly progressAfterMs?: number;
}

/** The flags of `mezan simulate`, as commander parses them. */
export interface SimulateFlags {
  seed?: number;
  seeds?: SeedRange;
  trace?: string;
  json?: boolean;
  replay?: string;
  /** The most top-level tasks a scenario may make (default 1,000,000). */
  maxTasks?: number;
  /** The largest scenario file, in MiB (default 16). */
  maxFileMib?: number;
}

/** An inclusive range of seeds, `A..B`. */
export interface SeedRange {
  readonly from: number;
  readonly to: number;
}

/** The seed a run uses when none is given; the same as `simulate`'s. */
export const DEFAULT_SEED = 1;
/** The most seeds one sweep runs. */
const MAX_SWEEP = 1_000_000;
/** Seeds are 32-bit: `seededRandom` keeps only the low 32 bits, so a wider seed would repeat a narrower one's draws. */
const MIN_SEED = -(2 ** 31);
const MAX_SEED = 2 ** 31 - 1;

/**
 * The `mezan simulate` command: runs a scenario file in virtual time and prints a summary (or JSON);
 * sweeps a range of seeds; or replays a trace and confirms its hash.
 *
 * @param io - where it writes; the process's streams by default
 * @returns a commander command to add to the program
 * @example
 * ```ts
 * await createSimulateCommand().parseAsync(['examples/showcase.yaml', '--seed', '7'], { from: 'user' });
 * ```
 */
export function createSimulateCommand(io: SimulateIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  return new Command('simulate')
    .description('run a scenario file (YAML or JSON) on the real engine in virtual time, seeded and replayable')
    .argument('[file]', 'the scenario file')
    .option('--seed <n>', `the seed of every random draw, a 32-bit integer (default ${DEFAULT_SEED})`, parseSeed)
    .option('--seeds <A..B>', 'run every seed from A to B and list the failing ones', parseSeedRange)
    .option('--trace <out.jsonl>', 'write the trace (JSON lines of engine events in virtual time) to this file')
    .option('--json', 'print the report as JSON')
    .option('--replay <trace.jsonl>', "rerun a trace's scenario and seed and confirm the same trace hash")
    .option('--max-tasks <n>', 'the most top-level tasks a scenario may make (default 1,000,000)', parsePositiveCount)
    .option('--max-file-mib <n>', 'the largest scenario file, in MiB (default 16)', parsePositiveCount)
    .addHelpText(
      'after',
      helpExamples([
        ['mezan simulate examples/dining-philosophers.yaml', 'a summary table; exit 0 when every expectation holds'],
        ['mezan simulate examples/showcase.yaml --seed 7 --trace out.jsonl', 'one seed, its trace written as JSON lines'],
        ['mezan simulate examples/showcase.yaml --seeds 1..50', 'a sweep of seeds, listing the failing ones'],
        ['mezan simulate --replay out.jsonl', "rerun a trace's scenario and seed, confirm the same hash"],
        ['mezan simulate examples/showcase.yaml --json', 'the report as JSON'],
      ]),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 every expectation holds (or the replay matches), 1 one does not (or the replay differs),\n2 a bad scenario file, a file that is not a trace, or flags that do not go together.',
    )
    .action(async (file: string | undefined, flags: SimulateFlags) => {
      const setExitCode = io.setExitCode ?? ((code: number) => void (process.exitCode = code));
      setExitCode(await runSimulateCommand(file, flags, io));
    });
}

/**
 * What `mezan simulate` does once its arguments are parsed.
 *
 * @param file - the scenario file (absent with `--replay`)
 * @param flags - see {@link SimulateFlags}
 * @param io - see {@link SimulateIo}
 * @returns the exit code, one of {@link SIMULATE_EXIT}
 */
export async function runSimulateCommand(file: string | undefined, flags: SimulateFlags, io: SimulateIo): Promise<number> {
  const usage = usageProblem(file, flags);
  if (usage !== undefined) {
    io.stderr.write(`mezan simulate: ${usage}\n`);
    return SIMULATE_EXIT.invalid;
  }
  try {
    if (flags.replay !== undefined) return await replay(flags.replay, flags, io);
    const scenario = loadScenario(file!, {
      maxTasks: flags.maxTasks,
      maxBytes: flags.maxFileMib === undefined ? undefined : flags.maxFileMib * 1024 * 1024,
    });
    for (const warning of scenarioWarnings(scenario)) io.stderr.write(`${file}: warning: ${warning}\n`);
    if (flags.seeds !== undefined) return await sweep(scenario, file!, flags.seeds, flags, io);
    return await runOnce(scenario, flags, io);
  } catch (error) {
    // A bad file (or a file that is not a trace) is the user's to fix: its message says where.
    if (isMezanError(error) && (error.code === 'E_INVALID_SCENARIO' || error.code === 'E_INVALID_OPTION')) {
      io.stderr.write(`${error.message}\n`);
      return SIMULATE_EXIT.invalid;
    }
    throw error;
  }
}

function usageProblem(file: string | undefined, flags: SimulateFlags): string | undefined {
  if (flags.replay !== undefined) {
    if (file !== undefined) return 'give either a scenario file or --replay <trace>, not both';
    if (flags.seed !== undefined || flags.seeds !== undefined) return '--replay takes its seed from the trace; drop --seed/--seeds';
    return undefined;
  }
  if (file === undefined) return 'missing the scenario file (or --replay <trace>); see mezan simulate --help';
  if (flags.seed !== undefined && flags.seeds !== undefined) return 'give either --seed or --seeds, not both';
  if (flags.seeds !== undefined && flags.trace !== undefined)
    return '--trace writes one run; rerun a failing seed alone with --seed N --trace out.jsonl';
  return undefined;
}

async function runOnce(scenario: Scenario, flags: SimulateFlags, io: SimulateIo): Promise<number> {
  const bar = taskBar(io, scenario);
  let report: SimulationReport;
  try {
    report = await simulate(scenario, { seed: flags.seed ?? DEFAULT_SEED, trace: flags.trace, onProgress: bar.onProgress, maxTasks: flags.maxTasks });
  } finally {
    bar.stop();
  }
  if (flags.json === true) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    io.stdout.write(`${renderSimulationReport(report, { color: io.stdout.isTTY === true })}\n`);
    if (flags.trace !== undefined) io.stdout.write(`trace: ${flags.trace}\n`);
  }
  return report.ok ? SIMULATE_EXIT.ok : SIMULATE_EXIT.failed;
}

async function sweep(scenario: Scenario, file: string, range: SeedRange, flags: SimulateFlags, io: SimulateIo): Promise<number> {
  const count = range.to - range.from + 1;
  const bar = new LazyProgressBar({
    stream: io.stderr,
    format: ' {bar} {value}/{total} seeds | failing {failing} | {duration_formatted}',
    afterMs: io.progressAfterMs ?? 1000,
  });
  const outcomes: SeedOutcome[] = [];
  let failing = 0;
  try {
    for (let seed = range.from; seed <= range.to; seed++) {
      const done = seed - range.from;
      const onProgress = (): void => bar.update(done, count, { failing });
      let outcome: SeedOutcome;
      try {
        const report = await simulate(scenario, { seed, onProgress, maxTasks: flags.maxTasks });
        outcome = {
          seed,
          ok: report.ok,
          traceHash: report.traceHash,
          failed: report.expectations.filter((expectation) => !expectation.ok).map(({ name, expected, actual }) => ({ name, expected, actual })),
        };
      } catch (error) {
        // One seed that breaks the engine is a finding of the sweep, not the end of it.
        outcome = { seed, ok: false, failed: [], error: error instanceof Error ? error.message : String(error) };
      }
      if (!outcome.ok) failing++;
      outcomes.push(outcome);
      bar.update(done + 1, count, { failing });
    }
  } finally {
    bar.stop();
  }
  const failingSeeds = outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.seed);
  if (flags.json === true) {
    io.stdout.write(`${JSON.stringify({ scenario: scenario.name ?? file, seeds: range, runs: outcomes, failing: failingSeeds }, null, 2)}\n`);
  } else {
    io.stdout.write(`${renderSeedSweep(outcomes, `mezan simulate ${quoteArg(file)} --seed {seed}`, { color: io.stdout.isTTY === true })}\n`);
  }
  return failingSeeds.length === 0 ? SIMULATE_EXIT.ok : SIMULATE_EXIT.failed;
}

async function replay(trace: string, flags: SimulateFlags, io: SimulateIo): Promise<number> {
  const bar = new LazyProgressBar({
    stream: io.stderr,
    format: ' replaying {bar} {percentage}% | {value}/{total} tasks settled | {duration_formatted}',
    afterMs: io.progressAfterMs ?? 1000,
  });
  let result: ReplayResult;
  try {
    result = await replayTrace(trace, {
      trace: flags.trace,
      maxTasks: flags.maxTasks,
      onProgress: (progress) => bar.update(settledOf(progress), progress.total),
    });
  } finally {
    bar.stop();
  }
  if (flags.json === true) {
    const { scenario, report, ...rest } = result;
    io.stdout.write(`${JSON.stringify({ ...rest, scenario: scenario.name ?? scenario.file, events: report.events }, null, 2)}\n`);
  } else if (result.ok) {
    io.stdout.write(`replay ok: ${trace} (seed ${result.seed}) reran to the same ${result.report.events} events; sha256 ${result.recordedHash}\n`);
  } else {
    const { difference } = result;
    const lines = [
      `replay MISMATCH: ${trace} (seed ${result.seed}) reran to a different trace`,
      `  recorded sha256 ${result.recordedHash}`,
      `  replayed sha256 ${result.replayedHash}`,
    ];
    if (difference !== undefined) {
      lines.push(`  first difference at line ${difference.line}:`);
      lines.push(`    recorded: ${clip(difference.recorded ?? '(end of file)')}`);
      lines.push(`    replayed: ${clip(difference.replayed ?? '(end of trace)')}`);
    }
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return result.ok ? SIMULATE_EXIT.ok : SIMULATE_EXIT.failed;
}

/** A progress bar over the scenario's tasks: those it plans, and the children they add. */
function taskBar(io: SimulateIo, scenario: Scenario): { onProgress: (progress: EngineProgress) => void; stop: () => void } {
  const planned = plannedTasks(scenario);
  const bar = new LazyProgressBar({
    stream: io.stderr,
    format: ' {bar} {percentage}% | {value}/{total} tasks | ok {completed} failed {failed} | virtual {virtual} | {duration_formatted}',
    afterMs: io.progressAfterMs ?? 1000,
  });
  return {
    onProgress: (progress) =>
      bar.update(settledOf(progress), Math.max(planned, progress.total), {
        completed: progress.completed,
        failed: progress.failed + progress.timedOut + progress.deadlocked,
        virtual: `${Math.round(progress.elapsedMs)} ms`,
      }),
    stop: () => bar.stop(),
  };
}

function plannedTasks(scenario: Scenario): number {
  let planned = 0;
  for (const entry of scenario.tasks ?? []) planned += 'generate' in entry ? (entry.generate.times?.length ?? entry.generate.count ?? 0) : 1;
  return planned;
}

function settledOf(progress: EngineProgress): number {
  return progress.completed + progress.failed + progress.cancelled + progress.timedOut + progress.deadlocked + progress.rejected;
}

function clip(line: string): string {
  return line.length > 240 ? `${line.slice(0, 237)}...` : line;
}

function quoteArg(arg: string): string {
  return /^[\w./@:-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A usage error from an option's parser: exit code 2, like a bad file. */
function usageError(message: string): InvalidArgumentError {
  const error = new InvalidArgumentError(message);
  error.exitCode = SIMULATE_EXIT.invalid;
  return error;
}

function parsePositiveCount(value: string): number {
  const parsed = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw usageError(`Expected a positive integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

function parseSeed(value: string): number {
  const parsed = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || parsed < MIN_SEED || parsed > MAX_SEED) {
    throw usageError(`Expected an integer from ${MIN_SEED} to ${MAX_SEED}, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

/**
 * Parses `A..B` (integers, `A <= B`).
 * @throws InvalidArgumentError (exit code 2) for anything else
 */
export function parseSeedRange(value: string): SeedRange {
  const match = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(value);
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (match === null || from < MIN_SEED || to > MAX_SEED) {
    throw usageError(`Expected a range of seeds such as 1..100, from ${MIN_SEED} to ${MAX_SEED}, got ${JSON.stringify(value)}.`);
  }
  if (from > to) throw usageError(`Expected the first seed to be at most the last, got ${JSON.stringify(value)}.`);
  if (to - from + 1 > MAX_SWEEP) throw usageError(`Expected at most ${MAX_SWEEP} seeds, got ${to - from + 1}.`);
  return { from, to };
}
