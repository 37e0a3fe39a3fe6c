import type { TaskContext } from '../../src';
import { rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';

/** A task that sleeps `ms` on the engine's clock and returns its attempt number. */
const sleeper =
  (ms: number) =>
  async (ctx: TaskContext): Promise<number> => {
    await ctx.sleep(ms);
    return ctx.attempt;
  };

describe('worker supervision', () => {
  it('fails the running attempt of a crashed worker with E_WORKER_CRASHED, aborts its signal, and retries it', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const reasons: unknown[] = [];
    const handle = engine.submit(
      async (ctx) => {
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        await ctx.sleep(100);
        return ctx.attempt;
      },
      { id: 'job', retries: { max: 1, delayMs: 10 } },
    );
    await clock.advanceBy(20);
    const [started] = ofType('task.started');
    const workerId = started!.workerId;
    expect(workerId).toBe('main');

    engine.inject({ type: 'worker.crash', workerId });
    await clock.advanceBy(0);
    expect(reasons).toEqual([expect.objectContaining({ code: 'E_WORKER_CRASHED' })]);
    expect(ofType('task.retrying')).toEqual([
      expect.objectContaining({ taskId: 'job', attempt: 1, workerId, code: 'E_WORKER_CRASHED', delayMs: 10 }),
    ]);
    expect(ofType('worker.crashed')).toEqual([{ type: 'worker.crashed', at: 20, workerId }]);
    expect(ofType('worker.restarted')).toEqual([{ type: 'worker.restarted', at: 20, workerId, restartsInWindow: 1 }]);

    await clock.runAll();
    await expect(handle.result).resolves.toBe(2);
    expect(handle.status).toBe('completed');
    expect(ofType('task.started').map((event) => [event.attempt, event.at])).toEqual([
      [1, 0],
      [2, 30],
    ]);
    expect(clock.now()).toBe(130);
  });

  it('fails the task (status failed, E_WORKER_CRASHED) when it has no retry left', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const handle = engine.submit(sleeper(100), { id: 'job' });
    const after = engine.submit(sleeper(10), { id: 'after' });
    await clock.advanceBy(50);
    expect(after.status).toBe('queued');
    engine.inject({ type: 'worker.crash', workerId: 'main' });
    await clock.runAll();
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_WORKER_CRASHED');
    expect(error.details['workerId']).toBe('main');
    expect(handle.status).toBe('failed');
    expect(ofType('task.failed')).toEqual([expect.objectContaining({ taskId: 'job', workerId: 'main', code: 'E_WORKER_CRASHED' })]);
    // The restarted worker takes the next task.
    await expect(after.result).resolves.toBe(1);
    expect(ofType('task.started').find((event) => event.taskId === 'after')).toMatchObject({ workerId: 'main', at: 50 });
  });

  it('fails every task running on main when it crashes, each through its own retry policy; queued tasks wait for the restart', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 3 });
    const reasons: Record<string, unknown> = {};
    const watched =
      (ms: number) =>
      async (ctx: TaskContext): Promise<number> => {
        ctx.signal.addEventListener('abort', () => (reasons[`${ctx.id}#${ctx.attempt}`] = ctx.signal.reason));
        await ctx.sleep(ms);
        return ctx.attempt;
      };
    const retried = engine.submit(watched(100), { id: 'retried', retries: { max: 1, delayMs: 10 } });
    const doomed = engine.submit(watched(100), { id: 'doomed' });
    const again = engine.submit(watched(100), { id: 'again', retries: 1 });
    const queued = engine.submit(watched(5), { id: 'queued' });
    doomed.result.catch(() => undefined);
    await clock.advanceBy(20);
    expect([retried.status, doomed.status, again.status, queued.status]).toEqual(['running', 'running', 'running', 'queued']);
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 3, running: 3 })]);

    engine.inject({ type: 'worker.crash', workerId: 'main' });
    await clock.advanceBy(0);
    // One crash, one restart, and every function that was running on main had its signal aborted.
    expect(ofType('worker.crashed')).toEqual([{ type: 'worker.crashed', at: 20, workerId: 'main' }]);
    expect(ofType('worker.restarted')).toEqual([{ type: 'worker.restarted', at: 20, workerId: 'main', restartsInWindow: 1 }]);
    expect(Object.keys(reasons).sort()).toEqual(['again#1', 'doomed#1', 'retried#1']);
    for (const reason of Object.values(reasons)) expect(reason).toMatchObject({ code: 'E_WORKER_CRASHED' });
    expect(ofType('task.retrying').map((event) => [event.taskId, event.attempt, event.workerId, event.code, event.delayMs])).toEqual([
      ['retried', 1, 'main', 'E_WORKER_CRASHED', 10],
      ['again', 1, 'main', 'E_WORKER_CRASHED', 0],
    ]);
    expect(ofType('task.failed').map((event) => [event.taskId, event.attempt, event.workerId, event.code])).toEqual([
      ['doomed', 1, 'main', 'E_WORKER_CRASHED'],
    ]);
    expect(doomed.status).toBe('failed');
    expect((await rejectionOf(doomed)).code).toBe('E_WORKER_CRASHED');

    await clock.runAll();
    await expect(retried.result).resolves.toBe(2);
    await expect(again.result).resolves.toBe(2);
    await expect(queued.result).resolves.toBe(1);
    // The restarted main took the queued task and the immediate retry at once, the delayed retry 10 ms later.
    expect(ofType('task.started').map((event) => [event.taskId, event.attempt, event.at])).toEqual([
      ['retried', 1, 0],
      ['doomed', 1, 0],
      ['again', 1, 0],
      ['queued', 1, 20],
      ['again', 2, 20],
      ['retried', 2, 30],
    ]);
    expect(clock.now()).toBe(130);
    expect(engine.progress()).toMatchObject({ completed: 3, failed: 1, running: 0, pending: 0 });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'idle', slots: 3, running: 0, tasksCompleted: 3 })]);
  });

  it('restarts main under the same id with the same slots, and its statistics carry on: its completions equal progress().completed', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const handles = Array.from({ length: 8 }, (_, index) => engine.submit(sleeper(10), { id: `t${index}`, retries: { max: 1 } }));
    await clock.advanceBy(15);
    const before = engine.stats().workers.find((worker) => worker.id === 'main')!;
    // t0 and t1 completed at 10; t2 and t3 run since 10.
    expect(before).toMatchObject({ state: 'busy', slots: 2, running: 2, tasksCompleted: 2 });
    engine.inject({ type: 'worker.crash', workerId: 'main' });
    await clock.runAll();
    await Promise.all(handles.map((handle) => handle.result));

    const stats = engine.stats();
    expect(stats.workers.map((worker) => worker.id)).toEqual(['main']);
    const main = stats.workers[0]!;
    expect(main).toMatchObject({ state: 'idle', slots: 2, running: 0 });
    // Both attempts running at the crash failed and were retried.
    expect(ofType('task.retrying').map((event) => [event.taskId, event.at, event.code])).toEqual([
      ['t2', 15, 'E_WORKER_CRASHED'],
      ['t3', 15, 'E_WORKER_CRASHED'],
    ]);
    const startedAfterCrash = ofType('task.started').filter((event) => event.workerId === 'main' && event.at >= 15);
    expect(startedAfterCrash).toHaveLength(6);
    expect(main.tasksCompleted).toBe(before.tasksCompleted + startedAfterCrash.length);
    const completed = engine.progress().completed;
    expect(completed).toBe(8);
    expect(main.tasksCompleted).toBe(completed);
    expect(stats.totals.tasksCompleted).toBe(completed);
  });

  it('escalates past maxRestarts within withinMs: engine.escalated (critical), queued tasks rejected, later submissions rejected', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2, supervision: { maxRestarts: 2, withinMs: 1000 } });
    const first = engine.submit(sleeper(1000), { id: 'first' });
    const other = engine.submit(sleeper(1000), { id: 'other' });
    const queued = ['q1', 'q2', 'q3', 'q4', 'q5'].map((id) => engine.submit(sleeper(1000), { id }));
    for (const handle of [first, other, ...queued]) handle.result.catch(() => undefined);
    await clock.advanceBy(10);

    // Each crash fails both tasks running on main, and each restart hands it the next two queued
    // tasks; the third crash is one too many.
    for (const at of [10, 20, 30]) {
      await clock.advanceTo(at);
      engine.inject({ type: 'worker.crash', workerId: 'main' });
    }
    await clock.advanceBy(0);

    expect(ofType('worker.crashed').map((event) => [event.at, event.workerId])).toEqual([
      [10, 'main'],
      [20, 'main'],
      [30, 'main'],
    ]);
    expect(ofType('worker.restarted').map((event) => event.restartsInWindow)).toEqual([1, 2]);
    expect(ofType('engine.escalated')).toEqual([
      expect.objectContaining({ type: 'engine.escalated', at: 30, severity: 'critical', restarts: 3, withinMs: 1000 }),
    ]);
    expect(engine.isAccepting).toBe(false);
    expect(ofType('task.started').map((event) => [event.taskId, event.at])).toEqual([
      ['first', 0],
      ['other', 0],
      ['q1', 10],
      ['q2', 10],
      ['q3', 20],
      ['q4', 20],
    ]);
    expect([first.status, other.status, ...queued.slice(0, 4).map((handle) => handle.status)]).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
    ]);
    expect(ofType('task.failed').map((event) => [event.taskId, event.at, event.code])).toEqual([
      ['first', 10, 'E_WORKER_CRASHED'],
      ['other', 10, 'E_WORKER_CRASHED'],
      ['q1', 20, 'E_WORKER_CRASHED'],
      ['q2', 20, 'E_WORKER_CRASHED'],
      ['q3', 30, 'E_WORKER_CRASHED'],
      ['q4', 30, 'E_WORKER_CRASHED'],
    ]);
    expect((await rejectionOf(queued[3]!)).code).toBe('E_WORKER_CRASHED');
    expect(queued[4]!.status).toBe('rejected');
    expect((await rejectionOf(queued[4]!)).code).toBe('E_SHUTDOWN');
    // Past the limit main is not restarted.
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'crashed' })]);

    const fn = jest.fn();
    const late = engine.submit(fn);
    expect(late.status).toBe('rejected');
    expect((await rejectionOf(late)).code).toBe('E_SHUTDOWN');

    // Nothing is left running, and nothing is lost.
    await clock.runAll();
    const report = engine.shutdown();
    await clock.runAll();
    expect(await report).toMatchObject({ submitted: 8, completed: 0, failed: 6, rejected: 2, cancelled: 0, lost: 0 });
    expect(fn).not.toHaveBeenCalled();
  });

  it('counts restarts in a sliding window: restarts older than withinMs do not count', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1, supervision: { maxRestarts: 2, withinMs: 1000 } });
    const crashAt = async (at: number): Promise<void> => {
      await clock.advanceTo(at);
      engine.inject({ type: 'worker.crash', workerId: 'main' });
      await clock.advanceBy(0);
    };
    // Crashes 600 ms apart never put more than two in one window, however many there are.
    for (const at of [0, 600, 1200, 1800, 2400, 3000]) await crashAt(at);
    expect(ofType('engine.escalated')).toEqual([]);
    expect(ofType('worker.restarted').map((event) => event.restartsInWindow)).toEqual([1, 2, 2, 2, 2, 2]);
    expect(engine.isAccepting).toBe(true);
    const handle = engine.submit(sleeper(10));
    await clock.advanceBy(10);
    await expect(handle.result).resolves.toBe(1);

    // At 3100 the restarts of 2400 and 3000 are still in the window: a third one escalates.
    await crashAt(3100);
    expect(ofType('engine.escalated')).toEqual([expect.objectContaining({ at: 3100, restarts: 3 })]);
    expect(ofType('worker.restarted')).toHaveLength(6);
  });

  it('rejects an unknown worker or fault with E_INVALID_OPTION, and the engine carries on', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    // There is one worker, main: worker-1, worker-2... no longer exist.
    for (const workerId of ['worker-1', 'worker-2', 'worker-3', 'worker-extra-1', 'MAIN']) {
      expect(thrownBy(() => engine.inject({ type: 'worker.crash', workerId })).code).toBe('E_INVALID_OPTION');
    }
    expect(thrownBy(() => engine.inject({ type: 'worker.explode', workerId: 'main' } as never)).code).toBe('E_INVALID_OPTION');
    expect(thrownBy(() => engine.inject(undefined as never)).code).toBe('E_INVALID_OPTION');
    const handle = engine.submit(sleeper(10));
    await clock.runAll();
    await expect(handle.result).resolves.toBe(1);
    expect(ofType('worker.crashed')).toEqual([]);
  });
});
