import type { TaskHandle } from '../../src';
import { blockedEngine } from '../fixtures/blocked-engine';
import { rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';
import { failsFirstAttempt } from '../fixtures/fails-first-attempt';
import { submitEach } from '../fixtures/submit-each';

describe('handle.setPriority on a queued task', () => {
  it('moves a raised task ahead of the lower ones, behind those already queued at its new priority', async () => {
    const { engine, finish, startOrder } = await blockedEngine();
    const { a, d } = submitEach(engine, { a: { priority: 0 }, b: { priority: 5 }, c: { priority: 5 }, d: { priority: 0 } });
    expect(d.status).toBe('queued');
    expect(d.setPriority(5)).toBe(true);
    expect(d.status).toBe('queued');
    await finish();
    expect(startOrder()).toEqual(['blocker', 'b', 'c', 'd', 'a']);
    expect(a.status).toBe('completed');
  });

  it('moves a raised task ahead of everything when its new priority is the highest', async () => {
    const { engine, finish, startOrder } = await blockedEngine();
    const { c } = submitEach(engine, { a: {}, b: {}, c: {} });
    expect(c.setPriority(1)).toBe(true);
    await finish();
    expect(startOrder()).toEqual(['blocker', 'c', 'a', 'b']);
  });

  it('moves a lowered task behind the others already queued at its new priority', async () => {
    const { engine, clock, finish, startOrder } = await blockedEngine();
    const { a } = submitEach(engine, { a: { priority: 10 }, b: { priority: 5 }, c: { priority: 1 } });
    await clock.advanceBy(0);
    expect(a.setPriority(1)).toBe(true);
    await finish();
    expect(startOrder()).toEqual(['blocker', 'b', 'c', 'a']);
  });

  it('puts a queued task given its own priority again behind the others of that priority', async () => {
    const { engine, clock, finish, startOrder } = await blockedEngine();
    const { a } = submitEach(engine, { a: { priority: 3 }, b: { priority: 3 } });
    await clock.advanceBy(0);
    expect(a.setPriority(3)).toBe(true);
    await finish();
    expect(startOrder()).toEqual(['blocker', 'b', 'a']);
  });

  it('keeps the last of several changes, and runs the task once', async () => {
    const { engine, finish, startOrder } = await blockedEngine();
    const fn = jest.fn(() => 'a');
    const a = engine.submit(fn, { id: 'a' });
    submitEach(engine, { b: {}, c: { priority: -5 } });
    expect(a.setPriority(10)).toBe(true);
    expect(a.setPriority(0)).toBe(true);
    expect(a.setPriority(-10)).toBe(true);
    await finish();
    expect(startOrder()).toEqual(['blocker', 'b', 'c', 'a']);
    expect(fn).toHaveBeenCalledTimes(1);
    await expect(a.result).resolves.toBe('a');
  });

  it('takes effect on a task submitted in the same tick, before it reached the executor', async () => {
    const { engine, finish, startOrder } = await blockedEngine();
    const { c } = submitEach(engine, { a: {}, b: {}, c: {} });
    // No await since the submissions: they are still this tick's.
    expect(c.setPriority(2)).toBe(true);
    const { d } = submitEach(engine, { d: { priority: 1 } });
    await finish();
    expect(startOrder()).toEqual(['blocker', 'c', 'd', 'a', 'b']);
    expect(d.status).toBe('completed');
  });

  it('leaves the counts alone, and a reprioritized task can still be cancelled without ever running', async () => {
    const { engine, clock, finish, startOrder } = await blockedEngine();
    const fn = jest.fn();
    const a = engine.submit(fn, { id: 'a' });
    submitEach(engine, { b: {} });
    await clock.advanceBy(0);
    expect(engine.progress()).toMatchObject({ pending: 2, running: 1 });
    expect(a.setPriority(9)).toBe(true);
    await clock.advanceBy(0);
    expect(engine.progress()).toMatchObject({ pending: 2, running: 1 });
    expect(a.cancel()).toBe(true);
    await finish();
    expect(fn).not.toHaveBeenCalled();
    expect((await rejectionOf(a)).code).toBe('E_CANCELLED');
    expect(startOrder()).toEqual(['blocker', 'b']);
    expect(engine.progress()).toMatchObject({ completed: 2, cancelled: 1, pending: 0, running: 0 });
  });
});

describe('handle.setPriority on a task waiting for its dependencies', () => {
  /** Blocker running, `dep` queued (priority 50), `w` waiting on `dep`, then q1 and q2 queued at priority 5. */
  async function waitingSetup() {
    const harness = await blockedEngine();
    const { dep } = submitEach(harness.engine, { dep: { priority: 50 } });
    const { w } = submitEach(harness.engine, { w: { dependsOn: [dep] }, q1: { priority: 5 }, q2: { priority: 5 } });
    await harness.clock.advanceBy(0);
    return { ...harness, w };
  }

  it('runs it at its new priority once its dependencies complete', async () => {
    const { w, finish, startOrder, ofType } = await waitingSetup();
    expect(w.status).toBe('waiting');
    expect(w.setPriority(20)).toBe(true);
    expect(w.status).toBe('waiting');
    await finish();
    expect(startOrder()).toEqual(['blocker', 'dep', 'w', 'q1', 'q2']);
    // It joined the queue at the new priority.
    expect(ofType('task.queued').find((event) => event.taskId === 'w')?.priority).toBe(20);
  });

  it('without the change, it runs last (the control case)', async () => {
    const { finish, startOrder, ofType } = await waitingSetup();
    await finish();
    expect(startOrder()).toEqual(['blocker', 'dep', 'q1', 'q2', 'w']);
    expect(ofType('task.queued').find((event) => event.taskId === 'w')?.priority).toBe(0);
  });

  it('queues it behind the tasks already queued at its new priority when it becomes ready', async () => {
    const { w, finish, startOrder } = await waitingSetup();
    expect(w.setPriority(5)).toBe(true);
    await finish();
    expect(startOrder()).toEqual(['blocker', 'dep', 'q1', 'q2', 'w']);
  });

  it('does not keep it from failing when a dependency fails', async () => {
    const { engine, clock, finish } = await blockedEngine();
    const dep = engine.submit(
      () => {
        throw new Error('broken');
      },
      { id: 'dep' },
    );
    const fn = jest.fn();
    const w = engine.submit(fn, { id: 'w', dependsOn: [dep] });
    dep.result.catch(() => undefined);
    await clock.advanceBy(0);
    expect(w.setPriority(100)).toBe(true);
    await finish();
    expect(fn).not.toHaveBeenCalled();
    expect((await rejectionOf(w)).code).toBe('E_DEPENDENCY_FAILED');
  });
});

describe('handle.setPriority once the task has started or settled', () => {
  it('returns false for a running task, and nothing changes', async () => {
    const { engine, blocker, finish, startOrder, ofType } = await blockedEngine();
    submitEach(engine, { a: { priority: 1 } });
    expect(blocker.status).toBe('running');
    expect(blocker.setPriority(100)).toBe(false);
    expect(blocker.status).toBe('running');
    await finish();
    expect(blocker.status).toBe('completed');
    expect(startOrder()).toEqual(['blocker', 'a']);
    expect(ofType('task.queued').filter((event) => event.taskId === 'blocker')).toHaveLength(1);
  });

  it('returns false for a task that completed, failed, was cancelled or timed out', async () => {
    const { engine, clock } = startEngine({ concurrency: 4 });
    const completed = engine.submit(() => 'done');
    const failed = engine.submit(() => {
      throw new Error('no');
    });
    const cancelled = engine.submit(() => 'never');
    const timedOut = engine.submit((ctx) => ctx.sleep(100), { timeoutMs: 10 });
    for (const handle of [failed, cancelled, timedOut]) handle.result.catch(() => undefined);
    cancelled.cancel();
    await clock.runAll();
    const handles: Array<TaskHandle<unknown>> = [completed, failed, cancelled, timedOut];
    expect(handles.map((handle) => handle.status)).toEqual(['completed', 'failed', 'cancelled', 'timeout']);
    expect(handles.map((handle) => handle.setPriority(1))).toEqual([false, false, false, false]);
    expect(handles.map((handle) => handle.status)).toEqual(['completed', 'failed', 'cancelled', 'timeout']);
  });

  it('returns false for a task refused after shutdown began', async () => {
    const { engine, clock } = startEngine();
    const shutdown = engine.shutdown();
    const late = engine.submit(() => 'late');
    late.result.catch(() => undefined);
    expect(late.status).toBe('rejected');
    expect(late.setPriority(3)).toBe(false);
    await clock.runAll();
    await shutdown;
  });
});

describe('handle.setPriority: E_INVALID_OPTION', () => {
  it.each([[Number.NaN], [Infinity], [-Infinity], ['3'], [undefined], [null]])('%p throws, and the order is unchanged', async (value) => {
    const { engine, finish, startOrder } = await blockedEngine();
    const { b } = submitEach(engine, { a: { priority: 1 }, b: {} });
    const error = thrownBy(() => b.setPriority(value as number));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('priority');
    expect(b.status).toBe('queued');
    await finish();
    expect(startOrder()).toEqual(['blocker', 'a', 'b']);
  });

  it('throws for a running task too: the value is checked first', async () => {
    const { blocker, finish } = await blockedEngine();
    expect(thrownBy(() => blocker.setPriority(Number.NaN)).code).toBe('E_INVALID_OPTION');
    await finish();
  });
});

describe('regressions found by review', () => {
  it('setPriority during a retry delay (status queued, returns true) takes effect when the retry is queued', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const retried = engine.submit(failsFirstAttempt('first try'), { id: 'r', retries: { max: 1, delayMs: 10 } });
    await clock.advanceBy(0);
    engine.submit((ctx) => ctx.sleep(20), { id: 'hog', priority: 100 });
    submitEach(engine, { q1: { priority: 5 } });
    await clock.advanceBy(1);
    expect(retried.status).toBe('queued');
    expect(retried.setPriority(10)).toBe(true);
    await clock.runAll();

    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['r', 'hog', 'r', 'q1']);
  });

  it('setPriority in the submission tick orders the task as if submitted with that priority (and keeps its submission order)', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const { c } = submitEach(engine, { a: {}, b: {}, c: {} });
    expect(c.setPriority(10)).toBe(true);
    await clock.runAll();

    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['c', 'a', 'b']);
  });
});
