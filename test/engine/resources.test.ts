import {
  createEngine,
  MezanError,
  seededRandom,
  VirtualClock,
  type EngineOptions,
  type Lease,
  type TaskContext,
  type TaskHandle,
  type WaitForGraphSnapshot,
} from '../../src';
import { deferred, rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';
import { ResourceLedger } from '../fixtures/engine3-resource-ledger';

/** The `holds` and `requests` edges of the graph that do not concern worker slots. */
function resourceEdges(graph: WaitForGraphSnapshot): WaitForGraphSnapshot['edges'] {
  return graph.edges.filter((edge) => edge.kind !== 'awaits' && edge.from !== '@workers');
}

/** The MezanError `promise` rejects with; fails the test when it resolves. */
async function rejectionOfPromise(promise: Promise<unknown>): Promise<MezanError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MezanError) return error;
    throw new Error(`expected a MezanError, got ${String(error)}`);
  }
  throw new Error('expected a rejection, the promise resolved');
}

describe('resources option: E_INVALID_OPTION', () => {
  const clock = new VirtualClock();
  const cases: Array<[string, unknown]> = [
    ['capacity 0', { db: 0 }],
    ['capacity -1', { db: -1 }],
    ['capacity 1.5', { db: 1.5 }],
    ['capacity NaN', { db: Number.NaN }],
    ['capacity Infinity', { db: Infinity }],
    ['capacity a string', { db: '2' }],
    ['object capacity 0', { db: { capacity: 0 } }],
    ['object capacity -1', { db: { capacity: -1 } }],
    ['object capacity 1.5', { db: { capacity: 1.5 } }],
    ['object without capacity', { db: {} }],
    ['rank NaN', { db: { capacity: 1, rank: Number.NaN } }],
    ['rank Infinity', { db: { capacity: 1, rank: Infinity } }],
    ['rank a string', { db: { capacity: 1, rank: '1' } }],
    ['pool settings null', { db: null }],
    ["a name starting with '@'", { '@db': 1 }],
    ["the reserved name '@workers'", { '@workers': 1 }],
    ['an empty name', { '': 1 }],
    ['not an object: a string', 'db'],
    ['not an object: a number', 2],
    ['not an object: null', null],
    ['not an object: an array', [1, 2]],
  ];

  it.each(cases)('%s', (_label, resources) => {
    const error = thrownBy(() => createEngine({ concurrency: 1, clock, resources } as EngineOptions));
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(String(error.details['option'])).toMatch(/^resources(\.|$)/);
  });

  it('accepts positive integer capacities and any finite rank', async () => {
    const engine = createEngine({ concurrency: 1, clock, resources: { db: 1, gpu: { capacity: 3, rank: -2.5 }, cache: { capacity: 1, rank: 0 } } });
    const graph = engine.waitForGraph();
    expect(graph.nodes).toEqual(
      expect.arrayContaining([
        { id: 'db', kind: 'resource', capacity: 1 },
        { id: 'gpu', kind: 'resource', capacity: 3 },
        { id: 'cache', kind: 'resource', capacity: 1 },
      ]),
    );
    expect(graph.edges).toEqual([]);
    await engine.shutdown();
  });
});

