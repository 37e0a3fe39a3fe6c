import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { withdrawnKey } from '../../actors/cluster-gates';
import { createEngine } from '../../src';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// The withdrawn mark a cancel leaves in Redis (`mezan-gates:<cluster>:withdrawn:<id>`, kept a day),
// which the nodes read where a job cannot simply be removed: it names the submission it withdrew,
// not the id, since a caller may submit an id again once its task was cancelled (an idempotency
// key, an order id). Real redis-server; the waits are on Redis's state, never a delay.

const bed = useClusterTestBed();

describe('the withdrawn mark of a cancelled cluster task', () => {
  it('does not cancel a task submitted again under the same id: it names the earlier submission', async () => {
    const name = bed.freshCluster('resubmit');
    const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
    bed.engines.push(submitter);
    await submitter.onClusterReady();
    const queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    const redis = new Redis(bed.redis.url);
    try {
      // The first task of id `order-42` reaches the queue (no node works yet) and is cancelled there.
      const first = submitter.submit('charge', { id: 'order-42', input: 1 });
      void first.result.catch(() => undefined);
      await until(async () => (await queue.getJobState('order-42')) !== 'unknown', 'the first job in Redis');
      first.cancel();
      await until(async () => (await queue.getJobState('order-42')) === 'unknown', 'the first job removed');
      await until(async () => (await redis.exists(withdrawnKey(name, 'order-42'))) === 1, 'the withdrawn mark');
      // The same id again, as a gated dependant (its node reads the mark before its gates), never cancelled.
      const dependency = submitter.submit('charge', { id: 'order-41', input: 0 });
      const again = submitter.submit('charge', { id: 'order-42', input: 2, dependsOn: [dependency] });
      const worker = createEngine({
        logger: false,
        tasks: { charge: (ctx) => `charged ${String(ctx.input)}` },
        cluster: { redis: bed.redis.url, name, node: 'worker' },
      });
      bed.engines.push(worker);
      await expect(dependency.result).resolves.toBe('charged 0');
      await expect(again.result).resolves.toBe('charged 2');
    } finally {
      redis.disconnect();
      await queue.close();
    }
  });
});
