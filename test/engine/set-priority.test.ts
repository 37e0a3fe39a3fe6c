import type { TaskHandle } from '../../src';
import { deferred, rejectionOf, startEngine, thrownBy, type EngineHarness } from '../fixtures/engine-harness';

/** Concurrency 1 with a running blocker: whatever is submitted next queues until `release()`. */
async function blocked(): Promise<EngineHarness & { release(): Promise<void>; startOrder(): string[] }> {
  const harness = startEngine({ concurrency: 1 });
  const gate = deferred();
  harness.engine.submit(() => gate.promise, { id: 'blocker' });
  await harness.clock.advanceBy(0);
  return {
    ...harness,
    async release() {
      gate.resolve();
      await harness.clock.runAll();
    },
    startOrder: () => harness.ofType('task.started').map((event) => event.taskId),
  };
}

describe('handle.setPriority on a queued task', () => {
  it('moves a raised task ahead of the lower ones, behind those already queued at its new priority', async () => {
    const { engine, release, startOrder } = await blocked();
    const a = engine.submit(() => 'a', { id: 'a', priority: 0 });
    engine.submit(() => 'b', { id: 'b', priority: 5 });
    engine.submit(() => 'c', { id: 'c', priority: 5 });
    const d = engine.submit(() => 'd', { id: 'd', priority: 0 });
    expect(d.status).toBe('queued');
    expect(d.setPriority(5)).toBe(true);
    expect(d.status).toBe('queued');
    await release();
    expect(startOrder()).toEqual(['blocker', 'b', 'c', 'd', 'a']);
    expect(a.status).toBe('completed');
  });

  it('moves a raised task ahead of everything when its new priority is the highest', async () => {
    const { engine, release, startOrder } = await blocked();
    engine.submit(() => 'a', { id: 'a' });
    engine.submit(() => 'b', { id: 'b' });
    const c = engine.submit(() => 'c', { id: 'c' });
    expect(c.setPriority(1)).toBe(true);
    await release();
    expect(startOrder()).toEqual(['blocker', 'c', 'a', 'b']);
  });

  it('moves a lowered task behind the others already queued at its new priority', async () => {
    const { engine, clock, release, startOrder } = await blocked();
    const a = engine.submit(() => 'a', { id: 'a', priority: 10 });
    engine.submit(() => 'b', { id: 'b', priority: 5 });
    engine.submit(() => 'c', { id: 'c', priority: 1 });
    await clock.advanceBy(0);
    expect(a.setPriority(1)).toBe(true);
    await release();
    expect(startOrder()).toEqual(['blocker', 'b', 'c', 'a']);
  });

  it('puts a queued task given its own priority again behind the others of that priority', async () => {
    const { engine, clock, release, startOrder } = await blocked();
    const a = engine.submit(() => 'a', { id: 'a', priority: 3 });
    engine.submit(() => 'b', { id: 'b', priority: 3 });
    await clock.advanceBy(0);
    expect(a.setPriority(3)).toBe(true);
    await release();
    expect(startOrder()).toEqual(['blocker', 'b', 'a']);
  });

  it('keeps the last of several changes, and runs the task once', async () => {
    const { engine, release, startOrder } = await blocked();
    const fn = jest.fn(() => 'a');
    const a = engine.submit(fn, { id: 'a' });
    engine.submit(() => 'b', { id: 'b' });
    engine.submit(() => 'c', { id: 'c', priority: -5 });
    expect(a.setPriority(10)).toBe(true);
    expect(a.setPriority(0)).toBe(true);
    expect(a.setPriority(-10)).toBe(true);
    await release();
    expect(startOrder()).toEqual(['blocker', 'b', 'c', 'a']);
    expect(fn).toHaveBeenCalledTimes(1);
    await expect(a.result).resolves.toBe('a');
  });

  it('takes effect on a task submitted in the same tick, before it reached the executor', async () => {
    const { engine, release, startOrder } = await blocked();
    engine.submit(() => 'a', { id: 'a' });
    engine.submit(() => 'b', { id: 'b' });
    const c = engine.submit(() => 'c', { id: 'c' });
    // No await since the submissions: they are still this tick's.
    expect(c.setPriority(2)).toBe(true);
    const d = engine.submit(() => 'd', { id: 'd', priority: 1 });
    await release();
    expect(startOrder()).toEqual(['blocker', 'c', 'd', 'a', 'b']);
    expect(d.status).toBe('completed');
  });

  it('leaves the counts alone, and a reprioritized task can still be cancelled without ever running', async () => {
    const { engine, clock, release, startOrder } = await blocked();
    const fn = jest.fn();
    const a = engine.submit(fn, { id: 'a' });
    engine.submit(() => 'b', { id: 'b' });
    await clock.advanceBy(0);
    expect(engine.progress()).toMatchObject({ pending: 2, running: 1 });
    expect(a.setPriority(9)).toBe(true);
    await clock.advanceBy(0);
    expect(engine.progress()).toMatchObject({ pending: 2, running: 1 });
    expect(a.cancel()).toBe(true);
    await release();
    expect(fn).not.toHaveBeenCalled();
    expect((await rejectionOf(a)).code).toBe('E_CANCELLED');
    expect(startOrder()).toEqual(['blocker', 'b']);
    expect(engine.progress()).toMatchObject({ completed: 2, cancelled: 1, pending: 0, running: 0 });
  });
});

