import type { Subscription } from 'rxjs';
import { createEngine, seededRandom, VirtualClock, type EngineEvent, type TaskHandle } from '../../src';
import { startEngine } from '../fixtures/engine-harness';

/** The event types the core engine emits. */
const TASK_EVENT_TYPES: ReadonlySet<string> = new Set([
  'task.queued',
  'task.started',
  'task.progress',
  'task.retrying',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'task.timeout',
  'task.rejected',
  'engine.idle',
]);

describe('engine.events$: every event type and its fields', () => {
  it('emits the exact trace of a scenario with progress, retries, a failure, a cancellation, a timeout, idleness and a rejection', async () => {
    const { engine, clock, events } = startEngine({ concurrency: 2 });
    const emittedAt: number[] = [];
    engine.events$.subscribe(() => emittedAt.push(clock.now()));
    const betaErrors: Error[] = [];

    const alpha = engine.submit(
      async (ctx) => {
        ctx.progress(0.5, 'half');
        await ctx.sleep(10);
        return 'a';
      },
      { id: 'A', name: 'alpha', priority: 1 },
    );
    const beta = engine.submit(
      () => {
        const error = new Error(`beta failed ${betaErrors.length + 1}`);
        betaErrors.push(error);
        throw error;
      },
      { id: 'B', name: 'beta', priority: 1, retries: { max: 1, delayMs: 5 } },
    );
    await clock.advanceBy(1);
    const gamma = engine.submit((ctx) => ctx.sleep(100), { id: 'C', name: 'gamma', timeoutMs: 20 });
    const delta = engine.submit((ctx) => ctx.sleep(50), { id: 'D', name: 'delta' });
    await clock.advanceBy(1);
    delta.cancel();
    await clock.advanceBy(10);
    // Shutdown begins while gamma still runs: a submission now is rejected.
    const shutdown = engine.shutdown();
    const rejected = engine.submit(() => 'too late', { id: 'E', name: 'epsilon' });
    await clock.runAll();
    await shutdown;

    expect([alpha.status, beta.status, gamma.status, delta.status, rejected.status]).toEqual([
      'completed',
      'failed',
      'timeout',
      'cancelled',
      'rejected',
    ]);
    const all = [...events];
    // Later issues add event types (shutdown phases...); this trace is about the task events.
    expect(all.filter((event) => TASK_EVENT_TYPES.has(event.type))).toEqual([
      { type: 'task.queued', at: 0, taskId: 'A', name: 'alpha', attempt: 1, priority: 1 },
      { type: 'task.queued', at: 0, taskId: 'B', name: 'beta', attempt: 1, priority: 1 },
      { type: 'task.started', at: 0, taskId: 'A', name: 'alpha', attempt: 1, workerId: 'main' },
      { type: 'task.progress', at: 0, taskId: 'A', name: 'alpha', attempt: 1, workerId: 'main', fraction: 0.5, message: 'half' },
      { type: 'task.started', at: 0, taskId: 'B', name: 'beta', attempt: 1, workerId: 'main' },
      {
        type: 'task.retrying',
        at: 0,
        taskId: 'B',
        name: 'beta',
        attempt: 1,
        workerId: 'main',
        delayMs: 5,
        code: 'E_TASK_FAILED',
        error: betaErrors[0],
      },
      { type: 'task.queued', at: 1, taskId: 'C', name: 'gamma', attempt: 1, priority: 0 },
      { type: 'task.queued', at: 1, taskId: 'D', name: 'delta', attempt: 1, priority: 0 },
      { type: 'task.started', at: 1, taskId: 'C', name: 'gamma', attempt: 1, workerId: 'main' },
      { type: 'task.cancelled', at: 2, taskId: 'D', name: 'delta', attempt: 1, workerId: undefined, code: 'E_CANCELLED' },
      { type: 'task.queued', at: 5, taskId: 'B', name: 'beta', attempt: 2, priority: 1 },
      { type: 'task.completed', at: 10, taskId: 'A', name: 'alpha', attempt: 1, workerId: 'main', durationMs: 10 },
      { type: 'task.started', at: 10, taskId: 'B', name: 'beta', attempt: 2, workerId: 'main' },
      {
        type: 'task.failed',
        at: 10,
        taskId: 'B',
        name: 'beta',
        attempt: 2,
        workerId: 'main',
        durationMs: 0,
        code: 'E_TASK_FAILED',
        error: betaErrors[1],
      },
      { type: 'task.rejected', at: 12, taskId: 'E', name: 'epsilon', attempt: 1, code: 'E_SHUTDOWN' },
      { type: 'task.timeout', at: 21, taskId: 'C', name: 'gamma', attempt: 1, workerId: 'main', durationMs: 20, code: 'E_TIMEOUT' },
      { type: 'engine.idle', at: 21 },
    ]);
    // Every event is emitted when it happens: its `at` is the clock's time at emission.
    expect(emittedAt).toEqual(all.map((event) => event.at));
  });

  it('emits engine.idle each time the last unfinished task settles', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    engine.submit((ctx) => ctx.sleep(10));
    engine.submit((ctx) => ctx.sleep(20));
    await clock.runAll();
    await clock.advanceBy(100);
    engine.submit((ctx) => ctx.sleep(5));
    await clock.runAll();
    expect(ofType('engine.idle')).toEqual([
      { type: 'engine.idle', at: 20 },
      { type: 'engine.idle', at: 125 },
    ]);
  });

  it('emits every event when it happens, in clock order, also when instant and slow tasks share a worker', async () => {
    // On an idle engine, tasks submitted together are handed to the worker in one dispatch and
    // start together: the instant one must still be reported when it returns, not when the slow
    // one beside it does.
    const { engine, clock, events, ofType } = startEngine({ concurrency: 2 });
    const emittedAt: number[] = [];
    engine.events$.subscribe(() => emittedAt.push(clock.now()));
    const instant = engine.submit(() => 'instant');
    const slow = engine.submit(async (ctx) => {
      await ctx.sleep(50);
      ctx.progress(0.5);
      await ctx.sleep(50);
    });
    await clock.advanceBy(0);
    expect(instant.status).toBe('completed');
    expect(slow.status).toBe('running');
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', state: 'busy', slots: 2, running: 1, tasksCompleted: 1 })]);
    await clock.runAll();
    expect(ofType('task.started').map((event) => [event.taskId, event.at, event.workerId])).toEqual([
      [instant.id, 0, 'main'],
      [slow.id, 0, 'main'],
    ]);
    expect(ofType('task.completed').map((event) => [event.taskId, event.at])).toEqual([
      [instant.id, 0],
      [slow.id, 100],
    ]);
    expect(emittedAt).toEqual(events.map((event) => event.at));
    const ats = events.map((event) => event.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
  });
});

