/**
 * The problems the scenario loader reports, and the checks its parts share.
 */
import type { Duration } from './scenario';

/** One step into a scenario document: a key of an object or an index of a list. @internal */
export type Segment = string | number;

/**
 * What is wrong in a scenario and where: the path to the bad field and whether the position is its
 * key or its value. `parseScenario` turns it into the message `file:line:column: path: reason`.
 * @internal
 */
export interface Problem {
  readonly segments: readonly Segment[];
  readonly reason: string;
  /** Point at the key of the last segment (an unknown or badly named field) rather than its value. */
  readonly atKey?: boolean;
  /** Point at the object holding the last segment (a missing field). */
  readonly atParent?: boolean;
}

/**
 * What is wrong with a duration that the schema cannot see: a `uniform` range whose `min` is over its `max`.
 * @internal
 */
export function checkDuration(duration: Duration, at: readonly Segment[]): Problem | undefined {
  if (typeof duration === 'object' && 'uniform' in duration) {
    const [min, max] = duration.uniform;
    if (min > max) return { segments: [...at, 'uniform'], reason: `min ${min} is greater than max ${max}` };
  }
  return undefined;
}
