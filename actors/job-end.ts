import { Job, type Queue } from 'bullmq';

/**
 * What the queue knows of a job, read from Redis rather than heard from its events: how it ended
 * (`completed` with its value, `failed` with BullMQ's `failedReason`), that it has not ended yet
 * (`running`, `queued`, or `waiting` for its dependencies: a gated dependant), or that it is `gone`
 * (removed, or its record expired after it ended).
 * @internal
 */
export type JobEnd =
  | { readonly state: 'completed'; readonly value: unknown }
  | { readonly state: 'failed'; readonly reason: string }
  | { readonly state: 'running' | 'queued' | 'waiting' }
  | { readonly state: 'gone' };

/**
 * Reads job `id`'s state in `queue`, and its result or failure once it has ended.
 * @throws what the Redis connection throws (a node cut off from Redis)
 * @internal
 */
export async function readJobEnd(queue: Queue, id: string): Promise<JobEnd> {
  const state = await queue.getJobState(id);
  if (state === 'active') return RUNNING;
  if (state === 'completed' || state === 'failed') {
    // The job may expire between the two reads: then it is gone.
    const job = await Job.fromId(queue, id);
    if (job === undefined) return GONE;
    return state === 'completed' ? { state, value: job.returnvalue } : { state, reason: job.failedReason };
  }
  if (state === 'waiting-children') return WAITING;
  return state === 'unknown' ? GONE : QUEUED;
}

const RUNNING: JobEnd = Object.freeze({ state: 'running' });
const QUEUED: JobEnd = Object.freeze({ state: 'queued' });
const WAITING: JobEnd = Object.freeze({ state: 'waiting' });
const GONE: JobEnd = Object.freeze({ state: 'gone' });
