import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createEngine, VirtualClock, type EngineOptions, type TaskContext } from '../../src';
import { startEngine, thrownBy } from '../fixtures/engine-harness';

const sleeper =
  (ms: number) =>
  async (ctx: TaskContext): Promise<void> => {
    await ctx.sleep(ms);
  };

/** Holds `units` of `resource` for `ms`, then releases them. */
const holder =
  (resource: string, ms: number, units = 1) =>
  async (ctx: TaskContext): Promise<void> => {
    const lease = await ctx.acquire(resource, { units });
    await ctx.sleep(ms);
    lease.release();
  };

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (format 0.0.4), parsed back. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function sampleOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name &&
      Object.keys(sample.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

describe('engine.metrics()', () => {
  it('measures task wait and run times, throughput, queue depth and saturation of a known workload', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    expect(engine.metrics().timings).toEqual({ sampling: true, since: 0 });
    // Four tasks of 100 ms in two slots: two wait 0 ms, two wait 100 ms.
    for (let i = 0; i < 4; i++) engine.submit(sleeper(100));
    await clock.advanceBy(50);
    const during = engine.metrics();
    expect(during).toMatchObject({ at: 50, queueDepth: 2, running: 2, pending: 2, submitted: 4 });
    // The worker gauge counts slots: the two of main, both taken.
    expect(during.workers).toMatchObject({ total: 2, busy: 2, idle: 0, saturation: 1 });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', slots: 2, running: 2 })]);

    await clock.advanceTo(200);
    const after = engine.metrics();
    expect(after.taskWait).toMatchObject({ count: 4, sum: 200, mean: 50, min: 0, p50: 0, p95: 100, p99: 100, max: 100 });
    expect(after.taskRun).toMatchObject({ count: 4, sum: 400, mean: 100, min: 100, p50: 100, p95: 100, p99: 100, max: 100 });
    expect(after.byStatus).toEqual({ completed: 4, failed: 0, cancelled: 0, timeout: 0, deadlock: 0, rejected: 0 });
    expect(after.throughput).toEqual({ settledPerSec: 20, completedPerSec: 20, elapsedMs: 200 });
    expect(after).toMatchObject({ queueDepth: 0, running: 0, pending: 0 });
    expect(after.workers).toMatchObject({ total: 2, busy: 0, idle: 2, saturation: 0, crashes: 0, restarts: 0 });
  });

  it('measures the waits and utilization of each pool', async () => {
    const { engine, clock } = startEngine({ concurrency: 3, resources: { db: 1, cache: 4 } });
    engine.metrics();
    // Three tasks want the one unit of db for 100 ms each: they wait 0, 100 and 200 ms.
    for (let i = 0; i < 3; i++) engine.submit(holder('db', 100));
    engine.submit(holder('cache', 300, 3));
    await clock.advanceBy(150);
    const during = engine.metrics().resources;
    expect(during['db']).toMatchObject({ capacity: 1, inUse: 1, utilization: 1, queued: 1 });
    expect(during['cache']).toMatchObject({ capacity: 4, inUse: 3, utilization: 0.75, queued: 0 });

    await clock.runAll();
    const { db, cache } = engine.metrics().resources;
    expect(db).toEqual({
      capacity: 1,
      inUse: 0,
      utilization: 0,
      queued: 0,
      peakInUse: 1,
      acquired: 3,
      meanWaitMs: 100,
      wait: expect.objectContaining({ count: 3, sum: 300, mean: 100, min: 0, p50: 100, p95: 200, p99: 200, max: 200 }),
    });
    expect(cache).toMatchObject({ peakInUse: 3, acquired: 1, wait: expect.objectContaining({ count: 1, max: 0 }) });
  });

  it('counts deadlocks detected and resolved, crashes, restarts, and tasks by terminal status', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, resources: { a: 1, b: 1 } });
    const crossing = (first: string, second: string) => async (ctx: TaskContext) => {
      await ctx.acquire(first);
      await ctx.sleep(10);
      await ctx.acquire(second);
    };
    engine.submit(crossing('a', 'b'), { id: 'ab' });
    engine.submit(crossing('b', 'a'), { id: 'ba' });
    await clock.runAll();
    engine.inject({ type: 'worker.crash', workerId: 'main' });
    engine
      .submit(() => {
        throw new Error('no');
      })
      .result.catch(() => undefined);
    engine.submit(sleeper(1000), { timeoutMs: 10 }).result.catch(() => undefined);
    await clock.runAll();
    const metrics = engine.metrics();
    expect(metrics.deadlocks).toEqual({ detected: 1, resolved: 1, resolvedByVictim: 1, resolvedByCompensation: 0 });
    expect(metrics.workers).toMatchObject({ crashes: 1, restarts: 1, escalations: 0 });
    expect(metrics.byStatus).toEqual({ completed: 1, failed: 1, cancelled: 0, timeout: 1, deadlock: 1, rejected: 0 });
    expect(metrics.submitted).toBe(4);
  });

  it('samples timings on demand: not before the first call, which costs the engine no per-task message', async () => {
    const clock = new VirtualClock();
    const toMonitor: string[] = [];
    const engine = createEngine({
      concurrency: 4,
      clock,
      inspect: (event: InspectionEvent) => {
        if (event.type === '@xstate.event' && (event.actorRef as AnyActorRef).id === 'monitor') toMonitor.push(event.event.type);
      },
    });
    await clock.runAll();
    toMonitor.length = 0;
    for (let i = 0; i < 500; i++) engine.submit(sleeper(1));
    await clock.runAll();
    // Nobody measured, nobody listened: the monitor heard nothing at all.
    expect(toMonitor).toEqual([]);
    // The first call starts sampling: the 500 tasks before it were not sampled.
    const first = engine.metrics();
    expect(first.timings).toEqual({ sampling: true, since: clock.now() });
    expect(first.taskRun.count).toBe(0);
    expect(first.byStatus.completed).toBe(500);

    for (let i = 0; i < 500; i++) engine.submit(sleeper(1));
    await clock.runAll();
    const second = engine.metrics();
    expect(second.taskRun).toMatchObject({ count: 500, min: 1, max: 1 });
    // One batch per turn of the event loop, not one message per task.
    // Task events reach it in batches of up to 100 ms of clock time, not one message per task.
    expect(toMonitor.filter((type) => type === 'monitor.observe').length).toBeLessThanOrEqual(Math.ceil(clock.now() / 100) + 1);
  });

  it.each([
    ['always', true, 3],
    ['off', false, 0],
  ] as const)('samples timings %s', async (timings, sampling, count) => {
    const { engine, clock } = startEngine({ metrics: { timings } });
    for (let i = 0; i < 3; i++) engine.submit(sleeper(5));
    await clock.runAll();
    const metrics = engine.metrics();
    expect(metrics.timings.sampling).toBe(sampling);
    expect(metrics.taskRun.count).toBe(count);
  });

  it('still answers after shutdown, with what it last knew', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    engine.metrics();
    engine.submit(sleeper(10));
    await clock.runAll();
    await engine.shutdown();
    expect(engine.metrics()).toMatchObject({ byStatus: expect.objectContaining({ completed: 1 }), taskRun: expect.objectContaining({ count: 1 }) });
    await expect(engine.prometheus()).resolves.toContain('mezan_tasks_settled_total{status="completed"} 1');
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('engine.prometheus()', () => {
  it('serves the metrics as Prometheus text that parses back to the same figures', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, resources: { db: 1 } });
    engine.metrics();
    for (let i = 0; i < 3; i++) engine.submit(holder('db', 100));
    engine.submit(sleeper(50));
    await clock.runAll();
    const metrics = engine.metrics();
    const samples = parsePrometheus(await engine.prometheus());
    expect(samples.every((sample) => sample.name.startsWith('mezan_'))).toBe(true);
    expect(sampleOf(samples, 'mezan_tasks_settled_total', { status: 'completed' })).toBe(4);
    expect(sampleOf(samples, 'mezan_tasks_submitted_total')).toBe(4);
    expect(sampleOf(samples, 'mezan_task_run_seconds_sum')).toBe(metrics.taskRun.sum / 1000);
    expect(sampleOf(samples, 'mezan_task_run_seconds_count')).toBe(4);
    expect(sampleOf(samples, 'mezan_task_wait_seconds_bucket', { le: '+Inf' })).toBe(metrics.taskWait.count);
    expect(sampleOf(samples, 'mezan_resource_wait_seconds_sum', { resource: 'db' })).toBe(metrics.resources['db']!.wait.sum / 1000);
    expect(sampleOf(samples, 'mezan_resource_acquired_total', { resource: 'db' })).toBe(3);
    expect(sampleOf(samples, 'mezan_workers')).toBe(2);
    expect(sampleOf(samples, 'mezan_throughput_tasks_per_second')).toBe(metrics.throughput.settledPerSec);
  });

  it('keeps a registry per engine', async () => {
    const one = startEngine();
    const two = startEngine();
    one.engine.submit(sleeper(1));
    await one.clock.runAll();
    const [textOne, textTwo] = await Promise.all([one.engine.prometheus(), two.engine.prometheus()]);
    expect(sampleOf(parsePrometheus(textOne), 'mezan_tasks_submitted_total')).toBe(1);
    expect(sampleOf(parsePrometheus(textTwo), 'mezan_tasks_submitted_total')).toBe(0);
  });
});

