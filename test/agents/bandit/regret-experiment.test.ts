import { REGRET_EXPERIMENT_DEFAULTS, runRegretExperiment, ucb1RegretBound } from '../../../src/agents/bandit/regret-experiment';
import { MezanError } from '../../../src/errors';

describe('ucb1RegretBound', () => {
  it("is issue 10's figure, about 324, for means 0.2, 0.5 and 0.8 over 3,000 pulls", () => {
    // Σ 8 ln n / Δᵢ + (1 + π²/3) Σ Δᵢ, the gaps to the best arm being 0.6 and 0.3.
    const expected = 8 * Math.log(3_000) * (1 / 0.6 + 1 / 0.3) + (1 + Math.PI ** 2 / 3) * (0.6 + 0.3);
    expect(ucb1RegretBound([0.2, 0.5, 0.8], 3_000)).toBeCloseTo(expected, 10);
    expect(Math.round(expected)).toBe(324);
  });

  it('is 0 when no arm is below the best', () => {
    expect(ucb1RegretBound([0.4, 0.4], 100)).toBe(0);
  });
});

describe('runRegretExperiment', () => {
  // Issue 10's experiment: Bernoulli arms of means 0.2, 0.5 and 0.8, 3,000 pulls, 20 seeds.
  const results = runRegretExperiment();
  const byLabel = new Map(results.map((result) => [result.label, result]));
  const bound = ucb1RegretBound(REGRET_EXPERIMENT_DEFAULTS.armMeans, REGRET_EXPERIMENT_DEFAULTS.pulls);

  it('runs UCB1, Thompson sampling and epsilon-greedy over 20 seeds by default', () => {
    expect(results.map((result) => result.label)).toEqual(['ucb1', 'thompson', 'epsilon-greedy(0.1)']);
    for (const result of results) {
      expect(result.regrets).toHaveLength(20);
      expect(result.meanPulls.reduce((sum, pulls) => sum + pulls, 0)).toBeCloseTo(3_000, 9);
    }
  });

  it("keeps UCB1's mean regret under the bound of Auer, Cesa-Bianchi and Fischer", () => {
    expect(byLabel.get('ucb1')!.meanRegret).toBeLessThan(bound);
  });

  it("gives Thompson sampling a mean regret below UCB1's", () => {
    expect(byLabel.get('thompson')!.meanRegret).toBeLessThan(byLabel.get('ucb1')!.meanRegret);
  });

  it('has every strategy pull the best arm most', () => {
    for (const { meanPulls } of results) expect(meanPulls.indexOf(Math.max(...meanPulls))).toBe(2);
  });

  it('replays exactly: the same seeds give the same regrets', () => {
    expect(runRegretExperiment({ seeds: 3 })).toEqual(runRegretExperiment({ seeds: 3 }));
    expect(runRegretExperiment({ seeds: 3 }).map((result) => result.regrets)).toEqual(results.map((result) => result.regrets.slice(0, 3)));
    expect(runRegretExperiment({ seeds: 3, firstSeed: 50 })).not.toEqual(runRegretExperiment({ seeds: 3 }));
  });

  it('counts regret as the gap of each arm pulled to the best arm', () => {
    // Three pulls of UCB1 are one of each arm: 0.6 + 0.3 + 0.
    const [ucb1] = runRegretExperiment({ pulls: 3, seeds: 2, strategies: ['ucb1'] });
    for (const regret of ucb1!.regrets) expect(regret).toBeCloseTo(0.9, 12);
    expect(ucb1!.meanPulls).toEqual([1, 1, 1]);
    const [even] = runRegretExperiment({ armMeans: [0.5, 0.5], seeds: 2, strategies: ['thompson'] });
    expect(even!.meanRegret).toBe(0);
  });

  it.each<[string, Parameters<typeof runRegretExperiment>[0], string]>([
    ['no arms', { armMeans: [] }, 'armMeans'],
    ['a mean above 1', { armMeans: [0.2, 1.2] }, 'armMeans[1]'],
    ['no pulls', { pulls: 0 }, 'pulls'],
    ['fractional seeds', { seeds: 1.5 }, 'seeds'],
    ['a fractional first seed', { firstSeed: 0.5 }, 'firstSeed'],
    ['strategies that are not an array', { strategies: 'ucb1' as never }, 'strategies'],
    ['an unknown strategy', { strategies: ['ucb1', 'greedy' as never] }, 'strategies[1]'],
  ])('refuses %s with E_INVALID_OPTION naming the option', (_name, options, option) => {
    let error: unknown;
    try {
      runRegretExperiment(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MezanError);
    expect((error as MezanError).code).toBe('E_INVALID_OPTION');
    expect((error as MezanError).details.option).toBe(option);
  });
});
