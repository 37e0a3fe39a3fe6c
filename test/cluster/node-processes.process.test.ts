import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { withdrawnKey } from '../../actors/cluster-gates';
import { createEngine, type Engine, type TaskHandle } from '../../src';
import type { GatedResult } from '../fixtures/cluster/gated-tasks';
import { killAll, startNode, taskLines, type NodeProcess } from '../fixtures/cluster/node-processes';
import { rejectionOf } from '../fixtures/engine-harness';
import { until } from '../fixtures/cluster-test-bed';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// Three `mezan node` processes on a real redis-server, and the test's own engine, which only
// submits. Every task waits at a gate the test opens (a Redis list), so the test decides when tasks
// end; the only real-time waits are BullMQ's short leases (1 s) lapsing after a node's death.

let redis: RedisServer;
let gates: Redis;
let clusterNumber = 0;
let nodes: NodeProcess[] = [];
let submitter: Engine | undefined;
let events: QueueEvents | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
  gates = new Redis(redis.url);
});

afterEach(async () => {
  await killAll(nodes);
  nodes = [];
  await submitter?.shutdown({ force: true, graceMs: 0 });
  submitter = undefined;
  await events?.close();
  events = undefined;
});

afterAll(async () => {
  gates.disconnect();
  await redis.stop();
});

/** A fresh cluster: three nodes of concurrency 2, the test's submitter, and a count of the queue's `completed` events by job id. */
async function startCluster(): Promise<{ name: string; completions: Map<string, number> }> {
  const name = `procs-${process.pid}-${++clusterNumber}`;
  nodes = await Promise.all(['n1', 'n2', 'n3'].map((node) => startNode({ redisUrl: redis.url, cluster: name, name: node })));
  submitter = createEngine({ logger: false, cluster: { redis: redis.url, name, node: 'submitter', concurrency: 0 } });
  await submitter.onClusterReady();
  const completions = new Map<string, number>();
  events = new QueueEvents(name, { connection: { url: redis.url }, prefix: 'mezan' });
  events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
  await events.waitUntilReady();
  return { name, completions };
}

/** Submits `count` gated tasks at gate `gate`. */
function submitGated(count: number, gate: string): Array<TaskHandle<GatedResult>> {
  return Array.from({ length: count }, (_, index) => submitter!.submit<GatedResult>('gated', { id: `${gate}-${index}`, input: { gate } }));
}

/** Lets `count` attempts number `attempt` waiting (or to wait) at `gate` go on. */
async function open(gate: string, count: number, attempt = 1): Promise<void> {
  await gates.rpush(`gate:${gate}:${attempt}`, ...Array.from({ length: count }, () => 'go'));
}

