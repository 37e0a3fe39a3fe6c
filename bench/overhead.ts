/**
 * How much slower `measured` is than `baseline`, in percent of the baseline's throughput: 5 means
 * 5% fewer tasks per second, a negative value means `measured` was faster. `NaN` when either is not
 * a positive finite number, so a broken measurement prints as "n/a".
 *
 * @param baselineTasksPerSecond - the throughput without the feature (detection off)
 * @param measuredTasksPerSecond - the throughput with it
 * @example
 * ```ts
 * slowdownPercent(200_000, 190_000); // 5
 * slowdownPercent(200_000, 210_000); // -5
 * ```
 */
export function slowdownPercent(baselineTasksPerSecond: number, measuredTasksPerSecond: number): number {
  if (!isPositiveFinite(baselineTasksPerSecond) || !isPositiveFinite(measuredTasksPerSecond)) return Number.NaN;
  return ((baselineTasksPerSecond - measuredTasksPerSecond) / baselineTasksPerSecond) * 100;
}

/**
 * A time in milliseconds spread over `events`, in microseconds per event; `NaN` when there were no
 * events or the time is not finite. The time may be negative (a difference of noisy medians).
 *
 * @example
 * ```ts
 * microsPerEvent(25, 10_000); // 2.5
 * ```
 */
export function microsPerEvent(ms: number, events: number): number {
  if (!Number.isFinite(ms) || !Number.isFinite(events) || events <= 0) return Number.NaN;
  return (ms * 1000) / events;
}

function isPositiveFinite(value: number): boolean {
  return Number.isFinite(value) && value > 0;
}
