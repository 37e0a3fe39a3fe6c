import { MezanError, type TaskContext, type TaskHandle, type TaskStatus } from '../../src';
import { deferred, recordingLogger, rejectionOf, startEngine } from '../fixtures/engine-harness';

describe('engine.submit: results', () => {
  it('resolves with the value of a synchronous function', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(() => 42);
    await clock.runAll();
    await expect(handle.result).resolves.toBe(42);
    expect(handle.status).toBe('completed');
  });

  it('resolves with the value of an asynchronous function once it settles in virtual time', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(async (ctx) => {
      await ctx.sleep(30);
      return { answer: 42 };
    });
    await clock.advanceBy(29);
    expect(handle.status).toBe('running');
    await clock.advanceBy(1);
    expect(handle.status).toBe('completed');
    await expect(handle.result).resolves.toEqual({ answer: 42 });
  });

  it('resolves with undefined for a function that returns nothing', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(() => undefined);
    await clock.runAll();
    await expect(handle.result).resolves.toBeUndefined();
  });

  it('rejects with E_TASK_FAILED carrying the thrown error, for synchronous and asynchronous functions', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const syncBoom = new Error('sync boom');
    const asyncBoom = new TypeError('async boom');
    const sync = engine.submit(() => {
      throw syncBoom;
    });
    const async = engine.submit(async (ctx) => {
      await ctx.sleep(5);
      throw asyncBoom;
    });
    await clock.runAll();
    const syncError = await rejectionOf(sync);
    const asyncError = await rejectionOf(async);
    expect(syncError).toBeInstanceOf(MezanError);
    expect(syncError.code).toBe('E_TASK_FAILED');
    expect(syncError.cause).toBe(syncBoom);
    expect(syncError.details).toMatchObject({ taskId: sync.id, attempts: 1 });
    expect(asyncError.code).toBe('E_TASK_FAILED');
    expect(asyncError.cause).toBe(asyncBoom);
    expect(sync.status).toBe('failed');
    expect(async.status).toBe('failed');
  });

  it('generates ids that skip the ids unfinished tasks already have', async () => {
    const { engine, clock } = startEngine();
    const explicit = engine.submit((ctx) => ctx.sleep(10), { id: 'task-2' });
    const generated = [engine.submit(() => 1), engine.submit(() => 2), engine.submit(() => 3)];
    const ids = [explicit.id, ...generated.map((handle) => handle.id)];
    expect(new Set(ids).size).toBe(4);
    expect(generated.map((handle) => handle.id)).not.toContain('task-2');
    await clock.runAll();
    await Promise.all(generated.map((handle) => handle.result));
  });

  it('keeps the settled value: reading result again gives the same value', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(() => 'once');
    await clock.runAll();
    await expect(handle.result).resolves.toBe('once');
    await expect(handle.result).resolves.toBe('once');
  });

  it('runs functions at most `concurrency` at a time, all in the one worker main', async () => {
    const { engine, clock } = startEngine({ concurrency: 3 });
    let running = 0;
    let peak = 0;
    const handles = Array.from({ length: 10 }, (_, index) =>
      engine.submit(async (ctx) => {
        running++;
        peak = Math.max(peak, running);
        await ctx.sleep(10 + index);
        running--;
        return index;
      }),
    );
    await clock.runAll();
    expect(await Promise.all(handles.map((handle) => handle.result))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(engine.stats().workers).toEqual([
      expect.objectContaining({ id: 'main', state: 'idle', slots: 3, running: 0, tasksCompleted: 10, attempts: 10 }),
    ]);
  });

  it('never leaves a task waiting behind a slow function while a slot is free', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    // Many instant tasks first: whatever the engine has seen, the quick tasks go to the free slot.
    for (let index = 0; index < 40; index++) engine.submit(() => index);
    await clock.runAll();
    const slow = engine.submit((ctx) => ctx.sleep(1000), { id: 'slow' });
    const quick = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => engine.submit(() => id, { id }));
    await clock.advanceBy(1);
    expect(slow.status).toBe('running');
    expect(quick.map((handle) => handle.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed', 'completed']);
    expect(
      ofType('task.completed')
        .filter((event) => quick.some((handle) => handle.id === event.taskId))
        .map((event) => event.at),
    ).toEqual([0, 0, 0, 0, 0, 0]);
    await clock.runAll();
  });
});

