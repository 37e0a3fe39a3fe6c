import { VirtualClock, type TaskHandle, type TaskStatus } from '../../src';
import { block, blockedEngine, type BlockedEngine } from '../fixtures/blocked-engine';
import { deferred, rejectionOf, startEngine } from '../fixtures/engine-harness';
import { failsFirstAttempt } from '../fixtures/fails-first-attempt';

/** Advances the clock to 1 ms short of `ms` from now, where `handle` must still be `before`, then to `ms`, where it must have timed out. */
async function expectTimeoutAfter(clock: VirtualClock, handle: TaskHandle<unknown>, ms: number, before: TaskStatus = 'queued'): Promise<void> {
  await clock.advanceBy(ms - 1);
  expect(handle.status).toBe(before);
  await clock.advanceBy(1);
  expect(handle.status).toBe('timeout');
}

describe('queueTimeoutMs: a queued task', () => {
  it('ends timeout with E_QUEUE_TIMEOUT exactly at its deadline, its function never called', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const fn = jest.fn(() => 'never');
    const handle = engine.submit(fn, { id: 'q', name: 'queued one', queueTimeoutMs: 50 });
    await expectTimeoutAfter(clock, handle, 50);
    expect(handle.isSettled).toBe(true);
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_QUEUE_TIMEOUT');
    expect(error.details).toMatchObject({ taskId: 'q', queueTimeoutMs: 50 });
    expect(ofType('task.timeout')).toEqual([
      { type: 'task.timeout', at: 50, taskId: 'q', name: 'queued one', attempt: 1, workerId: undefined, durationMs: 0, code: 'E_QUEUE_TIMEOUT' },
    ]);
    await finish();
    expect(fn).not.toHaveBeenCalled();
    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['blocker']);
    expect(engine.progress()).toMatchObject({ timedOut: 1, completed: 1, pending: 0, running: 0 });
  });

  it('counts from the submission, not from the start of the engine', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    await clock.advanceBy(30);
    const handle = engine.submit(() => 'never', { queueTimeoutMs: 20 });
    handle.result.catch(() => undefined);
    await expectTimeoutAfter(clock, handle, 20);
    expect(ofType('task.timeout').map((event) => event.at)).toEqual([50]);
    await finish();
  });

  it('frees its place: the task queued behind it runs next', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const expired = engine.submit(() => 'never', { id: 'expired', priority: 5, queueTimeoutMs: 10 });
    expired.result.catch(() => undefined);
    const next = engine.submit(() => 'next', { id: 'next' });
    await clock.advanceBy(20);
    await finish();
    await expect(next.result).resolves.toBe('next');
    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['blocker', 'next']);
  });

  it('does not affect a task that started in time, however long it then runs', async () => {
    const { engine, clock, ofType, release } = await blockedEngine();
    const handle = engine.submit((ctx) => ctx.sleep(100).then(() => 'ran'), { queueTimeoutMs: 50 });
    await clock.advanceBy(40);
    release();
    await clock.advanceBy(0);
    expect(handle.status).toBe('running');
    await clock.advanceBy(100);
    await expect(handle.result).resolves.toBe('ran');
    expect(ofType('task.timeout')).toEqual([]);
    expect(ofType('task.completed').find((event) => event.taskId === handle.id)?.at).toBe(140);
  });

  it('does not apply to the retries of a task that started in time, even when they wait long', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const handle = engine.submit(failsFirstAttempt('first try fails'), { id: 'flaky', queueTimeoutMs: 10, retries: { max: 1, delayMs: 100 } });
    await clock.advanceBy(0);
    // The retry is due at 100, queued behind this until 300.
    const gate = deferred();
    engine.submit(() => gate.promise, { id: 'hog', priority: 9 });
    await clock.advanceBy(300);
    expect(handle.status).toBe('queued');
    gate.resolve();
    await clock.runAll();
    await expect(handle.result).resolves.toBe(2);
    expect(ofType('task.timeout')).toEqual([]);
  });

  it('with queueTimeoutMs 0, runs on a free worker', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const handle = engine.submit(() => 'at once', { queueTimeoutMs: 0 });
    await clock.runAll();
    await expect(handle.result).resolves.toBe('at once');
    expect(ofType('task.timeout')).toEqual([]);
  });

  it('with queueTimeoutMs 0, ends at the same instant when no worker is free', async () => {
    const { engine, clock, finish } = await blockedEngine();
    await clock.advanceBy(7);
    const fn = jest.fn();
    const handle = engine.submit(fn, { queueTimeoutMs: 0 });
    await clock.advanceBy(0);
    expect(handle.status).toBe('timeout');
    expect(clock.now()).toBe(7);
    expect((await rejectionOf(handle)).code).toBe('E_QUEUE_TIMEOUT');
    await finish();
    expect(fn).not.toHaveBeenCalled();
  });

  it('gives each task its own deadline', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const handles = [30, 10, 20].map((queueTimeoutMs) => engine.submit(() => 'never', { id: `t${queueTimeoutMs}`, queueTimeoutMs }));
    for (const handle of handles) handle.result.catch(() => undefined);
    const patient = engine.submit(() => 'patient', { id: 'patient' });
    await clock.advanceBy(100);
    expect(ofType('task.timeout').map((event) => [event.taskId, event.at])).toEqual([
      ['t10', 10],
      ['t20', 20],
      ['t30', 30],
    ]);
    expect(patient.status).toBe('queued');
    await finish();
    await expect(patient.result).resolves.toBe('patient');
  });
});

