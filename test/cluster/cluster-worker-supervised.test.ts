import { Worker } from 'bullmq';
import { createEngine, MezanError, type Engine, type EngineEvent, type EngineOptions, type NamedTaskFunctions } from '../../src';
import { deferred, recordingLogger, type Deferred } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A cluster node's working side is an actor under the supervisor, one more kind of worker: in the
// actor tree, told to stop taking when draining begins, and replaced when its BullMQ worker fails
// for good. On a real redis-server; the failures are injected into the node's BullMQ worker (its
// run loop rejected, or its Redis connection ended from outside), never waited for by time.

const bed = useClusterTestBed();

const RESTARTING = 'the cluster worker failed: restarting it';

/** A working node `node` of cluster `name`, with the records it logged and the events it published. */
function node(
  name: string,
  tasks: NamedTaskFunctions,
  options: Partial<EngineOptions> = {},
): { engine: Engine; records: Array<Record<string, unknown>>; events: EngineEvent[] } {
  const { logger, records } = recordingLogger();
  const engine = createEngine({
    logger,
    tasks,
    // Short leases: an attempt its crashed worker left unreported is given again within a second or two.
    cluster: { redis: bed.redis.url, name, node: 'w', concurrency: 2, lockDurationMs: 1_000, stalledIntervalMs: 500 },
    ...options,
  });
  bed.engines.push(engine);
  const events: EngineEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  return { engine, records, events };
}

/** An engine of cluster `name` that only submits, and the events it published. */
async function submitter(name: string): Promise<{ engine: Engine; events: EngineEvent[] }> {
  const engine = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 's', concurrency: 0 } });
  bed.engines.push(engine);
  const events: EngineEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  await engine.onClusterReady();
  return { engine, events };
}

/**
 * Runs the BullMQ workers of cluster `name`'s queue (not its gates') as BullMQ does, but for the
 * `failing` first ones, whose run loop is handed to `fail`: it may reject it, or end the worker's
 * connection. Returns the workers run, in order.
 */
function injectIntoWorkers(name: string, failing: number, fail: (worker: Worker, run: Promise<void>) => Promise<void>): Worker[] {
  const run = Worker.prototype.run;
  const workers: Worker[] = [];
  jest.spyOn(Worker.prototype, 'run').mockImplementation(function (this: Worker) {
    const running = run.call(this);
    if (this.name !== name || this.opts.prefix !== 'mezan') return running;
    workers.push(this);
    return workers.length <= failing ? fail(this, running) : running;
  });
  return workers;
}

/** A run loop that rejects at once (the real one goes on until its worker is closed). */
function rejectedRun(running: Promise<void>): Promise<void> {
  void running.catch(() => undefined);
  return Promise.reject(new Error('injected: the run loop rejected'));
}

