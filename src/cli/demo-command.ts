import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Subscription } from 'rxjs';
import { realClock, type Clock } from '../clock';
import { createEngine, type Engine } from '../engine';
import type { EngineProgress, EngineStats, ShutdownReport } from '../engine-snapshots';
import { isMezanError } from '../errors';
import { expectNonNegativeInteger, expectPositiveInteger, fail } from '../internal/validate';
import { seededRandom, type RandomSource } from '../random';
import type { TaskHandle } from '../task-handle';
import type { TaskContext, TaskGraphNode, TaskOptions } from '../task-options';
import type { TerminalTaskStatus } from '../task-status';
import { renderSummaryTable } from './summary-table';
import { measureThreadSpeedup, type ThreadSpeedup } from './demo-thread-speedup';
import { helpExamples } from './help-examples';

/** Options of {@link runDemo}; the `mezan demo` flags. */
export interface DemoOptions {
  /** How many tasks the workload submits, dependency chains included. @default 1200 */
  tasks?: number;
  /** How many tasks the engine runs at once. @default 16 */
  concurrency?: number;
  /**
   * @deprecated Use {@link DemoOptions.concurrency}: `workers: n` is read as `concurrency: n`; both
   * with different values are refused.
   */
  workers?: number;
  /** The seed of the workload's mix (kinds, durations, priorities, failures). @default 42 */
  seed?: number;
  /**
   * How many worker threads the thread speedup uses: after the workload, the same CPU-bound tasks
   * run on the main thread and on that many threads, in real time; `0` leaves it out. @default 2
   */
  threads?: number;
}

/** The defaults of {@link DemoOptions}. */
export const DEMO_DEFAULTS = Object.freeze({ tasks: 1200, concurrency: 16, seed: 42, threads: 2 });

/** Where the demo writes and what it runs on; injected so tests can drive it in virtual time. */
export interface DemoIo {
  /** Where the progress bar (only when `isTTY`) and the summary go. */
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Where the command's warnings go (the deprecated `--workers`). @default `process.stderr` */
  readonly stderr?: NodeJS.WritableStream;
  /** The clock the engine and the demo's operator run on. @default {@link realClock} */
  readonly clock?: Clock;
  /** Receives the process exit code the command decided on. @default sets `process.exitCode` */
  readonly setExitCode?: (code: number) => void;
}

/** How many tasks of each kind the workload planned (chains count every step). */
export interface DemoMix {
  /** Plain tasks of a few to ~40 ms. */
  readonly steady: number;
  /** Tasks that throw on their first attempts and retry with exponential backoff; some never succeed. */
  readonly flaky: number;
  /** Tasks with a `timeoutMs`; many run past it. */
  readonly deadline: number;
  /** Low-priority tasks an operator cancels while they are still queued. */
  readonly cancelQueued: number;
  /** Tasks an operator cancels a few ms after they start. */
  readonly cancelRunning: number;
  /** Steps of dependency chains submitted with `submitGraph`. */
  readonly chained: number;
  /** How many chains. */
  readonly chains: number;
}

/** What {@link runDemo} measured: the data behind the summary table. */
export interface DemoSummary {
  readonly seed: number;
  /** How many tasks the engine ran at once. */
  readonly concurrency: number;
  readonly submitted: number;
  readonly mix: DemoMix;
  /** How many tasks ended in each terminal status, read from their handles. */
  readonly byStatus: Readonly<Record<TerminalTaskStatus, number>>;
  /** Completed over settled, in `[0, 1]`. */
  readonly successRate: number;
  /** Clock time from the first submission until every task settled. */
  readonly elapsedMs: number;
  /** Settled tasks per second of clock time. */
  readonly throughput: number;
  /** `task.retrying` events: attempts that failed and were tried again. */
  readonly retries: number;
  /** Tasks cancelled before their function started (waiting for dependencies, or queued). */
  readonly cancelledBeforeStart: number;
  /** Tasks cancelled while their function ran (their `ctx.signal` aborted). */
  readonly cancelledWhileRunning: number;
  /** Tasks that failed with `E_DEPENDENCY_FAILED`. */
  readonly dependencyFailures: number;
  /** The worker's statistics at the end of the run: one worker, `main`, with `concurrency` slots. */
  readonly stats: EngineStats;
  /** What `engine.shutdown()` returned; `lost` must be 0. */
  readonly report: ShutdownReport;
  /** The same CPU-bound tasks on the main thread and on worker threads; `undefined` with `threads: 0`. */
  readonly threadSpeedup: ThreadSpeedup | undefined;
}

