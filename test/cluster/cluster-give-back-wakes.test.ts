import type { Processor, WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine } from '../../src';
import { childRefusedWhileDraining } from '../fixtures/child-refused-while-draining';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// Every BullMQ worker of this file waits an hour for a job when its queue looks empty (its
// `drainDelay`, 5 s by default): an idle node takes a job only if something wakes it (BullMQ's
// marker). A job given back that woke nobody is never taken before the test's timeout.
jest.mock('bullmq', () => {
  const actual = jest.requireActual<typeof import('bullmq')>('bullmq');
  class IdleForAnHourWorker extends actual.Worker {
    constructor(name: string, processor: Processor, opts: WorkerOptions) {
      super(name, processor, { ...opts, drainDelay: 3600 });
    }
  }
  return { ...actual, Worker: IdleForAnHourWorker };
});

const bed = useClusterTestBed();

/** Whether node `node`'s worker of cluster `name` is blocked in its wait for a job (BZPOPMIN on the queue's marker). */
async function isWaitingForAJob(redis: Redis, name: string, node: string): Promise<boolean> {
  const clients = String(await redis.call('CLIENT', 'LIST')).split('\n');
  const worker = `name=mezan:${Buffer.from(name).toString('base64')}:w:${node} `;
  return clients.some((client) => client.includes(worker) && client.includes(' cmd=bzpopmin '));
}

describe('a job given back by a draining node', () => {
  it('wakes an idle node waiting for a job, which takes it', async () => {
    const name = bed.freshCluster('give-back-wakes');
    const { tasks, started, draining } = childRefusedWhileDraining();
    const first = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'first' } });
    const second = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'second' } });
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    bed.engines.push(first, second, submitter);
    const redis = new Redis(bed.redis.url);
    try {
      await Promise.all([first.onClusterReady(), submitter.onClusterReady()]);
      const handle = submitter.submit('parent');
      await started.promise;
      await second.onClusterReady();
      // The idle node waits for a job before the job is given back: only a marker wakes it.
      await until(() => isWaitingForAJob(redis, name, 'second'), 'the idle node waiting for a job');
      const stopped = first.shutdown();
      // Nor does the draining node wait any more (BullMQ drops its wait as it closes): the marker is the idle node's.
      await until(async () => !(await isWaitingForAJob(redis, name, 'first')), 'the draining node no longer waiting for a job');
      draining.resolve();
      await expect(handle.result).resolves.toBe('parent got child');
      await stopped;
    } finally {
      redis.disconnect();
    }
  });
});