describe('declared resources (TaskOptions.resources)', () => {
  describe('are validated at submit: E_INVALID_OPTION naming resources.<name>', () => {
    const cases: Array<[string, unknown, string]> = [
      ['an unknown pool', { nope: 1 }, 'resources.nope'],
      ['units 0', { db: 0 }, 'resources.db'],
      ['units -1', { db: -1 }, 'resources.db'],
      ['units over the capacity', { db: 3 }, 'resources.db'],
      ['units 1.5', { db: 1.5 }, 'resources.db'],
      ['units a string', { db: '1' }, 'resources.db'],
      ['a valid pool next to an unknown one', { db: 1, nope: 1 }, 'resources.nope'],
      ['not an object', 'db', 'resources'],
      ['null', null, 'resources'],
    ];

    it.each(cases)('%s', async (_label, resources, option) => {
      const { engine, clock, events } = startEngine({ resources: { db: 2 } });
      let called = false;
      const error = thrownBy(() => engine.submit(() => (called = true), { resources } as never));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe(option);
      await clock.runAll();
      // Nothing was submitted.
      expect(called).toBe(false);
      expect(events).toEqual([]);
      expect(engine.isIdle).toBe(true);
    });

    it('on an engine without resources, any pool is unknown', () => {
      const { engine } = startEngine();
      const error = thrownBy(() => engine.submit(() => 1, { resources: { db: 1 } }));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe('resources.db');
    });

    it('in submitGraph too, and then nothing of the graph is submitted', async () => {
      const { engine, clock, events } = startEngine({ resources: { db: 2 } });
      const error = thrownBy(() =>
        engine.submitGraph({
          fine: { run: () => 1 },
          greedy: { run: () => 2, resources: { db: 5 }, dependsOn: ['fine'] },
        }),
      );
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(String(error.details['option'])).toMatch(/resources\.db$/);
      await clock.runAll();
      expect(events).toEqual([]);
    });
  });

  it('are all held before the function is called, taken in rank order then name order', async () => {
    const resources = {
      gpu: { capacity: 1, rank: 2 },
      beta: { capacity: 1, rank: 1 },
      alpha: { capacity: 2, rank: 1 },
      zeta: { capacity: 1, rank: 0 },
    };
    const { engine, clock, ofType } = startEngine({ resources });
    const ledger = ResourceLedger.follow(engine, { gpu: 1, beta: 1, alpha: 2, zeta: 1 });
    let heldAtCall: Record<string, number> | undefined;
    let edgesAtCall: WaitForGraphSnapshot['edges'] | undefined;
    const handle = engine.submit(
      () => {
        heldAtCall = {
          gpu: ledger.heldBy('t', 'gpu'),
          beta: ledger.heldBy('t', 'beta'),
          alpha: ledger.heldBy('t', 'alpha'),
          zeta: ledger.heldBy('t', 'zeta'),
        };
        edgesAtCall = resourceEdges(engine.waitForGraph());
        return 'ran';
      },
      { id: 't', resources: { gpu: 1, beta: 1, alpha: 2, zeta: 1 } },
    );
    await clock.runAll();
    expect(await handle.result).toBe('ran');
    expect(heldAtCall).toEqual({ gpu: 1, beta: 1, alpha: 2, zeta: 1 });
    expect(edgesAtCall).toEqual(
      expect.arrayContaining([
        { from: 'gpu', to: 't', kind: 'holds', units: 1 },
        { from: 'beta', to: 't', kind: 'holds', units: 1 },
        { from: 'alpha', to: 't', kind: 'holds', units: 2 },
        { from: 'zeta', to: 't', kind: 'holds', units: 1 },
      ]),
    );
    expect(ofType('resource.acquired').map((event) => [event.resource, event.units])).toEqual([
      ['zeta', 1],
      ['alpha', 2],
      ['beta', 1],
      ['gpu', 1],
    ]);
    // Released when the task settled.
    expect(ofType('resource.released').map((event) => [event.resource, event.units])).toEqual(
      expect.arrayContaining([
        ['zeta', 0],
        ['alpha', 0],
        ['beta', 0],
        ['gpu', 0],
      ]),
    );
    expect(ledger.outstanding()).toEqual({});
    expect(engine.waitForGraph().edges).toEqual([]);
  });

  it('takes unranked pools in name order', async () => {
    const { engine, clock, ofType } = startEngine({ resources: { yew: 1, oak: 1, elm: 1 } });
    engine.submit(() => 'ran', { resources: { yew: 1, oak: 1, elm: 1 } });
    await clock.runAll();
    expect(ofType('resource.acquired').map((event) => event.resource)).toEqual(['elm', 'oak', 'yew']);
  });

  it('the function waits for all of them, holding its worker slot meanwhile', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2, resources: { db: 1, gpu: { capacity: 1, rank: 2 } } });
    const blocker = engine.submit(
      async (ctx) => {
        const lease = await ctx.acquire('gpu');
        await ctx.sleep(50);
        lease.release();
      },
      { id: 'blocker' },
    );
    await clock.advanceBy(0);
    let calledAt: number | undefined;
    const waiter = engine.submit(
      () => {
        calledAt = clock.now();
      },
      { id: 'waiter', resources: { db: 1, gpu: 1 } },
    );
    await clock.advanceBy(10);
    expect(calledAt).toBeUndefined();
    expect(waiter.status).toBe('running');
    const edges = resourceEdges(engine.waitForGraph());
    expect(edges).toContainEqual({ from: 'db', to: 'waiter', kind: 'holds', units: 1 });
    expect(edges).toContainEqual({ from: 'waiter', to: 'gpu', kind: 'requests', units: 1 });
    expect(engine.waitForGraph().edges).toContainEqual({ from: '@workers', to: 'waiter', kind: 'holds', units: 1 });
    expect(ofType('resource.waiting')).toEqual([{ type: 'resource.waiting', at: 0, taskId: 'waiter', resource: 'gpu', units: 1 }]);
    await clock.runAll();
    await blocker.result;
    await waiter.result;
    expect(calledAt).toBe(50);
    expect(engine.waitForGraph().edges).toEqual([]);
  });

  it('a task that times out while waiting for a declared resource never has its function called, and gives back what it took', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, resources: { db: 1, gpu: 1 } });
    const ledger = ResourceLedger.follow(engine, { db: 1, gpu: 1 });
    engine.submit((ctx) => ctx.acquire('gpu').then(() => ctx.sleep(100)), { id: 'blocker' });
    await clock.advanceBy(0);
    let called = false;
    const waiter = engine.submit(() => (called = true), { id: 'waiter', resources: { db: 1, gpu: 1 }, timeoutMs: 30 });
    await clock.advanceBy(5);
    expect(ledger.heldBy('waiter', 'db')).toBe(1);
    await clock.advanceBy(25);
    expect(waiter.status).toBe('timeout');
    expect(ledger.heldBy('waiter', 'db')).toBe(0);
    await clock.runAll();
    expect(called).toBe(false);
    expect((await rejectionOf(waiter)).code).toBe('E_TIMEOUT');
    expect(ledger.outstanding()).toEqual({});
    expect(engine.waitForGraph().edges).toEqual([]);
  });
});

