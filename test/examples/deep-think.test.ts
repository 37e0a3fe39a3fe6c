import { VirtualClock } from '../../src/index';
import { runDeepThink } from '../../examples/deep-think';

/** Runs the example in virtual time: each ask's waits pass at once, in order. */
async function runOnVirtualTime(seed: number) {
  const clock = new VirtualClock();
  const waitFor = async <T>(pending: Promise<T>): Promise<T> => {
    // Every timer the ask set fires, in order, with the promise jobs between them.
    await clock.runAll();
    return pending;
  };
  return runDeepThink({ clock, seed, problems: 20, routedAsks: 300, waitFor });
}

describe('examples/deep-think.ts', () => {
  it('concludes every problem, with a placeholder exactly where the optimizer failed', async () => {
    const run = await runOnVirtualTime(7);
    expect(run.conclusions).toHaveLength(20);
    const withPlaceholder = run.conclusions.filter((conclusion) => conclusion.placeholders.length > 0);
    // The optimizer fails about 30% of the time: some problems, not all, have its placeholder.
    expect(withPlaceholder.length).toBeGreaterThan(0);
    expect(withPlaceholder.length).toBeLessThan(20);
    for (const conclusion of withPlaceholder) {
      expect(conclusion.placeholders).toEqual(['optimizer']);
      expect(conclusion.confidence).toBeCloseTo((0.9 + 0.8) / 3);
    }
    expect(run.stats['optimizer']!.failed).toBe(withPlaceholder.length);
    expect(run.stats['optimizer']!.handled + run.stats['optimizer']!.failed).toBe(20);
    expect(run.stats['deep-think']!.handled).toBe(20);
  });

  it('routes most asks to the steady solver, the best once speed and errors are counted', async () => {
    const run = await runOnVirtualTime(7);
    const pulls = Object.fromEntries(run.arms.map((arm) => [arm.name, arm.pulls]));
    expect(pulls['quick']! + pulls['steady']! + pulls['thorough']!).toBe(300);
    expect(pulls['steady']).toBeGreaterThan(pulls['quick']!);
    expect(pulls['steady']).toBeGreaterThan(pulls['thorough']!);
  });

  it('replays exactly with the same seed', async () => {
    const [first, second] = [await runOnVirtualTime(11), await runOnVirtualTime(11)];
    expect(second).toEqual(first);
  });
});
