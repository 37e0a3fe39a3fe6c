import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadScenario, parseScenario } from '../../src/simulation/load-scenario';
import { simulate, type SimulationReport } from '../../src/simulation/simulate';
import type { Scenario } from '../../src/simulation/scenario';
import { MezanError } from '../../src/errors';

const root = path.join(__dirname, '..', '..');
const examplesDir = path.join(root, 'examples');
const lines = (...text: string[]): string => `${text.join('\n')}\n`;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'mezan-simulate-test-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A workload whose every step draws from the seed: durations, failures, arrivals. */
const randomWorkload = lines(
  'name: random workload',
  'engine:',
  '  concurrency: 3',
  '  resources: { db: 2 }',
  'tasks:',
  '  - generate:',
  '      count: 60',
  '      rate: 400',
  '      retries: { max: 2, delayMs: 3, backoff: exponential, jitter: 0.5 }',
  '      steps:',
  '        - { acquire: db, timeoutMs: 40 }',
  '        - work: { uniform: [1, 9] }',
  '        - release: db',
  '        - fail: 0.3',
  '        - work: { exponential: { mean: 4 } }',
  '        - work: { normal: { mean: 5, stddev: 2 } }',
  'expect:',
  '  lost: 0',
);

function traceLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('simulate: determinism', () => {
  const scenario = parseScenario(randomWorkload, 'random.yaml');

  it('gives the same trace, byte for byte, and the same hash for the same scenario and seed', async () => {
    const first = path.join(scratch, 'first.jsonl');
    const second = path.join(scratch, 'second.jsonl');
    const a = await simulate(scenario, { seed: 11, trace: first });
    const b = await simulate(scenario, { seed: 11, trace: second });
    expect(readFileSync(first).equals(readFileSync(second))).toBe(true);
    expect(a.traceHash).toBe(b.traceHash);
    expect(sha256(first)).toBe(a.traceHash);
    expect(b).toEqual(a);
  });

  it('hashes the same trace whether or not it is written to a file', async () => {
    const file = path.join(scratch, 'written.jsonl');
    const written = await simulate(scenario, { seed: 5, trace: file });
    const unwritten = await simulate(scenario, { seed: 5 });
    expect(unwritten.traceHash).toBe(written.traceHash);
  });

  it('changes the random draws, and so the hash, with another seed', async () => {
    const a = await simulate(scenario, { seed: 1 });
    const b = await simulate(scenario, { seed: 2 });
    expect(b.traceHash).not.toBe(a.traceHash);
    expect(b.makespanMs).not.toBe(a.makespanMs);
  });

  it("draws differently from a seed's very first draw: a coin flip comes out both ways across seeds", async () => {
    const coin = parseScenario(lines('tasks:', '  - { steps: [{ fail: 0.5 }] }'), 'coin.yaml');
    const failures: number[] = [];
    for (let seed = 1; seed <= 16; seed++) failures.push((await simulate(coin, { seed })).byStatus.failed);
    // 16 fair flips all alike would happen once in 32,768 runs.
    expect(new Set(failures)).toEqual(new Set([0, 1]));
  });

  it('opens the trace with a header holding the whole scenario (not the file it came from) and the seed, and closes it with simulation.end', async () => {
    const file = path.join(scratch, 'header.jsonl');
    const report = await simulate(scenario, { seed: 9, trace: file });
    const entries = traceLines(file);
    const { file: _readFrom, ...content } = scenario;
    expect(entries[0]).toEqual({ type: 'simulation.start', at: 0, seed: 9, scenario: JSON.parse(JSON.stringify(content)) });
    expect(entries.at(-1)).toMatchObject({ type: 'simulation.end', shutdown: { lost: 0 } });
    expect(entries.length).toBe(report.events + 2);
    // Virtual time never goes backwards.
    const times = entries.map((entry) => entry['at'] as number);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  it('gives the same hash in another process', async () => {
    const file = path.join(scratch, 'cross-process.yaml');
    writeFileSync(file, randomWorkload);
    const here = await simulate(loadScenario(file), { seed: 21 });
    const script = [
      `const { loadScenario } = require(${JSON.stringify(path.join(root, 'src/simulation/load-scenario.ts'))});`,
      `const { simulate } = require(${JSON.stringify(path.join(root, 'src/simulation/simulate.ts'))});`,
      `simulate(loadScenario(${JSON.stringify(file)}), { seed: 21 }).then((report) => process.stdout.write(report.traceHash));`,
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root });
    expect(stdout).toBe(here.traceHash);
  });

  it('gives the same hash for the same scenario read from another path, or named another way', async () => {
    const here = path.join(scratch, 'where.yaml');
    const elsewhere = path.join(scratch, 'elsewhere', 'copy.yaml');
    mkdirSync(path.dirname(elsewhere), { recursive: true });
    writeFileSync(here, randomWorkload);
    writeFileSync(elsewhere, randomWorkload);
    const hashes = await Promise.all(
      [here, elsewhere, path.relative(process.cwd(), here)].map(async (file) => (await simulate(loadScenario(file), { seed: 21 })).traceHash),
    );
    expect(new Set(hashes).size).toBe(1);
  });

  it('refuses a seed that is not an integer', async () => {
    await expect(simulate(scenario, { seed: 1.5 })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
  });
});

describe('simulate: incidents', () => {
  it('counts crashes, restarts, retries, lock-order violations and escalations as the trace has them', async () => {
    const totals = { workerCrashes: 0, workerRestarts: 0, retries: 0, lockOrderViolations: 0, escalations: 0 };
    for (const name of ['showcase.yaml', 'lock-order-inversion.yaml']) {
      const file = path.join(scratch, `incidents-${name}.jsonl`);
      const report = await simulate(loadScenario(path.join(examplesDir, name)), { seed: 3, trace: file });
      const count = (type: string): number => traceLines(file).filter((entry) => entry['type'] === type).length;
      expect(report.incidents).toEqual({
        workerCrashes: count('worker.crashed'),
        workerRestarts: count('worker.restarted'),
        retries: count('task.retrying'),
        lockOrderViolations: count('lockorder.violation'),
        escalations: count('engine.escalated'),
      });
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += report.incidents[key];
    }
    // The two examples have crashes, restarts, retries and violations to count (none escalates).
    expect(totals.escalations).toBe(0);
    expect(Math.min(totals.workerCrashes, totals.workerRestarts, totals.retries, totals.lockOrderViolations)).toBeGreaterThan(0);
  });
});

describe('simulate: faults', () => {
  const run = (text: string, seed = 1): Promise<SimulationReport> => simulate(parseScenario(text, 'fault.yaml'), { seed });

  it('signal: SIGTERM drains the admitted tasks, rejects later arrivals, and records the cause', async () => {
    const base = [
      'engine: { concurrency: 2, shutdown: { graceMs: 1000 } }',
      'tasks:',
      '  - generate: { count: 4, steps: [{ work: 20 }] }',
      '  - generate: { count: 3, start: 30, steps: [{ work: 5 }] }',
    ];
    const calm = await run(lines(...base));
    const signalled = await run(lines(...base, 'faults:', '  - { at: 10, signal: SIGTERM }'));
    expect(calm.byStatus).toMatchObject({ completed: 7, rejected: 0 });
    expect(calm.shutdown.phases[0]!.cause).toBe('request');
    expect(signalled.byStatus).toMatchObject({ completed: 4, rejected: 3, cancelled: 0 });
    expect(signalled.byCode).toEqual({ E_SHUTDOWN: 3 });
    expect(signalled.shutdown.phases[0]).toEqual({ phase: 'draining', at: 10, cause: 'signal' });
    expect(signalled.shutdown.lost).toBe(0);
  });

  it('signal: SIGINT takes the same path', async () => {
    const report = await run(
      lines('tasks:', '  - { steps: [{ work: 20 }] }', '  - { at: 15, steps: [{ work: 1 }] }', 'faults:', '  - { at: 10, signal: SIGINT }'),
    );
    expect(report.shutdown.phases[0]).toEqual({ phase: 'draining', at: 10, cause: 'signal' });
    expect(report.byStatus).toMatchObject({ completed: 1, rejected: 1 });
  });

  it('crash: the attempt on the crashed worker fails with E_WORKER_CRASHED, or is retried', async () => {
    const scenario = (retries: number): string =>
      lines(
        'engine: { concurrency: 1 }',
        'tasks:',
        `  - { id: t, retries: ${retries}, steps: [{ work: 50 }] }`,
        'faults:',
        '  - { at: 10, crash: main }',
      );
    const failed = await run(scenario(0));
    expect(failed.byStatus).toMatchObject({ failed: 1, completed: 0 });
    expect(failed.byCode).toEqual({ E_WORKER_CRASHED: 1 });
    const retried = await run(scenario(1));
    expect(retried.byStatus).toMatchObject({ failed: 0, completed: 1 });
    expect(retried.makespanMs).toBe(60);
  });

  it('crash: every attempt running on main fails at once; a queued task starts on the restarted main', async () => {
    const scenario = (retries: number): string =>
      lines(
        'engine: { concurrency: 3 }',
        'tasks:',
        `  - generate: { count: 4, name: job, retries: ${retries}, steps: [{ work: 50 }] }`,
        'faults:',
        '  - { at: 10, crash: main }',
      );
    const failed = await run(scenario(0));
    // The three running jobs fail together; the fourth, still queued, starts at 10 and ends at 60.
    expect(failed.byStatus).toMatchObject({ failed: 3, completed: 1 });
    expect(failed.byCode).toEqual({ E_WORKER_CRASHED: 3 });
    expect(failed.makespanMs).toBe(60);
    const retried = await run(scenario(1));
    // At 10, the queued job and two retries take the three slots; the third retry waits for one: 60 + 50.
    expect(retried.byStatus).toMatchObject({ failed: 0, completed: 4 });
    expect(retried.makespanMs).toBe(110);
  });

  it('reads the deprecated engine.workers as concurrency', async () => {
    const report = await simulate(loadScenario(path.join(__dirname, '..', 'fixtures', 'scenarios', 'legacy-workers.yaml')));
    // workers: 2: two jobs run when main crashes at 5; the other two start then and end at 15.
    expect(report.byStatus).toMatchObject({ failed: 2, completed: 2 });
    expect(report.byCode).toEqual({ E_WORKER_CRASHED: 2 });
    expect(report.makespanMs).toBe(15);
    expect(report.ok).toBe(true);
  });

  it('warns in its report that engine.workers is deprecated, and only then', async () => {
    const legacy = await simulate(loadScenario(path.join(__dirname, '..', 'fixtures', 'scenarios', 'legacy-workers.yaml')));
    expect(legacy.warnings).toEqual([expect.stringMatching(/^engine\.workers is deprecated: use engine\.concurrency\b/)]);
    expect((await run(lines('engine: { concurrency: 2 }', 'tasks: []'))).warnings).toEqual([]);
  });

  it('runs at most concurrency tasks at once', async () => {
    const text = (concurrency: number): string =>
      lines(`engine: { concurrency: ${concurrency} }`, 'tasks:', '  - generate: { count: 5, steps: [{ work: 10 }] }');
    expect((await run(text(1))).makespanMs).toBe(50);
    expect((await run(text(2))).makespanMs).toBe(30);
    expect((await run(text(5))).makespanMs).toBe(10);
  });

  it('cancel: the named task ends cancelled, queued or running', async () => {
    const base = ['engine: { concurrency: 1 }', 'tasks:', '  - { id: running, steps: [{ work: 50 }] }', '  - { id: queued, steps: [{ work: 50 }] }'];
    const calm = await run(lines(...base));
    expect(calm.byStatus).toMatchObject({ completed: 2, cancelled: 0 });
    const cancelled = await run(lines(...base, 'faults:', '  - { at: 10, cancel: running }', '  - { at: 20, cancel: queued }'));
    expect(cancelled.byStatus).toMatchObject({ completed: 0, cancelled: 2 });
    expect(cancelled.byCode).toEqual({ E_CANCELLED: 2 });
    expect(cancelled.makespanMs).toBe(20);
  });

  it('capacity: a pool that grows lets more tasks hold it at once; one that shrinks, fewer', async () => {
    const pool = (capacity: number, fault: string | undefined): string =>
      lines(
        'engine: { concurrency: 4, resources: { db: ' + capacity + ' } }',
        'tasks:',
        '  - generate: { count: 4, steps: [{ acquire: db }, { work: 10 }] }',
        ...(fault === undefined ? [] : ['faults:', fault]),
      );
    expect((await run(pool(1, undefined))).makespanMs).toBe(40);
    expect((await run(pool(1, '  - { at: 5, capacity: { resource: db, units: 4 } }'))).makespanMs).toBe(15);
    expect((await run(pool(4, undefined))).makespanMs).toBe(10);
    expect((await run(pool(4, '  - { at: 0, capacity: { resource: db, units: 1 } }'))).makespanMs).toBe(40);
  });

  it('slow: work started on a slowed worker takes factor times longer, only within forMs', async () => {
    const base = ['engine: { concurrency: 1 }', 'tasks:', '  - { steps: [{ work: 100 }] }', '  - { at: 200, steps: [{ work: 100 }] }'];
    expect((await run(lines(...base))).makespanMs).toBe(300);
    const slowed = await run(lines(...base, 'faults:', '  - { at: 0, slow: { worker: main, factor: 3, forMs: 150 } }'));
    // The first sleep is stretched to 300 ms; the second starts after the window and is not.
    expect(slowed.makespanMs).toBe(400);
  });

  it('slow: the slow-down applies to every task main starts within forMs, in every slot', async () => {
    const base = [
      'engine: { concurrency: 2 }',
      'tasks:',
      '  - generate: { count: 2, steps: [{ work: 100 }] }',
      '  - { at: 10, steps: [{ work: 100 }] }',
    ];
    expect((await run(lines(...base))).makespanMs).toBe(200);
    const slowed = await run(lines(...base, 'faults:', '  - { at: 0, slow: { worker: main, factor: 2, forMs: 50 } }'));
    // Both first sleeps stretch to 200 ms, so the third task waits for a slot until 200 (after the window) and takes 100.
    expect(slowed.makespanMs).toBe(300);
  });
});

describe('simulate: report', () => {
  it('evaluates the expectations against the run and is ok only when all hold', async () => {
    const text = (expectations: string[]): string =>
      lines('tasks:', '  - { steps: [{ work: 10 }] }', '  - { steps: [{ fail: 1 }] }', 'expect:', ...expectations);
    const holding = await simulate(parseScenario(text(['  completed: 1', '  failed: ">= 1"', '  code.E_TASK_FAILED: 1', '  makespanMs: 10'])));
    expect(holding.ok).toBe(true);
    expect(holding.expectations.map((expectation) => expectation.ok)).toEqual([true, true, true, true]);
    const broken = await simulate(parseScenario(text(['  completed: 1', '  failed: 0'])));
    expect(broken.ok).toBe(false);
    expect(broken.expectations).toEqual([
      { name: 'completed', expected: '== 1', actual: 1, ok: true },
      { name: 'failed', expected: '== 0', actual: 1, ok: false },
    ]);
  });

  it('counts a MezanError a task threw under its own code (code.E_RESOURCE_TIMEOUT, not E_TASK_FAILED)', async () => {
    const report = await simulate(
      parseScenario(
        lines(
          'engine: { concurrency: 2, resources: { db: 1 } }',
          'tasks:',
          '  - { steps: [{ acquire: db }, { work: 100 }] }',
          '  - { at: 1, steps: [{ acquire: db, timeoutMs: 10 }] }',
          'expect:',
          '  code.E_RESOURCE_TIMEOUT: 1',
        ),
      ),
    );
    expect(report.byStatus).toMatchObject({ completed: 1, failed: 1 });
    expect(report.byCode).toEqual({ E_RESOURCE_TIMEOUT: 1 });
    expect(report.ok).toBe(true);
  });

  it('ends a run stuck in an undetected deadlock by a forced shutdown, losing nothing', async () => {
    const report = await simulate(
      parseScenario(
        lines(
          'engine: { concurrency: 2, resources: { a: 1, b: 1 }, deadlock: { detect: "off" } }',
          'tasks:',
          '  - { steps: [{ acquire: a }, { work: 10 }, { acquire: b }] }',
          '  - { steps: [{ acquire: b }, { work: 10 }, { acquire: a }] }',
        ),
      ),
    );
    expect(report.shutdown.phases[0]).toMatchObject({ phase: 'terminating', cause: 'force' });
    expect(report.byStatus.cancelled).toBe(2);
    expect(report.shutdown.lost).toBe(0);
    expect(report.deadlocks).toEqual([]);
    // The aborted functions return at once (their waits reject): none is abandoned, and the run
    // stops at the instant it was forced, not abandonAfterMs later.
    expect(report.shutdown.abandoned).toEqual([]);
    const [terminating, stopped] = report.shutdown.phases;
    expect(stopped).toMatchObject({ phase: 'stopped', at: terminating!.at });
    expect(report.makespanMs).toBe(terminating!.at);
  });
});

describe('shipped examples', () => {
  const examples = readdirSync(examplesDir).filter((name) => /\.(ya?ml|json)$/.test(name));

  it('include the stress scenarios and the showcase', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'concurrent-tasks.yaml',
        'submit-and-cancel.yaml',
        'resource-exhaustion.yaml',
        'signal-drain.yaml',
        'lock-order-inversion.yaml',
        'dining-philosophers.yaml',
        'nested-submission-cycle.yaml',
        'worker-slot-starvation.yaml',
        'showcase.yaml',
      ]),
    );
  });

  it.each(examples)('%s loads and meets its expectations with the default seed', async (name) => {
    const scenario = loadScenario(path.join(examplesDir, name));
    expect(Object.keys(scenario.expect ?? {}).length).toBeGreaterThan(0);
    const report = await simulate(scenario);
    expect(report.expectations.filter((expectation) => !expectation.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.shutdown.lost).toBe(0);
  });

  it('dining philosophers: five forks, five philosophers, one cycle through all of them, a victim', async () => {
    const report = await simulate(loadScenario(path.join(examplesDir, 'dining-philosophers.yaml')));
    expect(report.deadlocks[0]).toMatchObject({ resolution: 'victim', deadlocked: ['p1', 'p2', 'p3', 'p4', 'p5'] });
    expect(report.deadlocks[0]!.cycle.filter((id) => id.startsWith('fork-'))).toHaveLength(5);
  });

  it('worker-slot starvation with compensation off is resolved by a victim; the nested cycle by compensation', async () => {
    const starvation = await simulate(loadScenario(path.join(examplesDir, 'worker-slot-starvation.yaml')));
    expect(starvation.deadlocks.map((deadlock) => deadlock.resolution)).toEqual(['victim']);
    expect(starvation.deadlocks[0]!.cycle).toContain('@workers');
    const nested = await simulate(loadScenario(path.join(examplesDir, 'nested-submission-cycle.yaml')));
    expect(nested.deadlocks.length).toBeGreaterThan(0);
    expect(new Set(nested.deadlocks.map((deadlock) => deadlock.resolution))).toEqual(new Set(['compensation']));
  });

  it('the showcase detects and resolves both kinds of deadlock and shuts down on a signal', async () => {
    const report = await simulate(loadScenario(path.join(examplesDir, 'showcase.yaml')));
    expect(new Set(report.deadlocks.map((deadlock) => deadlock.resolution))).toEqual(new Set(['victim', 'compensation']));
    expect(report.shutdown.phases.map((phase) => phase.cause)).toEqual(['signal', 'drained']);
  });
});

