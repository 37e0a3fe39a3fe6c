import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine, type Engine, type NamedTaskFunctions, type TaskHandle } from '../../src';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// A submitter that misses a job's end (cut off from Redis while the job ends, the end's event
// trimmed from the queue's events meanwhile) still settles its handle, once: from the job's state,
// read on reconnecting and at its reconcile interval. The submitter connects as a Redis user of its
// own, so that the test can cut it off (ACL off, its connections killed) while the node works on.

let redis: RedisServer;
let admin: Redis;
let clusterNumber = 0;
const engines: Engine[] = [];
const SUBMITTER = 'submitter';

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
  await admin.call('ACL', 'SETUSER', SUBMITTER, 'on', '>secret', '~*', '&*', '+@all');
});

afterEach(async () => {
  await admin.call('ACL', 'SETUSER', SUBMITTER, 'on');
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
});

afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});

function freshCluster(): string {
  return `reconcile-${process.pid}-${++clusterNumber}`;
}

async function joinNode(name: string, tasks: NamedTaskFunctions): Promise<Engine> {
  const engine = createEngine({ logger: false, tasks, cluster: { redis: redis.url, name, node: 'worker' } });
  engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** An engine that only submits, connected to Redis as the user {@link SUBMITTER}. */
async function joinSubmitter(name: string, reconcileIntervalMs: number): Promise<Engine> {
  const url = `redis://${SUBMITTER}:secret@127.0.0.1:${redis.port}`;
  const engine = createEngine({ logger: false, cluster: { redis: url, name, node: SUBMITTER, concurrency: 0, reconcileIntervalMs } });
  engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

/** Polls, bounded, until `probe` returns a value other than `undefined`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The ids of the submitter's Redis connections (all, or only the one reading the queue's events). */
async function submitterClients(onlyEvents: boolean): Promise<string[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` user=${SUBMITTER} `) && (!onlyEvents || line.includes(' cmd=xread ')))
    .map((line) => /^id=(\d+)/.exec(line)![1]!);
}

/** Cuts the submitter off: it can no longer log in, and its connections (or only its events') are closed. */
async function cutOff(onlyEvents: boolean): Promise<void> {
  const clients = await until('the submitter reads the events', async () => {
    const ids = await submitterClients(onlyEvents);
    return ids.length > 0 ? ids : undefined;
  });
  await admin.call('ACL', 'SETUSER', SUBMITTER, 'off');
  for (const id of clients) await admin.call('CLIENT', 'KILL', 'ID', id);
}

/** Waits, bounded, until job `id` of cluster `name` is in `state`, then trims every event of the queue. */
async function endedAndTrimmed(name: string, id: string, state: string): Promise<void> {
  const queue = new Queue(name, { connection: { url: redis.url }, prefix: 'mezan' });
  try {
    await until(`job ${id} is ${state}`, async () => ((await queue.getJobState(id)) === state ? true : undefined));
  } finally {
    await queue.close();
  }
  await admin.xtrim(`mezan:${name}:events`, 'MAXLEN', 0);
  expect(await admin.xlen(`mezan:${name}:events`)).toBe(0);
}

/** The handle's result, or a rejection once `ms` passed without it settling. */
function settledWithin<T>(handle: TaskHandle<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`task ${handle.id} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([handle.result, timeout]).finally(() => clearTimeout(timer));
}

describe('a submitter never misses a job’s end', () => {
  it('settles from the job’s state when it reconnects, its end’s event trimmed while it was cut off', async () => {
    const name = freshCluster();
    const started = deferred();
    const release = deferred();
    await joinNode(name, {
      gated: async (ctx) => {
        started.resolve();
        await release.promise;
        return { doubled: (ctx.input as number) * 2 };
      },
    });
    // Its interval is far longer than the test: only its reconnection can settle the handle.
    const submitter = await joinSubmitter(name, 600_000);
    const handle = submitter.submit<{ doubled: number }>('gated', { id: 'missed-completion', input: 21 });
    await started.promise;
    await cutOff(false);
    release.resolve();
    await endedAndTrimmed(name, 'missed-completion', 'completed');
    expect(handle.isSettled).toBe(false);
    await admin.call('ACL', 'SETUSER', SUBMITTER, 'on');
    await expect(settledWithin(handle, 15_000)).resolves.toEqual({ doubled: 42 });
    expect(handle.status).toBe('completed');
    expect(submitter.isIdle).toBe(true);
  });

  it('settles a failure it missed at its reconcile interval, its events connection still cut off', async () => {
    const name = freshCluster();
    const started = deferred();
    const release = deferred();
    await joinNode(name, {
      doomed: async () => {
        started.resolve();
        await release.promise;
        throw new Error('the card was declined');
      },
    });
    const submitter = await joinSubmitter(name, 50);
    const handle = submitter.submit('doomed', { id: 'missed-failure' });
    await started.promise;
    // Only the events connection: it cannot come back, while the queue's connection still answers.
    await cutOff(true);
    release.resolve();
    await endedAndTrimmed(name, 'missed-failure', 'failed');
    await expect(settledWithin(handle, 15_000)).rejects.toMatchObject({ code: 'E_TASK_FAILED' });
    const error = await rejectionOf(handle);
    expect(error.message).toContain('the card was declined');
    expect(handle.status).toBe('failed');
    expect(await submitterClients(true)).toEqual([]);
  });

  it('fails a handle whose job is gone (removed while it was cut off), saying that its end is unknown', async () => {
    const name = freshCluster();
    const submitter = await joinSubmitter(name, 50);
    const handle = submitter.submit('nobody-runs-it', { id: 'removed-meanwhile' });
    const queue = new Queue(name, { connection: { url: redis.url }, prefix: 'mezan' });
    try {
      await until('the job is queued', async () => ((await queue.getJobState('removed-meanwhile')) === 'unknown' ? undefined : true));
      await cutOff(true);
      await queue.remove('removed-meanwhile');
    } finally {
      await queue.close();
    }
    await endedAndTrimmed(name, 'removed-meanwhile', 'unknown');
    const error = await settledWithin(handle, 15_000).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ code: 'E_TASK_FAILED' });
    expect((error as Error).message).toContain('did not hear how it ended');
  });
});
