import { MezanError, type Lease, type LockOrderMode, type TaskContext } from '../../src';
import { startEngine } from '../fixtures/engine-harness';
import { ResourceLedger } from '../fixtures/engine3-resource-ledger';

/** `low` outranks nothing; `high` outranks `low`; `plain` has no rank; `twin` has `high`'s rank. */
const RANKED = {
  low: { capacity: 1, rank: 1 },
  high: { capacity: 1, rank: 2 },
  twin: { capacity: 1, rank: 2 },
  plain: 1,
} as const;

/** What a task saw of its acquisitions: each one's resource, granted or the error code it got. */
type Outcome = [string, 'granted' | string];

/** A task function that acquires `names` in turn (holding each), records every outcome, then releases all. */
function acquireInTurn(names: readonly string[], outcomes: Outcome[]) {
  return async (ctx: TaskContext): Promise<void> => {
    const leases: Lease[] = [];
    for (const name of names) {
      try {
        leases.push(await ctx.acquire(name));
        outcomes.push([name, 'granted']);
      } catch (error) {
        outcomes.push([name, error instanceof MezanError ? error.code : String(error)]);
      }
    }
    await ctx.sleep(1);
    for (const lease of leases) lease.release();
  };
}

describe('lock order: ranks', () => {
  it("'enforce' refuses a lower rank taken while a higher one is held, with E_LOCK_ORDER, acquiring nothing", async () => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED, lockOrder: 'enforce' });
    let error: unknown;
    const handle = engine.submit(
      async (ctx) => {
        const high = await ctx.acquire('high');
        try {
          await ctx.acquire('low');
        } catch (caught) {
          error = caught;
        }
        high.release();
        return 'went on';
      },
      { id: 't' },
    );
    await clock.runAll();
    expect(await handle.result).toBe('went on');
    expect(error).toBeInstanceOf(MezanError);
    expect((error as MezanError).code).toBe('E_LOCK_ORDER');
    expect((error as MezanError).details).toMatchObject({ taskId: 't', resource: 'low' });
    // Refused before it reached the pool: no wait, no grant.
    expect(ofType('resource.waiting')).toEqual([]);
    expect(ofType('resource.acquired').map((event) => event.resource)).toEqual(['high']);
    const violations = ofType('lockorder.violation');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ type: 'lockorder.violation', at: 0, kind: 'rank', taskId: 't', refused: true });
    expect(violations[0]!.resources).toContain('low');
    expect(engine.waitForGraph().edges).toEqual([]);
  });

  it("'enforce' refuses it at once even when the lower-ranked pool is busy: the task does not queue for it", async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2, resources: RANKED, lockOrder: 'enforce' });
    engine.submit((ctx) => ctx.acquire('low').then(() => ctx.sleep(100)), { id: 'owner' });
    await clock.advanceBy(0);
    const outcomes: Outcome[] = [];
    let settledAt: number | undefined;
    const handle = engine.submit(acquireInTurn(['high', 'low'], outcomes), { id: 't' });
    handle.result.then(() => (settledAt = clock.now()));
    await clock.runAll();
    expect(outcomes).toEqual([
      ['high', 'granted'],
      ['low', 'E_LOCK_ORDER'],
    ]);
    expect(settledAt).toBe(1);
    expect(ofType('resource.waiting')).toEqual([]);
  });

  it("'enforce' counts declared resources as held", async () => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED, lockOrder: 'enforce' });
    const outcomes: Outcome[] = [];
    const handle = engine.submit(acquireInTurn(['low'], outcomes), { id: 't', resources: { high: 1 } });
    await clock.runAll();
    await handle.result;
    expect(outcomes).toEqual([['low', 'E_LOCK_ORDER']]);
    expect(ofType('resource.acquired').map((event) => event.resource)).toEqual(['high']);
  });

  it("'enforce' lets through the ascending order, equal ranks, unranked pools, and a lower rank once the higher one is released", async () => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED, lockOrder: 'enforce' });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['low', 'high'], outcomes));
    engine.submit(acquireInTurn(['high', 'twin'], outcomes));
    engine.submit(acquireInTurn(['high', 'plain'], outcomes));
    engine.submit(acquireInTurn(['plain', 'low'], outcomes));
    engine.submit(async (ctx) => {
      (await ctx.acquire('high')).release();
      (await ctx.acquire('low')).release();
      outcomes.push(['low after release', 'granted']);
    });
    await clock.runAll();
    await engine.onIdle();
    expect(outcomes.filter(([, outcome]) => outcome !== 'granted')).toEqual([]);
    expect(outcomes).toHaveLength(9);
    // These tasks, together, do invert a learned order (high → plain → low → high): only that is reported.
    expect(ofType('lockorder.violation').filter((event) => event.kind === 'rank' || event.refused)).toEqual([]);
  });

  it("'warn' reports the rank violation as a lockorder.violation with refused: false, and the acquisition proceeds", async () => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED, lockOrder: 'warn' });
    const outcomes: Outcome[] = [];
    const handle = engine.submit(acquireInTurn(['high', 'low'], outcomes), { id: 't' });
    await clock.runAll();
    await handle.result;
    expect(outcomes).toEqual([
      ['high', 'granted'],
      ['low', 'granted'],
    ]);
    expect(ofType('resource.acquired').map((event) => [event.resource, event.units])).toEqual([
      ['high', 1],
      ['low', 1],
    ]);
    const violations = ofType('lockorder.violation');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ type: 'lockorder.violation', at: 0, kind: 'rank', taskId: 't', refused: false });
    expect(violations[0]!.resources).toContain('low');
  });

  it("'warn' is the default", async () => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['high', 'low'], outcomes), { id: 't' });
    await clock.runAll();
    expect(outcomes.map(([, outcome]) => outcome)).toEqual(['granted', 'granted']);
    expect(ofType('lockorder.violation').map((event) => [event.kind, event.refused])).toEqual([['rank', false]]);
  });

  it("'off' ignores ranks: no event, and the acquisition proceeds", async () => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED, lockOrder: 'off' });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['high', 'low'], outcomes), { id: 't' });
    await clock.runAll();
    expect(outcomes).toEqual([
      ['high', 'granted'],
      ['low', 'granted'],
    ]);
    expect(ofType('lockorder.violation')).toEqual([]);
  });

  it.each<[LockOrderMode]>([['off'], ['warn'], ['enforce']])("declared resources never violate the ranks (lockOrder '%s')", async (lockOrder) => {
    const { engine, clock, ofType } = startEngine({ resources: RANKED, lockOrder });
    const handle = engine.submit(() => 'ran', { resources: { high: 1, low: 1, plain: 1, twin: 1 } });
    await clock.runAll();
    expect(await handle.result).toBe('ran');
    expect(ofType('lockorder.violation')).toEqual([]);
  });
});

