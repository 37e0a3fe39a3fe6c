import { parseScenario } from '../../src/simulation/load-scenario';
import type { ScenarioTask } from '../../src/simulation/scenario';
import { ScenarioRun } from '../../src/simulation/scenario-run';
import { simulate, type SimulationReport } from '../../src/simulation/simulate';
import type { TaskStatus } from '../../src/task-status';

const lines = (...text: string[]): string => `${text.join('\n')}\n`;
const run = (text: string, seed = 1): Promise<SimulationReport> => simulate(parseScenario(text, 'options.yaml'), { seed });

/** Plays a scenario to its end and returns when each task started, by task name, in start order. */
async function startTimes(text: string): Promise<Record<string, number[]>> {
  const scenarioRun = new ScenarioRun(parseScenario(text, 'options.yaml'), { seed: 1 });
  const starts: Record<string, number[]> = {};
  scenarioRun.engine.events$.subscribe((event) => {
    if (event.type === 'task.started') (starts[event.name] ??= []).push(event.at);
  });
  while (await scenarioRun.step());
  await scenarioRun.finish();
  return starts;
}

/** What a test expects of the report of a scenario: its counts by status (those named), by code (all of them), and its makespan. */
interface Played {
  readonly byStatus: Partial<Record<TaskStatus, number>>;
  readonly byCode: Record<string, number>;
  readonly makespanMs: number;
}

/** One test per row, named by its title: plays the scenario `text`, which must meet its own `expect:` block (if any), and checks its report. */
function itPlays(rows: Array<[title: string, text: string, played: Played]>): void {
  it.each(rows)('%s', async (_title, text, { byStatus, byCode, makespanMs }) => {
    const report = await run(text);
    expect(report.ok).toBe(true);
    expect(report.byStatus).toMatchObject(byStatus);
    expect(report.byCode).toEqual(byCode);
    expect(report.makespanMs).toBe(makespanMs);
  });
}

describe('scenario files: the new task and engine options load as written', () => {
  it('reads engine.rateLimit, group, queueTimeoutMs (in tasks, generators and spawned children) and both forms of dependsOn', () => {
    const scenario = parseScenario(
      lines(
        'engine:',
        '  rateLimit: { limit: 5, intervalMs: 1000, per: group }',
        'tasks:',
        '  - { id: a, group: imports, queueTimeoutMs: 0, steps: [{ spawn: { group: children, queueTimeoutMs: 50, steps: [] } }] }',
        '  - { id: b, dependsOn: [a], steps: [] }',
        '  - { id: c, dependsOn: [{ task: a, allow: settled }, { task: b, allow: completed }, { task: b2 }], steps: [] }',
        '  - { id: b2, steps: [] }',
        '  - generate: { count: 2, group: imports, queueTimeoutMs: 2147483647, steps: [] }',
      ),
    );
    expect(scenario.engine).toEqual({ rateLimit: { limit: 5, intervalMs: 1000, per: 'group' } });
    expect(scenario.tasks).toEqual([
      { id: 'a', group: 'imports', queueTimeoutMs: 0, steps: [{ spawn: { group: 'children', queueTimeoutMs: 50, steps: [] } }] },
      { id: 'b', dependsOn: ['a'], steps: [] },
      { id: 'c', dependsOn: [{ task: 'a', allow: 'settled' }, { task: 'b', allow: 'completed' }, { task: 'b2' }], steps: [] },
      { id: 'b2', steps: [] },
      { generate: { count: 2, group: 'imports', queueTimeoutMs: 2147483647, steps: [] } },
    ]);
    expect(Object.isFrozen(scenario.engine!.rateLimit)).toBe(true);
    const c = scenario.tasks![2] as ScenarioTask;
    expect(Object.isFrozen(c.dependsOn![0])).toBe(true);
  });

  it('takes rateLimit.per as optional', () => {
    expect(parseScenario('engine: { rateLimit: { limit: 1, intervalMs: 0.5 } }\n').engine).toEqual({ rateLimit: { limit: 1, intervalMs: 0.5 } });
  });
});

describe('engine.rateLimit in virtual time', () => {
  const burst = (engine: string): string =>
    lines(`engine: { concurrency: 10${engine} }`, 'tasks:', '  - generate: { count: 6, name: job, steps: [{ work: 10 }] }');

  it('spreads the starts of a burst: 2 per 100 ms makes 6 tasks of 10 ms end at 210, not 10', async () => {
    const free = await run(burst(''));
    const limited = await run(lines(burst(', rateLimit: { limit: 2, intervalMs: 100 }').trimEnd(), 'expect: { completed: 6, makespanMs: 210 }'));
    expect(free.makespanMs).toBe(10);
    expect(limited.makespanMs).toBe(210);
    expect(limited.byStatus.completed).toBe(6);
    expect(limited.ok).toBe(true);
  });

  it('starts the tasks of a burst two by two, 100 ms apart', async () => {
    const starts = await startTimes(burst(', rateLimit: { limit: 2, intervalMs: 100 }'));
    expect(Object.values(starts).flat()).toEqual([0, 0, 100, 100, 200, 200]);
  });

  it('with per: group, limits each group on its own and leaves tasks without a group alone', async () => {
    const groups = (per: string): string =>
      lines(
        `engine: { concurrency: 10, rateLimit: { limit: 1, intervalMs: 100${per} } }`,
        'tasks:',
        '  - generate: { count: 3, name: a, group: a, steps: [{ work: 10 }] }',
        '  - generate: { count: 3, name: b, group: b, steps: [{ work: 10 }] }',
        '  - generate: { count: 3, name: free, steps: [{ work: 10 }] }',
      );
    const byGroup = await startTimes(groups(', per: group'));
    expect(byGroup).toEqual({
      'a-1': [0],
      'b-1': [0],
      'free-1': [0],
      'free-2': [0],
      'free-3': [0],
      'a-2': [100],
      'b-2': [100],
      'a-3': [200],
      'b-3': [200],
    });
    expect((await run(groups(', per: group'))).makespanMs).toBe(210);
    // One limit for the whole engine: nine starts, one every 100 ms.
    expect((await run(groups(''))).makespanMs).toBe(810);
  });

  itPlays([
    [
      'limits spawned children by their group',
      lines(
        'engine: { concurrency: 10, rateLimit: { limit: 1, intervalMs: 50, per: group } }',
        'tasks:',
        '  - steps:',
        '      - spawn: { group: kids, steps: [{ work: 5 }] }',
        '      - spawn: { group: kids, steps: [{ work: 5 }] }',
        '      - spawn: { group: kids, steps: [{ work: 5 }] }',
        'expect: { completed: 4, makespanMs: 105 }',
      ),
      { byStatus: { completed: 4 }, byCode: {}, makespanMs: 105 },
    ],
  ]);
});

