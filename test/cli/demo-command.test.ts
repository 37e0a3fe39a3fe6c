import { CommanderError } from 'commander';
import { createDemoCommand, demoExitCode, runDemo, type DemoIo, type DemoSummary } from '../../src/cli/demo-command';
import { createProgram } from '../../src/cli/main';
import { renderSummaryTable } from '../../src/cli/summary-table';
import { createEngine, VirtualClock } from '../../src/index';

/** A stdout stand-in that keeps what was written. */
function memoryStream(isTTY: boolean): DemoIo['stdout'] & { readonly text: string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 160,
    write(chunk: unknown): boolean {
      chunks.push(String(chunk));
      return true;
    },
    get text(): string {
      return chunks.join('');
    },
  };
  return stream as unknown as DemoIo['stdout'] & { readonly text: string };
}

/** Fires the virtual clock's timers until `run` settles. */
async function drive<T>(clock: VirtualClock, run: Promise<T>): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  void run.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  while (outcome === undefined) await clock.runAll();
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/** The demo's workload on a virtual clock; without the thread speedup (real time) unless `options.threads` asks for it. */
async function demoInVirtualTime(options: Parameters<typeof runDemo>[0], isTTY = false) {
  const clock = new VirtualClock();
  const stdout = memoryStream(isTTY);
  const summary = await drive(clock, runDemo({ threads: 0, ...options }, { stdout, clock }));
  return { summary, clock, stdout };
}

describe('runDemo', () => {
  let run: { summary: DemoSummary; clock: VirtualClock; stdout: { readonly text: string } };
  beforeAll(async () => {
    run = await demoInVirtualTime({ tasks: 400, concurrency: 8, seed: 7 });
  });

  it('settles every task in one terminal status and loses none', () => {
    const { summary } = run;
    expect(summary.submitted).toBe(400);
    expect(Object.values(summary.byStatus).reduce((a, b) => a + b, 0)).toBe(400);
    expect(summary.report).toMatchObject({
      submitted: 400,
      completed: summary.byStatus.completed,
      failed: summary.byStatus.failed,
      cancelled: summary.byStatus.cancelled,
      timedOut: summary.byStatus.timeout,
      deadlocked: 0,
      rejected: 0,
      lost: 0,
    });
    expect(demoExitCode(summary)).toBe(0);
  });

  it('plans exactly the requested number of tasks', () => {
    const { mix } = run.summary;
    expect(mix.steady + mix.flaky + mix.deadline + mix.cancelQueued + mix.cancelRunning + mix.chained).toBe(400);
    expect(mix.chains).toBeGreaterThan(0);
    expect(mix.chained).toBe(mix.chains * 4);
  });

  it('produces every kind of outcome: completions, failures after retries, timeouts, cancellations, dependency failures', () => {
    const { summary } = run;
    expect(summary.byStatus.completed).toBeGreaterThan(0);
    expect(summary.byStatus.failed).toBeGreaterThan(0);
    expect(summary.byStatus.timeout).toBeGreaterThan(0);
    expect(summary.byStatus.cancelled).toBeGreaterThan(0);
    expect(summary.byStatus.deadlock).toBe(0);
    expect(summary.byStatus.rejected).toBe(0);
    expect(summary.retries).toBeGreaterThan(0);
    expect(summary.dependencyFailures).toBeGreaterThan(0);
  });

  it('cancels the planned tasks, queued ones before they start and running ones after', () => {
    const { summary } = run;
    expect(summary.cancelledBeforeStart).toBe(summary.mix.cancelQueued);
    expect(summary.cancelledWhileRunning).toBe(summary.mix.cancelRunning);
    expect(summary.cancelledBeforeStart + summary.cancelledWhileRunning).toBe(summary.byStatus.cancelled);
  });

  it("reports the one worker's statistics, main with `concurrency` slots, and they are the engine totals", () => {
    const { summary } = run;
    expect(summary.concurrency).toBe(8);
    expect(summary.stats.workers).toHaveLength(1);
    const [main] = summary.stats.workers;
    expect(main).toMatchObject({ id: 'main', state: 'idle', slots: 8, running: 0 });
    expect(main!.tasksCompleted).toBe(summary.byStatus.completed);
    expect(main!.tasksCancelled).toBe(summary.cancelledWhileRunning);
    expect(main!.attempts).toBe(summary.stats.totals.attempts);
    expect(summary.stats.totals.tasksCompleted).toBe(summary.byStatus.completed);
    expect(summary.stats.totals.tasksCancelled).toBe(summary.cancelledWhileRunning);
  });

  it('reads the deprecated `workers` as `concurrency`, and refuses the two with different values', async () => {
    const alias = await demoInVirtualTime({ tasks: 400, workers: 8, seed: 7 });
    expect(alias.summary).toEqual(run.summary);
    const same = await demoInVirtualTime({ tasks: 20, workers: 3, concurrency: 3, seed: 1 });
    expect(same.summary.concurrency).toBe(3);
    expect(same.summary.stats.workers).toEqual([expect.objectContaining({ id: 'main', slots: 3 })]);
    await expect(runDemo({ workers: 2, concurrency: 3 }, { stdout: memoryStream(false), clock: new VirtualClock() })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      details: { option: 'workers' },
    });
  });

  it('derives the rates from the counts and the clock', () => {
    const { summary } = run;
    const settled = summary.submitted - summary.report.lost;
    expect(summary.elapsedMs).toBeGreaterThan(0);
    expect(summary.throughput).toBeCloseTo((settled * 1000) / summary.elapsedMs, 9);
    expect(summary.successRate).toBeCloseTo(summary.byStatus.completed / settled, 9);
  });

  it('leaves no timer behind and writes nothing when stdout is not a TTY', () => {
    expect(run.clock.pendingTimers).toBe(0);
    expect(run.stdout.text).toBe('');
  });

  it('gives the same run for the same seed on a virtual clock, and another mix for another seed', async () => {
    const again = await demoInVirtualTime({ tasks: 400, concurrency: 8, seed: 7 });
    expect(again.summary).toEqual(run.summary);
    const other = await demoInVirtualTime({ tasks: 400, concurrency: 8, seed: 8 });
    expect(other.summary.mix).not.toEqual(run.summary.mix);
  });

  it('draws a progress bar that reaches the total when stdout is a TTY', async () => {
    const { summary, stdout } = await demoInVirtualTime({ tasks: 60, concurrency: 4, seed: 3 }, true);
    expect(summary.report.lost).toBe(0);
    expect(stdout.text).toContain('60/60');
    expect(stdout.text).toContain('100%');
  });

  it.each([
    ['tasks', { tasks: 0 }],
    ['tasks', { tasks: 2.5 }],
    ['concurrency', { concurrency: -1 }],
    ['concurrency', { concurrency: 1.5 }],
    ['workers', { workers: -1 }],
    ['seed', { seed: 0.5 }],
    ['threads', { threads: -1 }],
    ['threads', { threads: 1.5 }],
  ])('rejects a bad `%s` with E_INVALID_OPTION', async (option, options) => {
    await expect(runDemo(options, { stdout: memoryStream(false), clock: new VirtualClock() })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      details: { option },
    });
  });
});

