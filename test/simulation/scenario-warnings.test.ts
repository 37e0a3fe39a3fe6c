import { parseScenario } from '../../src/simulation/load-scenario';
import { scenarioWarnings } from '../../src/simulation/scenario-warnings';

describe('scenarioWarnings', () => {
  it('warns once that engine.workers is deprecated, saying what it is read as', () => {
    expect(scenarioWarnings(parseScenario('engine: { workers: 3 }\n'))).toEqual([
      'engine.workers is deprecated: use engine.concurrency (the number of tasks that run at once); read as concurrency: 3',
    ]);
    expect(scenarioWarnings(parseScenario('engine: { concurrency: 3, workers: 3 }\n'))).toHaveLength(1);
  });

  it('says nothing about a scenario written the current way', () => {
    expect(scenarioWarnings(parseScenario('engine: { concurrency: 3 }\n'))).toEqual([]);
    expect(scenarioWarnings(parseScenario('tasks: []\n'))).toEqual([]);
  });
});
