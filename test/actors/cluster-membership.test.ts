import Redis from 'ioredis';
import { ClusterLogger } from '../../actors/cluster-logger';
import { ClusterMembership, type ClusterMemberDescription } from '../../actors/cluster-membership';
import { VirtualClock } from '../../src';
import { recordingLogger } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A node's membership record, written on a real redis-server, its heartbeats timed by a virtual
// clock (which the node's logger reads its time from, as an engine's does): each heartbeat is one
// step of the clock, taken once the write before it has ended.

const bed = useClusterTestBed();

const description: ClusterMemberDescription = {
  engineId: 'engine-1',
  phase: 'running',
  concurrency: 1,
  deadlockPolicy: 'youngest',
  workers: [],
  tasks: [],
  pools: [],
  running: 0,
  pending: 0,
};

describe('ClusterMembership', () => {
  it('writes a failure to write its record once, then counts it as the connection errors are: one line per 10 s with how many were left out', async () => {
    const cluster = bed.freshCluster('unwritable-record');
    const clock = new VirtualClock();
    const { logger: recording, records } = recordingLogger();
    const logger = new ClusterLogger(recording, { now: () => clock.now(), refused: () => undefined });
    logger.joined();
    const redis = new Redis(bed.redis.url);
    // The set of the members' nodes is no set: every write of the record fails (WRONGTYPE).
    await redis.set(`mezan:${cluster}:members:nodes`, 'not a set');
    const membership = new ClusterMembership({ url: bed.redis.url, cluster, node: 'n', clock, ttlMs: 3_000, describe: () => description, logger });
    const lines = () =>
      records
        .filter(({ message }) => String(message).includes('membership record'))
        .map(({ message, error, repeated, sinceMs }) => ({ message, error: String(error).slice(0, 9), repeated, sinceMs }));
    try {
      membership.refresh();
      // Its first write, and a heartbeat every second (a third of its time to live) up to 10 s: eleven failures.
      while (clock.now() < 10_000) {
        await until(() => clock.pendingTimers === 1, 'the write to fail and the next heartbeat to be set');
        await clock.step();
      }
      await until(() => clock.pendingTimers === 1, 'the last write to fail');
      await clock.step();
      await until(() => clock.pendingTimers === 1, 'the write after it to fail');
    } finally {
      await membership.leave();
      redis.disconnect();
    }
    logger.flush();
    const written = 'cluster: writing the cluster membership record reported an error';
    expect(lines()).toEqual([
      { message: written, error: 'WRONGTYPE', repeated: undefined, sinceMs: undefined },
      { message: written, error: 'WRONGTYPE', repeated: 9, sinceMs: 10_000 },
      { message: 'cluster: writing the cluster membership record reported the same error again', error: 'WRONGTYPE', repeated: 1, sinceMs: 1_000 },
    ]);
  });
});
