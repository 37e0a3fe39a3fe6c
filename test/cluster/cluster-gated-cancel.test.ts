import { Queue } from 'bullmq';
import { createEngine, type TaskContext } from '../../src';
import * as gates from '../../actors/cluster-gates';
import * as clusterRedis from '../../actors/cluster-redis';
import { deferred } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A cancellation a node hears while it reads a gated dependant's gates (after it found the
// dependant not withdrawn, before it runs it): the node runs it cancelled, not to its end. The read
// is held by the test (a spy on the gates' read), and released once the node has heard the cancel
// (a spy on the reading of the cancel channel's messages): the order is the test's, not a race.

const bed = useClusterTestBed();

afterEach(() => jest.restoreAllMocks());

describe('a gated dependant cancelled while its node reads its gates', () => {
  it('is run cancelled (its signal aborted, or not at all), and its job fails E_CANCELLED', async () => {
    const name = bed.freshCluster('gated-cancel');
    const reading = deferred<void>();
    const release = deferred<void>();
    const heard = deferred<void>();
    const read = gates.gatedOutcomes;
    jest.spyOn(gates, 'gatedOutcomes').mockImplementation(async (...args) => {
      if (args[0].id === 'after-1') {
        reading.resolve();
        await release.promise;
      }
      return read(...args);
    });
    const readMessage = clusterRedis.readCancelMessage;
    jest.spyOn(clusterRedis, 'readCancelMessage').mockImplementation((message) => {
      const cancel = readMessage(message);
      if (cancel?.jobId === 'after-1') heard.resolve();
      return cancel;
    });
    let ran = 0;
    let aborted = 0;
    const tasks = {
      first: () => 'first ran',
      after: (ctx: TaskContext) => {
        ran++;
        if (ctx.signal.aborted) aborted++;
        return 'after ran';
      },
    };
    const worker = createEngine({ logger: false, tasks, cluster: { redis: bed.redis.url, name, node: 'w' } });
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 's', concurrency: 0 } });
    bed.engines.push(worker, submitter);
    await Promise.all([worker.onClusterReady(), submitter.onClusterReady()]);
    const first = submitter.submit('first', { id: 'first-1' });
    const after = submitter.submit('after', { id: 'after-1', dependsOn: [first] });
    await reading.promise;
    after.cancel('too late');
    await heard.promise;
    release.resolve();
    await expect(after.result).rejects.toMatchObject({ code: 'E_CANCELLED' });
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    try {
      await until(async () => ['completed', 'failed'].includes(await queue.getJobState('after-1')), 'the dependant’s job to end');
      expect(await queue.getJobState('after-1')).toBe('failed');
      expect((await queue.getJob('after-1'))?.failedReason).toMatch(/^E_CANCELLED/);
    } finally {
      await queue.close();
    }
    expect(ran - aborted).toBe(0);
  });
});
