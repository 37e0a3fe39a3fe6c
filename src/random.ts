import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** A source of uniform random numbers in `[0, 1)`, like `Math.random`. Injected so runs can be replayed. */
export type RandomSource = () => number;

/** The default random source: `Math.random`. */
export const defaultRandom: RandomSource = () => Math.random();

/**
 * A seeded, reproducible random source (xoroshiro128+ from `pure-rand`): the same seed gives the
 * same sequence on every machine.
 *
 * @param seed - any 32-bit integer
 * @example
 * ```ts
 * const engine = createEngine({ random: seededRandom(7) });
 * ```
 */
export function seededRandom(seed: number): RandomSource {
  const generator: RandomGenerator = xoroshiro128plus(seed | 0);
  // Two 32-bit draws make a 53-bit fraction, the same resolution as Math.random.
  return () => {
    const high = (generator.unsafeNext() >>> 0) >>> 5; // 27 bits
    const low = (generator.unsafeNext() >>> 0) >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  };
}
