import { CommanderError } from 'commander';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProgram } from '../../src/cli/main';
import { createSimulateCommand, parseSeedRange, SIMULATE_EXIT, type SimulateIo } from '../../src/cli/simulate-command';
import { MezanError } from '../../src/errors';
import { loadScenario } from '../../src/simulation/load-scenario';
import { simulate } from '../../src/simulation/simulate';

type Stream = SimulateIo['stdout'] & { readonly text: string };

/** A stream stand-in that keeps what was written. */
function memoryStream(isTTY: boolean): Stream {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 160,
    write(chunk: unknown): boolean {
      chunks.push(String(chunk));
      return true;
    },
    // cli-progress moves the cursor with readline, which calls these on a TTY.
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    get text(): string {
      return chunks.join('');
    },
  };
  return stream as unknown as Stream;
}

interface CliRun {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mezan simulate <args>` in this process and returns its exit code and output. */
async function cli(args: readonly string[], tty = false): Promise<CliRun> {
  const stdout = memoryStream(false);
  const stderr = memoryStream(tty);
  let code: number | undefined;
  const command = createSimulateCommand({ stdout, stderr, setExitCode: (value) => (code = value), progressAfterMs: 0 })
    .exitOverride()
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });
  try {
    await command.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    code = error.exitCode;
  }
  return { code, stdout: stdout.text, stderr: stderr.text };
}

let dir: string;
const file = (name: string): string => path.join(dir, name);
const write = (name: string, text: string): string => {
  writeFileSync(file(name), text);
  return file(name);
};
const sha256 = (name: string): string => createHash('sha256').update(readFileSync(name)).digest('hex');

let passing: string;
let failing: string;
let coinFlip: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mezan-simulate-cli-'));
  passing = write(
    'passing.yaml',
    [
      'name: passing',
      'engine: { concurrency: 2, resources: { a: 1, b: 1 }, deadlock: { detect: immediate } }',
      'tasks:',
      '  - { id: ab, steps: [{ acquire: a }, { work: 5 }, { acquire: b }] }',
      '  - { id: ba, steps: [{ acquire: b }, { work: 5 }, { acquire: a }] }',
      '  - generate: { count: 20, steps: [{ work: { uniform: [1, 9] } }] }',
      'expect:',
      '  deadlocks: 1',
      '  completed: 21',
      '  lost: 0',
      '',
    ].join('\n'),
  );
  failing = write('failing.yaml', 'name: failing\ntasks:\n  - { steps: [{ work: 10 }] }\nexpect:\n  completed: 2\n  lost: 0\n');
  // A few durations are drawn before the coin flip: its outcome should not rest on a seed's very first draws.
  coinFlip = write(
    'coin-flip.yaml',
    'name: coin flip\ntasks:\n  - steps: [{ work: { uniform: [1, 5] } }, { work: { uniform: [1, 5] } }, { work: { uniform: [1, 5] } }, { fail: 0.5 }]\nexpect:\n  failed: 0\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mezan simulate <file>', () => {
  it('exits 0 when every expectation holds and prints the summary tables', async () => {
    const run = await cli([passing]);
    expect(run.code).toBe(SIMULATE_EXIT.ok);
    for (const heading of [
      'scenario',
      'completed',
      'deadlock',
      'victim',
      'cycle',
      'shutdown',
      'expectation',
      'expected',
      'actual',
      'max queue depth',
      'makespan',
    ]) {
      expect(run.stdout).toContain(heading);
    }
    expect(run.stdout).toMatch(/deadlocks\s+│\s+== 1\s+│\s+1\s+│\s+ok/);
    expect(run.stdout).toContain('ok: all 3 expectations hold');
    expect(run.stderr).toBe('');
  });

  it('exits 1 when an expectation does not hold, and marks it', async () => {
    const run = await cli([failing]);
    expect(run.code).toBe(SIMULATE_EXIT.failed);
    expect(run.stdout).toMatch(/completed\s+│\s+== 2\s+│\s+1\s+│\s+FAILED/);
    expect(run.stdout).toContain('FAILED: 1 of 2 expectations do not hold');
  });

  it("exits 2 for a bad file and prints the loader's message (file:line:col: path: reason)", async () => {
    const bad = write('bad.yaml', 'tasks:\n  - steps:\n      - wrok: 10\n');
    const expected = (() => {
      try {
        loadScenario(bad);
      } catch (error) {
        return error as MezanError;
      }
      throw new Error('the bad file loaded');
    })();
    expect(expected.code).toBe('E_INVALID_SCENARIO');
    const run = await cli([bad]);
    expect(run.code).toBe(SIMULATE_EXIT.invalid);
    expect(run.stderr).toBe(`${expected.message}\n`);
    expect(run.stderr.startsWith(`${bad}:3:9: tasks[0].steps[0].wrok: `)).toBe(true);
    expect(run.stdout).toBe('');
  });

  it('refuses, with exit 2, a scenario over --max-tasks or a file over --max-file-mib, and runs it once raised', async () => {
    const many = write('many.yaml', ['name: many', 'tasks:', '  - generate: { count: 1000000000000, steps: [{ work: 1 }] }'].join('\n'));
    const refused = await cli([many]);
    expect(refused.code).toBe(SIMULATE_EXIT.invalid);
    expect(refused.stderr).toContain('makes 1,000,000,000,000 tasks (tasks[0].generate makes 1,000,000,000,000), over the limit of 1,000,000');
    const fifty = write('fifty.yaml', ['name: fifty', 'tasks:', '  - generate: { count: 50, steps: [{ work: 1 }] }'].join('\n'));
    expect((await cli([fifty, '--max-tasks', '10'])).stderr).toContain('over the limit of 10; raise it with --max-tasks');
    expect((await cli([fifty, '--max-tasks', '50'])).code).toBe(SIMULATE_EXIT.ok);
    const large = write('large.yaml', `name: large\n# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const tooLarge = await cli([large, '--max-file-mib', '1']);
    expect(tooLarge.code).toBe(SIMULATE_EXIT.invalid);
    expect(tooLarge.stderr).toContain('the file is 2 MiB, over the limit of 1 MiB');
    expect((await cli([fifty, '--max-tasks', 'many'])).code).toBe(SIMULATE_EXIT.invalid);
  });

  it('refuses, with exit 2, a scenario that asks for worker threads, saying why', async () => {
    const threaded = write('threaded.yaml', ['name: threaded', 'engine:', '  threads: 2', 'tasks:', '  - steps: [{ work: 1 }]'].join('\n'));
    const run = await cli([threaded]);
    expect(run.code).toBe(SIMULATE_EXIT.invalid);
    expect(run.stderr).toContain(`${threaded}:3:3: engine.threads: simulations run main-thread tasks only`);
    expect(run.stdout).toBe('');
  });

  it('warns on stderr, once, about a deprecated field of the scenario, and runs it', async () => {
    const legacy = write('legacy.yaml', 'engine: { workers: 2 }\ntasks: [{ steps: [{ work: 1 }] }]\nexpect: { completed: 1 }\n');
    const warning = `${legacy}: warning: engine.workers is deprecated: use engine.concurrency`;
    for (const args of [[legacy], [legacy, '--seeds', '1..3']]) {
      const run = await cli(args);
      expect(run.code).toBe(SIMULATE_EXIT.ok);
      expect(run.stderr.split(warning)).toHaveLength(2);
    }
  });

  it('exits 2 for a file that does not exist', async () => {
    const run = await cli([file('missing.yaml')]);
    expect(run.code).toBe(SIMULATE_EXIT.invalid);
    expect(run.stderr).toContain('missing.yaml');
  });

  it('prints the report as JSON with --json, the same as simulate returns', async () => {
    const run = await cli([passing, '--json', '--seed', '4']);
    expect(run.code).toBe(SIMULATE_EXIT.ok);
    const report = await simulate(loadScenario(passing), { seed: 4 });
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('writes the trace with --trace; its bytes hash to the report’s traceHash', async () => {
    const trace = file('passing.jsonl');
    const run = await cli([passing, '--seed', '3', '--trace', trace, '--json']);
    expect(run.code).toBe(SIMULATE_EXIT.ok);
    const report = JSON.parse(run.stdout) as { traceHash: string; seed: number };
    expect(report.seed).toBe(3);
    expect(sha256(trace)).toBe(report.traceHash);
  });

  it('draws a progress bar on a TTY only', async () => {
    const onTty = await cli([passing], true);
    expect(onTty.stderr).toContain('tasks');
    const piped = await cli([passing], false);
    expect(piped.stderr).toBe('');
  });
});

