/**
 * Agents in scenario files: declared, validated, spawned on the simulated engine, given messages,
 * asked by tasks and by each other, crashed by faults, counted in the report and the trace, and
 * replayed exactly by seed.
 */
import { CommanderError } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replayTrace } from '../../src/cli/replay-trace';
import { createSimulateCommand, SIMULATE_EXIT, type SimulateIo } from '../../src/cli/simulate-command';
import { renderSimulationReport } from '../../src/cli/simulation-report-table';
import { MezanError } from '../../src/errors';
import { loadScenario, parseScenario } from '../../src/simulation/load-scenario';
import { ScenarioRun } from '../../src/simulation/scenario-run';
import { simulate, type SimulationReport } from '../../src/simulation/simulate';

const lines = (...text: string[]): string => `${text.join('\n')}\n`;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'mezan-scenario-agents-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The trace of a run, one object per line. */
async function traced(text: string, seed = 1): Promise<{ report: SimulationReport; entries: Array<Record<string, unknown>> }> {
  const file = path.join(scratch, `trace-${Math.random().toString(36).slice(2)}.jsonl`);
  const report = await simulate(parseScenario(text, 'agents.yaml'), { seed, trace: file });
  const entries = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { report, entries };
}

/** The message of the error `parseScenario` throws for `text`. */
function refusal(text: string): string {
  try {
    parseScenario(text, 'scenario.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(MezanError);
    expect((error as MezanError).code).toBe('E_INVALID_SCENARIO');
    return (error as MezanError).message;
  }
  throw new Error('expected the scenario to be refused, but it loaded');
}

/** Agents, messages, task asks and a crash, every one drawing from the seed. */
const busyAgents = lines(
  'name: busy agents',
  'agents:',
  '  - name: analyzer',
  '    concurrency: 2',
  '    mailbox: { capacity: 4, overflow: drop-oldest }',
  '    steps:',
  '      - work: { exponential: { mean: 15 } }',
  '      - fail: 0.2',
  '      - ask: validator',
  '        timeoutMs: 40',
  '      - reply: { verdict: ok }',
  '  - name: validator',
  '    steps:',
  '      - work: { uniform: [1, 12] }',
  '      - fail: 0.1',
  'messages:',
  '  - { ask: analyzer, count: 30, rate: 150, timeoutMs: 200 }',
  '  - { send: validator, count: 5, rate: 50, at: 50 }',
  'tasks:',
  '  - generate: { count: 10, rate: 100, steps: [{ work: 2 }, { ask: analyzer, timeoutMs: 100, onFailure: continue }, { send: validator }] }',
  'faults:',
  '  - { at: 120, crash: { agent: analyzer } }',
  'expect:',
  '  lost: 0',
);

describe('scenario agents: determinism', () => {
  it('gives the same trace, byte for byte, for the same seed, and another one for another seed', async () => {
    const first = await traced(busyAgents, 7);
    const second = await traced(busyAgents, 7);
    const other = await traced(busyAgents, 8);
    expect(second.entries).toEqual(first.entries);
    expect(second.report).toEqual(first.report);
    expect(second.report.traceHash).toBe(first.report.traceHash);
    expect(other.report.traceHash).not.toBe(first.report.traceHash);
  });

  it('replays from its trace alone: the header holds the agents and messages, and the rerun gives the same hash', async () => {
    const file = path.join(scratch, 'replayed.jsonl');
    const report = await simulate(parseScenario(busyAgents, 'agents.yaml'), { seed: 9, trace: file });
    const replay = await replayTrace(file);
    expect(replay.seed).toBe(9);
    expect(replay.scenario.agents?.map((agent) => agent.name)).toEqual(['analyzer', 'validator']);
    expect(replay.ok).toBe(true);
    expect(replay.replayedHash).toBe(report.traceHash);
  });

  it('traces each ask as it settles and each handling as it ends, in virtual time', async () => {
    const { report, entries } = await traced(busyAgents, 7);
    const asks = entries.filter((entry) => entry.type === 'simulation.ask');
    const handled = entries.filter((entry) => entry.type === 'simulation.handled');
    expect(asks.length).toBe(report.asks.replied + report.asks.failed);
    expect(asks.filter((entry) => entry.ok === false).length).toBe(report.asks.failed);
    // 30 messages, 10 tasks and one ask of the validator by each analyzer handling that got that far.
    expect(asks.filter((entry) => entry.from === undefined).length).toBe(30);
    expect(asks.filter((entry) => typeof entry.from === 'string' && entry.from.startsWith('task-')).length).toBe(10);
    const { analyzer, validator } = report.agents;
    expect(handled.filter((entry) => entry.agent === 'analyzer').length).toBe(analyzer!.handled + analyzer!.failed);
    expect(handled.filter((entry) => entry.agent === 'validator').length).toBe(validator!.handled + validator!.failed);
    const times = entries.map((entry) => entry.at as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('counts every message an agent received once: handled, failed or dropped', async () => {
    const { report } = await traced(busyAgents, 3);
    for (const stats of Object.values(report.agents)) expect(stats.received).toBe(stats.handled + stats.failed + stats.dropped);
    expect(report.agents['analyzer']!.received).toBe(40);
    expect(report.agents['analyzer']!.restarts).toBe(1);
  });

  it('adds nothing to the trace of a scenario without agents', async () => {
    const { entries } = await traced(lines('tasks:', '  - generate: { count: 5, steps: [{ work: { uniform: [1, 5] } }, { fail: 0.5 }] }'));
    expect(entries.filter((entry) => String(entry.type).startsWith('simulation.')).map((entry) => entry.type)).toEqual([
      'simulation.start',
      'simulation.end',
    ]);
  });
});

describe('scenario agents: handler steps', () => {
  it('works on the virtual clock, replies, and ends when nothing is left', async () => {
    const { report, entries } = await traced(
      lines(
        'agents:',
        '  - name: echo',
        '    steps: [{ work: 25 }, { reply: { said: hello } }]',
        'messages:',
        '  - { ask: echo, times: [10, 10, 100] }',
        'expect:',
        '  agent.echo.handled: 3',
        '  agent.echo.totalMs: 75',
        '  agent.echo.maxMailboxDepth: 1',
        '  asks.replied: 3',
      ),
    );
    expect(report.ok).toBe(true);
    const asks = entries.filter((entry) => entry.type === 'simulation.ask');
    expect(asks.map((entry) => [entry.at, entry.durationMs])).toEqual([
      [35, 25],
      [60, 50],
      [125, 25],
    ]);
    expect(entries.at(-1)).toMatchObject({ type: 'simulation.end', at: 125 });
  });

  it('fails always with fail: 1, and a failed ask fails the handling unless onFailure is continue', async () => {
    const { report } = await traced(
      lines(
        'agents:',
        '  - name: broken',
        '    steps: [{ fail: 1, message: no plan }]',
        '  - name: strict',
        '    steps: [{ ask: broken }, { reply: never }]',
        '  - name: lenient',
        '    steps: [{ ask: broken, onFailure: continue }, { reply: anyway }]',
        'messages:',
        '  - { ask: strict }',
        '  - { ask: lenient }',
      ),
    );
    expect(report.agents['broken']).toMatchObject({ received: 2, failed: 2 });
    expect(report.agents['strict']).toMatchObject({ handled: 0, failed: 1 });
    expect(report.agents['lenient']).toMatchObject({ handled: 1, failed: 0 });
    // broken twice, then strict's message; lenient's message got its reply.
    expect(report.asks).toEqual({ made: 4, replied: 1, failed: 3, byCode: { E_AGENT_FAILED: 3 } });
  });

  it('sends from a handler, and an ask past its timeoutMs fails with E_TIMEOUT', async () => {
    const { report } = await traced(
      lines(
        'agents:',
        '  - name: slow',
        '    steps: [{ work: 100 }]',
        '  - name: relay',
        '    steps: [{ send: slow }, { ask: slow, timeoutMs: 30, onFailure: continue }]',
        'messages:',
        '  - { send: relay }',
        'expect:',
        '  asks.code.E_TIMEOUT: 1',
        '  agent.slow.received: 2',
        '  agent.slow.handled: 1',
        '  agent.slow.dropped: 1',
      ),
    );
    expect(report.expectations.filter((expectation) => !expectation.ok)).toEqual([]);
  });
});

describe('scenario agents: tasks and messages', () => {
  it("fails a task whose ask failed under the ask's code, and its retries apply", async () => {
    const { report } = await traced(
      lines(
        'agents:',
        '  - name: gate',
        '    mailbox: { capacity: 1, overflow: reject }',
        '    steps: [{ work: 50 }]',
        'tasks:',
        '  - generate: { count: 3, steps: [{ ask: gate }] }',
        '  - { at: 10, retries: { max: 1, delayMs: 100 }, steps: [{ ask: gate, timeoutMs: 20 }] }',
        // The third generated task finds the mailbox full; so does the explicit one at 10, which is
        // retried at 110 and then waits 20 ms of the gate's 50.
        'expect:',
        '  completed: 2',
        '  failed: 2',
        '  code.E_MAILBOX_FULL: 1',
        '  code.E_TIMEOUT: 1',
        '  asks.code.E_MAILBOX_FULL: 2',
        '  asks.code.E_TIMEOUT: 1',
        '  makespanMs: 130',
      ),
    );
    expect(report.expectations.filter((expectation) => !expectation.ok)).toEqual([]);
    expect(report.incidents.retries).toBe(1);
  });

  it('gives generated messages their arrival times from the seed, after the tasks', async () => {
    const text = lines(
      'agents:',
      '  - { name: sink, concurrency: 100, steps: [] }',
      'messages:',
      '  - { send: sink, count: 50, rate: 100, at: 1000 }',
      'tasks:',
      '  - generate: { count: 5, rate: 100, steps: [] }',
    );
    const { entries } = await traced(text, 5);
    const submitted = entries.filter((entry) => entry.type === 'task.submitted').map((entry) => entry.at);
    const { entries: withoutAgents } = await traced(lines('tasks:', '  - generate: { count: 5, rate: 100, steps: [] }'), 5);
    expect(submitted).toEqual(withoutAgents.filter((entry) => entry.type === 'task.submitted').map((entry) => entry.at));
    const handled = entries.filter((entry) => entry.type === 'simulation.handled').map((entry) => entry.at as number);
    expect(handled.length).toBe(50);
    expect(handled[0]).toBe(1000);
    expect(handled.at(-1)).toBeGreaterThan(1000);
  });

  it('loses a message for an agent that stopped, and fails an ask of it with E_AGENT_STOPPED', async () => {
    const { report } = await traced(
      lines(
        'agents:',
        '  - name: fragile',
        '    restart: { maxRestarts: 0 }',
        '    steps: [{ work: 10 }]',
        'messages:',
        '  - { send: fragile, at: 0 }',
        '  - { send: fragile, at: 50 }',
        '  - { ask: fragile, at: 50 }',
        'tasks:',
        '  - { at: 60, steps: [{ send: fragile }] }',
        '  - { at: 60, steps: [{ ask: fragile }] }',
        'faults:',
        '  - { at: 5, crash: { agent: fragile } }',
        '  - { at: 70, crash: { agent: fragile } }',
        'expect:',
        '  agent.fragile.received: 1',
        '  agent.fragile.failed: 1',
        '  asks.code.E_AGENT_STOPPED: 2',
        '  code.E_AGENT_STOPPED: 2',
      ),
    );
    expect(report.expectations.filter((expectation) => !expectation.ok)).toEqual([]);
  });

  it('keeps the run going while an agent works, with no task at all', async () => {
    const run = new ScenarioRun(parseScenario(lines('agents:', '  - { name: a, steps: [{ work: 40 }] }', 'messages:', '  - { send: a, at: 10 }')));
    while (await run.step());
    expect(run.clock.now()).toBe(50);
    const summary = await run.finish();
    expect(summary.agents['a']).toMatchObject({ received: 1, handled: 1, totalMs: 40 });
  });

  it('examples/ask-cycle.yaml: the ask cycle is found and its victim rejected with E_DEADLOCK; the handler that asked carries on', async () => {
    const file = path.join(scratch, 'ask-cycle.jsonl');
    const report = await simulate(loadScenario(path.join(__dirname, '..', '..', 'examples', 'ask-cycle.yaml')), { trace: file });
    expect(report.ok).toBe(true);
    expect(report.deadlocks).toHaveLength(1);
    const [deadlock] = report.deadlocks;
    expect(deadlock).toMatchObject({ at: 10, resolution: 'victim', policy: 'youngest' });
    expect(deadlock!.cycle).toEqual(expect.arrayContaining(['@agent:planner', '@agent:checker#2']));
    const entries = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const agentEntries = entries.filter((entry) => entry.type === 'simulation.ask' || entry.type === 'simulation.handled');
    expect(agentEntries.map(({ type, from, to, agent, ok, code }) => ({ type, from, to, agent, ok, code }))).toEqual([
      { type: 'simulation.ask', from: 'checker', to: 'planner', ok: false, code: 'E_DEADLOCK' },
      { type: 'simulation.handled', agent: 'checker', ok: true },
      { type: 'simulation.ask', from: 'planner', to: 'checker', ok: true },
      { type: 'simulation.handled', agent: 'planner', ok: true },
      { type: 'simulation.ask', to: 'planner', ok: true },
    ]);
  });

  it("finds a cycle through a task's ask and a handler's acquire: the task's ask is the victim, the task carries on", async () => {
    const { report, entries } = await traced(
      lines(
        'engine:',
        '  resources: { db: 1 }',
        'agents:',
        '  - name: reporter',
        '    steps: [{ acquire: db }, { work: 5 }, { release: db }, { reply: report }]',
        'tasks:',
        '  - { id: writer, steps: [{ acquire: db }, { work: 5 }, { ask: reporter, onFailure: continue }, { work: 5 }] }',
      ),
    );
    expect(report.deadlocks).toHaveLength(1);
    expect(report.deadlocks[0]).toMatchObject({ at: 5, cycle: ['writer', '@agent:reporter#1', 'db', 'writer'], victim: '@agent:reporter#1' });
    expect(report.byStatus.completed).toBe(1);
    expect(report.makespanMs).toBe(10);
    expect(report.asks).toEqual({ made: 1, replied: 0, failed: 1, byCode: { E_DEADLOCK: 1 } });
    expect(entries.find((entry) => entry.type === 'simulation.ask')).toMatchObject({ at: 5, from: 'writer', to: 'reporter', code: 'E_DEADLOCK' });
  });

  it("gives back what a handler's acquire took at its release, or at the end of the handling", async () => {
    const { report } = await traced(
      lines(
        'engine:',
        '  resources: { gpu: 2 }',
        'agents:',
        '  - name: renderer',
        '    concurrency: 2',
        '    steps: [{ acquire: gpu, units: 2 }, { work: 10 }, { release: gpu }, { work: 10 }]',
        '  - name: hog',
        '    steps: [{ acquire: gpu }, { work: 5 }, { fail: 1 }]',
        'messages:',
        '  - { ask: renderer, times: [0, 0] }',
        '  - { ask: hog, at: 50 }',
        '  - { ask: renderer, at: 60 }',
        'expect:',
        // Two renders share the pool in turn (0-10 holding, 10-20 working; 10-20 holding, 20-30):
        // each ask takes 20 and 30 ms; the hog fails at 55 holding a unit, given back, so the third render starts at 60.
        '  asks.replied: 3',
        '  asks.code.E_AGENT_FAILED: 1',
        '  agent.renderer.totalMs: 70',
      ),
    );
    expect(report.expectations.filter((expectation) => !expectation.ok)).toEqual([]);
  });

  it('ends a run stuck in an ask cycle nobody detects by a forced shutdown: every ask settles, with E_SHUTDOWN', async () => {
    const { report } = await traced(
      lines(
        'engine:',
        '  deadlock: { detect: off }',
        'agents:',
        '  - { name: ping, steps: [{ work: 1 }, { ask: pong }] }',
        '  - { name: pong, steps: [{ work: 1 }, { ask: ping }] }',
        'messages:',
        '  - { ask: ping }',
        '  - { ask: pong }',
      ),
    );
    expect(report.asks).toEqual({ made: 4, replied: 0, failed: 4, byCode: { E_SHUTDOWN: 4 } });
    expect(report.shutdown.lost).toBe(0);
  });
});

describe('scenario agents: the CLI summary', () => {
  it("lists each agent's statistics and the asks by code, and only for a scenario with agents", async () => {
    const { report } = await traced(
      lines('agents:', '  - { name: echo, steps: [{ work: 4 }, { fail: 1 }] }', 'messages:', '  - { ask: echo, times: [0, 0] }'),
    );
    const text = renderSimulationReport(report);
    expect(text).toMatch(/│ agent +│ received │ handled │ failed │ dropped │ restarts │ max mailbox │ +mean │/);
    expect(text).toMatch(/│ echo +│ +2 │ +0 │ +2 │ +0 │ +0 │ +1 │ +4 ms │/);
    expect(text).toMatch(/│ +E_AGENT_FAILED │ +2 │/);
    const { report: withoutAgents } = await traced(lines('tasks:', '  - steps: [{ work: 1 }]'));
    expect(renderSimulationReport(withoutAgents)).not.toMatch(/│ (agent|asks) /);
  });
});

describe('scenario agents: validation', () => {
  it.each([
    [
      'a duplicate name',
      lines('agents:', '  - { name: a, steps: [] }', '  - { name: a, steps: [] }'),
      'scenario.yaml:3:13: agents[1].name: duplicate agent name "a" (also agents[0])',
    ],
    [
      'a blank name',
      lines('agents:', '  - { name: "  ", steps: [] }'),
      'scenario.yaml:2:13: agents[0].name: expected an agent name: a string with a character other than a space, got "  "',
    ],
    ['a missing script', lines('agents:', '  - name: a'), 'scenario.yaml:2:5: agents[0].steps: missing (required in an agent)'],
    [
      'a misspelt field',
      lines('agents:', '  - { name: a, concurency: 2, steps: [] }'),
      'scenario.yaml:2:16: agents[0].concurency: unknown field in an agent (did you mean "concurrency"?); fields: name, concurrency, mailbox, restart, steps',
    ],
    [
      'a concurrency of 0',
      lines('agents:', '  - { name: a, concurrency: 0, steps: [] }'),
      'scenario.yaml:2:29: agents[0].concurrency: must be >= 1, got 0',
    ],
    [
      'an unknown overflow',
      lines('agents:', '  - { name: a, mailbox: { overflow: block }, steps: [] }'),
      'scenario.yaml:2:37: agents[0].mailbox.overflow: expected one of "reject", "drop-oldest", "wait", got "block"',
    ],
    [
      'a restart window of 0',
      lines('agents:', '  - { name: a, restart: { withinMs: 0 }, steps: [] }'),
      'scenario.yaml:2:37: agents[0].restart.withinMs: must be > 0, got 0',
    ],
    [
      'a task step a handler cannot play',
      lines('agents:', '  - { name: a, steps: [{ progress: 0.5 }] }'),
      'scenario.yaml:2:26: agents[0].steps[0].progress: unknown field in an agent step; fields: work, fail, message, acquire, units, release, ask, timeoutMs, onFailure, send, reply',
    ],
    [
      'an ask of an unknown agent from a spawned task',
      lines('agents:', '  - { name: a, steps: [] }', 'tasks:', '  - steps: [{ spawn: { steps: [{ ask: b }] } }]'),
      'scenario.yaml:4:39: tasks[0].steps[0].spawn.steps[0].ask: unknown agent "b" (agents: a)',
    ],
    [
      'a send with no agents',
      lines('tasks:', '  - steps: [{ send: a }]'),
      'scenario.yaml:2:21: tasks[0].steps[0].send: unknown agent "a" (none is declared in agents)',
    ],
    [
      'a timeoutMs on a send',
      lines('agents:', '  - { name: a, steps: [] }', 'messages:', '  - { send: a, timeoutMs: 10 }'),
      'scenario.yaml:4:16: messages[0].timeoutMs: unknown field in a sent message; fields: send, message, at, count, rate, times',
    ],
    [
      "a handler's acquire of an unknown pool",
      lines('engine: { resources: { db: 1 } }', 'agents:', '  - { name: a, steps: [{ acquire: gpu }] }'),
      'scenario.yaml:3:35: agents[0].steps[0].acquire: unknown resource "gpu" (resources: db)',
    ],
    [
      "a handler's acquire over the pool's capacity",
      lines('engine: { resources: { db: 1 } }', 'agents:', '  - { name: a, steps: [{ acquire: db, units: 2 }] }'),
      'scenario.yaml:3:46: agents[0].steps[0].units: asks for 2 units but "db" has a capacity of 1',
    ],
    [
      "a handler's release with no lease",
      lines('engine: { resources: { db: 1 } }', 'agents:', '  - { name: a, steps: [{ work: 1 }, { release: db }] }'),
      'scenario.yaml:3:48: agents[0].steps[1].release: no lease of "db" is held here (acquire it in an earlier step)',
    ],
    [
      "a timeoutMs on a handler's acquire",
      lines('engine: { resources: { db: 1 } }', 'agents:', '  - { name: a, steps: [{ acquire: db, timeoutMs: 5 }] }'),
      'scenario.yaml:3:39: agents[0].steps[0].timeoutMs: unknown field in a handler acquire step; fields: acquire, units',
    ],
    [
      'a message to an unknown agent',
      lines('agents:', '  - { name: a, steps: [] }', 'messages:', '  - { ask: b }'),
      'scenario.yaml:4:12: messages[0].ask: unknown agent "b" (agents: a)',
    ],
    [
      'a message with both times and at',
      lines('agents:', '  - { name: a, steps: [] }', 'messages:', '  - { send: a, at: 5, times: [1, 2] }'),
      'scenario.yaml:4:30: messages[0].times: `times` goes without `at`, `count` and `rate`',
    ],
    [
      'a message of both kinds',
      lines('agents:', '  - { name: a, steps: [] }', 'messages:', '  - { send: a, ask: a }'),
      'scenario.yaml:4:5: messages[0]: a message has exactly one of send, ask; this one has "send" and "ask"',
    ],
    [
      'a crash of an unknown agent',
      lines('agents:', '  - { name: a, steps: [] }', 'faults:', '  - { at: 5, crash: { agent: b } }'),
      'scenario.yaml:4:30: faults[0].crash.agent: unknown agent "b" (agents: a)',
    ],
    [
      'an unknown statistic',
      lines('agents:', '  - { name: a, steps: [] }', 'expect:', '  agent.a.handeld: 1'),
      `scenario.yaml:4:3: expect["agent.a.handeld"]: an agent's expectation is agent.<name>.<statistic> (did you mean "handled"?); statistics: received, handled, failed, dropped, restarts, maxMailboxDepth, totalMs, meanMs`,
    ],
    [
      'an unknown ask code',
      lines('expect:', '  asks.code.E_TIMEOUTS: 1'),
      'scenario.yaml:2:3: expect["asks.code.E_TIMEOUTS"]: unknown ask error code "E_TIMEOUTS" (did you mean "E_TIMEOUT"?); codes: E_AGENT_FAILED, E_MAILBOX_FULL, E_AGENT_STOPPED, E_TIMEOUT, E_DEADLOCK, E_CANCELLED, E_SHUTDOWN',
    ],
  ])('refuses %s, naming the path of the bad field', (_, text, message) => {
    expect(refusal(text)).toBe(message);
  });

  it('takes an agent name with dots in its expectations, the statistic being the last part', async () => {
    const report = await simulate(
      parseScenario(lines('agents:', '  - { name: team.a, steps: [] }', 'messages:', '  - { send: team.a }', 'expect:', '  agent.team.a.handled: 1')),
    );
    expect(report.expectations).toEqual([{ name: 'agent.team.a.handled', expected: '== 1', actual: 1, ok: true }]);
  });

  it('refuses more messages than the task limit allows, before anything runs', () => {
    const scenario = parseScenario(lines('agents:', '  - { name: a, steps: [] }', 'messages:', '  - { send: a, count: 11 }'), 'big.yaml');
    expect(() => new ScenarioRun(scenario, { maxTasks: 10 })).toThrow(
      'big.yaml: gives 11 messages (messages[0] gives 11), over the limit of 10; raise it with --max-tasks (or the maxTasks option), which bounds the messages too',
    );
  });

  it('stops agents that message each other in a loop past the limit, even when their work takes no time', async () => {
    const file = path.join(scratch, 'loop.jsonl');
    const report = await simulate(
      parseScenario(
        lines(
          'agents:',
          '  - { name: a, steps: [{ send: b }] }',
          '  - { name: b, steps: [{ ask: a, onFailure: continue }] }',
          'messages:',
          '  - { send: a }',
        ),
      ),
      { maxTasks: 100, trace: file },
    );
    expect(report.makespanMs).toBe(0);
    expect(report.agents['a']!.handled + report.agents['b']!.handled).toBe(100);
    expect(report.agents['a']!.failed).toBe(1);
    const failure = readFileSync(file, 'utf8')
      .split('\n')
      .find((line) => line.includes('"ok":false') && line.includes('simulation.handled'));
    expect(failure).toContain("The agents' handlers made more than 100 messages (do they message each other in a loop?)");
  });

  it('exits 2 in the CLI for a bad agent declaration, printing the path of the bad field', async () => {
    const bad = path.join(scratch, 'bad-agent.yaml');
    writeFileSync(bad, lines('agents:', '  - name: a', '    steps:', '      - ask: nobody'));
    const output: string[] = [];
    const stream = { isTTY: false, columns: 160, write: (chunk: unknown) => output.push(String(chunk)) > 0 } as unknown as SimulateIo['stdout'];
    let code: number | undefined;
    const command = createSimulateCommand({
      stdout: stream,
      stderr: stream,
      setExitCode: (value) => (code = value),
      progressAfterMs: 0,
    }).exitOverride();
    try {
      await command.parseAsync([bad], { from: 'user' });
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      code = error.exitCode;
    }
    expect(code).toBe(SIMULATE_EXIT.invalid);
    expect(output.join('')).toBe(`${bad}:4:14: agents[0].steps[0].ask: unknown agent "nobody" (agents: a)\n`);
  });
});
