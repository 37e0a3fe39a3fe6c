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
    const { engine, clock, ofType } = startEngine({ workers: 2 });
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

    engine.inject({ type: 'worker.crash', workerId });
    await clock.advanceBy(0);
    expect(reasons).toEqual([expect.objectContaining({ code: 'E_WORKER_CRASHED' })]);
    expect(ofType('task.retrying')).toEqual([expect.objectContaining({ taskId: 'job', attempt: 1, workerId, code: 'E_WORKER_CRASHED', delayMs: 10 })]);
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
    const { engine, clock, ofType } = startEngine({ workers: 1 });
    const handle = engine.submit(sleeper(100), { id: 'job' });
    const after = engine.submit(sleeper(10), { id: 'after' });
    await clock.advanceBy(50);
    engine.inject({ type: 'worker.crash', workerId: 'worker-1' });
    await clock.runAll();
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_WORKER_CRASHED');
    expect(error.details['workerId']).toBe('worker-1');
    expect(handle.status).toBe('failed');
    expect(ofType('task.failed')).toEqual([expect.objectContaining({ taskId: 'job', workerId: 'worker-1', code: 'E_WORKER_CRASHED' })]);
    // The restarted worker takes the next task.
    await expect(after.result).resolves.toBe(1);
    expect(ofType('task.started').find((event) => event.taskId === 'after')).toMatchObject({ workerId: 'worker-1', at: 50 });
  });

  it('restarts the worker under the same id, and its statistics carry on: per-worker completions sum to progress().completed', async () => {
    const { engine, clock, ofType } = startEngine({ workers: 2 });
    const handles = Array.from({ length: 8 }, (_, index) => engine.submit(sleeper(10), { id: `t${index}`, retries: { max: 1 } }));
    await clock.advanceBy(15);
    const before = engine.stats().workers.find((worker) => worker.id === 'worker-1')!;
    expect(before.tasksCompleted).toBe(1);
    engine.inject({ type: 'worker.crash', workerId: 'worker-1' });
    await clock.runAll();
    await Promise.all(handles.map((handle) => handle.result));

    const stats = engine.stats();
    expect(stats.workers.map((worker) => worker.id)).toEqual(['worker-1', 'worker-2']);
    const worker1 = stats.workers[0]!;
    const startedOnWorker1AfterCrash = ofType('task.started').filter((event) => event.workerId === 'worker-1' && event.at >= 15);
    expect(startedOnWorker1AfterCrash.length).toBeGreaterThan(0);
    expect(worker1.tasksCompleted).toBe(before.tasksCompleted + startedOnWorker1AfterCrash.length);
    const completed = engine.progress().completed;
    expect(completed).toBe(8);
    expect(stats.workers.reduce((sum, worker) => sum + worker.tasksCompleted, 0)).toBe(completed);
    expect(stats.totals.tasksCompleted).toBe(completed);
    expect(ofType('task.retrying')).toHaveLength(1);
  });

  it('escalates past maxRestarts within withinMs: engine.escalated (critical), queued tasks rejected, later submissions rejected', async () => {
    const { engine, clock, ofType } = startEngine({ workers: 2, supervision: { maxRestarts: 2, withinMs: 1000 } });
    const first = engine.submit(sleeper(1000), { id: 'first' });
    const other = engine.submit(sleeper(1000), { id: 'other' });
    const queued = ['q1', 'q2', 'q3'].map((id) => engine.submit(sleeper(1000), { id }));
    for (const handle of [first, ...queued]) handle.result.catch(() => undefined);
    await clock.advanceBy(10);
    const crashedWorker = ofType('task.started').find((event) => event.taskId === 'first')!.workerId;

    // Each restart hands the worker the next queued task; the third crash is one too many.
    for (const at of [10, 20, 30]) {
      await clock.advanceTo(at);
      engine.inject({ type: 'worker.crash', workerId: crashedWorker });
    }
    await clock.advanceBy(0);

    expect(ofType('worker.crashed').map((event) => event.at)).toEqual([10, 20, 30]);
    expect(ofType('worker.restarted').map((event) => event.restartsInWindow)).toEqual([1, 2]);
    expect(ofType('engine.escalated')).toEqual([expect.objectContaining({ type: 'engine.escalated', at: 30, severity: 'critical', restarts: 3, withinMs: 1000 })]);
    expect(engine.isAccepting).toBe(false);
    expect([first.status, queued[0]!.status, queued[1]!.status]).toEqual(['failed', 'failed', 'failed']);
    expect((await rejectionOf(queued[1]!)).code).toBe('E_WORKER_CRASHED');
    expect(queued[2]!.status).toBe('rejected');
    expect((await rejectionOf(queued[2]!)).code).toBe('E_SHUTDOWN');

    const fn = jest.fn();
    const late = engine.submit(fn);
    expect(late.status).toBe('rejected');
    expect((await rejectionOf(late)).code).toBe('E_SHUTDOWN');

    // What was already running elsewhere finishes, and nothing is lost.
    await clock.runAll();
    await expect(other.result).resolves.toBe(1);
    const report = engine.shutdown();
    await clock.runAll();
    expect(await report).toMatchObject({ submitted: 6, completed: 1, failed: 3, rejected: 2, cancelled: 0, lost: 0 });
    expect(fn).not.toHaveBeenCalled();
  });

  it('counts restarts in a sliding window: restarts older than withinMs do not count', async () => {
    const { engine, clock, ofType } = startEngine({ workers: 1, supervision: { maxRestarts: 2, withinMs: 1000 } });
    const crashAt = async (at: number): Promise<void> => {
      await clock.advanceTo(at);
      engine.inject({ type: 'worker.crash', workerId: 'worker-1' });
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
    const { engine, clock, ofType } = startEngine({ workers: 2 });
    expect(thrownBy(() => engine.inject({ type: 'worker.crash', workerId: 'worker-3' })).code).toBe('E_INVALID_OPTION');
    expect(thrownBy(() => engine.inject({ type: 'worker.explode', workerId: 'worker-1' } as never)).code).toBe('E_INVALID_OPTION');
    expect(thrownBy(() => engine.inject(undefined as never)).code).toBe('E_INVALID_OPTION');
    const handle = engine.submit(sleeper(10));
    await clock.runAll();
    await expect(handle.result).resolves.toBe(1);
    expect(ofType('worker.crashed')).toEqual([]);
  });
});
