import fc from 'fast-check';
import { createEngine, seededRandom, VirtualClock, type ShutdownReport, type TaskContext, type TaskOptions } from '../../src';
import { InvariantChecker, type InvariantTag, type TaskBody, type TrackedTask } from '../fixtures/invariant-checker';

// Fixed seeds and modest run counts: the suite is deterministic and fast, and a failure prints a
// shrunk command sequence that replays exactly.
const SEED = 0x6d657a;
const NUM_RUNS = 60;

/** How a task's function spends its time. */
type TaskMode =
  | 'sync' // returns or throws at once
  | 'microtask' // an async function that settles without the clock moving
  | 'sleep' // `ctx.sleep(durationMs)`: aborts with the signal
  | 'stubborn'; // waits on the clock and ignores its signal: keeps its slot after a timeout or cancel

interface SubmitCommand {
  readonly kind: 'submit';
  readonly priority: number;
  readonly mode: TaskMode;
  readonly durationMs: number;
  readonly failProbability: number;
  readonly failSeed: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly backoff: 'fixed' | 'exponential';
  /** Retry delays drawn from the engine's seeded random source. */
  readonly jitter: boolean | number;
  readonly timeoutMs: number | undefined;
  /** Picks among the tasks submitted earlier (modulo their count). */
  readonly dependsOn: readonly number[];
}

interface CancelCommand {
  readonly kind: 'cancel';
  /** Picks among the tasks submitted earlier (modulo their count). */
  readonly pick: number;
}

interface AdvanceCommand {
  readonly kind: 'advance';
  readonly ms: number;
}

type Command = SubmitCommand | CancelCommand | AdvanceCommand;

interface Scenario {
  readonly concurrency: number;
  readonly engineSeed: number;
  readonly commands: readonly Command[];
  /** Submissions made after `shutdown()` was called: each must be rejected. */
  readonly lateSubmissions: number;
}

const submitCommand: fc.Arbitrary<SubmitCommand> = fc.record({
  kind: fc.constant('submit' as const),
  priority: fc.integer({ min: -2, max: 2 }),
  mode: fc.constantFrom<TaskMode>('sync', 'microtask', 'sleep', 'stubborn'),
  durationMs: fc.integer({ min: 0, max: 30 }),
  failProbability: fc.constantFrom(0, 0.5, 1),
  failSeed: fc.nat(),
  retries: fc.integer({ min: 0, max: 2 }),
  retryDelayMs: fc.constantFrom(0, 1, 5, 20),
  backoff: fc.constantFrom<'fixed' | 'exponential'>('fixed', 'exponential'),
  jitter: fc.constantFrom<boolean | number>(false, true, 0.5),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 25 }), { nil: undefined, freq: 3 }),
  dependsOn: fc.array(fc.nat(), { maxLength: 2 }),
});

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: submitCommand },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
);

const scenario: fc.Arbitrary<Scenario> = fc.record({
  concurrency: fc.integer({ min: 1, max: 4 }),
  engineSeed: fc.nat(),
  commands: fc.array(command, { minLength: 1, maxLength: 40 }),
  lateSubmissions: fc.integer({ min: 0, max: 2 }),
});

/** The function a submit command describes; whether each attempt fails is drawn from its own seed. */
function taskBody(spec: SubmitCommand, clock: VirtualClock, index: number): TaskBody {
  const draw = seededRandom(spec.failSeed);
  const failsOn = [draw() < spec.failProbability, draw() < spec.failProbability, draw() < spec.failProbability];
  const finish = (ctx: TaskContext): string => {
    if (failsOn[ctx.attempt - 1] === true) throw new Error(`task #${index} attempt ${ctx.attempt} fails`);
    return `#${index}@${ctx.attempt}`;
  };
  switch (spec.mode) {
    case 'sync':
      return finish;
    case 'microtask':
      return async (ctx) => {
        await Promise.resolve();
        return finish(ctx);
      };
    case 'sleep':
      return async (ctx) => {
        await ctx.sleep(spec.durationMs);
        return finish(ctx);
      };
    case 'stubborn':
      return async (ctx) => {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, spec.durationMs));
        return finish(ctx);
      };
  }
}

