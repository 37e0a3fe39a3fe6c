import { createEngine, type Engine, type EngineEvent, type NamedTaskFunctions } from '../../src';
import { rejectionOf } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { threadTask } from '../fixtures/thread-task-fixtures';

// A named task that is a thread task (`inThread`) runs on a worker thread of the node that takes it,
// as it would on an engine without a cluster, with the cluster's identity of the task in its `ctx`
// there (the job's id, the attempt counted across nodes, the dependencies' outcomes) and its
// progress reaching the submitter. A thread that crashes fails that attempt only; the node goes on.
// Real threads on a real redis-server: the tests wait for handles, or poll state, never for a delay.

const bed = useClusterTestBed();

const TASKS: NamedTaskFunctions = {
  where: threadTask('where'),
  describe: threadTask('describeContext'),
  reports: threadTask('reports'),
  exitNow: threadTask('exitNow'),
  exitsFirst: threadTask('exitsFirst'),
  fetch: (ctx) => ({ rows: ctx.input }),
};

/** A submitter and a node of one thread that runs {@link TASKS}, both ready. */
async function joinCluster(): Promise<{ submitter: Engine; node: Engine }> {
  const name = bed.freshCluster('threads');
  const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
  const node = createEngine({ logger: false, threads: 1, tasks: TASKS, cluster: { redis: bed.redis.url, name, node: 'node-1' } });
  bed.engines.push(submitter, node);
  await Promise.all([submitter.onClusterReady(), node.onClusterReady()]);
  return { submitter, node };
}

/** How many tasks the node's thread worker completed. */
const threadCompletions = (node: Engine): number | undefined => node.stats().workers.find((worker) => worker.id === 'thread')?.tasksCompleted;

describe('a thread task run by a cluster node', () => {
  it('runs on one of the node’s threads, not on its main thread', async () => {
    const { submitter, node } = await joinCluster();
    await expect(submitter.submit('where').result).resolves.toEqual({ isMainThread: false });
    expect(threadCompletions(node)).toBe(1);
  });

  it('has the cluster’s id, attempt and dependencies in its ctx on the thread', async () => {
    const { submitter } = await joinCluster();
    // It throws on its first attempt: the node's local task is one attempt, the cluster's second is 2.
    const retried = submitter.submit('describe', { id: 'describe-1', input: { failFirst: true }, retries: { max: 1, delayMs: 1 }, meta: { m: 1 } });
    await expect(retried.result).resolves.toMatchObject({ id: 'describe-1', name: 'describe', attempt: 2, meta: { m: 1 }, dependencies: [] });
    const fetch = submitter.submit('fetch', { id: 'fetch-1', input: 3 });
    const dependant = submitter.submit('describe', { id: 'describe-2', dependsOn: [fetch] });
    await expect(dependant.result).resolves.toMatchObject({
      id: 'describe-2',
      attempt: 1,
      dependencies: [{ id: 'fetch-1', name: 'fetch', status: 'completed', value: { rows: 3 } }],
      frozen: true,
    });
  });

  it('sends its progress from the thread to the submitter, as any cluster task’s', async () => {
    const { submitter } = await joinCluster();
    const progress: EngineEvent[] = [];
    submitter.events$.subscribe((event) => event.type === 'task.progress' && progress.push(event));
    await expect(submitter.submit('reports', { id: 'reports-1' }).result).resolves.toBe('reported');
    // The job's progress comes on BullMQ's events stream, apart from its end.
    await until(() => progress.length === 2, 'the two progress events');
    expect(progress).toEqual([
      expect.objectContaining({ taskId: 'reports-1', attempt: 1, workerId: 'cluster:node-1', fraction: 0.5, message: 'half' }),
      expect.objectContaining({ taskId: 'reports-1', attempt: 1, workerId: 'cluster:node-1', fraction: 1 }),
    ]);
  });

  it('fails only that attempt with E_WORKER_CRASHED when its thread crashes; the node goes on', async () => {
    const { submitter, node } = await joinCluster();
    const crashed = await rejectionOf(submitter.submit('exitNow', { id: 'exit-1' }));
    expect(crashed.code).toBe('E_WORKER_CRASHED');
    // Told of the task as its function saw it: the job's id.
    expect(crashed.details).toMatchObject({ taskId: 'exit-1', workerId: 'thread', abandoned: false });
    // Retried as a crashed local attempt is: its second attempt (ctx.attempt 2) returns.
    await expect(submitter.submit('exitsFirst', { id: 'exits-first-1', retries: { max: 1, delayMs: 1 } }).result).resolves.toBe(2);
    await expect(submitter.submit('where').result).resolves.toEqual({ isMainThread: false });
    expect(node.actors().find((actor) => actor.id === 'cluster-worker')).toMatchObject({ state: 'running' });
    expect(node.actors().find((actor) => actor.id === 'thread')).toMatchObject({ machine: 'worker', state: expect.not.stringMatching(/crash/) });
  });
});
