import { Queue } from 'bullmq';
import { createEngine, MezanError, type Engine, type EngineOptions, type NamedTaskFunctions, type TaskContext } from '../../src';
import { realClock } from '../../src/clock';
import { VirtualClock } from '../../src/virtual-clock';
import { deferred, rejectionOf, thrownBy, type Deferred } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';
import { sumOfSquaresTasks } from '../fixtures/sum-of-squares-tasks';

// These tests run engines that join a cluster on a real redis-server (BullMQ's Lua scripts run
// there): real time, so they wait for events (deferreds the tasks resolve), never for a delay.

const bed = useClusterTestBed();
const engines = bed.engines;

/** A fresh cluster name per test: every test has its own queue. */
function freshCluster(): string {
  return bed.freshCluster('test');
}

/** An engine that joins cluster `name` as node `node`, once it takes tasks. */
async function joinNode(
  name: string,
  node: string,
  tasks: NamedTaskFunctions,
  options: Omit<EngineOptions, 'cluster' | 'tasks'> = {},
): Promise<Engine> {
  const engine = createEngine({ logger: false, concurrency: 4, ...options, tasks, cluster: { redis: bed.redis.url, name, node } });
  engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** An engine of cluster `name` that only submits (its node takes no task). */
async function joinSubmitter(name: string): Promise<Engine> {
  const engine = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
  engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** Polls, bounded, until `count` jobs wait in cluster `name`'s queue (a real server takes real time). */
async function untilQueued(name: string, count: number): Promise<void> {
  const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const counts = await queue.getJobCounts('prioritized', 'wait', 'delayed');
      if ((counts.prioritized ?? 0) + (counts.wait ?? 0) + (counts.delayed ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`${count} jobs never waited in ${name}: ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await queue.close();
  }
}

describe('a cluster of engines: named tasks go through the cluster and come back', () => {
  it('spreads tasks over the nodes, every handle settling with its own result', async () => {
    const name = freshCluster();
    const ranOn: Record<string, number> = {};
    const started: Array<Deferred<void>> = [];
    const release = deferred();
    const tasksOf = (node: string): NamedTaskFunctions => ({
      square: async (ctx: TaskContext) => {
        ranOn[node] = (ranOn[node] ?? 0) + 1;
        started.shift()?.resolve();
        await release.promise;
        return (ctx.input as number) ** 2;
      },
    });
    const a = await joinNode(name, 'a', tasksOf('a'), { concurrency: 2 });
    await joinNode(name, 'b', tasksOf('b'), { concurrency: 2 });
    // Four tasks, two slots a node: both nodes must take some before any ends.
    const fourStarted = Array.from({ length: 4 }, () => deferred());
    started.push(...fourStarted);
    const handles = [1, 2, 3, 4].map((input) => a.submit<number>('square', { input }));
    await Promise.all(fourStarted.map((d) => d.promise));
    expect(ranOn).toEqual({ a: 2, b: 2 });
    expect(handles.map((handle) => handle.status)).toEqual(
      ['running', 'running', 'running', 'running'].map(() => expect.stringMatching(/queued|running/)),
    );
    release.resolve();
    await expect(Promise.all(handles.map((handle) => handle.result))).resolves.toEqual([1, 4, 9, 16]);
    expect(handles.every((handle) => handle.status === 'completed')).toBe(true);
    await a.onIdle();
    expect(a.isIdle).toBe(true);
  });

  it('settles the handle even when the submitting node is the one that runs it', async () => {
    const only = await joinNode(freshCluster(), 'only', { echo: (ctx) => ctx.input });
    await expect(only.submit('echo', { input: { deep: [1, 'two'] } }).result).resolves.toEqual({ deep: [1, 'two'] });
  });

  it('gives ctx a stable id (the job id, the caller’s id if given) and an attempt that counts retries across nodes', async () => {
    const name = freshCluster();
    const seen: Array<{ id: string; attempt: number }> = [];
    const flaky = (ctx: TaskContext): string => {
      seen.push({ id: ctx.id, attempt: ctx.attempt });
      if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails`);
      return `done at ${ctx.attempt}`;
    };
    const a = await joinNode(name, 'a', { flaky });
    await joinNode(name, 'b', { flaky });
    const handle = a.submit('flaky', { id: 'order-7', retries: { max: 2, delayMs: 1 } });
    expect(handle.id).toBe('order-7');
    await expect(handle.result).resolves.toBe('done at 3');
    expect(seen).toEqual([
      { id: 'order-7', attempt: 1 },
      { id: 'order-7', attempt: 2 },
      { id: 'order-7', attempt: 3 },
    ]);
  });

  it('lets a cluster task submit a named child to the cluster and await it (ctx.submit, ctx.await)', async () => {
    const name = freshCluster();
    const a = await joinNode(name, 'a', sumOfSquaresTasks);
    await joinNode(name, 'b', sumOfSquaresTasks);
    await expect(a.submit('sumOfSquares', { input: [1, 2, 3] }).result).resolves.toBe(14);
  });

  it('fails with E_TASK_FAILED once the retries are spent, naming the node, the attempt and what was thrown', async () => {
    const a = await joinNode(freshCluster(), 'a', {
      boom: () => {
        throw new Error('kaboom');
      },
    });
    const handle = a.submit('boom', { retries: 1 });
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.message).toContain('kaboom');
    expect(error.message).toContain('node "a", attempt 2');
    expect(handle.status).toBe('failed');
  });

  it('applies timeoutMs on the running node, without a retry (a timed-out function may still run)', async () => {
    let calls = 0;
    const a = await joinNode(freshCluster(), 'a', {
      hang: (ctx) => {
        calls++;
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    });
    const handle = a.submit('hang', { timeoutMs: 20, retries: 3 });
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_TIMEOUT');
    // The running node's details travel with it, under the cluster's task id.
    expect(error.details).toMatchObject({ taskId: handle.id, timeoutMs: 20, attempt: 1 });
    expect(handle.status).toBe('timeout');
    expect(calls).toBe(1);
  });

  it('runs higher priorities first, as a local engine does', async () => {
    const name = freshCluster();
    const order: number[] = [];
    const gate = deferred();
    const submitter = await joinSubmitter(name);
    const handles = [1, 5, 3, -2, 5].map((priority) => submitter.submit('record', { input: priority, priority }));
    // The node joins once every task is queued, so that the queue, not arrival, decides the order.
    await untilQueued(name, handles.length);
    await joinNode(
      name,
      'worker',
      {
        record: async (ctx) => {
          order.push(ctx.input as number);
          await gate.promise;
        },
      },
      { concurrency: 1 },
    );
    gate.resolve();
    await Promise.all(handles.map((handle) => handle.result));
    expect(order).toEqual([5, 5, 3, 1, -2]);
  });

  it('runs a task on its node with the priority it was submitted with (rounded, as the queue has it)', async () => {
    const name = freshCluster();
    const worker = await joinNode(name, 'worker', { record: () => undefined });
    const queued: number[] = [];
    worker.events$.subscribe((event) => {
      if (event.type === 'task.queued') queued.push(event.priority);
    });
    const submitter = await joinSubmitter(name);
    await Promise.all([7, -3, 0, 2.4].map((priority) => submitter.submit('record', { priority }).result));
    expect(queued.sort((x, y) => x - y)).toEqual([-3, 0, 2, 7]);
  });

  it.each([-(2 ** 20), Number.MIN_SAFE_INTEGER])(
    'runs a task of priority %d, clamped to the lowest the queue takes, not failing it unsent',
    async (priority) => {
      const name = freshCluster();
      await joinNode(name, 'worker', { echo: (ctx) => ctx.input });
      const submitter = await joinSubmitter(name);
      await expect(submitter.submit('echo', { priority, input: 'ran' }).result).resolves.toBe('ran');
    },
  );

  it('changes a queued task’s priority in the queue with handle.setPriority', async () => {
    const name = freshCluster();
    const order: string[] = [];
    const submitter = await joinSubmitter(name);
    const handles = ['first', 'second', 'third'].map((input) => submitter.submit('record', { id: input, input }));
    await untilQueued(name, handles.length);
    expect(handles[2]!.setPriority(9)).toBe(true);
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      const deadline = Date.now() + 10_000;
      while ((await queue.getJob('third'))?.priority !== 2 ** 20 - 9) {
        if (Date.now() > deadline) throw new Error('the priority never changed');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await queue.close();
    }
    await joinNode(name, 'worker', { record: (ctx) => void order.push(ctx.input as string) }, { concurrency: 1 });
    await Promise.all(handles.map((handle) => handle.result));
    expect(order).toEqual(['third', 'first', 'second']);
  });

  it('cancels a queued task: it never runs', async () => {
    const name = freshCluster();
    let calls = 0;
    const submitter = await joinSubmitter(name);
    const handle = submitter.submit('count', { input: 1 });
    expect(handle.cancel('changed my mind')).toBe(true);
    expect(handle.status).toBe('cancelled');
    const error = await rejectionOf(handle);
    expect(error.code).toBe('E_CANCELLED');
    // A node that joins later finds nothing of it; a task submitted after it still runs.
    const worker = await joinNode(name, 'worker', { count: () => ++calls });
    await expect(worker.submit('count').result).resolves.toBe(1);
    expect(calls).toBe(1);
  });

  it('cancels a running task on the node that runs it: its ctx.signal aborts there', async () => {
    const name = freshCluster();
    const started = deferred();
    const aborted = deferred<unknown>();
    const submitter = await joinSubmitter(name);
    await joinNode(name, 'worker', {
      wait: (ctx) => {
        started.resolve();
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            aborted.resolve(ctx.signal.reason);
            reject(ctx.signal.reason);
          }),
        );
      },
    });
    const handle = submitter.submit('wait');
    await started.promise;
    handle.cancel('stop it');
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    const reason = await aborted.promise;
    expect(reason).toBeInstanceOf(MezanError);
    expect((reason as MezanError).code).toBe('E_CANCELLED');
  });

  it('fails a task the running node does not define with E_UNKNOWN_TASK, without a retry', async () => {
    const name = freshCluster();
    const submitter = await joinSubmitter(name);
    await joinNode(name, 'worker', { resize: () => 'resized' });
    const error = await rejectionOf(submitter.submit('resise', { retries: 3 }));
    expect(error.code).toBe('E_UNKNOWN_TASK');
    expect(error.message).toContain('did you mean "resize"?');
  });

  it('hears how a task of the same id already ended: a second submission of a finished id settles as it did', async () => {
    let calls = 0;
    const a = await joinNode(freshCluster(), 'a', { once: () => ++calls });
    await expect(a.submit('once', { id: 'invoice-1' }).result).resolves.toBe(1);
    await expect(a.submit('once', { id: 'invoice-1' }).result).resolves.toBe(1);
    expect(calls).toBe(1);
  });

  it('runs the task on the node’s own workers, pools and statistics; a pool the node lacks fails it at once', async () => {
    const a = await joinNode(freshCluster(), 'a', { pooled: (ctx) => `${String(ctx.input)} with db` }, { resources: { db: 1 } });
    await expect(a.submit('pooled', { input: 'ran', resources: { db: 1 } }).result).resolves.toBe('ran with db');
    expect(a.stats().totals.tasksCompleted).toBe(1);
    expect(a.metrics().resources['db']).toBeDefined();
    const error = await rejectionOf(a.submit('pooled', { resources: { gpu: 1 }, retries: 2 }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.message).toContain('on node "a"');
  });

  it('drains on shutdown: the tasks a node runs end and are reported before it stops; none is lost', async () => {
    const name = freshCluster();
    const started = Array.from({ length: 3 }, () => deferred());
    const release = deferred();
    let next = 0;
    const submitter = await joinSubmitter(name);
    const node = await joinNode(name, 'node', {
      slow: async (ctx) => {
        started[next++]!.resolve();
        await release.promise;
        return ctx.input;
      },
    });
    const handles = [1, 2, 3].map((input) => submitter.submit('slow', { input }));
    await Promise.all(started.map((d) => d.promise));
    const report = node.shutdown();
    release.resolve();
    const { completed, lost } = await report;
    expect({ completed, lost }).toEqual({ completed: 3, lost: 0 });
    await expect(Promise.all(handles.map((handle) => handle.result))).resolves.toEqual([1, 2, 3]);
  });
});

