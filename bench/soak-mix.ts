/**
 * What a soak task does. Deadlock pairs are not drawn here: a fixed number of them goes into every
 * chunk (see `SoakConfig.deadlockPairsPerChunk`).
 */
export type SoakTaskKind =
  /** Returns at once. */
  | 'sync'
  /** Awaits a `setImmediate`. */
  | 'async'
  /** Throws on its first one or two attempts, then succeeds: retries with no delay or 1 ms. */
  | 'flaky'
  /** Always throws; one retry: ends `failed`. */
  | 'failing'
  /** Cancelled by the submitter right after `submit`, in the same tick (still in the engine's buffer). */
  | 'cancel-now'
  /** Cancelled once the whole chunk is submitted: queued (or waiting), never started. */
  | 'cancel-queued'
  /** Cancelled after a random 0–3 ms: queued, running or already done. */
  | 'cancel-later'
  /** Cancels itself once running, while it sleeps on `ctx.sleep`. */
  | 'cancel-running'
  /** `ctx.await`s an earlier task of its chunk (whatever that task's outcome). */
  | 'await-sibling'
  /** Submits a child with `ctx.submit` and `ctx.await`s it. */
  | 'await-child'
  /** `dependsOn` an earlier task of its chunk: `allow: 'settled'` half of the time. */
  | 'depends'
  /** Sleeps longer than its `timeoutMs`: ends `timeout`. */
  | 'timeout';

/** The share of each kind, in per mille: they add up to 1000. */
export const SOAK_MIX: Readonly<Record<SoakTaskKind, number>> = Object.freeze({
  sync: 640,
  async: 150,
  flaky: 50,
  failing: 15,
  'cancel-now': 20,
  'cancel-queued': 20,
  'cancel-later': 20,
  'cancel-running': 15,
  'await-sibling': 25,
  'await-child': 15,
  depends: 20,
  timeout: 10,
});

const KINDS = Object.keys(SOAK_MIX) as SoakTaskKind[];
const CUMULATIVE: readonly number[] = (() => {
  let sum = 0;
  return KINDS.map((kind) => (sum += SOAK_MIX[kind]));
})();
const TOTAL = CUMULATIVE[CUMULATIVE.length - 1]!;

/**
 * Draws a task kind with the weights of {@link SOAK_MIX}.
 *
 * @param random - a source of uniform numbers in `[0, 1)` (seeded, so a run's choices replay)
 */
export function pickKind(random: () => number): SoakTaskKind {
  const draw = random() * TOTAL;
  for (let i = 0; i < CUMULATIVE.length; i++) if (draw < CUMULATIVE[i]!) return KINDS[i]!;
  return KINDS[KINDS.length - 1]!;
}

/**
 * `count` distinct positions in `[0, size)`, sorted, drawn with `random`: where a chunk's deadlock
 * pairs go. At most `size` positions.
 */
export function pickPositions(random: () => number, size: number, count: number): number[] {
  const wanted = Math.min(Math.max(0, Math.floor(count)), size);
  const chosen = new Set<number>();
  while (chosen.size < wanted) chosen.add(Math.floor(random() * size));
  return [...chosen].sort((a, b) => a - b);
}
