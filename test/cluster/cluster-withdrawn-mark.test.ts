import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { withdrawnKey } from '../../actors/cluster-gates';
import { submissionOf, type ClusterJobData } from '../../src/cluster/cluster-job';
import { createEngine, type Engine } from '../../src';
import { rejectionOf } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// The withdrawn mark a cancel leaves in Redis (`mezan-gates:<cluster>:withdrawn:<id>`, kept a day),
// which the nodes read where a job cannot simply be removed: it names the submission it withdrew,
// not the id, since a caller may submit an id again once its task was cancelled (an idempotency
// key, an order id). Real redis-server; the waits are on Redis's state, never a delay.

const bed = useClusterTestBed();

/**
 * A submitter and a node whose task `flaky` fails its first attempt and returns its attempt after;
 * its retry waits a minute in BullMQ's delayed set, until the test promotes it.
 */
async function retryingCluster(): Promise<{ submitter: Engine; name: string; attempts: number[] }> {
  const name = bed.freshCluster('retake');
  const attempts: number[] = [];
  const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
  const worker = createEngine({
    logger: false,
    tasks: {
      flaky: (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('first attempt fails');
        return ctx.attempt;
      },
    },
    cluster: { redis: bed.redis.url, name, node: 'worker' },
  });
  bed.engines.push(submitter, worker);
  await Promise.all([submitter.onClusterReady(), worker.onClusterReady()]);
  return { submitter, name, attempts };
}

/** Waits until job `id`'s retry is delayed, marks it withdrawn with `mark` (of its own submission by default), and lets it be taken again. */
async function markAndRetake(name: string, id: string, mark?: string): Promise<void> {
  const queue = new Queue<ClusterJobData>(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
  const redis = new Redis(bed.redis.url);
  try {
    await until(async () => (await queue.getJobState(id)) === 'delayed', `job ${id}'s retry to be delayed`);
    const job = (await queue.getJob(id))!;
    await redis.set(withdrawnKey(name, id), mark ?? submissionOf(id, job.data));
    await job.promote();
  } finally {
    redis.disconnect();
    await queue.close();
  }
}

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

  // What a cancel leaves when its node cannot hear it and BullMQ cannot remove the job (it is locked):
  // its node dead, paused or cut off, or between a failed attempt's end and its retry. The job is
  // then taken again, by its retry or once its lease lapsed, and the node that takes it reads the mark.
  it('fails E_CANCELLED, unrun, a job taken again for its retry once its submission was marked withdrawn', async () => {
    const { submitter, name, attempts } = await retryingCluster();
    const handle = submitter.submit('flaky', { id: 'pay-1', retries: { max: 1, delayMs: 60_000 } });
    await markAndRetake(name, 'pay-1');
    const error = await rejectionOf(handle);
    expect([handle.status, error.code]).toEqual(['cancelled', 'E_CANCELLED']);
    expect(error.message).toContain('was cancelled before its attempt 2 ran');
    expect(attempts).toEqual([1]);
  });

  it('runs the retry of a task whose id carries the mark of an earlier submission', async () => {
    const { submitter, name, attempts } = await retryingCluster();
    const handle = submitter.submit('flaky', { id: 'pay-2', retries: { max: 1, delayMs: 60_000 } });
    await markAndRetake(name, 'pay-2', 'an-earlier-submission-1');
    await expect(handle.result).resolves.toBe(2);
    expect(attempts).toEqual([1, 2]);
  });
});
