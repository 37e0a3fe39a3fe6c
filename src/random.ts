// The generator's own module rather than the package's root, which loads every generator and
// distribution: about 14 ms against 4 ms, for `import 'mezan'` (issue 12).
import { xoroshiro128plus } from 'pure-rand/generator/XoroShiro';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** A source of uniform random numbers in `[0, 1)`, like `Math.random`. Injected so runs can be replayed. */
export type RandomSource = () => number;

/** The default random source: `Math.random`. */
export const defaultRandom: RandomSource = () => Math.random();

/**
 * A seeded, reproducible random source (xoroshiro128+ from `pure-rand`): the same seed gives the
 * same sequence on every machine.
 *
 * @param seed - an integer; its low 32 bits choose the sequence
 * @example
 * ```ts
 * const engine = createEngine({ random: seededRandom(7) });
 * ```
 */
export function seededRandom(seed: number): RandomSource {
  // xoroshiro128+'s own seeding leaves its first outputs nearly independent of the seed; four
  // splitmix32 words spread every bit of the seed over the whole state instead.
  const mix = splitmix32(Math.trunc(seed) >>> 0);
  const generator: RandomGenerator = xoroshiro128plus.fromState([mix(), mix(), mix(), mix()]);
  // Two 32-bit draws make a 53-bit fraction, the same resolution as Math.random.
  return () => {
    const high = (generator.unsafeNext() >>> 0) >>> 5; // 27 bits
    const low = (generator.unsafeNext() >>> 0) >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  };
}

/** splitmix32: a stream of well-mixed 32-bit words from one 32-bit seed (used only to seed). */
function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
}
