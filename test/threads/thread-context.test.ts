import { errorOf, threadTask } from '../fixtures/thread-task-fixtures';
import { createEngine, type Engine } from '../../src/engine';
import type { EngineEvent } from '../../src/engine-events';
import type { LogDetails, Logger } from '../../src/logger';

// A thread task's `ctx` talks to the engine by messages: the engine performs each call on the
// task's behalf, so its progress, logs, sleeps, pool waits and nested tasks are the task's own.
// Real threads: every wait is on a handle or an event.

const task = threadTask;

let engine: Engine;

afterEach(async () => {
  await engine.shutdown({ graceMs: 1000 });
});

/** Resolves with the first engine event that `matches`. */
function nextEvent<E extends EngineEvent>(matches: (event: EngineEvent) => event is E): Promise<E>;
function nextEvent(matches: (event: EngineEvent) => boolean): Promise<EngineEvent>;
function nextEvent(matches: (event: EngineEvent) => boolean): Promise<EngineEvent> {
  return new Promise((resolve) => {
    const subscription = engine.events$.subscribe((event) => {
      if (!matches(event)) return;
      subscription.unsubscribe();
      resolve(event);
    });
  });
}

const acquired =
  (taskId: string, resource: string) =>
  (event: EngineEvent): boolean =>
    event.type === 'resource.acquired' && event.taskId === taskId && event.resource === resource;

/** A main-thread task that holds `resource` until `release()` is called. */
function holder(resource: string): { handle: ReturnType<Engine['submit']>; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const handle = engine.submit(
    async (ctx) => {
      const lease = await ctx.acquire(resource);
      await gate;
      lease.release();
      return 'held';
    },
    { name: `holder of ${resource}` },
  );
  return { handle, release };
}

