import { microsPerEvent, slowdownPercent } from '../../bench/overhead';

describe('slowdownPercent', () => {
  it.each([
    { baseline: 200_000, measured: 190_000, expected: 5 },
    { baseline: 200_000, measured: 210_000, expected: -5 },
    { baseline: 100_000, measured: 100_000, expected: 0 },
    { baseline: 100_000, measured: 25_000, expected: 75 },
  ])('of $measured against $baseline tasks/s is $expected%', ({ baseline, measured, expected }) => {
    expect(slowdownPercent(baseline, measured)).toBeCloseTo(expected, 12);
  });

  it.each([
    { baseline: 0, measured: 100 },
    { baseline: 100, measured: 0 },
    { baseline: -100, measured: 100 },
    { baseline: Number.NaN, measured: 100 },
    { baseline: 100, measured: Number.POSITIVE_INFINITY },
  ])('is NaN for $measured against $baseline', ({ baseline, measured }) => {
    expect(slowdownPercent(baseline, measured)).toBeNaN();
  });
});

describe('microsPerEvent', () => {
  it('spreads milliseconds over events as microseconds', () => {
    expect(microsPerEvent(25, 10_000)).toBeCloseTo(2.5, 12);
    expect(microsPerEvent(3_000, 10_000)).toBeCloseTo(300, 12);
  });

  it('keeps the sign of a negative difference', () => {
    expect(microsPerEvent(-10, 1_000)).toBeCloseTo(-10, 12);
  });

  it.each([
    { ms: 5, events: 0 },
    { ms: 5, events: -1 },
    { ms: Number.NaN, events: 10 },
    { ms: 5, events: Number.POSITIVE_INFINITY },
  ])('is NaN for $ms ms over $events events', ({ ms, events }) => {
    expect(microsPerEvent(ms, events)).toBeNaN();
  });
});