type Kind = 'steady' | 'flaky' | 'deadline' | 'cancelQueued' | 'cancelRunning';

const CHAIN_STEPS = ['extract', 'transform', 'validate', 'load'] as const;

/**
 * Runs the demo workload on a fresh engine: mixed durations and priorities, failures with retries,
 * timeouts, cancellations while queued and while running, and dependency chains. Shows a progress
 * bar on `io.stdout` when it is a TTY, waits for every task, shuts the engine down and returns what
 * it measured. It prints no summary; see {@link renderSummaryTable}.
 *
 * The workload's mix is drawn from `seededRandom(seed)`, so it is the same on every run; on a
 * virtual clock the whole run, outcomes included, is reproducible.
 *
 * @param options - see {@link DemoOptions}
 * @param io - see {@link DemoIo}
 * @returns the summary of the run
 * @throws {MezanError} `E_INVALID_OPTION` for a bad `tasks`, `concurrency`, `workers`, `seed` or `threads`
 * @example
 * ```ts
 * const summary = await runDemo({ tasks: 1200, concurrency: 16 }, { stdout: process.stdout });
 * process.stdout.write(renderSummaryTable(summary));
 * ```
 */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<DemoSummary> {
  const tasks = options.tasks ?? DEMO_DEFAULTS.tasks;
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  expectPositiveInteger('tasks', tasks);
  if (options.concurrency !== undefined) expectPositiveInteger('concurrency', options.concurrency);
  if (options.workers !== undefined) expectPositiveInteger('workers', options.workers);
  if (options.workers !== undefined && options.concurrency !== undefined && options.workers !== options.concurrency) {
    fail('workers', `the same value as \`concurrency\` (${options.concurrency}), or nothing: it is a deprecated alias`, options.workers);
  }
  const concurrency = options.concurrency ?? options.workers ?? DEMO_DEFAULTS.concurrency;
  if (!Number.isSafeInteger(seed)) fail('seed', 'an integer', seed);
  const threads = options.threads ?? DEMO_DEFAULTS.threads;
  expectNonNegativeInteger('threads', threads);
  const clock = io.clock ?? realClock;
  const random = seededRandom(seed);
  // The engine draws retry jitter from its own stream, so adding a jittered retry does not shift the mix.
  // The demo prints what happens itself; the default logger's warnings would only repeat it.
  const engine = createEngine({ concurrency, clock, random: seededRandom(seed ^ 0x5f3759df), logger: false });

  const operator = new Operator(engine, clock);
  const bar = io.stdout.isTTY === true ? startProgressBar(engine, io.stdout, tasks) : undefined;
  const outcomes: Array<Promise<string | undefined>> = [];
  const handles: Array<TaskHandle<unknown>> = [];
  const counts: Record<Kind, number> = { steady: 0, flaky: 0, deadline: 0, cancelQueued: 0, cancelRunning: 0 };
  let mix: DemoMix;
  const track = (handle: TaskHandle<unknown>): void => {
    handles.push(handle);
    // Observing every result at once keeps failures out of `onUnhandledError`: the demo counts them.
    outcomes.push(
      handle.result.then(
        () => undefined,
        (error: unknown) => (isMezanError(error) ? error.code : 'unknown'),
      ),
    );
  };

  const stopProgressBar = (): void => {
    if (bar === undefined) return;
    bar.subscription.unsubscribe();
    bar.bar.stop();
  };
  let elapsedMs: number;
  let codes: Array<string | undefined>;
  try {
    const startedAt = clock.now();
    const chains = tasks < 2 * CHAIN_STEPS.length ? 0 : Math.max(1, Math.floor(tasks / 200));
    for (let i = 1; i <= tasks - chains * CHAIN_STEPS.length; i++) {
      const kind = pickKind(random());
      counts[kind]++;
      const handle = submitTask(engine, kind, i, random);
      track(handle);
      if (kind === 'cancelQueued') operator.cancelAfter(handle, 1 + Math.floor(random() * 20));
      if (kind === 'cancelRunning') operator.cancelWhenStarted(handle, 3 + Math.floor(random() * 12));
    }
    for (let c = 1; c <= chains; c++) {
      const graph = engine.submitGraph(chainGraph(c, random, c % 3 === 1));
      for (const step of CHAIN_STEPS) track(graph[`chain-${c}-${step}`]!);
    }
    mix = { ...counts, chained: chains * CHAIN_STEPS.length, chains };
    await engine.onIdle();
    elapsedMs = clock.now() - startedAt;
    codes = await Promise.all(outcomes);
    if (bar !== undefined) {
      const progress = engine.progress();
      bar.bar.update(settledOf(progress), payloadOf(progress));
    }
  } catch (error) {
    // Whatever went wrong, leave nothing running (the bar's redraw timer, the engine) so the process can exit.
    operator.stop();
    stopProgressBar();
    void engine.shutdown();
    throw error;
  }
  operator.stop();
  stopProgressBar();
  const stats = engine.stats();
  const report = await engine.shutdown();

  const byStatus: Record<TerminalTaskStatus, number> = { completed: 0, failed: 0, timeout: 0, cancelled: 0, deadlock: 0, rejected: 0 };
  for (const handle of handles) {
    if (handle.status in byStatus) byStatus[handle.status as TerminalTaskStatus]++;
  }
  const settled = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  const threadSpeedup = threads === 0 ? undefined : await measureThreadSpeedup(threads);
  return {
    seed,
    concurrency,
    submitted: handles.length,
    mix,
    byStatus,
    successRate: settled === 0 ? 1 : byStatus.completed / settled,
    elapsedMs,
    throughput: elapsedMs > 0 ? (settled * 1000) / elapsedMs : 0,
    retries: operator.retries,
    cancelledBeforeStart: operator.cancelledBeforeStart,
    cancelledWhileRunning: operator.cancelledWhileRunning,
    dependencyFailures: codes.filter((code) => code === 'E_DEPENDENCY_FAILED').length,
    stats,
    report,
    threadSpeedup,
  };
}

