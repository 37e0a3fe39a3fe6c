import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine, type Engine, type EngineEvent, type EngineOptions, type TaskHandle } from '../../src';
import { deferred, recordingLogger, rejectionOf, type Deferred } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A cluster node's submitting side is an actor under the supervisor, as its working side is: in
// the actor tree, and replaced when its queue events stop for good. The handles it sent outlive it
// (the engine owns them): its successor reads on from the last event heard, reconciles every
// pending handle from Redis, and sends what was submitted meanwhile. On a real redis-server; the
// failures are injected into the node's BullMQ QueueEvents (its run loop rejected, or its Redis
// connection ended from outside), and the successor is held back until the jobs have ended.

const bed = useClusterTestBed();

const RESTARTING = 'the cluster submitter failed: restarting it';

/** A node of cluster `name` that takes its tasks: `double` waits for `release`, then doubles its input. */
function workingNode(name: string, release: Promise<void>): { engine: Engine; started: number[] } {
  const started: number[] = [];
  const engine = createEngine({
    logger: false,
    // Every task it takes runs at once: they all wait for `release`.
    concurrency: 8,
    tasks: {
      double: async (ctx) => {
        started.push(ctx.input as number);
        await release;
        return 2 * (ctx.input as number);
      },
    },
    cluster: { redis: bed.redis.url, name, node: 'w', concurrency: 8 },
  });
  bed.engines.push(engine);
  return { engine, started };
}

/** A node of cluster `name` that only submits, with the records it logged and the events it published. */
function submittingNode(
  name: string,
  options: Partial<EngineOptions> = {},
): { engine: Engine; records: Array<Record<string, unknown>>; events: EngineEvent[] } {
  const { logger, records } = recordingLogger();
  const engine = createEngine({ logger, cluster: { redis: bed.redis.url, name, node: 's', concurrency: 0 }, ...options });
  bed.engines.push(engine);
  const events: EngineEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  return { engine, records, events };
}

/**
 * Takes over the QueueEvents of cluster `name`'s queue: the first fails (`fail`) once `crash` is
 * resolved, and up to the `failing`-th each next one fails at once; those after wait for `resume`
 * before they connect and read.
 */
function injectIntoQueueEvents(
  name: string,
  fail: (events: QueueEvents) => Promise<void>,
  failing = 1,
): { instances: QueueEvents[]; crash: Deferred<void>; resume: Deferred<void> } {
  const instances: QueueEvents[] = [];
  const crash = deferred();
  const resume = deferred();
  const run = QueueEvents.prototype.run;
  const ready = QueueEvents.prototype.waitUntilReady;
  const ours = (events: QueueEvents) => events.qualifiedName === `mezan:${name}`;
  jest.spyOn(QueueEvents.prototype, 'run').mockImplementation(function (this: QueueEvents) {
    if (!ours(this)) return run.call(this);
    instances.push(this);
    if (instances.length === 1) {
      const running = run.call(this);
      running.catch(() => undefined);
      return Promise.race([running, crash.promise.then(() => fail(this))]);
    }
    if (instances.length <= failing) return fail(this);
    return resume.promise.then(() => run.call(this));
  });
  jest.spyOn(QueueEvents.prototype, 'waitUntilReady').mockImplementation(function (this: QueueEvents) {
    const at = instances.indexOf(this);
    if (!ours(this) || at < Math.max(1, failing)) return ready.call(this);
    return resume.promise.then(() => ready.call(this));
  });
  return { instances, crash, resume };
}

const rejectRun = (): Promise<void> => Promise.reject(new Error('injected: the run loop rejected'));

/** As ioredis does when it gives up reconnecting. */
async function endConnection(events: QueueEvents): Promise<void> {
  (await events.backend.client).disconnect();
  return new Promise<void>(() => undefined);
}

const submitterState = (engine: Engine) => engine.actors().find((actor) => actor.id === 'cluster-submitter')?.state;
const restarts = (records: ReadonlyArray<Record<string, unknown>>) => records.filter((record) => record['message'] === RESTARTING);

