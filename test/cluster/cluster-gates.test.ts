import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ClusterGates, gateChildren, gatesQueueKey, readOutcome, withdrawnKey, withoutEndedGates } from '../../actors/cluster-gates';
import type { TravellingOutcome } from '../../src/cluster/cluster-dependencies';
import { readJobEnd } from '../../actors/job-end';
import { until } from '../fixtures/cluster-test-bed';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// A cluster's gates (actors/cluster-gates.ts) on a real redis-server: a dependant's job waits
// in BullMQ's waiting-children for its gates, each of which completes with its dependency's outcome.

let server: RedisServer;
const closing: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  server = await startRedisServer();
});

afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

afterAll(() => server.stop());

describe('a gate', () => {
  it('never fails: a read that fails puts it back to sleep, and it completes with its dependency’s outcome once that has ended', async () => {
    const connection = { url: server.url };
    const queue = new Queue('gates-1', { connection, prefix: 'mezan' });
    const flows = new FlowProducer({ connection, prefix: 'mezan' });
    closing.push(
      () => queue.close(),
      () => flows.close(),
    );
    await queue.add('fetch', {}, { jobId: 'A' });
    const gate = { at: 0, gate: '1-D-0', allow: 'completed' as const, job: 'A', name: 'fetch' };
    await flows.add({ name: 'report', queueName: 'gates-1', prefix: 'mezan', opts: { jobId: 'D' }, children: gateChildren('gates-1', [gate]) });
    expect(await readJobEnd(queue, 'D')).toEqual({ state: 'waiting' });
    // The gates read the dependency through a queue whose first two reads fail, as when Redis is cut off.
    let reads = 0;
    const flaky = Object.create(queue, {
      getJobState: {
        value: (id: string) => (++reads <= 2 ? Promise.reject(new Error('Connection is closed.')) : queue.getJobState(id)),
      },
    }) as Queue;
    const errors: unknown[] = [];
    const gates = new ClusterGates('gates-1', { connection, queue: flaky, pollMs: 20, onError: (error) => errors.push(error) });
    closing.push(() => gates.close());
    const worker = new Worker('gates-1', async (job: Job): Promise<unknown> => (job.name === 'fetch' ? 'rows' : job.getChildrenValues()), {
      connection,
      prefix: 'mezan',
    });
    closing.push(() => worker.close());
    await until(async () => (await readJobEnd(queue, 'D')).state === 'completed', 'the dependant to run');
    expect(await readJobEnd(queue, 'D')).toEqual({
      state: 'completed',
      value: { [`${gatesQueueKey('gates-1')}:1-D-0`]: { id: 'A', name: 'fetch', status: 'completed', value: 'rows' } },
    });
    expect(errors.map(String)).toEqual(['Error: Connection is closed.', 'Error: Connection is closed.']);
  });

  it('tells a dependency whose job is gone cancelled only if its own submission is marked withdrawn', async () => {
    const queue = new Queue('gates-2', { connection: { url: server.url }, prefix: 'mezan' });
    const redis = new Redis(server.url);
    closing.push(
      () => queue.close(),
      async () => redis.disconnect(),
    );
    const gone = { job: 'order-7', name: 'charge', submission: 'node-a-3' };
    const told = async (): Promise<unknown> => (await readOutcome(queue, gone))?.status;
    expect(await told()).toBe('failed');
    // An earlier submission of the same id was cancelled: its mark is not this one's.
    await redis.set(withdrawnKey('gates-2', 'order-7'), 'node-a-1');
    expect(await told()).toBe('failed');
    await redis.set(withdrawnKey('gates-2', 'order-7'), 'node-a-3');
    expect(await told()).toBe('cancelled');
    // What an older mezan wrote, naming no submission, withdraws any.
    await redis.set(withdrawnKey('gates-2', 'order-7'), '1');
    expect(await told()).toBe('cancelled');
    // A gate of a job whose id is its own token (one the node made) names no submission apart.
    await redis.set(withdrawnKey('gates-2', 'x-5'), 'x-5');
    expect((await readOutcome(queue, { job: 'x-5', name: 'charge' }))?.status).toBe('cancelled');
  });
});

describe('a gated dependant whose dependencies ended before its flow was added', () => {
  const outcome = (id: string): TravellingOutcome => ({ id, name: 't', status: 'completed', value: id });
  const place = (at: number) => ({ at, gate: `1-D-${at}`, allow: 'settled' as const, job: `j${at}`, name: 't' });
  const data = { from: 'n', dependencies: [outcome('j1')], gates: [0, 2].map((at) => ({ at, gate: `1-D-${at}`, allow: 'settled' as const })) };

  it('carries their outcomes in dependsOn order, keeping gates for the others only', () => {
    const { data: sent, places } = withoutEndedGates(data, [place(0), place(2)], (index) => (index === 0 ? outcome('j0') : undefined));
    expect(sent).toEqual({ from: 'n', dependencies: [outcome('j0'), outcome('j1')], gates: [{ at: 2, gate: '1-D-2', allow: 'settled' }] });
    expect(places).toEqual([place(2)]);
  });

  it('is a plain job once none is left to wait for, and is left as it was when none ended', () => {
    expect(withoutEndedGates(data, [place(0), place(2)], (index) => outcome(`j${index * 2}`))).toEqual({
      data: { from: 'n', dependencies: [outcome('j0'), outcome('j1'), outcome('j2')] },
      places: [],
    });
    expect(withoutEndedGates(data, [place(0), place(2)], () => undefined).data).toBe(data);
  });
});
