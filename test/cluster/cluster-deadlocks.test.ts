import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ClusterOptions } from '../../src/cluster/cluster-options';
import path from 'node:path';
import Redis from 'ioredis';
import { ClusterDeadlocks, DEADLOCKS_PREFIX, victimChannel } from '../../actors/cluster-deadlocks';
import type { DeadlockPolicy } from '../../src/detection/deadlock-policy';
import { ClusterWaitEdges, type ClusterWaitEdge } from '../../actors/cluster-wait-edges';
import {
  createEngine,
  MezanError,
  realClock,
  type AlertRaisedEvent,
  type DeadlockDetectedEvent,
  type DeadlockResolvedEvent,
  type Engine,
  type EngineEvent,
  type EngineOptions,
  type TaskContext,
  type TaskHandle,
} from '../../src';
import { deferred, rejectionOf, thrownBy, type Deferred } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// Deadlocks across the nodes of a cluster, on a real redis-server: engines whose tasks wait on
// each other through cluster pools. Real time: the tests wait for conditions (bounded), never for
// a delay.

const REPO_ROOT = path.resolve(__dirname, '../..');
const bed = useClusterTestBed();
let admin: Redis;

beforeAll(() => {
  admin = new Redis(bed.redis.url);
});

afterAll(() => {
  admin.disconnect();
});

