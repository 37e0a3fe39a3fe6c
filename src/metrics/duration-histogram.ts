/**
 * The upper bounds, in milliseconds, of the fixed buckets every duration histogram of mezan counts
 * into: from 1 ms to 5 minutes, in steps of 1, 2.5 and 5 (and 30 s, 2 min). The same bounds in every
 * engine and every version, so that the buckets of several engines add up (in Prometheus,
 * `sum by (le)`). A duration above the last bound counts only in the summary's `count`.
 */
export const DURATION_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000,
]);

/** One bucket of a {@link DurationSummary}: how many durations were at most `le` milliseconds. */
export interface DurationBucket {
  /** The bucket's upper bound, in milliseconds (inclusive): one of the fixed bounds, from 1 ms to 5 minutes. */
  readonly le: number;
  /** How many durations were at most `le`: cumulative, as Prometheus counts its buckets. */
  readonly count: number;
}

/** A distribution of durations, in milliseconds, as a duration histogram's `summary()` reads it. */
export interface DurationSummary {
  /** How many durations were recorded. */
  readonly count: number;
  /** Their sum, exact. */
  readonly sum: number;
  /** Their mean, exact; `0` before the first. */
  readonly mean: number;
  /** The shortest, exact; `0` before the first. */
  readonly min: number;
  /** The median, read from the histogram's bucket it falls in; `0` before the first. */
  readonly p50: number;
  /** The 95th percentile, read as `p50` is. */
  readonly p95: number;
  /** The 99th percentile, read as `p50` is. */
  readonly p99: number;
  /** The longest, exact; `0` before the first. */
  readonly max: number;
  /**
   * Exact counts at the fixed bounds (from 1 ms to 5 minutes, the same in every engine), cumulative, in order; the
   * durations above the last bound are the rest of `count`.
   */
  readonly buckets: readonly DurationBucket[];
}

/** Sub-buckets per power of two: values below `2 * SUB_BUCKETS` ms have a bucket each. */
const SUB_BUCKET_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Values from 2^MAX_EXPONENT ms (about 35 years) on share the last bucket; `max` stays exact. */
const MAX_EXPONENT = 40;
// 2 * SUB_BUCKETS exact buckets, then SUB_BUCKETS per power of two from 2^(SUB_BUCKET_BITS + 1) to 2^MAX_EXPONENT.
const BUCKETS = (MAX_EXPONENT - SUB_BUCKET_BITS + 2) * SUB_BUCKETS;

/** An empty summary. */
export const EMPTY_DURATION_SUMMARY: DurationSummary = Object.freeze({
  count: 0,
  sum: 0,
  mean: 0,
  min: 0,
  p50: 0,
  p95: 0,
  p99: 0,
  max: 0,
  buckets: cumulativeBuckets(new Float64Array(DURATION_BUCKETS_MS.length)),
});

/**
 * A fixed-size histogram of durations in milliseconds (log-linear buckets, in the manner of
 * HdrHistogram): every whole millisecond below 128 has its own bucket, and above that each bucket
 * is at most 1/64 of its value wide. Its memory is the same after one sample or a billion. Count,
 * sum, min and max are exact; a quantile is read as the mean of the bucket it falls in: exact when
 * that bucket holds one distinct value, otherwise off by less than the bucket's width (1 ms below
 * 128 ms, under 1.6% of the value above). It also counts each duration, exactly, in the fixed
 * buckets of {@link DURATION_BUCKETS_MS}: what can be added up across engines, as quantiles cannot.
 *
 * @example
 * ```ts
 * const waits = new DurationHistogram();
 * for (const ms of [0, 0, 100, 100]) waits.record(ms);
 * waits.quantile(0.5); // 0
 * waits.summary().p95; // 100
 * ```
 */
export class DurationHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  readonly #sums = new Float64Array(BUCKETS);
  /** Durations per fixed bucket (not cumulative): the last bound they do not exceed. */
  readonly #fixed = new Float64Array(DURATION_BUCKETS_MS.length);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  /** How many durations were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The longest duration recorded, or `0`. */
  get max(): number {
    return this.#count === 0 ? 0 : this.#max;
  }

  /** Records one duration; negative ones count as 0 and non-numbers are ignored. */
  record(ms: number): void {
    if (typeof ms !== 'number' || Number.isNaN(ms)) return;
    if (ms < 0) ms = 0;
    const bucket = bucketOf(ms);
    this.#counts[bucket]!++;
    this.#sums[bucket]! += ms;
    let fixed = 0;
    while (fixed < DURATION_BUCKETS_MS.length && ms > DURATION_BUCKETS_MS[fixed]!) fixed++;
    if (fixed < DURATION_BUCKETS_MS.length) this.#fixed[fixed]!++;
    this.#count++;
    this.#sum += ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * The duration below which a fraction `q` of the recorded ones fall.
   * @param q - in `[0, 1]`: 0.5 is the median, 1 the maximum
   * @returns `0` when nothing was recorded
   */
  quantile(q: number): number {
    return this.#quantiles([q])[0]!;
  }

  /** Count, sum, mean, min, p50, p95, p99 and max, in one pass over the buckets, and the fixed buckets. */
  summary(): DurationSummary {
    if (this.#count === 0) return EMPTY_DURATION_SUMMARY;
    const [p50, p95, p99] = this.#quantiles([0.5, 0.95, 0.99]) as [number, number, number];
    const buckets = cumulativeBuckets(this.#fixed);
    return { count: this.#count, sum: this.#sum, mean: this.#sum / this.#count, min: this.#min, p50, p95, p99, max: this.#max, buckets };
  }

  /** `qs` ascending. */
  #quantiles(qs: readonly number[]): number[] {
    const results: number[] = [];
    if (this.#count === 0) return qs.map(() => 0);
    let next = 0;
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS && next < qs.length; bucket++) {
      const inBucket = this.#counts[bucket]!;
      if (inBucket === 0) continue;
      seen += inBucket;
      while (next < qs.length && seen >= rankOf(qs[next]!, this.#count)) {
        results.push(Math.min(this.#max, Math.max(this.#min, this.#sums[bucket]! / inBucket)));
        next++;
      }
    }
    while (results.length < qs.length) results.push(this.#max);
    return results;
  }
}

/** The fixed buckets' counts, `perBucket` in the order of {@link DURATION_BUCKETS_MS}, added up from below. */
function cumulativeBuckets(perBucket: Float64Array): readonly DurationBucket[] {
  let below = 0;
  return Object.freeze(
    DURATION_BUCKETS_MS.map((le, index) => {
      below += perBucket[index]!;
      return Object.freeze({ le, count: below });
    }),
  );
}

/** The 1-based rank of quantile `q` among `count` values (nearest rank). */
function rankOf(q: number, count: number): number {
  const clamped = Math.min(1, Math.max(0, q));
  return Math.max(1, Math.ceil(clamped * count));
}

function bucketOf(ms: number): number {
  const whole = Math.floor(ms);
  if (whole < 2 * SUB_BUCKETS) return whole;
  let exponent = Math.floor(Math.log2(whole));
  // Math.log2 may round across a power of two for large values.
  if (2 ** exponent > whole) exponent--;
  else if (2 ** (exponent + 1) <= whole) exponent++;
  if (exponent > MAX_EXPONENT) return BUCKETS - 1;
  const shift = exponent - SUB_BUCKET_BITS;
  const sub = Math.floor(whole / 2 ** shift);
  return shift * SUB_BUCKETS + sub;
}
