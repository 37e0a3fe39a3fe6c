import { Redis } from 'ioredis';
import type { EngineEvent, TaskFunction } from '../../src';
import { joinBed, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A cluster task's ctx.progress travels as its job's BullMQ progress: one Redis write and one entry
// of the queue's events stream each. A task that reports in a tight loop must not flood them (BullMQ
// trims the stream to about 10,000 entries, past which a submitter would lose other tasks' ends):
// its node writes one at a time, the latest value only, and its last before its end.

const bed = useClusterTestBed();

const CALLS = 20_000;

/** Reports `CALLS` progress values, rising, in `batches` turns, the last 1 ('done'). */
function reporting(batches: number): TaskFunction {
  return async (ctx) => {
    const perBatch = CALLS / batches;
    for (let batch = 0; batch < batches; batch++) {
      if (batch > 0) await new Promise((resolve) => setImmediate(resolve));
      for (let call = 1; call <= perBatch; call++) {
        const done = batch * perBatch + call;
        ctx.progress(done / CALLS, done === CALLS ? 'done' : `${done}`);
      }
    }
    return 'reported';
  };
}

/** The progress entries of job `id` in cluster `name`'s events stream. */
async function progressWrites(name: string, id: string): Promise<number> {
  const redis = new Redis(bed.redis.url);
  try {
    const entries = await redis.xrange(`mezan:${name}:events`, '-', '+');
    return entries.filter(([, fields]) => fields[1] === 'progress' && fields[3] === id).length;
  } finally {
    redis.disconnect();
  }
}

describe('a burst of ctx.progress on a cluster node', () => {
  it.each([
    ['one synchronous loop', 1, 2],
    ['a few turns', 4, 8],
  ])('in %s makes at most a few writes, the last heard before the end, in order', async (_, batches, bound) => {
    const name = bed.freshCluster('progress');
    const submitter = await joinBed(bed, name, 'submitter', {}, 0);
    await joinBed(bed, name, 'worker-1', { report: reporting(batches) });
    const seen: EngineEvent[] = [];
    submitter.events$.subscribe((event) => 'taskId' in event && event.taskId === 'burst-1' && seen.push(event));
    await expect(submitter.submit('report', { id: 'burst-1' }).result).resolves.toBe('reported');
    expect(await progressWrites(name, 'burst-1')).toBeLessThanOrEqual(bound);
    const progress = seen.filter((event): event is Extract<EngineEvent, { type: 'task.progress' }> => event.type === 'task.progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(bound);
    const fractions = progress.map((event) => event.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    // The last value reached the submitter before the task's end did.
    expect(seen.slice(-2)).toEqual([
      expect.objectContaining({ type: 'task.progress', fraction: 1, message: 'done', attempt: 1 }),
      expect.objectContaining({ type: 'task.completed', attempt: 1 }),
    ]);
  });
});