describe('ctx.acquire', () => {
  it('grants at once when units are free, with a lease and a resource.acquired event', async () => {
    const { engine, clock, ofType } = startEngine({ resources: { db: 2 } });
    let lease: Lease | undefined;
    let grantedAt: number | undefined;
    const handle = engine.submit(
      async (ctx) => {
        lease = await ctx.acquire('db');
        grantedAt = clock.now();
        await ctx.sleep(10);
        lease.release();
        return 'done';
      },
      { id: 't' },
    );
    await clock.advanceBy(0);
    expect(grantedAt).toBe(0);
    expect(lease).toMatchObject({ resource: 'db', units: 1 });
    expect(typeof lease!.leaseId).toBe('string');
    expect(ofType('resource.waiting')).toEqual([]);
    expect(ofType('resource.acquired')).toEqual([{ type: 'resource.acquired', at: 0, taskId: 't', resource: 'db', units: 1 }]);
    await clock.runAll();
    expect(await handle.result).toBe('done');
    expect(ofType('resource.released')).toEqual([{ type: 'resource.released', at: 10, taskId: 't', resource: 'db', units: 0 }]);
  });

  it('queues in FIFO order: a small request never overtakes a large one at the head', async () => {
    const { engine, clock } = startEngine({ concurrency: 3, resources: { pool: 2 } });
    const grantedAt: Record<string, number> = {};
    const take = (units: number, holdMs: number) => async (ctx: TaskContext) => {
      const lease = await ctx.acquire('pool', { units });
      grantedAt[ctx.id] = clock.now();
      await ctx.sleep(holdMs);
      lease.release();
    };
    const holder = engine.submit(take(1, 10), { id: 'holder' });
    await clock.advanceBy(1);
    const big = engine.submit(take(2, 10), { id: 'big' });
    await clock.advanceBy(1);
    // One unit is free, but `big` is at the head of the queue.
    const small = engine.submit(take(1, 10), { id: 'small' });
    await clock.advanceBy(1);
    expect(grantedAt).toEqual({ holder: 0 });
    await clock.runAll();
    await Promise.all([holder.result, big.result, small.result]);
    expect(grantedAt).toEqual({ holder: 0, big: 10, small: 20 });
  });

  it('grants equal requests in the order they were made', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 4, resources: { pool: 1 } });
    const order: string[] = [];
    const take = async (ctx: TaskContext) => {
      const lease = await ctx.acquire('pool');
      order.push(ctx.id);
      await ctx.sleep(5);
      lease.release();
    };
    const handles: TaskHandle<void>[] = [];
    for (const id of ['first', 'second', 'third', 'fourth']) {
      // Priorities do not reorder a pool's queue: the request made first is granted first.
      handles.push(engine.submit(take, { id, priority: id === 'fourth' ? 10 : 0 }));
      await clock.advanceBy(1);
    }
    await clock.runAll();
    await Promise.all(handles.map((handle) => handle.result));
    expect(order).toEqual(['first', 'second', 'third', 'fourth']);
    expect(ofType('resource.acquired').map((event) => [event.taskId, event.at])).toEqual([
      ['first', 0],
      ['second', 5],
      ['third', 10],
      ['fourth', 15],
    ]);
  });

  it('takes several units; events carry what the task holds in the pool now', async () => {
    const { engine, clock, ofType } = startEngine({ resources: { pool: 3 } });
    const leases: Lease[] = [];
    const handle = engine.submit(
      async (ctx) => {
        leases.push(await ctx.acquire('pool', { units: 2 }));
        leases.push(await ctx.acquire('pool', { units: 1 }));
        await ctx.sleep(10);
        leases[0]!.release();
        await ctx.sleep(10);
        leases[1]!.release();
      },
      { id: 't' },
    );
    await clock.runAll();
    await handle.result;
    expect(leases.map((lease) => [lease.resource, lease.units])).toEqual([
      ['pool', 2],
      ['pool', 1],
    ]);
    expect(leases[0]!.leaseId).not.toBe(leases[1]!.leaseId);
    expect(ofType('resource.acquired').map((event) => [event.at, event.units])).toEqual([
      [0, 2],
      [0, 3],
    ]);
    expect(ofType('resource.released').map((event) => [event.at, event.units])).toEqual([
      [10, 1],
      [20, 0],
    ]);
  });

  it('lease.release() is idempotent: a second call frees nothing more', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2, resources: { pool: 2 } });
    let waiterGrantedAt: number | undefined;
    const owner = engine.submit(
      async (ctx) => {
        const first = await ctx.acquire('pool');
        const second = await ctx.acquire('pool');
        await ctx.sleep(5);
        first.release();
        first.release();
        await ctx.sleep(5);
        first.release();
        second.release();
        second.release();
      },
      { id: 'owner' },
    );
    await clock.advanceBy(1);
    const waiter = engine.submit(
      async (ctx) => {
        const lease = await ctx.acquire('pool', { units: 2 });
        waiterGrantedAt = clock.now();
        lease.release();
      },
      { id: 'waiter' },
    );
    await clock.runAll();
    await Promise.all([owner.result, waiter.result]);
    // Had the repeated release of `first` freed its unit twice, `waiter` would have had both at 5.
    expect(waiterGrantedAt).toBe(10);
    expect(
      ofType('resource.released')
        .filter((event) => event.taskId === 'owner')
        .map((event) => [event.at, event.units]),
    ).toEqual([
      [5, 1],
      [10, 0],
    ]);
  });

  describe('every lease is released when the task settles', () => {
    type Ending = 'completed' | 'failed' | 'timeout' | 'cancelled' | 'failed, then retried';
    const endings: Ending[] = ['completed', 'failed', 'timeout', 'cancelled', 'failed, then retried'];

    it.each(endings)('%s', async (ending) => {
      const { engine, clock, ofType } = startEngine({ concurrency: 2, resources: { db: 1, gpu: 1, cache: 2 } });
      const ledger = ResourceLedger.follow(engine, { db: 1, gpu: 1, cache: 2 });
      const hang = deferred();
      let attempts = 0;
      const holder = engine.submit(
        async (ctx) => {
          attempts++;
          if (attempts > 1) return 'second attempt';
          await ctx.acquire('db');
          await ctx.acquire('cache', { units: 2 });
          await ctx.sleep(20);
          if (ending === 'completed') return 'kept the leases';
          if (ending === 'failed' || ending === 'failed, then retried') throw new Error('boom');
          await hang.promise;
          return 'never';
        },
        {
          id: 'holder',
          resources: { gpu: 1 },
          timeoutMs: ending === 'timeout' ? 20 : undefined,
          retries: ending === 'failed, then retried' ? { max: 1, delayMs: 50 } : 0,
        },
      );
      await clock.advanceBy(1);
      const grantedAt: Record<string, number> = {};
      const waiter = engine.submit(
        async (ctx) => {
          const leases = [await ctx.acquire('db'), await ctx.acquire('gpu'), await ctx.acquire('cache', { units: 2 })];
          grantedAt['all'] = clock.now();
          for (const lease of leases) lease.release();
        },
        { id: 'waiter' },
      );
      await clock.advanceBy(19);
      if (ending === 'cancelled') expect(holder.cancel()).toBe(true);
      await clock.advanceBy(0);
      const expectedStatus = {
        completed: 'completed',
        failed: 'failed',
        timeout: 'timeout',
        cancelled: 'cancelled',
        'failed, then retried': 'queued',
      }[ending];
      expect(holder.status).toBe(expectedStatus);
      // At the moment the attempt ended, its units went back and the waiter had them all.
      expect(ledger.heldBy('holder', 'db') + ledger.heldBy('holder', 'gpu') + ledger.heldBy('holder', 'cache')).toBe(0);
      expect(grantedAt).toEqual({ all: 20 });
      expect(engine.waitForGraph().edges.filter((edge) => edge.to === 'holder' || edge.from === 'holder')).toEqual([]);
      expect(
        ofType('resource.released')
          .filter((event) => event.taskId === 'holder')
          .map((event) => [event.at, event.resource, event.units]),
      ).toEqual(
        expect.arrayContaining([
          [20, 'db', 0],
          [20, 'gpu', 0],
          [20, 'cache', 0],
        ]),
      );
      await clock.runAll();
      hang.resolve();
      await clock.runAll();
      await waiter.result;
      if (ending === 'completed') expect(await holder.result).toBe('kept the leases');
      else if (ending === 'failed, then retried') expect(await holder.result).toBe('second attempt');
      else expect((await rejectionOf(holder)).code).toBe({ failed: 'E_TASK_FAILED', timeout: 'E_TIMEOUT', cancelled: 'E_CANCELLED' }[ending]);
      expect(ledger.breaches).toEqual([]);
      expect(ledger.outstanding()).toEqual({});
      expect(engine.waitForGraph().edges).toEqual([]);
    });
  });

  it('a task cancelled while it waits leaves the queue: it is never granted, and the next waiter is', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 3, resources: { db: 1 } });
    const ledger = ResourceLedger.follow(engine, { db: 1 });
    const holder = engine.submit((ctx) => ctx.acquire('db').then(() => ctx.sleep(30)), { id: 'holder' });
    await clock.advanceBy(1);
    const quitter = engine.submit((ctx) => ctx.acquire('db'), { id: 'quitter' });
    await clock.advanceBy(1);
    const patient = engine.submit((ctx) => ctx.acquire('db').then((lease) => lease.release()), { id: 'patient' });
    await clock.advanceBy(8);
    expect(resourceEdges(engine.waitForGraph())).toContainEqual({ from: 'quitter', to: 'db', kind: 'requests', units: 1 });
    expect(quitter.cancel()).toBe(true);
    await clock.advanceBy(0);
    expect(engine.waitForGraph().edges.filter((edge) => edge.from === 'quitter' || edge.to === 'quitter')).toEqual([]);
    await clock.runAll();
    await Promise.all([holder.result, patient.result]);
    expect((await rejectionOf(quitter)).code).toBe('E_CANCELLED');
    expect(ofType('resource.acquired').map((event) => [event.taskId, event.at])).toEqual([
      ['holder', 0],
      ['patient', 30],
    ]);
    expect(ledger.outstanding()).toEqual({});
    expect(engine.waitForGraph().edges).toEqual([]);
  });

  it('rejects with E_RESOURCE_TIMEOUT after timeoutMs, emits resource.timeout, and leaks nothing', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2, resources: { db: 1 } });
    const ledger = ResourceLedger.follow(engine, { db: 1 });
    const holder = engine.submit((ctx) => ctx.acquire('db').then(() => ctx.sleep(100)), { id: 'holder' });
    await clock.advanceBy(0);
    let failure: { error: unknown; at: number } | undefined;
    const impatient = engine.submit(
      async (ctx) => {
        try {
          await ctx.acquire('db', { timeoutMs: 30 });
          return 'granted';
        } catch (error) {
          failure = { error, at: clock.now() };
          return 'gave up';
        }
      },
      { id: 'impatient' },
    );
    await clock.advanceBy(29);
    expect(failure).toBeUndefined();
    expect(resourceEdges(engine.waitForGraph())).toContainEqual({ from: 'impatient', to: 'db', kind: 'requests', units: 1 });
    await clock.advanceBy(1);
    expect(failure?.at).toBe(30);
    const error = failure!.error as MezanError;
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_RESOURCE_TIMEOUT');
    expect(error.details).toMatchObject({ taskId: 'impatient', resource: 'db', units: 1, timeoutMs: 30 });
    expect(ofType('resource.timeout')).toEqual([{ type: 'resource.timeout', at: 30, taskId: 'impatient', resource: 'db', units: 1, timeoutMs: 30 }]);
    expect(engine.waitForGraph().edges.filter((edge) => edge.from === 'impatient' || edge.to === 'impatient')).toEqual([]);
    await clock.runAll();
    expect(await impatient.result).toBe('gave up');
    await holder.result;
    // The withdrawn request was never granted, and the pool is whole again.
    expect(ofType('resource.acquired').map((event) => event.taskId)).toEqual(['holder']);
    expect(ledger.outstanding()).toEqual({});
    let grantedAt: number | undefined;
    const later = engine.submit(async (ctx) => {
      (await ctx.acquire('db', { timeoutMs: 1 })).release();
      grantedAt = clock.now();
    });
    await clock.runAll();
    await later.result;
    expect(grantedAt).toBe(100);
    expect(engine.waitForGraph().edges).toEqual([]);
  });

  it('an E_RESOURCE_TIMEOUT the function does not catch fails the task, and its other leases go back', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, resources: { db: 1, gpu: 1 } });
    const ledger = ResourceLedger.follow(engine, { db: 1, gpu: 1 });
    engine.submit((ctx) => ctx.acquire('db').then(() => ctx.sleep(100)), { id: 'holder' });
    await clock.advanceBy(0);
    const loser = engine.submit(
      async (ctx) => {
        await ctx.acquire('gpu');
        await ctx.acquire('db', { timeoutMs: 10 });
      },
      { id: 'loser' },
    );
    await clock.advanceBy(10);
    expect(loser.status).toBe('failed');
    expect(ledger.heldBy('loser', 'gpu')).toBe(0);
    const error = await rejectionOf(loser);
    expect(error.code === 'E_RESOURCE_TIMEOUT' || (error.cause as MezanError | undefined)?.code === 'E_RESOURCE_TIMEOUT').toBe(true);
    await clock.runAll();
    expect(ledger.outstanding()).toEqual({});
  });

  describe('rejects with E_INVALID_OPTION, acquiring nothing', () => {
    const cases: Array<[string, string, { units?: unknown; timeoutMs?: unknown } | undefined]> = [
      ['an unknown pool', 'nope', undefined],
      ['the reserved worker slots', '@workers', undefined],
      ['units over the capacity', 'db', { units: 3 }],
      ['units 0', 'db', { units: 0 }],
      ['units -1', 'db', { units: -1 }],
      ['units 1.5', 'db', { units: 1.5 }],
    ];

    it.each(cases)('%s', async (_label, resource, options) => {
      const { engine, clock, ofType } = startEngine({ resources: { db: 2 } });
      let failure: unknown;
      const handle = engine.submit(async (ctx) => {
        failure = await rejectionOfPromise(ctx.acquire(resource, options as never));
        return 'carried on';
      });
      await clock.runAll();
      expect(await handle.result).toBe('carried on');
      expect((failure as MezanError).code).toBe('E_INVALID_OPTION');
      expect(ofType('resource.waiting')).toEqual([]);
      expect(ofType('resource.acquired')).toEqual([]);
      expect(engine.waitForGraph().edges).toEqual([]);
    });
  });
});