describe("a thread task's ctx", () => {
  test("progress, logger and sleep reach the engine as the task's own", async () => {
    const lines: Array<{ message: string; details: LogDetails | undefined }> = [];
    const write = (message: string, details?: LogDetails): void => void lines.push({ message, details });
    const logger: Logger = { error: write, warn: write, info: write, debug: () => undefined, child: () => logger };
    engine = createEngine({ threads: 1, logger });
    const progress: Array<{ taskId: string; fraction: number; message: string | undefined; workerId: string }> = [];
    engine.events$.subscribe((event) => {
      if (event.type === 'task.progress')
        progress.push({ taskId: event.taskId, fraction: event.fraction, message: event.message, workerId: event.workerId });
    });
    const handle = engine.submit(task('reports'));
    await expect(handle.result).resolves.toBe('reported');
    expect(progress).toEqual([
      { taskId: handle.id, fraction: 0.5, message: 'half', workerId: 'thread' },
      { taskId: handle.id, fraction: 1, message: undefined, workerId: 'thread' },
    ]);
    expect(lines).toContainEqual({ message: 'from the thread', details: { n: 1 } });
  });

  test("a pool wait shows in the wait-for graph as the thread task's own, and its lease is its own", async () => {
    engine = createEngine({ threads: 1, logger: false, resources: { a: 1, b: 1 } });
    const b = holder('b');
    await nextEvent(acquired(b.handle.id, 'b'));
    const locker = engine.submit(task('lockThroughGate'), { input: { first: 'a', gate: 'b', second: 'b' } });
    await nextEvent((event) => event.type === 'resource.waiting' && event.taskId === locker.id && event.resource === 'b');
    const { edges } = engine.waitForGraph();
    expect(edges).toContainEqual({ from: locker.id, to: 'b', kind: 'requests', units: 1 });
    expect(edges).toContainEqual({ from: 'a', to: locker.id, kind: 'holds', units: 1 });
    b.release();
    await expect(locker.result).resolves.toBe('locked both');
    await expect(b.handle.result).resolves.toBe('held');
  });

  test('an acquire the engine refuses rejects in the thread with its code', async () => {
    engine = createEngine({ threads: 1, logger: false, resources: { a: 1 } });
    const error = await errorOf(engine.submit(task('acquireUnknown')).result);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.cause).toMatchObject({ code: 'E_INVALID_OPTION' });
  });

  test('a lock-order deadlock between a thread task and a main-thread task is found and resolved', async () => {
    engine = createEngine({ threads: 1, logger: false, resources: { a: 1, b: 1 } });
    const detected = nextEvent((event) => event.type === 'deadlock.resolved');
    let mainHoldsB: () => void = () => undefined;
    const holdsB = new Promise<void>((resolve) => (mainHoldsB = resolve));
    let threadHoldsA: () => void = () => undefined;
    const holdsA = new Promise<void>((resolve) => (threadHoldsA = resolve));
    const main = engine.submit(
      async (ctx) => {
        const b = await ctx.acquire('b');
        mainHoldsB();
        await holdsA;
        const a = await ctx.acquire('a');
        a.release();
        b.release();
        return 'main done';
      },
      { name: 'main' },
    );
    await holdsB;
    // Submitted once main holds b, so it is the younger: the default policy's victim.
    const threaded = engine.submit(task('lockThroughGate'), { input: { first: 'a', gate: 'b', second: 'b' }, name: 'threaded' });
    await nextEvent(acquired(threaded.id, 'a'));
    threadHoldsA();
    await expect(detected).resolves.toMatchObject({ resolution: 'victim', victim: threaded.id });
    expect((await errorOf(threaded.result)).code).toBe('E_DEADLOCK');
    await expect(main.result).resolves.toBe('main done');
  });

  test('a lock-order deadlock between two thread tasks is found and resolved', async () => {
    engine = createEngine({ threads: 2, logger: false, resources: { a: 1, b: 1, gate: 1 } });
    const detected = nextEvent((event) => event.type === 'deadlock.resolved');
    const gate = holder('gate');
    await nextEvent(acquired(gate.handle.id, 'gate'));
    const first = engine.submit(task('lockThroughGate'), { input: { first: 'a', gate: 'gate', second: 'b' }, name: 'a then b' });
    const second = engine.submit(task('lockThroughGate'), { input: { first: 'b', gate: 'gate', second: 'a' }, name: 'b then a' });
    await Promise.all([nextEvent(acquired(first.id, 'a')), nextEvent(acquired(second.id, 'b'))]);
    gate.release();
    const resolved = await detected;
    expect(resolved).toMatchObject({ resolution: 'victim', victim: second.id });
    expect((await errorOf(second.result)).code).toBe('E_DEADLOCK');
    await expect(first.result).resolves.toBe('locked both');
  });

  test('thread-slot starvation: a thread task awaiting a queued thread task on the only thread is found (through @threads) and resolved', async () => {
    // The main worker's slots are free: only the thread's slot is short, which the graph must tell apart.
    engine = createEngine({ threads: 1, concurrency: 4, logger: false });
    const resolved = nextEvent((event) => event.type === 'deadlock.resolved');
    const parent = engine.submit(task('parent'), { input: 21, name: 'parent' });
    const report = await resolved;
    expect(report).toMatchObject({ resolution: 'victim', victim: parent.id });
    expect((report as { cycle: readonly string[] }).cycle).toContain('@threads');
    expect((report as { cycle: readonly string[] }).cycle).not.toContain('@workers');
    expect((await errorOf(parent.result)).code).toBe('E_DEADLOCK');
    expect(engine.deadlocks()).toHaveLength(1);
    // The child it submitted got the thread once the parent let go, and ran.
    await engine.onIdle();
    expect(engine.stats().workers.find((worker) => worker.id === 'thread')).toMatchObject({ tasksCompleted: 1, tasksFailed: 1 });
  });

  test('two threads: the same parent and child both run, nothing is reported', async () => {
    engine = createEngine({ threads: 2, logger: false });
    await expect(engine.submit(task('parent'), { input: 21 }).result).resolves.toEqual({ viaAwait: 42, viaResult: 42 });
    expect(engine.deadlocks()).toEqual([]);
  });

  test('submit and await of another thread task, from the thread', async () => {
    engine = createEngine({ threads: 2, logger: false });
    const started: Array<{ name: string; workerId: string }> = [];
    engine.events$.subscribe((event) => {
      if (event.type === 'task.started') started.push({ name: event.name, workerId: event.workerId });
    });
    const parent = engine.submit(task('parent'), { input: 21, name: 'parent' });
    await expect(parent.result).resolves.toEqual({ viaAwait: 42, viaResult: 42 });
    expect(started).toEqual([
      { name: 'parent', workerId: 'thread' },
      { name: 'child', workerId: 'thread' },
    ]);
  });
});
