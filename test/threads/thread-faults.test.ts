import { errorOf, threadTask } from '../fixtures/thread-task-fixtures';
import { createEngine, type Engine } from '../../src/engine';
import type { LogDetails, Logger } from '../../src/logger';

// Faults of thread tasks: aborts reach the thread; a function that ignores them has its thread
// terminated after `abandonAfterMs`; a crashed thread fails only its own task. Real threads, so
// every wait is on a handle or an event, never on a duration.

const task = threadTask;

let engine: Engine;

afterEach(async () => {
  await engine.shutdown({ graceMs: 1000 });
});

/** A logger that resolves `seen(message)` once a line with that message was written. */
function watchingLogger(): { logger: Logger; seen: (message: string) => Promise<LogDetails | undefined> } {
  const lines: Array<{ message: string; details: LogDetails | undefined }> = [];
  const waiters: Array<{ message: string; resolve: (details: LogDetails | undefined) => void }> = [];
  const write = (message: string, details?: LogDetails): void => {
    lines.push({ message, details });
    for (const waiter of waiters.filter((candidate) => candidate.message === message)) waiter.resolve(details);
  };
  const logger: Logger = { error: write, warn: write, info: write, debug: () => undefined, child: () => logger };
  const seen = (message: string): Promise<LogDetails | undefined> => {
    const line = lines.find((candidate) => candidate.message === message);
    if (line !== undefined) return Promise.resolve(line.details);
    return new Promise((resolve) => waiters.push({ message, resolve }));
  };
  return { logger, seen };
}

describe('thread task faults', () => {
  test('a timeout aborts ctx.signal in the thread, with the E_TIMEOUT reason', async () => {
    const { logger, seen } = watchingLogger();
    engine = createEngine({ threads: 1, logger });
    const error = await errorOf(engine.submit(task('untilAborted'), { timeoutMs: 30 }).result);
    expect(error.code).toBe('E_TIMEOUT');
    await expect(seen('thread saw its abort')).resolves.toMatchObject({ code: 'E_TIMEOUT', name: 'MezanError' });
    // Its function returned, so its thread is free for the next task.
    await expect(engine.submit(task('double'), { input: 4 }).result).resolves.toBe(8);
  });

  test('a cancellation aborts ctx.signal in the thread', async () => {
    const { logger, seen } = watchingLogger();
    engine = createEngine({ threads: 1, logger });
    const handle = engine.submit(task('untilAborted'));
    await new Promise<void>((resolve) => engine.events$.subscribe((event) => event.type === 'task.started' && resolve()));
    handle.cancel('no longer needed');
    expect((await errorOf(handle.result)).code).toBe('E_CANCELLED');
    await expect(seen('thread saw its abort')).resolves.toMatchObject({ code: 'E_CANCELLED' });
  });

  test.each([
    ['timed out', { timeoutMs: 20 }, 'E_TIMEOUT'],
    ['cancelled', {}, 'E_CANCELLED'],
  ] as const)('a while(true) %s has its thread terminated after abandonAfterMs; the others run on untouched', async (_how, options, code) => {
    engine = createEngine({ threads: 2, logger: false, shutdown: { abandonAfterMs: 20 } });
    const spinning = engine.submit(task('spin'), { ...options, name: 'spinning' });
    const other = engine.submit(task('untilAborted'), { name: 'other', timeoutMs: 60_000 });
    if (code === 'E_CANCELLED') {
      await new Promise<void>((resolve) =>
        engine.events$.subscribe((event) => event.type === 'task.started' && event.name === 'spinning' && resolve()),
      );
      spinning.cancel();
    }
    expect((await errorOf(spinning.result)).code).toBe(code);
    // The spinning thread is terminated and replaced: its slot comes back, and new tasks run.
    const after = await Promise.all([1, 2, 3].map((n) => engine.submit(task('double'), { input: n }).result));
    expect(after).toEqual([2, 4, 6]);
    // The other task, on the other thread, was never touched: it still waits for its abort.
    expect(other.status).toBe('running');
    other.cancel();
    expect((await errorOf(other.result)).code).toBe('E_CANCELLED');
    const thread = engine.stats().workers.find((worker) => worker.id === 'thread');
    expect(thread).toMatchObject({ tasksCompleted: 3, tasksCancelled: code === 'E_CANCELLED' ? 2 : 1, tasksFailed: code === 'E_TIMEOUT' ? 1 : 0 });
  });

  test.each([
    ['process.exit(1)', 'exitNow'],
    ['an uncaught exception', 'throwUncaught'],
  ])('%s in a thread fails only its task with E_WORKER_CRASHED; the thread is replaced', async (_what, name) => {
    const { logger, seen } = watchingLogger();
    engine = createEngine({ threads: 2, logger });
    const other = engine.submit(task('untilAborted'), { name: 'other' });
    const error = await errorOf(engine.submit(task(name)).result);
    expect(error.code).toBe('E_WORKER_CRASHED');
    expect(error.details).toMatchObject({ workerId: 'thread' });
    await expect(Promise.all([5, 6].map((n) => engine.submit(task('double'), { input: n }).result))).resolves.toEqual([10, 12]);
    expect(other.status).toBe('running');
    other.cancel();
    await expect(seen('thread saw its abort')).resolves.toMatchObject({ code: 'E_CANCELLED' });
    expect(engine.actors().find((actor) => actor.id === 'thread')?.state).not.toBe('crashed');
  });

  test('a crashed attempt is retried under the task retry policy', async () => {
    engine = createEngine({ threads: 1, logger: false });
    await expect(engine.submit(task('exitsFirst'), { retries: 1 }).result).resolves.toBe(2);
  });

  test('queueTimeoutMs: a thread task that cannot start in time ends E_QUEUE_TIMEOUT', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const blocker = engine.submit(task('untilAborted'));
    const late = engine.submit(task('double'), { input: 1, queueTimeoutMs: 10 });
    expect((await errorOf(late.result)).code).toBe('E_QUEUE_TIMEOUT');
    blocker.cancel();
    await errorOf(blocker.result);
  });
});

describe('thread crashes under supervision', () => {
  test('each crashed thread counts in the restart intensity: worker.crashed and worker.restarted, then escalation past maxRestarts', async () => {
    engine = createEngine({ threads: 1, logger: false, supervision: { maxRestarts: 1, withinMs: 60_000 } });
    const seen: string[] = [];
    engine.events$.subscribe((event) => {
      if (event.type === 'worker.crashed' || event.type === 'worker.restarted' || event.type === 'engine.escalated')
        seen.push(`${event.type} ${'workerId' in event ? event.workerId : ''}`.trim());
    });
    expect((await errorOf(engine.submit(task('exitNow')).result)).code).toBe('E_WORKER_CRASHED');
    await expect(engine.submit(task('double'), { input: 2 }).result).resolves.toBe(4);
    expect(seen).toEqual(['worker.crashed thread', 'worker.restarted thread']);
    expect((await errorOf(engine.submit(task('exitNow')).result)).code).toBe('E_WORKER_CRASHED');
    const escalated = new Promise<void>((resolve) => {
      if (seen.includes('engine.escalated')) resolve();
      else engine.events$.subscribe((event) => event.type === 'engine.escalated' && resolve());
    });
    await escalated;
    expect(seen.slice(2)).toEqual(['worker.crashed thread', 'engine.escalated']);
  });
});
