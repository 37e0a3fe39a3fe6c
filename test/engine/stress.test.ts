import { createEngine, seededRandom, VirtualClock, type Engine, type ShutdownReport, type TaskOptions } from '../../src';
import { InvariantChecker, type TaskBody, type TrackedTask } from '../fixtures/invariant-checker';

// The audit's stress cases. Virtual time where time matters; the one real-time case asserts counts only.

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Violations grouped by invariant, a few examples each: an empty object when all is well. */
function summarize(violations: readonly string[]): Record<string, { count: number; examples: string[] }> {
  const byTag: Record<string, { count: number; examples: string[] }> = {};
  for (const violation of violations) {
    const tag = violation.slice(0, violation.indexOf(':'));
    const entry = (byTag[tag] ??= { count: 0, examples: [] });
    entry.count++;
    if (entry.examples.length < 5) entry.examples.push(violation);
  }
  return byTag;
}

/** Shuts `engine` down, running `clock` until the shutdown resolves (or clearly never will). */
async function shutDown(engine: Engine, clock: VirtualClock): Promise<ShutdownReport | undefined> {
  let report: ShutdownReport | undefined;
  void engine.shutdown().then((value) => (report = value));
  for (let round = 0; round < 3 && report === undefined; round++) {
    await clock.runAll();
    await nextMacrotask();
  }
  return report;
}

describe('stress: 2,000 concurrent tasks at concurrency 16', () => {
  it('completes them all, never runs more functions than the concurrency, and counts each completion on the worker', async () => {
    const concurrency = 16;
    const clock = new VirtualClock();
    const random = seededRandom(2_000);
    const engine = createEngine({ concurrency, clock, random: seededRandom(1) });
    const checker = new InvariantChecker(engine, { concurrency, now: () => clock.now() });
    // Four waves, the later ones landing while the earlier still run.
    for (let wave = 0; wave < 4; wave++) {
      for (let i = 0; i < 500; i++) {
        const sleepMs = 1 + Math.floor(random() * 50);
        checker.submit(
          async (ctx) => {
            await ctx.sleep(sleepMs);
            return ctx.id;
          },
          { priority: Math.floor(random() * 5) },
        );
      }
      await clock.advanceBy(Math.floor(random() * 40));
      checker.checkpoint(`after wave ${wave}`);
    }
    await clock.runAll();
    await engine.onIdle();

    const progress = engine.progress();
    const stats = engine.stats();
    expect(progress.completed).toBe(2_000);
    expect(checker.tasks.every((task) => task.handle.status === 'completed')).toBe(true);
    expect(checker.maxRunning).toBeLessThanOrEqual(concurrency);
    // All 16 were in use at some moment: the bound above is measured, not vacuous.
    expect(checker.maxRunning).toBe(concurrency);
    // One worker, `main`, with 16 slots, all free again.
    expect(stats.workers.map((worker) => [worker.id, worker.slots, worker.running, worker.state])).toEqual([['main', concurrency, 0, 'idle']]);
    expect(stats.workers.reduce((sum, worker) => sum + worker.tasksCompleted, 0)).toBe(progress.completed);
    expect(stats.totals.tasksCompleted).toBe(2_000);
    expect(stats.totals.attempts).toBe(2_000);
    expect(stats.totals.tasksFailed + stats.totals.tasksCancelled).toBe(0);

    checker.finish(await shutDown(engine, clock), clock);
    expect(summarize(checker.violations)).toEqual({});
  });
});

