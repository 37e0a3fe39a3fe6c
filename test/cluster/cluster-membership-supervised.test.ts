import { Redis } from 'ioredis';
import { ClusterMembership } from '../../actors/cluster-membership';
import { createEngine, type Engine, type EngineEvent, type EngineOptions } from '../../src';
import { deferred, recordingLogger } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A cluster node's membership record is kept by an actor under the supervisor, as its working and
// submitting sides are: in the actor tree, and replaced when its Redis connection ends for good;
// its successor writes the record again on a connection of its own. On a real redis-server; the
// connection is ended from outside, as ioredis ends it when it gives up reconnecting.

const bed = useClusterTestBed();

const RESTARTING = 'the cluster membership failed: restarting it';

/** A node `node` of cluster `name` that only submits, with the records it logged and the events it published. */
function clusterNode(
  name: string,
  options: Partial<EngineOptions> = {},
): { engine: Engine; records: Array<Record<string, unknown>>; events: EngineEvent[] } {
  const { logger, records } = recordingLogger();
  const engine = createEngine({ logger, cluster: { redis: bed.redis.url, name, node: 'm', concurrency: 0 }, ...options });
  bed.engines.push(engine);
  const events: EngineEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  return { engine, records, events };
}

/**
 * The memberships that write a record during the test (its engine's: those of the tests before
 * have left), in order; the first `ending` have their connection ended at their first write.
 */
function watchMemberships(ending = 0): ClusterMembership[] {
  const made: ClusterMembership[] = [];
  const refresh = ClusterMembership.prototype.refresh;
  jest.spyOn(ClusterMembership.prototype, 'refresh').mockImplementation(function (this: ClusterMembership) {
    refresh.call(this);
    if (made.includes(this)) return;
    made.push(this);
    if (made.length <= ending) this.connection.disconnect();
  });
  return made;
}

const membershipState = (engine: Engine) => engine.actors().find((actor) => actor.id === 'cluster-membership')?.state;
const restarts = (records: ReadonlyArray<Record<string, unknown>>) => records.filter((record) => record['message'] === RESTARTING);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('the cluster membership under the supervisor', () => {
  it('is an actor of the tree, a child of the supervisor, on every cluster node', async () => {
    const name = bed.freshCluster('membership-tree');
    const { engine } = clusterNode(name);
    await engine.onClusterReady();
    expect(engine.actors().filter((actor) => actor.id === 'cluster-membership')).toEqual([
      { id: 'cluster-membership', machine: 'cluster-membership', parent: 'supervisor', state: 'running' },
    ]);
    await until(async () => (await engine.clusterView())?.nodes.some((node) => node.node === 'm') === true, 'the node’s record');
  });

  it('is replaced when its Redis connection ends for good: its successor writes the record again, and the view is read on its connection', async () => {
    const name = bed.freshCluster('membership-replaced');
    const made = watchMemberships();
    const { engine, records } = clusterNode(name);
    await engine.onClusterReady();
    await until(async () => (await engine.clusterView())?.nodes.some((node) => node.node === 'm') === true, 'the node’s record');
    const redis = new Redis(bed.redis.url);
    try {
      // Gone from Redis with its connection: only a successor can write it again.
      await redis.del(`mezan:${name}:members:node:m`);
      made[0]!.connection.disconnect();
      await until(() => made.length === 2, 'the membership to be replaced');
      expect(membershipState(engine)).toBe('running');
      await until(async () => (await redis.exists(`mezan:${name}:members:node:m`)) === 1, 'the record written again');
    } finally {
      redis.disconnect();
    }
    expect(restarts(records)).toEqual([expect.objectContaining({ level: 'warn', restartsInWindow: 1, delayMs: 100 })]);
    const view = await engine.clusterView();
    expect(view?.nodes.map((node) => node.node)).toEqual(['m']);
    await engine.shutdown();
    await expect(engine.clusterView()).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
  });

  it('while its membership is being replaced, the view rejects at once E_CLUSTER_UNAVAILABLE (not Redis’s closed connection), then reads on the successor', async () => {
    const name = bed.freshCluster('membership-view-between');
    const made = watchMemberships();
    const { engine } = clusterNode(name);
    await engine.onClusterReady();
    await until(async () => (await engine.clusterView())?.nodes.some((node) => node.node === 'm') === true, 'the node’s record');
    // A read under way when the connection ends, and one asked as it has ended (its successor comes
    // only after the restart delay, on a timer that starts later still).
    const thrown = (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        () => 'resolved',
        (error: unknown) => error,
      );
    const ended = new Promise<Promise<unknown>>((resolve) => made[0]!.connection.once('end', () => resolve(thrown(engine.clusterView()))));
    const underway = thrown(engine.clusterView());
    made[0]!.connection.disconnect();
    const between = await ended;
    expect(made).toHaveLength(1);
    const details = { cluster: name, node: 'm' };
    expect(await between).toMatchObject({ code: 'E_CLUSTER_UNAVAILABLE', details: { ...details, reason: 'membership-replaced' } });
    expect(await underway).toMatchObject({ code: 'E_CLUSTER_UNAVAILABLE', details: { ...details, reason: 'read-failed' }, cause: expect.any(Error) });
    await until(() => made.length === 2, 'the membership to be replaced');
    expect((await engine.clusterView())?.nodes.map((node) => node.node)).toEqual(['m']);
  });

  it('once the engine has shut down, the view rejects E_SHUTDOWN, also when its membership failed and no successor came', async () => {
    const name = bed.freshCluster('membership-view-stopped');
    const made = watchMemberships();
    const { engine } = clusterNode(name);
    await engine.onClusterReady();
    await until(async () => (await engine.clusterView()) !== undefined, 'a first view');
    const ended = new Promise<void>((resolve) => made[0]!.connection.once('end', () => resolve()));
    made[0]!.connection.disconnect();
    await ended;
    // Shut down within the restart delay: the successor is never spawned.
    await engine.shutdown();
    expect(made).toHaveLength(1);
    await expect(engine.clusterView()).rejects.toMatchObject({ code: 'E_SHUTDOWN', details: { cluster: name } });
  });

  it('past the restart intensity, the engine escalates and shuts down', async () => {
    const name = bed.freshCluster('membership-escalates');
    const made = watchMemberships(Infinity);
    const escalated = deferred();
    const { engine, records, events } = clusterNode(name, { supervision: { maxRestarts: 1, withinMs: 60_000 } });
    engine.events$.subscribe((event) => event.type === 'engine.escalated' && escalated.resolve());
    await escalated.promise;
    const report = await engine.shutdown();
    // The first failure is restarted; the second is past the limit of one restart.
    expect(made).toHaveLength(2);
    expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([
      expect.objectContaining({ reason: 'actor failed', actor: 'cluster-membership', restarts: 2 }),
    ]);
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'the cluster-membership actor failed: the engine shuts down' }),
    );
    expect(report).toMatchObject({ lost: 0 });
  });
});