/**
 * The `mezan demo` command.
 *
 * @param io - where it writes and what it runs on; the process's stdout and the real clock by default
 * @returns a commander command to add to the program
 */
export function createDemoCommand(io: DemoIo = { stdout: process.stdout }): Command {
  return new Command('demo')
    .description(
      'run a real-time workload of mixed tasks (retries, timeouts, cancellations, chains), then CPU-bound tasks on the main thread and on worker threads, and print a summary',
    )
    .option('--tasks <n>', 'how many tasks to submit', parsePositiveInteger, DEMO_DEFAULTS.tasks)
    .option('--concurrency <n>', 'how many tasks run at once', parsePositiveInteger, DEMO_DEFAULTS.concurrency)
    .addOption(new Option('--workers <n>', 'deprecated: the old name of --concurrency').argParser(parsePositiveInteger).conflicts('concurrency'))
    .option('--seed <n>', "the seed of the workload's mix", parseInteger, DEMO_DEFAULTS.seed)
    .option('--threads <n>', 'worker threads for the thread speedup (0: leave it out)', parseNonNegativeInteger, DEMO_DEFAULTS.threads)
    .addHelpText(
      'after',
      helpExamples([
        ['mezan demo', `${DEMO_DEFAULTS.tasks.toLocaleString('en-US')} real-time tasks, ${DEMO_DEFAULTS.concurrency} at once`],
        ['mezan demo --tasks 5000 --concurrency 64', 'more tasks, more of them at once'],
        ['mezan demo --seed 7', 'another mix of retries, timeouts, cancellations and chains'],
        ['mezan demo --threads 4', 'the thread speedup on 4 worker threads'],
      ]),
    )
    .action(async ({ workers, ...options }: DemoOptions) => {
      if (workers !== undefined) {
        // `--workers n` stands for `--concurrency n` (commander refuses the two together).
        (io.stderr ?? process.stderr).write('mezan demo: --workers is deprecated: use --concurrency (the number of tasks that run at once)\n');
        options.concurrency = workers;
      }
      const summary = await runDemo(options, io);
      io.stdout.write(`${renderSummaryTable(summary, { color: io.stdout.isTTY === true })}\n`);
      const setExitCode = io.setExitCode ?? ((code: number) => void (process.exitCode = code));
      setExitCode(demoExitCode(summary));
    });
}

