import type { Engine, EngineEvent, NamedTaskFunctions, TaskContext } from '../../src';
import { createEngine, MezanError } from '../../src';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// The submitter's engine events for its cluster tasks: task.queued, task.started (on which node,
// which attempt), task.progress (the running node's ctx.progress) and the end, in order, into its
// events$ and its monitor's timings, as for a local task. Real Redis, real time: the tests wait for
// the handles, never for a delay.

const bed = useClusterTestBed();

async function joinCluster(tasks: NamedTaskFunctions): Promise<Engine> {
  const name = bed.freshCluster('events');
  const submitter = createEngine({
    logger: false,
    metrics: { timings: 'always' },
    cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 },
  });
  const worker = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'worker-1' } });
  bed.engines.push(submitter, worker);
  await Promise.all([submitter.onClusterReady(), worker.onClusterReady()]);
  return submitter;
}

/** The submitter's events about task `id`, once its handle settled and its events are all out. */
function eventsOf(submitter: Engine): { of(id: string): Promise<EngineEvent[]> } {
  const seen: EngineEvent[] = [];
  submitter.events$.subscribe((event) => seen.push(event));
  return {
    async of(id) {
      const deadline = Date.now() + 10_000;
      // A terminal event may wait for the start's read: poll, bounded, for it.
      while (!seen.some((event) => 'taskId' in event && event.taskId === id && TERMINAL.has(event.type))) {
        if (Date.now() > deadline) throw new Error(`no terminal event for ${id}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return seen.filter((event) => 'taskId' in event && event.taskId === id);
    },
  };
}

const TERMINAL = new Set(['task.completed', 'task.failed', 'task.cancelled', 'task.timeout', 'task.deadlock', 'task.rejected']);

describe('events of cluster tasks reach their submitter', () => {
  it('publishes queued, started, each progress and completed, with the node and the attempt', async () => {
    const submitter = await joinCluster({
      resize: (ctx) => {
        ctx.progress(0.25, 'decoded');
        ctx.progress(0.75);
        return 'resized';
      },
    });
    const events = eventsOf(submitter);
    const handle = submitter.submit('resize', { id: 'resize-1', priority: 3 });
    await expect(handle.result).resolves.toBe('resized');
    const seen = await events.of('resize-1');
    expect(seen.map((event) => event.type)).toEqual(['task.queued', 'task.started', 'task.progress', 'task.progress', 'task.completed']);
    expect(seen[0]).toMatchObject({ name: 'resize', attempt: 1, priority: 3 });
    expect(seen[1]).toMatchObject({ attempt: 1, workerId: 'cluster:worker-1' });
    expect(seen[2]).toMatchObject({ attempt: 1, workerId: 'cluster:worker-1', fraction: 0.25, message: 'decoded' });
    expect(seen[3]).toMatchObject({ fraction: 0.75, message: undefined });
    expect(seen[4]).toMatchObject({ attempt: 1, workerId: 'cluster:worker-1', durationMs: expect.any(Number) });
    const metrics = submitter.metrics();
    expect(metrics.taskWait.count).toBe(1);
    expect(metrics.taskRun.count).toBe(1);
  });

  it('counts the attempts in task.started, announces each retry with task.retrying, and ends with task.failed carrying the code', async () => {
    const submitter = await joinCluster({
      flaky: (ctx) => {
        throw new Error(`attempt ${ctx.attempt} fails`);
      },
    });
    const events = eventsOf(submitter);
    const handle = submitter.submit('flaky', { id: 'flaky-1', retries: { max: 1, delayMs: 1 } });
    expect((await rejectionOf(handle)).code).toBe('E_TASK_FAILED');
    const seen = await events.of('flaky-1');
    expect(seen.map((event) => [event.type, 'attempt' in event ? event.attempt : undefined])).toEqual([
      ['task.queued', 1],
      ['task.started', 1],
      ['task.retrying', 1],
      ['task.queued', 2],
      ['task.started', 2],
      ['task.failed', 2],
    ]);
    const retrying = seen[2] as Extract<EngineEvent, { type: 'task.retrying' }>;
    expect(retrying).toMatchObject({ code: 'E_TASK_FAILED', workerId: 'cluster:worker-1', delayMs: 1 });
    expect(retrying.error).toBeInstanceOf(MezanError);
    expect((retrying.error as MezanError).message).toContain('attempt 1 fails');
    expect(seen[5]).toMatchObject({ code: 'E_TASK_FAILED', workerId: 'cluster:worker-1' });
    // Each attempt's wait, from its task.queued to its task.started, in the submitter's metrics.
    expect(submitter.metrics().taskWait.count).toBe(2);
  });

  it('leaves out a late ctx.progress of an earlier attempt: the task’s events name the attempt that runs', async () => {
    let firstContext: TaskContext | undefined;
    const second = deferred();
    const submitter = await joinCluster({
      flaky: async (ctx) => {
        if (ctx.attempt === 1) {
          firstContext = ctx;
          throw new Error('first attempt fails');
        }
        await second.promise;
        ctx.progress(0.9, 'current');
        return 'done';
      },
    });
    const events = eventsOf(submitter);
    const started = deferred();
    submitter.events$.subscribe((event) => event.type === 'task.started' && event.attempt === 2 && started.resolve());
    const handle = submitter.submit('flaky', { id: 'stale-1', retries: { max: 1, delayMs: 1 } });
    await started.promise;
    // Attempt 1 ended; something it left behind still reports, before attempt 2 does.
    firstContext!.progress(0.5, 'late');
    second.resolve();
    await expect(handle.result).resolves.toBe('done');
    const seen = await events.of('stale-1');
    expect(seen.filter((event) => event.type === 'task.progress')).toEqual([
      expect.objectContaining({ attempt: 2, fraction: 0.9, message: 'current' }),
    ]);
    expect(seen.at(-1)).toMatchObject({ type: 'task.completed', attempt: 2 });
  });

  it('has published task.started and the end by the time the handle’s caller resumes, as a local engine has', async () => {
    const submitter = await joinCluster({ echo: (ctx) => ctx.input });
    const seen: string[] = [];
    submitter.events$.subscribe((event) => 'taskId' in event && seen.push(`${event.type} ${event.taskId}`));
    for (const id of ['ordered-1', 'ordered-2', 'ordered-3']) {
      await submitter.submit('echo', { id, input: id }).result;
      expect(seen.filter((line) => line.endsWith(` ${id}`))).toEqual([`task.queued ${id}`, `task.started ${id}`, `task.completed ${id}`]);
    }
  });

  it('publishes the end of a cluster task that completed just before its engine shut down: its events$ end after it', async () => {
    const submitter = await joinCluster({ echo: (ctx) => ctx.input });
    const seen: string[] = [];
    submitter.events$.subscribe((event) => 'taskId' in event && seen.push(`${event.type} ${event.taskId}`));
    await submitter.submit('echo', { id: 'before-stop-1', input: 1 }).result;
    await submitter.shutdown();
    expect(seen).toEqual(['task.queued before-stop-1', 'task.started before-stop-1', 'task.completed before-stop-1']);
  });

  it('publishes the end of a cluster task its engine stopped waiting for at a forced shutdown, before its events$ end', async () => {
    const release = deferred();
    const submitter = await joinCluster({ held: () => release.promise });
    const seen: EngineEvent[] = [];
    const started = deferred();
    submitter.events$.subscribe((event) => {
      seen.push(event);
      if (event.type === 'task.started') started.resolve();
    });
    const handle = submitter.submit('held', { id: 'held-1' });
    await started.promise;
    await submitter.shutdown({ force: true, graceMs: 0 });
    expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
    expect(seen.filter((event) => 'taskId' in event).map((event) => event.type)).toEqual(['task.queued', 'task.started', 'task.cancelled']);
    expect(seen.find((event) => event.type === 'task.cancelled')).toMatchObject({ code: 'E_SHUTDOWN' });
    release.resolve();
  });

  it('publishes nothing after task.cancelled for a task submitted with a signal aborted already', async () => {
    const submitter = await joinCluster({ never: () => 'ran' });
    const events = eventsOf(submitter);
    const handle = submitter.submit('never', { signal: AbortSignal.abort('before'), id: 'aborted-1' });
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    const types = (await events.of('aborted-1')).map((event) => event.type);
    expect(types[types.length - 1]).toBe('task.cancelled');
    expect(types).not.toContain('task.queued');
  });

  it('ends with task.cancelled for a cancelled task, and task.queued only once a dependant is sent', async () => {
    const release = deferred();
    const submitter = await joinCluster({ slow: () => release.promise.then(() => 'slow'), after: () => 'after' });
    const events = eventsOf(submitter);
    const slow = submitter.submit('slow', { id: 'slow-1' });
    const after = submitter.submit('after', { id: 'after-1', dependsOn: [slow] });
    const cancelled = submitter.submit('slow', { id: 'slow-2' });
    cancelled.cancel();
    release.resolve();
    await expect(after.result).resolves.toBe('after');
    expect((await events.of('slow-2')).map((event) => event.type).slice(-1)).toEqual(['task.cancelled']);
    const ofAfter = await events.of('after-1');
    const ofSlow = await events.of('slow-1');
    expect(ofAfter[0]!.type).toBe('task.queued');
    expect(ofAfter[0]!.at).toBeGreaterThanOrEqual(ofSlow.find((event) => event.type === 'task.completed')!.at);
  });

  it('does not count a start given back unrun by a node forced to stop: back in the queue, the next node runs attempt 1', async () => {
    const name = bed.freshCluster('events');
    const started = deferred();
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    const first = createEngine({
      logger: false,
      tasks: {
        job: (ctx) => {
          started.resolve();
          return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        },
      },
      cluster: { redis: bed.redis.url, name, node: 'first' },
    });
    bed.engines.push(submitter, first);
    await Promise.all([submitter.onClusterReady(), first.onClusterReady()]);
    const events = eventsOf(submitter);
    const handle = submitter.submit('job', { id: 'given-back' });
    await started.promise;
    await first.shutdown({ force: true });
    const second = createEngine({
      logger: false,
      tasks: { job: (ctx) => `attempt ${ctx.attempt}` },
      cluster: { redis: bed.redis.url, name, node: 'second' },
    });
    bed.engines.push(second);
    await expect(handle.result).resolves.toBe('attempt 1');
    const seen = await events.of('given-back');
    expect(
      seen.map((event) => [event.type, 'attempt' in event ? event.attempt : undefined, 'workerId' in event ? event.workerId : undefined]),
    ).toEqual([
      ['task.queued', 1, undefined],
      ['task.started', 1, 'cluster:first'],
      ['task.queued', 1, undefined],
      ['task.started', 1, 'cluster:second'],
      ['task.completed', 1, 'cluster:second'],
    ]);
  });
});