describe('demoExitCode', () => {
  it('is non-zero when the shutdown report counts a lost task', async () => {
    const { summary } = await demoInVirtualTime({ tasks: 20, concurrency: 2, seed: 1 });
    expect(demoExitCode(summary)).toBe(0);
    expect(demoExitCode({ ...summary, report: { ...summary.report, lost: 1 } })).toBe(1);
  });
});

describe('renderSummaryTable', () => {
  it('shows the counts by status and the shutdown report, without colour codes unless asked', async () => {
    const { summary } = await demoInVirtualTime({ tasks: 120, concurrency: 4, seed: 5 });
    const text = renderSummaryTable(summary);
    expect(text).not.toContain('\u001b[');
    expect(text).toMatch(new RegExp(`completed\\s+│\\s+${summary.byStatus.completed}\\s+│`));
    expect(text).toMatch(new RegExp(`report\\s+│\\s+120\\s+│\\s+${summary.report.completed}\\s+│`));
    // One row for the worker, main, with its slots, then the totals.
    expect(text).toMatch(new RegExp(`main\\s+│\\s+4\\s+│\\s+${summary.stats.workers[0]!.attempts}\\s+│\\s+${summary.byStatus.completed}\\s+│`));
    expect(text).toMatch(new RegExp(`all\\s+│\\s+4\\s+│\\s+${summary.stats.totals.attempts}\\s+│`));
    expect(text).toMatch(/concurrency\s+│\s+4\s+│/);
    expect(text).not.toContain('worker-');
    // Without threads (threads: 0), no speedup.
    expect(summary.threadSpeedup).toBeUndefined();
    expect(text).not.toContain('speedup');
  });
});

