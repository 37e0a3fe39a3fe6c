import type { RandomSource } from '../../random';

// Marsaglia and Tsang's sampler accepts more than 95% of its candidates whatever the shape, so a
// real source never comes near this many rejections in a row; a broken one (constant, NaN) could
// loop forever, and the router must not hang on it.
const MAX_REJECTIONS = 1_000;

/**
 * A draw from the Beta(`alpha`, `beta`) distribution, as `X / (X + Y)` with `X` ~ Gamma(`alpha`)
 * and `Y` ~ Gamma(`beta`), both from {@link sampleGamma}.
 *
 * @param alpha - the first shape, a positive number
 * @param beta - the second shape, a positive number
 * @param random - a uniform source on [0, 1)
 * @returns a number in [0, 1]
 * @internal
 */
export function sampleBeta(alpha: number, beta: number, random: RandomSource): number {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  const sum = x + y;
  // Both draws underflow to 0 only for tiny shapes; the distribution's mean stands in for them.
  return sum > 0 ? x / sum : alpha / (alpha + beta);
}

/**
 * A draw from the Gamma(`shape`, 1) distribution by the method of Marsaglia and Tsang ("A Simple
 * Method for Generating Gamma Variables", ACM Transactions on Mathematical Software 26(3), 2000):
 * with `d = shape - 1/3` and `c = 1 / sqrt(9d)`, a normal `x` gives the candidate `d (1 + c x)³`,
 * kept by their squeeze or their log test. A shape below 1 uses their boost:
 * Gamma(a) = Gamma(a + 1) · U^(1/a).
 *
 * @param shape - a positive number
 * @param random - a uniform source on [0, 1)
 * @returns a non-negative number; the distribution's mean, `shape`, if the source gives nothing usable
 * @internal
 */
export function sampleGamma(shape: number, random: RandomSource): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * Math.pow(openUnitDraw(random), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let attempt = 0; attempt < MAX_REJECTIONS; attempt++) {
    const x = sampleStandardNormal(random);
    const root = 1 + c * x;
    if (!(root > 0)) continue;
    const v = root * root * root;
    const u = openUnitDraw(random);
    const xSquared = x * x;
    if (u < 1 - 0.0331 * xSquared * xSquared) return d * v;
    if (Math.log(u) < 0.5 * xSquared + d * (1 - v + Math.log(v))) return d * v;
  }
  return shape;
}

/**
 * A draw from the standard normal distribution by the Box-Muller transform (Box and Muller, "A Note
 * on the Generation of Random Normal Deviates", Annals of Mathematical Statistics 29(2), 1958):
 * `sqrt(-2 ln u₁) cos(2π u₂)`. It uses two uniform draws and keeps one of the pair of normals they
 * make, so that a draw depends on no state but the source's.
 *
 * @param random - a uniform source on [0, 1)
 * @internal
 */
export function sampleStandardNormal(random: RandomSource): number {
  const radius = Math.sqrt(-2 * Math.log(openUnitDraw(random)));
  return radius * Math.cos(2 * Math.PI * random());
}

/** A uniform draw on (0, 1], whose logarithm is finite. */
function openUnitDraw(random: RandomSource): number {
  return 1 - random();
}
