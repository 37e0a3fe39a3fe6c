import { ClusterDeadlocks, victimChannel } from '../../actors/cluster-deadlocks';
import { ClusterWaitEdges, type ClusterWaitEdge } from '../../actors/cluster-wait-edges';
import { createEngine, realClock } from '../../src';
import { recordingLogger } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { inversionOutcomes, twoLoggedNodes, useAdminRedis, warningsAbout } from '../fixtures/cluster-logged-nodes';

// What a node reads from the cluster's Redis that it did not write itself: other nodes' records
// (of another mezan version, or anything written under `mezan:<cluster>:`) and the messages on its
// deadlock victims' channel (anyone who can PUBLISH there). Neither may stop the node, its scans or
// its view: what does not fit is left out, and logged once. On a real redis-server; waits are
// for what must be seen, never for a delay.

const bed = useClusterTestBed();
const admin = useAdminRedis(bed);
const twoNodes = (cluster: string): ReturnType<typeof twoLoggedNodes> => twoLoggedNodes(bed.redis.url, cluster, bed.engines);

describe("a node's deadlock victims' channel", () => {
  it('ignores what is no victim decision (logging each kind once), and still hears the real ones', async () => {
    const cluster = bed.freshCluster('victim-garbage');
    const { a, b, logs } = await twoNodes(cluster);
    const channel = victimChannel(cluster, 'b');
    const garbage = [
      'null',
      'null',
      '42',
      '"text"',
      '[1]',
      '{}',
      '{"task":"order-2"}',
      '{"task":"order-2","request":"r","cycle":null,"deadlocked":[],"nodes":[],"policy":"youngest"}',
      '{"task":"order-2","request":"r","cycle":[1],"deadlocked":[],"nodes":[],"policy":"youngest"}',
      'not json',
    ];
    // Node b has joined: it hears its channel (onClusterReady() waits for Redis to confirm the subscription).
    // Each is heard by node b's subscriber (and would have ended its process with an uncaught TypeError).
    for (const message of garbage) expect(await admin().publish(channel, message)).toBe(1);
    // One channel delivers in order: once the last one is logged, every one was heard.
    await until(() => warningsAbout(logs[1], 'is not JSON').length === 1, 'the message that is not JSON logged');
    expect(warningsAbout(logs[1], "deadlock victims' channel").map(({ message }) => message)).toEqual([
      expect.stringContaining('is not a victim decision'),
      expect.stringContaining('is not JSON'),
    ]);
    // The node runs on, and hears the decision that breaks a deadlock: b's task, of the lower priority, is the victim.
    expect(await inversionOutcomes(a, b)).toEqual(['completed', 'E_DEADLOCK']);
  });
});

