import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createEngine, type Engine } from '../../src/engine';
import type { TaskHandle } from '../../src/task-handle';
import { inThread } from '../../src/threads/in-thread';

// Many thread tasks, and shutdown with busy threads. Real threads: every wait is on a handle, an
// event or the shutdown report, never on a duration.

const FIXTURE = pathToFileURL(path.join(__dirname, '../fixtures/threads/tasks.mjs'));
const task = (name: string): ReturnType<typeof inThread> => inThread(FIXTURE, { export: name });

/** Counts the worker threads started from now on that have not exited yet. */
function watchThreads(): { alive: () => number; stop: () => void } {
  const alive = new Set<Worker>();
  const original = Worker.prototype.emit;
  // Counted from the threads' own events, so every pool's threads are seen (Piscina's included);
  // threads started before the watch are not counted.
  Worker.prototype.emit = function (this: Worker, name: string | symbol, ...args: unknown[]): boolean {
    if (name === 'online') alive.add(this);
    if (name === 'exit') alive.delete(this);
    return original.call(this, name, ...args);
  } as typeof Worker.prototype.emit;
  return { alive: () => alive.size, stop: () => void (Worker.prototype.emit = original) };
}

describe('thread tasks under load and shutdown', () => {
  let engine: Engine;

  afterEach(async () => {
    await engine.shutdown({ graceMs: 1000 });
  });

  test('10,000 tiny thread tasks each settle exactly once, with their own result', async () => {
    engine = createEngine({ threads: 2, logger: false });
    const count = 10_000;
    const settledTimes = new Map<string, number>();
    engine.events$.subscribe((event) => {
      if (event.type === 'task.completed' || event.type === 'task.failed' || event.type === 'task.cancelled' || event.type === 'task.timeout') {
        settledTimes.set(event.taskId, (settledTimes.get(event.taskId) ?? 0) + 1);
      }
    });
    const handles: Array<TaskHandle<unknown>> = [];
    for (let n = 0; n < count; n++) handles.push(engine.submit(task('double'), { input: n }));
    const results = await Promise.all(handles.map((handle) => handle.result));
    expect(results.every((value, n) => value === n * 2)).toBe(true);
    expect(settledTimes.size).toBe(count);
    expect([...settledTimes.values()].every((times) => times === 1)).toBe(true);
    const report = await engine.shutdown();
    expect(report).toMatchObject({ submitted: count, completed: count, lost: 0 });
    const thread = engine.stats().workers.find((worker) => worker.id === 'thread');
    expect(thread).toMatchObject({ tasksCompleted: count, attempts: count, running: 0 });
  });

  test('shutdown with busy threads drains them: running and queued thread tasks complete, then the threads end', async () => {
    const threads = watchThreads();
    try {
      engine = createEngine({ threads: 2, logger: false });
      const handles = [20, 20, 5, 5, 5].map((ms) => engine.submit(task('burn'), { input: ms }));
      await new Promise<void>((resolve) => engine.events$.subscribe((event) => event.type === 'task.started' && resolve()));
      const report = await engine.shutdown({ graceMs: 30_000 });
      expect(report).toMatchObject({ submitted: 5, completed: 5, cancelled: 0, lost: 0, abandoned: [] });
      await Promise.all(handles.map((handle) => expect(handle.result).resolves.toBe(true)));
      await waitFor(() => threads.alive() === 0);
    } finally {
      threads.stop();
    }
  });

  test('shutdown gives up on thread tasks that ignore their abort: aborted, then their threads terminated after abandonAfterMs', async () => {
    const threads = watchThreads();
    try {
      engine = createEngine({ threads: 2, logger: false, shutdown: { graceMs: 0, abandonAfterMs: 20 } });
      const spinning = [engine.submit(task('spin')), engine.submit(task('spin'))];
      const queued = engine.submit(task('double'), { input: 1 });
      await new Promise<void>((resolve) => {
        let started = 0;
        engine.events$.subscribe((event) => event.type === 'task.started' && ++started === 2 && resolve());
      });
      const report = await engine.shutdown({ drain: 'cancel' });
      expect(report).toMatchObject({ submitted: 3, cancelled: 3, lost: 0 });
      for (const handle of [...spinning, queued])
        await expect(handle.result).rejects.toMatchObject({ code: expect.stringMatching(/^E_(CANCELLED|SHUTDOWN)$/) });
      await waitFor(() => threads.alive() === 0);
    } finally {
      threads.stop();
    }
  });
});

/** Resolves once `condition()` holds, looking again on each turn of the event loop (no timer: no duration is assumed). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise<void>((resolve) => setImmediate(resolve));
}
