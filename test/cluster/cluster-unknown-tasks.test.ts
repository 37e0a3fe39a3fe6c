import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine, type EngineEvent, type TaskContext } from '../../src';
import { deferred, recordingLogger } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { warningsAbout } from '../fixtures/cluster-logged-nodes';
import * as clusterWorker from '../../actors/cluster-worker';
import * as clusterMembership from '../../actors/cluster-membership';
import type { ResolvedClusterOptions } from '../../src/cluster/cluster-options';

// What a node does with the cluster's tasks it does not define: an engine created with no named
// task takes none by default; one that takes tasks while defining none is warned; a task another
// live node defines (a rolling upgrade: this node is older) is given back for it, not failed.
// Real Redis; the tests wait for handles and for Redis's state, never for a delay.

const bed = useClusterTestBed();

afterEach(() => jest.restoreAllMocks());

/**
 * A rolling upgrade: an older node that does not define `crop`, a newer one that does with one slot,
 * busy with `hold` until `release`, and a submitter; resolves once the older node sees the newer
 * one's record and `hold` runs, so that only the older node can take `crop`. The older node joins
 * once `hold` runs: before, it could take `hold` first and give it back, a second later, each time.
 */
async function rollingUpgrade(stem: string, crop: (ctx: TaskContext) => unknown) {
  const name = bed.freshCluster(stem);
  const holding = deferred<void>();
  const release = deferred<void>();
  const newer = createEngine({
    logger: false,
    tasks: {
      resize: () => 'resized',
      hold: async () => {
        holding.resolve();
        await release.promise;
      },
      crop,
    },
    cluster: { redis: bed.redis.url, name, node: 'newer', concurrency: 1 },
  });
  const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter' } });
  bed.engines.push(newer, submitter);
  await Promise.all([newer.onClusterReady(), submitter.onClusterReady()]);
  const held = submitter.submit('hold');
  await holding.promise;
  const older = createEngine({ logger: false, tasks: { resize: () => 'resized' }, cluster: { redis: bed.redis.url, name, node: 'older' } });
  bed.engines.push(older);
  await older.onClusterReady();
  await until(
    async () => (await older.clusterView())?.nodes.some(({ node, tasks }) => node === 'newer' && tasks.includes('crop')) === true,
    'the newer node’s record',
  );
  return { name, older, submitter, held, release };
}

