/** The two sides of a race: mezan and the library it is measured against. */
export type Side = 'mezan' | 'peer';

/** How many runs a race makes. */
export interface RaceRounds {
  /** Timed runs per side. */
  readonly runs: number;
  /** Untimed rounds (one run of each side) first, to warm the JIT. */
  readonly warmupRounds: number;
}

/**
 * Runs both sides in the same process: warm-up rounds, then timed runs that alternate which side
 * goes first, so neither always runs on a warmer or a dirtier heap.
 *
 * @param run - one run of a side; what it returns is that run's measurement
 * @param onRun - called after each timed run, with its index (from 0)
 * @returns each side's timed measurements, in the order they ran
 */
export async function alternateRuns<T>(
  run: (side: Side) => Promise<T>,
  rounds: RaceRounds,
  onRun: (index: number, side: Side, measured: T) => void = () => {},
): Promise<Record<Side, T[]>> {
  for (let round = 0; round < rounds.warmupRounds; round++) {
    for (const side of ['mezan', 'peer'] as const) await run(side);
  }
  const measured: Record<Side, T[]> = { mezan: [], peer: [] };
  for (let index = 0; index < rounds.runs; index++) {
    const order: readonly Side[] = index % 2 === 0 ? ['mezan', 'peer'] : ['peer', 'mezan'];
    for (const side of order) {
      const value = await run(side);
      measured[side].push(value);
      onRun(index, side, value);
    }
  }
  return measured;
}