/** Polls `condition` until it holds (processes and Redis take real time), failing after a bound with `what`. */
async function eventually(condition: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once `count` task-started lines (of attempt `attempt`, if given), in all, were written by `among`. */
async function started(among: readonly NodeProcess[], count: number, attempt?: number): Promise<void> {
  const total = (): number =>
    among.reduce((sum, node) => sum + taskLines(node, 'started').filter((line) => attempt === undefined || line.attempt === attempt).length, 0);
  await eventually(
    () => total() >= count,
    () => `only ${total()} of ${count} tasks started: ${among.map((node) => node.stdout.join(' | ')).join(' || ')}`,
  );
}

describe('mezan node: three node processes', () => {
  it('spreads the tasks over every node, each handle settling once with its result', async () => {
    const { completions } = await startCluster();
    // Six slots in all, nine tasks held at the gate: each node takes two before any ends.
    const handles = submitGated(9, 'spread');
    await started(nodes, 6);
    expect(nodes.map((node) => taskLines(node, 'started').length)).toEqual([2, 2, 2]);
    await open('spread', 9);
    const results = await Promise.all(handles.map((handle) => handle.result));
    expect(new Set(results.map((result) => result.pid))).toEqual(new Set(nodes.map((node) => node.pid)));
    expect(results.map((result) => result.id)).toEqual(handles.map((handle) => handle.id));
    await eventually(
      () => completions.size === 9,
      () => `${completions.size} completed events`,
    );
    expect([...completions.values()].every((count) => count === 1)).toBe(true);
  });

  it('runs the tasks of a node killed with SIGKILL on the others once its leases lapse; every handle settles once', async () => {
    const { completions } = await startCluster();
    const handles = submitGated(6, 'kill');
    await started(nodes, 6);
    const [victim, ...survivors] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const orphaned = taskLines(victim, 'started').map((line) => line.id);
    expect(orphaned).toHaveLength(2);
    victim.child.kill('SIGKILL');
    await victim.exited;
    // The survivors' own tasks end; the victim's two start again on them, as attempt 2.
    await open('kill', 4);
    await started(survivors, 2, 2);
    await open('kill', 2, 2);
    const results = await Promise.all(handles.map((handle) => handle.result));
    for (const result of results) expect(result.pid).not.toBe(victim.pid);
    expect(results.filter((result) => orphaned.includes(result.id)).map((result) => result.attempt)).toEqual([2, 2]);
    expect(handles.every((handle) => handle.status === 'completed')).toBe(true);
    await eventually(
      () => completions.size === 6,
      () => `${completions.size} completed events`,
    );
    expect([...completions.values()].every((count) => count === 1)).toBe(true);
  });

  it('fails a task whose nodes die more often than maxStalledCount allows (1) with E_WORKER_CRASHED', async () => {
    await startCluster();
    const [handle] = submitGated(1, 'twice');
    await started(nodes, 1);
    const first = nodes.find((node) => taskLines(node, 'started').length === 1)!;
    first.child.kill('SIGKILL');
    const survivors = nodes.filter((node) => node !== first);
    await started(survivors, 1, 2);
    const second = survivors.find((node) => taskLines(node, 'started').some((line) => line.attempt === 2))!;
    second.child.kill('SIGKILL');
    const error = await rejectionOf(handle!);
    expect(error.code).toBe('E_WORKER_CRASHED');
    expect(handle!.status).toBe('failed');
  });

  it('does not run again a task cancelled while its node was dead: the node that takes it over fails it E_CANCELLED, unrun', async () => {
    const name = `procs-${process.pid}-${++clusterNumber}`;
    const first = await startNode({ redisUrl: redis.url, cluster: name, name: 'first', concurrency: 1 });
    nodes = [first];
    submitter = createEngine({ logger: false, cluster: { redis: redis.url, name, node: 'submitter', concurrency: 0 } });
    await submitter.onClusterReady();
    const handle = submitter.submit<GatedResult>('gated', { id: 'doomed', input: { gate: 'doomed' } });
    await started([first], 1);
    // Its node dies holding the job's lease: nobody hears the cancel, and BullMQ cannot remove the job.
    first.child.kill('SIGKILL');
    await first.exited;
    handle.cancel();
    expect((await rejectionOf(handle)).code).toBe('E_CANCELLED');
    await until(async () => (await gates.exists(withdrawnKey(name, 'doomed'))) === 1, 'the withdrawn mark');
    const second = await startNode({ redisUrl: redis.url, cluster: name, name: 'second', concurrency: 1 });
    nodes.push(second);
    const queue = new Queue(name, { connection: { url: redis.url }, prefix: 'mezan' });
    try {
      // Once the dead node's lease lapses, the second node takes the job (attempt 2): it ends it, or runs it.
      await until(
        async () => taskLines(second, 'started').length > 0 || (await queue.getJobState('doomed')) === 'failed',
        'the job to be run again or to fail',
      );
      expect(taskLines(second, 'started')).toEqual([]);
      expect((await queue.getJob('doomed'))?.failedReason).toMatch(/^E_CANCELLED: Task "gated" was cancelled before its attempt 2 ran/);
    } finally {
      await queue.close();
    }
  });

  it('fences a node paused past its lease: its late completion is refused, the task completes once, by the node that took it over', async () => {
    const { name, completions } = await startCluster();
    const handles = submitGated(6, 'pause');
    await started(nodes, 6);
    const [sleeper, ...others] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const taken = taskLines(sleeper, 'started').map((line) => line.id);
    sleeper.child.kill('SIGSTOP');
    try {
      // Six first attempts' tokens: the stopped sleeper's two waits are served too (by Redis, on
      // their open connections), so that it finishes as soon as it resumes.
      await open('pause', 6);
      await started(others, 2, 2);
      await open('pause', 2, 2);
      const results = await Promise.all(handles.map((handle) => handle.result));
      expect(results.filter((result) => taken.includes(result.id)).every((result) => result.pid !== sleeper.pid && result.attempt === 2)).toBe(true);
    } finally {
      sleeper.child.kill('SIGCONT');
    }
    // Resumed, the sleeper finishes its two first attempts, and BullMQ refuses each completion: its
    // lock is gone.
    for (const id of taken) await sleeper.line((line) => line.startsWith(`task-finished ${id} 1 `));
    await sleeper.line((line) => /cluster: the worker reported an error/.test(line) && /lock/i.test(line), 'stderr');
    const queue = new Queue(name, { connection: { url: redis.url }, prefix: 'mezan' });
    try {
      for (const id of taken) {
        const job = await Job.fromId<unknown, GatedResult>(queue, id);
        expect(job?.returnvalue.pid).not.toBe(sleeper.pid);
        expect(completions.get(id)).toBe(1);
      }
    } finally {
      await queue.close();
    }
  });

  it('drains on SIGTERM to every node: running tasks finish, queued ones stay queued, and a new node runs them; none is lost', async () => {
    const { name } = await startCluster();
    const handles = submitGated(9, 'drain');
    await started(nodes, 6);
    for (const node of nodes) node.child.kill('SIGTERM');
    // Once every node drains (it takes no more tasks), their running tasks may end.
    await Promise.all(nodes.map((node) => node.line((line) => line.startsWith('mezan node: SIGTERM: draining'))));
    await open('drain', 6);
    const exits = await Promise.all(nodes.map((node) => node.exited));
    expect(exits).toEqual(nodes.map(() => ({ code: 0, signal: null })));
    for (const node of nodes) expect(node.stdout).toContain('mezan node: stopped: 2 completed, 0 failed, 0 cancelled, 0 lost');
    expect(handles.filter((handle) => handle.status === 'completed')).toHaveLength(6);
    expect(handles.filter((handle) => handle.status === 'queued')).toHaveLength(3);
    const late = await startNode({ redisUrl: redis.url, cluster: name, name: 'late', concurrency: 3 });
    nodes.push(late);
    await open('drain', 3);
    const results = await Promise.all(handles.map((handle) => handle.result));
    expect(results.filter((result) => result.pid === late.pid)).toHaveLength(3);
    expect(results.every((result) => result.attempt === 1)).toBe(true);
  });

  it('says in its stop line how the cluster tasks its own tasks submitted ended', async () => {
    const name = `procs-${process.pid}-${++clusterNumber}`;
    const relay = await startNode({ redisUrl: redis.url, cluster: name, name: 'relay' });
    nodes = [relay];
    submitter = createEngine({ logger: false, cluster: { redis: redis.url, name, node: 'submitter', concurrency: 0 } });
    await submitter.onClusterReady();
    const handle = submitter.submit<GatedResult>('relay', { input: { gate: 'relayed' } });
    await started([relay], 1);
    await open('relayed', 1);
    await expect(handle.result).resolves.toMatchObject({ attempt: 1, pid: relay.pid });
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(relay.stdout).toContain(
      'mezan node: stopped: 2 completed, 0 failed, 0 cancelled, 0 lost; of the 1 cluster task(s) it submitted: 1 completed, 0 failed, 0 cancelled',
    );
  });
});
