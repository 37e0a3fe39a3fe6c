import fc from 'fast-check';
import { median, ratio, tasksPerSecond } from '../../bench/stats';

describe('median', () => {
  it.each([
    { values: [7], expected: 7 },
    { values: [3, 1, 2], expected: 2 },
    { values: [4, 1, 3, 2], expected: 2.5 },
    { values: [10, -5], expected: 2.5 },
    { values: [5, 5, 1, 5], expected: 5 },
    { values: [0.1, 0.3, 0.2], expected: 0.2 },
  ])('of $values is $expected', ({ values, expected }) => {
    expect(median(values)).toBeCloseTo(expected, 12);
  });

  it('sorts numerically, not as strings', () => {
    expect(median([100, 9, 20])).toBe(20);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it.each([
    { label: '[]', values: [] },
    { label: '[1, NaN]', values: [1, Number.NaN] },
    { label: '[Infinity]', values: [Number.POSITIVE_INFINITY] },
  ])('rejects the sample $label', ({ values }) => {
    expect(() => median(values)).toThrow(RangeError);
  });

  it('has as many values at or below it as at or above it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 50 }), (values) => {
        const m = median(values);
        const below = values.filter((value) => value <= m).length;
        const above = values.filter((value) => value >= m).length;
        expect(below).toBeGreaterThanOrEqual(Math.ceil(values.length / 2));
        expect(above).toBeGreaterThanOrEqual(Math.ceil(values.length / 2));
        expect(m).toBeGreaterThanOrEqual(Math.min(...values));
        expect(m).toBeLessThanOrEqual(Math.max(...values));
      }),
      { seed: 2, numRuns: 300 },
    );
  });
});

describe('ratio', () => {
  it.each([
    { numerator: 150_000, denominator: 100_000, expected: 1.5 },
    { numerator: 50_000, denominator: 100_000, expected: 0.5 },
    { numerator: 0, denominator: 3, expected: 0 },
  ])('$numerator / $denominator is $expected', ({ numerator, denominator, expected }) => {
    expect(ratio(numerator, denominator)).toBe(expected);
  });

  it.each([
    { numerator: 1, denominator: 0 },
    { numerator: 1, denominator: -2 },
    { numerator: 1, denominator: Number.NaN },
    { numerator: Number.NaN, denominator: 1 },
    { numerator: Number.POSITIVE_INFINITY, denominator: 1 },
    { numerator: 1, denominator: Number.POSITIVE_INFINITY },
  ])('is NaN for $numerator / $denominator', ({ numerator, denominator }) => {
    expect(ratio(numerator, denominator)).toBeNaN();
  });
});

describe('tasksPerSecond', () => {
  it('converts tasks in milliseconds to tasks per second', () => {
    expect(tasksPerSecond(100_000, 500)).toBe(200_000);
    expect(tasksPerSecond(10, 2_000)).toBe(5);
  });

  it('is NaN when no time elapsed', () => {
    expect(tasksPerSecond(100_000, 0)).toBeNaN();
  });
});