describe('lock order: learned order and inversions', () => {
  const POOLS = { A: 1, B: 1, C: 1 };

  it('task 1 takes A then B, later task 2 takes B then A: one inversion is reported, though no deadlock happened', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2, resources: POOLS });
    const outcomes: Outcome[] = [];
    const first = engine.submit(acquireInTurn(['A', 'B'], outcomes), { id: 't1' });
    await clock.runAll();
    await first.result;
    expect(ofType('lockorder.violation')).toEqual([]);
    const second = engine.submit(acquireInTurn(['B', 'A'], outcomes), { id: 't2' });
    await clock.runAll();
    await second.result;
    expect(outcomes.map(([, outcome]) => outcome)).toEqual(['granted', 'granted', 'granted', 'granted']);
    expect(ofType('lockorder.violation')).toEqual([
      { type: 'lockorder.violation', at: 1, kind: 'inversion', taskId: 't2', resources: ['A', 'B', 'A'], tasks: ['t1', 't2'], refused: false },
    ]);
    expect(ofType('deadlock.detected')).toEqual([]);
    expect(engine.deadlocks()).toEqual([]);
  });

  it('reports an inversion once: the same orders taken again add nothing', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1, resources: POOLS });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['A', 'B'], outcomes), { id: 't1' });
    engine.submit(acquireInTurn(['B', 'A'], outcomes), { id: 't2' });
    engine.submit(acquireInTurn(['B', 'A'], outcomes), { id: 't3' });
    engine.submit(acquireInTurn(['A', 'B'], outcomes), { id: 't4' });
    engine.submit(acquireInTurn(['B', 'A'], outcomes), { id: 't2-again' });
    await clock.runAll();
    await engine.onIdle();
    expect(outcomes.every(([, outcome]) => outcome === 'granted')).toBe(true);
    expect(ofType('lockorder.violation').map((event) => [event.kind, event.taskId, event.resources, event.tasks])).toEqual([
      ['inversion', 't2', ['A', 'B', 'A'], ['t1', 't2']],
    ]);
  });

  it('finds a longer cycle across three tasks: A before B, B before C, then C before A', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1, resources: POOLS });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['A', 'B'], outcomes), { id: 't1' });
    engine.submit(acquireInTurn(['B', 'C'], outcomes), { id: 't2' });
    await clock.runAll();
    expect(ofType('lockorder.violation')).toEqual([]);
    engine.submit(acquireInTurn(['C', 'A'], outcomes), { id: 't3' });
    await clock.runAll();
    await engine.onIdle();
    expect(ofType('lockorder.violation').map((event) => [event.kind, event.taskId, event.resources, event.tasks, event.refused])).toEqual([
      ['inversion', 't3', ['A', 'B', 'C', 'A'], ['t1', 't2', 't3'], false],
    ]);
  });

  it('learns an order only from resources held together: taking A, releasing it, then taking B teaches nothing', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1, resources: POOLS });
    engine.submit(
      async (ctx) => {
        (await ctx.acquire('A')).release();
        (await ctx.acquire('B')).release();
      },
      { id: 't1' },
    );
    engine.submit(acquireInTurn(['B', 'A'], []), { id: 't2' });
    await clock.runAll();
    await engine.onIdle();
    expect(ofType('lockorder.violation')).toEqual([]);
  });

  it("'enforce' reports an inversion of unranked pools without refusing it", async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1, resources: POOLS, lockOrder: 'enforce' });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['A', 'B'], outcomes), { id: 't1' });
    engine.submit(acquireInTurn(['B', 'A'], outcomes), { id: 't2' });
    await clock.runAll();
    await engine.onIdle();
    expect(outcomes.map(([, outcome]) => outcome)).toEqual(['granted', 'granted', 'granted', 'granted']);
    expect(ofType('lockorder.violation').map((event) => [event.kind, event.resources, event.refused])).toEqual([
      ['inversion', ['A', 'B', 'A'], false],
    ]);
  });

  it("'off' reports no inversion", async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1, resources: POOLS, lockOrder: 'off' });
    const outcomes: Outcome[] = [];
    engine.submit(acquireInTurn(['A', 'B'], outcomes), { id: 't1' });
    engine.submit(acquireInTurn(['B', 'A'], outcomes), { id: 't2' });
    engine.submit(acquireInTurn(['B', 'C'], outcomes), { id: 't3' });
    engine.submit(acquireInTurn(['C', 'B'], outcomes), { id: 't4' });
    await clock.runAll();
    await engine.onIdle();
    expect(outcomes.every(([, outcome]) => outcome === 'granted')).toBe(true);
    expect(ofType('lockorder.violation')).toEqual([]);
  });

  it('leaves every unit released and the graph empty afterwards', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, resources: { ...POOLS, ...RANKED } });
    const ledger = ResourceLedger.follow(engine, { A: 1, B: 1, C: 1, low: 1, high: 1, twin: 1, plain: 1 });
    engine.submit(acquireInTurn(['A', 'B', 'high', 'low'], []));
    await clock.runAll();
    engine.submit(acquireInTurn(['B', 'A', 'low', 'high'], []));
    await clock.runAll();
    await engine.onIdle();
    expect(ledger.outstanding()).toEqual({});
    expect(ledger.breaches).toEqual([]);
    expect(engine.waitForGraph().edges).toEqual([]);
  });
});
