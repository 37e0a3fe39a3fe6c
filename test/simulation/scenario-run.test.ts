import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toPlain } from '../../src/dashboard/dashboard-monitor';
import { ScenarioRun } from '../../src/simulation/scenario-run';
import { isMezanError } from '../../src/errors';
import { loadScenario, parseScenario } from '../../src/simulation/load-scenario';
import { simulate } from '../../src/simulation/simulate';

const examplesDir = path.join(__dirname, '..', '..', 'examples');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'mezan-scenario-run-test-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs a scenario step by step and returns its engine events as JSON lines, with its summary. */
async function runByHand(file: string, seed: number): Promise<{ lines: string[]; summary: Awaited<ReturnType<ScenarioRun['finish']>> }> {
  const run = new ScenarioRun(loadScenario(file), { seed });
  const lines: string[] = [];
  run.engine.events$.subscribe((event) => lines.push(JSON.stringify(toPlain(event))));
  while (await run.step());
  const summary = await run.finish();
  return { lines, summary };
}

describe('ScenarioRun', () => {
  const examples = readdirSync(examplesDir).filter((name) => name.endsWith('.yaml'));

  it.each(examples)('plays %s exactly as simulate does: the same engine events, in the same order, at the same times', async (name) => {
    const file = path.join(examplesDir, name);
    const trace = path.join(scratch, `${name}.jsonl`);
    const report = await simulate(loadScenario(file), { seed: 3, trace });
    const expected = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('{"type":"simulation.'))
      .map((line) => JSON.stringify(JSON.parse(line)));
    const { lines, summary } = await runByHand(file, 3);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toEqual(expected);
    expect(summary.byStatus).toEqual(report.byStatus);
    expect(summary.makespanMs).toBe(report.makespanMs);
    expect(summary.shutdown).toEqual(report.shutdown);
  });

  it('takes no step before its caller turns the clock, and none after the scenario is done', async () => {
    const run = new ScenarioRun(parseScenario('tasks:\n  - at: 5\n    steps: [{ work: 10 }]\n'));
    expect(run.engine.progress().total).toBe(0);
    expect(run.hasWork).toBe(true);
    let steps = 0;
    while (await run.step()) steps++;
    expect(steps).toBeGreaterThan(0);
    expect(run.clock.now()).toBe(15);
    expect(run.hasWork).toBe(false);
    expect(await run.step()).toBe(false);
    const summary = await run.finish();
    expect(summary.byStatus.completed).toBe(1);
    expect(await run.finish()).toBe(summary);
  });

  it('refuses a seed that is not an integer with E_INVALID_OPTION', () => {
    let error: unknown;
    try {
      new ScenarioRun(parseScenario('tasks: []\n'), { seed: 1.5 });
    } catch (caught) {
      error = caught;
    }
    expect(isMezanError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
