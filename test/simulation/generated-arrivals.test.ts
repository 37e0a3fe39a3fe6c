import { isMezanError } from '../../src';
import { parseScenario, simulate } from '../../src/entries/simulation';

describe('generated tasks', () => {
  it('arrive one at each of `times`', async () => {
    const scenario = parseScenario(
      ['tasks:', '  - generate: { times: [0, 5, 5, 40], name: t, steps: [{ work: 3 }] }', 'expect: { completed: 4, makespanMs: 43 }'].join('\n'),
      'times.yaml',
    );
    const report = await simulate(scenario, { seed: 3 });
    expect(report.byStatus.completed).toBe(4);
    expect(report.makespanMs).toBe(43);
    expect(report.ok).toBe(true);
  });

  it.each([
    ['  - generate: { steps: [{ work: 3 }] }', 'tasks[0].generate', 2, 15],
    ['  - generate: { times: [1], count: 1, steps: [{ work: 3 }] }', 'tasks[0].generate.times', 2, 24],
    ['  - generate: { times: [1], rate: 10, steps: [{ work: 3 }] }', 'tasks[0].generate.times', 2, 24],
  ])('are refused without exactly one of `count` and `times`: %s', (line, path, lineNumber, column) => {
    let error: unknown;
    try {
      parseScenario(['tasks:', line].join('\n'), 'bad.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(isMezanError(error, 'E_INVALID_SCENARIO')).toBe(true);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ path, line: lineNumber, column });
  });
});