describe('resource events and the wait-for graph', () => {
  it('emits resource.waiting, resource.acquired and resource.released with the units held, in order', async () => {
    const { engine, clock, events } = startEngine({ concurrency: 2, resources: { pool: 3 } });
    const takeTwo = (holdMs: number) => async (ctx: TaskContext) => {
      const lease = await ctx.acquire('pool', { units: 2 });
      await ctx.sleep(holdMs);
      lease.release();
    };
    engine.submit(takeTwo(10), { id: 'a' });
    await clock.advanceBy(1);
    engine.submit(takeTwo(5), { id: 'b' });
    await clock.runAll();
    await engine.onIdle();
    expect(events.filter((event) => event.type.startsWith('resource.'))).toEqual([
      { type: 'resource.acquired', at: 0, taskId: 'a', resource: 'pool', units: 2 },
      { type: 'resource.waiting', at: 1, taskId: 'b', resource: 'pool', units: 2 },
      { type: 'resource.released', at: 10, taskId: 'a', resource: 'pool', units: 0 },
      { type: 'resource.acquired', at: 10, taskId: 'b', resource: 'pool', units: 2 },
      { type: 'resource.released', at: 15, taskId: 'b', resource: 'pool', units: 0 },
    ]);
  });

  it('waitForGraph() shows holds and requests edges while tasks wait, and nothing at rest', async () => {
    const { engine, clock } = startEngine({ concurrency: 3, resources: { db: 1, cache: { capacity: 3, rank: 1 } } });
    const gates = { holder: deferred(), waiter: deferred(), second: deferred() };
    engine.submit(
      async (ctx) => {
        const leases = [await ctx.acquire('db'), await ctx.acquire('cache', { units: 2 })];
        await gates.holder.promise;
        for (const lease of leases) lease.release();
      },
      { id: 'holder' },
    );
    await clock.advanceBy(0);
    engine.submit(
      async (ctx) => {
        await ctx.acquire('cache');
        const lease = await ctx.acquire('db');
        await gates.waiter.promise;
        lease.release();
      },
      { id: 'waiter' },
    );
    await clock.advanceBy(0);
    engine.submit(
      async (ctx) => {
        await ctx.acquire('cache', { units: 2 });
        await gates.second.promise;
      },
      { id: 'second' },
    );
    await clock.advanceBy(1);

    const graph = engine.waitForGraph();
    expect(graph.nodes).toEqual(
      expect.arrayContaining([
        { id: '@workers', kind: 'resource', capacity: 3 },
        { id: 'db', kind: 'resource', capacity: 1 },
        { id: 'cache', kind: 'resource', capacity: 3 },
        { id: 'holder', kind: 'task' },
        { id: 'waiter', kind: 'task' },
        { id: 'second', kind: 'task' },
      ]),
    );
    const edges = resourceEdges(graph);
    expect(edges).toHaveLength(5);
    expect(edges).toEqual(
      expect.arrayContaining([
        { from: 'db', to: 'holder', kind: 'holds', units: 1 },
        { from: 'cache', to: 'holder', kind: 'holds', units: 2 },
        { from: 'cache', to: 'waiter', kind: 'holds', units: 1 },
        { from: 'waiter', to: 'db', kind: 'requests', units: 1 },
        { from: 'second', to: 'cache', kind: 'requests', units: 2 },
      ]),
    );
    // A task waiting for a resource holds its worker slot.
    expect(graph.edges).toContainEqual({ from: '@workers', to: 'waiter', kind: 'holds', units: 1 });
    expect(graph.edges).toContainEqual({ from: '@workers', to: 'second', kind: 'holds', units: 1 });

    gates.holder.resolve();
    await clock.advanceBy(0);
    expect(resourceEdges(engine.waitForGraph())).toEqual(
      expect.arrayContaining([
        { from: 'db', to: 'waiter', kind: 'holds', units: 1 },
        { from: 'cache', to: 'waiter', kind: 'holds', units: 1 },
        { from: 'cache', to: 'second', kind: 'holds', units: 2 },
      ]),
    );
    expect(resourceEdges(engine.waitForGraph())).toHaveLength(3);
    gates.waiter.resolve();
    gates.second.resolve();
    await clock.runAll();
    await engine.onIdle();
    const atRest = engine.waitForGraph();
    expect(atRest.edges).toEqual([]);
    expect(atRest.nodes.filter((node) => node.kind === 'task')).toEqual([]);
  });
});

