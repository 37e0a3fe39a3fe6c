import { errorOf, threadTask, THREAD_TASKS } from '../fixtures/thread-task-fixtures';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEngine, type Engine } from '../../src/engine';
import { inThread } from '../../src/threads/in-thread';

// Thread tasks run for real on worker threads (Piscina): real time by nature, so these tests wait on
// handles and events only, never on a duration.

const task = threadTask;

let engine: Engine;

afterEach(async () => {
  await engine.shutdown({ graceMs: 1000 });
});

describe('thread tasks', () => {
  test('run the export on a worker thread with a clone of the input; the value comes back', async () => {
    engine = createEngine({ threads: 2, logger: false });
    const handle = engine.submit(inThread(THREAD_TASKS), { input: { n: [1, 2] }, name: 'echo' });
    await expect(handle.result).resolves.toEqual({ input: { n: [1, 2] }, id: handle.id, name: 'echo', attempt: 1 });
    const thread = engine.actors().find((actor) => actor.id === 'thread');
    expect(thread).toMatchObject({ machine: 'worker', parent: 'executor' });
  });

  test('an engine that never runs a thread task has no thread worker', async () => {
    engine = createEngine({ threads: 2, logger: false });
    await engine.submit(() => 1).result;
    expect(engine.actors().map((actor) => actor.id)).not.toContain('thread');
  });

  test('what the function throws fails the task with E_TASK_FAILED, its cause carrying the message', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const error = await errorOf(engine.submit(task('fails'), { input: 7 }).result);
    expect(error.code).toBe('E_TASK_FAILED');
    expect((error.cause as Error).message).toBe('bad input 7');
    expect((error.cause as { code?: string }).code).toBe('E_USER');
  });

  test('a missing module or export fails the task with E_TASK_FAILED whose cause names it', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const missingModule = pathToFileURL(path.join(__dirname, '../fixtures/threads/no-such-module.mjs'));
    const noModule = await errorOf(engine.submit(inThread(missingModule)).result);
    expect(noModule.code).toBe('E_TASK_FAILED');
    expect((noModule.cause as Error).message).toContain('no-such-module.mjs');
    const noExport = await errorOf(engine.submit(task('nope')).result);
    expect(noExport.code).toBe('E_TASK_FAILED');
    expect((noExport.cause as Error).message).toContain('"nope"');
    const notFunction = await errorOf(engine.submit(task('notFunction')).result);
    expect((notFunction.cause as Error).message).toContain('"notFunction"');
  });

  test('a result that cannot be cloned back fails the task with E_TASK_FAILED, naming why', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const error = await errorOf(engine.submit(task('returnsFunction')).result);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(String((error.cause as Error).message)).toMatch(/clone/i);
    await expect(engine.submit(task('double'), { input: 1 }).result).resolves.toBe(2);
  });

  test('inThread refuses what is not a file URL or path, and a bad export name', () => {
    expect(() => inThread(new URL('https://example.com/x.js'))).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    expect(() => inThread(THREAD_TASKS, { export: '' })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    expect(() => inThread(THREAD_TASKS, { exports: 'x' } as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    expect(() => createEngine({ threads: -1 })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
  });

  test('retries apply: an attempt that failed runs again', async () => {
    engine = createEngine({ threads: 1, logger: false });
    await expect(engine.submit(task('failsFirst'), { retries: 1 }).result).resolves.toBe(2);
  });

  test('dependencies between thread and main-thread tasks hold', async () => {
    engine = createEngine({ threads: 2, logger: false });
    const first = engine.submit(task('double'), { input: 21 });
    const second = engine.submit((ctx) => (ctx.dependencies[0]!.value as number) + 1, { dependsOn: [first] });
    await expect(second.result).resolves.toBe(43);
  });

  test("the thread's ctx carries what a main-thread task's carries as plain data: id, name, attempt, input, meta, dependencies", async () => {
    engine = createEngine({ threads: 2, logger: false });
    const first = engine.submit(() => ({ total: 3 }), { name: 'first' });
    const broken = engine.submit(
      () => {
        throw new Error('broken on purpose');
      },
      { name: 'broken' },
    );
    const handle = engine.submit(task('describeContext'), {
      id: 'described',
      name: 'describe',
      input: { failFirst: true, n: [1] },
      meta: { owner: 'team-a', tags: ['x'] },
      retries: 1,
      dependsOn: [first, { task: broken, allow: 'settled' }],
    });
    await expect(handle.result).resolves.toEqual({
      id: 'described',
      name: 'describe',
      attempt: 2,
      input: { failFirst: true, n: [1] },
      meta: { owner: 'team-a', tags: ['x'] },
      dependencies: [
        { id: first.id, name: 'first', status: 'completed', value: { total: 3 } },
        {
          id: broken.id,
          name: 'broken',
          status: 'failed',
          error: { isError: true, name: 'MezanError', code: 'E_TASK_FAILED', message: expect.stringContaining('broken on purpose') },
        },
      ],
      frozen: true,
    });
  });

  test('a task without meta or dependencies sees them as on the main thread: undefined and an empty list', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const onThread = await engine.submit(task('describeContext'), { input: 1 }).result;
    const onMain = await engine.submit((ctx) => ({ meta: ctx.meta, dependencies: ctx.dependencies, frozen: Object.isFrozen(ctx.dependencies) }), {
      input: 1,
    }).result;
    expect(onThread).toMatchObject({ meta: undefined, dependencies: [], frozen: true });
    expect(onMain).toEqual({ meta: undefined, dependencies: [], frozen: true });
  });

  test('a meta or a dependency value that cannot be cloned to the thread fails the task with E_TASK_FAILED naming it', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const badMeta = await errorOf(engine.submit(task('describeContext'), { meta: { callback: () => 1 } }).result);
    expect(badMeta.code).toBe('E_TASK_FAILED');
    expect((badMeta.cause as Error).message).toContain('its meta cannot be cloned');
    const giver = engine.submit(() => ({ fn: () => 1 }), { id: 'giver' });
    const badDependency = await errorOf(engine.submit(task('describeContext'), { dependsOn: [giver] }).result);
    expect(badDependency.code).toBe('E_TASK_FAILED');
    expect((badDependency.cause as Error).message).toContain('the value of its dependency "giver" cannot be cloned');
    const badInput = await errorOf(engine.submit(task('describeContext'), { input: { fn: () => 1 } }).result);
    expect((badInput.cause as Error).message).toContain('its input cannot be cloned');
    // The thread is untouched: the next task runs.
    await expect(engine.submit(task('double'), { input: 4 }).result).resolves.toBe(8);
  });

  test('the executor decides the order: with one thread, the higher priority starts first', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const started: string[] = [];
    engine.events$.subscribe((event) => {
      if (event.type === 'task.started') started.push(event.name);
    });
    // The first occupies the only thread; the others wait in mezan's queue, not Piscina's.
    const blocker = engine.submit(task('burn'), { input: 20, name: 'blocker', priority: 10 });
    const low = engine.submit(task('double'), { input: 1, name: 'low', priority: 1 });
    const high = engine.submit(task('double'), { input: 2, name: 'high', priority: 5 });
    await Promise.all([blocker.result, low.result, high.result]);
    expect(started).toEqual(['blocker', 'high', 'low']);
  });

  test('an ArrayBuffer input is cloned into the thread', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const buffer = new Uint8Array([1, 2, 3, 250]).buffer;
    await expect(engine.submit(task('sumBytes'), { input: { buffer } }).result).resolves.toEqual({ sum: 256, length: 4 });
  });

  test('`transfer` moves an ArrayBuffer of the input to the thread rather than copying it', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const buffer = new Uint8Array([1, 2, 3, 250]).buffer;
    await expect(engine.submit(task('sumBytes'), { input: { buffer }, transfer: [buffer] }).result).resolves.toEqual({ sum: 256, length: 4 });
    // Moved: the caller's buffer is detached.
    expect(buffer.byteLength).toBe(0);
  });

  test('`transfer` is refused with retries, and when not an array', () => {
    engine = createEngine({ threads: 1, logger: false });
    const buffer = new ArrayBuffer(8);
    expect(() => engine.submit(task('sumBytes'), { input: { buffer }, transfer: [buffer], retries: 1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option: 'transfer' }) }),
    );
    expect(() => engine.submit(task('sumBytes'), { input: { buffer }, transfer: buffer as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(buffer.byteLength).toBe(8);
  });

  test('the thread worker keeps its own statistics', async () => {
    engine = createEngine({ threads: 2, logger: false });
    await Promise.all([1, 2, 3].map((n) => engine.submit(task('double'), { input: n }).result));
    await errorOf(engine.submit(task('fails')).result);
    const thread = engine.stats().workers.find((worker) => worker.id === 'thread');
    expect(thread).toMatchObject({ slots: 2, tasksCompleted: 3, tasksFailed: 1, running: 0 });
  });
});

describe('thread tasks with telemetry', () => {
  test('a traced engine still runs a thread task on a thread', async () => {
    engine = createEngine({ threads: 1, logger: false, telemetry: true });
    const started: string[] = [];
    engine.events$.subscribe((event) => {
      if (event.type === 'task.started') started.push(event.workerId);
    });
    await expect(engine.submit(task('double'), { input: 5 }).result).resolves.toBe(10);
    expect(started).toEqual(['thread']);
  });
});