describe('engine.events$: consistency over a mixed workload', () => {
  it('gives each task one terminal event matching its status, after its start, each emitted at its `at`', async () => {
    const random = seededRandom(99);
    const { engine, clock, events } = startEngine({ concurrency: 3, random: seededRandom(5) });
    const emittedAt: number[] = [];
    engine.events$.subscribe(() => emittedAt.push(clock.now()));
    const handles: Array<TaskHandle<unknown>> = [];
    for (let index = 0; index < 200; index++) {
      const duration = random() < 0.5 ? 0 : Math.floor(random() * 30);
      const failing = random() < 0.25;
      const handle = engine.submit(
        async (ctx) => {
          ctx.progress(0);
          if (duration > 0) await ctx.sleep(duration);
          if (failing) throw new Error('fails');
          ctx.progress(1);
        },
        {
          priority: Math.floor(random() * 3),
          retries: random() < 0.5 ? { max: 1, delayMs: Math.floor(random() * 10) } : 0,
          timeoutMs: random() < 0.15 ? 10 : undefined,
          dependsOn: handles.length > 0 && random() < 0.1 ? [handles[handles.length - 1]!] : [],
        },
      );
      handle.result.catch(() => undefined);
      handles.push(handle);
      if (random() < 0.2) await clock.advanceBy(Math.floor(random() * 5));
      if (random() < 0.05) handles[Math.floor(random() * handles.length)]!.cancel();
    }
    await clock.runAll();

    expect(emittedAt).toEqual(events.map((event) => event.at));
    const terminal: Record<string, string> = {
      'task.completed': 'completed',
      'task.failed': 'failed',
      'task.cancelled': 'cancelled',
      'task.timeout': 'timeout',
    };
    const statuses = new Set<string>();
    for (const handle of handles) {
      const own = events.filter((event) => 'taskId' in event && event.taskId === handle.id);
      const ends = own.filter((event) => event.type in terminal);
      expect(ends).toHaveLength(1);
      expect(terminal[ends[0]!.type]).toBe(handle.status);
      expect(own[own.length - 1]).toBe(ends[0]);
      statuses.add(handle.status);
      // An attempt is started only after it was queued, and reports progress only while started.
      let queued = 0;
      let started = 0;
      for (const event of own) {
        if (event.type === 'task.queued') queued = event.attempt;
        if (event.type === 'task.started') {
          expect(event.attempt).toBe(queued);
          started = event.attempt;
        }
        if (event.type === 'task.progress' || event.type === 'task.retrying') expect(event.attempt).toBe(started);
      }
    }
    expect([...statuses].sort()).toEqual(['cancelled', 'completed', 'failed', 'timeout']);
  });
});