describe('stress: rapid submission and cancellation', () => {
  it('settles each of 10,000+ tasks exactly once under 10,000 random cancels, never running a task cancelled while queued', async () => {
    const concurrency = 8;
    const cancelsWanted = 10_000;
    const clock = new VirtualClock();
    const random = seededRandom(10_000);
    const engine = createEngine({ concurrency, clock, random: seededRandom(2) });
    const checker = new InvariantChecker(engine, { concurrency, now: () => clock.now() });
    const pickFrom = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const moments = { sameTick: 0, queuedLater: 0, waiting: 0, running: 0, settled: 0 };
    let cancels = 0;
    let round = 0;
    while (checker.tasks.length < 10_000 || cancels < cancelsWanted) {
      round++;
      const thisTick: TrackedTask[] = [];
      const submissions = checker.tasks.length < 10_000 ? 1 + Math.floor(random() * 120) : 0;
      for (let i = 0; i < submissions; i++) {
        const roll = random();
        const sleepMs = Math.floor(random() * 20);
        let body: TaskBody;
        let options: Omit<TaskOptions, 'dependsOn'> = {};
        if (roll < 0.3) {
          body = (ctx) => ctx.id;
        } else if (roll < 0.9) {
          body = async (ctx) => {
            await ctx.sleep(sleepMs);
            return ctx.id;
          };
        } else {
          // Fails its first attempt, so a retry is there to be cancelled too.
          body = async (ctx) => {
            await ctx.sleep(sleepMs);
            if (ctx.attempt === 1) throw new Error('first attempt fails');
            return ctx.id;
          };
          options = { retries: { max: 1, delayMs: Math.floor(random() * 5) } };
        }
        const dependencies = random() < 0.1 && checker.tasks.length > 0 ? [pickFrom(checker.tasks)] : [];
        thisTick.push(checker.submit(body, options, dependencies));
      }
      const cancelsNow = Math.min(cancelsWanted - cancels, Math.floor(random() * 130));
      const runningNow = checker.tasks.filter((task) => task.handle.status === 'running');
      const recent = checker.tasks.slice(-400);
      for (let i = 0; i < cancelsNow && checker.tasks.length > 0; i++) {
        // This tick's tasks (still buffered), running ones, recent ones (mostly queued), or any (mostly settled).
        const where = random();
        let task: TrackedTask;
        if (where < 0.25 && thisTick.length > 0) task = pickFrom(thisTick);
        else if (where < 0.45 && runningNow.length > 0) task = pickFrom(runningNow);
        else if (where < 0.8) task = pickFrom(recent);
        else task = pickFrom(checker.tasks);
        const status = task.handle.status;
        if (thisTick.includes(task) && status === 'queued') moments.sameTick++;
        else if (status === 'queued') moments.queuedLater++;
        else if (status === 'waiting') moments.waiting++;
        else if (status === 'running') moments.running++;
        else moments.settled++;
        checker.cancel(task, `cancel ${cancels}`);
        cancels++;
      }
      // Mostly small steps so cancels land on queued and running tasks; sometimes none at all.
      await clock.advanceBy(random() < 0.2 ? 0 : Math.floor(random() * 8));
      if (round % 25 === 0) checker.checkpoint(`round ${round}`);
    }
    await clock.runAll();
    await engine.onIdle();
    checker.finish(await shutDown(engine, clock), clock);

    expect(summarize(checker.violations)).toEqual({});
    expect(checker.tasks.length).toBeGreaterThanOrEqual(10_000);
    expect(cancels).toBe(cancelsWanted);
    // Every kind of moment was hit, so the checks below are not vacuous.
    for (const count of Object.values(moments)) expect(count).toBeGreaterThan(50);
    const cancelledWhileQueued = checker.tasks.filter((task) => task.cancelledWhileQueued);
    expect(cancelledWhileQueued.length).toBeGreaterThan(1_000);
    // Calls before are fine (a retry waiting out its delay is queued again); none may come after.
    const calledAfterCancel = cancelledWhileQueued.filter((task) => {
      const cancel = task.cancels.find((record) => record.statusBefore === 'queued' || record.statusBefore === 'waiting')!;
      return task.calls.length > cancel.callsBefore;
    });
    expect(calledAfterCancel.map((task) => task.index)).toEqual([]);
    expect(checker.tasks.filter((task) => task.settlements !== 1).map((task) => task.index)).toEqual([]);
  });
});

describe('stress: 100,000 instant tasks at concurrency 8, in real time', () => {
  it('completes every one exactly once and counts each on the worker', async () => {
    const concurrency = 8;
    const total = 100_000;
    const engine = createEngine({ concurrency, random: seededRandom(3) });
    const checker = new InvariantChecker(engine, { concurrency, now: () => Date.now() });
    // In chunks, so that submission overlaps running.
    for (let chunk = 0; chunk < 10; chunk++) {
      for (let i = 0; i < total / 10; i++) {
        const value = chunk * (total / 10) + i;
        checker.submit(() => value);
      }
      await nextMacrotask();
    }
    await engine.onIdle();
    const stats = engine.stats();
    const progress = engine.progress();
    expect(progress.completed).toBe(total);
    expect(stats.workers.map((worker) => [worker.id, worker.slots, worker.tasksCompleted])).toEqual([['main', concurrency, total]]);
    expect(stats.totals.attempts).toBe(total);
    expect(checker.maxRunning).toBeLessThanOrEqual(concurrency);

    checker.finish(await engine.shutdown(), undefined);
    expect(checker.tasks.every((task, index) => task.settledWith?.kind === 'value' && task.settledWith.value === index)).toBe(true);
    expect(summarize(checker.violations)).toEqual({});
  });
});
