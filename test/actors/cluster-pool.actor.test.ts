import { spawn } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import { createActor } from 'xstate';
import { clusterPoolKey, clusterPoolLogic, type ClusterPoolInput } from '../../actors/cluster-pool.actor';
import { realClock } from '../../src/clock';
import { MezanError } from '../../src/errors';
import type { GraphPoolChangesEvent, ResourceGrantedEvent, ResourceReplyEvent } from '../../src/internal/resource-protocol';
import { until } from '../fixtures/cluster-test-bed';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';
import type { PoolSnapshot } from '../../actors/pool.actor';
import { recordSteps } from '../fixtures/chart-transitions';
import { checkPoolAgainstChart } from '../fixtures/resource-chart';

// Every test runs against a real redis-server of this suite's own (no mock: the semaphore's Lua
// scripts must run on a server). Leases here live 10 s, far longer than any test waits, unless a test
// is about their lapsing; then they live 600 ms, so that it waits for a real TTL to pass without
// taking long. Waits are for conditions (a reply heard, a key's size), bounded, never fixed sleeps.

const REPO_ROOT = path.resolve(__dirname, '../..');
const HOLDER_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/cluster-pool-holder.ts');

let server: RedisServer;
let admin: Redis;
let clusters = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

/** What every node of one test's cluster shares: the units held across the nodes, as their requesters heard. */
interface Ledger {
  held: number;
  peak: number;
}

/** A cluster pool `db` on node `node` of cluster `cluster`, with its own Redis connection and a requester that records every reply. */
function startNode(cluster: string, node: string, capacity: number, ledger: Ledger, input: Partial<ClusterPoolInput> = {}) {
  // Every event the pool processes, for the chart's conformance check.
  const { inspect, steps, initial } = recordSteps<PoolSnapshot>(`db@${node}`);
  const redis = new Redis(server.url);
  const replies: ResourceReplyEvent[] = [];
  const graph: GraphPoolChangesEvent[] = [];
  const requester = {
    send(event: ResourceReplyEvent): void {
      replies.push(event);
      if (event.type === 'resource.granted') {
        ledger.held += event.units;
        ledger.peak = Math.max(ledger.peak, ledger.held);
      }
      if (event.type === 'resource.revoked' && event.leaseId !== undefined) ledger.held -= unitsOf(event.leaseId);
    },
  };
  const granted = (): ResourceGrantedEvent[] => replies.filter((reply): reply is ResourceGrantedEvent => reply.type === 'resource.granted');
  const unitsOf = (leaseId: string): number => granted().find((grant) => grant.leaseId === leaseId)!.units;
  const pool = createActor(clusterPoolLogic, {
    id: `db@${node}`,
    inspect,
    input: { name: 'db', capacity, redis, cluster, node, clock: realClock, retryMs: 20, observer: { send: (event) => graph.push(event) }, ...input },
  }).start();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    pool.stop();
  };
  cleanups.push(() => {
    stop();
    redis.disconnect();
  });
  return {
    pool,
    redis,
    replies,
    graph,
    granted,
    stop,
    request: (requestId: string, taskId: string, units = 1) =>
      pool.send({ type: 'resource.request', requestId, taskId, units, at: Date.now(), replyTo: requester }),
    release: (leaseId: string) => {
      ledger.held -= unitsOf(leaseId);
      pool.send({ type: 'resource.release', leaseId, at: Date.now() });
    },
    cancel: (requestId: string) => pool.send({ type: 'resource.cancel', requestId, at: Date.now() }),
    revoke: (taskId: string) =>
      pool.send({ type: 'resource.revoke', taskId, at: Date.now(), reason: new MezanError('E_DEADLOCK', 'chosen as victim') }),
    replyTo: (requestId: string) => replies.find((reply) => reply.requestId === requestId),
    setCapacity: (value: number) => pool.send({ type: 'resource.set-capacity', capacity: value, at: Date.now() }),
    /** The chart transitions its steps took; fails at the first step the chart does not allow. */
    checkAgainstChart: () => checkPoolAgainstChart(initial(), steps),
  };
}

