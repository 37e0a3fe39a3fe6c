import { evaluateExpectations, EXPECTATION_NAMES, parseExpectation, type Measured } from '../../src/simulation/expectations';
import { parseScenario } from '../../src/simulation/load-scenario';
import { simulate } from '../../src/simulation/simulate';

const measured: Measured = {
  completed: 990,
  failed: 7,
  cancelled: 3,
  timeout: 0,
  deadlock: 1,
  rejected: 0,
  deadlocks: 2,
  lost: 0,
  maxQueueDepth: 1150,
  makespanMs: 1234.5,
  byCode: { E_TIMEOUT: 4, E_RESOURCE_TIMEOUT: 2 },
};

describe('parseExpectation', () => {
  it.each([
    [990, '==', 990],
    [0, '==', 0],
    [-3, '==', -3],
    [2.5, '==', 2.5],
    ['== 1', '==', 1],
    ['!= 0', '!=', 0],
    ['>= 990', '>=', 990],
    ['<= 5', '<=', 5],
    ['> 0', '>', 0],
    ['< 1200', '<', 1200],
    ['<1200', '<', 1200],
    ['>=  -2.5', '>=', -2.5],
  ])('%p is %s %p', (expectation, operator, bound) => {
    expect(parseExpectation(expectation)).toEqual({ operator, bound });
  });

  it.each([['about 3'], ['=> 3'], ['= 3'], ['>= '], ['3'], ['>= 1e3'], [''], [' >= 1'], ['>= 1 '], [Number.NaN], [Infinity]])(
    'refuses %p with E_INVALID_SCENARIO',
    (bad) => {
      expect(() => parseExpectation(bad as string | number)).toThrow(expect.objectContaining({ code: 'E_INVALID_SCENARIO' }));
    },
  );
});

describe('an expectation string', () => {
  // Both sides of every rule of the form: spaces, signs, decimals, exponents, operators.
  const candidates = [
    '>= 990',
    '>=990',
    '<1200',
    '== -0.5',
    '!= 0',
    '>   3',
    ' >= 1',
    '>= 1 ',
    '\t> 1',
    '> 1\n',
    '>= +1',
    '>= 1e3',
    '>= .5',
    '>= 1.',
    '=> 1',
    '= 1',
    '1',
  ];

  it.each(candidates)('%p is refused by the loader exactly when parseExpectation refuses it', (candidate) => {
    const read = (): unknown => parseExpectation(candidate);
    const load = (): unknown => parseScenario(JSON.stringify({ expect: { completed: candidate } }), 'expect.json');
    const readable = attempt(read);
    expect({ candidate, loadable: attempt(load) }).toEqual({ candidate, loadable: readable });
  });
});

/** `true` when `run` returns, `false` when it throws E_INVALID_SCENARIO. */
function attempt(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    expect(error).toMatchObject({ code: 'E_INVALID_SCENARIO' });
    return false;
  }
}

describe('evaluateExpectations', () => {
  // Each operator once where it holds and once where it does not.
  it.each([
    ['completed', 990, true],
    ['completed', 989, false],
    ['completed', '== 990', true],
    ['completed', '== 991', false],
    ['failed', '!= 0', true],
    ['failed', '!= 7', false],
    ['completed', '>= 990', true],
    ['completed', '>= 991', false],
    ['lost', '<= 0', true],
    ['cancelled', '<= 2', false],
    ['deadlocks', '> 1', true],
    ['deadlocks', '> 2', false],
    ['maxQueueDepth', '< 1200', true],
    ['maxQueueDepth', '< 1150', false],
    ['makespanMs', '> 1234', true],
    ['makespanMs', 1234.5, true],
    ['code.E_TIMEOUT', 4, true],
    ['code.E_RESOURCE_TIMEOUT', '> 2', false],
    // A code that never occurred counts 0.
    ['code.E_DEADLOCK', 0, true],
    ['code.E_DEADLOCK', '> 0', false],
  ])('%s %p holds: %p', (name, expectation, ok) => {
    const [result] = evaluateExpectations({ [name]: expectation }, measured);
    expect(result!.ok).toBe(ok);
    expect(result!.name).toBe(name);
  });

  it('reports each expectation in the order written, normalized, with the measured value', () => {
    const results = evaluateExpectations({ lost: 0, completed: '>=990', timeout: '< 1', 'code.E_TIMEOUT': '!= 4' }, measured);
    expect(results).toEqual([
      { name: 'lost', expected: '== 0', actual: 0, ok: true },
      { name: 'completed', expected: '>= 990', actual: 990, ok: true },
      { name: 'timeout', expected: '< 1', actual: 0, ok: true },
      { name: 'code.E_TIMEOUT', expected: '!= 4', actual: 4, ok: false },
    ]);
  });

  it('can read every name it lists', () => {
    for (const name of EXPECTATION_NAMES) {
      const [result] = evaluateExpectations({ [name]: '>= 0' }, measured);
      expect(Number.isFinite(result!.actual)).toBe(true);
    }
  });

  it("reads the asks' outcomes and an agent's statistics (by its name, which may hold dots)", () => {
    const stats = { received: 5, handled: 3, failed: 1, dropped: 1, restarts: 0, mailboxDepth: 0, maxMailboxDepth: 2, totalMs: 40, meanMs: 10 };
    const withAgents: Measured = {
      ...measured,
      asks: { replied: 6, failed: 2, byCode: { E_DEADLOCK: 1, E_TIMEOUT: 1 } },
      agents: { 'team.a': stats },
    };
    const results = evaluateExpectations(
      {
        'asks.replied': 6,
        'asks.failed': '> 2',
        'asks.code.E_DEADLOCK': 1,
        'asks.code.E_SHUTDOWN': 0,
        'agent.team.a.handled': 3,
        'agent.team.a.meanMs': '< 10',
        'agent.team.b.handled': '>= 0',
      },
      withAgents,
    );
    expect(results.map((result) => [result.name, result.actual, result.ok])).toEqual([
      ['asks.replied', 6, true],
      ['asks.failed', 2, false],
      ['asks.code.E_DEADLOCK', 1, true],
      ['asks.code.E_SHUTDOWN', 0, true],
      ['agent.team.a.handled', 3, true],
      ['agent.team.a.meanMs', 10, false],
      // An agent nothing measured is NaN, which no comparison holds (the loader refuses the name first).
      ['agent.team.b.handled', Number.NaN, false],
    ]);
  });

  it('returns nothing for no expectations', () => {
    expect(evaluateExpectations({}, measured)).toEqual([]);
  });
});

describe('expectations in a simulation', () => {
  // Two tasks complete, one fails: every operator, as a scenario writes it, against a real run.
  const scenario = (expect: string): string =>
    `engine: { concurrency: 1 }\ntasks:\n  - { steps: [{ work: 10 }] }\n  - { steps: [{ work: 5 }] }\n  - { steps: [{ fail: 1 }] }\nexpect:\n${expect}`;

  it.each([
    ['  completed: 2\n', true],
    ['  completed: 3\n', false],
    ['  completed: "== 2"\n', true],
    ['  failed: "!= 0"\n', true],
    ['  failed: "!= 1"\n', false],
    ['  completed: ">= 2"\n', true],
    ['  makespanMs: "<= 15"\n', true],
    ['  makespanMs: "<= 14"\n', false],
    ['  failed: "> 0"\n', true],
    ['  lost: "< 1"\n', true],
    ['  lost: "< 0"\n', false],
  ])('%p → ok %p', async (expect_, ok) => {
    const report = await simulate(parseScenario(scenario(expect_)));
    expect(report.ok).toBe(ok);
  });
});