function taskOptions(spec: SubmitCommand): Omit<TaskOptions, 'dependsOn'> {
  const options: Omit<TaskOptions, 'dependsOn'> = {
    priority: spec.priority,
    retries: { max: spec.retries, delayMs: spec.retryDelayMs, backoff: spec.backoff, jitter: spec.jitter },
  };
  return spec.timeoutMs === undefined ? options : { ...options, timeoutMs: spec.timeoutMs };
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Plays `scenario` on a fresh engine in virtual time, shuts it down and returns what the checker found. */
async function play(scenario: Scenario): Promise<InvariantChecker> {
  const clock = new VirtualClock();
  const engine = createEngine({ concurrency: scenario.concurrency, clock, random: seededRandom(scenario.engineSeed) });
  const checker = new InvariantChecker(engine, { concurrency: scenario.concurrency, now: () => clock.now() });
  const pick = (n: number): TrackedTask => checker.tasks[n % checker.tasks.length]!;
  for (const [step, command] of scenario.commands.entries()) {
    switch (command.kind) {
      case 'submit': {
        const dependencies = checker.tasks.length === 0 ? [] : [...new Set(command.dependsOn.map(pick))];
        checker.submit(taskBody(command, clock, checker.tasks.length), taskOptions(command), dependencies);
        break;
      }
      case 'cancel':
        if (checker.tasks.length > 0) checker.cancel(pick(command.pick));
        break;
      case 'advance':
        await clock.advanceBy(command.ms);
        break;
    }
    checker.checkpoint(`after step ${step} (${command.kind})`);
  }
  const shutdown = engine.shutdown();
  checker.shutdownCalled();
  for (let i = 0; i < scenario.lateSubmissions; i++) checker.submit(() => 'late');
  let report: ShutdownReport | undefined;
  shutdown.then((value) => (report = value));
  // Shutdown lets every queued and running task finish: run the clock until it resolves (or clearly never will).
  for (let round = 0; round < 3 && report === undefined; round++) {
    await clock.runAll();
    await nextMacrotask();
  }
  checker.finish(report, clock);
  return checker;
}

function expectInvariant(tags: readonly InvariantTag[]): Promise<void> {
  return fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const checker = await play(s);
      expect(tags.flatMap((tag) => checker.violationsOf(tag))).toEqual([]);
    }),
    { seed: SEED, numRuns: NUM_RUNS },
  );
}

describe('engine invariants (shared/DESIGN.md section 5) over random command sequences', () => {
  it('1. every submitted task settles exactly once, in one terminal status its result agrees with', async () => {
    await expectInvariant(['inv1']);
  });

  it('2. a function is called at most once per attempt, and never after its task was cancelled while queued', async () => {
    await expectInvariant(['inv2']);
  });

  it('4. functions running at once never exceed the concurrency, nor the slots the worker counts taken', async () => {
    await expectInvariant(['inv4']);
  });

  it('5. per-worker completions sum exactly to the completed count', async () => {
    await expectInvariant(['inv5']);
  });

  it('6. after shutdown nothing runs, waits or is scheduled, and nothing is lost', async () => {
    await expectInvariant(['inv6']);
  });

  it('a cancel() that returned true ends the task cancelled and its function is never called again', async () => {
    await expectInvariant(['cancel']);
  });

  it('a function runs only once all its dependencies completed', async () => {
    await expectInvariant(['deps']);
  });

  it('the checker notices violations (a test that cannot fail is a defect)', async () => {
    // Concurrency 2, but the checker is told 1: the second concurrent function and the slots must be flagged.
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 2, clock, random: seededRandom(1) });
    const checker = new InvariantChecker(engine, { concurrency: 1, now: () => clock.now() });
    checker.submit((ctx) => ctx.sleep(10));
    checker.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(5);
    checker.checkpoint('mid-run');
    await clock.runAll();
    const report = await engine.shutdown();
    checker.finish(report, clock);
    expect(checker.maxRunning).toBe(2);
    expect(checker.violationsOf('inv4')).toEqual([
      expect.stringContaining('2 functions run at once with concurrency 1'),
      'inv4: mid-run: 2 slots in service, the concurrency is 1',
      'inv4: after shutdown: 2 slots in service, the concurrency is 1',
    ]);
    expect(checker.violations.filter((violation) => !violation.startsWith('inv4:'))).toEqual([]);
  });

  it('the checker notices a worker that counts fewer slots taken than functions run, a wrong state, or a second worker', async () => {
    // The engine is right; its stats() is made to lie, as a broken worker's would.
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 2, clock, random: seededRandom(1) });
    const checker = new InvariantChecker(engine, { concurrency: 2, now: () => clock.now() });
    const trueStats = engine.stats.bind(engine);
    checker.submit((ctx) => ctx.sleep(10));
    checker.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(5);
    checker.checkpoint('honest');
    expect(checker.running).toBe(2);
    expect(checker.violations).toEqual([]);
    engine.stats = () => {
      const stats = trueStats();
      return { ...stats, workers: stats.workers.map((worker) => ({ ...worker, running: 1 })) };
    };
    checker.checkpoint('under-counted');
    engine.stats = () => {
      const stats = trueStats();
      return { ...stats, workers: stats.workers.map((worker) => ({ ...worker, state: 'idle' })) };
    };
    checker.checkpoint('idle while busy');
    engine.stats = () => {
      const stats = trueStats();
      return { ...stats, workers: [...stats.workers, { ...stats.workers[0]!, id: 'worker-2', slots: 0, running: 0, tasksCompleted: 0 }] };
    };
    checker.checkpoint('a second worker');
    engine.stats = trueStats;
    await clock.runAll();
    checker.finish(await engine.shutdown(), clock);
    expect(checker.violations).toEqual([
      'inv4: under-counted: 2 functions run but only 1 slots are taken',
      'inv4: idle while busy: worker main is idle with 2 of its 2 slots taken',
      'inv5: a second worker: the workers are main, worker-2, not main alone',
      'inv4: a second worker: worker worker-2 is busy with 0 of its 0 slots taken',
    ]);
  });
});