describe('a cluster of engines: a node forced to stop', () => {
  it('gives the task it was running back to the queue: another node runs it, as the same attempt', async () => {
    const name = freshCluster();
    const started = deferred();
    const submitter = await joinSubmitter(name);
    const first = await joinNode(name, 'first', {
      job: (ctx) => {
        started.resolve();
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    });
    const handle = submitter.submit<{ node: string; attempt: number }>('job', { id: 'given-back' });
    await started.promise;
    await first.shutdown({ force: true });
    expect(handle.isSettled).toBe(false);
    await joinNode(name, 'second', { job: (ctx) => ({ node: 'second', attempt: ctx.attempt }) });
    await expect(handle.result).resolves.toEqual({ node: 'second', attempt: 1 });
  });
});

describe('a cluster of engines: what the submitter refuses at once', () => {
  it.each<[string, Record<string, unknown>]>([
    ['dependsOn[0]', { dependsOn: ['no-such-task'] }],
    ['dependsOn[0].allow', { dependsOn: [{ task: 'no-such-task', allow: 'maybe' }] }],
    ['queueTimeoutMs', { queueTimeoutMs: 10 }],
    ['group', { group: 'g' }],
    ['retries.retryIf', { retries: { max: 1, retryIf: () => true } }],
    ['input', { input: { big: BigInt(1) } }],
    ['id', { id: '42' }],
    ['priority', { priority: Number.NaN }],
  ])('%s', async (option, options) => {
    const name = freshCluster();
    const submitter = await joinSubmitter(name);
    const error = thrownBy(() => submitter.submit('any', options));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });

  it.each<[string, unknown]>([
    ['cluster.redis', { redis: 'http://x', name: 'n' }],
    ['cluster.name', { redis: 'redis://127.0.0.1:1', name: 'a:b' }],
    // Redis refuses such a name for a connection (CLIENT SETNAME), and the nodes find each other by those names.
    ['cluster.node', { redis: 'redis://127.0.0.1:1', name: 'n', node: 'worker 1' }],
    ['cluster.node', { redis: 'redis://127.0.0.1:1', name: 'n', node: 'worker\n1' }],
    ['cluster.node', { redis: 'redis://127.0.0.1:1', name: 'n', node: 'nœud-1' }],
    ['cluster.concurrency', { redis: 'redis://127.0.0.1:1', name: 'n', concurrency: -1 }],
    ['cluster.lockDurationMs', { redis: 'redis://127.0.0.1:1', name: 'n', lockDurationMs: 0 }],
    ['cluster.nodes', { redis: 'redis://127.0.0.1:1', name: 'n', nodes: 3 }],
  ])('createEngine refuses a bad %s', (option, cluster) => {
    const error = thrownBy(() => createEngine({ logger: false, cluster } as EngineOptions));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });

  it('createEngine refuses a cluster.redis that is no Redis URL without echoing its password', () => {
    const error = thrownBy(() => createEngine({ logger: false, cluster: { redis: 'http://app:hunter2@127.0.0.1:1', name: 'n' } }));
    expect(error.details['option']).toBe('cluster.redis');
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain('hunter2');
    expect(error.message).toContain('http://app:***@127.0.0.1:1');
  });

  it('createEngine refuses an injected clock with a cluster, whose leases and heartbeats run in Redis’s real time', () => {
    const cluster = { redis: 'redis://127.0.0.1:1', name: 'n' };
    const error = thrownBy(() => createEngine({ logger: false, cluster, clock: new VirtualClock() }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('clock');
    expect(error.message).toContain('real time');
    // The real clock, named, is the clock a cluster runs on.
    bed.engines.push(createEngine({ logger: false, cluster: { redis: bed.redis.url, name: freshCluster(), concurrency: 0 }, clock: realClock }));
  });
});
