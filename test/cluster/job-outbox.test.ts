import { Queue } from 'bullmq';
import { createEngine, type Engine, type NamedTaskFunctions } from '../../src';
import type { ClusterJobData } from '../../src/cluster/cluster-job';
import { ClusterTask, type ClusterTaskOwner } from '../../src/cluster/cluster-task';
import { JobOutbox, type BulkJob } from '../../actors/job-outbox';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';
import { deferred, rejectionOf } from '../fixtures/engine-harness';

// The outbox sends the cluster tasks submitted in one turn together (one `addBulk`). On a real
// redis-server: what reaches the queue, and when. The fallback after a failed `addBulk` is checked
// on a queue that fails on purpose, the one thing a real server will not do on demand.

const bed = useClusterTestBed();

async function joinEngine(name: string, node: string, tasks: NamedTaskFunctions = {}, concurrency = 0): Promise<Engine> {
  const engine = createEngine({
    logger: false,
    concurrency: Math.max(concurrency, 1),
    tasks,
    cluster: { redis: bed.redis.url, name, node, concurrency },
  });
  bed.engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** Runs `body` with a BullMQ queue on cluster `name` (mezan's key prefix), closed after. */
async function withQueue<T>(name: string, body: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
  try {
    return await body(queue);
  } finally {
    await queue.close();
  }
}

/** Polls, bounded, until `count` jobs wait in `queue` (a real server takes real time). */
async function untilQueued(queue: Queue, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (((await queue.getJobCounts('prioritized')).prioritized ?? 0) < count) {
    if (Date.now() > deadline) throw new Error(`${count} jobs never waited`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the cluster tasks of one turn are sent together', () => {
  afterEach(() => jest.restoreAllMocks());

  it('adds the submissions of one turn with one addBulk, each job with its own id and the priority it has when sent', async () => {
    const name = bed.freshCluster('outbox');
    const submitter = await joinEngine(name, 'submitter');
    const addBulk = jest.spyOn(Queue.prototype, 'addBulk');
    const add = jest.spyOn(Queue.prototype, 'add');
    const handles = ['first', 'second', 'third'].map((input) => submitter.submit('record', { input }));
    // Changed in the turn it was submitted in: the job is added with it.
    expect(handles[2]!.setPriority(9)).toBe(true);
    const order: string[] = [];
    // The node joins once every job is queued, so that the queue, not arrival, decides the order.
    await withQueue(name, (queue) => untilQueued(queue, handles.length));
    await joinEngine(name, 'worker', { record: (ctx) => void order.push(ctx.input as string) }, 1);
    await Promise.all(handles.map((handle) => handle.result));
    expect(addBulk).toHaveBeenCalledTimes(1);
    expect(addBulk.mock.calls[0]![0].map((job) => job.opts?.jobId)).toEqual(handles.map((handle) => handle.id));
    expect(add).not.toHaveBeenCalled();
    expect(order[0]).toBe('third');
    expect(new Set(handles.map((handle) => handle.id)).size).toBe(3);
  });

  it('never adds a task cancelled in the turn it was submitted in', async () => {
    const name = bed.freshCluster('outbox');
    const submitter = await joinEngine(name, 'submitter');
    let calls = 0;
    const cancelled = submitter.submit('count');
    expect(cancelled.cancel('no')).toBe(true);
    expect((await rejectionOf(cancelled)).code).toBe('E_CANCELLED');
    // A later turn's task runs: the first turn's outbox has been sent (with nothing in it) by then.
    await joinEngine(name, 'worker', { count: () => ++calls }, 1);
    await expect(submitter.submit('count').result).resolves.toBe(1);
    expect(calls).toBe(1);
    await withQueue(name, async (queue) => expect(await queue.getJob(cancelled.id)).toBeUndefined());
  });

  it('gives the tasks submitted without an id ids of their own: neither whole numbers (BullMQ’s) nor with a colon, never shared by two engines', async () => {
    const name = bed.freshCluster('outbox');
    const [a, b] = [await joinEngine(name, 'a'), await joinEngine(name, 'b')];
    const ids = [a, a, b, b].map((engine) => engine.submit('any').id);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const id of ids) expect(id).not.toMatch(/^\d+$/);
    expect(ids[0]!.slice(0, 17)).toBe(ids[1]!.slice(0, 17));
    expect(ids[0]!.slice(0, 17)).not.toBe(ids[2]!.slice(0, 17));
  });
});

describe('a node that only submits', () => {
  it('hears the queue’s events once onClusterReady resolves: its first turn’s jobs wait for no connection', async () => {
    const name = bed.freshCluster('outbox');
    const listening = await withQueue(name, (queue) => queue.getQueueEvents());
    expect(listening).toHaveLength(0);
    await joinEngine(name, 'submitter');
    await withQueue(name, async (queue) => expect(await queue.getQueueEvents()).toHaveLength(1));
  });
});

describe('a failed addBulk', () => {
  const owner: ClusterTaskOwner = { cancelTask: () => false, taskSettled: () => {}, reprioritize: () => {} };
  const data: ClusterJobData = { from: 'test' };

  /** A queue whose `addBulk` fails (a pipeline's first error), and whose `add` fails for the ids in `refused`. */
  function failingQueue(refused: ReadonlySet<string>): { queue: Queue; added: string[] } {
    const added: string[] = [];
    const queue = {
      addBulk: () => Promise.reject(new Error('the pipeline failed')),
      add: (_name: string, _data: unknown, opts: { jobId: string }) => {
        if (refused.has(opts.jobId)) return Promise.reject(new Error(`refused ${opts.jobId}`));
        added.push(opts.jobId);
        return Promise.resolve({});
      },
      remove: () => Promise.resolve(0),
    } as unknown as Queue;
    return { queue, added };
  }

  it('adds each job of the bulk alone: the task whose job fails alone fails, the others are sent', async () => {
    const { queue, added } = failingQueue(new Set(['b']));
    const failed: Array<[string, string]> = [];
    const done = deferred();
    const outbox = new JobOutbox(queue, {
      listening: () => Promise.resolve(),
      now: () => 0,
      jobOf: (task): BulkJob => ({ name: 'any', data, opts: { jobId: task.id } }),
      failed: (task, error) => {
        failed.push([task.id, (error as Error).message]);
        done.resolve();
      },
    });
    const tasks = ['a', 'b', 'c'].map((id) => new ClusterTask(id, 'any', undefined, owner, 1));
    for (const task of tasks) outbox.push(task);
    await done.promise;
    // The adds were answered at once: what followed them is done within this turn's promise jobs.
    await new Promise(setImmediate);
    expect(failed).toEqual([['b', 'refused b']]);
    expect(added.sort()).toEqual(['a', 'c']);
    expect(tasks.map((task) => task.sentAt !== undefined)).toEqual([true, false, true]);
  });
});
