import { Queue } from 'bullmq';
import { createEngine, type Engine, type EngineEvent, type NamedTaskFunctions } from '../../src';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A submitter's shutdown drains its cluster tasks: within the grace period it waits for their ends;
// at the grace's end it stops waiting, and their handles settle E_SHUTDOWN while the tasks go on in
// the cluster. Real Redis, real time: the tests wait for events, never for a delay.

const bed = useClusterTestBed();

async function joinCluster(tasks: NamedTaskFunctions): Promise<{ name: string; submitter: Engine; phases: string[] }> {
  const name = bed.freshCluster('shutdown');
  const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
  const worker = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'worker' } });
  bed.engines.push(submitter, worker);
  await Promise.all([submitter.onClusterReady(), worker.onClusterReady()]);
  const phases: string[] = [];
  submitter.events$.subscribe((event: EngineEvent) => {
    if (event.type === 'shutdown.phase') phases.push(event.phase);
  });
  return { name, submitter, phases };
}

describe('a submitter’s shutdown and its cluster tasks', () => {
  it('waits, while draining, for the cluster tasks it submitted: their handles settle with their results', async () => {
    const started = deferred();
    const release = deferred();
    const { submitter, phases } = await joinCluster({
      gated: async (ctx) => {
        started.resolve();
        await release.promise;
        return `done ${String(ctx.input)}`;
      },
    });
    const handle = submitter.submit('gated', { input: 1 });
    await started.promise;
    let stopped = false;
    const report = submitter.shutdown({ graceMs: 60_000 }).then((result) => {
      stopped = true;
      return result;
    });
    expect(phases).toEqual(['draining']);
    expect(submitter.submit('gated').status).toBe('rejected');
    release.resolve();
    await expect(handle.result).resolves.toBe('done 1');
    await report;
    expect(stopped).toBe(true);
    expect(phases).toEqual(['draining', 'stopped']);
  });

  it('stops waiting at the grace’s end: the handle settles E_SHUTDOWN, and the task goes on in the cluster', async () => {
    const started = deferred();
    const release = deferred();
    const { name, submitter, phases } = await joinCluster({
      gated: async () => {
        started.resolve();
        await release.promise;
        return 'finished anyway';
      },
    });
    const handle = submitter.submit('gated', { id: 'outlives-its-submitter' });
    await started.promise;
    await submitter.shutdown({ graceMs: 20 });
    expect(phases).toEqual(['draining', 'terminating', 'stopped']);
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_SHUTDOWN');
    expect(error.message).toContain('goes on in the cluster');
    expect(handle.status).toBe('cancelled');
    release.resolve();
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      const deadline = Date.now() + 10_000;
      while ((await queue.getJobState('outlives-its-submitter')) !== 'completed') {
        if (Date.now() > deadline) throw new Error('the task never completed in the cluster');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect((await queue.getJob('outlives-its-submitter'))?.returnvalue).toBe('finished anyway');
    } finally {
      await queue.close();
    }
  });

  it('tells "will not run" at the grace’s end only of tasks whose jobs were not on their way: those never run, the others all do', async () => {
    const ran = new Set<string>();
    const { name, submitter } = await joinCluster({ t: (ctx) => void ran.add(ctx.id) });
    // Some are in the outbox still, some on their way to Redis, some added, as the turns fall.
    const handles = Array.from({ length: 30 }, () => submitter.submit('t'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    handles.push(...Array.from({ length: 30 }, () => submitter.submit('t')));
    await submitter.shutdown({ force: true, graceMs: 0 });
    const willNotRun = new Set<string>();
    const goesOn = new Set<string>();
    for (const handle of handles) {
      const error = await rejectionOf(handle).catch(() => undefined);
      if (error === undefined) continue;
      expect(error.code).toBe('E_SHUTDOWN');
      (/will not run/.test(error.message) ? willNotRun : goesOn).add(handle.id);
    }
    expect(willNotRun.size).toBeGreaterThan(0);
    await until(() => [...goesOn].every((id) => ran.has(id)), 'every task that goes on in the cluster to run');
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      await until(async () => {
        const counts = await queue.getJobCounts('wait', 'active', 'prioritized', 'delayed');
        return Object.values(counts).every((count) => count === 0);
      }, 'the queue to be empty');
    } finally {
      await queue.close();
    }
    expect([...willNotRun].filter((id) => ran.has(id))).toEqual([]);
  });

  it('cancels, draining with drain: cancel, the cluster tasks it submitted that no node started, and waits for the one running', async () => {
    const name = bed.freshCluster('drain-cancel');
    const release = deferred();
    const runs: string[] = [];
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    // One at a time: the first task runs, the others wait in the queue.
    const worker = createEngine({
      logger: false,
      tasks: {
        held: async (ctx) => {
          runs.push(ctx.id);
          await release.promise;
          return `done ${ctx.id}`;
        },
      },
      cluster: { redis: bed.redis.url, name, node: 'worker', concurrency: 1 },
    });
    bed.engines.push(submitter, worker);
    await Promise.all([submitter.onClusterReady(), worker.onClusterReady()]);
    const started = deferred();
    submitter.events$.subscribe((event) => event.type === 'task.started' && started.resolve());
    const running = submitter.submit('held', { id: 'running-1' });
    await started.promise;
    const queued = ['queued-2', 'queued-3'].map((id) => submitter.submit('held', { id }));
    const report = submitter.shutdown({ drain: 'cancel', graceMs: 60_000 });
    for (const handle of queued) {
      const error = await rejectionOf(handle);
      expect([handle.status, error.code]).toEqual(['cancelled', 'E_SHUTDOWN']);
    }
    release.resolve();
    await expect(running.result).resolves.toBe('done running-1');
    expect((await report).cluster).toMatchObject({ submitted: 3, completed: 1, cancelled: 2 });
    // Taken out of the queue: no node runs them later.
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({ waiting: 0, prioritized: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
    expect(runs).toEqual(['running-1']);
  });

  it('stops waiting at once when forced', async () => {
    const started = deferred();
    const { submitter } = await joinCluster({
      hang: (ctx) => {
        started.resolve();
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    });
    const handle = submitter.submit('hang');
    await started.promise;
    await submitter.shutdown({ force: true });
    expect((await rejectionOf(handle)).code).toBe('E_SHUTDOWN');
  });
});