describe('invariant 3: units held never exceed capacity, and at rest every unit is released', () => {
  const capacities = { a: 1, b: 2, c: 3 };
  const names = Object.keys(capacities) as Array<keyof typeof capacities>;

  /**
   * Submits 60 tasks doing random acquisitions (some beyond what a pool can ever give one task, some
   * in orders that deadlock between tasks), holds, early releases, failures, retries, task timeouts
   * and cancellations, then runs the clock out. `everyAcquireTimesOut` gives every acquisition a
   * `timeoutMs`, so that even without deadlock resolution every wait ends.
   */
  async function randomWorkload(seed: number, options: { readonly detect: 'off' | 'immediate'; readonly everyAcquireTimesOut: boolean }) {
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const { engine, clock } = startEngine({
      concurrency: 4,
      random: seededRandom(seed + 100),
      resources: capacities,
      deadlock: { detect: options.detect },
    });
    const ledger = ResourceLedger.follow(engine, capacities);
    // The graph never shows more units held than a pool has, and agrees with the events once the
    // events of one step are all out (a pool publishes a step's releases and grants together, and the
    // graph shows the step's end).
    const graphBreaches: string[] = [];
    const heldInGraph = (resource: string): number => {
      let held = 0;
      for (const edge of engine.waitForGraph().edges) if (edge.kind === 'holds' && edge.from === resource) held += edge.units;
      return held;
    };
    engine.events$.subscribe((event) => {
      if (event.type !== 'resource.acquired' && event.type !== 'resource.released') return;
      const capacity = capacities[event.resource as keyof typeof capacities];
      if (heldInGraph(event.resource) > capacity)
        graphBreaches.push(`${event.at} ${event.resource}: graph ${heldInGraph(event.resource)} > ${capacity}`);
      queueMicrotask(() => {
        const held = heldInGraph(event.resource);
        if (held !== ledger.heldIn(event.resource))
          graphBreaches.push(`${event.at} ${event.resource}: graph ${held}, events ${ledger.heldIn(event.resource)}`);
      });
    });
    const handles: TaskHandle<unknown>[] = [];
    for (let index = 0; index < 60; index++) {
      const steps = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const resource = pick(names);
        return {
          resource,
          units: 1 + Math.floor(random() * capacities[resource]),
          timeoutMs: options.everyAcquireTimesOut || random() < 0.3 ? 1 + Math.floor(random() * 20) : undefined,
          holdMs: Math.floor(random() * 15),
          releaseEarly: random() < 0.5,
        };
      });
      const failAtEnd = random() < 0.15;
      const declared = random() < 0.3 ? { [pick(names)]: 1 } : undefined;
      const timeoutMs = random() < 0.15 ? 5 + Math.floor(random() * 30) : undefined;
      const handle = engine.submit(
        async (ctx) => {
          for (const step of steps) {
            let lease: Lease;
            try {
              lease = await ctx.acquire(step.resource, { units: step.units, timeoutMs: step.timeoutMs });
            } catch (error) {
              if (error instanceof MezanError && error.code === 'E_RESOURCE_TIMEOUT') continue;
              throw error;
            }
            await ctx.sleep(step.holdMs);
            if (step.releaseEarly) lease.release();
          }
          if (failAtEnd) throw new Error('planned failure');
          return 'done';
        },
        { resources: declared, timeoutMs, retries: random() < 0.2 ? { max: 1, delayMs: 3 } : 0 },
      );
      handle.result.catch(() => undefined);
      handles.push(handle);
      if (random() < 0.1) {
        const cancelAfter = Math.floor(random() * 20);
        clock.setTimeout(() => handle.cancel(), cancelAfter);
      }
      if (random() < 0.4) await clock.advanceBy(Math.floor(random() * 4));
    }
    await clock.runAll();
    return { engine, ledger, graphBreaches, handles };
  }

  function expectAtRest({ engine, ledger, graphBreaches, handles }: Awaited<ReturnType<typeof randomWorkload>>): void {
    expect(ledger.breaches).toEqual([]);
    expect(ledger.inconsistencies).toEqual([]);
    expect(graphBreaches).toEqual([]);
    // The workload did contend: some pool was full at some point.
    expect(names.some((name) => ledger.peak(name) === capacities[name])).toBe(true);
    // Not awaited with onIdle(): a task stuck for good would hang the test instead of failing it.
    expect(handles.filter((handle) => !handle.isSettled).map((handle) => `${handle.id} ${handle.status}`)).toEqual([]);
    expect(engine.isIdle).toBe(true);
    expect(ledger.outstanding()).toEqual({});
    expect(engine.waitForGraph().edges).toEqual([]);
  }

  it.each([1, 2, 3, 4, 5])('seed %i: timeouts end every wait (deadlock detection off)', async (seed) => {
    expectAtRest(await randomWorkload(seed, { detect: 'off', everyAcquireTimesOut: true }));
  });

  it.each([1, 2, 3, 4, 5])('seed %i: deadlock victims end the waits that never time out', async (seed) => {
    expectAtRest(await randomWorkload(seed, { detect: 'immediate', everyAcquireTimesOut: false }));
  });

  it('a bystander waiting behind a deadlock is not its victim: the deadlock is broken and every unit comes back', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 3, resources: { A: 1, B: 1 } });
    const ledger = ResourceLedger.follow(engine, { A: 1, B: 1 });
    const inOrder = (first: string, second: string) => async (ctx: TaskContext) => {
      const held = await ctx.acquire(first);
      await ctx.sleep(10);
      const wanted = await ctx.acquire(second);
      wanted.release();
      held.release();
    };
    const t1 = engine.submit(inOrder('A', 'B'), { id: 't1' });
    const t2 = engine.submit(inOrder('B', 'A'), { id: 't2' });
    await clock.advanceBy(5);
    // The youngest task, but it holds nothing: failing its wait frees nothing the cycle needs.
    const bystander = engine.submit((ctx) => ctx.acquire('A').then((lease) => lease.release()), { id: 'bystander' });
    await clock.runAll();
    expect(ofType('deadlock.resolved').map((event) => event.victim)).toEqual([expect.stringMatching(/^t[12]$/)]);
    expect([t1, t2, bystander].filter((handle) => !handle.isSettled).map((handle) => handle.id)).toEqual([]);
    expect(bystander.status).toBe('completed');
    expect(ledger.outstanding()).toEqual({});
    expect(engine.waitForGraph().edges).toEqual([]);
  });
});