describe('handle.setPriority on a task waiting for its dependencies', () => {
  /** Blocker running, `dep` queued (priority 50), `w` waiting on `dep`, then q1 and q2 queued at priority 5. */
  async function waitingSetup() {
    const harness = await blocked();
    const { engine } = harness;
    const dep = engine.submit(() => 'dep', { id: 'dep', priority: 50 });
    const w = engine.submit(() => 'w', { id: 'w', dependsOn: [dep] });
    engine.submit(() => 'q1', { id: 'q1', priority: 5 });
    engine.submit(() => 'q2', { id: 'q2', priority: 5 });
    await harness.clock.advanceBy(0);
    return { ...harness, w };
  }

  it('runs it at its new priority once its dependencies complete', async () => {
    const { w, release, startOrder, ofType } = await waitingSetup();
    expect(w.status).toBe('waiting');
    expect(w.setPriority(20)).toBe(true);
    expect(w.status).toBe('waiting');
    await release();
    expect(startOrder()).toEqual(['blocker', 'dep', 'w', 'q1', 'q2']);
    // It joined the queue at the new priority.
    expect(ofType('task.queued').find((event) => event.taskId === 'w')?.priority).toBe(20);
  });

  it('without the change, it runs last (the control case)', async () => {
    const { release, startOrder, ofType } = await waitingSetup();
    await release();
    expect(startOrder()).toEqual(['blocker', 'dep', 'q1', 'q2', 'w']);
    expect(ofType('task.queued').find((event) => event.taskId === 'w')?.priority).toBe(0);
  });

  it('queues it behind the tasks already queued at its new priority when it becomes ready', async () => {
    const { w, release, startOrder } = await waitingSetup();
    expect(w.setPriority(5)).toBe(true);
    await release();
    expect(startOrder()).toEqual(['blocker', 'dep', 'q1', 'q2', 'w']);
  });

  it('does not keep it from failing when a dependency fails', async () => {
    const { engine, clock, release } = await blocked();
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
    await release();
    expect(fn).not.toHaveBeenCalled();
    expect((await rejectionOf(w)).code).toBe('E_DEPENDENCY_FAILED');
  });
});

describe('handle.setPriority once the task has started or settled', () => {
  it('returns false for a running task, and nothing changes', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const gate = deferred();
    const running = engine.submit(() => gate.promise, { id: 'running' });
    await clock.advanceBy(0);
    engine.submit(() => 'a', { id: 'a', priority: 1 });
    expect(running.status).toBe('running');
    expect(running.setPriority(100)).toBe(false);
    expect(running.status).toBe('running');
    gate.resolve();
    await clock.runAll();
    expect(running.status).toBe('completed');
    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['running', 'a']);
    expect(ofType('task.queued').filter((event) => event.taskId === 'running')).toHaveLength(1);
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
    const { engine, release, startOrder } = await blocked();
    engine.submit(() => 'a', { id: 'a', priority: 1 });
    const b = engine.submit(() => 'b', { id: 'b' });
    const error = thrownBy(() => b.setPriority(value as number));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('priority');
    expect(b.status).toBe('queued');
    await release();
    expect(startOrder()).toEqual(['blocker', 'a', 'b']);
  });

  it('throws for a running task too: the value is checked first', async () => {
    const { engine, clock } = startEngine();
    const gate = deferred();
    const running = engine.submit(() => gate.promise);
    await clock.advanceBy(0);
    expect(thrownBy(() => running.setPriority(Number.NaN)).code).toBe('E_INVALID_OPTION');
    gate.resolve();
    await clock.runAll();
  });
});

describe('regressions found by review', () => {
  it('setPriority during a retry delay (status queued, returns true) takes effect when the retry is queued', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const retried = engine.submit(
      (ctx) => {
        if (ctx.attempt === 1) throw new Error('first try');
        return ctx.attempt;
      },
      { id: 'r', retries: { max: 1, delayMs: 10 } },
    );
    await clock.advanceBy(0);
    engine.submit((ctx) => ctx.sleep(20), { id: 'hog', priority: 100 });
    engine.submit(() => 'q1', { id: 'q1', priority: 5 });
    await clock.advanceBy(1);
    expect(retried.status).toBe('queued');
    expect(retried.setPriority(10)).toBe(true);
    await clock.runAll();

    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['r', 'hog', 'r', 'q1']);
  });

  it('setPriority in the submission tick orders the task as if submitted with that priority (and keeps its submission order)', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    engine.submit(() => 'a', { id: 'a' });
    engine.submit(() => 'b', { id: 'b' });
    const c = engine.submit(() => 'c', { id: 'c' });
    expect(c.setPriority(10)).toBe(true);
    await clock.runAll();

    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['c', 'a', 'b']);
  });
});
