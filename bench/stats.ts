/**
 * The median of a sample: the middle value, or the mean of the two middle values when the sample
 * has an even size. The input is not modified.
 *
 * @param values - the sample; every value must be a finite number
 * @returns the median
 * @throws {RangeError} when the sample is empty or holds a value that is not a finite number
 * @example
 * ```ts
 * median([3, 1, 2]);    // 2
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('Expected a non-empty sample, got `[]`');
  for (const value of values) {
    if (!Number.isFinite(value)) throw new RangeError(`Expected finite numbers, got \`${String(value)}\``);
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * `numerator / denominator`, or `NaN` when the quotient means nothing (a denominator that is zero,
 * negative or not finite), so a broken measurement prints as "n/a" rather than as `Infinity`.
 *
 * @example
 * ```ts
 * ratio(150_000, 100_000); // 1.5
 * ratio(1, 0);             // NaN
 * ```
 */
export function ratio(numerator: number, denominator: number): number {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator <= 0) return Number.NaN;
  return numerator / denominator;
}

/**
 * Throughput in tasks per second.
 *
 * @param tasks - how many tasks ran
 * @param elapsedMs - how long they took, in milliseconds
 * @returns tasks per second; `NaN` when `elapsedMs` is not positive
 */
export function tasksPerSecond(tasks: number, elapsedMs: number): number {
  return ratio(tasks * 1000, elapsedMs);
}
