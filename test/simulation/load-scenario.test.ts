import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { MezanError } from '../../src/errors';
import { loadScenario, parseScenario } from '../../src/simulation/load-scenario';
import { EXPECTATION_NAMES, SCENARIO_SCHEMA, UNREACHABLE_ERROR_CODES } from '../../src/simulation/scenario-schema';
import type { Scenario } from '../../src/simulation/scenario';

const fixture = (name: string): string => path.join(__dirname, '..', 'fixtures', 'scenarios', name);
const lines = (...text: string[]): string => `${text.join('\n')}\n`;

/** The error `run` throws; fails the test when it throws nothing. */
function thrownBy(run: () => unknown): MezanError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MezanError);
    return error as MezanError;
  }
  throw new Error('expected an E_INVALID_SCENARIO error, but the scenario loaded');
}

/**
 * Checks that `error` refuses a scenario with `E_INVALID_SCENARIO` at `line`:`column` of `file`, on
 * `badPath` ('' for an error of the YAML itself), and that its message starts with that place.
 */
function expectRefusedAt(error: MezanError, file: string, line: number, column: number, badPath: string): void {
  expect(error.code).toBe('E_INVALID_SCENARIO');
  expect(error.details).toEqual({ file, line, column, path: badPath, reason: expect.any(String) });
  expect(error.message.startsWith(`${file}:${line}:${column}: ${badPath === '' ? '' : `${badPath}: `}`)).toBe(true);
}

/**
 * A text `parseScenario` must refuse, from `fixtures/scenarios/bad-texts.yaml`: `label` names its test,
 * and `at` is where its error must be (positions 1-based, at the bad value, or at the key of an
 * unknown field, or at the object a required field is missing from).
 */
interface BadText {
  readonly label: string;
  readonly text: string;
  readonly at: { readonly line: number; readonly column: number; readonly path: string };
}

/** What good.yaml and good.json describe, without `file`. */
const kitchenSink: Omit<Scenario, 'file'> = {
  name: 'kitchen sink',
  engine: {
    concurrency: 3,
    resources: { db: 2, gpu: { capacity: 1, rank: 2 } },
    deadlock: { detect: { afterMs: 5 }, policy: 'lowest-priority', compensate: { maxExtraWorkers: 2 } },
    lockOrder: 'enforce',
    supervision: { maxRestarts: 3, withinMs: 1000 },
    shutdown: { graceMs: 500, drain: 'cancel' },
  },
  tasks: [
    {
      id: 'load',
      at: 0,
      name: 'load data',
      priority: 2,
      timeoutMs: 250,
      retries: { max: 2, delayMs: 10, backoff: 'exponential', maxDelayMs: 100, jitter: 0.5 },
      resources: { db: 1 },
      steps: [
        { work: 10 },
        { work: { uniform: [5, 15] } },
        { acquire: 'gpu', units: 1, timeoutMs: 50 },
        { work: { exponential: { mean: 20 } } },
        { release: 'gpu' },
        { progress: 0.5, message: 'halfway' },
        { spawn: { name: 'child', steps: [{ work: { normal: { mean: 8, stddev: 2, min: 1 } } }] }, await: true },
        { fail: 0.1, message: 'flaky' },
      ],
    },
    { id: 'train', at: 5, dependsOn: ['load'], retries: 1, steps: [] },
    { generate: { count: 100, rate: 50, start: 10, name: 'burst', steps: [{ work: 1 }] } },
  ],
  faults: [
    { at: 20, crash: 'main' },
    { at: 30, slow: { worker: 'main', factor: 4, forMs: 100 } },
    { at: 40, capacity: { resource: 'db', units: 1 } },
    { at: 50, cancel: 'train' },
    { at: 60, signal: 'SIGTERM' },
  ],
  expect: { completed: '>= 90', deadlocks: 0, lost: 0, maxQueueDepth: '< 120', makespanMs: '<= 5000', 'code.E_CANCELLED': '== 1' },
};