describe('a cluster node and the tasks it does not define', () => {
  it('takes no task by default when its engine is created with no named task: it only submits', async () => {
    const name = bed.freshCluster('tasteless');
    const worker = createEngine({
      logger: false,
      tasks: { resize: (ctx: TaskContext) => ctx.input },
      cluster: { redis: bed.redis.url, name, node: 'worker' },
    });
    // An API process: no tasks of its own, the cluster options left to their defaults.
    const api = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'api' } });
    bed.engines.push(worker, api);
    await Promise.all([worker.onClusterReady(), api.onClusterReady()]);
    const view = await api.clusterView();
    expect(view?.nodes.find(({ node }) => node === 'api')?.concurrency).toBe(0);
    expect(api.actors().some(({ id }) => id === 'cluster-worker')).toBe(false);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        api.submit('resize', { input: n }).result.then(
          () => 'ok',
          (error: { code: string }) => error.code,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([]);
  });

  it('warns, naming cluster.concurrency, of a node that takes the cluster’s tasks but defines none', async () => {
    const { logger, records } = recordingLogger();
    const engine = createEngine({ logger, cluster: { redis: bed.redis.url, name: bed.freshCluster('no-tasks'), node: 'n', concurrency: 2 } });
    bed.engines.push(engine);
    await engine.onClusterReady();
    await until(() => warningsAbout(records, 'defines none').length > 0, 'the warning');
    expect(warningsAbout(records, 'defines none')[0]?.option).toBe('cluster.concurrency');
  });

  it('gives back, for a newer node that defines it, a task it does not define: it runs there, as attempt 1; its submitter sees one start before it runs', async () => {
    const { name, older, submitter, held, release } = await rollingUpgrade('rolling-upgrade', (ctx) => `cropped on attempt ${ctx.attempt}`);
    const events: EngineEvent[] = [];
    submitter.events$.subscribe((event) => 'taskId' in event && event.taskId === 'crop-1' && events.push(event));
    // The newer node's one slot is busy: only the older node can take `crop`.
    const crop = submitter.submit('crop', { id: 'crop-1' });
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      // Idle, the older node takes it again each time it is back, and gives it back a second later: three times.
      await until(async () => crop.isSettled || ((await queue.getJob('crop-1'))?.attemptsStarted ?? 0) >= 3, 'three give-backs');
      await until(async () => crop.isSettled || (await queue.getJobState('crop-1')) === 'delayed', 'the third give-back');
      expect(crop.status).toBe('queued');
      await older.shutdown();
      release.resolve();
      await held.result;
      await expect(crop.result).resolves.toBe('cropped on attempt 1');
    } finally {
      await queue.close();
    }
    expect(
      events.map((event) => [event.type, 'workerId' in event ? event.workerId : undefined, 'attempt' in event ? event.attempt : undefined]),
    ).toEqual([
      ['task.queued', undefined, 1],
      // BullMQ's word of a take comes before the node can tell it gives the job back; the takes after it are no start.
      ['task.started', 'cluster:older', 1],
      ['task.queued', undefined, 1],
      ['task.started', 'cluster:newer', 1],
      ['task.completed', 'cluster:newer', 1],
    ]);
  });

  it('gives back, rather than fails, a task it does not define when it takes one as it begins to drain', async () => {
    const name = bed.freshCluster('draining-unknown');
    // A node that has begun to drain takes no job once its BullMQ worker closes, but it may still be
    // handed one it fetched before: this node's engine says it is not accepting while its worker takes.
    const { ClusterWorker } = clusterWorker;
    const made = (options: ResolvedClusterOptions, host: clusterWorker.ClusterWorkerHost): clusterWorker.ClusterWorker =>
      new ClusterWorker(options, options.node === 'draining' ? { ...host, isAccepting: () => false } : host);
    jest.spyOn(clusterWorker, 'ClusterWorker').mockImplementation(made as never);
    const draining = createEngine({ logger: false, tasks: { resize: () => 'resized' }, cluster: { redis: bed.redis.url, name, node: 'draining' } });
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter' } });
    bed.engines.push(draining, submitter);
    await Promise.all([draining.onClusterReady(), submitter.onClusterReady()]);
    const crop = submitter.submit('crop', { id: 'crop-2' });
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      await until(async () => crop.isSettled || ((await queue.getJob('crop-2'))?.attemptsStarted ?? 0) > 0, 'the draining node to take it');
      // Its worker closes once the job it holds is given back, not forced: a forced close would leave it locked.
      await draining.shutdown();
      expect(crop.isSettled).toBe(false);
      const cropping = createEngine({ logger: false, tasks: { crop: () => 'cropped' }, cluster: { redis: bed.redis.url, name, node: 'cropping' } });
      bed.engines.push(cropping);
      await expect(crop.result).resolves.toBe('cropped');
    } finally {
      await queue.close();
    }
  });

  it('does not give back a task cancelled while it held the job: the newer node never runs it', async () => {
    const cropped: unknown[] = [];
    const { name, submitter, held, release } = await rollingUpgrade('cancel-given-back', (ctx) => cropped.push(ctx.input));
    // The older node's read of the members is held until the task is cancelled: its submitter cannot remove the job the older node holds.
    const reading = deferred();
    const cancelled = deferred();
    const liveNodeDefines = clusterMembership.liveNodeDefines;
    jest.spyOn(clusterMembership, 'liveNodeDefines').mockImplementation(async (...args) => {
      reading.resolve();
      await cancelled.promise;
      return liveNodeDefines(...args);
    });
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    const listener = new Redis(bed.redis.url);
    try {
      const cancels: string[] = [];
      await listener.subscribe(`mezan:${name}:cancel`);
      listener.on('message', (_channel, message: string) => cancels.push(message));
      const crop = submitter.submit('crop', { id: 'crop-cancelled', input: 1 });
      await reading.promise;
      crop.cancel();
      await expect(crop.result).rejects.toMatchObject({ code: 'E_CANCELLED' });
      // The submitter's withdrawal is over (marked, its removal of the held job failed, the cancel published) before the node goes on.
      await until(() => cancels.some((message) => message.includes('crop-cancelled')), 'the cancel to be published');
      cancelled.resolve();
      // The older node lets it go: failed (and then removed by its submitter's withdrawal), not given back.
      await until(async () => ['failed', 'unknown'].includes(await queue.getJobState('crop-cancelled')), 'the job to end on the older node');
      release.resolve();
      await held.result;
      // The newer node, free, finds nothing of it to run.
      expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({ waiting: 0, prioritized: 0, delayed: 0 });
      expect(cropped).toEqual([]);
    } finally {
      listener.disconnect();
      await queue.close();
    }
  });

  it('fails E_UNKNOWN_TASK, without a retry, a task no live node defines', async () => {
    const name = bed.freshCluster('nobody-defines');
    const older = createEngine({ logger: false, tasks: { resize: () => 'resized' }, cluster: { redis: bed.redis.url, name, node: 'older' } });
    bed.engines.push(older);
    await older.onClusterReady();
    await expect(older.submit('crop', { retries: 2 }).result).rejects.toMatchObject({ code: 'E_UNKNOWN_TASK' });
  });
});