/** A submit command with plain defaults: an instant task that succeeds, no retries, no timeout. */
function submit(overrides: Partial<SubmitCommand> = {}): SubmitCommand {
  return {
    kind: 'submit',
    priority: 0,
    mode: 'sync',
    durationMs: 0,
    failProbability: 0,
    failSeed: 0,
    retries: 0,
    retryDelayMs: 0,
    backoff: 'fixed',
    jitter: false,
    timeoutMs: undefined,
    dependsOn: [],
    ...overrides,
  };
}

const cancel = (pick: number): CancelCommand => ({ kind: 'cancel', pick });
const advance = (ms: number): AdvanceCommand => ({ kind: 'advance', ms });

describe('counterexamples the properties found, replayed', () => {
  const cases: ReadonlyArray<readonly [string, Partial<Scenario> & Pick<Scenario, 'commands'>, readonly InvariantTag[]]> = [
    [
      'a task cancelled in the tick it was submitted (still queued) is never called, even with a worker idle',
      { commands: [submit(), cancel(0)] },
      ['inv2', 'cancel'],
    ],
    [
      'an async task cancelled in the tick it was submitted is never called',
      { commands: [submit({ mode: 'sleep', durationMs: 5 }), cancel(0)] },
      ['inv2', 'cancel'],
    ],
    [
      'a waiting task cancelled in the tick it was submitted ends cancelled, though its dependency had already ended',
      { commands: [submit(), cancel(0), submit({ dependsOn: [0] }), cancel(1)] },
      ['inv2', 'cancel'],
    ],
    [
      'a task that ended in a batch, unreported while the next task of the batch sleeps, still honours cancel()',
      { commands: [submit({ failProbability: 1, retries: 1 }), submit({ mode: 'sleep', durationMs: 10 }), advance(0), cancel(0), advance(20)] },
      ['inv2', 'cancel'],
    ],
    [
      'a task that failed in the dispatch that also started a sleeping task, cancelled while its retry waits, is never called again',
      {
        concurrency: 2,
        commands: [
          submit({ failProbability: 1, retries: 1, retryDelayMs: 5 }),
          submit({ mode: 'sleep', durationMs: 10 }),
          advance(0),
          cancel(0),
          advance(20),
        ],
      },
      ['inv2', 'cancel'],
    ],
  ];

  it.each(cases)('%s', async (_title, partial, tags) => {
    const checker = await play({ concurrency: 1, engineSeed: 0, lateSubmissions: 0, ...partial });
    expect(tags.flatMap((tag) => checker.violationsOf(tag))).toEqual([]);
    expect(checker.violations).toEqual([]);
  });
});