describe('mezan demo', () => {
  it('runs the demo with the given flags, prints the summary and sets exit code 0', async () => {
    const clock = new VirtualClock();
    const stdout = memoryStream(false);
    const exitCodes: number[] = [];
    const command = createDemoCommand({ stdout, clock, setExitCode: (code) => exitCodes.push(code) });
    await drive(clock, command.parseAsync(['--tasks', '50', '--concurrency', '3', '--seed', '9'], { from: 'user' }));
    expect(exitCodes).toEqual([0]);
    expect(stdout.text).toMatch(/report\s+│\s+50\s+│/);
    expect(stdout.text).toMatch(/concurrency\s+│\s+3\s+│/);
    expect(stdout.text).toMatch(/main\s+│\s+3\s+│/);
    expect(stdout.text).not.toContain('worker-');
    // The thread speedup (2 threads by default): real times and their ratio, whatever they are.
    expect(stdout.text).toMatch(/CPU tasks \(16 × SHA-256 of 1 MB each\)\s+│\s+8\s+│/);
    expect(stdout.text).toMatch(/on the main thread\s+│\s+\d+(\.\d)? m?s\s+│/);
    expect(stdout.text).toMatch(/on 2 threads\s+│\s+\d+(\.\d)? m?s\s+│/);
    expect(stdout.text).toMatch(/speedup\s+│\s+\d+\.\d\d×\s+│/);
  });

  it('--threads 0 leaves the thread speedup out; --threads n runs it on n threads', async () => {
    const run = async (args: string[]) => {
      const clock = new VirtualClock();
      const stdout = memoryStream(false);
      await drive(clock, createDemoCommand({ stdout, clock, setExitCode: () => undefined }).parseAsync(args, { from: 'user' }));
      return stdout.text;
    };
    expect(await run(['--tasks', '20', '--threads', '0'])).not.toContain('speedup');
    const one = await run(['--tasks', '20', '--threads', '1']);
    expect(one).toMatch(/CPU tasks \(16 × SHA-256 of 1 MB each\)\s+│\s+4\s+│/);
    expect(one).toMatch(/on 1 thread\s+│/);
    expect(one).toMatch(/speedup\s+│\s+\d+\.\d\d×\s+│/);
  });

  it('takes the deprecated --workers as --concurrency, with a warning on stderr', async () => {
    const run = async (args: string[]) => {
      const clock = new VirtualClock();
      const stdout = memoryStream(false);
      const stderr = memoryStream(false);
      const command = createDemoCommand({ stdout, stderr, clock, setExitCode: () => undefined });
      await drive(clock, command.parseAsync(args, { from: 'user' }));
      return { stdout: stdout.text, stderr: stderr.text };
    };
    const alias = await run(['--tasks', '50', '--workers', '3', '--seed', '9', '--threads', '0']);
    expect(alias.stderr).toBe('mezan demo: --workers is deprecated: use --concurrency (the number of tasks that run at once)\n');
    const current = await run(['--tasks', '50', '--concurrency', '3', '--seed', '9', '--threads', '0']);
    expect(current.stderr).toBe('');
    // The same run on a virtual clock: the same summary, byte for byte.
    expect(alias.stdout).toBe(current.stdout);
  });

  it('refuses --workers together with --concurrency', async () => {
    const command = createDemoCommand({ stdout: memoryStream(false), clock: new VirtualClock() })
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    await expect(command.parseAsync(['--workers', '3', '--concurrency', '3'], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.conflictingOption',
    });
  });

  it.each([
    ['--tasks', 'many'],
    ['--tasks', '0'],
    ['--concurrency', '-2'],
    ['--concurrency', '1.5'],
    ['--workers', '-2'],
    ['--seed', '1.5'],
  ])('refuses %s %s', async (flag, value) => {
    const command = createDemoCommand({ stdout: memoryStream(false), clock: new VirtualClock() })
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    const parsing = command.parseAsync([flag, value], { from: 'user' });
    await expect(parsing).rejects.toBeInstanceOf(CommanderError);
    await expect(parsing).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });

  it('is a subcommand of the mezan program, with its defaults', () => {
    const demo = createProgram().commands.find((command) => command.name() === 'demo');
    expect(demo).toBeDefined();
    expect(demo!.opts()).toEqual({ tasks: 1200, concurrency: 16, seed: 42, threads: 2 });
  });
});

// The demo's progress bar once showed "running 423" with 16 workers: the executor handed each idle
// worker a batch of queued tasks. This belongs with the executor's tests; it is here because the
// demo exposed it.
describe('first dispatch of a deep queue of slow tasks', () => {
  it('puts exactly `concurrency` tasks on the worker and lets a later urgent task start at the first free slot', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 4, clock });
    for (let i = 0; i < 100; i++) engine.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(0);
    const runningAfterFirstDispatch = engine.progress().running;
    let urgentStartedAt: number | undefined;
    const urgent = engine.submit(() => void (urgentStartedAt = clock.now()), { priority: 10 });
    await drive(clock, urgent.result);
    await drive(clock, engine.shutdown());
    expect(runningAfterFirstDispatch).toBe(4);
    expect(urgentStartedAt).toBe(10);
  });
});
