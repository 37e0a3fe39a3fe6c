import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { withdrawnKey } from '../../actors/cluster-gates';
import { submissionOf, type ClusterJobData } from '../../src/cluster/cluster-job';
import { createEngine, MezanError, type DependencyOutcome, type Engine, type NamedTaskFunctions, type TaskContext, type TaskHandle } from '../../src';
import { deferred, rejectionOf, thrownBy } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// Dependencies between cluster tasks, with a local engine's semantics: a dependant whose
// dependencies have ended is sent with their outcomes; one that must wait is a BullMQ flow whose
// children are gates (actors/cluster-gates.ts), so that its wait lives in Redis and outlives
// its submitter. Real time on a real redis-server: the tests wait for events (deferreds), never for a delay.

const bed = useClusterTestBed();

async function joinCluster(tasks: NamedTaskFunctions, concurrency = 4): Promise<{ submitter: Engine; worker: Engine; name: string }> {
  const name = bed.freshCluster('deps');
  const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
  // A gate nobody wakes (its submitter gone) reads its dependency again after `reconcileIntervalMs`.
  const worker = createEngine({
    logger: false,
    concurrency,
    tasks,
    cluster: { redis: bed.redis.url, name, node: 'worker', reconcileIntervalMs: 50 },
  });
  bed.engines.push(submitter, worker);
  await Promise.all([submitter.onClusterReady(), worker.onClusterReady()]);
  return { submitter, worker, name };
}

/** Reads job `id` of cluster `name` from Redis, as any BullMQ client would, until it is in `state`. */
async function untilJob(name: string, id: string, state: string): Promise<{ failedReason: string | undefined }> {
  const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
  try {
    await until(async () => (await queue.getJobState(id)) === state, `job ${id} to be ${state}`);
    return { failedReason: (await queue.getJob(id))?.failedReason };
  } finally {
    await queue.close();
  }
}

