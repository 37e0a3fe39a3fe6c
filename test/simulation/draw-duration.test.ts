import { seededRandom, type RandomSource } from '../../src/random';
import { drawDuration } from '../../src/simulation/draw-duration';
import type { Duration } from '../../src/simulation/scenario';

/** A source that replays the given draws in order. */
function scripted(...draws: number[]): RandomSource {
  let next = 0;
  return () => {
    if (next >= draws.length) throw new Error('drew more than scripted');
    return draws[next++]!;
  };
}

function sample(duration: Duration, count: number, seed = 3): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => drawDuration(duration, random));
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('drawDuration', () => {
  it('takes a fixed duration as is, rounded to whole milliseconds, without drawing', () => {
    const random = scripted();
    expect(drawDuration(10, random)).toBe(10);
    expect(drawDuration(2.4, random)).toBe(2);
    expect(drawDuration(2.5, random)).toBe(3);
    expect(drawDuration(0, random)).toBe(0);
  });

  it('draws uniform durations across [min, max]', () => {
    expect(drawDuration({ uniform: [10, 20] }, scripted(0))).toBe(10);
    expect(drawDuration({ uniform: [10, 20] }, scripted(0.5))).toBe(15);
    expect(drawDuration({ uniform: [10, 20] }, scripted(0.999999))).toBe(20);
    const draws = sample({ uniform: [10, 20] }, 2000);
    expect(Math.min(...draws)).toBe(10);
    expect(Math.max(...draws)).toBe(20);
    expect(mean(draws)).toBeCloseTo(15, 0);
  });

  it('draws exponential durations by inverse transform, with the given mean', () => {
    expect(drawDuration({ exponential: { mean: 10 } }, scripted(0))).toBe(0);
    // -10 ln(1 - 0.5) = 6.93…
    expect(drawDuration({ exponential: { mean: 10 } }, scripted(0.5))).toBe(7);
    const draws = sample({ exponential: { mean: 40 } }, 5000);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(mean(draws)).toBeGreaterThan(37);
    expect(mean(draws)).toBeLessThan(43);
  });

  it('draws normal durations (Box–Muller), clamped at min (default 0)', () => {
    // u1 = 1 - e^-0.5 gives sqrt(-2 ln(1 - u1)) = 1; u2 = 0 gives cos 0 = 1: one standard deviation up.
    expect(drawDuration({ normal: { mean: 100, stddev: 10 } }, scripted(1 - Math.exp(-0.5), 0))).toBe(110);
    // u2 = 0.5 gives cos π = -1: one standard deviation down.
    expect(drawDuration({ normal: { mean: 100, stddev: 10 } }, scripted(1 - Math.exp(-0.5), 0.5))).toBe(90);
    expect(drawDuration({ normal: { mean: 5, stddev: 10 } }, scripted(1 - Math.exp(-2), 0.5))).toBe(0);
    expect(drawDuration({ normal: { mean: 5, stddev: 10, min: 3 } }, scripted(1 - Math.exp(-2), 0.5))).toBe(3);
    const draws = sample({ normal: { mean: 50, stddev: 5 } }, 5000);
    expect(mean(draws)).toBeGreaterThan(49.5);
    expect(mean(draws)).toBeLessThan(50.5);
  });

  it('never draws a negative or fractional duration', () => {
    const kinds: Duration[] = [{ uniform: [0, 3] }, { exponential: { mean: 0.3 } }, { normal: { mean: 0, stddev: 50 } }];
    for (const kind of kinds) {
      for (const value of sample(kind, 1000)) {
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const duration: Duration = { exponential: { mean: 25 } };
    expect(sample(duration, 50, 7)).toEqual(sample(duration, 50, 7));
    expect(sample(duration, 50, 8)).not.toEqual(sample(duration, 50, 7));
  });
});
