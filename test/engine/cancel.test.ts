import type { MezanError } from '../../src';
import { deferred, rejectionOf, startEngine } from '../fixtures/engine-harness';
import { watchedSleep } from '../fixtures/watched-sleep';

/** An engine with one worker held by a 10 ms blocker, so that the next submissions stay queued. */
async function busyEngine() {
  const harness = startEngine({ concurrency: 1 });
  const blocker = harness.engine.submit((ctx) => ctx.sleep(10), { name: 'blocker' });
  await harness.clock.advanceBy(0);
  expect(blocker.status).toBe('running');
  return { ...harness, blocker };
}

describe('handle.cancel: a queued or waiting task', () => {
  it('settles a queued task at once with E_CANCELLED, returns true, and never calls its function', async () => {
    const { engine, clock, ofType } = await busyEngine();
    const fn = jest.fn(() => 'never');
    const handle = engine.submit(fn, { name: 'victim' });
    await clock.advanceBy(1);
    expect(handle.status).toBe('queued');

    expect(handle.cancel('no longer needed')).toBe(true);
    expect(handle.status).toBe('cancelled');
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    expect(error.details).toMatchObject({ taskId: handle.id, reason: 'no longer needed' });

    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect(ofType('task.cancelled')).toEqual([
      { type: 'task.cancelled', at: 1, taskId: handle.id, name: 'victim', attempt: 1, workerId: undefined, code: 'E_CANCELLED' },
    ]);
    expect(ofType('task.started').map((event) => event.taskId)).not.toContain(handle.id);
  });

  it('keeps an Error reason as the cause', async () => {
    const { engine } = await busyEngine();
    const handle = engine.submit(() => 'never');
    const reason = new Error('user pressed stop');
    handle.cancel(reason);
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    expect(error.cause).toBe(reason);
  });

  it('settles a waiting task at once and never calls it, even after its dependency completes', async () => {
    const { engine, clock } = await busyEngine();
    const dependency = engine.submit(() => 'dependency');
    const fn = jest.fn();
    const dependent = engine.submit(fn, { dependsOn: [dependency] });
    expect(dependent.status).toBe('waiting');
    expect(dependent.cancel()).toBe(true);
    expect(dependent.status).toBe('cancelled');
    await clock.runAll();
    await expect(dependency.result).resolves.toBe('dependency');
    expect(fn).not.toHaveBeenCalled();
    expect((await rejectionOf(dependent)).code).toBe('E_CANCELLED');
  });

  it('lets the other queued tasks run in order', async () => {
    const { engine, clock } = await busyEngine();
    const ran: string[] = [];
    const handles = ['a', 'b', 'c', 'd'].map((label) => engine.submit(() => void ran.push(label)));
    handles[1]!.cancel();
    handles[2]!.cancel();
    await clock.runAll();
    expect(ran).toEqual(['a', 'd']);
    expect(handles.map((handle) => handle.status)).toEqual(['completed', 'cancelled', 'cancelled', 'completed']);
  });

  it('never calls a task cancelled before its turn: with every slot taken it stays queued, however many instant tasks ran before', async () => {
    // There is no batching: the worker is handed only as many tasks as it has free slots, so after
    // many instant tasks the second of two tasks on one slot is still queued, not handed over.
    const { engine, clock, events } = startEngine({ concurrency: 1 });
    for (let index = 0; index < 40; index++) engine.submit(() => index);
    await clock.runAll();
    const mark = events.length;
    const first = engine.submit((ctx) => ctx.sleep(10));
    const fn = jest.fn();
    const second = engine.submit(fn);
    await clock.advanceBy(5);
    expect([first.status, second.status]).toEqual(['running', 'queued']);
    expect(engine.stats().workers).toMatchObject([{ id: 'main', state: 'busy', slots: 1, running: 1 }]);
    expect(second.cancel()).toBe(true);
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect(second.status).toBe('cancelled');
    expect((await rejectionOf(second)).code).toBe('E_CANCELLED');
    expect(first.status).toBe('completed');
    expect(events.slice(mark).filter((event) => event.type === 'task.cancelled')).toEqual([
      { type: 'task.cancelled', at: 5, taskId: second.id, name: second.id, attempt: 1, workerId: undefined, code: 'E_CANCELLED' },
    ]);
    const started = events.slice(mark).filter((event) => event.type === 'task.started');
    expect(started.map((event) => ('taskId' in event ? event.taskId : undefined))).toEqual([first.id]);
  });
});

