import { sampleBeta, sampleGamma, sampleStandardNormal } from '../../../src/agents/bandit/beta-distribution';
import { seededRandom } from '../../../src/random';

const SAMPLES = 40_000;

function momentsOf(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

/** The Kolmogorov-Smirnov statistic of `values` against the distribution function `cdf`. */
function kolmogorovSmirnov(values: readonly number[], cdf: (x: number) => number): number {
  const sorted = [...values].sort((a, b) => a - b);
  let distance = 0;
  sorted.forEach((x, index) => {
    const expected = cdf(x);
    distance = Math.max(distance, Math.abs((index + 1) / sorted.length - expected), Math.abs(index / sorted.length - expected));
  });
  return distance;
}

// The critical value of the Kolmogorov-Smirnov test at the 0.1 % level: a correct sampler passes with
// any seed 999 times in 1,000, a wrong one (a shifted mean, a wrong shape) fails by far at this size.
const KS_CRITICAL = 1.95 / Math.sqrt(SAMPLES);

describe('sampleStandardNormal', () => {
  it('has mean 0 and variance 1', () => {
    const random = seededRandom(11);
    const { mean, variance } = momentsOf(Array.from({ length: SAMPLES }, () => sampleStandardNormal(random)));
    // Five standard errors: 5 / sqrt(40,000) = 0.025 for the mean; the variance's is about sqrt(2 / n).
    expect(Math.abs(mean)).toBeLessThan(0.025);
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / SAMPLES));
  });
});

describe('sampleGamma', () => {
  it.each([0.3, 1, 2.5, 40])('has mean and variance equal to its shape %p', (shape) => {
    const random = seededRandom(Math.round(shape * 10));
    const { mean, variance } = momentsOf(Array.from({ length: SAMPLES }, () => sampleGamma(shape, random)));
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / SAMPLES));
    // The sample variance's standard error for Gamma(k) is sqrt((2k² + 6k) / n) (its fourth cumulant is 6k).
    expect(Math.abs(variance - shape)).toBeLessThan(5 * Math.sqrt((2 * shape * shape + 6 * shape) / SAMPLES));
  });

  it('follows the exponential distribution for shape 1', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: SAMPLES }, () => sampleGamma(1, random));
    expect(kolmogorovSmirnov(values, (x) => 1 - Math.exp(-x))).toBeLessThan(KS_CRITICAL);
  });
});

describe('sampleBeta', () => {
  it.each([
    ['Beta(1, 1)', 1, 1, (x: number) => x],
    ['Beta(2, 1)', 2, 1, (x: number) => x * x],
    ['Beta(1, 3)', 1, 3, (x: number) => 1 - (1 - x) ** 3],
    ['Beta(2, 2)', 2, 2, (x: number) => 3 * x * x - 2 * x * x * x],
  ])('follows %s', (_name, alpha, beta, cdf) => {
    const random = seededRandom(alpha * 10 + beta);
    const values = Array.from({ length: SAMPLES }, () => sampleBeta(alpha, beta, random));
    expect(values.every((value) => value >= 0 && value <= 1)).toBe(true);
    expect(kolmogorovSmirnov(values, cdf)).toBeLessThan(KS_CRITICAL);
  });

  it('has the mean and variance of Beta(30, 70), a posterior after 100 rewards', () => {
    const random = seededRandom(8);
    const { mean, variance } = momentsOf(Array.from({ length: SAMPLES }, () => sampleBeta(30, 70, random)));
    const expectedVariance = (30 * 70) / (100 ** 2 * 101);
    expect(Math.abs(mean - 0.3)).toBeLessThan(5 * Math.sqrt(expectedVariance / SAMPLES));
    expect(Math.abs(variance / expectedVariance - 1)).toBeLessThan(0.05);
  });

  it('gives the same draws from the same seed', () => {
    const draw = (random: () => number) => Array.from({ length: 100 }, () => sampleBeta(3, 4, random));
    expect(draw(seededRandom(5))).toEqual(draw(seededRandom(5)));
  });

  it.each([
    ['NaN', () => NaN],
    ['a constant 0', () => 0],
    ['a constant just below 1', () => 0.9999999999],
    ['values out of range', () => 7],
  ])('ends with a number in [0, 1] from a broken source giving %s', (_name, random) => {
    for (const [alpha, beta] of [
      [1, 1],
      [0.5, 2],
      [30, 70],
    ] as const) {
      const value = sampleBeta(alpha, beta, random);
      expect(value >= 0 && value <= 1).toBe(true);
    }
  });
});
