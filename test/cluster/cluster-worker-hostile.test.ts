import { Queue } from 'bullmq';
import { createEngine, type EngineEvent } from '../../src';
import { rejectionOf } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { childRefusedWhileDraining } from '../fixtures/child-refused-while-draining';

// A working node's answers to what its tasks and its own engine do to it: a result JSON cannot
// carry, a hostile thrown value, a child refused by the node's drain, an engine that escalated. Real Redis, real time: the
// tests wait for handles and for Redis's state, never for a delay.

const bed = useClusterTestBed();

describe('a working node and what its tasks and engine do to it', () => {
  it.each([
    ['a BigInt within', { amount: 10n }],
    ['a function', () => 42],
    ['a symbol', Symbol('result')],
    ['a toJSON that gives nothing', { toJSON: () => undefined }],
  ])('fails a task whose result JSON cannot carry (%s) once, E_TASK_FAILED, without running it again for its retries', async (_, result) => {
    let runs = 0;
    const engine = createEngine({
      logger: false,
      tasks: {
        charge: () => {
          runs++;
          return result;
        },
      },
      cluster: { redis: bed.redis.url, name: bed.freshCluster('unfit-result'), node: 'n1' },
    });
    bed.engines.push(engine);
    await engine.onClusterReady();
    const handle = engine.submit('charge', { retries: { max: 2, delayMs: 1 } });
    await expect(handle.result).rejects.toMatchObject({ code: 'E_TASK_FAILED', message: expect.stringMatching(/result JSON cannot carry/) });
    expect(runs).toBe(1);
  });

  it('completes a task with the result as it was checked: a value that changes afterwards (toJSON) does not fail the completion', async () => {
    let runs = 0;
    let reads = 0;
    const engine = createEngine({
      logger: false,
      tasks: {
        fickle: () => {
          runs++;
          return { toJSON: () => (++reads === 1 ? { amount: 10 } : { amount: 10n }) };
        },
      },
      cluster: { redis: bed.redis.url, name: bed.freshCluster('fickle-result'), node: 'n1' },
    });
    bed.engines.push(engine);
    await engine.onClusterReady();
    await expect(engine.submit('fickle', { retries: { max: 2, delayMs: 1 } }).result).resolves.toEqual({ amount: 10 });
    expect({ runs, reads }).toEqual({ runs: 1, reads: 1 });
  });

  it('fails a task that throws a Proxy whose traps throw with the node’s own message, announcing its retry', async () => {
    const engine = createEngine({
      logger: false,
      tasks: {
        hostile: () => {
          throw new Proxy(
            {},
            {
              getPrototypeOf() {
                throw new Error('proto');
              },
            },
          );
        },
      },
      cluster: { redis: bed.redis.url, name: bed.freshCluster('proxy'), node: 'w' },
    });
    bed.engines.push(engine);
    const retrying: EngineEvent[] = [];
    engine.events$.subscribe((event) => {
      if (event.type === 'task.retrying') retrying.push(event);
    });
    await engine.onClusterReady();
    const error = await rejectionOf(engine.submit('hostile', { retries: { max: 1, delayMs: 1 } }));
    expect(error.code).toBe('E_TASK_FAILED');
    expect(error.message).toMatch(/^Task "hostile" failed on node "w", attempt 2/);
    expect(retrying).toHaveLength(1);
  });

  it('gives back, not fails, a task that submits a cluster child while its node drains: another node runs both', async () => {
    const name = bed.freshCluster('drain-child');
    const { tasks, started, draining } = childRefusedWhileDraining();
    const first = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'first' } });
    const second = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'second' } });
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    bed.engines.push(first, second, submitter);
    await Promise.all([first.onClusterReady(), submitter.onClusterReady()]);
    const handle = submitter.submit('parent');
    await started.promise;
    await second.onClusterReady();
    const stopped = first.shutdown();
    draining.resolve();
    await expect(handle.result).resolves.toBe('parent got child');
    await stopped;
  });

  it('stops taking the cluster’s tasks once its engine escalated, rather than taking and giving them back in a loop', async () => {
    const name = bed.freshCluster('escalated');
    const escalated = createEngine({
      logger: false,
      supervision: { maxRestarts: 1, withinMs: 60_000 },
      tasks: { t: () => 'ran' },
      cluster: { redis: bed.redis.url, name, node: 'escalated' },
    });
    bed.engines.push(escalated);
    await escalated.onClusterReady();
    let escalations = 0;
    escalated.events$.subscribe((event) => {
      if (event.type === 'engine.escalated') escalations++;
    });
    // Past the restart limit: the engine escalates (it stays up, taking no work).
    for (let crash = 0; crash < 3 && escalations === 0; crash++) {
      escalated.inject({ type: 'worker.crash', workerId: 'main' });
      await until(() => escalations > 0 || escalated.stats().workers[0]?.state !== 'crashed', 'the crash handled');
    }
    expect(escalations).toBe(1);
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    bed.engines.push(submitter);
    await submitter.onClusterReady();
    submitter.submit('t', { id: 'only-task' });
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      await until(async () => (await queue.getJobState('only-task')) !== 'unknown', 'the job in Redis');
      // A few dozen reads of Redis (no sleep): time enough for a node that takes it to have done so.
      for (let read = 0; read < 50; read++) await queue.getJobState('only-task');
      const job = await queue.getJob('only-task');
      // At most one start (a take given back as the node escalated); BullMQ counts every take.
      expect(job?.attemptsStarted ?? 0).toBeLessThanOrEqual(1);
    } finally {
      await queue.close();
    }
  });
});
