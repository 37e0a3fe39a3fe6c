import type { DetectorSnapshot } from '../../actors/detector.actor';
import { detectorMachine } from '../../machines/detector.machine';
import { VirtualClock, type Engine, type EngineOptions, type TaskHandle } from '../../src';
import { guardNames, readChart, recordSteps, transitionLabel, type ActorStep } from '../fixtures/chart-transitions';
import { startEngine } from '../fixtures/engine-harness';
import { takeTwo } from '../fixtures/take-two';

// The detector actor (actors/detector.actor.ts) is custom logic that follows a statechart it never
// runs: machines/detector.machine.ts. These tests run engines into deadlocks and out of them, and
// hold every step the detector takes to the chart; the scenarios take every transition of it.

const { diagram, stateKey, transitions: CHART } = readChart(detectorMachine);

/** What the chart's guard means, read from the snapshot the detector reached. */
const GUARDS: Record<string, (reached: DetectorSnapshot) => boolean> = {
  leavesDeadlockOpen: (reached) => reached.value === 'deadlocked',
};

type Step = ActorStep<DetectorSnapshot>;

/** The chart transitions the steps took; a failed expectation at the first step the chart does not allow. */
function checkAgainstChart(steps: readonly Step[]): Set<string> {
  const taken = new Set<string>();
  for (const step of steps) {
    const candidates = CHART.filter((transition) => transition.source === step.from && transition.event === step.event);
    const transition = candidates.find((candidate) => candidate.guard === undefined || GUARDS[candidate.guard]!(step.reached));
    if (transition === undefined) {
      // An event the chart does not draw here (a lock-order notice, a stop) leaves the state as it is.
      expect({ event: step.event, from: step.from, to: step.to }).toEqual({ event: step.event, from: step.from, to: step.from });
      continue;
    }
    expect({ event: step.event, from: step.from, to: step.to }).toEqual({ event: step.event, from: step.from, to: transition.target });
    taken.add(transitionLabel(transition));
  }
  return taken;
}

/** Runs `work` on an engine whose detector is watched, to the end; returns the detector's steps. */
async function watchDetector(options: EngineOptions, work: (engine: Engine) => Array<TaskHandle<unknown>>): Promise<Step[]> {
  const { inspect, steps, initial } = recordSteps<DetectorSnapshot>('detector');
  // Timers of one instant fire together, then their promise jobs run: tasks block in the same turn.
  const { engine, clock } = startEngine({ ...options, clock: new VirtualClock({ settle: 'each-instant' }), inspect });
  expect(initial()?.value).toBe(stateKey(diagram.root.initial!));
  engine.detectDeadlocks(); // nothing yet: watching, and stays so
  const handles = work(engine);
  await clock.advanceBy(0);
  while (await clock.step());
  await Promise.all(handles.map((handle) => handle.result));
  await engine.shutdown();
  return steps;
}

const SCENARIOS: Record<string, () => Promise<Step[]>> = {
  // Checked explicitly the moment the deadlock is reported, before its victim's wait has ended.
  'a lock-order deadlock, found at once and checked while open': () =>
    watchDetector({ concurrency: 2, resources: { a: 1, b: 1 }, deadlock: { detect: 'immediate', policy: 'youngest' } }, (engine) => {
      engine.events$.subscribe((event) => void (event.type === 'deadlock.detected' && engine.detectDeadlocks()));
      return [engine.submit(takeTwo('a', 'b'), { retries: 1 }), engine.submit(takeTwo('b', 'a'), { retries: 1 })];
    }),
  // Found in one look; the first one's end leaves the other open.
  'two deadlocks at once': () =>
    watchDetector({ concurrency: 4, resources: { a: 1, b: 1, c: 1, d: 1 }, deadlock: { detect: 'immediate', policy: 'youngest' } }, (engine) => [
      engine.submit(takeTwo('a', 'b'), { retries: 1 }),
      engine.submit(takeTwo('b', 'a'), { retries: 1 }),
      engine.submit(takeTwo('c', 'd'), { retries: 1 }),
      engine.submit(takeTwo('d', 'c'), { retries: 1 }),
    ]),
  // A parent awaits its child with the only slot: the delayed check finds it and a compensation slot ends it at once.
  'worker-slot starvation, found by a delayed check': () =>
    watchDetector({ concurrency: 1, deadlock: { detect: { afterMs: 1 }, compensate: { maxExtraWorkers: 1 } } }, (engine) => [
      engine.submit(async (ctx) => ctx.await(ctx.submit(async () => 'child'))),
    ]),
};

describe('detectorMachine, the chart of the deadlock detector', () => {
  const taken = new Set<string>();

  it('has the states watching (initial) and deadlocked, changed by a turn’s notices only', () => {
    expect(CHART.map(transitionLabel)).toEqual([
      'watching --graph.notices [leavesDeadlockOpen]--> deadlocked',
      'watching --graph.notices--> watching',
      'watching --deadlock.check--> watching',
      'deadlocked --graph.notices [leavesDeadlockOpen]--> deadlocked',
      'deadlocked --graph.notices--> watching',
      'deadlocked --deadlock.check--> deadlocked',
    ]);
    expect(Object.keys(GUARDS).sort()).toEqual(guardNames(CHART));
  });

  it.each(Object.keys(SCENARIOS))('is followed by the detector: %s', async (name) => {
    for (const transition of checkAgainstChart(await SCENARIOS[name]!())) taken.add(transition);
  });

  it('has every transition of the chart taken by the scenarios', () => {
    expect([...taken].sort()).toEqual(CHART.map(transitionLabel).sort());
  });

  it('is listed by engine.actors() under the supervisor', () => {
    const { engine } = startEngine();
    expect(engine.actors()).toContainEqual({ id: 'detector', machine: 'detector', parent: 'supervisor', state: 'watching' });
  });

  it('notices a step the chart does not allow (the check itself is sound)', () => {
    const deadlocked = { value: 'deadlocked' } as DetectorSnapshot;
    expect(() =>
      checkAgainstChart([
        { from: 'deadlocked', event: 'deadlock.check', to: 'watching', changed: true, reached: { value: 'watching' } as DetectorSnapshot },
      ]),
    ).toThrow();
    expect(() =>
      checkAgainstChart([{ from: 'watching', event: 'lockorder.acquiring', to: 'deadlocked', changed: true, reached: deadlocked }]),
    ).toThrow();
  });
});
