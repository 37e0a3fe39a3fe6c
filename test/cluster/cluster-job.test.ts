import { MezanError } from '../../src';
import { fromQueuePriority, readClusterSubmission, readFailure, toQueuePriority, writeFailure } from '../../src/cluster/cluster-job';

// A failure travels from the node that ran a task to its submitter as the job's failedReason; a
// submission's data travels to the node as JSON.

describe('a failure as it travels through the queue', () => {
  it('keeps its code, message and details (JSON), with the cluster’s task id', () => {
    const reason = writeFailure('E_DEADLOCK', 'Task "t" was chosen as a deadlock victim', {
      taskId: 'node-local-7',
      victim: 'b/node-local-7',
      cycle: ['a/x', 'db', 'b/node-local-7', 'gpu'],
    });
    expect(reason.startsWith('E_DEADLOCK: Task "t" was chosen as a deadlock victim\n')).toBe(true);
    const { status, error } = readFailure(reason, 'cluster-id');
    expect(status).toBe('deadlock');
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.message).toBe('Task "t" was chosen as a deadlock victim');
    expect(error.details).toEqual({ taskId: 'cluster-id', victim: 'b/node-local-7', cycle: ['a/x', 'db', 'b/node-local-7', 'gpu'] });
  });

  it('leaves out details JSON cannot carry, and reads a message that only looks like it has details as a message', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(writeFailure('E_TASK_FAILED', 'boom', cyclic)).toBe('E_TASK_FAILED: boom');
    expect(writeFailure('E_TASK_FAILED', 'boom', {})).toBe('E_TASK_FAILED: boom');
    const { error } = readFailure('E_TASK_FAILED: it said\ndetails: {not json', 'id-1');
    expect(error.message).toBe('it said\ndetails: {not json');
    expect(error.details).toEqual({ taskId: 'id-1' });
  });

  it('reads a reason that is not one of mezan’s as a failure of the task, or of its node when it stalled', () => {
    expect(readFailure('job stalled more than allowable limit', 'id-2').error.code).toBe('E_WORKER_CRASHED');
    expect(readFailure('something else', 'id-3').error).toMatchObject({ code: 'E_TASK_FAILED', details: { taskId: 'id-3' } });
  });
});

describe('a cluster submission’s data', () => {
  it('is what JSON made of input and meta at submit: a change of the caller’s objects afterwards does not travel', () => {
    const input = { n: 1, when: new Date(0), list: [1, undefined] };
    const meta = { tag: 'a' };
    const submission = readClusterSubmission('t', { input, meta }, 'node-1');
    input.n = 2;
    meta.tag = 'b';
    expect(submission.data.input).toEqual({ n: 1, when: '1970-01-01T00:00:00.000Z', list: [1, null] });
    expect(submission.data.meta).toEqual({ tag: 'a' });
    expect(submission.meta).toEqual({ tag: 'a' });
  });

  it('carries a number JSON cannot as null, as the node would read it', () => {
    expect(readClusterSubmission('t', { input: Number.NaN }, 'node-1').data.input).toBeNull();
    expect(readClusterSubmission('t', { input: 'text' }, 'node-1').data.input).toBe('text');
  });
});

describe('a priority as the queue has it', () => {
  it('is clamped to what BullMQ takes, 1 to 2^21 − 1, at either end (a submission and setPriority alike)', () => {
    expect([2 ** 20, Number.MAX_SAFE_INTEGER].map(toQueuePriority)).toEqual([1, 1]);
    expect([-(2 ** 20), Number.MIN_SAFE_INTEGER].map(toQueuePriority)).toEqual([2 ** 21 - 1, 2 ** 21 - 1]);
    expect([toQueuePriority(-(2 ** 20) + 1), toQueuePriority(0), toQueuePriority(2.4)]).toEqual([2 ** 21 - 1, 2 ** 20, 2 ** 20 - 2]);
    expect([1, 2 ** 20, 2 ** 21 - 1].map(fromQueuePriority)).toEqual([2 ** 20 - 1, 0, -(2 ** 20) + 1]);
  });
});