describe('handle.cancel: a running task', () => {
  it('aborts ctx.signal with the E_CANCELLED error and rejects at once, though the function ignores it', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const handle = engine.submit((ctx) => {
      signal = ctx.signal;
      return gate.promise;
    });
    await clock.advanceBy(7);
    expect(handle.status).toBe('running');

    expect(handle.cancel('stop')).toBe(true);
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    expect(handle.status).toBe('cancelled');
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(error);
    expect(ofType('task.cancelled')).toEqual([
      { type: 'task.cancelled', at: 7, taskId: handle.id, name: handle.id, attempt: 1, workerId: 'main', code: 'E_CANCELLED' },
    ]);
    gate.resolve();
    await clock.runAll();
    expect(handle.status).toBe('cancelled');
  });

  it('makes ctx.sleep reject with the abort reason', async () => {
    const { engine, clock } = startEngine();
    const sleeper = watchedSleep(1000);
    const handle = engine.submit(sleeper.fn);
    await clock.advanceBy(100);
    handle.cancel();
    await clock.advanceBy(0);
    expect((sleeper.caught() as MezanError).code).toBe('E_CANCELLED');
    expect(handle.status).toBe('cancelled');
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps the worker taken until the cancelled function returns', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const gate = deferred();
    const stubborn = engine.submit(() => gate.promise);
    await clock.advanceBy(0);
    const next = engine.submit(() => 'next');
    stubborn.cancel();
    await clock.advanceBy(50);
    // The cancelled function has not returned: it keeps the only slot, and `running` counts it.
    expect(stubborn.status).toBe('cancelled');
    expect(engine.stats().workers).toEqual([
      expect.objectContaining({ id: 'main', state: 'busy', slots: 1, running: 1, tasksCancelled: 1, tasksCompleted: 0, attempts: 0 }),
    ]);
    expect(next.status).toBe('queued');
    gate.resolve();
    await clock.runAll();
    await expect(next.result).resolves.toBe('next');
    expect(engine.stats().workers).toEqual([
      expect.objectContaining({ id: 'main', state: 'idle', slots: 1, running: 0, tasksCancelled: 1, tasksCompleted: 1, attempts: 2, busyMs: 50 }),
    ]);
    expect(ofType('task.started').find((event) => event.taskId === next.id)?.at).toBe(50);
  });

  it('does not turn into completed when the cancelled function later returns a value', async () => {
    const { engine, clock } = startEngine();
    const gate = deferred<string>();
    const handle = engine.submit(() => gate.promise);
    await clock.advanceBy(0);
    handle.cancel();
    gate.resolve('too late');
    await clock.runAll();
    expect(handle.status).toBe('cancelled');
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    expect(engine.progress()).toMatchObject({ completed: 0, cancelled: 1 });
  });
});

describe('handle.cancel: a settled task', () => {
  it('returns false and changes nothing for a completed task', async () => {
    const { engine, clock, ofType } = startEngine();
    const handle = engine.submit(() => 'value');
    await clock.runAll();
    const eventCount = ofType('task.cancelled').length;
    expect(handle.cancel()).toBe(false);
    expect(handle.status).toBe('completed');
    await expect(handle.result).resolves.toBe('value');
    await clock.runAll();
    expect(ofType('task.cancelled')).toHaveLength(eventCount);
    expect(engine.progress()).toMatchObject({ completed: 1, cancelled: 0 });
  });

  it('returns false for a failed task and for a second cancel', async () => {
    const { engine, clock } = await busyEngine();
    const failing = engine.submit(() => {
      throw new Error('x');
    });
    const cancelled = engine.submit(() => 'never');
    expect(cancelled.cancel('first')).toBe(true);
    expect(cancelled.cancel('second')).toBe(false);
    await clock.runAll();
    expect(failing.cancel()).toBe(false);
    expect(failing.status).toBe('failed');
    expect((await rejectionOf(failing)).code).toBe('E_TASK_FAILED');
    expect((await rejectionOf(cancelled)).details['reason']).toBe('first');
    expect(engine.progress()).toMatchObject({ failed: 1, cancelled: 1 });
  });
});