describe('loadScenario: good files', () => {
  it.each(['good.yaml', 'good.json'])('%s loads to the expected scenario, with its file', (name) => {
    const file = fixture(name);
    expect(loadScenario(file)).toEqual({ file, ...kitchenSink });
  });

  it('returns a deeply frozen scenario', () => {
    const scenario = loadScenario(fixture('good.yaml'));
    const load = scenario.tasks![0] as { steps: Array<{ spawn?: { steps: object[] } }> };
    for (const value of [
      scenario,
      scenario.engine,
      scenario.engine!.resources,
      scenario.tasks,
      load,
      load.steps,
      load.steps[6]!.spawn!.steps[0],
      scenario.expect,
    ]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    expect(() => {
      (scenario as { name?: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  it('parses inline text, JSON included, and names it <inline> by default', () => {
    expect(parseScenario('tasks:\n  - steps: [{ work: 1 }]\n')).toEqual({ file: '<inline>', tasks: [{ steps: [{ work: 1 }] }] });
    expect(parseScenario('{ "tasks": [{ "steps": [] }] }', 'x.json')).toEqual({ file: 'x.json', tasks: [{ steps: [] }] });
    expect(parseScenario('{}', 'empty.json')).toEqual({ file: 'empty.json' });
  });

  it('accepts every known expectation name and every comparison operator', () => {
    const operators = ['== 1', '!= 1', '>= 1', '<= 1', '> 1', '< 1', '>=0.5', '== -2', '< 1200'];
    const expectations = Object.fromEntries(
      EXPECTATION_NAMES.map((name, index) => [name, index % 2 === 0 ? index : operators[index % operators.length]!]),
    );
    expect(parseScenario(JSON.stringify({ expect: expectations }), 'all.json').expect).toEqual(expectations);
    expect(EXPECTATION_NAMES).toEqual(
      expect.arrayContaining(['completed', 'timeout', 'deadlocks', 'lost', 'maxQueueDepth', 'makespanMs', 'code.E_DEADLOCK']),
    );
  });

  it('names the one worker main, whatever the concurrency', () => {
    expect(parseScenario('faults: [{ at: 1, crash: main }]\n').faults).toEqual([{ at: 1, crash: 'main' }]);
    expect(parseScenario('engine: { concurrency: 6 }\nfaults: [{ at: 1, slow: { worker: main, factor: 2 } }]\n').faults).toEqual([
      { at: 1, slow: { worker: 'main', factor: 2 } },
    ]);
  });

  it('still reads the deprecated engine.workers, as written (the run takes it as concurrency)', () => {
    const file = fixture('legacy-workers.yaml');
    const scenario = loadScenario(file);
    expect(scenario.engine).toEqual({ workers: 2 });
    expect(scenario.faults).toEqual([{ at: 5, crash: 'main' }]);
    expect(parseScenario('engine: { workers: 6 }\n').engine).toEqual({ workers: 6 });
  });

  it('lets a task depend on one submitted at the same time, earlier in the file or later', () => {
    const text = lines('tasks:', '  - { id: b, dependsOn: [a], steps: [] }', '  - { id: a, steps: [] }');
    expect(parseScenario(text).tasks).toHaveLength(2);
  });

  it('ships a schema that survives JSON (so it can be written out for editors)', () => {
    expect(JSON.parse(JSON.stringify(SCENARIO_SCHEMA))).toEqual(SCENARIO_SCHEMA);
  });
});

describe('loadScenario: bad files', () => {
  // [fixture, line, column, path]
  const files: Array<[string, number, number, string]> = [
    ['bad-syntax.yaml', 5, 25, ''],
    ['bad-unknown-resource.yaml', 11, 20, 'tasks[3].steps[1].acquire'],
    ['bad-unknown-field.json', 5, 18, 'tasks[1].stpes'],
    ['bad-duplicate-key.json', 4, 3, ''],
    ['bad-yes.json', 2, 11, ''],
  ];

  it.each(files)('%s → %i:%i %s', (name, line, column, badPath) => {
    const file = fixture(name);
    const error = thrownBy(() => loadScenario(file));
    expectRefusedAt(error, file, line, column, badPath);
  });

  it('refuses a file it cannot read', () => {
    const file = fixture('no-such-file.yaml');
    const error = thrownBy(() => loadScenario(file));
    expect(error.code).toBe('E_INVALID_SCENARIO');
    expect(error.details['file']).toBe(file);
    expect(error.details['line']).toBeUndefined();
  });
});

describe('parseScenario: bad texts', () => {
  const texts = (parse(readFileSync(fixture('bad-texts.yaml'), 'utf8')) as BadText[]).map((bad): [string, BadText] => [bad.label, bad]);

  it.each(texts)('%s', (_label, { text, at: { line, column, path: badPath } }) => {
    const error = thrownBy(() => parseScenario(text, 'scenario.yaml'));
    expectRefusedAt(error, 'scenario.yaml', line, column, badPath);
  });

  it('refuses engine.threads, whatever its value, saying that simulations run main-thread tasks only', () => {
    for (const value of ['2', '0', '{ count: 2 }']) {
      const error = thrownBy(() =>
        parseScenario(lines('engine:', '  concurrency: 2', `  threads: ${value}`, 'tasks:', '  - steps: [{ work: 1 }]'), 't.yaml'),
      );
      expectRefusedAt(error, 't.yaml', 3, 3, 'engine.threads');
      expect(error.message).toContain('simulations run main-thread tasks only');
    }
    expectRefusedAt(
      thrownBy(() => parseScenario('{ "engine": { "threads": 1 } }', 't.json')),
      't.json',
      1,
      15,
      'engine.threads',
    );
  });

  it('parses .json files as strict JSON, where YAML would take a bare word as a string', () => {
    expect(parseScenario('{ "name": yes }', 'x.yaml').name).toBe('yes');
    const error = thrownBy(() => parseScenario('{ "name": yes }', 'x.json'));
    expect(error.details).toMatchObject({ file: 'x.json', line: 1, column: 11, path: '' });
  });

  it('refuses a capacity fault of 0, saying why: the engine would fail the acquires waiting for the pool', () => {
    const error = thrownBy(() =>
      parseScenario(lines('engine: { resources: { db: 1 } }', 'faults: [{ at: 1, capacity: { resource: db, units: 0 } }]')),
    );
    expect(error.details).toMatchObject({ path: 'faults[0].capacity.units', line: 2, column: 52 });
    expect(error.details['reason']).toMatch(/offline.*waiting acquires would fail/);
  });

  // [label, text, line, column, what the reason says]
  const notJson: Array<[string, string, number, number, RegExp]> = [
    ['a trailing comma in an object', '{\n  "name": "x",\n}', 2, 14, /trailing comma/],
    ['a trailing comma in a list', '{ "tasks": [{ "steps": [] },\n] }', 1, 28, /trailing comma/],
    ['a line comment', '{\n  // the name\n  "name": "x"\n}', 2, 3, /comment/],
    ['a block comment', '{ "name": /* x */ "x" }', 1, 11, /comment/],
    ['a single-quoted string', '{ \'name\': "x" }', 1, 3, /not JSON here/],
    ['a second value', '{ "name": "x" } {}', 1, 17, /end of the file/],
    ['YAML that is not JSON', 'name: x\n', 1, 1, /not JSON here/],
    ['an empty file', '', 1, 1, /expected a value/],
  ];

  it.each(notJson)('parses .json files as strict JSON: refuses %s where it is', (_label, text, line, column, reason) => {
    const error = thrownBy(() => parseScenario(text, 'x.json'));
    expect(error.details).toMatchObject({ file: 'x.json', line, column, path: '' });
    expect(error.details['reason']).toMatch(reason);
  });

  it('reads a .json file with a byte-order mark, as JSON allows', () => {
    expect(parseScenario('\uFEFF{ "name": "x" }', 'x.json').name).toBe('x');
  });

  it.each(Object.keys(UNREACHABLE_ERROR_CODES))('refuses to expect a count of %s, which no task of a simulation ends with', (code) => {
    const error = thrownBy(() => parseScenario(lines('expect:', '  completed: 1', `  code.${code}: 0`)));
    expect(error.details).toMatchObject({ path: `expect["code.${code}"]`, line: 3, column: 3 });
    expect(error.details['reason']).toMatch(new RegExp(`^no task of a simulation ends with ${code}: `));
  });

  it('counts columns after a byte-order mark as an editor does', () => {
    expect(thrownBy(() => parseScenario('\uFEFFengine: { concurrency: 0 }\n')).details).toMatchObject({ line: 1, column: 24 });
  });

  it('names the file it was given in the message', () => {
    const error = thrownBy(() => parseScenario(lines('engine:', '  concurrency: 0'), 'examples/x.yaml'));
    expect(error.message.startsWith('examples/x.yaml:2:16: engine.concurrency: ')).toBe(true);
    expect(thrownBy(() => parseScenario('engine: { concurrency: 0 }')).details['file']).toBe('<inline>');
  });
});
