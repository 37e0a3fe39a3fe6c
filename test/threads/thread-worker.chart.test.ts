import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerActorSnapshot } from '../../actors/worker.actor';
import { workerMachine } from '../../machines/worker.machine';
import { createEngine } from '../../src/engine';
import { inThread } from '../../src/threads/in-thread';
import { readChart, recordSteps, transitionLabel } from '../fixtures/chart-transitions';

// The thread worker is the worker actor (actors/worker.actor.ts) with threads: it follows the same
// chart, machines/worker.machine.ts. Held to it here in a real run on threads, as
// test/machines/worker.machine.test.ts holds the main-thread worker in virtual time.

const FIXTURE = pathToFileURL(path.join(__dirname, '../fixtures/threads/tasks.mjs'));
const task = (name: string): ReturnType<typeof inThread> => inThread(FIXTURE, { export: name });
const { diagram, stateKey, transitions: CHART } = readChart(workerMachine);

test('every change of state the thread worker makes is a transition of the worker chart', async () => {
  const { inspect, steps, initial } = recordSteps<WorkerActorSnapshot>('thread');
  const engine = createEngine({ threads: 2, logger: false, inspect });
  try {
    // A task holds one thread throughout: the others are dispatched to a busy worker, and their
    // reports leave it busy; then a burst fills both threads, a failure, a crash, and the cancel.
    const waiting = engine.submit(task('untilAborted'));
    await new Promise<void>((resolve) =>
      engine.events$.subscribe((event) => event.type === 'task.started' && event.taskId === waiting.id && resolve()),
    );
    await engine.submit(task('double'), { input: 1 }).result;
    await engine.submit(task('fails')).result.catch(() => undefined);
    await engine.submit(task('exitNow')).result.catch(() => undefined);
    waiting.cancel();
    await waiting.result.catch(() => undefined);
    await Promise.all([2, 3, 4, 5].map((n) => engine.submit(task('double'), { input: n }).result));
  } finally {
    await engine.shutdown();
  }
  expect(initial()?.value).toBe(stateKey(diagram.root.initial!));
  const taken = new Set<string>();
  steps.forEach((step, index) => {
    const where = `step ${index}: ${step.from} --${step.event}--> ${step.to}`;
    const { running } = step.reached.context.stats;
    expect({ where, consistent: step.to === 'busy' ? running > 0 : step.to === 'idle' ? running === 0 : true }).toEqual({ where, consistent: true });
    const candidates = CHART.filter((transition) => transition.source === step.from && transition.event === step.event);
    if (candidates.length === 0) {
      expect({ where, to: step.to }).toEqual({ where, to: step.from });
      return;
    }
    const chosen = candidates.find((transition) => transition.guard === undefined || (transition.guard === 'holdsNothing') === (running === 0));
    expect({ where, to: step.to }).toEqual({ where, to: chosen?.target ?? step.from });
    if (chosen !== undefined && step.changed) taken.add(transitionLabel(chosen));
  });
  // A thread that crashed fails its task; the worker itself never reaches `crashed`.
  expect(steps.some((step) => step.to === 'crashed')).toBe(false);
  expect([...taken].sort()).toEqual(
    [
      'busy --task.dispatch--> busy',
      'busy --worker.flush [holdsNothing]--> idle',
      'busy --worker.flush--> busy',
      'idle --task.dispatch--> busy',
    ].sort(),
  );
});