/** A clock whose timers fire half a millisecond early, as Node's may against Date.now(). */
class EarlyTimerClock extends VirtualClock {
  override setTimeout(fn: () => void, ms: number): number {
    return super.setTimeout(fn, ms >= 1 ? ms - 0.5 : ms);
  }
}

describe('queueTimeoutMs: a timer that fires before the deadline', () => {
  it('is armed again for the rest, and the task still ends E_QUEUE_TIMEOUT at its deadline (it was left queued for ever)', async () => {
    const clock = new EarlyTimerClock();
    const { engine, finish } = await blockedEngine({ clock });
    const handle = engine.submit(() => 'never', { queueTimeoutMs: 50 });
    handle.result.catch(() => undefined);
    await clock.advanceBy(49.5);
    expect(handle.status).toBe('queued');
    await clock.advanceBy(0.5);
    expect(handle.status).toBe('timeout');
    expect((await rejectionOf(handle)).code).toBe('E_QUEUE_TIMEOUT');
    await finish();
  });
});

describe('queueTimeoutMs: a task waiting for its dependencies', () => {
  it('ends timeout with E_QUEUE_TIMEOUT while still waiting, and is not run when the dependency completes', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(100), { id: 'dep' });
    const fn = jest.fn();
    const waiting = engine.submit(fn, { id: 'w', dependsOn: [dependency], queueTimeoutMs: 30 });
    await expectTimeoutAfter(clock, waiting, 30, 'waiting');
    expect((await rejectionOf(waiting)).code).toBe('E_QUEUE_TIMEOUT');
    expect(ofType('task.timeout')).toEqual([
      { type: 'task.timeout', at: 30, taskId: 'w', name: 'w', attempt: 1, workerId: undefined, durationMs: 0, code: 'E_QUEUE_TIMEOUT' },
    ]);
    await clock.runAll();
    expect(dependency.status).toBe('completed');
    expect(waiting.status).toBe('timeout');
    expect(fn).not.toHaveBeenCalled();
    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['dep']);
  });

  it('fails its plain dependants with E_DEPENDENCY_FAILED naming the timeout', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(100));
    const waiting = engine.submit(() => 'never', { id: 'w', dependsOn: [dependency], queueTimeoutMs: 30 });
    waiting.result.catch(() => undefined);
    const fn = jest.fn();
    const dependant = engine.submit(fn, { id: 'after-w', dependsOn: [waiting] });
    await clock.advanceBy(30);
    expect(dependant.status).toBe('failed');
    const error = await rejectionOf(dependant);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details).toMatchObject({ dependency: 'w', dependencyStatus: 'timeout' });
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
  });

  it('counts the time waiting and the time queued together', async () => {
    // The blocker holds one slot.
    const { engine, clock, ofType, finish } = await blockedEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(20), { id: 'dep' });
    await clock.advanceBy(0);
    // Takes the other slot as soon as `dep` frees it.
    engine.submit((ctx) => ctx.sleep(100), { id: 'hog', priority: 100 });
    const fn = jest.fn();
    const waiting = engine.submit(fn, { id: 'w', dependsOn: [dependency], queueTimeoutMs: 50 });
    waiting.result.catch(() => undefined);
    await clock.advanceBy(20);
    expect(waiting.status).toBe('queued');
    await expectTimeoutAfter(clock, waiting, 30);
    expect(ofType('task.timeout').map((event) => [event.taskId, event.at, event.code])).toEqual([['w', 50, 'E_QUEUE_TIMEOUT']]);
    await finish();
    expect(fn).not.toHaveBeenCalled();
  });

  it('does not apply once the task started after its dependencies', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(20));
    const waiting = engine.submit((ctx) => ctx.sleep(100).then(() => 'late but fine'), { dependsOn: [dependency], queueTimeoutMs: 30 });
    await clock.runAll();
    await expect(waiting.result).resolves.toBe('late but fine');
    expect(ofType('task.timeout')).toEqual([]);
  });

  it('with queueTimeoutMs 0, ends at once a task that must wait for a dependency', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(10));
    const fn = jest.fn();
    const waiting = engine.submit(fn, { dependsOn: [dependency], queueTimeoutMs: 0 });
    await clock.advanceBy(0);
    expect(waiting.status).toBe('timeout');
    expect((await rejectionOf(waiting)).code).toBe('E_QUEUE_TIMEOUT');
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('queueTimeoutMs and cancellation', () => {
  it('a queued task cancelled before its deadline ends cancelled, and never reports a timeout', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const handle = engine.submit(() => 'never', { id: 'q', queueTimeoutMs: 50 });
    await clock.advanceBy(10);
    expect(handle.cancel()).toBe(true);
    await clock.advanceBy(100);
    expect(handle.status).toBe('cancelled');
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    expect(ofType('task.timeout')).toEqual([]);
    expect(ofType('task.cancelled').map((event) => [event.taskId, event.at])).toEqual([['q', 10]]);
    await finish();
    expect(engine.progress()).toMatchObject({ timedOut: 0, cancelled: 1 });
  });

  it('a waiting task cancelled before its deadline never reports a timeout either', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(100));
    const handle = engine.submit(() => 'never', { dependsOn: [dependency], queueTimeoutMs: 50 });
    await clock.advanceBy(10);
    handle.cancel();
    await clock.runAll();
    expect(handle.status).toBe('cancelled');
    expect(ofType('task.timeout')).toEqual([]);
  });

  it('a task cancelled in the tick it was submitted never reports a timeout', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const handle = engine.submit(() => 'never', { queueTimeoutMs: 5 });
    handle.cancel();
    await clock.advanceBy(50);
    expect(handle.status).toBe('cancelled');
    expect(ofType('task.timeout')).toEqual([]);
    await finish();
  });

  it('a task cancelled by its signal before its deadline never reports a timeout', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const controller = new AbortController();
    const handle = engine.submit(() => 'never', { queueTimeoutMs: 50, signal: controller.signal });
    await clock.advanceBy(20);
    controller.abort('changed my mind');
    await clock.advanceBy(100);
    expect(handle.status).toBe('cancelled');
    expect((await rejectionOf(handle)).details['reason']).toBe('changed my mind');
    expect(ofType('task.timeout')).toEqual([]);
    await finish();
  });

  it('cancelling a task that already timed out in the queue changes nothing', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const handle = engine.submit(() => 'never', { queueTimeoutMs: 10 });
    handle.result.catch(() => undefined);
    await clock.advanceBy(10);
    expect(handle.cancel()).toBe(false);
    expect(handle.status).toBe('timeout');
    expect(ofType('task.cancelled')).toEqual([]);
    await finish();
  });
});

