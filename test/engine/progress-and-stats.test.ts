import { seededRandom, type EngineProgress, type TaskHandle } from '../../src';
import { startEngine } from '../fixtures/engine-harness';

/**
 * Concurrency 2 (two slots of the worker `main`); by t = 30 every task has settled:
 * A 0–10 ok, B 0–20 throws, C after A, 20–30 ok (in B's slot),
 * D 10–25 timed out (in A's slot), E cancelled while queued at t = 2.
 */
async function knownScenario() {
  const harness = startEngine({ concurrency: 2 });
  const { engine, clock } = harness;
  const a = engine.submit((ctx) => ctx.sleep(10), { id: 'A' });
  const b = engine.submit(
    async (ctx) => {
      await ctx.sleep(20);
      throw new Error('B fails');
    },
    { id: 'B' },
  );
  const c = engine.submit((ctx) => ctx.sleep(10), { id: 'C', dependsOn: [a] });
  const before = engine.progress();
  await clock.advanceBy(1);
  const d = engine.submit((ctx) => ctx.sleep(100), { id: 'D', timeoutMs: 15 });
  const e = engine.submit((ctx) => ctx.sleep(5), { id: 'E' });
  await clock.advanceBy(1);
  e.cancel();
  const handles: Record<string, TaskHandle<unknown>> = { a, b, c, d, e };
  for (const handle of Object.values(handles)) handle.result.catch(() => undefined);
  return { ...harness, handles, before };
}

describe('engine.progress()', () => {
  it('is all zeros, 100 percent and a zero ETA before anything is submitted', () => {
    const { engine } = startEngine();
    // Later issues add fields (deadlocked...); these are the core engine's.
    expect(engine.progress()).toMatchObject({
      total: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      timedOut: 0,
      rejected: 0,
      running: 0,
      pending: 0,
      successRate: 1,
      percent: 100,
      elapsedMs: 0,
      etaMs: 0,
    } satisfies Partial<EngineProgress>);
  });

  it('counts every status at known moments of a scenario, with rates, elapsed time and ETA', async () => {
    const { engine, clock, before } = await knownScenario();
    // Right after submission, in the same tick: nothing dispatched yet, no ETA before a task settles.
    expect(before).toMatchObject({ total: 3, completed: 0, running: 0, pending: 3, successRate: 1, percent: 0, elapsedMs: 0, etaMs: undefined });

    // t = 2: A and B run, C waits for A, D is queued, E was cancelled.
    expect(engine.progress()).toMatchObject({
      total: 5,
      completed: 0,
      failed: 0,
      cancelled: 1,
      timedOut: 0,
      running: 2,
      pending: 2,
      successRate: 0,
      percent: 20,
      elapsedMs: 2,
      etaMs: 8,
    });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 2 })]);

    await clock.advanceTo(10); // A completed; D took its slot; C is queued.
    expect(engine.progress()).toMatchObject({
      total: 5,
      completed: 1,
      failed: 0,
      cancelled: 1,
      timedOut: 0,
      running: 2,
      pending: 1,
      successRate: 0.5,
      percent: 40,
      elapsedMs: 10,
      etaMs: 15,
    });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 2 })]);

    await clock.advanceTo(25); // B failed at 20 and C took its slot; D timed out.
    expect(engine.progress()).toMatchObject({
      total: 5,
      completed: 1,
      failed: 1,
      cancelled: 1,
      timedOut: 1,
      running: 1,
      pending: 0,
      successRate: 0.25,
      percent: 80,
      elapsedMs: 25,
      etaMs: 6.25,
    });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 1 })]);

    await clock.runAll(); // C completed at 30.
    expect(clock.now()).toBe(30);
    expect(engine.progress()).toMatchObject({
      total: 5,
      completed: 2,
      failed: 1,
      cancelled: 1,
      timedOut: 1,
      rejected: 0,
      running: 0,
      pending: 0,
      successRate: 0.4,
      percent: 100,
      elapsedMs: 30,
      etaMs: 0,
    } satisfies Partial<EngineProgress>);
  });

  it('measures elapsed time from the first submission', async () => {
    const { engine, clock } = startEngine();
    await clock.advanceBy(1000);
    expect(engine.progress().elapsedMs).toBe(0);
    engine.submit((ctx) => ctx.sleep(40));
    await clock.advanceBy(25);
    expect(engine.progress().elapsedMs).toBe(25);
    await clock.runAll();
    expect(engine.progress().elapsedMs).toBe(40);
  });

  it('counts a task waiting out a retry delay as pending, not running', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const handle = engine.submit(
      (ctx) => {
        if (ctx.attempt === 1) throw new Error('once');
      },
      { retries: { max: 1, delayMs: 50 } },
    );
    await clock.advanceBy(10);
    expect(engine.progress()).toMatchObject({ running: 0, pending: 1, failed: 0, total: 1 });
    await clock.runAll();
    await handle.result;
    expect(engine.progress()).toMatchObject({ running: 0, pending: 0, completed: 1, failed: 0 });
  });

  it('counts rejected submissions in total and rejected', async () => {
    const { engine, clock } = startEngine();
    engine.submit((ctx) => ctx.sleep(10));
    const shutdown = engine.shutdown();
    const late = engine.submit(() => 'late');
    late.result.catch(() => undefined);
    await clock.runAll();
    await shutdown;
    expect(engine.progress()).toMatchObject({ total: 2, completed: 1, rejected: 1, percent: 100, pending: 0, running: 0 });
  });
});