function newCluster(): { name: string; key: string; ledger: Ledger } {
  const name = `cluster-${++clusters}`;
  return { name, key: clusterPoolKey(name, 'db'), ledger: { held: 0, peak: 0 } };
}

describe('a cluster pool', () => {
  it('never lets the units held across three nodes exceed its capacity, and grants every request in the end', async () => {
    const { name, key, ledger } = newCluster();
    const nodes = ['api-1', 'api-2', 'api-3'].map((node) => startNode(name, node, 3, ledger));
    nodes.forEach((node, n) => {
      for (let task = 0; task < 3; task++) node.request(`r${task}`, `n${n}-t${task}`);
    });
    const released = new Set<string>();
    // Lease ids are unique within one node's pool, not across nodes.
    const grants = () => nodes.flatMap((node, n) => node.granted().map((grant) => ({ node, grant, id: `${n}/${grant.leaseId}` })));
    while (released.size < 9) {
      const open = 9 - released.size;
      // The pool is full (or everything left is granted): exactly min(3, open) units are held.
      await until(() => grants().length - released.size === Math.min(3, open), `${Math.min(3, open)} leases held`);
      expect(ledger.held).toBe(Math.min(3, open));
      // A release reaches Redis a moment after the pool answered: once nothing waits for its units
      // (everything left is granted), the count of permits catches up a little later.
      await until(async () => (await admin.zcard(key)) === Math.min(3, open), `${Math.min(3, open)} permits in Redis`);
      const next = grants().find(({ id }) => !released.has(id))!;
      released.add(next.id);
      next.node.release(next.grant.leaseId);
    }
    expect(ledger.peak).toBe(3);
    expect(grants().map(({ grant }) => grant.units)).toEqual(Array(9).fill(1));
    for (const node of nodes) expect(node.replies.every((reply) => reply.type === 'resource.granted')).toBe(true);
    // Every permit went back to Redis.
    await until(async () => (await admin.zcard(key)) === 0, 'the permits to be released');
    // Each node's pool counted its own grants and releases.
    for (const node of nodes) expect(node.pool.getSnapshot().context.stats).toMatchObject({ acquired: 3, released: 3, inUse: 0, queueLength: 0 });
  });

  it('grants a request of several units only once they are all free cluster-wide', async () => {
    const { name, ledger } = newCluster();
    const a = startNode(name, 'a', 3, ledger);
    const b = startNode(name, 'b', 3, ledger);
    a.request('ra', 'ta', 2);
    await until(() => a.granted().length === 1, 'a to hold 2 units');
    b.request('rb', 'tb', 2);
    // b's request waits on b: its pool is contended, and told its observer so.
    await until(() => b.pool.getSnapshot().value === 'contended', 'b to wait');
    expect(b.graph.at(-1)).toMatchObject({ resource: 'db', capacity: 3, contended: true });
    a.release(a.granted()[0]!.leaseId);
    await until(() => b.granted().length === 1, 'b to hold 2 units');
    expect(b.granted()[0]).toMatchObject({ requestId: 'rb', units: 2, resource: 'db' });
    expect(ledger.peak).toBe(2);
    expect(b.pool.getSnapshot().value).toBe('available');
    expect(b.graph.at(-1)).toMatchObject({ contended: false });
  });

  it('denies at once a request of more units than its capacity, or of no whole unit', () => {
    const { name, ledger } = newCluster();
    const a = startNode(name, 'a', 3, ledger);
    a.request('too-many', 't1', 4);
    a.request('fraction', 't2', 1.5);
    expect(a.replies.map((reply) => [reply.requestId, reply.type])).toEqual([
      ['too-many', 'resource.denied'],
      ['fraction', 'resource.denied'],
    ]);
    expect(a.pool.getSnapshot().context.stats.denied).toBe(2);
  });

  it('withdraws a cancelled request: it never takes the units, and the next request gets them', async () => {
    const { name, key, ledger } = newCluster();
    const a = startNode(name, 'a', 1, ledger);
    const b = startNode(name, 'b', 1, ledger);
    a.request('ra', 'ta');
    await until(() => a.granted().length === 1, 'a to hold the unit');
    b.request('rb1', 'tb1');
    b.request('rb2', 'tb2');
    await until(() => b.pool.getSnapshot().context.stats.queueLength === 2, 'b to queue both');
    b.cancel('rb1');
    expect(b.replyTo('rb1')).toMatchObject({ type: 'resource.cancelled', resource: 'db' });
    a.release(a.granted()[0]!.leaseId);
    await until(() => b.granted().length === 1, 'rb2 to be granted');
    expect(b.granted().map((grant) => grant.requestId)).toEqual(['rb2']);
    expect(b.pool.getSnapshot().context.stats).toMatchObject({ timeouts: 1, acquired: 1, inUse: 1, queueLength: 0 });
    expect(await admin.zcard(key)).toBe(1);
  });

  it("takes a revoked task's leases and requests back at once, and frees their units for the other nodes", async () => {
    const { name, key, ledger } = newCluster();
    const a = startNode(name, 'a', 2, ledger);
    const b = startNode(name, 'b', 2, ledger);
    a.request('ra1', 'victim', 2);
    await until(() => a.granted().length === 1, 'the victim to hold both units');
    a.request('ra2', 'victim', 1);
    b.request('rb', 'other', 2);
    await until(() => a.pool.getSnapshot().value === 'contended' && b.pool.getSnapshot().value === 'contended', 'both to wait');
    a.revoke('victim');
    const leaseId = a.granted()[0]!.leaseId;
    expect(a.replyTo('ra1')).toEqual({ type: 'resource.granted', requestId: 'ra1', leaseId, resource: 'db', units: 2, at: expect.any(Number) });
    expect(a.replies.filter((reply) => reply.type === 'resource.revoked')).toEqual([
      expect.objectContaining({ requestId: 'ra1', leaseId, taskId: 'victim' }),
      expect.objectContaining({ requestId: 'ra2', leaseId: undefined, taskId: 'victim' }),
    ]);
    await until(() => b.granted().length === 1, 'the other node to get both units');
    expect(ledger.peak).toBe(2);
    expect(await admin.zcard(key)).toBe(2);
  });

  it('gives its permits back to Redis when it stops, so the other nodes proceed', async () => {
    const { name, key, ledger } = newCluster();
    const a = startNode(name, 'a', 2, ledger);
    const b = startNode(name, 'b', 2, ledger);
    a.request('ra', 'ta', 2);
    await until(() => a.granted().length === 1, 'a to hold both units');
    b.request('rb', 'tb', 1);
    await until(() => b.pool.getSnapshot().value === 'contended', 'b to wait');
    a.stop();
    await until(() => b.granted().length === 1, 'b to be granted');
    expect(await admin.zcard(key)).toBe(1);
  });

  it('tells the holder of a lease whose permits lapsed (Redis lost them) that it was revoked, with E_LEASE_LOST', async () => {
    const { name, key, ledger } = newCluster();
    const a = startNode(name, 'a', 1, ledger, { leaseTtlMs: 600 });
    a.request('ra', 'ta');
    await until(() => a.granted().length === 1, 'a to hold the unit');
    await admin.del(key);
    // The next refresh (every 200 ms) finds the permits gone.
    await until(() => a.replies.some((reply) => reply.type === 'resource.revoked'), 'the lease to be lost');
    const revoked = a.replies.find((reply) => reply.type === 'resource.revoked')!;
    expect(revoked).toMatchObject({ requestId: 'ra', leaseId: a.granted()[0]!.leaseId, taskId: 'ta', resource: 'db' });
    expect(revoked.type === 'resource.revoked' && revoked.reason).toMatchObject({ code: 'E_LEASE_LOST', details: { resource: 'db' } });
    expect(a.pool.getSnapshot().context.stats).toMatchObject({ revoked: 1, inUse: 0 });
    expect(a.pool.getSnapshot().context.holdings).toEqual([]);
  });

  it('lets the lease of a node killed with SIGKILL lapse, so that the other nodes proceed', async () => {
    const { name, key, ledger } = newCluster();
    // The doomed node's lease lives 600 ms unrefreshed: this test waits for it to lapse after the kill.
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER_SCRIPT, server.url, name, '600'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (chunk.includes('held') ? resolve() : undefined));
      child.on('exit', (code) => reject(new Error(`the holder exited (${String(code)}) before it held the unit`)));
    });
    expect(await admin.zcard(key)).toBe(1);
    const survivor = startNode(name, 'survivor', 1, ledger);
    survivor.request('rs', 'ts');
    await until(() => survivor.pool.getSnapshot().value === 'contended', 'the survivor to wait');
    child.kill('SIGKILL');
    await exited;
    await until(() => survivor.granted().length === 1, "the dead node's lease to lapse and the survivor to be granted");
    expect(survivor.granted()[0]).toMatchObject({ requestId: 'rs', units: 1 });
    const members = await admin.zrange(key, 0, -1);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatch(/^survivor:ts:/);
  });

  it('makes only the transitions of the pool chart, its two events from Redis included, and takes every one of those', async () => {
    const { name, key, ledger } = newCluster();
    const a = startNode(name, 'a', 3, ledger, { leaseTtlMs: 600 });
    const b = startNode(name, 'b', 3, ledger, { leaseTtlMs: 600 });
    const grantOf = (node: typeof a, requestId: string) => node.granted().find((grant) => grant.requestId === requestId);
    const granted = (node: typeof a, requestId: string) => until(() => grantOf(node, requestId) !== undefined, `${requestId} to be granted`);
    const revoked = (node: typeof a, requestId: string) =>
      until(
        () => node.replies.some((reply) => reply.type === 'resource.revoked' && reply.requestId === requestId),
        `${requestId}'s lease to be lost`,
      );
    /** Takes the permits of task `task` of node `a` out of Redis, as if they had lapsed there. */
    const losePermits = async (task: string): Promise<void> => {
      const members = (await admin.zrange(key, 0, -1)).filter((member) => member.startsWith(`a:${task}:`));
      expect(members.length).toBeGreaterThan(0);
      await admin.zrem(key, ...members);
    };
    a.request('a1', 'ta1'); // queued until Redis reserves it, then granted: contended -> available
    await granted(a, 'a1');
    b.request('b1', 'tb1');
    await granted(b, 'b1');
    a.request('a2', 'ta2', 3); // cannot be reserved while b holds a unit
    await until(() => a.pool.getSnapshot().value === 'contended', 'a2 to wait');
    await losePermits('ta1'); // a1's lease lapses while a2 waits: contended -> contended
    await revoked(a, 'a1');
    b.release(grantOf(b, 'b1')!.leaseId);
    await granted(a, 'a2'); // reserved, all three units: contended -> exhausted
    a.request('a3', 'ta3');
    a.request('a4', 'ta4');
    a.release(grantOf(a, 'a2')!.leaseId);
    await granted(a, 'a3'); // reserved, a4 still waits: contended -> contended
    await granted(a, 'a4'); // reserved, a unit left: contended -> available
    a.setCapacity(1); // two units held of one: available -> exhausted
    await losePermits('ta3'); // one of one held: exhausted -> exhausted
    await revoked(a, 'a3');
    await losePermits('ta4'); // none held: exhausted -> available
    await revoked(a, 'a4');
    a.setCapacity(2);
    a.request('a5', 'ta5');
    await granted(a, 'a5'); // one unit of two held
    await losePermits('ta5'); // available -> available
    await revoked(a, 'a5');
    const taken = new Set([...a.checkAgainstChart(), ...b.checkAgainstChart()]);
    expect([...taken].filter((transition) => transition.includes('cluster-pool.')).sort()).toEqual([
      'available --cluster-pool.lost--> available',
      'contended --cluster-pool.lost--> contended',
      'contended --cluster-pool.reserved [leavesNoUnitFree]--> exhausted',
      'contended --cluster-pool.reserved [leavesRequestsWaiting]--> contended',
      'contended --cluster-pool.reserved--> available',
      'exhausted --cluster-pool.lost [leavesNoUnitFree]--> exhausted',
      'exhausted --cluster-pool.lost--> available',
    ]);
  });
});