describe('queueTimeoutMs and a reused id', () => {
  /** A blocked engine where a first task `x` (deadline 100) was cancelled at 10; the clock at 20. */
  async function afterCancelledX(): Promise<BlockedEngine> {
    const harness = await blockedEngine();
    const first = harness.engine.submit(() => 'first', { id: 'x', queueTimeoutMs: 100 });
    await harness.clock.advanceBy(10);
    first.cancel();
    await harness.clock.advanceBy(10);
    return harness;
  }

  /** A blocked engine where a first task `x` timed out in the queue at 10, where the clock is. */
  async function afterTimedOutX(): Promise<BlockedEngine> {
    const harness = await blockedEngine();
    const first = harness.engine.submit(() => 'first', { id: 'x', queueTimeoutMs: 10 });
    first.result.catch(() => undefined);
    await harness.clock.advanceBy(10);
    expect(first.status).toBe('timeout');
    return harness;
  }

  /** A first task `x` (deadline 30) started at once and completed; then the engine is blocked and the clock advanced by `ms`. */
  async function afterStartedX(ms: number): Promise<BlockedEngine> {
    const harness = startEngine({ concurrency: 1 });
    const first = harness.engine.submit(() => 'first', { id: 'x', queueTimeoutMs: 30 });
    await harness.clock.advanceBy(0);
    await expect(first.result).resolves.toBe('first');
    const blocked = await block(harness);
    await blocked.clock.advanceBy(ms);
    return blocked;
  }

  it.each<[string, () => Promise<BlockedEngine>, number]>([
    ['the deadline of a cancelled task does not expire a later task with its id', afterCancelledX, 200],
    ['the deadline of a task that started at once does not expire a later task with its id', () => afterStartedX(0), 100],
  ])('%s', async (_title, setUp, waitMs) => {
    const { engine, clock, ofType, finish } = await setUp();
    const second = engine.submit(() => 'second', { id: 'x' });
    await clock.advanceBy(waitMs);
    expect(second.status).toBe('queued');
    await finish();
    await expect(second.result).resolves.toBe('second');
    expect(ofType('task.timeout')).toEqual([]);
  });

  it.each<[string, () => Promise<BlockedEngine>, number, Array<[string, number]>]>([
    ['the deadline of a cancelled task does not cut short the later deadline of a task with its id', afterCancelledX, 150, [['x', 170]]],
    [
      'the deadline of a task that timed out in the queue does not expire the next task with its id early',
      afterTimedOutX,
      40,
      [
        ['x', 10],
        ['x', 50],
      ],
    ],
    [
      'the deadline of a task that completed after starting at once does not cut short a later task with its id',
      () => afterStartedX(10),
      50,
      [['x', 60]],
    ],
  ])('%s', async (_title, setUp, queueTimeoutMs, timeouts) => {
    const { engine, clock, ofType, finish } = await setUp();
    const second = engine.submit(() => 'second', { id: 'x', queueTimeoutMs });
    second.result.catch(() => undefined);
    await expectTimeoutAfter(clock, second, queueTimeoutMs);
    expect(ofType('task.timeout').map((event) => [event.taskId, event.at])).toEqual(timeouts);
    await finish();
  });
});