describe('queueTimeoutMs in virtual time', () => {
  itPlays([
    [
      'ends a task that could not start in time as timeout, counted by code.E_QUEUE_TIMEOUT',
      lines(
        'engine: { concurrency: 1 }',
        'tasks:',
        '  - generate: { count: 3, queueTimeoutMs: 150, steps: [{ work: 100 }] }',
        'expect: { completed: 2, timeout: 1, code.E_QUEUE_TIMEOUT: 1, code.E_TIMEOUT: 0, makespanMs: 200 }',
      ),
      // The first starts at 0, the second at 100 (within 150), the third would start at 200: it ends at 150.
      { byStatus: { completed: 2, timeout: 1 }, byCode: { E_QUEUE_TIMEOUT: 1 }, makespanMs: 200 },
    ],
    [
      'does not touch a task that started in time, however long it then runs',
      lines('tasks:', '  - { queueTimeoutMs: 0, steps: [{ work: 500 }] }'),
      { byStatus: { completed: 1, timeout: 0 }, byCode: {}, makespanMs: 500 },
    ],
    [
      'applies to a spawned child, from its submission',
      lines(
        'engine: { concurrency: 1 }',
        'tasks:',
        '  - steps: [{ work: 10 }, { spawn: { queueTimeoutMs: 5, steps: [{ work: 1 }] } }, { work: 20 }]',
        'expect: { completed: 1, code.E_QUEUE_TIMEOUT: 1 }',
      ),
      // Spawned at 10 while its parent keeps the one slot until 30, the child times out at 15.
      { byStatus: { completed: 1, timeout: 1 }, byCode: { E_QUEUE_TIMEOUT: 1 }, makespanMs: 30 },
    ],
  ]);
});

describe('dependsOn in virtual time', () => {
  it('runs a task with allow: settled after its dependency failed; a plain dependant fails', async () => {
    const text = lines(
      'engine: { concurrency: 4 }',
      'tasks:',
      '  - { id: flaky, steps: [{ work: 10 }, { fail: 1 }] }',
      '  - { id: cleanup, dependsOn: [{ task: flaky, allow: settled }], steps: [{ work: 5 }] }',
      '  - { id: report, dependsOn: [flaky], steps: [{ work: 5 }] }',
      '  - { id: strict, dependsOn: [{ task: flaky, allow: completed }], steps: [{ work: 5 }] }',
      'expect: { completed: 1, failed: 3, code.E_DEPENDENCY_FAILED: 2, makespanMs: 15 }',
    );
    const report = await run(text);
    expect(report.byStatus).toMatchObject({ completed: 1, failed: 3 });
    expect(report.byCode).toEqual({ E_TASK_FAILED: 1, E_DEPENDENCY_FAILED: 2 });
    expect(report.makespanMs).toBe(15);
    expect(report.ok).toBe(true);
    expect(await startTimes(text)).toEqual({ flaky: [0], cleanup: [10] });
  });

  itPlays([
    [
      'waits for a tolerant dependency that completes, as for any other',
      lines('tasks:', '  - { id: a, steps: [{ work: 10 }] }', '  - { id: b, dependsOn: [{ task: a, allow: settled }], steps: [{ work: 5 }] }'),
      { byStatus: { completed: 2 }, byCode: {}, makespanMs: 15 },
    ],
    [
      'honours such a dependency of a task without an id, and of a chain of them',
      lines(
        'engine: { concurrency: 3 }',
        'tasks:',
        '  - { dependsOn: [b], steps: [{ work: 1 }] }',
        '  - { id: b, dependsOn: [{ task: a, allow: settled }], steps: [{ work: 5 }] }',
        '  - { id: a, steps: [{ work: 10 }, { fail: 1 }] }',
        'expect: { completed: 2, failed: 1, makespanMs: 16 }',
      ),
      { byStatus: { completed: 2, failed: 1 }, byCode: { E_TASK_FAILED: 1 }, makespanMs: 16 },
    ],
  ]);

  it.each([
    ['an id', '[a]'],
    ['{ task, allow: settled }', '[{ task: a, allow: settled }]'],
  ])('honours a dependency on %s submitted at the same time, later in the file', async (_label, dependsOn) => {
    const report = await run(
      lines(
        'engine: { concurrency: 2 }',
        'tasks:',
        `  - { id: b, dependsOn: ${dependsOn}, steps: [{ work: 5 }] }`,
        '  - { id: a, steps: [{ work: 10 }] }',
      ),
    );
    expect(report.byStatus.completed).toBe(2);
    expect(report.makespanMs).toBe(15);
  });
});
