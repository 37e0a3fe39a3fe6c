import type { ShutdownReport, TaskContext } from '../../src';
import { rejectionOf, startEngine } from '../fixtures/engine-harness';

/** A task that sleeps `ms` on the engine's clock (so it honours its signal) and returns `value`. */
const sleeper =
  <T>(ms: number, value?: T) =>
  async (ctx: TaskContext): Promise<T | undefined> => {
    await ctx.sleep(ms);
    return value;
  };

/** The phases of a report as `[phase, at, cause]`, easy to compare whole. */
const phasesOf = (report: ShutdownReport) => report.phases.map(({ phase, at, cause }) => [phase, at, cause]);

/** Tracks whether `events$` completed, and when. */
function completion(harness: ReturnType<typeof startEngine>) {
  const state: { completedAt: number | undefined } = { completedAt: undefined };
  harness.engine.events$.subscribe({ complete: () => (state.completedAt = harness.clock.now()) });
  return state;
}

describe('phased shutdown', () => {
  it('goes draining → stopped, stamping each phase with its clock time and cause, and publishes shutdown.phase', async () => {
    const harness = startEngine({ workers: 1 });
    const { engine, clock, ofType } = harness;
    const events = completion(harness);
    const running = engine.submit(sleeper(100, 'running'));
    const queued = engine.submit(sleeper(30, 'queued'));
    await clock.advanceBy(10);
    const shutdown = engine.shutdown();
    expect(ofType('shutdown.phase')).toEqual([{ type: 'shutdown.phase', at: 10, phase: 'draining', cause: 'request' }]);
    await clock.runAll();
    const report = await shutdown;

    await expect(running.result).resolves.toBe('running');
    await expect(queued.result).resolves.toBe('queued');
    expect(phasesOf(report)).toEqual([
      ['draining', 10, 'request'],
      ['stopped', 130, 'drained'],
    ]);
    expect(report.durationMs).toBe(120);
    expect(ofType('shutdown.phase').map(({ phase, at, cause }) => [phase, at, cause])).toEqual(phasesOf(report));
    expect(report).toMatchObject({ submitted: 2, completed: 2, lost: 0 });
    expect(clock.pendingTimers).toBe(0);
    expect(events.completedAt).toBe(130);
  });

  it("with drain: 'cancel' cancels queued tasks at once (E_SHUTDOWN, never called) while running ones finish", async () => {
    const { engine, clock, ofType } = startEngine({ workers: 1 });
    const running = engine.submit(sleeper(100, 'running'), { id: 'running' });
    const fn = jest.fn();
    const queued = [engine.submit(fn, { id: 'q1' }), engine.submit(fn, { id: 'q2' })];
    await clock.advanceBy(10);
    const shutdown = engine.shutdown({ drain: 'cancel' });
    await clock.advanceBy(0);

    for (const handle of queued) {
      expect(handle.status).toBe('cancelled');
      expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
    }
    expect(
      ofType('task.cancelled')
        .map(({ taskId, code, at }) => [taskId, code, at])
        .sort(),
    ).toEqual([
      ['q1', 'E_SHUTDOWN', 10],
      ['q2', 'E_SHUTDOWN', 10],
    ]);
    expect(running.status).toBe('running');
    await clock.runAll();
    await expect(running.result).resolves.toBe('running');
    expect(fn).not.toHaveBeenCalled();
    const report = await shutdown;
    expect(phasesOf(report)).toEqual([
      ['draining', 10, 'request'],
      ['stopped', 100, 'drained'],
    ]);
    expect(report).toMatchObject({ submitted: 3, completed: 1, cancelled: 2, lost: 0 });
  });

  it('moves to terminating exactly when the grace period runs out: running signals abort, tasks settle cancelled with E_SHUTDOWN', async () => {
    const harness = startEngine({ workers: 2, shutdown: { graceMs: 200 } });
    const { engine, clock, ofType } = harness;
    const events = completion(harness);
    const reasons: unknown[] = [];
    const long = (ctx: TaskContext) => {
      ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
      return ctx.sleep(10_000);
    };
    const running = [engine.submit(long, { id: 'r1' }), engine.submit(long, { id: 'r2' })];
    const queuedFn = jest.fn();
    const queued = engine.submit(queuedFn, { id: 'queued' });
    await clock.advanceBy(10);
    const shutdown = engine.shutdown();

    await clock.advanceTo(209);
    expect(ofType('shutdown.phase').map((event) => event.phase)).toEqual(['draining']);
    expect(reasons).toEqual([]);
    expect(running.map((handle) => handle.status)).toEqual(['running', 'running']);

    await clock.advanceTo(210);
    expect(ofType('shutdown.phase').map(({ phase, at, cause }) => [phase, at, cause])).toEqual([
      ['draining', 10, 'request'],
      ['terminating', 210, 'grace'],
      ['stopped', 210, 'drained'],
    ]);
    expect(reasons).toEqual([expect.objectContaining({ code: 'E_SHUTDOWN' }), expect.objectContaining({ code: 'E_SHUTDOWN' })]);
    for (const handle of [...running, queued]) {
      expect(handle.status).toBe('cancelled');
      expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
    }
    expect(queuedFn).not.toHaveBeenCalled();
    expect(
      ofType('task.cancelled')
        .map(({ taskId, code }) => [taskId, code])
        .sort(),
    ).toEqual([
      ['queued', 'E_SHUTDOWN'],
      ['r1', 'E_SHUTDOWN'],
      ['r2', 'E_SHUTDOWN'],
    ]);

    const report = await shutdown;
    expect(phasesOf(report)).toEqual([
      ['draining', 10, 'request'],
      ['terminating', 210, 'grace'],
      ['stopped', 210, 'drained'],
    ]);
    expect(report).toMatchObject({ durationMs: 200, submitted: 3, completed: 0, cancelled: 3, lost: 0 });
    expect(clock.pendingTimers).toBe(0);
    expect(events.completedAt).toBe(210);
  });

  it('with force: true skips draining and goes straight to terminating', async () => {
    const { engine, clock, ofType } = startEngine({ workers: 1 });
    const running = engine.submit(sleeper(1000), { id: 'running' });
    const queued = engine.submit(sleeper(10), { id: 'queued' });
    await clock.advanceBy(10);
    const shutdown = engine.shutdown({ force: true });
    expect(engine.isAccepting).toBe(false);
    await clock.advanceBy(0);

    expect(ofType('shutdown.phase').map((event) => event.phase)).not.toContain('draining');
    for (const handle of [running, queued]) {
      expect(handle.status).toBe('cancelled');
      expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
    }
    const report = await shutdown;
    expect(phasesOf(report)).toEqual([
      ['terminating', 10, 'force'],
      ['stopped', 10, 'drained'],
    ]);
    expect(report).toMatchObject({ durationMs: 0, submitted: 2, cancelled: 2, lost: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('hurries a shutdown under way when called again with force: true, and returns the same promise', async () => {
    const { engine, clock } = startEngine({ workers: 1, shutdown: { graceMs: 10_000 } });
    const running = engine.submit(sleeper(5000), { id: 'running' });
    await clock.advanceBy(10);
    const first = engine.shutdown();
    await clock.advanceTo(50);
    expect(running.status).toBe('running');
    const second = engine.shutdown({ force: true });
    expect(second).toBe(first);
    await clock.advanceBy(0);

    expect(running.status).toBe('cancelled');
    expect((await rejectionOf(running)).code).toBe('E_SHUTDOWN');
    const report = await first;
    expect(phasesOf(report)).toEqual([
      ['draining', 10, 'request'],
      ['terminating', 50, 'force'],
      ['stopped', 50, 'drained'],
    ]);
    expect(report).toMatchObject({ durationMs: 40, cancelled: 1, lost: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports how every task ended, one count per status, and lost: 0', async () => {
    const { engine, clock } = startEngine({ workers: 8, resources: { a: 1, b: 1 }, deadlock: { policy: 'youngest' } });
    const ok = engine.submit(sleeper(10, 'ok'));
    const boom = engine.submit(() => {
      throw new Error('boom');
    });
    const slow = engine.submit(sleeper(1000), { timeoutMs: 20 });
    const userCancelled = engine.submit(sleeper(1000));
    const lockAB = engine.submit(async (ctx) => {
      await ctx.acquire('a');
      await ctx.sleep(10);
      await ctx.acquire('b');
      return 'ab';
    });
    const lockBA = engine.submit(async (ctx) => {
      await ctx.acquire('b');
      await ctx.sleep(10);
      await ctx.acquire('a');
      return 'ba';
    });
    const long = engine.submit(sleeper(10_000));
    for (const handle of [boom, slow, userCancelled, lockBA, long]) handle.result.catch(() => undefined);
    await clock.advanceBy(5);
    userCancelled.cancel();
    await clock.advanceTo(50);
    const shutdown = engine.shutdown({ graceMs: 100 });
    const late = engine.submit(sleeper(1));
    late.result.catch(() => undefined);
    await clock.runAll();
    const report = await shutdown;

    await expect(ok.result).resolves.toBe('ok');
    await expect(lockAB.result).resolves.toBe('ab');
    expect([boom.status, slow.status, userCancelled.status, lockBA.status, long.status, late.status]).toEqual([
      'failed',
      'timeout',
      'cancelled',
      'deadlock',
      'cancelled',
      'rejected',
    ]);
    expect((await rejectionOf(userCancelled)).code).toBe('E_CANCELLED');
    expect((await rejectionOf(long)).code).toBe('E_SHUTDOWN');
    expect(report).toEqual({
      phases: [
        { phase: 'draining', at: 50, cause: 'request' },
        { phase: 'terminating', at: 150, cause: 'grace' },
        { phase: 'stopped', at: 150, cause: 'drained' },
      ],
      durationMs: 100,
      submitted: 8,
      completed: 2,
      failed: 1,
      cancelled: 2,
      timedOut: 1,
      deadlocked: 1,
      rejected: 1,
      lost: 0,
      abandoned: [],
    } satisfies ShutdownReport);
  });
});

describe('shutdown.signals (in-process, with SIGUSR2 so the test runner is not touched)', () => {
  it('starts draining on the first signal, terminates on the second, and removes only its own listeners at stop', async () => {
    const othersListener = jest.fn();
    process.on('SIGUSR2', othersListener);
    try {
      const before = process.listenerCount('SIGUSR2');
      const harness = startEngine({ workers: 1, shutdown: { signals: ['SIGUSR2'] } });
      const { engine, clock, ofType } = harness;
      const events = completion(harness);
      expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
      const running = engine.submit(sleeper(5000), { id: 'running' });
      const queued = engine.submit(sleeper(10), { id: 'queued' });
      await clock.advanceBy(10);

      process.emit('SIGUSR2', 'SIGUSR2');
      expect(ofType('signal.received')).toEqual([{ type: 'signal.received', at: 10, signal: 'SIGUSR2' }]);
      expect(ofType('shutdown.phase')).toEqual([{ type: 'shutdown.phase', at: 10, phase: 'draining', cause: 'signal' }]);
      expect(engine.isAccepting).toBe(false);
      expect((await rejectionOf(engine.submit(sleeper(1)))).code).toBe('E_SHUTDOWN');
      await clock.advanceTo(40);
      expect(running.status).toBe('running');

      process.emit('SIGUSR2', 'SIGUSR2');
      await clock.advanceBy(0);
      expect(ofType('signal.received').map((event) => event.at)).toEqual([10, 40]);
      expect(ofType('shutdown.phase').map(({ phase, at, cause }) => [phase, at, cause])).toEqual([
        ['draining', 10, 'signal'],
        ['terminating', 40, 'signal'],
        ['stopped', 40, 'drained'],
      ]);
      for (const handle of [running, queued]) {
        expect(handle.status).toBe('cancelled');
        expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
      }
      const report = await engine.shutdown();
      expect(phasesOf(report)).toEqual([
        ['draining', 10, 'signal'],
        ['terminating', 40, 'signal'],
        ['stopped', 40, 'drained'],
      ]);
      expect(report).toMatchObject({ submitted: 3, cancelled: 2, rejected: 1, lost: 0 });

      expect(process.listenerCount('SIGUSR2')).toBe(before);
      expect(process.listeners('SIGUSR2')).toContain(othersListener);
      expect(othersListener).toHaveBeenCalledTimes(2);
      expect(clock.pendingTimers).toBe(0);
      expect(events.completedAt).toBe(40);
      // A signal after stop reaches nobody from the engine.
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(ofType('signal.received')).toHaveLength(2);
    } finally {
      process.removeListener('SIGUSR2', othersListener);
    }
  });

  it('installs no listener without shutdown.signals', async () => {
    const before = process.listenerCount('SIGUSR2');
    const { engine, clock } = startEngine();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    const shutdown = engine.shutdown();
    await clock.runAll();
    await shutdown;
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });
});
