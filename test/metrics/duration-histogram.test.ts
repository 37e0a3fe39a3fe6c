import fc from 'fast-check';
import { DURATION_BUCKETS_MS, DurationHistogram, EMPTY_DURATION_SUMMARY } from '../../src/metrics/duration-histogram';

function histogramOf(values: readonly number[]): DurationHistogram {
  const histogram = new DurationHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

/** The nearest-rank quantile of a sorted list: what the histogram approximates. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('DurationHistogram', () => {
  it('summarizes nothing as zeros', () => {
    expect(new DurationHistogram().summary()).toEqual(EMPTY_DURATION_SUMMARY);
    expect(new DurationHistogram().quantile(0.5)).toBe(0);
    expect(EMPTY_DURATION_SUMMARY.buckets).toEqual(DURATION_BUCKETS_MS.map((le) => ({ le, count: 0 })));
  });

  it('gives exact nearest-rank quantiles for whole milliseconds below 128', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1); // 1..100
    const summary = histogramOf(values).summary();
    expect(summary).toMatchObject({ count: 100, sum: 5050, mean: 50.5, min: 1, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('reads a quantile as its bucket’s mean: exact when the bucket holds one value, above 128 ms too', () => {
    const histogram = histogramOf([0, 0, 100, 100, 350, 1000, 60_000]);
    expect(histogram.quantile(0.25)).toBe(0);
    expect(histogram.quantile(0.5)).toBe(100);
    expect(histogram.quantile(5 / 7)).toBe(350);
    expect(histogram.quantile(6 / 7)).toBe(1000);
    expect(histogram.quantile(1)).toBe(60_000);
    expect(histogram.summary()).toMatchObject({ count: 7, min: 0, max: 60_000, sum: 61_550 });
  });

  it('keeps the relative error of a quantile under 1/64 for any durations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const histogram = histogramOf(values);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = exactQuantile(sorted, q);
          const read = histogram.quantile(q);
          // Whole-millisecond buckets below 128: off by less than 1 ms; above, by less than 1/64.
          expect(Math.abs(read - exact)).toBeLessThanOrEqual(Math.max(1, exact / 64));
          expect(histogram.summary().max).toBe(sorted[sorted.length - 1]);
          expect(histogram.summary().min).toBe(sorted[0]);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('counts each duration in the fixed buckets exactly, cumulatively: a bucket holds every duration up to its bound', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(...DURATION_BUCKETS_MS),
            fc.double({ min: 0, max: 400_000, noNaN: true }),
            fc.double({ min: -10, max: 0, noNaN: true }),
          ),
          { maxLength: 200 },
        ),
        (values) => {
          const { buckets, count } = histogramOf(values).summary();
          expect(buckets.map((bucket) => bucket.le)).toEqual(DURATION_BUCKETS_MS);
          for (const bucket of buckets) expect(bucket.count).toBe(values.filter((value) => Math.max(0, value) <= bucket.le).length);
          expect(count).toBe(values.length);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('counts negative durations as 0, ignores NaN, and keeps huge ones in its last bucket with an exact max', () => {
    const histogram = histogramOf([-5, Number.NaN, 2 ** 45]);
    expect(histogram.count).toBe(2);
    expect(histogram.summary()).toMatchObject({ min: 0, max: 2 ** 45, p50: 0, p99: 2 ** 45 });
  });
});