describe('engine.events$: subscribing and unsubscribing at any moment', () => {
  /** A workload with several events per task, over several clock times. */
  async function runWorkload(engine: ReturnType<typeof startEngine>['engine'], clock: ReturnType<typeof startEngine>['clock']) {
    const handles = Array.from({ length: 6 }, (_, index) =>
      engine.submit(
        async (ctx) => {
          ctx.progress(0.5);
          await ctx.sleep(5 + index);
          if (index === 2 && ctx.attempt === 1) throw new Error('retry me');
        },
        { id: `t${index}`, retries: 1 },
      ),
    );
    await clock.runAll();
    await Promise.all(handles.map((handle) => handle.result));
  }

  /** A stable text per event, to compare lists. */
  const key = (event: EngineEvent) => JSON.stringify({ ...event, error: undefined });

  it('neither loses nor duplicates events of the others when subscribers join and leave inside handlers', async () => {
    const { engine, clock, events } = startEngine({ concurrency: 2 });
    const leaver: EngineEvent[] = [];
    const joiner: EngineEvent[] = [];
    const victim: EngineEvent[] = [];
    const lateJoiners: EngineEvent[][] = [];
    let joinedAt = -1;
    let victimDroppedAt = -1;

    let leaverSubscription: Subscription | undefined = undefined;
    leaverSubscription = engine.events$.subscribe((event) => {
      leaver.push(event);
      // Leaves during the delivery of its third event.
      if (leaver.length === 3) leaverSubscription!.unsubscribe();
    });
    let count = 0;
    let victimSubscription: Subscription | undefined = undefined;
    engine.events$.subscribe(() => {
      count++;
      if (count === 5) {
        joinedAt = count;
        engine.events$.subscribe((event) => joiner.push(event));
      }
      if (count === 8) {
        victimDroppedAt = count;
        victimSubscription!.unsubscribe();
      }
      // Subscribes and unsubscribes a throwaway subscriber on every event.
      const list: EngineEvent[] = [];
      engine.events$.subscribe((event) => list.push(event)).unsubscribe();
      lateJoiners.push(list);
    });
    victimSubscription = engine.events$.subscribe((event) => victim.push(event));
    const steady: EngineEvent[] = [];
    engine.events$.subscribe((event) => steady.push(event));

    await runWorkload(engine, clock);

    const full = events.map(key);
    expect(full.length).toBeGreaterThan(20);
    // Subscribers that never left saw everything, each event once.
    expect(steady.map(key)).toEqual(full);
    expect(leaver.map(key)).toEqual(full.slice(0, 3));
    // The victim was unsubscribed while the 8th event was being delivered: it has 7 or 8, in order.
    expect(victimDroppedAt).toBe(8);
    expect(victim.map(key)).toEqual(full.slice(0, victim.length));
    expect([7, 8]).toContain(victim.length);
    // The joiner, subscribed during the 5th event, has every event after it (the 5th at most once).
    expect(joinedAt).toBe(5);
    expect(joiner.map(key)).toEqual(full.slice(full.length - joiner.length));
    expect([full.length - 4, full.length - 5]).toContain(joiner.length);
    // Subscribers gone before the next event got nothing, and nothing twice.
    for (const list of lateJoiners) expect(list.length).toBeLessThanOrEqual(1);
  });

  it('delivers to a subscriber that joins later only what happens from then on', async () => {
    const { engine, clock, events } = startEngine({ concurrency: 1 });
    engine.submit((ctx) => ctx.sleep(10), { id: 'early' });
    await clock.advanceBy(5);
    const late: EngineEvent[] = [];
    engine.events$.subscribe((event) => late.push(event));
    engine.submit((ctx) => ctx.sleep(10), { id: 'later' });
    await clock.runAll();
    const start = events.findIndex((event) => event.at >= 5);
    expect(late.map(key)).toEqual(events.slice(start).map(key));
    expect(late[0]).toMatchObject({ type: 'task.queued', taskId: 'later', at: 5 });
  });

  it('keeps emitting after every subscriber left and a new one came', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 1, clock });
    const first: EngineEvent[] = [];
    const subscription = engine.events$.subscribe((event) => first.push(event));
    engine.submit(() => 1, { id: 'one' });
    await clock.runAll();
    subscription.unsubscribe();
    engine.submit(() => 2, { id: 'two' });
    await clock.runAll();
    const second: EngineEvent[] = [];
    engine.events$.subscribe((event) => second.push(event));
    engine.submit(() => 3, { id: 'three' });
    await clock.runAll();
    expect(first.map((event) => event.type)).toEqual(['task.queued', 'task.started', 'task.completed', 'engine.idle']);
    expect(first.every((event) => !('taskId' in event) || event.taskId === 'one')).toBe(true);
    expect(second.map((event) => [event.type, 'taskId' in event ? event.taskId : undefined])).toEqual([
      ['task.queued', 'three'],
      ['task.started', 'three'],
      ['task.completed', 'three'],
      ['engine.idle', undefined],
    ]);
  });

  it('emits events when the only subscriber joined after the engine had been idle without listeners', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 1, clock });
    engine.submit(() => 'unwatched');
    await clock.runAll();
    const seen: EngineEvent[] = [];
    engine.events$.subscribe((event) => seen.push(event));
    const handle = engine.submit(() => 'watched', { name: 'watched' });
    await clock.runAll();
    await handle.result;
    expect(seen).toEqual([
      { type: 'task.queued', at: 0, taskId: handle.id, name: 'watched', attempt: 1, priority: 0 },
      { type: 'task.started', at: 0, taskId: handle.id, name: 'watched', attempt: 1, workerId: 'main' },
      { type: 'task.completed', at: 0, taskId: handle.id, name: 'watched', attempt: 1, workerId: 'main', durationMs: 0 },
      { type: 'engine.idle', at: 0 },
    ]);
  });
});
