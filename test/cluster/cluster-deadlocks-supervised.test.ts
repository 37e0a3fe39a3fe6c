import { Queue } from 'bullmq';
import { createEngine, type Engine, type EngineEvent, type EngineOptions } from '../../src';
import { deferred, recordingLogger } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';
import { nextScheduling } from '../fixtures/next-scheduling';

// A cluster node's part in detecting deadlocks across the cluster is an actor under the supervisor:
// in the actor tree, stopped with it, and replaced when it fails. On a real redis-server; the failure
// is injected (a scans' queue whose global concurrency cannot be set), never waited for by time.

const bed = useClusterTestBed();

/** An engine with a cluster pool on a fresh cluster, and the events it published. */
function node(options: Partial<EngineOptions> = {}): { engine: Engine; events: EngineEvent[] } {
  const engine = createEngine({
    logger: false,
    resources: { db: { capacity: 1, scope: 'cluster' } },
    cluster: { redis: bed.redis.url, name: bed.freshCluster('supervised'), node: 'a', concurrency: 0 },
    ...options,
  });
  bed.engines.push(engine);
  const events: EngineEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  return { engine, events };
}

/** Makes the next `times` settings of a scans' queue's global concurrency fail, as Redis refusing them would. */
function failGlobalConcurrency(times: number): jest.SpyInstance {
  const spy = jest.spyOn(Queue.prototype, 'setGlobalConcurrency');
  for (let i = 0; i < times; i++) spy.mockRejectedValueOnce(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
  return spy;
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('the cross-node detector part under the supervisor', () => {
  it('is an actor of the tree, a child of the supervisor, with cluster pools and detection on', async () => {
    const { engine } = node();
    await engine.onClusterReady();
    expect(engine.actors().filter((actor) => actor.machine === 'cluster-deadlocks')).toEqual([
      { id: 'cluster-deadlocks', machine: 'cluster-deadlocks', parent: 'supervisor', state: 'running' },
    ]);
    const { engine: off } = node({ deadlock: { detect: 'off' } });
    await off.onClusterReady();
    expect(off.actors().some((actor) => actor.machine === 'cluster-deadlocks')).toBe(false);
  });

  it('is replaced when it cannot join the scans’ queue, and the new one joins it; the engine runs on', async () => {
    const failing = failGlobalConcurrency(1);
    const scheduled = nextScheduling();
    const { logger, records } = recordingLogger();
    const { engine, events } = node({ logger, supervision: { maxRestarts: 2, withinMs: 60_000 } });
    await engine.onClusterReady();
    await scheduled;
    // The first part failed, the second joined.
    expect(failing).toHaveBeenCalledTimes(2);
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'the cluster deadlock detector failed: restarting it', restartsInWindow: 1 }),
    );
    expect(engine.actors().find((actor) => actor.id === 'cluster-deadlocks')).toMatchObject({ parent: 'supervisor', state: 'running' });
    expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([]);
    await expect(engine.submit(() => 'still taking work').result).resolves.toBe('still taking work');
  });

  it('past the restart intensity, the engine escalates: it shuts down, forced, and its report accounts for its tasks', async () => {
    const failing = failGlobalConcurrency(3);
    const { logger, records } = recordingLogger();
    const { engine, events } = node({ logger, supervision: { maxRestarts: 1, withinMs: 60_000 } });
    const escalated = deferred();
    engine.events$.subscribe((event) => event.type === 'engine.escalated' && escalated.resolve());
    await escalated.promise;
    const report = await engine.shutdown();
    // The first failure is restarted; the second is past the limit of one restart.
    expect(failing).toHaveBeenCalledTimes(2);
    expect(events.filter((event) => event.type === 'engine.escalated')).toEqual([
      expect.objectContaining({ reason: 'actor failed', actor: 'cluster-deadlocks', restarts: 2 }),
    ]);
    expect(records).toContainEqual(expect.objectContaining({ level: 'error', message: 'the cluster-deadlocks actor failed: the engine shuts down' }));
    expect(report).toMatchObject({ lost: 0 });
  });
});