/**
 * The exit code `mezan demo` ends with: `0` when every task settled, `1` when the shutdown report
 * counts a lost task.
 */
export function demoExitCode(summary: DemoSummary): number {
  return summary.report.lost === 0 ? 0 : 1;
}

/** Cancels tasks on the demo's behalf and counts what it saw; its timers run on the engine's clock. */
class Operator {
  retries = 0;
  cancelledBeforeStart = 0;
  cancelledWhileRunning = 0;
  readonly #clock: Clock;
  readonly #timers = new Set<unknown>();
  /** Tasks the operator will cancel, and for some a delay to wait once they start. */
  readonly #targets = new Map<string, { readonly handle: TaskHandle<unknown>; readonly delayOnStartMs: number | undefined }>();
  readonly #started = new Set<string>();
  readonly #subscription: Subscription;

  constructor(engine: Engine, clock: Clock) {
    this.#clock = clock;
    this.#subscription = engine.events$.subscribe((event) => {
      if (event.type === 'task.retrying') this.retries++;
      else if (event.type === 'task.started') {
        const target = this.#targets.get(event.taskId);
        if (target === undefined) return;
        // Only `task.started` says its function runs: cancelled before that, it never started.
        this.#started.add(event.taskId);
        if (target.delayOnStartMs !== undefined) this.#cancelAfter(target.handle, target.delayOnStartMs);
      }
    });
  }

  cancelAfter(handle: TaskHandle<unknown>, delayMs: number): void {
    this.#targets.set(handle.id, { handle, delayOnStartMs: undefined });
    this.#cancelAfter(handle, delayMs);
  }

  cancelWhenStarted(handle: TaskHandle<unknown>, delayMs: number): void {
    this.#targets.set(handle.id, { handle, delayOnStartMs: delayMs });
  }

  stop(): void {
    this.#subscription.unsubscribe();
    for (const timer of this.#timers) this.#clock.clearTimeout(timer);
    this.#timers.clear();
    this.#targets.clear();
    this.#started.clear();
  }

  #cancelAfter(handle: TaskHandle<unknown>, delayMs: number): void {
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(timer);
      if (!handle.cancel("the demo's operator no longer needs it")) return;
      if (this.#started.has(handle.id)) this.cancelledWhileRunning++;
      else this.cancelledBeforeStart++;
    }, delayMs);
    this.#timers.add(timer);
  }
}

function pickKind(draw: number): Kind {
  if (draw < 0.08) return 'flaky';
  if (draw < 0.13) return 'deadline';
  if (draw < 0.16) return 'cancelQueued';
  if (draw < 0.19) return 'cancelRunning';
  return 'steady';
}

/** A few ms to ~40 ms, most of them short. */
function drawDuration(random: RandomSource): number {
  return 2 + Math.floor(38 * random() ** 2);
}

function drawPriority(random: RandomSource): number {
  const draw = random();
  if (draw < 0.1) return 10;
  if (draw < 0.3) return 1;
  return 0;
}