describe('queueTimeoutMs and shutdown', () => {
  it("while draining with drain: 'run', a task still queued at its deadline ends timeout, and the report counts it", async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const fn = jest.fn();
    const handle = engine.submit(fn, { id: 'q', queueTimeoutMs: 50 });
    handle.result.catch(() => undefined);
    await clock.advanceBy(10);
    const shutdown = engine.shutdown({ drain: 'run' });
    await clock.advanceBy(40);
    expect(handle.status).toBe('timeout');
    expect(ofType('task.timeout').map((event) => [event.taskId, event.at, event.code])).toEqual([['q', 50, 'E_QUEUE_TIMEOUT']]);
    await finish();
    const report = await shutdown;
    expect(report).toMatchObject({ submitted: 2, completed: 1, timedOut: 1, cancelled: 0, lost: 0 });
    expect(fn).not.toHaveBeenCalled();
    expect(clock.pendingTimers).toBe(0);
  });

  it("with drain: 'cancel', a queued task ends cancelled (E_SHUTDOWN) and never reports a timeout", async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const handle = engine.submit(() => 'never', { id: 'q', queueTimeoutMs: 50 });
    const waiting = engine.submit(() => 'never', { id: 'w', dependsOn: [handle], queueTimeoutMs: 50 });
    await clock.advanceBy(10);
    const shutdown = engine.shutdown({ drain: 'cancel' });
    await clock.advanceBy(0);
    expect([handle.status, waiting.status]).toEqual(['cancelled', 'cancelled']);
    expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
    expect((await rejectionOf(waiting)).code).toBe('E_SHUTDOWN');
    await clock.advanceBy(100);
    await finish();
    const report = await shutdown;
    expect(ofType('task.timeout')).toEqual([]);
    expect(report).toMatchObject({ timedOut: 0, cancelled: 2, completed: 1, lost: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a task queued when the engine stops with force leaves no deadline behind', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const handle = engine.submit(() => 'never', { queueTimeoutMs: 500 });
    handle.result.catch(() => undefined);
    await clock.advanceBy(10);
    const shutdown = engine.shutdown({ force: true });
    await finish();
    await shutdown;
    expect(handle.status).toBe('cancelled');
    expect(ofType('task.timeout')).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.now()).toBeLessThan(500);
  });

  it('a task submitted after shutdown began is rejected, never timed out', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const shutdown = engine.shutdown();
    const late = engine.submit(() => 'late', { queueTimeoutMs: 5 });
    expect((await rejectionOf(late)).code).toBe('E_SHUTDOWN');
    await clock.advanceBy(50);
    await finish();
    await shutdown;
    expect(late.status).toBe('rejected');
    expect(ofType('task.timeout')).toEqual([]);
  });
});

