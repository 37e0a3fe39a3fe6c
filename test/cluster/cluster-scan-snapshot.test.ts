import { FlowProducer, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { readClusterScanSnapshot } from '../../actors/cluster-scan-snapshot';
import { ClusterWaitEdges, type ClusterWaitEdge } from '../../actors/cluster-wait-edges';
import { MEMBER_RECORDS } from '../../actors/cluster-membership';
import { NodeRecords } from '../../actors/node-records';
import { CLUSTER_PREFIX } from '../../actors/cluster-redis';
import { memberRecord } from '../fixtures/cluster-member-record';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// What a scan reads at one instant, against a real redis-server and BullMQ's own queue: the nodes'
// edges, the capacity of the cluster's job slots, and which awaited jobs BullMQ has queued.

let server: RedisServer;
let redis: Redis;
let clusters = 0;
const closing: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

afterEach(async () => {
  await Promise.all(closing.splice(0).map((part) => part.close()));
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** A fresh cluster: its queue (BullMQ's, as the nodes make it), its edges, and a way to write a member's record. */
function freshCluster() {
  const cluster = `snapshot-${++clusters}`;
  const connection = { url: server.url };
  const queue = new Queue(cluster, { connection, prefix: CLUSTER_PREFIX });
  closing.push(queue);
  const members = new NodeRecords({ redis, cluster, kind: MEMBER_RECORDS, ttlMs: 10_000 });
  return {
    cluster,
    queue,
    edges: new ClusterWaitEdges({ redis, cluster }),
    member: (node: string, record: object) => members.publish(node, JSON.stringify(memberRecord(node, record)), 1),
  };
}

const awaitsJob = (task: string, job: string): ClusterWaitEdge => ({ kind: 'awaits', task, awaited: job, job: true, request: `w-${job}` });

describe('readClusterScanSnapshot', () => {
  it('tells queued only the awaited jobs BullMQ has waiting or prioritized: not delayed, active, waiting for children or ended', async () => {
    const { cluster, queue, edges, member } = freshCluster();
    await member('a', { concurrency: 2 });
    // A worker without a processor takes the one job there is (`j-active`) and holds it.
    await queue.add('t', {}, { jobId: 'j-active' });
    const worker = new Worker(cluster, null, { connection: { url: server.url }, prefix: CLUSTER_PREFIX, autorun: false });
    closing.push(worker);
    expect((await worker.getNextJob('token'))?.id).toBe('j-active');
    await queue.add('t', {}, { jobId: 'j-plain' });
    await queue.add('t', {}, { jobId: 'j-prioritized', priority: 3 });
    await queue.add('t', {}, { jobId: 'j-delayed', delay: 3_600_000 });
    await queue.add('t', {}, { jobId: 'j-not-awaited', priority: 3 });
    const flows = new FlowProducer({ connection: { url: server.url }, prefix: CLUSTER_PREFIX });
    closing.push(flows);
    await flows.add({
      name: 't',
      queueName: cluster,
      opts: { jobId: 'j-parent' },
      children: [{ name: 't', queueName: cluster, opts: { jobId: 'j-child', delay: 3_600_000 } }],
    });
    // Ids apart from BullMQ's own keys (a job `active` would be the key of its active list).
    const awaited = ['j-plain', 'j-prioritized', 'j-delayed', 'j-parent', 'j-active', 'j-gone'];
    await edges.publish(
      'a',
      awaited.map((job) => awaitsJob('a/p', job)),
      1,
    );

    const { nodes, slots } = await readClusterScanSnapshot(redis, cluster);
    expect(nodes).toEqual([{ node: 'a', version: 1, edges: awaited.map((job) => awaitsJob('a/p', job)) }]);
    expect([...slots.queued].sort()).toEqual(['j-plain', 'j-prioritized']);
    expect(slots.capacity).toBe(2);
  });

  it('counts every live member’s concurrency, those that only submit as none, within the global concurrency', async () => {
    const { cluster, queue, member } = freshCluster();
    await member('a', { concurrency: 2 });
    await member('b', { concurrency: 3, deadlockPolicy: 'off' });
    await member('submitter', { concurrency: 0 });
    expect((await readClusterScanSnapshot(redis, cluster)).slots.capacity).toBe(5);
    await queue.setGlobalConcurrency(4);
    expect((await readClusterScanSnapshot(redis, cluster)).slots.capacity).toBe(4);
    // A record this version cannot read: the capacity cannot be told.
    await member('c', { concurrency: 'many' });
    const snapshot = await readClusterScanSnapshot(redis, cluster);
    expect(snapshot.slots.capacity).toBeUndefined();
    expect(snapshot.unreadableMembers).toEqual(['c']);
  });

  it('tells no job queued in a paused queue: it waits for no slot', async () => {
    const { cluster, queue, edges, member } = freshCluster();
    await member('a', { concurrency: 1 });
    await queue.add('t', {}, { jobId: 'j', priority: 1 });
    await edges.publish('a', [awaitsJob('a/p', 'j')], 1);
    expect([...(await readClusterScanSnapshot(redis, cluster)).slots.queued]).toEqual(['j']);
    await queue.pause();
    expect([...(await readClusterScanSnapshot(redis, cluster)).slots.queued]).toEqual([]);
  });
});