function submitTask(engine: Engine, kind: Kind, index: number, random: RandomSource): TaskHandle<unknown> {
  const name = `${kind}-${index}`;
  switch (kind) {
    case 'steady': {
      const ms = drawDuration(random);
      const reportsProgress = random() < 0.25;
      return engine.submit(
        async (ctx) => {
          if (reportsProgress) {
            await ctx.sleep(ms / 2);
            ctx.progress(0.5, 'half way');
            await ctx.sleep(ms / 2);
          } else await ctx.sleep(ms);
          return ms;
        },
        { name, priority: drawPriority(random) },
      );
    }
    case 'flaky': {
      // 1 to 4 faults against 3 retries: a quarter of them never succeed.
      const faults = 1 + Math.floor(random() * 4);
      const ms = drawDuration(random);
      const options: TaskOptions = {
        name,
        priority: drawPriority(random),
        retries: { max: 3, delayMs: 10, backoff: 'exponential', maxDelayMs: 80, jitter: 0.5 },
      };
      return engine.submit(async (ctx: TaskContext) => {
        await ctx.sleep(Math.ceil(ms / 4));
        if (ctx.attempt <= faults) throw new Error(`transient fault on attempt ${ctx.attempt}`);
        await ctx.sleep(ms);
        return ctx.attempt;
      }, options);
    }
    case 'deadline': {
      const ms = 10 + Math.floor(random() * 50);
      return engine.submit((ctx) => ctx.sleep(ms), { name, priority: drawPriority(random), timeoutMs: 25 });
    }
    case 'cancelQueued': {
      const ms = drawDuration(random);
      // Lowest priority: the operator's cancel arrives while everything else still runs first.
      return engine.submit((ctx) => ctx.sleep(ms), { name, priority: -5 });
    }
    case 'cancelRunning': {
      const ms = 30 + Math.floor(random() * 10);
      return engine.submit((ctx) => ctx.sleep(ms), { name, priority: drawPriority(random) });
    }
  }
}

/** A four-step pipeline; a doomed chain's `validate` always throws, so its `load` fails as a dependent. */
function chainGraph(chain: number, random: RandomSource, doomed: boolean): Record<string, TaskGraphNode> {
  const graph: Record<string, TaskGraphNode> = {};
  let previous: string | undefined;
  for (const step of CHAIN_STEPS) {
    const key = `chain-${chain}-${step}`;
    const ms = 5 + Math.floor(random() * 15);
    const fails = doomed && step === 'validate';
    graph[key] = {
      name: key,
      priority: 2,
      dependsOn: previous === undefined ? [] : [previous],
      retries: fails ? { max: 1, delayMs: 5, backoff: 'exponential' } : 0,
      run: async (ctx) => {
        await ctx.sleep(ms);
        if (fails) throw new Error('validation failed: the record is malformed');
        return step;
      },
    };
    previous = key;
  }
  return graph;
}

function settledOf(progress: EngineProgress): number {
  return progress.completed + progress.failed + progress.cancelled + progress.timedOut + progress.deadlocked + progress.rejected;
}

function payloadOf(progress: EngineProgress): Record<string, number> {
  return {
    completed: progress.completed,
    failed: progress.failed,
    timedOut: progress.timedOut,
    cancelled: progress.cancelled,
    running: progress.running,
  };
}

function startProgressBar(engine: Engine, stream: NodeJS.WritableStream, total: number): { bar: SingleBar; subscription: Subscription } {
  const bar = new SingleBar({
    stream,
    format:
      ' {bar} {percentage}% | {value}/{total} | ok {completed} failed {failed} timeout {timedOut} cancelled {cancelled} | running {running} | {duration_formatted}',
    barsize: 30,
    barCompleteChar: '#',
    barIncompleteChar: '.',
  });
  bar.start(total, 0, payloadOf(engine.progress()));
  // The bar redraws at most 10 times a second on its own; feeding it every update is cheap.
  const subscription = engine.progress$.subscribe((progress) => bar.update(settledOf(progress), payloadOf(progress)));
  return { bar, subscription };
}

function parsePositiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`Expected a positive integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

function parseNonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError(`Expected a non-negative integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}

function parseInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError(`Expected an integer, got ${JSON.stringify(value)}.`);
  }
  return parsed;
}