describe('queueTimeoutMs: a child task awaited by its parent', () => {
  it("rejects the parent's ctx.await with the child's E_QUEUE_TIMEOUT, and the wait leaves the graph", async () => {
    const { engine, clock, ofType, finish } = await blockedEngine({ concurrency: 2 });
    const childFn = jest.fn();
    const parent = engine.submit(
      async (ctx) => {
        const child = ctx.submit(childFn, { id: 'child', queueTimeoutMs: 10 });
        try {
          await ctx.await(child);
          return 'child ran';
        } catch (error) {
          return [(error as { code: string }).code, clock.now()];
        }
      },
      { id: 'parent' },
    );
    await clock.advanceBy(5);
    expect(engine.waitForGraph().edges.filter((edge) => edge.kind === 'awaits')).toEqual([{ from: 'parent', to: 'child', kind: 'awaits' }]);
    await clock.advanceBy(5);
    await expect(parent.result).resolves.toEqual(['E_QUEUE_TIMEOUT', 10]);
    expect(engine.waitForGraph().edges.filter((edge) => edge.kind === 'awaits')).toEqual([]);
    expect(ofType('task.timeout').map((event) => [event.taskId, event.code])).toEqual([['child', 'E_QUEUE_TIMEOUT']]);
    await finish();
    expect(childFn).not.toHaveBeenCalled();
  });
});

describe('queueTimeoutMs: valid values', () => {
  it('accepts 2^31 - 1 ms, the longest timer there is', async () => {
    const { engine, clock, release } = await blockedEngine();
    const handle = engine.submit(() => 'patient', { queueTimeoutMs: 2 ** 31 - 1 });
    await clock.advanceBy(1_000_000);
    expect(handle.status).toBe('queued');
    release();
    await clock.advanceBy(0);
    await expect(handle.result).resolves.toBe('patient');
  });

  it('names the node of a graph with a bad queueTimeoutMs, and submits nothing', async () => {
    const { engine, clock } = startEngine();
    const fn = jest.fn();
    let caught: unknown;
    try {
      engine.submitGraph({ ok: { run: fn }, bad: { run: fn, queueTimeoutMs: -5 } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'graph.bad.queueTimeoutMs', received: -5 } });
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect(engine.progress().total).toBe(0);
  });

  it('names the value received for a single task', async () => {
    const { engine } = startEngine();
    let caught: unknown;
    try {
      engine.submit(() => 'x', { queueTimeoutMs: 2 ** 31 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'queueTimeoutMs', received: 2 ** 31 } });
  });
});

describe('regressions found by review', () => {
  it('a task that starts at once leaves no queue-deadline timer behind', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit((ctx) => ctx.sleep(5), { queueTimeoutMs: 1000 });
    await clock.runAll();
    await handle.result;
    expect(clock.now()).toBe(5);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a task failed at admission by a settled dependency leaves no queue-deadline timer behind', async () => {
    const { engine, clock } = startEngine();
    const failed = engine.submit(() => {
      throw new Error('x');
    });
    failed.result.catch(() => undefined);
    await clock.runAll();
    const dependant = engine.submit(() => 'never', { dependsOn: [failed], queueTimeoutMs: 1000 });
    await clock.advanceBy(0);
    expect((await rejectionOf(dependant)).code).toBe('E_DEPENDENCY_FAILED');
    expect(clock.pendingTimers).toBe(0);
  });
});