describe('options.signal', () => {
  it('cancels a queued task when it aborts: never called, E_CANCELLED with the signal reason', async () => {
    const { engine, clock } = await busyEngine();
    const controller = new AbortController();
    const fn = jest.fn();
    const handle = engine.submit(fn, { signal: controller.signal });
    await clock.advanceBy(2);
    controller.abort('caller gave up');
    expect(handle.status).toBe('cancelled');
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    expect(error.details['reason']).toBe('caller gave up');
  });

  it('aborts ctx.signal of a running task when it aborts', async () => {
    const { engine, clock } = startEngine();
    const controller = new AbortController();
    let taskSignal: AbortSignal | undefined;
    const handle = engine.submit(
      async (ctx) => {
        taskSignal = ctx.signal;
        await ctx.sleep(100);
      },
      { signal: controller.signal },
    );
    await clock.advanceBy(40);
    controller.abort(new Error('enough'));
    await clock.advanceBy(0);
    expect(taskSignal!.aborted).toBe(true);
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    expect((error.cause as Error).message).toBe('enough');
  });

  it('cancels at once, without calling the function, when the signal is already aborted', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const controller = new AbortController();
    controller.abort('before submit');
    const fn = jest.fn(async () => 'ran');
    const handle = engine.submit(fn, { signal: controller.signal });
    expect(handle.status).toBe('cancelled');
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    expect(error.details['reason']).toBe('before submit');
  });

  it('changes nothing when it aborts after the task completed', async () => {
    const { engine, clock, ofType } = startEngine();
    const controller = new AbortController();
    const handle = engine.submit(() => 'done', { signal: controller.signal });
    await clock.runAll();
    controller.abort();
    await clock.runAll();
    expect(handle.status).toBe('completed');
    await expect(handle.result).resolves.toBe('done');
    expect(ofType('task.cancelled')).toEqual([]);
  });
});

describe('handle.cancel: timing', () => {
  it('cancels a task in the same tick as its submission without calling its function', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const syncFn = jest.fn(() => 'sync');
    const asyncFn = jest.fn(async () => 'async');
    const syncHandle = engine.submit(syncFn);
    const asyncHandle = engine.submit(asyncFn);
    expect(syncHandle.status).toBe('queued');
    expect(syncHandle.cancel()).toBe(true);
    expect(asyncHandle.cancel()).toBe(true);
    await clock.runAll();
    expect(syncFn).not.toHaveBeenCalled();
    expect(asyncFn).not.toHaveBeenCalled();
    expect(syncHandle.status).toBe('cancelled');
    expect(asyncHandle.status).toBe('cancelled');
    expect((await rejectionOf(syncHandle)).code).toBe('E_CANCELLED');
    expect((await rejectionOf(asyncHandle)).code).toBe('E_CANCELLED');
  });

  it('fails the dependents of a task cancelled in the tick they were all submitted, calling none of them', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const calls = jest.fn();
    const root = engine.submit(calls);
    const child = engine.submit(calls, { dependsOn: [root] });
    const grandchild = engine.submit(calls, { dependsOn: [child] });
    expect(root.cancel()).toBe(true);
    expect([root.status, child.status, grandchild.status]).toEqual(['cancelled', 'failed', 'failed']);
    await clock.runAll();
    expect(calls).not.toHaveBeenCalled();
    const error = await rejectionOf(child);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details).toMatchObject({ dependency: root.id, dependencyStatus: 'cancelled' });
    expect((await rejectionOf(grandchild)).code).toBe('E_DEPENDENCY_FAILED');
  });

  it('cancels only the dependent when it is cancelled in the tick it was submitted', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit(() => 'runs');
    const dependentFn = jest.fn();
    const dependent = engine.submit(dependentFn, { dependsOn: [dependency] });
    dependent.cancel();
    await clock.runAll();
    await expect(dependency.result).resolves.toBe('runs');
    expect(dependent.status).toBe('cancelled');
    expect(dependentFn).not.toHaveBeenCalled();
  });

  it('cancels during a retry delay: no further attempt, the retry timer is cleared', async () => {
    const { engine, clock, ofType } = startEngine();
    const fn = jest.fn(() => {
      throw new Error('flaky');
    });
    const handle = engine.submit(fn, { retries: { max: 3, delayMs: 100 } });
    await clock.advanceBy(50);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(ofType('task.retrying')).toHaveLength(1);
    expect(handle.status).toBe('queued');
    expect(clock.pendingTimers).toBe(1);

    expect(handle.cancel()).toBe(true);
    expect(handle.status).toBe('cancelled');
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceBy(1000);
    expect(fn).toHaveBeenCalledTimes(1);
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    expect(ofType('task.cancelled')).toEqual([
      { type: 'task.cancelled', at: 50, taskId: handle.id, name: handle.id, attempt: 2, workerId: undefined, code: 'E_CANCELLED' },
    ]);
  });
});
