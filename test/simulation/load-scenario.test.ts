import path from 'node:path';
import { MezanError } from '../../src/errors';
import { loadScenario, parseScenario } from '../../src/simulation/load-scenario';
import { EXPECTATION_NAMES, SCENARIO_SCHEMA } from '../../src/simulation/scenario-schema';
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
    expect(error.code).toBe('E_INVALID_SCENARIO');
    expect(error.details).toEqual({ file, line, column, path: badPath, reason: expect.any(String) });
    expect(error.message.startsWith(`${file}:${line}:${column}: ${badPath === '' ? '' : `${badPath}: `}`)).toBe(true);
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
  const withResources = (...rest: string[]): string => lines('engine:', '  resources: { db: 2, gpu: 1 }', ...rest);
  const withA = (...rest: string[]): string => lines('tasks:', '  - { id: a, steps: [] }', ...rest);

  // [label, text, line, column, path]; positions are 1-based, at the bad value, or at the key of an
  // unknown field, or at the object a required field is missing from.
  const texts: Array<[string, string, number, number, string]> = [
    // YAML itself
    ['a syntax error', lines('name: [a, b]]'), 1, 13, ''],
    ['a tab as indentation', lines('engine:', '\tconcurrency: 2'), 2, 1, ''],
    ['a duplicate key', lines('name: a', 'tasks: []', 'name: b'), 3, 1, ''],
    ['an unknown tag', lines('name: !secret x'), 1, 7, ''],
    ['an alias that contains itself', lines('tasks:', '  - steps: &s', '      - spawn: { steps: *s }'), 3, 25, ''],
    ['a list as a key', lines('? [a, b]', ': 1'), 1, 3, ''],
    ['an empty document', '', 1, 1, ''],
    ['a list at the top', lines('- steps: []'), 1, 1, ''],

    // shapes and fields
    ['an unknown top-level field', lines('name: x', 'taks: []'), 2, 1, 'taks'],
    ['file is set by the loader, not the file', lines('file: other.yaml'), 1, 1, 'file'],
    ['an unknown engine field', lines('engine:', '  concurency: 2'), 2, 3, 'engine.concurency'],
    ['a misspelt step', lines('tasks:', '  - steps:', '      - wrok: 5'), 3, 9, 'tasks[0].steps[0].wrok'],
    ['a field of another step kind', lines('tasks:', '  - steps:', '      - work: 5', '        units: 2'), 4, 9, 'tasks[0].steps[0].units'],
    ['a step of no kind', lines('tasks:', '  - steps: [{}]'), 2, 13, 'tasks[0].steps[0]'],
    ['a step of two kinds', lines('tasks:', '  - steps:', '      - work: 5', '        fail: 0.5'), 3, 9, 'tasks[0].steps[0]'],
    ['a task without steps', lines('tasks:', '  - name: x', '    priority: 1'), 2, 5, 'tasks[0].steps'],
    ['empty steps', lines('tasks:', '  - steps:'), 2, 5, 'tasks[0].steps'],
    ['a generator field on a task', lines('tasks:', '  - count: 3', '    steps: []'), 2, 5, 'tasks[0].count'],
    ['a generator without count or times', lines('tasks:', '  - generate:', '      steps: []'), 3, 7, 'tasks[0].generate'],
    ['a field beside generate', lines('tasks:', '  - generate: { count: 2, steps: [] }', '    at: 5'), 3, 5, 'tasks[0].at'],
    ['a fault of no kind', lines('faults:', '  - at: 5'), 2, 5, 'faults[0]'],
    ['a fault without at', lines('faults:', '  - crash: main'), 2, 5, 'faults[0].at'],
    [
      'a duration of two kinds',
      lines('tasks:', '  - steps:', '      - work: { uniform: [1, 2], exponential: { mean: 1 } }'),
      3,
      15,
      'tasks[0].steps[0].work',
    ],
    ['a bad resource name', lines('engine:', '  resources:', '    "@workers": 2'), 3, 5, 'engine.resources["@workers"]'],

    // types and ranges
    ['concurrency as words', lines('engine:', '  concurrency: two'), 2, 16, 'engine.concurrency'],
    ['zero concurrency', lines('engine: { concurrency: 0 }'), 1, 24, 'engine.concurrency'],
    ['infinite concurrency', lines('engine: { concurrency: .inf }'), 1, 24, 'engine.concurrency'],
    ['fractional concurrency', lines('engine: { concurrency: 1.5 }'), 1, 24, 'engine.concurrency'],
    ['workers (the old name) as words', lines('engine:', '  workers: two'), 2, 12, 'engine.workers'],
    ['zero workers (the old name)', lines('engine: { workers: 0 }'), 1, 20, 'engine.workers'],
    ['infinite workers (the old name)', lines('engine: { workers: .inf }'), 1, 20, 'engine.workers'],
    ['a capacity of 0', lines('engine: { resources: { db: 0 } }'), 1, 28, 'engine.resources.db'],
    ['a fractional capacity', lines('engine: { resources: { db: { capacity: 1.5 } } }'), 1, 40, 'engine.resources.db.capacity'],
    ['an unknown lock order', lines('engine: { lockOrder: strict }'), 1, 22, 'engine.lockOrder'],
    ['an unknown detection mode', lines('engine: { deadlock: { detect: sometimes } }'), 1, 31, 'engine.deadlock.detect'],
    ['compensate: true', lines('engine: { deadlock: { compensate: true } }'), 1, 35, 'engine.deadlock.compensate'],
    ['a function policy name', lines('engine: { deadlock: { policy: oldest } }'), 1, 31, 'engine.deadlock.policy'],
    ['a grace period beyond a timer', lines('engine: { shutdown: { graceMs: 3000000000 } }'), 1, 32, 'engine.shutdown.graceMs'],
    ['a rate limit as a number', lines('engine: { rateLimit: 10 }'), 1, 22, 'engine.rateLimit'],
    ['a rate limit without intervalMs', lines('engine: { rateLimit: { limit: 2 } }'), 1, 22, 'engine.rateLimit.intervalMs'],
    ['a rate limit without limit', lines('engine: { rateLimit: { intervalMs: 100 } }'), 1, 22, 'engine.rateLimit.limit'],
    ['a rate limit of 0', lines('engine: { rateLimit: { limit: 0, intervalMs: 100 } }'), 1, 31, 'engine.rateLimit.limit'],
    ['a fractional rate limit', lines('engine: { rateLimit: { limit: 1.5, intervalMs: 100 } }'), 1, 31, 'engine.rateLimit.limit'],
    ['a rate-limit interval of 0', lines('engine: { rateLimit: { limit: 1, intervalMs: 0 } }'), 1, 46, 'engine.rateLimit.intervalMs'],
    [
      'a rate-limit interval beyond a timer',
      lines('engine: { rateLimit: { limit: 1, intervalMs: 3000000000 } }'),
      1,
      46,
      'engine.rateLimit.intervalMs',
    ],
    ['a rate-limit interval as text', lines('engine: { rateLimit: { limit: 1, intervalMs: 1s } }'), 1, 46, 'engine.rateLimit.intervalMs'],
    ['a rate limit per task', lines('engine: { rateLimit: { limit: 1, intervalMs: 10, per: task } }'), 1, 55, 'engine.rateLimit.per'],
    ['an unknown rate-limit field', lines('engine: { rateLimit: { limit: 1, intervalMs: 10, burst: 2 } }'), 1, 50, 'engine.rateLimit.burst'],
    ['a priority as text', lines('tasks:', '  - priority: high', '    steps: []'), 2, 15, 'tasks[0].priority'],
    ['a timeout of 0', lines('tasks:', '  - timeoutMs: 0', '    steps: []'), 2, 16, 'tasks[0].timeoutMs'],
    ['negative retries', lines('tasks:', '  - retries: -1', '    steps: []'), 2, 14, 'tasks[0].retries'],
    ['fractional retries', lines('tasks:', '  - retries: { max: 1.5 }', '    steps: []'), 2, 21, 'tasks[0].retries.max'],
    ['jitter above 1', lines('tasks:', '  - retries: { max: 1, jitter: 2 }', '    steps: []'), 2, 32, 'tasks[0].retries.jitter'],
    ['an empty group', lines('tasks:', '  - group: ""', '    steps: []'), 2, 12, 'tasks[0].group'],
    ['a group as a number', lines('tasks:', '  - group: 5', '    steps: []'), 2, 12, 'tasks[0].group'],
    ['a group as a list', lines('tasks:', '  - group: [a]', '    steps: []'), 2, 12, 'tasks[0].group'],
    [
      'an empty group in a spawned child',
      lines('tasks:', '  - steps: [{ spawn: { group: "", steps: [] } }]'),
      2,
      31,
      'tasks[0].steps[0].spawn.group',
    ],
    ['a negative queue timeout', lines('tasks:', '  - queueTimeoutMs: -1', '    steps: []'), 2, 21, 'tasks[0].queueTimeoutMs'],
    ['a queue timeout beyond a timer', lines('tasks:', '  - queueTimeoutMs: 3000000000', '    steps: []'), 2, 21, 'tasks[0].queueTimeoutMs'],
    [
      'a queue timeout as text in a generator',
      lines('tasks:', '  - generate: { count: 2, queueTimeoutMs: soon, steps: [] }'),
      2,
      43,
      'tasks[0].generate.queueTimeoutMs',
    ],
    ['a negative arrival time', lines('tasks:', '  - at: -5', '    steps: []'), 2, 9, 'tasks[0].at'],
    ['an empty id', lines('tasks:', '  - id: ""', '    steps: []'), 2, 9, 'tasks[0].id'],
    ['a negative work time', lines('tasks:', '  - steps: [{ work: -5 }]'), 2, 21, 'tasks[0].steps[0].work'],
    ['a work time as text', lines('tasks:', '  - steps: [{ work: fast }]'), 2, 21, 'tasks[0].steps[0].work'],
    ['a uniform of one number', lines('tasks:', '  - steps: [{ work: { uniform: [5] } }]'), 2, 32, 'tasks[0].steps[0].work.uniform'],
    ['a uniform of three numbers', lines('tasks:', '  - steps: [{ work: { uniform: [1, 2, 3] } }]'), 2, 32, 'tasks[0].steps[0].work.uniform'],
    ['a uniform with min > max', lines('tasks:', '  - steps: [{ work: { uniform: [10, 5] } }]'), 2, 32, 'tasks[0].steps[0].work.uniform'],
    ['a normal without stddev', lines('tasks:', '  - steps: [{ work: { normal: { mean: 5 } } }]'), 2, 31, 'tasks[0].steps[0].work.normal.stddev'],
    ['a failure probability above 1', lines('tasks:', '  - steps: [{ fail: 1.5 }]'), 2, 21, 'tasks[0].steps[0].fail'],
    ['a negative progress', lines('tasks:', '  - steps: [{ progress: -0.1 }]'), 2, 25, 'tasks[0].steps[0].progress'],
    ['0 units', withResources('tasks:', '  - steps: [{ acquire: db, units: 0 }]'), 4, 35, 'tasks[0].steps[0].units'],
    ['await as text', lines('tasks:', '  - steps: [{ spawn: { steps: [] }, await: yes }]'), 2, 44, 'tasks[0].steps[0].await'],
    [
      'a bad step in a spawned child',
      lines('tasks:', '  - steps:', '      - spawn:', '          steps: [{ work: -1 }]'),
      4,
      27,
      'tasks[0].steps[0].spawn.steps[0].work',
    ],
    ['a generated count of 2.5', lines('tasks:', '  - generate: { count: 2.5, steps: [] }'), 2, 24, 'tasks[0].generate.count'],
    ['a rate of 0', lines('tasks:', '  - generate: { count: 2, rate: 0, steps: [] }'), 2, 33, 'tasks[0].generate.rate'],
    ['a negative fault time', lines('faults:', '  - { at: -1, signal: SIGINT }'), 2, 11, 'faults[0].at'],
    ['an unknown signal', lines('faults:', '  - { at: 1, signal: SIGKILL }'), 2, 22, 'faults[0].signal'],
    ['a slow factor of 0', lines('faults:', '  - { at: 1, slow: { worker: main, factor: 0 } }'), 2, 44, 'faults[0].slow.factor'],
    ['an expectation in words', lines('expect:', '  completed: about 990'), 2, 14, 'expect.completed'],
    ['an expectation without a number', lines('expect:', '  completed: ">="'), 2, 14, 'expect.completed'],
    ['an expectation with =>', lines('expect:', '  completed: "=> 5"'), 2, 14, 'expect.completed'],
    ['an expectation as a list', lines('expect:', '  completed: [1]'), 2, 14, 'expect.completed'],
    ['an unknown expectation', lines('expect:', '  completd: 5'), 2, 3, 'expect.completd'],
    ['an unknown error code', lines('expect:', '  code.E_TIMEOT: 0'), 2, 3, 'expect["code.E_TIMEOT"]'],

    // cross-references
    ['an unknown acquired resource', withResources('tasks:', '  - steps:', '      - acquire: gpu2'), 5, 18, 'tasks[0].steps[0].acquire'],
    ['a resource with none declared', lines('tasks:', '  - steps: [{ acquire: db }]'), 2, 24, 'tasks[0].steps[0].acquire'],
    ['an unknown released resource', withResources('tasks:', '  - steps: [{ acquire: db }, { release: dbx }]'), 4, 41, 'tasks[0].steps[1].release'],
    ['a release with nothing held', withResources('tasks:', '  - steps: [{ work: 1 }, { release: db }]'), 4, 37, 'tasks[0].steps[1].release'],
    [
      'a second release of one lease',
      withResources('tasks:', '  - steps: [{ acquire: db }, { release: db }, { release: db }]'),
      4,
      58,
      'tasks[0].steps[2].release',
    ],
    ['more units than the capacity', withResources('tasks:', '  - steps: [{ acquire: gpu, units: 2 }]'), 4, 36, 'tasks[0].steps[0].units'],
    ['an unknown declared resource', withResources('tasks:', '  - resources: { db: 1, tpu: 1 }', '    steps: []'), 4, 25, 'tasks[0].resources.tpu'],
    ['declared units above the capacity', withResources('tasks:', '  - resources: { db: 3 }', '    steps: []'), 4, 22, 'tasks[0].resources.db'],
    [
      'an unknown resource in a generator',
      withResources('tasks:', '  - generate: { count: 1, steps: [{ acquire: ram }] }'),
      4,
      46,
      'tasks[0].generate.steps[0].acquire',
    ],
    [
      'an unknown resource in a spawned child',
      withResources('tasks:', '  - steps:', '      - spawn: { steps: [{ acquire: ram }] }'),
      5,
      37,
      'tasks[0].steps[0].spawn.steps[0].acquire',
    ],
    [
      'an unknown resource in a capacity fault',
      withResources('faults:', '  - { at: 1, capacity: { resource: ram, units: 1 } }'),
      4,
      36,
      'faults[0].capacity.resource',
    ],
    ['a duplicate task id', lines('tasks:', '  - { id: a, steps: [] }', '  - { id: a, steps: [] }'), 3, 11, 'tasks[1].id'],
    ['a dependency as a number', withA('  - { id: b, dependsOn: [5], steps: [] }'), 3, 26, 'tasks[1].dependsOn[0]'],
    ['a dependency as null', withA('  - { id: b, dependsOn: [null], steps: [] }'), 3, 26, 'tasks[1].dependsOn[0]'],
    ['an empty dependency id', withA('  - { id: b, dependsOn: [""], steps: [] }'), 3, 26, 'tasks[1].dependsOn[0]'],
    ['a dependency without task', withA('  - { id: b, dependsOn: [{ allow: settled }], steps: [] }'), 3, 26, 'tasks[1].dependsOn[0].task'],
    ['a dependency with an empty task', withA('  - { id: b, dependsOn: [{ task: "" }], steps: [] }'), 3, 34, 'tasks[1].dependsOn[0].task'],
    [
      'a dependency allowing failed',
      withA('  - { id: b, dependsOn: [{ task: a, allow: failed }], steps: [] }'),
      3,
      44,
      'tasks[1].dependsOn[0].allow',
    ],
    [
      'a misspelt dependency field',
      withA('  - { id: b, dependsOn: [{ task: a, allows: settled }], steps: [] }'),
      3,
      37,
      'tasks[1].dependsOn[0].allows',
    ],
    [
      'an unknown dependency',
      lines('tasks:', '  - { id: a, steps: [] }', '  - { id: b, dependsOn: [a, c], steps: [] }'),
      3,
      29,
      'tasks[1].dependsOn[1]',
    ],
    [
      'a dependency on a generated task',
      lines('tasks:', '  - generate: { name: g, count: 1, steps: [] }', '  - { dependsOn: [g], steps: [] }'),
      3,
      19,
      'tasks[1].dependsOn[0]',
    ],
    ['a dependency on itself', lines('tasks:', '  - { id: a, dependsOn: [a], steps: [] }'), 2, 26, 'tasks[0].dependsOn[0]'],
    [
      'an unknown tolerant dependency',
      withA('  - { id: b, dependsOn: [{ task: c, allow: settled }], steps: [] }'),
      3,
      34,
      'tasks[1].dependsOn[0].task',
    ],
    [
      'a tolerant dependency on itself',
      withA('  - { id: b, dependsOn: [{ task: b, allow: settled }], steps: [] }'),
      3,
      34,
      'tasks[1].dependsOn[0].task',
    ],
    [
      'a dependency listed twice, once as { task }',
      withA('  - { id: b, dependsOn: [a, { task: a, allow: settled }], steps: [] }'),
      3,
      37,
      'tasks[1].dependsOn[1].task',
    ],
    [
      'a tolerant dependency submitted later',
      lines('tasks:', '  - { id: a, at: 10, steps: [] }', '  - { id: b, at: 5, dependsOn: [{ task: a, allow: settled }], steps: [] }'),
      3,
      41,
      'tasks[1].dependsOn[0].task',
    ],
    [
      'a dependency cycle through a tolerant dependency',
      lines('tasks:', '  - { id: a, dependsOn: [{ task: b, allow: settled }], steps: [] }', '  - { id: b, dependsOn: [a], steps: [] }'),
      3,
      26,
      'tasks[1].dependsOn[0]',
    ],
    [
      'a dependency cycle closed by a tolerant dependency',
      lines('tasks:', '  - { id: a, dependsOn: [b], steps: [] }', '  - { id: b, dependsOn: [{ task: a, allow: settled }], steps: [] }'),
      3,
      34,
      'tasks[1].dependsOn[0].task',
    ],
    [
      'a dependency listed twice',
      lines('tasks:', '  - { id: a, steps: [] }', '  - { id: b, dependsOn: [a, a], steps: [] }'),
      3,
      29,
      'tasks[1].dependsOn[1]',
    ],
    [
      'a dependency submitted later',
      lines('tasks:', '  - { id: a, at: 10, steps: [] }', '  - { id: b, at: 5, dependsOn: [a], steps: [] }'),
      3,
      33,
      'tasks[1].dependsOn[0]',
    ],
    [
      'a dependency cycle',
      lines('tasks:', '  - { id: a, dependsOn: [b], steps: [] }', '  - { id: b, dependsOn: [a], steps: [] }'),
      3,
      26,
      'tasks[1].dependsOn[0]',
    ],
    ['a cancel of an unknown task', lines('tasks:', '  - { id: a, steps: [] }', 'faults:', '  - { at: 1, cancel: b }'), 4, 22, 'faults[0].cancel'],
    ['a crash of worker-1 (there is one worker, main)', lines('faults:', '  - { at: 1, crash: worker-1 }'), 2, 21, 'faults[0].crash'],
    [
      'a crash of worker-2 with concurrency 2',
      lines('engine: { concurrency: 2 }', 'faults:', '  - { at: 1, crash: worker-2 }'),
      3,
      21,
      'faults[0].crash',
    ],
    [
      'a crash of worker-1 with workers: 2 (the old name)',
      lines('engine: { workers: 2 }', 'faults:', '  - { at: 1, crash: worker-1 }'),
      3,
      21,
      'faults[0].crash',
    ],
    ['workers (the old name) that differs from concurrency', lines('engine: { concurrency: 1, workers: 3 }'), 1, 36, 'engine.workers'],
    ['a crash of Main (names are case-sensitive)', lines('faults:', '  - { at: 1, crash: Main }'), 2, 21, 'faults[0].crash'],
    ['a slow-down of an unknown worker', lines('faults:', '  - { at: 1, slow: { worker: w1, factor: 2 } }'), 2, 30, 'faults[0].slow.worker'],
    ['a slow-down of worker-1', lines('faults:', '  - { at: 1, slow: { worker: worker-1, factor: 2 } }'), 2, 30, 'faults[0].slow.worker'],
  ];

  it.each(texts)('%s', (_label, text, line, column, badPath) => {
    const error = thrownBy(() => parseScenario(text, 'scenario.yaml'));
    expect(error.code).toBe('E_INVALID_SCENARIO');
    expect(error.details).toEqual({ file: 'scenario.yaml', line, column, path: badPath, reason: expect.any(String) });
    expect(error.message.startsWith(`scenario.yaml:${line}:${column}: ${badPath === '' ? '' : `${badPath}: `}`)).toBe(true);
  });

  it('parses .json files as strict JSON, where YAML would take a bare word as a string', () => {
    expect(parseScenario('{ "name": yes }', 'x.yaml').name).toBe('yes');
    const error = thrownBy(() => parseScenario('{ "name": yes }', 'x.json'));
    expect(error.details).toMatchObject({ file: 'x.json', line: 1, column: 11, path: '' });
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
