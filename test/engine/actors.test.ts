import { createEngine, VirtualClock, type TaskContext } from '../../src';

describe('engine.actors()', () => {
  it("lists every actor with its machine's state, read from the actors' own snapshots", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 2, clock, resources: { db: 1 } });
    const states = () => Object.fromEntries(engine.actors().map((actor) => [actor.id, actor.state]));
    expect(engine.actors().map(({ id, machine, parent }) => [id, machine, parent])).toEqual([
      ['supervisor', 'supervisor', undefined],
      ['executor', 'executor', 'supervisor'],
      ['main', 'worker', 'executor'],
      ['resource:db', 'resource', 'supervisor'],
      ['detector', 'detector', 'supervisor'],
      ['shutdown', 'shutdown', 'supervisor'],
      ['monitor', 'monitor', 'supervisor'],
    ]);
    expect(states()).toMatchObject({
      supervisor: 'supervising',
      executor: 'idle',
      main: 'idle',
      'resource:db': 'available',
      detector: 'watching',
      shutdown: 'running',
      monitor: 'watching',
    });

    engine.submit(async (ctx: TaskContext) => {
      const lease = await ctx.acquire('db');
      await ctx.sleep(10);
      lease.release();
    });
    await clock.advanceBy(1);
    expect(states()).toMatchObject({ executor: 'working', main: 'busy', 'resource:db': 'exhausted' });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', slots: 2, running: 1 })]);

    const report = engine.shutdown();
    await clock.runAll();
    await report;
    expect(states()).toMatchObject({ supervisor: 'stopped', executor: 'idle', main: 'idle', 'resource:db': 'available', shutdown: 'stopped' });
  });
});
