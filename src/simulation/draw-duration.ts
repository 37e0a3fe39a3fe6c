import type { RandomSource } from '../random';
import type { Duration } from './scenario';

/**
 * Draws a duration in whole milliseconds (never negative) from a {@link Duration}: fixed, uniform,
 * exponential (inverse transform) or normal (Box–Muller, clamped at `min`, default 0). Whole
 * milliseconds keep simulated times readable and let timers due together fire together.
 *
 * @internal
 */
export function drawDuration(duration: Duration, random: RandomSource): number {
  if (typeof duration === 'number') return Math.max(0, Math.round(duration));
  if ('uniform' in duration) {
    const [min, max] = duration.uniform;
    return Math.max(0, Math.round(min + (max - min) * random()));
  }
  if ('exponential' in duration) {
    return Math.max(0, Math.round(-duration.exponential.mean * Math.log(1 - random())));
  }
  const { mean, stddev, min = 0 } = duration.normal;
  // 1 - random() is in (0, 1], so the logarithm is finite.
  const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(min, Math.round(mean + stddev * gaussian));
}