describe('engine.progress$', () => {
  it('emits a fresh progress after every event, already counting that event', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const seen: Array<{ type: string; progress: EngineProgress }> = [];
    let lastType = '';
    engine.events$.subscribe((event) => {
      lastType = event.type;
    });
    engine.progress$.subscribe((progress) => seen.push({ type: lastType, progress }));
    for (let index = 0; index < 6; index++) {
      engine.submit(async (ctx) => {
        await ctx.sleep(10 * (index + 1));
        if (index % 3 === 0) throw new Error('every third fails');
      });
    }
    await clock.runAll();
    expect(seen.length).toBeGreaterThan(12);
    let completed = 0;
    let failed = 0;
    for (const { type, progress } of seen) {
      if (type === 'task.completed') completed++;
      if (type === 'task.failed') failed++;
      expect(progress.completed).toBe(completed);
      expect(progress.failed).toBe(failed);
    }
    // Two slots: one runs the 10, 30 and 50 ms tasks back to back, the other the 20, 40 and 60 ms
    // ones, whose last ends at 120.
    expect(seen[seen.length - 1]!.progress).toMatchObject({ total: 6, completed: 4, failed: 2, percent: 100, etaMs: 0, elapsedMs: 120 });
  });
});

describe('engine.stats()', () => {
  it('gives the worker main its slots, exact counts, busy time and last run time in virtual time, with totals', async () => {
    const { engine, clock } = await knownScenario();
    await clock.runAll();
    const stats = engine.stats();
    // Busy time adds up every function's run: A 10 + B 20 + D 15 (its sleep aborted at the timeout) + C 10.
    expect(stats.workers).toEqual([
      {
        id: 'main',
        state: 'idle',
        slots: 2,
        running: 0,
        tasksCompleted: 2,
        tasksFailed: 2,
        tasksCancelled: 0,
        attempts: 4,
        busyMs: 55,
        lastTaskMs: 10,
      },
    ]);
    expect(stats.totals).toMatchObject({ tasksCompleted: 2, tasksFailed: 2, tasksCancelled: 0, attempts: 4, busyMs: 55 });
    expect(stats.avgRunMs).toBe(13.75);
  });

  it('starts with one idle worker, main, with `concurrency` slots, none taken, no run time and avgRunMs 0', () => {
    const { engine } = startEngine({ concurrency: 3 });
    const stats = engine.stats();
    expect(stats.workers).toEqual([
      {
        id: 'main',
        state: 'idle',
        slots: 3,
        running: 0,
        tasksCompleted: 0,
        tasksFailed: 0,
        tasksCancelled: 0,
        attempts: 0,
        busyMs: 0,
        lastTaskMs: undefined,
      },
    ]);
    expect(stats.totals).toMatchObject({ tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0 });
    expect(stats.avgRunMs).toBe(0);
  });

  it('shows the worker busy while a function runs, with the slots taken counted in running', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const view = () => engine.stats().workers.map(({ id, state, slots, running }) => ({ id, state, slots, running }));
    engine.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(5);
    expect(view()).toEqual([{ id: 'main', state: 'busy', slots: 2, running: 1 }]);
    engine.submit((ctx) => ctx.sleep(10));
    engine.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(1);
    expect(view()).toEqual([{ id: 'main', state: 'busy', slots: 2, running: 2 }]);
    expect(engine.progress()).toMatchObject({ running: 2, pending: 1 });
    await clock.advanceBy(4); // the first ended at 10: the third took its slot
    expect(view()).toEqual([{ id: 'main', state: 'busy', slots: 2, running: 2 }]);
    await clock.runAll();
    expect(clock.now()).toBe(20);
    expect(view()).toEqual([{ id: 'main', state: 'idle', slots: 2, running: 0 }]);
  });

  it('counts every failed attempt of a retried task, and a cancellation on the worker', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const retried = engine.submit(
      async (ctx) => {
        await ctx.sleep(4);
        if (ctx.attempt < 3) throw new Error('not yet');
      },
      { retries: 2 },
    );
    await clock.runAll();
    await retried.result;
    const cancelled = engine.submit((ctx) => ctx.sleep(100));
    await clock.advanceBy(6);
    cancelled.cancel();
    cancelled.result.catch(() => undefined);
    await clock.runAll();
    expect(engine.stats().workers).toEqual([
      {
        id: 'main',
        state: 'idle',
        slots: 1,
        running: 0,
        tasksCompleted: 1,
        tasksFailed: 2,
        tasksCancelled: 1,
        attempts: 4,
        busyMs: 18,
        lastTaskMs: 6,
      },
    ]);
  });

  it('counts the worker main exactly (completions = progress().completed, attempts = starts) over a mixed seeded workload', async () => {
    const random = seededRandom(2024);
    const { engine, clock, events, ofType } = startEngine({ concurrency: 4, random: seededRandom(1) });
    const handles: Array<TaskHandle<unknown>> = [];
    let running = 0;
    let peak = 0;
    for (let index = 0; index < 300; index++) {
      const duration = Math.floor(random() * 20);
      const failing = random() < 0.2;
      const handle = engine.submit(
        async (ctx) => {
          running++;
          peak = Math.max(peak, running);
          try {
            if (duration > 0) await ctx.sleep(duration);
          } finally {
            running--;
          }
          if (failing && ctx.attempt === 1) throw new Error('first attempt fails');
          return index;
        },
        { priority: Math.floor(random() * 3), retries: random() < 0.5 ? 1 : 0, timeoutMs: random() < 0.1 ? 5 : undefined },
      );
      handle.result.catch(() => undefined);
      handles.push(handle);
      if (random() < 0.1) await clock.advanceBy(Math.floor(random() * 10));
      if (random() < 0.05) handles[Math.floor(random() * handles.length)]!.cancel();
    }
    await clock.runAll();
    const progress = engine.progress();
    const stats = engine.stats();
    expect(progress.completed).toBeGreaterThan(100);
    expect(progress.failed + progress.timedOut + progress.cancelled).toBeGreaterThan(0);
    expect(stats.workers).toHaveLength(1);
    const main = stats.workers[0]!;
    expect(main).toMatchObject({ id: 'main', state: 'idle', slots: 4, running: 0 });
    expect(main.tasksCompleted).toBe(progress.completed);
    expect(main.attempts).toBe(ofType('task.started').length);
    const onMain = (...types: string[]) =>
      events.filter((event) => types.includes(event.type) && 'workerId' in event && event.workerId === 'main').length;
    expect(main.tasksFailed).toBe(onMain('task.failed', 'task.retrying', 'task.timeout'));
    expect(main.tasksCancelled).toBe(onMain('task.cancelled'));
    expect(stats.totals).toMatchObject({
      tasksCompleted: main.tasksCompleted,
      tasksFailed: main.tasksFailed,
      attempts: main.attempts,
      busyMs: main.busyMs,
    });
    expect(handles.filter((handle) => handle.status === 'completed')).toHaveLength(progress.completed);
    expect(progress.completed + progress.failed + progress.cancelled + progress.timedOut).toBe(300);
    // Never more functions at once than the slots, and all four slots were used.
    expect(peak).toBe(4);
    expect(running).toBe(0);
  });
});

describe('idleness', () => {
  it('isIdle is true with nothing unfinished; onIdle() resolves when the last task settles', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    expect(engine.isIdle).toBe(true);
    await expect(engine.onIdle()).resolves.toBeUndefined();
    engine.submit((ctx) => ctx.sleep(10));
    engine.submit((ctx) => ctx.sleep(30));
    expect(engine.isIdle).toBe(false);
    let idleAt: number | undefined;
    void engine.onIdle().then(() => {
      idleAt = clock.now();
    });
    await clock.advanceBy(29);
    expect(idleAt).toBeUndefined();
    await clock.advanceBy(1);
    expect(idleAt).toBe(30);
    expect(engine.isIdle).toBe(true);
  });
});