describe('engine.submit: priority', () => {
  /** Occupies the only worker for 10 ms so later submissions queue up behind it. */
  async function withBlocker() {
    const harness = startEngine({ concurrency: 1 });
    const order: string[] = [];
    const blocker = harness.engine.submit(async (ctx) => {
      order.push('blocker');
      await ctx.sleep(10);
    });
    await harness.clock.advanceBy(0);
    expect(blocker.status).toBe('running');
    const task = (label: string) => () => {
      order.push(label);
    };
    return { ...harness, order, task };
  }

  it('runs higher priorities first and equal priorities in submission order (one tick)', async () => {
    const { engine, clock, order, task } = await withBlocker();
    engine.submit(task('low-1'), { priority: 0 });
    engine.submit(task('high-1'), { priority: 5 });
    engine.submit(task('mid'), { priority: 1 });
    engine.submit(task('high-2'), { priority: 5 });
    engine.submit(task('negative'), { priority: -3 });
    engine.submit(task('low-2'));
    engine.submit(task('fraction'), { priority: 0.5 });
    await clock.runAll();
    expect(order).toEqual(['blocker', 'high-1', 'high-2', 'mid', 'fraction', 'low-1', 'low-2', 'negative']);
  });

  it('runs higher priorities first and equal priorities in submission order (separate ticks)', async () => {
    const { engine, clock, order, task } = await withBlocker();
    const plan: Array<[string, number]> = [
      ['a0', 0],
      ['b2', 2],
      ['c0', 0],
      ['d1', 1],
      ['e2', 2],
      ['f1', 1],
    ];
    for (const [label, priority] of plan) {
      engine.submit(task(label), { priority });
      await clock.advanceBy(1);
    }
    await clock.runAll();
    expect(order).toEqual(['blocker', 'b2', 'e2', 'd1', 'f1', 'a0', 'c0']);
  });

  it('runs a task submitted later with a higher priority before a lower one that has not started yet', async () => {
    // Two tasks submitted together on a fresh engine with one worker: the second has not started
    // when the high-priority task arrives, so the high-priority task must run before it.
    const { engine, clock } = startEngine({ concurrency: 1 });
    const order: string[] = [];
    engine.submit(async (ctx) => {
      order.push('first');
      await ctx.sleep(10);
    });
    const low = engine.submit(() => void order.push('low'), { priority: 0 });
    await clock.advanceBy(5);
    expect(order).toEqual(['first']);
    expect(low.status).not.toBe('completed');
    engine.submit(() => void order.push('high'), { priority: 10 });
    await clock.runAll();
    expect(order).toEqual(['first', 'high', 'low']);
  });

  it('runs a later higher-priority task before slow tasks that were submitted after many instant ones and have not started', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const order: string[] = [];
    for (let index = 0; index < 60; index++) engine.submit(() => void order.push('instant'));
    for (let index = 0; index < 4; index++) {
      engine.submit(async (ctx) => {
        order.push(`slow-${index}`);
        await ctx.sleep(10);
      });
    }
    await clock.advanceBy(5);
    expect(order.filter((label) => label !== 'instant')).toEqual(['slow-0']);
    engine.submit(() => void order.push('high'), { priority: 10 });
    await clock.runAll();
    expect(order.filter((label) => label !== 'instant')).toEqual(['slow-0', 'high', 'slow-1', 'slow-2', 'slow-3']);
  });
});

describe('engine.submit: the task context', () => {
  it('gives the id, the name (the id by default), attempt 1 and an unaborted signal', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const seen: TaskContext[] = [];
    const named = engine.submit((ctx) => void seen.push(ctx), { id: 'job-1', name: 'report' });
    const unnamed = engine.submit((ctx) => void seen.push(ctx));
    await clock.runAll();
    await Promise.all([named.result, unnamed.result]);
    const [first, second] = seen;
    expect(first).toMatchObject({ id: 'job-1', name: 'report', attempt: 1 });
    expect(second).toMatchObject({ id: unnamed.id, name: unnamed.id, attempt: 1 });
    expect(named.name).toBe('report');
    expect(unnamed.name).toBe(unnamed.id);
    expect(first!.signal).toBeInstanceOf(AbortSignal);
    expect(first!.signal.aborted).toBe(false);
  });

  it('gives a logger whose records carry the task id, name and attempt, the worker and the engine', async () => {
    const { logger, records } = recordingLogger();
    const { engine, clock } = startEngine({ logger });
    const handle = engine.submit(
      (ctx) => {
        ctx.logger.info('inside the task', { step: 1 });
      },
      { id: 'logged', name: 'logging task' },
    );
    await clock.runAll();
    await handle.result;
    const record = records.find((entry) => entry['message'] === 'inside the task');
    expect(record).toMatchObject({ taskId: 'logged', taskName: 'logging task', attempt: 1, step: 1, level: 'info', actor: 'main' });
    expect(record!['engine']).toBe(engine.id);
  });

  it('sleeps on the engine clock: ctx.sleep(ms) resolves exactly ms later in virtual time', async () => {
    const { engine, clock } = startEngine();
    const wakes: number[] = [];
    const handle = engine.submit(async (ctx) => {
      await ctx.sleep(100);
      wakes.push(clock.now());
      await ctx.sleep(250);
      wakes.push(clock.now());
      return clock.now();
    });
    await clock.advanceBy(99);
    expect(wakes).toEqual([]);
    await clock.advanceBy(1);
    expect(wakes).toEqual([100]);
    await clock.runAll();
    await expect(handle.result).resolves.toBe(350);
    expect(wakes).toEqual([100, 350]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports progress through ctx.progress as task.progress events', async () => {
    const { engine, clock, ofType } = startEngine();
    const handle = engine.submit(
      async (ctx) => {
        ctx.progress(0.25);
        await ctx.sleep(10);
        ctx.progress(1, 'done');
      },
      { name: 'progressing' },
    );
    await clock.runAll();
    await handle.result;
    expect(ofType('task.progress')).toEqual([
      { type: 'task.progress', at: 0, taskId: handle.id, name: 'progressing', attempt: 1, workerId: 'main', fraction: 0.25, message: undefined },
      { type: 'task.progress', at: 10, taskId: handle.id, name: 'progressing', attempt: 1, workerId: 'main', fraction: 1, message: 'done' },
    ]);
  });

  it('refuses a progress fraction outside [0, 1] by throwing E_INVALID_OPTION inside the task', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit((ctx) => ctx.progress(1.5));
    await clock.runAll();
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_TASK_FAILED');
    expect((error.cause as MezanError).code).toBe('E_INVALID_OPTION');
  });
});

