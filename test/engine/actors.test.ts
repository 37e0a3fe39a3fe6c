import { createEngine, VirtualClock, type TaskContext } from '../../src';

describe('engine.actors()', () => {
  it("lists every actor with its machine's state, read from the actors' own snapshots", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ workers: 2, clock, resources: { db: 1 } });
    const states = () => Object.fromEntries(engine.actors().map((actor) => [actor.id, actor.state]));
    expect(engine.actors().map(({ id, machine, parent }) => [id, machine, parent])).toEqual([
      ['supervisor', 'supervisor', undefined],
      ['executor', 'executor', 'supervisor'],
      ['worker-1', 'worker', 'executor'],
      ['worker-2', 'worker', 'executor'],
      ['resource:db', 'resource', 'supervisor'],
      ['shutdown', 'shutdown', 'supervisor'],
      ['monitor', 'monitor', 'supervisor'],
    ]);
    expect(states()).toMatchObject({
      supervisor: 'supervising',
      executor: 'idle',
      'worker-1': 'idle',
      'resource:db': 'available',
      shutdown: 'running',
      monitor: 'watching',
    });

    engine.submit(async (ctx: TaskContext) => {
      const lease = await ctx.acquire('db');
      await ctx.sleep(10);
      lease.release();
    });
    await clock.advanceBy(1);
    expect(states()).toMatchObject({ executor: 'working', 'worker-1': 'busy', 'worker-2': 'idle', 'resource:db': 'exhausted' });

    const report = engine.shutdown();
    await clock.runAll();
    await report;
    expect(states()).toMatchObject({ supervisor: 'stopped', executor: 'idle', 'worker-1': 'idle', 'resource:db': 'available', shutdown: 'stopped' });
  });
});