/** Waits until jobs `ids` of cluster `name` have completed in Redis (read in BullMQ's completed set, not through a queue). */
async function untilCompleted(name: string, ids: readonly string[]): Promise<void> {
  const redis = new Redis(bed.redis.url);
  try {
    await until(
      async () => (await Promise.all(ids.map((id) => redis.zscore(`mezan:${name}:completed`, id)))).every((score) => score !== null),
      'the jobs to complete',
    );
  } finally {
    redis.disconnect();
  }
}

/** Drops every event of cluster `name`'s queue from its stream: a job's end is then only read from the job. */
async function trimEvents(name: string): Promise<void> {
  const redis = new Redis(bed.redis.url);
  try {
    await redis.xtrim(`mezan:${name}:events`, 'MAXLEN', 0);
  } finally {
    redis.disconnect();
  }
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('the cluster submitter under the supervisor', () => {
  it('is an actor of the tree, a child of the supervisor, on every cluster node', async () => {
    const name = bed.freshCluster('submitter-tree');
    const release = deferred();
    release.resolve();
    const { engine: worker } = workingNode(name, release.promise);
    const { engine } = submittingNode(name);
    await Promise.all([worker.onClusterReady(), engine.onClusterReady()]);
    for (const node of [worker, engine])
      expect(node.actors().filter((actor) => actor.id === 'cluster-submitter')).toEqual([
        { id: 'cluster-submitter', machine: 'cluster-submitter', parent: 'supervisor', state: 'running' },
      ]);
    await expect(engine.submit('double', { input: 21 }).result).resolves.toBe(42);
  });

  it.each([
    ['its queue events’ run loop rejects', rejectRun],
    ['its queue events’ Redis connection ends for good', endConnection],
  ])(
    'is replaced when %s: the handles whose jobs ended meanwhile settle once, from Redis, and the submissions made meanwhile are sent',
    async (_what, fail) => {
      const name = bed.freshCluster('submitter-replaced');
      const { instances, crash, resume } = injectIntoQueueEvents(name, fail);
      const release = deferred();
      const { engine: worker, started } = workingNode(name, release.promise);
      const { engine, records, events } = submittingNode(name);
      await Promise.all([worker.onClusterReady(), engine.onClusterReady()]);
      const handles = [1, 2, 3].map((input) => engine.submit('double', { id: `before-${input}`, input }));
      await until(() => started.length === 3, 'the tasks to run');
      crash.resolve();
      await until(() => submitterState(engine) === 'error', 'the submitter to fail');
      // Submitted while no submitter lives: it waits for the next one.
      const meanwhile = engine.submit('double', { id: 'meanwhile', input: 4 });
      // And one that depends on it: its flow waits for the job of its dependency to be added.
      const dependant = engine.submit('double', { id: 'dependant', input: 5, dependsOn: [meanwhile] });
      await until(() => instances.length === 2, 'the submitter to be replaced');
      expect(submitterState(engine)).toBe('running');
      // The jobs end while no submitter hears of it, and their events are gone: only Redis can tell.
      release.resolve();
      await untilCompleted(name, ['before-1', 'before-2', 'before-3']);
      await trimEvents(name);
      resume.resolve();
      await expect(Promise.all(handles.map((handle) => handle.result))).resolves.toEqual([2, 4, 6]);
      await expect(meanwhile.result).resolves.toBe(8);
      await expect(dependant.result).resolves.toBe(10);
      expect(restarts(records)).toEqual([expect.objectContaining({ level: 'warn', restartsInWindow: 1, delayMs: 100 })]);
      await until(() => events.filter((event) => event.type === 'task.completed').length === 5, 'the tasks’ events');
      expect(
        events
          .filter((event) => event.type === 'task.completed' || event.type === 'task.failed')
          .map((event) => event.taskId)
          .sort(),
      ).toEqual(['before-1', 'before-2', 'before-3', 'dependant', 'meanwhile']);
      expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([]);
      expect(engine.isIdle).toBe(true);
    },
  );

  it('hears, in its successor, the events of the jobs that ended while it was being replaced', async () => {
    const name = bed.freshCluster('submitter-reads-on');
    const { instances, crash, resume } = injectIntoQueueEvents(name, rejectRun);
    const release = deferred();
    const { engine: worker, started } = workingNode(name, release.promise);
    const { engine, events } = submittingNode(name, {
      cluster: { redis: bed.redis.url, name, node: 's', concurrency: 0, reconcileIntervalMs: 600_000 },
    });
    await Promise.all([worker.onClusterReady(), engine.onClusterReady()]);
    // Its reconciliation reads nothing: the end can only be heard.
    const getJobState = Queue.prototype.getJobState;
    jest.spyOn(Queue.prototype, 'getJobState').mockImplementation(function (this: Queue, id: string) {
      return this.name === name ? new Promise<never>(() => undefined) : getJobState.call(this, id);
    });
    const handle = engine.submit('double', { id: 'heard', input: 5 });
    await until(() => started.length === 1 && handle.status === 'running', 'the task to run');
    crash.resolve();
    await until(() => instances.length === 2, 'the submitter to be replaced');
    release.resolve();
    await untilCompleted(name, ['heard']);
    resume.resolve();
    await expect(handle.result).resolves.toBe(10);
    await until(() => events.some((event) => event.type === 'task.completed'), 'the task’s end event');
    expect(events.filter((event) => event.type === 'task.completed')).toEqual([expect.objectContaining({ taskId: 'heard', workerId: 'cluster:w' })]);
  });

  it.each([
    [
      'a cancel, then a forced shutdown',
      async (engine: Engine, handle: TaskHandle<unknown>) => {
        expect(handle.cancel()).toBe(true);
        await engine.shutdown({ force: true });
      },
    ],
    [
      'a shutdown with drain: cancel',
      async (engine: Engine, handle: TaskHandle<unknown>) => {
        await engine.shutdown({ drain: 'cancel', graceMs: 60_000 });
        expect(handle.status).toBe('cancelled');
      },
    ],
  ] as const)(
    'takes a queued task out of the queue on %s while its submitter is being replaced: no successor came, and the task will not run',
    async (_case, stop) => {
      const name = bed.freshCluster('submitter-last-requests');
      // The successor would wait for resume: the engine stops before one runs.
      const { instances, crash } = injectIntoQueueEvents(name, rejectRun);
      const { engine } = submittingNode(name, { cluster: { redis: bed.redis.url, name, node: 's', concurrency: 0 } });
      await engine.onClusterReady();
      const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
      try {
        // No node works: the job waits in the queue.
        const handle = engine.submit('double', { id: 'to-cancel', input: 1 });
        await until(async () => (await queue.getJobState('to-cancel')) !== 'unknown', 'the job to be queued');
        crash.resolve();
        await until(() => submitterState(engine) === 'error', 'the submitter to fail');
        await stop(engine, handle);
        expect(instances).toHaveLength(1);
        expect(await queue.getJobState('to-cancel')).toBe('unknown');
      } finally {
        await queue.close();
      }
    },
  );

  it('past the restart intensity, the engine escalates: it shuts down, forced, and the handles it waited for settle once', async () => {
    const name = bed.freshCluster('submitter-escalates');
    const { instances, crash } = injectIntoQueueEvents(name, rejectRun, Infinity);
    const release = deferred();
    const { engine: worker, started } = workingNode(name, release.promise);
    const { engine, records, events } = submittingNode(name, { supervision: { maxRestarts: 1, withinMs: 60_000 } });
    await Promise.all([worker.onClusterReady(), engine.onClusterReady()]);
    const handle = engine.submit('double', { id: 'abandoned', input: 1 });
    await until(() => started.length === 1, 'the task to run');
    const escalated = deferred();
    engine.events$.subscribe((event) => event.type === 'engine.escalated' && escalated.resolve());
    crash.resolve();
    await escalated.promise;
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_SHUTDOWN');
    expect(error.message).toContain('the task itself goes on in the cluster');
    const report = await engine.shutdown();
    // The first failure is restarted; the second is past the limit of one restart.
    expect(instances).toHaveLength(2);
    expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([
      expect.objectContaining({ reason: 'actor failed', actor: 'cluster-submitter', restarts: 2 }),
    ]);
    expect(records).toContainEqual(expect.objectContaining({ level: 'error', message: 'the cluster-submitter actor failed: the engine shuts down' }));
    expect(report).toMatchObject({ lost: 0 });
    release.resolve();
  });
});