/** Starts a fixture script of test/fixtures as a child process, its stdout read as lines. */
function startChild(
  script: string,
  args: string[],
): { child: ChildProcessWithoutNullStreams; line: (prefix: string) => Promise<string>; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/fixtures', script), ...args], { cwd: REPO_ROOT });
  child.stderr.pipe(process.stderr);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const line = async (prefix: string): Promise<string> => {
    for (;;) {
      const found = lines.find((candidate) => candidate.startsWith(prefix));
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { child, line, exited };
}

/**
 * Two engines, nodes `a` and `b` of cluster `cluster`, each with the cluster pools db and gpu of one
 * unit, whose deadlocks' victim is the task of the lowest priority; once both are connected.
 */
async function twoNodes(cluster: string, options: Partial<ClusterOptions>): Promise<{ cluster: string; a: Engine; b: Engine }> {
  const [a, b] = ['a', 'b'].map((name) => {
    const engine = createEngine({
      logger: false,
      deadlock: { policy: 'lowest-priority' },
      resources: { db: { capacity: 1, scope: 'cluster' }, gpu: { capacity: 1, scope: 'cluster' } },
      cluster: { redis: bed.redis.url, name: cluster, node: name, concurrency: 0, ...options },
    });
    bed.engines.push(engine);
    return engine;
  }) as [Engine, Engine];
  await Promise.all([a.onClusterReady(), b.onClusterReady()]);
  return { cluster, a, b };
}

/** A detector of cluster `cluster` that scans only when the test calls `scan()` (it is not started: it publishes and hears nothing). */
function handScanner(cluster: string, afterMs: number, policy?: DeadlockPolicy): ClusterDeadlocks {
  return new ClusterDeadlocks({
    url: bed.redis.url,
    redis: admin,
    cluster,
    node: 'detector',
    clock: realClock,
    afterMs,
    scanMs: 3_600_000,
    policy,
    victimize: () => {},
  });
}

/**
 * A lock-order inversion: a's task takes db then gpu, b's takes gpu then db, each taking its second
 * once both hold their first. Each returns the pool it took first. b's task has the lower priority
 * unless `priorities` say otherwise.
 */
function invert(a: Engine, b: Engine, priorities = { a: 1, b: 0 }): { onA: TaskHandle<string>; onB: TaskHandle<string> } {
  const aHolds = deferred<void>();
  const bHolds = deferred<void>();
  const inverted = (first: string, second: string, mine: Deferred<void>, theirs: Deferred<void>) => async (ctx: TaskContext) => {
    const held = await ctx.acquire(first);
    mine.resolve();
    await theirs.promise;
    const other = await ctx.acquire(second);
    other.release();
    held.release();
    return first;
  };
  return {
    onA: a.submit(inverted('db', 'gpu', aHolds, bHolds), { priority: priorities.a }),
    onB: b.submit(inverted('gpu', 'db', bHolds, aHolds), { priority: priorities.b }),
  };
}

describe('deadlocks across the nodes of a cluster', () => {
  it.each<[string, unknown]>([
    ['cluster.deadlockAfterMs', 0],
    ['cluster.deadlockAfterMs', '1000'],
    ['cluster.deadlockScanMs', 1.5],
    ['cluster.deadlockScanMs', -1],
  ])('createEngine refuses a bad %s (%p)', (option, value) => {
    const field = option.slice('cluster.'.length);
    const error = thrownBy(() =>
      createEngine({ logger: false, cluster: { redis: 'redis://127.0.0.1:1', name: 'n', [field]: value } } as EngineOptions),
    );
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });

  it('breaks a lock-order inversion between tasks of two node processes, with exactly one victim', async () => {
    const cluster = bed.freshCluster('processes');
    const a = startChild('cluster-deadlock-node.ts', [bed.redis.url, cluster, 'a', 'db', 'gpu', '1']);
    const b = startChild('cluster-deadlock-node.ts', [bed.redis.url, cluster, 'b', 'gpu', 'db', '0']);
    try {
      const [aHolds, bHolds] = await Promise.all([a.line('holds '), b.line('holds ')]);
      a.child.stdin.write('go\n');
      b.child.stdin.write('go\n');
      const [aEnd, bEnd] = await Promise.all([a.line('completed'), b.line('failed ')]);
      expect(aEnd).toBe('completed');
      const [, code, details] = /^failed (\S+) (.*)$/.exec(bEnd)!;
      expect(code).toBe('E_DEADLOCK');
      const bTask = bHolds.slice('holds '.length);
      const aTask = aHolds.slice('holds '.length);
      expect(JSON.parse(details!)).toMatchObject({ victim: `b/${bTask}`, node: 'b', deadlocked: [`a/${aTask}`, `b/${bTask}`] });
      await Promise.all([a.exited, b.exited]);
      expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toHaveLength(1);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  });

  it("takes over the scan of a detector's node killed mid-scan", async () => {
    const cluster = bed.freshCluster('takeover');
    const stuck = startChild('cluster-deadlock-stuck-scanner.ts', [bed.redis.url, cluster, '1000', '500']);
    let jobId: string;
    try {
      jobId = (await stuck.line('scanning ')).slice('scanning '.length);
    } finally {
      stuck.child.kill('SIGKILL');
    }
    await stuck.exited;
    const queueKey = `${DEADLOCKS_PREFIX}:${cluster}`;
    expect(await admin.lrange(`${queueKey}:active`, 0, -1)).toEqual([jobId]);
    const options = { deadlockAfterMs: 300, deadlockScanMs: 100, lockDurationMs: 1_000, stalledIntervalMs: 500 };
    const { a, b } = await twoNodes(cluster, options);
    const { onA, onB } = invert(a, b);
    await expect(onA.result).resolves.toBe('db');
    await expect(onB.result).rejects.toMatchObject({ code: 'E_DEADLOCK' });
    // The killed node's scan is no longer held: the nodes took it over (and ran it, or later ones).
    expect(await admin.lrange(`${queueKey}:active`, 0, -1)).not.toContain(jobId);
  });

  it('breaks a lock-order inversion between tasks of two engines on two cluster pools, with exactly one victim', async () => {
    const { cluster, a, b } = await twoNodes(bed.freshCluster('deadlock'), { deadlockAfterMs: 300, deadlockScanMs: 100 });
    const { onA, onB } = invert(a, b);
    const outcomes = await Promise.allSettled([onA.result, onB.result]);

    // The victim is the task of the lower priority, b's; a's then gets gpu and completes.
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'db' });
    expect(outcomes[1]!.status).toBe('rejected');
    const error = (outcomes[1] as PromiseRejectedResult).reason as MezanError;
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.details).toMatchObject({ victim: `b/${onB.id}`, node: 'b', deadlocked: [`a/${onA.id}`, `b/${onB.id}`] });
    expect((error.details as { cycle: string[] }).cycle).toEqual(expect.arrayContaining([`a/${onA.id}`, `b/${onB.id}`, 'db', 'gpu']));
    // One decision was sent, for b's request.
    expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toEqual([
      expect.stringMatching(new RegExp(`^mezan:${cluster}:deadlock:decided:b/${onB.id}:`)),
    ]);
  });

  it("reports the deadlock on the victim's node as its own: detected, resolved with the cycle's nodes, its alert raised then cleared", async () => {
    const { a, b } = await twoNodes(bed.freshCluster('reported'), { deadlockAfterMs: 300, deadlockScanMs: 100 });
    const heard = { a: [] as EngineEvent[], b: [] as EngineEvent[] };
    const deadlockCleared = deferred<void>();
    for (const [name, engine] of [['a', a] as const, ['b', b] as const]) {
      engine.events$.subscribe((event) => {
        if (!event.type.startsWith('deadlock.') && !(event.type.startsWith('alert.') && (event as { alert?: string }).alert === 'deadlock')) return;
        heard[name].push(event);
        if (event.type === 'alert.cleared') deadlockCleared.resolve();
      });
    }
    const { onA, onB } = invert(a, b);
    await expect(onB.result).rejects.toMatchObject({ code: 'E_DEADLOCK' });
    await expect(onA.result).resolves.toBe('db');
    await deadlockCleared.promise;

    const victim = `b/${onB.id}`;
    const deadlocked = [`a/${onA.id}`, victim];
    expect(heard.b.map((event) => event.type)).toEqual(['deadlock.detected', 'deadlock.resolved', 'alert.raised', 'alert.cleared']);
    const [detected, resolved, raised] = heard.b as [DeadlockDetectedEvent, DeadlockResolvedEvent, AlertRaisedEvent];
    expect(detected).toMatchObject({ deadlocked, nodes: ['a', 'b'] });
    expect(detected.cycle).toEqual(expect.arrayContaining([...deadlocked, 'db', 'gpu']));
    expect(resolved).toMatchObject({ resolution: 'victim', victim, nodes: ['a', 'b'], cycle: detected.cycle });
    expect(raised).toMatchObject({ alert: 'deadlock', severity: 'critical', value: 2 });
    // The other node of the cycle reports nothing: the deadlock is the victim's node's to report, once.
    expect(heard.a).toEqual([]);
    expect(b.deadlocks()).toEqual([expect.objectContaining({ deadlocked, cycle: detected.cycle, victim, resolution: 'victim', nodes: ['a', 'b'] })]);
    expect(b.metrics().deadlocks).toMatchObject({ detected: 1, resolvedByVictim: 1 });
    expect(a.deadlocks()).toEqual([]);
  });

  it("chooses the victim by the engines' deadlock.policy, from the facts each node published of its task", async () => {
    const { a, b } = await twoNodes(bed.freshCluster('policy'), { deadlockAfterMs: 300, deadlockScanMs: 100 });
    // a's task has the lower priority this time: it is the victim, and b's completes.
    const { onA, onB } = invert(a, b, { a: -2, b: 3 });
    const [error] = await Promise.all([rejectionOf(onA), expect(onB.result).resolves.toBe('gpu')]);
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.details).toMatchObject({ victim: `a/${onA.id}`, node: 'a', nodes: ['a', 'b'], policy: 'lowest-priority' });
    expect(a.deadlocks()).toEqual([expect.objectContaining({ victim: `a/${onA.id}`, policy: 'lowest-priority' })]);
  });

  describe('a cycle through an await across nodes', () => {
    /**
     * Node a (which runs no cluster task) and node b (which runs one at a time, the named task
     * takeDb: it takes db and gives it back); both have the cluster pool db of one unit. a's task
     * takes db, submits takeDb, and awaits it: takeDb runs on b and waits for db.
     */
    async function awaitAcross(priorities: { readonly outer: number; readonly inner: number }) {
      const cluster = bed.freshCluster('await');
      const node = (name: string, concurrency: number): Engine => {
        const engine = createEngine({
          logger: false,
          deadlock: { policy: 'lowest-priority' },
          resources: { db: { capacity: 1, scope: 'cluster' } },
          tasks: {
            takeDb: async (ctx) => {
              const db = await ctx.acquire('db');
              db.release();
              return 'took db';
            },
          },
          cluster: { redis: bed.redis.url, name: cluster, node: name, concurrency, deadlockAfterMs: 300, deadlockScanMs: 100 },
        });
        bed.engines.push(engine);
        return engine;
      };
      const [a, b] = [node('a', 0), node('b', 1)];
      await Promise.all([a.onClusterReady(), b.onClusterReady()]);
      // The ends each engine reports, by task id (each engine numbers its own tasks).
      const ends = { a: [] as string[], b: [] as string[] };
      for (const [name, engine] of [['a', a] as const, ['b', b] as const]) {
        engine.events$.subscribe((event) => {
          if (['task.completed', 'task.failed', 'task.deadlock', 'task.cancelled'].includes(event.type))
            ends[name].push(`${(event as { taskId: string }).taskId}:${event.type}`);
        });
      }
      const submitted = deferred<TaskHandle<unknown>>();
      const outer = a.submit(
        async (ctx) => {
          const db = await ctx.acquire('db');
          const inner = ctx.submit('takeDb', { priority: priorities.inner });
          submitted.resolve(inner);
          try {
            return await ctx.await(inner);
          } finally {
            db.release();
          }
        },
        { priority: priorities.outer },
      );
      return { a, b, outer, inner: await submitted.promise, ends };
    }

    it('is found and broken: the awaited task on the other node, of the lower priority, is the victim', async () => {
      const { b, outer, inner, ends } = await awaitAcross({ outer: 5, inner: 0 });
      // The submitter hears the code and message of the cluster task's end (the details stay on the node that ran it).
      await expect(inner.result).rejects.toMatchObject({ code: 'E_DEADLOCK' });
      // The awaiting task hears its awaited task's end: the deadlock's error, which it threw on.
      await expect(outer.result).rejects.toMatchObject({ code: 'E_TASK_FAILED', cause: { code: 'E_DEADLOCK' } });
      const [report] = b.deadlocks();
      const victim = report!.victim!;
      expect(victim).toMatch(/^b\//);
      expect(report).toMatchObject({ nodes: ['a', 'b'], deadlocked: [`a/${outer.id}`, victim], policy: 'lowest-priority', resolution: 'victim' });
      expect(report!.cycle).toEqual(expect.arrayContaining([`a/${outer.id}`, victim, 'db']));
      expect(b.deadlocks()).toHaveLength(1);
      // Each task ended once: a's outer and a's handle of inner, and b's attempt of inner.
      expect(ends.a.sort()).toEqual([`${inner.id}:task.deadlock`, `${outer.id}:task.failed`].sort());
      expect(ends.b).toEqual([`${victim.slice('b/'.length)}:task.deadlock`]);
    });

    it('weighs the awaited task by the priority it was submitted with, on the node that runs it', async () => {
      // Both below the inner task's 5: the outer task is the victim (the inner one ran at priority 0 on b before).
      const { a, outer, inner } = await awaitAcross({ outer: 2, inner: 5 });
      await expect(rejectionOf(outer)).resolves.toMatchObject({ code: 'E_DEADLOCK', details: { victim: `a/${outer.id}` } });
      await expect(inner.result).resolves.toBe('took db');
      expect(a.deadlocks()).toEqual([expect.objectContaining({ victim: `a/${outer.id}` })]);
    });

    it('is found and broken: the awaiting task, of the lower priority, is the victim, and the awaited task completes', async () => {
      const { a, b, outer, inner, ends } = await awaitAcross({ outer: -5, inner: 0 });
      const error = await rejectionOf(outer);
      expect(error.code).toBe('E_DEADLOCK');
      expect(error.details).toMatchObject({ victim: `a/${outer.id}`, node: 'a', nodes: ['a', 'b'] });
      // Its lease was freed at once: the awaited task got db.
      await expect(inner.result).resolves.toBe('took db');
      expect(a.deadlocks()).toEqual([expect.objectContaining({ victim: `a/${outer.id}`, policy: 'lowest-priority' })]);
      expect(b.deadlocks()).toEqual([]);
      expect(ends.a.sort()).toEqual([`${inner.id}:task.completed`, `${outer.id}:task.deadlock`].sort());
      expect(ends.b).toEqual([expect.stringMatching(/:task\.completed$/)]);
    });
  });

  it('sends a decision to the victim of each deadlock one scan confirms, once', async () => {
    const cluster = bed.freshCluster('several');
    const edges = new ClusterWaitEdges({ redis: admin, cluster });
    // Two lock-order inversions, each between two (published) nodes: n1 and n2 on db and gpu, n3 and n4 on disk and net.
    const inversion = (first: string, second: string, [x, y]: readonly [string, string]): [string, ClusterWaitEdge[]][] => [
      [
        x,
        [
          { kind: 'holds', task: `${x}/t`, resource: first, units: 1, capacity: 1 },
          { kind: 'requests', task: `${x}/t`, resource: second, units: 1, capacity: 1, request: `${x}-r` },
          { kind: 'runs', task: `${x}/t`, priority: 1, startedAt: 0 },
        ],
      ],
      [
        y,
        [
          { kind: 'holds', task: `${y}/t`, resource: second, units: 1, capacity: 1 },
          { kind: 'requests', task: `${y}/t`, resource: first, units: 1, capacity: 1, request: `${y}-r` },
          { kind: 'runs', task: `${y}/t`, priority: 0, startedAt: 0 },
        ],
      ],
    ];
    for (const [node, published] of [...inversion('db', 'gpu', ['n1', 'n2']), ...inversion('disk', 'net', ['n3', 'n4'])])
      await edges.publish(node, published, 1);
    const listener = new Redis(bed.redis.url);
    const heard: string[] = [];
    const bothHeard = deferred<void>();
    listener.on('message', (channel: string, message: string) => {
      heard.push(`${channel.slice(channel.lastIndexOf(':') + 1)} ${(JSON.parse(message) as { request: string }).request}`);
      if (heard.length === 2) bothHeard.resolve();
    });
    await listener.subscribe(victimChannel(cluster, 'n2'), victimChannel(cluster, 'n4'));
    const detector = handScanner(cluster, 60_000, 'lowest-priority');
    try {
      expect(await detector.scan()).toEqual([]);
      // Both deadlocks were first seen an hour ago: the next scan confirms them.
      const key = `mezan:${cluster}:deadlock:candidates`;
      const candidates = JSON.parse((await admin.get(key))!) as Record<string, { since: number }>;
      expect(Object.keys(candidates).sort()).toEqual(['n1/t', 'n2/t', 'n3/t', 'n4/t']);
      for (const candidate of Object.values(candidates)) candidate.since -= 3_600_000;
      await admin.set(key, JSON.stringify(candidates));
      const victims = await detector.scan();
      expect(victims.map(({ node, task }) => `${node}/${task}`).sort()).toEqual(['n2/t', 'n4/t']);
      await bothHeard.promise;
      expect(heard.sort()).toEqual(['n2 n2-r', 'n4 n4-r']);
      // Scanned again, they are the same decisions: none is sent twice.
      expect(await detector.scan()).toHaveLength(2);
      expect((await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).sort()).toEqual([
        `mezan:${cluster}:deadlock:decided:n2/t:n2-r`,
        `mezan:${cluster}:deadlock:decided:n4/t:n4-r`,
      ]);
      // A message published after the last scan's would come before this round trip's answer.
      await listener.ping();
      expect(heard).toHaveLength(2);
    } finally {
      listener.disconnect();
      await detector.close();
    }
  });

  it('does not break a phantom: a cycle whose wait ended before the second snapshot', async () => {
    // The engines' own scans are an hour apart: this test scans by hand.
    const { cluster, a, b } = await twoNodes(bed.freshCluster('phantom'), { deadlockAfterMs: 1, deadlockScanMs: 3_600_000 });
    const bHoldsGpu = deferred<void>();
    const releaseGpu = deferred<void>();
    const onB = b.submit(async (ctx) => {
      const gpu = await ctx.acquire('gpu');
      bHoldsGpu.resolve();
      await releaseGpu.promise;
      gpu.release();
    });
    await bHoldsGpu.promise;
    const onA = a.submit(async (ctx) => {
      const db = await ctx.acquire('db');
      const gpu = await ctx.acquire('gpu');
      gpu.release();
      db.release();
      return 'done';
    });
    const edges = new ClusterWaitEdges({ redis: admin, cluster });
    // a publishes its task's hold of db and wait for gpu (b's task holds gpu but waits for nothing: b publishes nothing).
    await until(
      async () => (await edges.snapshot()).nodes.some(({ node, edges }) => node === 'a' && edges.some((edge) => edge.kind === 'requests')),
      'a to publish its wait',
    );
    // A ghost node's task that held gpu and waited for db: a cycle with a's task, as a stale publish would show.
    await edges.publish(
      'ghost',
      [
        { kind: 'holds', task: 'ghost/g1', resource: 'gpu', units: 1, capacity: 1 },
        { kind: 'requests', task: 'ghost/g1', resource: 'db', units: 1, capacity: 1, request: 'x' },
      ],
      1,
    );
    const detector = handScanner(cluster, 1);
    expect(await detector.scan()).toEqual([]);
    const candidates = JSON.parse((await admin.get(`mezan:${cluster}:deadlock:candidates`))!) as Record<string, unknown>;
    expect(Object.keys(candidates).sort()).toEqual([`a/${onA.id}`, 'ghost/g1']);
    // The ghost's wait ends before the next snapshot.
    await edges.withdraw('ghost');
    const [seconds, micros] = await admin.time();
    await until(async () => {
      const [s, m] = await admin.time();
      return Number(s) * 1e6 + Number(m) > Number(seconds) * 1e6 + Number(micros) + 1_000;
    }, 'afterMs of Redis time to pass');
    expect(await detector.scan()).toEqual([]);
    expect(await admin.keys(`mezan:${cluster}:deadlock:decided:*`)).toEqual([]);
    releaseGpu.resolve();
    await expect(onA.result).resolves.toBe('done');
    await expect(onB.result).resolves.toBeUndefined();
  });
});