describe('records under mezan:<cluster>: that this version cannot read', () => {
  it.each(['not json', 'null', '{"node":"other"}', '[{"kind":"later","task":"other/1"}]'])(
    'do not stop the scans: with edges %s of a node, a deadlock across two nodes is still broken',
    async (payload) => {
      const cluster = bed.freshCluster('bad-edges');
      await admin().set(`mezan:${cluster}:edges:node:other`, `1\n${payload}`, 'PX', 120_000);
      await admin().sadd(`mezan:${cluster}:edges:nodes`, 'other');
      await admin().set(`mezan:${cluster}:members:node:other`, `1\n${payload}`, 'PX', 120_000);
      await admin().sadd(`mezan:${cluster}:members:nodes`, 'other');
      await admin().set(`mezan:${cluster}:deadlock:candidates`, payload, 'PX', 120_000);
      const { a, b, logs } = await twoNodes(cluster);
      expect(await inversionOutcomes(a, b)).toEqual(['completed', 'E_DEADLOCK']);
      expect(await admin().keys(`mezan:${cluster}:deadlock:decided:*`)).toHaveLength(1);
      // Whichever node scanned logged, once, each kind it left out.
      for (const kind of ['edges', 'members']) {
        const warned = logs.map((records) => warningsAbout(records, `mezan:${cluster}:${kind}:`).length);
        expect(warned.every((count) => count <= 1) && warned.some((count) => count === 1)).toBe(true);
      }
    },
  );

  it('leave a node’s waits unknown, as if it published none: no deadlock is made of what is left', async () => {
    const cluster = bed.freshCluster('unknown-edges');
    const edges = new ClusterWaitEdges({ redis: admin(), cluster });
    await edges.publish(
      'a',
      [
        { kind: 'holds', task: 'a/t', resource: 'db', units: 1, capacity: 1 },
        { kind: 'requests', task: 'a/t', resource: 'gpu', units: 1, capacity: 1, request: 'a-r' },
      ],
      1,
    );
    const other: ClusterWaitEdge[] = [
      { kind: 'holds', task: 'b/t', resource: 'gpu', units: 1, capacity: 1 },
      { kind: 'requests', task: 'b/t', resource: 'db', units: 1, capacity: 1, request: 'b-r' },
    ];
    // Node b's record holds the other half of a lock-order inversion, and an edge of a kind this version does not know.
    await admin().set(`mezan:${cluster}:edges:node:b`, `1\n${JSON.stringify([...other, { kind: 'later', task: 'b/t' }])}`, 'PX', 60_000);
    await admin().sadd(`mezan:${cluster}:edges:nodes`, 'b');
    const { logger, records } = recordingLogger();
    const detector = new ClusterDeadlocks({
      url: bed.redis.url,
      redis: admin(),
      cluster,
      node: 'detector',
      clock: realClock,
      afterMs: 0,
      scanMs: 3_600_000,
      victimize: () => {},
      logger,
    });
    try {
      expect(await detector.scan()).toEqual([]);
      expect(await detector.scan()).toEqual([]);
      expect(warningsAbout(records, `mezan:${cluster}:edges:`)).toEqual([expect.objectContaining({ nodes: ['b'] })]);
      // The same edges, all of them known: the deadlock they make is found.
      await edges.publish('b', other, 2);
      expect((await detector.scan()).map(({ node, task }) => `${node}/${task}`)).toHaveLength(1);
    } finally {
      await detector.close();
    }
  });

  it.each(['not json', 'null', '{"node":"other"}'])(
    'leave clusterView() whole: a member record %s is left out, the others shown',
    async (payload) => {
      const cluster = bed.freshCluster('bad-member');
      const { logger, records } = recordingLogger();
      // Without detection: the view alone reads the records.
      const engine = createEngine({
        logger,
        deadlock: { detect: 'off' },
        tasks: { t: () => 1 },
        cluster: { redis: bed.redis.url, name: cluster, node: 'good' },
      });
      bed.engines.push(engine);
      await engine.onClusterReady();
      await until(async () => (await admin().exists(`mezan:${cluster}:members:node:good`)) === 1, 'the good node’s record');
      for (const kind of ['members', 'edges']) {
        await admin().set(`mezan:${cluster}:${kind}:node:other`, `1\n${payload}`, 'PX', 60_000);
        await admin().sadd(`mezan:${cluster}:${kind}:nodes`, 'other');
      }
      // A readable record filed under another node's name is no record of that node either.
      await admin().set(`mezan:${cluster}:members:node:impostor`, (await admin().get(`mezan:${cluster}:members:node:good`))!, 'PX', 60_000);
      await admin().sadd(`mezan:${cluster}:members:nodes`, 'impostor');
      const view = await engine.clusterView();
      expect(view?.nodes.map((node) => node.node)).toEqual(['good']);
      expect(view?.edges).toEqual([]);
      await engine.clusterView();
      expect(warningsAbout(records, `mezan:${cluster}:members:`)).toEqual([expect.objectContaining({ nodes: ['impostor', 'other'] })]);
      expect(warningsAbout(records, `mezan:${cluster}:edges:`)).toEqual([expect.objectContaining({ nodes: ['other'] })]);
    },
  );
});
