import Redis from 'ioredis';
import { ClusterWaitEdges, type ClusterWaitEdge } from '../../actors/cluster-wait-edges';
import { MezanError } from '../../src/errors';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// Against a real redis-server (the scripts run there). The tests about expiry use real TTLs, short
// ones (400 ms for the node that dies, 1 s for the one that heartbeats every 100 ms, a wide margin),
// and wait for the condition with a bounded poll rather than for a fixed time.

let server: RedisServer;
let redis: Redis;
let clusters = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const fresh = (ttlMs?: number): ClusterWaitEdges => new ClusterWaitEdges({ redis, cluster: `edges-${++clusters}`, ttlMs });

const requests = (task: string, units = 1): ClusterWaitEdge => ({ kind: 'requests', task, resource: 'db', units });
const holds = (task: string, units = 1): ClusterWaitEdge => ({ kind: 'holds', task, resource: 'db', units });

describe('the cluster wait-for edges in Redis', () => {
  it("gives every node's latest edges in one snapshot, ordered by node", async () => {
    const edges = fresh();
    expect(await edges.publish('b', [holds('t2'), { kind: 'awaits', task: 't2', awaited: 't1' }], 1)).toBe(true);
    expect(await edges.publish('a', [holds('t1'), requests('t1')], 4)).toBe(true);
    expect(await edges.publish('a', [holds('t1')], 5)).toBe(true);
    expect(await edges.snapshot()).toEqual({
      nodes: [
        { node: 'a', version: 5, edges: [holds('t1')] },
        { node: 'b', version: 1, edges: [holds('t2'), { kind: 'awaits', task: 't2', awaited: 't1' }] },
      ],
      unreadable: [],
    });
  });

  it('drops a publish that arrives after a newer version, or with the same one', async () => {
    const edges = fresh();
    await edges.publish('a', [requests('t1')], 7);
    expect(await edges.publish('a', [holds('t1'), requests('t9')], 6)).toBe(false);
    expect(await edges.publish('a', [], 7)).toBe(false);
    expect((await edges.snapshot()).nodes).toEqual([{ node: 'a', version: 7, edges: [requests('t1')] }]);
  });

  it('keeps no node that withdrew', async () => {
    const edges = fresh();
    await edges.publish('a', [requests('t1')], 1);
    await edges.publish('b', [], 1);
    await edges.withdraw('a');
    expect((await edges.snapshot()).nodes.map((node) => node.node)).toEqual(['b']);
  });

  it("lets a dead node's edges vanish after their time to live, while a node that heartbeats keeps its own", async () => {
    const cluster = `edges-${++clusters}`;
    const dying = new ClusterWaitEdges({ redis, cluster, ttlMs: 400 });
    const living = new ClusterWaitEdges({ redis, cluster, ttlMs: 1_000 });
    await dying.publish('dead', [holds('t1')], 1);
    await living.publish('alive', [requests('t2')], 1);
    const beat = setInterval(() => void living.heartbeat('alive'), 100);
    try {
      const deadline = Date.now() + 15_000;
      let nodes = (await living.snapshot()).nodes.map((node) => node.node);
      expect(nodes).toContain('dead');
      while (nodes.includes('dead')) {
        if (Date.now() > deadline) throw new Error('the dead node never vanished');
        await new Promise((resolve) => setTimeout(resolve, 20));
        nodes = (await living.snapshot()).nodes.map((node) => node.node);
      }
      expect(nodes).toEqual(['alive']);
      // The vanished node left the set of nodes too, and its heartbeat says it must publish again.
      expect(await redis.smembers(`mezan:${cluster}:edges:nodes`)).toEqual(['alive']);
      expect(await dying.heartbeat('dead')).toBe(false);
      expect(await living.heartbeat('alive')).toBe(true);
    } finally {
      clearInterval(beat);
    }
  });

  it.each([
    ['node', () => fresh().publish('', [], 1)],
    ['version', () => fresh().publish('a', [], -1)],
    ['version', () => fresh().publish('a', [], 1.5)],
    ['edges', () => fresh().publish('a', 'none' as never, 1)],
    ['edges[0].kind', () => fresh().publish('a', [{ kind: 'wants', task: 't' } as never], 1)],
    ['edges[1].units', () => fresh().publish('a', [holds('t1'), requests('t1', 0)], 1)],
    ['edges[0].resource', () => fresh().publish('a', [{ kind: 'holds', task: 't', resource: '', units: 1 }], 1)],
    ['edges[0].awaited', () => fresh().publish('a', [{ kind: 'awaits', task: 't' } as never], 1)],
    ['edges[0].task', () => fresh().publish('a', [{ kind: 'awaits', task: 7, awaited: 't' } as never], 1)],
    ['edges[0].job', () => fresh().publish('a', [{ kind: 'awaits', task: 't', awaited: 'j', job: 'yes' } as never], 1)],
    ['edges[0].request', () => fresh().publish('a', [{ kind: 'awaits', task: 't', awaited: 'j', request: '' }], 1)],
    ['edges[0].job', () => fresh().publish('a', [{ kind: 'runs', task: 't', priority: 0, startedAt: 0, job: '' }], 1)],
    ['edges[0].priority', () => fresh().publish('a', [{ kind: 'runs', task: 't', priority: '1', startedAt: 0 } as never], 1)],
    ['edges[0].startedAt', () => fresh().publish('a', [{ kind: 'runs', task: 't', priority: 0, startedAt: Number.NaN }], 1)],
  ])('rejects an invalid %s with E_INVALID_OPTION', async (option, call) => {
    const error = await call().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(MezanError);
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option } });
  });

  it('refuses a time to live that is not a positive integer', () => {
    expect(() => new ClusterWaitEdges({ redis, cluster: 'c', ttlMs: 0 })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
  });
});