describe('mezan simulate --replay', () => {
  let trace: string;
  beforeAll(async () => {
    trace = file('replay.jsonl');
    expect((await cli([passing, '--seed', '8', '--trace', trace])).code).toBe(0);
  });

  it('exits 0 when the rerun gives the same hash as the file', async () => {
    const run = await cli(['--replay', trace]);
    expect(run.code).toBe(SIMULATE_EXIT.ok);
    expect(run.stdout).toContain(`replay ok: ${trace} (seed 8)`);
    expect(run.stdout).toContain(sha256(trace));
  });

  it('reports ok, the seed and both hashes with --json', async () => {
    const run = await cli(['--replay', trace, '--json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, seed: 8, recordedHash: sha256(trace), replayedHash: sha256(trace) });
  });

  it('exits 1 when the file differs from the rerun, naming the first differing line', async () => {
    const lines = readFileSync(trace, 'utf8').split('\n');
    const edited = [...lines];
    edited[3] = edited[3]!.replace(/"at":(\d+)/, (_, at: string) => `"at":${Number(at) + 1}`);
    expect(edited[3]).not.toBe(lines[3]);
    const tampered = write('tampered.jsonl', edited.join('\n'));
    const run = await cli(['--replay', tampered]);
    expect(run.code).toBe(SIMULATE_EXIT.failed);
    expect(run.stdout).toContain('replay MISMATCH');
    expect(run.stdout).toContain('first difference at line 4');
    const json = JSON.parse((await cli(['--replay', tampered, '--json'])).stdout) as { ok: boolean; difference: { line: number } };
    expect(json).toMatchObject({ ok: false, difference: { line: 4 } });
  });

  it('exits 1 for a trace cut short', async () => {
    const text = readFileSync(trace, 'utf8');
    const cut = write('cut.jsonl', text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    const run = await cli(['--replay', cut]);
    expect(run.code).toBe(SIMULATE_EXIT.failed);
  });

  it('exits 2 for a file that is not a trace', async () => {
    for (const [name, text] of [
      ['scenario.jsonl', readFileSync(passing, 'utf8')],
      ['empty.jsonl', ''],
      ['other.jsonl', '{"type":"task.queued","at":0}\n'],
      ['no-seed.jsonl', '{"type":"simulation.start","at":0,"scenario":{"tasks":[]}}\n'],
      ['bad-scenario.jsonl', '{"type":"simulation.start","at":0,"seed":1,"scenario":{"tasks":[{"stpes":[]}]}}\n'],
    ] as const) {
      const run = await cli(['--replay', write(name, text)]);
      expect({ name, code: run.code }).toEqual({ name, code: SIMULATE_EXIT.invalid });
      expect(run.stderr).toContain(name);
    }
    expect((await cli(['--replay', file('absent.jsonl')])).code).toBe(SIMULATE_EXIT.invalid);
  });
});

describe('mezan simulate --seeds A..B', () => {
  const seeds = Array.from({ length: 12 }, (_, index) => index + 1);
  let expectedFailing: number[];
  beforeAll(async () => {
    const scenario = loadScenario(coinFlip);
    expectedFailing = [];
    for (const seed of seeds) if (!(await simulate(scenario, { seed })).ok) expectedFailing.push(seed);
    // The sweep below is only meaningful with seeds of both kinds.
    expect(expectedFailing.length).toBeGreaterThan(0);
    expect(expectedFailing.length).toBeLessThan(seeds.length);
  });

  it('runs every seed, lists the failing ones and exits 1', async () => {
    const run = await cli([coinFlip, '--seeds', '1..12']);
    expect(run.code).toBe(SIMULATE_EXIT.failed);
    expect(run.stdout).toContain(`failing seeds: ${expectedFailing.join(', ')}`);
    expect(run.stdout).toContain(`FAILED: ${expectedFailing.length} of 12 runs`);
    expect(run.stdout).toContain(`--seed ${expectedFailing[0]}`);
  });

  it('lists them with --json', async () => {
    const run = await cli([coinFlip, '--seeds', '1..12', '--json']);
    const sweep = JSON.parse(run.stdout) as { failing: number[]; runs: Array<{ seed: number; ok: boolean }> };
    expect(sweep.failing).toEqual(expectedFailing);
    expect(sweep.runs.map((outcome) => outcome.seed)).toEqual(seeds);
  });

  it('makes each failing seed reproducible alone with --seed, and each passing one passes alone', async () => {
    for (const seed of seeds) {
      const run = await cli([coinFlip, '--seed', String(seed)]);
      expect({ seed, code: run.code }).toEqual({ seed, code: expectedFailing.includes(seed) ? SIMULATE_EXIT.failed : SIMULATE_EXIT.ok });
    }
  });

  it('exits 0 when every seed passes', async () => {
    const run = await cli([passing, '--seeds', '1..3']);
    expect(run.code).toBe(SIMULATE_EXIT.ok);
    expect(run.stdout).toContain('every expectation holds for all 3 runs');
  });
});

describe('usage', () => {
  it.each([
    [['--seeds', '3..1']],
    [['--seeds', '1-3']],
    [['--seed', 'abc']],
    [['--seed', '1.5']],
    // Past 32 bits a seed would repeat the draws of a smaller one.
    [['--seed', '4294967297']],
    [['--seeds', '1..4294967297']],
  ])('exits 2 for a bad flag value: %p', async (flags) => {
    const run = await cli([passing, ...flags]);
    expect(run.code).toBe(SIMULATE_EXIT.invalid);
  });

  it.each([[[]], [['--seed', '1', '--seeds', '1..2']], [['--seeds', '1..2', '--trace', 'x.jsonl']], [['--replay', 'x.jsonl', '--seed', '2']]])(
    'exits 2 for flags that do not go together: %p',
    async (args) => {
      const run = await cli(args.length > 0 && args[0] === '--replay' ? args : args.length === 0 ? [] : [passing, ...args]);
      expect(run.code).toBe(SIMULATE_EXIT.invalid);
      expect(run.stderr).not.toBe('');
    },
  );

  it('exits 2 for a file and --replay together', async () => {
    expect((await cli([passing, '--replay', passing])).code).toBe(SIMULATE_EXIT.invalid);
  });

  it('parses seed ranges', () => {
    expect(parseSeedRange('1..100')).toEqual({ from: 1, to: 100 });
    expect(parseSeedRange(' 7 .. 7 ')).toEqual({ from: 7, to: 7 });
    expect(() => parseSeedRange('5..4')).toThrow(CommanderError);
  });

  it('is a subcommand of mezan', () => {
    expect(createProgram().commands.map((command) => command.name())).toContain('simulate');
  });
});