describe('engine.submit: statuses', () => {
  /** Records a handle's status at submission and at each of its events. */
  function traceStatuses(harness: ReturnType<typeof startEngine>, handles: () => Array<TaskHandle<unknown>>) {
    const trace = new Map<string, TaskStatus[]>();
    harness.engine.events$.subscribe((event) => {
      if (!('taskId' in event)) return;
      const handle = handles().find((candidate) => candidate.id === event.taskId);
      if (handle !== undefined) trace.get(handle.id)?.push(handle.status);
    });
    return {
      start(handle: TaskHandle<unknown>) {
        trace.set(handle.id, [handle.status]);
      },
      /** The distinct statuses the handle went through, in order. */
      of(handle: TaskHandle<unknown>) {
        const seen = [...(trace.get(handle.id) ?? []), handle.status];
        return seen.filter((status, index) => index === 0 || status !== seen[index - 1]);
      },
    };
  }

  it('goes queued → running → completed', async () => {
    const harness = startEngine();
    const { engine, clock } = harness;
    const gate = deferred<string>();
    const handle = engine.submit(() => gate.promise);
    expect(handle.status).toBe('queued');
    await clock.advanceBy(0);
    expect(handle.status).toBe('running');
    gate.resolve('ok');
    await clock.advanceBy(0);
    expect(handle.status).toBe('completed');
    expect(handle.isSettled).toBe(true);
  });

  it('goes waiting → queued → running → completed for a task with a dependency', async () => {
    const harness = startEngine({ concurrency: 1 });
    const { engine, clock } = harness;
    const all: Array<TaskHandle<unknown>> = [];
    const trace = traceStatuses(harness, () => all);
    const first = engine.submit((ctx) => ctx.sleep(10));
    const second = engine.submit(() => 'second', { dependsOn: [first] });
    all.push(first, second);
    trace.start(second);
    expect(second.status).toBe('waiting');
    await clock.advanceBy(5);
    expect(second.status).toBe('waiting');
    await clock.runAll();
    await second.result;
    expect(trace.of(second)).toEqual(['waiting', 'queued', 'running', 'completed']);
  });

  it('stays queued behind a busy worker, then runs', async () => {
    const { engine, clock } = startEngine({ concurrency: 1 });
    const blocker = engine.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(0);
    const queued = engine.submit(() => 'later');
    await clock.advanceBy(5);
    expect(blocker.status).toBe('running');
    expect(queued.status).toBe('queued');
    await clock.runAll();
    expect(queued.status).toBe('completed');
  });

  it('ends in failed for a function that throws', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(() => {
      throw new Error('no');
    });
    await clock.runAll();
    expect(handle.status).toBe('failed');
    expect((await rejectionOf(handle)).code).toBe('E_TASK_FAILED');
  });
});

describe('engine.submit: the handle', () => {
  it('reads its id, name and meta from its task, and shows id, name and status as JSON', async () => {
    const { engine, clock } = startEngine();
    const meta = { owner: 'reports' };
    const named = engine.submit(() => 1, { id: 'nightly', name: 'nightly report', meta });
    const unnamed = engine.submit(() => 2);
    expect([named.id, named.name, named.meta]).toEqual(['nightly', 'nightly report', meta]);
    expect(named.meta).toBe(meta);
    // An engine-made id is the task's name too.
    expect(unnamed.name).toBe(unnamed.id);
    expect(unnamed.id).toMatch(/^task-\d+$/);
    expect(JSON.parse(JSON.stringify(named))).toEqual({ id: 'nightly', name: 'nightly report', status: 'queued' });
    await clock.runAll();
    expect(JSON.parse(JSON.stringify([named, unnamed]))).toEqual([
      { id: 'nightly', name: 'nightly report', status: 'completed' },
      { id: unnamed.id, name: unnamed.id, status: 'completed' },
    ]);
  });
});