describe('threads', () => {
  it('refuses a scenario made in code whose engine asks for threads, before running anything', async () => {
    const threaded = { name: 'threaded', engine: { threads: 2 }, tasks: [{ steps: [{ work: 1 }] }] } as unknown as Scenario;
    const refused = simulate(threaded);
    await expect(refused).rejects.toBeInstanceOf(MezanError);
    await expect(refused).rejects.toMatchObject({ code: 'E_INVALID_SCENARIO', details: { path: 'engine.threads' } });
    await expect(refused).rejects.toThrow(/simulations run main-thread tasks only/);
  });
});

describe('limits', () => {
  it('refuses a scenario that would make more tasks than maxTasks before preparing any', async () => {
    const huge: Scenario = { name: 'huge', tasks: [{ generate: { count: 1e12, steps: [{ work: 1 }] } }] };
    await expect(simulate(huge)).rejects.toMatchObject({ code: 'E_INVALID_SCENARIO', details: { total: 1e12, limit: 1_000_000 } });
    const fifty: Scenario = { name: 'fifty', tasks: [{ generate: { count: 50, steps: [{ work: 1 }] } }, { steps: [{ work: 1 }] }] };
    await expect(simulate(fifty, { maxTasks: 50 })).rejects.toMatchObject({ code: 'E_INVALID_SCENARIO', details: { total: 51, limit: 50 } });
    await expect(simulate(fifty, { maxTasks: 51 })).resolves.toMatchObject({ byStatus: expect.objectContaining({ completed: 51 }) });
  });
});