describe('dependencies between cluster tasks', () => {
  it('runs the dependant once its dependencies completed, with their outcomes in ctx.dependencies', async () => {
    const release = deferred();
    const seen: Array<readonly DependencyOutcome[]> = [];
    const ran: string[] = [];
    const { submitter } = await joinCluster({
      fetch: async (ctx) => {
        await release.promise;
        ran.push(`fetch ${String(ctx.input)}`);
        return { rows: ctx.input };
      },
      report: (ctx) => {
        ran.push('report');
        seen.push(ctx.dependencies);
        return ctx.dependencies.length;
      },
    });
    const a = submitter.submit('fetch', { id: 'fetch-a', input: 1 });
    submitter.submit('fetch', { id: 'fetch-b', input: 2 });
    const report = submitter.submit('report', { dependsOn: [a, 'fetch-b'] });
    expect(report.status).toBe('waiting');
    release.resolve();
    await expect(report.result).resolves.toBe(2);
    expect(ran.slice(-1)).toEqual(['report']);
    expect(ran.slice(0, 2).sort()).toEqual(['fetch 1', 'fetch 2']);
    expect(seen).toEqual([
      [
        { id: 'fetch-a', name: 'fetch', status: 'completed', value: { rows: 1 } },
        { id: 'fetch-b', name: 'fetch', status: 'completed', value: { rows: 2 } },
      ],
    ]);
  });

  it('fails the dependant E_DEPENDENCY_FAILED when a dependency fails, unless it allows a settled one', async () => {
    let reports = 0;
    const seen: Array<readonly DependencyOutcome[]> = [];
    const { submitter } = await joinCluster({
      charge: () => {
        throw new Error('card declined');
      },
      report: () => ++reports,
      cleanup: (ctx) => {
        seen.push(ctx.dependencies);
        return 'cleaned';
      },
    });
    const charge = submitter.submit('charge', { id: 'charge-1' });
    const report = submitter.submit('report', { dependsOn: [charge] });
    const cleanup = submitter.submit('cleanup', { dependsOn: [{ task: charge, allow: 'settled' }] });
    const error = await rejectionOf(report);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details).toMatchObject({ dependency: 'charge-1', dependencyStatus: 'failed' });
    expect(report.status).toBe('failed');
    await expect(cleanup.result).resolves.toBe('cleaned');
    expect(reports).toBe(0);
    const [outcome] = seen[0]!;
    expect(outcome).toMatchObject({ id: 'charge-1', name: 'charge', status: 'failed' });
    expect(outcome!.error).toBeInstanceOf(MezanError);
    expect(outcome!.error!.code).toBe('E_TASK_FAILED');
    expect(outcome!.error!.message).toContain('card declined');
  });

  it('removes a dependant cancelled while it waits, so it never runs; a cancelled dependency fails its dependants', async () => {
    const release = deferred();
    const ran: string[] = [];
    const { submitter } = await joinCluster({
      slow: async () => {
        await release.promise;
        ran.push('slow');
      },
      after: () => void ran.push('after'),
    });
    const slow = submitter.submit('slow');
    const cancelled = submitter.submit('after', { dependsOn: [slow] });
    expect(cancelled.cancel()).toBe(true);
    const runs = submitter.submit('after', { dependsOn: [slow] });
    const doomed = submitter.submit('slow', { id: 'to-cancel' });
    const orphan = submitter.submit('after', { dependsOn: ['to-cancel'] });
    expect(thrownBy(() => submitter.submit('after', { dependsOn: ['to-cancel', 'no-such-id'] })).details['option']).toBe('dependsOn[1]');
    doomed.cancel();
    const error = await rejectionOf(orphan);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details['dependencyStatus']).toBe('cancelled');
    release.resolve();
    await expect(runs.result).resolves.toBeNull();
    expect((await rejectionOf(cancelled)).code).toBe('E_CANCELLED');
    expect(ran.filter((name) => name === 'after')).toHaveLength(1);
  });

  it('gives a dependant a dependency cancelled while queued as cancelled (E_CANCELLED), as a local engine does', async () => {
    const name = bed.freshCluster('cancelled-dependency');
    let seen: unknown;
    const tasks: NamedTaskFunctions = {
      slow: () => 'slow ran',
      after: (ctx) => {
        seen = ctx.dependencies.map(({ status, error }) => ({ status, code: error?.code }));
        return 'after ran';
      },
    };
    // No working node yet: the dependency is cancelled while its job waits in the queue.
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    bed.engines.push(submitter);
    await submitter.onClusterReady();
    const slow = submitter.submit('slow', { id: 'slow-5' });
    const after = submitter.submit('after', { id: 'after-5', dependsOn: [{ task: slow, allow: 'settled' }] });
    await untilJob(name, 'after-5', 'waiting-children');
    slow.cancel('not needed');
    await untilJob(name, 'slow-5', 'unknown');
    const worker = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'worker' } });
    bed.engines.push(worker);
    await expect(after.result).resolves.toBe('after ran');
    expect(seen).toEqual([{ status: 'cancelled', code: 'E_CANCELLED' }]);
  });

  it('gives a dependant a dependency cancelled before its job was sent as cancelled (E_CANCELLED), as a local engine does', async () => {
    const outcomes = (ctx: TaskContext): unknown => ctx.dependencies.map(({ status, error }) => ({ status, code: error?.code }));
    const { submitter } = await joinCluster({ a: () => 'a', b: outcomes });
    const dependency = submitter.submit('a', { id: 'unsent-dependency' });
    const dependant = submitter.submit('b', { id: 'unsent-dependant', dependsOn: [{ task: dependency, allow: 'settled' }] });
    // In the turn it was submitted: its job never reaches Redis, where the dependant's gate would read it.
    dependency.cancel();
    await expect(dependant.result).resolves.toEqual([{ status: 'cancelled', code: 'E_CANCELLED' }]);
  });

  it('takes a settled handle of any task, and refuses an unfinished local task, saying why', async () => {
    const { submitter } = await joinCluster({ echo: (ctx) => ctx.dependencies.map((outcome) => outcome.value) });
    const local = submitter.submit(async () => 'local value');
    const error = thrownBy(() => submitter.submit('echo', { dependsOn: [local] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('dependsOn[0]');
    expect(error.message).toContain('an unfinished local task cannot be a cluster task’s dependency');
    await local.result;
    await expect(submitter.submit('echo', { dependsOn: [local] }).result).resolves.toEqual(['local value']);
    const unclonable = submitter.submit(async () => BigInt(1));
    await unclonable.result;
    expect(thrownBy(() => submitter.submit('echo', { dependsOn: [unclonable] })).details['option']).toBe('dependsOn[0]');
  });

  it('refuses a hole in dependsOn as a dependency of undefined, naming it, and keeps nothing of the refused task', async () => {
    const { submitter } = await joinCluster({ echo: (ctx) => ctx.input });
    const first = submitter.submit('echo', { input: 1 });
    // eslint-disable-next-line no-sparse-arrays -- a hole, as a caller's array (from JavaScript) may have
    const holey = [, first] as unknown as readonly TaskHandle<unknown>[];
    const error = thrownBy(() => submitter.submit('echo', { dependsOn: holey }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('dependsOn[0]');
    await first.result;
    // Nothing pending: a shutdown has nothing to wait for.
    expect(submitter.progress().cluster).toMatchObject({ pending: 0 });
  });

  it('lists in ctx.dependencies, in dependsOn order, the dependencies that had ended and those it waited for', async () => {
    const release = deferred();
    const { submitter } = await joinCluster({
      quick: () => 'quick',
      slow: () => release.promise.then(() => 'slow'),
      list: (ctx) => ctx.dependencies.map(({ id, value }) => `${id}=${String(value)}`),
    });
    const done = submitter.submit('quick', { id: 'done' });
    await done.result;
    const first = submitter.submit('slow', { id: 'first' });
    const second = submitter.submit('slow', { id: 'second' });
    const list = submitter.submit('list', { dependsOn: [first, done, second, done] });
    release.resolve();
    await expect(list.result).resolves.toEqual(['first=slow', 'done=quick', 'second=slow', 'done=quick']);
  });

  it('runs a dependant whose submitter is gone once its dependency completes: its wait is in Redis', async () => {
    const release = deferred();
    const reported = deferred<readonly DependencyOutcome[]>();
    const { submitter, name } = await joinCluster({
      fetch: async () => {
        await release.promise;
        return 'rows';
      },
      report: (ctx) => {
        reported.resolve(ctx.dependencies);
        return 'sent';
      },
    });
    const fetch = submitter.submit('fetch', { id: 'fetch-1' });
    const report = submitter.submit('report', { id: 'report-1', dependsOn: [fetch] });
    await untilJob(name, 'report-1', 'waiting-children');
    await submitter.shutdown({ graceMs: 0 });
    expect((await rejectionOf(report)).code).toBe('E_SHUTDOWN');
    release.resolve();
    await expect(reported.promise).resolves.toEqual([{ id: 'fetch-1', name: 'fetch', status: 'completed', value: 'rows' }]);
  });

  it('fails in the cluster, unrun, a dependant whose submitter is gone when a dependency it needs fails', async () => {
    const release = deferred();
    let reports = 0;
    const { submitter, name } = await joinCluster({
      charge: async () => {
        await release.promise;
        throw new Error('card declined');
      },
      report: () => ++reports,
    });
    submitter.submit('charge', { id: 'charge-2' });
    submitter.submit('report', { id: 'report-2', dependsOn: ['charge-2'] });
    await untilJob(name, 'report-2', 'waiting-children');
    await submitter.shutdown({ graceMs: 0 });
    release.resolve();
    const { failedReason } = await untilJob(name, 'report-2', 'failed');
    expect(failedReason).toMatch(/^E_DEPENDENCY_FAILED: Task "report" did not run: its dependency "charge-2" ended failed/);
    expect(reports).toBe(0);
  });

  it('fails E_CANCELLED, unrun, a dependant marked withdrawn in Redis whose job BullMQ could not remove (a gate was being read)', async () => {
    const release = deferred();
    let reports = 0;
    const { submitter, name } = await joinCluster({ fetch: () => release.promise, report: () => ++reports });
    submitter.submit('fetch', { id: 'fetch-3' });
    const report = submitter.submit('report', { id: 'report-3', dependsOn: ['fetch-3'] });
    await untilJob(name, 'report-3', 'waiting-children');
    // What cancel() writes before it removes the job (the submission it withdraws): here the removal is taken to have failed.
    const redis = new Redis(bed.redis.url);
    const queue = new Queue<ClusterJobData>(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      const job = (await queue.getJob('report-3'))!;
      await redis.set(withdrawnKey(name, 'report-3'), submissionOf(job.id!, job.data));
    } finally {
      redis.disconnect();
      await queue.close();
    }
    release.resolve();
    const error = await rejectionOf(report);
    expect(error.code).toBe('E_CANCELLED');
    expect(error.message).toContain('cancelled while it waited for its dependencies');
    expect(reports).toBe(0);
  });

  it('marks a gated dependant withdrawn in Redis when it is cancelled, and takes its job out', async () => {
    const release = deferred();
    const { submitter, name } = await joinCluster({ fetch: () => release.promise, report: () => 'ran' });
    submitter.submit('fetch', { id: 'fetch-4' });
    const report = submitter.submit('report', { id: 'report-4', dependsOn: ['fetch-4'] });
    await untilJob(name, 'report-4', 'waiting-children');
    report.cancel();
    const redis = new Redis(bed.redis.url);
    try {
      await until(async () => (await redis.exists(withdrawnKey(name, 'report-4'))) === 1, 'the withdrawal mark');
    } finally {
      redis.disconnect();
    }
    await untilJob(name, 'report-4', 'unknown');
    release.resolve();
  });

  it('says, when its submitter stops waiting, whether a task had reached the cluster', async () => {
    const release = deferred();
    const { submitter, name } = await joinCluster({ fetch: () => release.promise });
    const sent = submitter.submit('fetch', { id: 'sent-1' });
    await untilJob(name, 'sent-1', 'active');
    const unsent = submitter.submit('fetch', { id: 'unsent-1' });
    await submitter.shutdown({ force: true });
    expect((await rejectionOf(sent)).message).toContain('the task itself goes on in the cluster');
    expect((await rejectionOf(unsent)).message).toContain('it had not reached the cluster, and will not run');
    release.resolve();
  });
});