const restarts = (records: ReadonlyArray<Record<string, unknown>>) => records.filter((record) => record['message'] === RESTARTING);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('the cluster worker under the supervisor', () => {
  it('is an actor of the tree, a child of the supervisor, on a node that works; a node that only submits has none', async () => {
    const name = bed.freshCluster('worker-tree');
    const { engine } = node(name, { answer: () => 42 });
    await engine.onClusterReady();
    expect(engine.actors().filter((actor) => actor.machine === 'cluster-worker')).toEqual([
      { id: 'cluster-worker', machine: 'cluster-worker', parent: 'supervisor', state: 'running' },
    ]);
    const { engine: only } = await submitter(name);
    expect(only.actors().some((actor) => actor.machine === 'cluster-worker')).toBe(false);
    await expect(only.submit('answer').result).resolves.toBe(42);
  });

  it('drains: told to stop taking when shutdown begins, it lets its running task finish and report before the engine stops', async () => {
    const name = bed.freshCluster('worker-drain');
    const started = deferred();
    const release = deferred();
    const { engine } = node(name, {
      slow: async () => {
        started.resolve();
        await release.promise;
        return 'finished';
      },
    });
    await engine.onClusterReady();
    const { engine: client } = await submitter(name);
    const first = client.submit('slow');
    await started.promise;
    const shutdown = engine.shutdown({ graceMs: 60_000 });
    await until(() => engine.actors().find((actor) => actor.id === 'cluster-worker')?.state === 'draining', 'the worker to drain');
    release.resolve();
    await expect(first.result).resolves.toBe('finished');
    await expect(shutdown).resolves.toMatchObject({ lost: 0, completed: 1 });
  });

  it.each([
    ['its run loop rejects', (_worker: Worker, running: Promise<void>) => rejectedRun(running)],
    [
      'its Redis connection ends for good',
      async (worker: Worker) => {
        await worker.waitUntilReady();
        // As ioredis does when it gives up reconnecting.
        (await worker.backend.client).disconnect();
        return new Promise<void>(() => undefined);
      },
    ],
  ])('is replaced when %s; the next one takes the jobs, each handle settling once', async (_what, fail) => {
    const name = bed.freshCluster('worker-replaced');
    const workers = injectIntoWorkers(name, 1, fail);
    const { engine, records, events } = node(name, { double: (ctx) => 2 * (ctx.input as number) });
    await engine.onClusterReady();
    await until(() => workers.length === 2, 'the worker to be replaced');
    expect(restarts(records)).toEqual([expect.objectContaining({ level: 'warn', restartsInWindow: 1, delayMs: 100 })]);
    expect(engine.actors().find((actor) => actor.id === 'cluster-worker')).toMatchObject({ parent: 'supervisor', state: 'running' });
    const { engine: client, events: submitted } = await submitter(name);
    const handles = [1, 2, 3, 4].map((input) => client.submit('double', { input }));
    await expect(Promise.all(handles.map((handle) => handle.result))).resolves.toEqual([2, 4, 6, 8]);
    // A task's events follow its handle's settling (its node is read from Redis first).
    await until(() => submitted.filter((event) => event.type === 'task.completed').length === 4, 'the tasks’ events');
    expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([]);
  });

  it('fails the attempts it ran with E_WORKER_CRASHED, unreported: BullMQ gives their jobs again, and the task completes once', async () => {
    const name = bed.freshCluster('worker-crashed');
    const crash = deferred<never>();
    injectIntoWorkers(name, 1, (_worker, running) => Promise.race([running, crash.promise]));
    const firstStarted = deferred();
    const reasons: unknown[] = [];
    const { engine, records } = node(name, {
      idempotent: async (ctx) => {
        if (ctx.attempt > 1) return `attempt ${ctx.attempt}`;
        firstStarted.resolve();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        reasons.push(ctx.signal.reason);
        return 'the crashed attempt';
      },
    });
    await engine.onClusterReady();
    const { engine: client, events: submitted } = await submitter(name);
    const handle = client.submit('idempotent', { id: 'once' });
    await firstStarted.promise;
    crash.reject(new Error('injected'));
    await expect(handle.result).resolves.toBe('attempt 2');
    expect(restarts(records)).toHaveLength(1);
    expect(reasons).toEqual([expect.objectContaining({ code: 'E_CANCELLED', cause: expect.objectContaining({ code: 'E_WORKER_CRASHED' }) })]);
    expect(reasons[0]).toBeInstanceOf(MezanError);
    await until(() => submitted.some((event) => event.type === 'task.completed'), 'the task’s end event');
    expect(submitted.filter((event) => event.type === 'task.completed' || event.type === 'task.failed')).toEqual([
      expect.objectContaining({ type: 'task.completed', taskId: 'once', attempt: 2 }),
    ]);
  });

  it('past the restart intensity, the engine escalates: it shuts down, forced, and its report accounts for its tasks', async () => {
    const name = bed.freshCluster('worker-escalates');
    const workers = injectIntoWorkers(name, Infinity, (_worker, running) => rejectedRun(running));
    const escalated: Deferred<void> = deferred();
    const { engine, records, events } = node(name, { answer: () => 42 }, { supervision: { maxRestarts: 1, withinMs: 60_000 } });
    engine.events$.subscribe((event) => event.type === 'engine.escalated' && escalated.resolve());
    await escalated.promise;
    const report = await engine.shutdown();
    // The first failure is restarted; the second is past the limit of one restart.
    expect(workers).toHaveLength(2);
    expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([
      expect.objectContaining({ reason: 'actor failed', actor: 'cluster-worker', restarts: 2 }),
    ]);
    expect(records).toContainEqual(expect.objectContaining({ level: 'error', message: 'the cluster-worker actor failed: the engine shuts down' }));
    expect(report).toMatchObject({ lost: 0 });
  });
});