describe('createEngine({ inspect })', () => {
  it('hands an inspection function to the actor system: it sees every actor, event and snapshot', async () => {
    const inspected: InspectionEvent[] = [];
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 2, clock, resources: { db: 1 }, inspect: (event) => inspected.push(event) });
    engine.submit(holder('db', 10), { id: 'job' });
    await clock.runAll();
    await engine.shutdown();
    const actors = inspected.filter((event) => event.type === '@xstate.actor').map((event) => (event.actorRef as AnyActorRef).id);
    expect(actors).toEqual(expect.arrayContaining(['executor', 'detector', 'monitor', 'shutdown', 'resource:db', 'main']));
    // One worker, main, whatever the concurrency.
    expect(actors.filter((id) => id === 'main' || id.startsWith('worker-'))).toEqual(['main']);
    const types = new Set(inspected.map((event) => event.type));
    expect(types).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot', '@xstate.action', '@xstate.microstep']));
    const received = inspected.flatMap((event) => (event.type === '@xstate.event' ? [event.event.type] : []));
    expect(received).toEqual(expect.arrayContaining(['task.submit', 'task.dispatch', 'resource.request', 'resource.release', 'shutdown.request']));
  });

  it('takes an observer object, as @statelyai/inspect hands one', async () => {
    const seen: string[] = [];
    const clock = new VirtualClock();
    const engine = createEngine({ clock, inspect: { next: (event) => seen.push(event.type) } });
    engine.submit(sleeper(1));
    await clock.runAll();
    expect(seen).toContain('@xstate.event');
  });

  it.each<[string, EngineOptions]>([
    ['inspect', { inspect: 42 as never }],
    ['inspect', { inspect: {} as never }],
    ['metrics', { metrics: 'yes' as never }],
    ['metrics.timings', { metrics: { timings: 'sometimes' as never } }],
    ['thresholds', { thresholds: 5 as never }],
    ['thresholds.resourceWaitMs', { thresholds: { resourceWaitMs: -1 } }],
    ['thresholds.poolUtilization', { thresholds: { poolUtilization: 1.5 } }],
    ['thresholds.poolUtilizationForMs', { thresholds: { poolUtilizationForMs: Infinity } }],
    ['thresholds.queueDepth', { thresholds: { queueDepth: 1.5 } }],
    ['thresholds.deadlock', { thresholds: { deadlock: 'yes' as never } }],
    ['thresholds.workerRestarts', { thresholds: { workerRestarts: -1 } }],
    ['thresholds.clearRatio', { thresholds: { clearRatio: 0 } }],
  ])('refuses a bad `%s` with E_INVALID_OPTION', (option, options) => {
    const error = thrownBy(() => createEngine(options));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });
});
