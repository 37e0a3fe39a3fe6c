import { defaultRandom, seededRandom } from '../src/random';

const draw = (random: () => number, count: number): number[] => Array.from({ length: count }, () => random());

describe('seededRandom', () => {
  it('gives the same sequence for the same seed', () => {
    expect(draw(seededRandom(1234), 1000)).toEqual(draw(seededRandom(1234), 1000));
  });

  it('gives different sequences for different seeds', () => {
    const sequences = [0, 1, 2, -1, 2 ** 31 - 1].map((seed) => draw(seededRandom(seed), 20).join(','));
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it('stays within [0, 1) and fills the range', () => {
    const values = draw(seededRandom(99), 100_000);
    expect(values.filter((value) => !(value >= 0 && value < 1))).toEqual([]);
    const low = values.filter((value) => value < 0.5).length;
    // A uniform source puts about half below 0.5; 45-55 % is ~30 standard deviations wide.
    expect(low).toBeGreaterThan(45_000);
    expect(low).toBeLessThan(55_000);
    expect(Math.min(...values)).toBeLessThan(0.001);
    expect(Math.max(...values)).toBeGreaterThan(0.999);
    expect(new Set(values).size).toBe(values.length);
  });

  it('uses the fine resolution of Math.random, not 32 bits', () => {
    const values = draw(seededRandom(5), 1000);
    // A value built from 32 bits is a multiple of 2^-32; with 53 bits almost none is.
    const coarse = values.filter((value) => Number.isInteger(value * 2 ** 32));
    expect(coarse.length).toBeLessThan(10);
  });

  it('keeps independent generators independent', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = a();
    a();
    a();
    expect(b()).toBe(first);
  });
});

describe('defaultRandom', () => {
  it('draws from [0, 1)', () => {
    for (const value of draw(defaultRandom, 100)) expect(value >= 0 && value < 1).toBe(true);
  });
});
