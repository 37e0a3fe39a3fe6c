import type { RandomSource } from '../../random';

/**
 * The engine's random source as a bandit draws from it. The source is user code, checked only by
 * the draws made when the engine starts: a draw that throws, or gives anything but a number in
 * [0, 1), counts as 0 here, so that a broken source skews the router's choices but never fails it.
 * @internal
 */
export function containRandom(random: RandomSource): RandomSource {
  return () => {
    let value: unknown;
    try {
      value = random();
    } catch {
      return 0;
    }
    return typeof value === 'number' && value >= 0 && value < 1 ? value : 0;
  };
}
