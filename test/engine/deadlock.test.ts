import { isMezanError, type EngineEvent, type EngineOptions, type TaskContext, type TaskHandle, type TaskOptions } from '../../src';
import { bruteForceDeadlocked } from '../fixtures/brute-force-deadlock';
import { heldUnits, missingCycleSteps, specOfSnapshot, tasksOfCycle, type GraphSnapshot } from '../fixtures/engine3-deadlock-graph';
import { rejectionOf, startEngine, type EngineHarness } from '../fixtures/engine-harness';

/** What `deadlock.policy` accepts as a function. */
type PolicyFunction = Extract<NonNullable<NonNullable<EngineOptions['deadlock']>['policy']>, (...args: never[]) => unknown>;
type Candidate = Parameters<PolicyFunction>[0][number];

/** The harness, plus the wait-for graph as it stood at every `deadlock.detected` event. */
interface DeadlockHarness extends EngineHarness {
  readonly graphsAtDetection: GraphSnapshot[];
}

/** An engine harness that also keeps the wait-for graph as it was at each detection. */
function startDeadlockEngine(options: EngineOptions & { readonly concurrency: number }): DeadlockHarness {
  const harness = startEngine(options);
  const graphsAtDetection: GraphSnapshot[] = [];
  // Taken synchronously inside the handler: the graph the detector just looked at.
  harness.engine.events$.subscribe((event) => {
    if (event.type === 'deadlock.detected') graphsAtDetection.push(harness.engine.waitForGraph());
  });
  return { ...harness, graphsAtDetection };
}

/** Takes `first`, works 10 ms, takes `second`, works 5 ms: the shape of every lock-order deadlock. */
function takeTwo(first: string, second: string, units: { first?: number; second?: number } = {}) {
  return async (ctx: TaskContext): Promise<string> => {
    await ctx.acquire(first, { units: units.first ?? 1 });
    await ctx.sleep(10);
    await ctx.acquire(second, { units: units.second ?? 1 });
    await ctx.sleep(5);
    return ctx.id;
  };
}

/** Settles to the task's value, or to its error code: a result that is observed, whatever it is. */
function outcomeOf(handle: TaskHandle<unknown>): Promise<unknown> {
  return handle.result.then(
    (value) => value,
    (error: unknown) => (isMezanError(error) ? error.code : error),
  );
}

function pad(index: number): string {
  return `t${String(index).padStart(2, '0')}`;
}

/**
 * A ring: task i takes pool r_i, works, then wants r_{i+1} (the last wants r_1). Task ids are
 * `t01`, `t02`, ...: submission order is id order.
 */
function submitRing(engine: EngineHarness['engine'], size: number, optionsOf: (index: number) => TaskOptions = () => ({})) {
  const handles: Array<TaskHandle<string>> = [];
  for (let index = 1; index <= size; index++) {
    const next = (index % size) + 1;
    handles.push(engine.submit(takeTwo(`r${index}`, `r${next}`), { id: pad(index), ...optionsOf(index) }));
  }
  return handles;
}

function ringPools(size: number, capacityOf: (index: number) => number = () => 1): Record<string, number> {
  return Object.fromEntries(Array.from({ length: size }, (_, index) => [`r${index + 1}`, capacityOf(index + 1)]));
}

function expectNoHoldsAtRest(harness: EngineHarness): void {
  expect(harness.engine.isIdle).toBe(true);
  const graph = harness.engine.waitForGraph();
  expect(graph.edges).toEqual([]);
  expect(graph.nodes.every((node) => node.kind === 'resource')).toBe(true);
}

/** The most tasks that were running at once, from `task.started` and the terminal events that followed. */
function mostRunningAtOnce(events: readonly EngineEvent[]): number {
  const running = new Set<string>();
  let most = 0;
  for (const event of events) {
    if (!('taskId' in event)) continue;
    if (event.type === 'task.started') {
      running.add(event.taskId);
      most = Math.max(most, running.size);
    } else if (['task.completed', 'task.failed', 'task.cancelled', 'task.timeout', 'task.deadlock', 'task.retrying'].includes(event.type)) {
      running.delete(event.taskId);
    }
  }
  return most;
}

/** The engine's workers as `[id, slots, slots taken, state]`. */
function workerSlots(engine: EngineHarness['engine']): Array<[string, number, number, string]> {
  return engine.stats().workers.map((worker) => [worker.id, worker.slots, worker.running, worker.state]);
}

/** The capacity of the wait-for graph's worker slots, `@workers`. */
function workerSlotCapacity(engine: EngineHarness['engine']): number | undefined {
  const node = engine.waitForGraph().nodes.find((candidate) => candidate.id === '@workers');
  return node?.kind === 'resource' ? node.capacity : undefined;
}

function deadlockEvents(events: readonly EngineEvent[]) {
  return events.filter((event) => event.type === 'deadlock.detected' || event.type === 'deadlock.resolved');
}

describe('classic deadlocks', () => {
  test('lock-order inversion of two tasks over two pools: the youngest is the victim, its leases go back at once, the other completes', async () => {
    const harness = startDeadlockEngine({ concurrency: 2, resources: { a: 1, b: 1 } });
    const { engine, clock } = harness;
    const t1 = engine.submit(takeTwo('a', 'b'), { id: 't1' });
    const t2 = engine.submit(takeTwo('b', 'a'), { id: 't2' });
    const victimError = rejectionOf(t2);
    await clock.advanceBy(10);

    const [detected] = harness.ofType('deadlock.detected');
    expect(harness.ofType('deadlock.detected')).toHaveLength(1);
    expect(detected).toMatchObject({ at: 10, deadlocked: ['t1', 't2'] });
    expect(missingCycleSteps(detected!.cycle, harness.graphsAtDetection[0]!)).toEqual([]);
    expect(new Set(tasksOfCycle(detected!.cycle, harness.graphsAtDetection[0]!))).toEqual(new Set(['t1', 't2']));
    expect(harness.ofType('deadlock.resolved')).toEqual([
      { type: 'deadlock.resolved', at: 10, resolution: 'victim', victim: 't2', policy: 'youngest', cycle: detected!.cycle },
    ]);

    const error = await victimError;
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.details).toMatchObject({ victim: 't2', cycle: detected!.cycle, deadlocked: ['t1', 't2'], policy: 'youngest' });
    expect(t2.status).toBe('deadlock');

    await clock.runAll();
    expect(await t1.result).toBe('t1');
    // The victim's lease on `b` is revoked at once, so the survivor gets it at the same instant.
    const bTrail = harness.events.filter(
      (event) => (event.type === 'resource.released' || event.type === 'resource.acquired') && event.resource === 'b',
    );
    expect(bTrail.map((event) => [event.type, (event as { taskId: string }).taskId, event.at])).toEqual([
      ['resource.acquired', 't2', 0],
      ['resource.released', 't2', 10],
      ['resource.acquired', 't1', 10],
      ['resource.released', 't1', 15],
    ]);

    expect(t1.status).toBe('completed');
    expect(engine.deadlocks()).toEqual([
      { deadlocked: ['t1', 't2'], cycle: detected!.cycle, victim: 't2', resolution: 'victim', policy: 'youngest', at: 10 },
    ]);
    expect(engine.detectDeadlocks()).toEqual([]);
    expectNoHoldsAtRest(harness);
  });

  test.each([2, 3, 10])('a ring of %i tasks, each holding one pool and wanting the next: one victim, the rest complete', async (size) => {
    const harness = startDeadlockEngine({ concurrency: size, resources: ringPools(size) });
    const { engine, clock } = harness;
    const handles = submitRing(engine, size);
    const outcomes = handles.map(outcomeOf);
    await clock.runAll();

    const ids = handles.map((handle) => handle.id);
    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]!.deadlocked).toEqual([...ids].sort());
    const cycle = detected[0]!.cycle;
    // Every task and every pool of the ring, once each, and the closing repeat.
    expect(cycle).toHaveLength(2 * size + 1);
    expect(new Set(cycle)).toEqual(new Set([...ids, ...Object.keys(ringPools(size))]));
    expect(missingCycleSteps(cycle, harness.graphsAtDetection[0]!)).toEqual([]);

    const youngest = ids[size - 1]!;
    expect(harness.ofType('deadlock.resolved').map((event) => event.victim)).toEqual([youngest]);
    expect(await Promise.all(outcomes)).toEqual(ids.map((id) => (id === youngest ? 'E_DEADLOCK' : id)));
    expect(engine.progress()).toMatchObject({ completed: size - 1, deadlocked: 1, failed: 0 });
    expectNoHoldsAtRest(harness);
  });

  /**
   * Each task awaits the next one's handle (the last awaits the first). A task whose awaited task
   * became a victim recovers; the victim's own `E_DEADLOCK` goes through.
   */
  function submitAwaitCycle(engine: EngineHarness['engine'], ids: readonly string[], optionsOf: (id: string) => TaskOptions = () => ({})) {
    const handles = new Map<string, TaskHandle<string>>();
    ids.forEach((id, index) => {
      const next = ids[(index + 1) % ids.length]!;
      const handle = engine.submit(
        async (ctx: TaskContext): Promise<string> => {
          await ctx.sleep(1 + index);
          try {
            return `${ctx.id}<-${await ctx.await(handles.get(next)!)}`;
          } catch (error) {
            if (isMezanError(error) && error.code === 'E_DEADLOCK' && error.details.victim !== ctx.id) return `${ctx.id}<-lost ${next}`;
            throw error;
          }
        },
        { id, ...optionsOf(id) },
      );
      handles.set(id, handle);
    });
    return ids.map((id) => handles.get(id)!);
  }

  test('nested awaits forming a cycle (a awaits b awaits a): the youngest is the victim, the other completes', async () => {
    const harness = startDeadlockEngine({ concurrency: 2 });
    const { engine, clock } = harness;
    const [a, b] = submitAwaitCycle(engine, ['a', 'b']);
    const victimError = rejectionOf(b!);
    await clock.runAll();

    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ at: 2, deadlocked: ['a', 'b'] });
    expect(detected[0]!.cycle).toHaveLength(3);
    expect(missingCycleSteps(detected[0]!.cycle, harness.graphsAtDetection[0]!)).toEqual([]);
    const error = await victimError;
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.details).toMatchObject({ victim: 'b', deadlocked: ['a', 'b'], cycle: detected[0]!.cycle });
    expect(b!.status).toBe('deadlock');
    expect(await a!.result).toBe('a<-lost b');
    expect(a!.status).toBe('completed');
    expectNoHoldsAtRest(harness);
  });

  test('nested awaits forming a 3-cycle: one victim; the task awaiting it recovers, the one awaiting that gets its value', async () => {
    const harness = startDeadlockEngine({ concurrency: 3 });
    const { engine, clock } = harness;
    const [a, b, c] = submitAwaitCycle(engine, ['a', 'b', 'c']);
    const victimError = rejectionOf(c!);
    await clock.runAll();

    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ at: 3, deadlocked: ['a', 'b', 'c'] });
    expect(detected[0]!.cycle).toHaveLength(4);
    expect(missingCycleSteps(detected[0]!.cycle, harness.graphsAtDetection[0]!)).toEqual([]);
    expect((await victimError).details).toMatchObject({ victim: 'c', deadlocked: ['a', 'b', 'c'] });
    expect(await b!.result).toBe('b<-lost c');
    expect(await a!.result).toBe('a<-b<-lost c');
    expect(engine.progress()).toMatchObject({ completed: 2, deadlocked: 1 });
    expectNoHoldsAtRest(harness);
  });

  test('a cycle mixing a resource wait and an await is a deadlock too', async () => {
    const harness = startDeadlockEngine({ concurrency: 2, resources: { db: 1 } });
    const { engine, clock } = harness;
    const handles: { t2?: TaskHandle<string> } = {};
    // t1 holds db and awaits t2; t2 wants db.
    const t1 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.acquire('db');
        await ctx.sleep(5);
        try {
          return await ctx.await(handles.t2!);
        } catch (error) {
          if (isMezanError(error) && error.details.victim !== ctx.id) return 'lost t2';
          throw error;
        }
      },
      { id: 't1' },
    );
    handles.t2 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.sleep(10);
        await ctx.acquire('db');
        return 't2';
      },
      { id: 't2' },
    );
    const victimError = rejectionOf(handles.t2);
    await clock.runAll();

    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ at: 10, deadlocked: ['t1', 't2'] });
    expect(missingCycleSteps(detected[0]!.cycle, harness.graphsAtDetection[0]!)).toEqual([]);
    expect(detected[0]!.cycle).toContain('db');
    expect((await victimError).code).toBe('E_DEADLOCK');
    expect(await t1.result).toBe('lost t2');
    expectNoHoldsAtRest(harness);
  });

  /** Two parents, each submitting a child and awaiting it: at concurrency 2, the children never get a slot. */
  function submitStarvingParents(engine: EngineHarness['engine']) {
    return ['p1', 'p2'].map((id) =>
      engine.submit(
        async (ctx: TaskContext) => {
          const child = ctx.submit(
            async (childCtx: TaskContext) => {
              await childCtx.sleep(5);
              return `${childCtx.id} on ${childCtx.name}`;
            },
            { id: `${id}-child` },
          );
          return `${ctx.id}<-${await ctx.await(child)}`;
        },
        { id },
      ),
    );
  }

  test('worker-slot starvation is resolved by compensation: an extra slot on main, retired once free', async () => {
    const harness = startDeadlockEngine({ concurrency: 2 });
    const { engine, clock } = harness;
    const whenResolved: Array<{ workers: ReturnType<typeof workerSlots>; capacity: number | undefined; actors: string[] }> = [];
    engine.events$.subscribe((event) => {
      if (event.type !== 'deadlock.resolved') return;
      const actors = engine
        .actors()
        .filter((actor) => actor.machine === 'worker')
        .map((actor) => actor.id);
      whenResolved.push({ workers: workerSlots(engine), capacity: workerSlotCapacity(engine), actors });
    });
    const [p1, p2] = submitStarvingParents(engine);
    await clock.advanceBy(0);

    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]!.deadlocked).toEqual(['p1', 'p1-child', 'p2', 'p2-child']);
    expect(detected[0]!.cycle).toContain('@workers');
    expect(missingCycleSteps(detected[0]!.cycle, harness.graphsAtDetection[0]!)).toEqual([]);
    expect(harness.ofType('deadlock.resolved')).toEqual([
      { type: 'deadlock.resolved', at: 0, resolution: 'compensation', victim: undefined, policy: 'youngest', cycle: detected[0]!.cycle },
    ]);
    // The extra slot is in service by the time the resolution is announced, already taken by a
    // child: a third slot on `main` (no other worker), and a third unit of `@workers` in the graph.
    expect(whenResolved).toEqual([{ workers: [['main', 3, 3, 'busy']], capacity: 3, actors: ['main'] }]);

    await clock.runAll();
    expect(await p1!.result).toMatch(/^p1<-p1-child/);
    expect(await p2!.result).toMatch(/^p2<-p2-child/);
    expect(engine.progress()).toMatchObject({ completed: 4, deadlocked: 0, failed: 0 });
    expect(harness.ofType('task.started').map((event) => event.workerId)).toEqual(['main', 'main', 'main', 'main']);
    // A child ran in the extra slot, beside both parents; never more than that.
    expect(mostRunningAtOnce(harness.events)).toBe(3);
    // The extra slot is retired: `main` is back to the concurrency, its work all counted.
    expect(workerSlots(engine)).toEqual([['main', 2, 0, 'idle']]);
    expect(workerSlotCapacity(engine)).toBe(2);
    expect(engine.stats().workers[0]!.tasksCompleted).toBe(4);
    expect(engine.deadlocks()).toEqual([expect.objectContaining({ resolution: 'compensation', deadlocked: detected[0]!.deadlocked })]);
    expect(engine.deadlocks()[0]!.victim).toBeUndefined();
    expectNoHoldsAtRest(harness);
  });

  test('worker-slot starvation without compensation: a victim among the parents, E_DEADLOCK with the cycle; the others complete', async () => {
    const harness = startDeadlockEngine({ concurrency: 2, deadlock: { compensate: false } });
    const { engine, clock } = harness;
    const [p1, p2] = submitStarvingParents(engine);
    const victimError = rejectionOf(p2!);
    await clock.runAll();

    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]!.deadlocked).toEqual(['p1', 'p1-child', 'p2', 'p2-child']);
    expect(harness.ofType('deadlock.resolved').map((event) => [event.resolution, event.victim])).toEqual([['victim', 'p2']]);
    const error = await victimError;
    expect(error.code).toBe('E_DEADLOCK');
    expect(error.details).toMatchObject({ victim: 'p2', cycle: detected[0]!.cycle, deadlocked: detected[0]!.deadlocked });
    expect(detected[0]!.cycle).toContain('@workers');
    expect(p2!.status).toBe('deadlock');
    expect(await p1!.result).toMatch(/^p1<-p1-child/);
    // The orphaned child still runs: it was never part of the victim's attempt.
    expect(engine.progress()).toMatchObject({ completed: 3, deadlocked: 1, failed: 0 });
    // No extra slot was ever added.
    expect(mostRunningAtOnce(harness.events)).toBe(2);
    expect(workerSlots(engine)).toEqual([['main', 2, 0, 'idle']]);
    expect(workerSlotCapacity(engine)).toBe(2);
    expectNoHoldsAtRest(harness);
  });

  test('past the compensation bound, starvation is resolved by a victim', async () => {
    // Concurrency 1 and room for one extra slot: the parent's wait is compensated, the child's is not.
    const harness = startDeadlockEngine({ concurrency: 1, deadlock: { compensate: { maxExtraWorkers: 1 } } });
    const { engine, clock } = harness;
    const parent = engine.submit(
      async (ctx: TaskContext) => {
        const child = ctx.submit(
          async (childCtx: TaskContext) => {
            const grandchild = childCtx.submit(async () => 'grandchild', { id: 'grandchild' });
            return `child<-${await childCtx.await(grandchild)}`;
          },
          { id: 'child' },
        );
        try {
          return `parent<-${await ctx.await(child)}`;
        } catch (error) {
          if (isMezanError(error) && error.details.victim === 'child') return 'parent<-lost child';
          throw error;
        }
      },
      { id: 'parent' },
    );
    await clock.runAll();

    expect(harness.ofType('deadlock.resolved').map((event) => [event.resolution, event.victim])).toEqual([
      ['compensation', undefined],
      ['victim', 'child'],
    ]);
    expect(await parent.result).toBe('parent<-lost child');
    expect(engine.progress()).toMatchObject({ completed: 2, deadlocked: 1 });
    // The child ran in the one extra slot; the grandchild only once the child, the victim, gave its slot back.
    expect(mostRunningAtOnce(harness.events)).toBe(2);
    expect(
      harness.events
        .filter((event) => event.type === 'task.started' || event.type === 'task.deadlock')
        .map((event) => `${event.type} ${(event as { taskId: string }).taskId}`),
    ).toEqual(['task.started parent', 'task.started child', 'task.deadlock child', 'task.started grandchild']);
    expect(workerSlots(engine)).toEqual([['main', 1, 0, 'idle']]);
    expect(workerSlotCapacity(engine)).toBe(1);
    expectNoHoldsAtRest(harness);
  });

  test('a crash of main under a compensation slot fails every task on it; the restarted main has no extra slot left', async () => {
    const harness = startDeadlockEngine({ concurrency: 1 });
    const { engine, clock } = harness;
    const parent = engine.submit(
      async (ctx: TaskContext) => {
        const child = ctx.submit((childCtx: TaskContext) => childCtx.sleep(10), { id: 'child' });
        await ctx.await(child);
        return 'parent';
      },
      { id: 'parent' },
    );
    const parentError = rejectionOf(parent);
    await clock.advanceBy(1);
    expect(harness.ofType('deadlock.resolved').map((event) => event.resolution)).toEqual(['compensation']);
    expect(workerSlots(engine)).toEqual([['main', 2, 2, 'busy']]);
    expect(harness.ofType('task.started').map((event) => event.taskId)).toEqual(['parent', 'child']);

    engine.inject({ type: 'worker.crash', workerId: 'main' });
    await clock.advanceBy(0);
    // Both functions ran on main: both attempts fail, and main is restarted under the same id.
    expect((await parentError).code).toBe('E_WORKER_CRASHED');
    expect(harness.ofType('task.failed').map((event) => [event.taskId, event.code, event.workerId])).toEqual([
      ['parent', 'E_WORKER_CRASHED', 'main'],
      ['child', 'E_WORKER_CRASHED', 'main'],
    ]);
    expect(
      harness.events.filter((event) => event.type === 'worker.crashed' || event.type === 'worker.restarted').map((event) => [event.type, event.at]),
    ).toEqual([
      ['worker.crashed', 1],
      ['worker.restarted', 1],
    ]);
    // Nothing needs the compensation slot any more: it is free with nothing ready, so it is retired.
    expect(workerSlots(engine)).toEqual([['main', 1, 0, 'idle']]);
    expect(workerSlotCapacity(engine)).toBe(1);

    // Independent tasks submitted now run one at a time, as concurrency 1 says.
    const startedAfterCrash = harness.events.length;
    const later = [1, 2, 3].map((index) => engine.submit((ctx: TaskContext) => ctx.sleep(5), { id: `later-${index}` }));
    await clock.runAll();
    expect(later.map((handle) => handle.status)).toEqual(['completed', 'completed', 'completed']);
    expect(mostRunningAtOnce(harness.events.slice(startedAfterCrash))).toBe(1);
    expect(workerSlots(engine)).toEqual([['main', 1, 0, 'idle']]);
    expectNoHoldsAtRest(harness);
  });
});

describe('deadlocks around the cycle', () => {
  test('a task merely waiting behind a deadlock is not the victim: killing it would resolve nothing', async () => {
    // t1 and t2 form the cycle; t3, the youngest, only queues for `a` behind it. It is deadlocked
    // too (it can never get `a`), but failing it leaves t1 and t2 stuck.
    const harness = startDeadlockEngine({ concurrency: 3, resources: { a: 1, b: 1 } });
    const { engine, clock } = harness;
    const t1 = engine.submit(takeTwo('a', 'b'), { id: 't1' });
    const t2 = engine.submit(takeTwo('b', 'a'), { id: 't2' });
    const t3 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.sleep(5);
        await ctx.acquire('a');
        return 't3';
      },
      { id: 't3' },
    );
    const outcomes = [t1, t2, t3].map(outcomeOf);
    await clock.runAll();

    const detected = harness.ofType('deadlock.detected');
    expect(detected[0]).toMatchObject({ at: 10, deadlocked: ['t1', 't2', 't3'] });
    const victims = harness.ofType('deadlock.resolved').map((event) => event.victim);
    expect(['t1', 't2']).toContain(victims[0]);
    expect([t1, t2, t3].every((handle) => handle.isSettled)).toBe(true);
    expect((await Promise.all(outcomes)).filter((outcome) => outcome === 'E_DEADLOCK')).toHaveLength(1);
    expect(await outcomeOf(t3)).toBe('t3');
    expectNoHoldsAtRest(harness);
  });

  test("a request queued behind a larger one in a pool's FIFO queue can deadlock with it, and that is found", async () => {
    // db has 2 units, granted in strict FIFO order. At 10 the hog leaves: t1 (first in the queue)
    // gets 1 unit, t2 still wants 2. At 30 t1 asks for a second unit: it fits the free unit, but
    // t2 is ahead of it in the queue, and t2 needs the unit t1 holds.
    const harness = startDeadlockEngine({ concurrency: 3, resources: { db: 2 } });
    const { engine, clock } = harness;
    const hog = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.acquire('db', { units: 2 });
        await ctx.sleep(10);
        return 'hog';
      },
      { id: 'hog' },
    );
    const t1 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.sleep(1);
        await ctx.acquire('db');
        await ctx.sleep(20);
        await ctx.acquire('db');
        return 't1';
      },
      { id: 't1' },
    );
    const t2 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.sleep(2);
        await ctx.acquire('db', { units: 2 });
        return 't2';
      },
      { id: 't2' },
    );
    const outcomes = [hog, t1, t2].map(outcomeOf);
    await clock.runAll();

    expect(harness.ofType('resource.waiting').map((event) => [event.taskId, event.at])).toEqual([
      ['t1', 1],
      ['t2', 2],
      ['t1', 30],
    ]);
    expect(harness.ofType('deadlock.detected').map((event) => [event.at, event.deadlocked])).toEqual([[30, ['t1', 't2']]]);
    expect([hog, t1, t2].every((handle) => handle.isSettled)).toBe(true);
    expect(await Promise.all(outcomes)).toEqual(['hog', 't1', 'E_DEADLOCK']);
    expectNoHoldsAtRest(harness);
  });
});

describe('cycles that are not deadlocks', () => {
  /**
   * t1 holds a unit of db and wants lock; t2 holds lock and wants db units; t3 holds the other db
   * unit(s). The cycle t1 → lock → t2 → db → t1 is there either way; whether it is a deadlock
   * depends on t3 alone.
   */
  function submitPoolCycle(engine: EngineHarness['engine'], t3Blocked: boolean, db: { t2Wants: number; t3Holds: number }) {
    const t1 = engine.submit(takeTwo('db', 'lock'), { id: 't1' });
    const t2 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.acquire('lock');
        await ctx.sleep(5);
        await ctx.acquire('db', { units: db.t2Wants });
        return 't2';
      },
      { id: 't2' },
    );
    const t3 = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.acquire('db', { units: db.t3Holds });
        await ctx.sleep(t3Blocked ? 2 : 30);
        if (t3Blocked) await ctx.acquire('lock');
        return 't3';
      },
      { id: 't3' },
    );
    return [t1, t2, t3];
  }

  test.each([
    { capacity: 2, t2Wants: 1, t3Holds: 1 },
    { capacity: 3, t2Wants: 2, t3Holds: 1 },
  ])(
    'a pool of capacity $capacity with a holder not blocked: no detection, no victim, everything completes',
    async ({ capacity, t2Wants, t3Holds }) => {
      const harness = startDeadlockEngine({ concurrency: 3, resources: { db: capacity, lock: 1 } });
      const { engine, clock } = harness;
      const handles = submitPoolCycle(engine, false, { t2Wants, t3Holds });
      await clock.advanceBy(10);

      // The cycle is in the graph, and yet nothing is deadlocked.
      const graph = engine.waitForGraph();
      expect(missingCycleSteps(['t1', 'lock', 't2', 'db', 't1'], graph)).toEqual([]);
      expect(bruteForceDeadlocked(specOfSnapshot(graph))).toEqual([]);
      expect(engine.detectDeadlocks()).toEqual([]);

      await clock.runAll();
      expect(await Promise.all(handles.map((handle) => handle.result))).toEqual(['t1', 't2', 't3']);
      expect(deadlockEvents(harness.events)).toEqual([]);
      expect(engine.deadlocks()).toEqual([]);
      expectNoHoldsAtRest(harness);
    },
  );

  test.each([
    { capacity: 2, t2Wants: 1, t3Holds: 1 },
    { capacity: 3, t2Wants: 2, t3Holds: 1 },
  ])('the same cycle with that holder blocked too (capacity $capacity) is a deadlock of all three', async ({ capacity, t2Wants, t3Holds }) => {
    const harness = startDeadlockEngine({ concurrency: 3, resources: { db: capacity, lock: 1 } });
    const { engine, clock } = harness;
    const handles = submitPoolCycle(engine, true, { t2Wants, t3Holds });
    const outcomes = handles.map(outcomeOf);
    await clock.runAll();

    const detected = harness.ofType('deadlock.detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ at: 10, deadlocked: ['t1', 't2', 't3'] });
    expect(bruteForceDeadlocked(specOfSnapshot(harness.graphsAtDetection[0]!))).toEqual(['t1', 't2', 't3']);
    expect(missingCycleSteps(detected[0]!.cycle, harness.graphsAtDetection[0]!)).toEqual([]);
    expect(await Promise.all(outcomes)).toEqual(['t1', 't2', 'E_DEADLOCK']);
    expectNoHoldsAtRest(harness);
  });
});

describe('victim policies', () => {
  /** A ring of three over pools r1..r3 whose victim the policy picks; the rest complete. */
  async function victimOfRing(
    deadlock: NonNullable<EngineOptions['deadlock']>,
    setup: { capacities?: [number, number, number]; optionsOf?: (index: number) => TaskOptions; gateFirstMs?: number } = {},
  ) {
    const capacities = setup.capacities ?? [1, 1, 1];
    const harness = startDeadlockEngine({ concurrency: 4, resources: ringPools(3, (index) => capacities[index - 1]!), deadlock });
    const { engine, clock } = harness;
    const handles: Array<TaskHandle<string>> = [];
    const gate = setup.gateFirstMs === undefined ? undefined : engine.submit((ctx) => ctx.sleep(setup.gateFirstMs!), { id: 'gate' });
    for (let index = 1; index <= 3; index++) {
      const next = (index % 3) + 1;
      const options: TaskOptions = { id: pad(index), ...setup.optionsOf?.(index) };
      if (index === 1 && gate !== undefined) options.dependsOn = [gate];
      // Each task takes all of its own pool, so the ring is full whatever the capacities.
      handles.push(engine.submit(takeTwo(`r${index}`, `r${next}`, { first: capacities[index - 1] }), options));
    }
    const outcomes = handles.map(outcomeOf);
    await clock.runAll();
    const resolved = harness.ofType('deadlock.resolved');
    expect(resolved).toHaveLength(1);
    const victim = resolved[0]!.victim!;
    expect(await Promise.all(outcomes)).toEqual(handles.map((handle) => (handle.id === victim ? 'E_DEADLOCK' : handle.id)));
    expectNoHoldsAtRest(harness);
    return { victim, report: engine.deadlocks()[0]! };
  }

  test('youngest: the last submitted', async () => {
    const { victim, report } = await victimOfRing({ policy: 'youngest' });
    expect(victim).toBe('t03');
    expect(report.policy).toBe('youngest');
  });

  test('lowest-priority: the middle task, neither youngest nor oldest', async () => {
    const priorities = [5, -1, 3];
    const { victim, report } = await victimOfRing({ policy: 'lowest-priority' }, { optionsOf: (index) => ({ priority: priorities[index - 1]! }) });
    expect(victim).toBe('t02');
    expect(report.policy).toBe('lowest-priority');
  });

  test('least-work: the oldest task, dispatched last', async () => {
    // t01 waits for a gate, so it starts 5 ms after the others and has run the least at detection.
    const { victim, report } = await victimOfRing({ policy: 'least-work' }, { gateFirstMs: 5 });
    expect(victim).toBe('t01');
    expect(report.policy).toBe('least-work');
  });

  test('fewest-resources: the task holding the fewest units', async () => {
    const { victim, report } = await victimOfRing({ policy: 'fewest-resources' }, { capacities: [2, 1, 2] });
    expect(victim).toBe('t02');
    expect(report.policy).toBe('fewest-resources');
  });

  test('a function: given the deadlocked candidates sorted by id, its choice is the victim', async () => {
    const calls: Candidate[][] = [];
    const { victim, report } = await victimOfRing({
      policy: (candidates) => {
        calls.push([...candidates]);
        return candidates[1]!.taskId;
      },
    });
    expect(victim).toBe('t02');
    expect(report.policy).toBe('custom');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((candidate) => candidate.taskId)).toEqual(['t01', 't02', 't03']);
    expect(calls[0]!.map((candidate) => [candidate.priority, candidate.workMs, candidate.resourcesHeld])).toEqual([
      [0, 10, 1],
      [0, 10, 1],
      [0, 10, 1],
    ]);
    const seqs = calls[0]!.map((candidate) => candidate.submittedSeq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
  });
});

describe("the victim's retry policy", () => {
  test('with retries: 1 the victim runs again and completes; nothing ends in deadlock', async () => {
    const harness = startDeadlockEngine({ concurrency: 2, resources: { a: 1, b: 1 } });
    const { engine, clock } = harness;
    const t1 = engine.submit(takeTwo('a', 'b'), { id: 't1' });
    const t2 = engine.submit(takeTwo('b', 'a'), { id: 't2', retries: 1 });
    await clock.runAll();

    expect(await t1.result).toBe('t1');
    expect(await t2.result).toBe('t2');
    expect(harness.ofType('task.retrying').map((event) => [event.taskId, event.attempt])).toEqual([['t2', 1]]);
    expect(harness.ofType('task.completed').map((event) => [event.taskId, event.attempt])).toEqual([
      ['t1', 1],
      ['t2', 2],
    ]);
    expect(engine.deadlocks().map((report) => report.victim)).toEqual(['t2']);
    expect(engine.progress()).toMatchObject({ completed: 2, deadlocked: 0 });
    expectNoHoldsAtRest(harness);
  });

  test('an await cycle whose victim retries without awaiting: every task completes with a value', async () => {
    const harness = startDeadlockEngine({ concurrency: 2 });
    const { engine, clock } = harness;
    const handles: { a?: TaskHandle<string>; b?: TaskHandle<string> } = {};
    handles.a = engine.submit(async (ctx: TaskContext) => `a<-${await ctx.await(handles.b!)}`, { id: 'a' });
    handles.b = engine.submit(
      async (ctx: TaskContext) => {
        await ctx.sleep(1);
        if (ctx.attempt === 1) await ctx.await(handles.a!);
        return `b#${ctx.attempt}`;
      },
      { id: 'b', retries: 1 },
    );
    await clock.runAll();
    expect(await handles.a.result).toBe('a<-b#2');
    expect(await handles.b.result).toBe('b#2');
    expect(engine.deadlocks().map((report) => report.victim)).toEqual(['b']);
    expectNoHoldsAtRest(harness);
  });

  test("without retries the victim ends 'deadlock', and progress() and the shutdown report count it", async () => {
    const harness = startDeadlockEngine({ concurrency: 2, resources: { a: 1, b: 1 } });
    const { engine, clock } = harness;
    const t1 = engine.submit(takeTwo('a', 'b'), { id: 't1' });
    const t2 = engine.submit(takeTwo('b', 'a'), { id: 't2' });
    const outcomes = [outcomeOf(t1), outcomeOf(t2)];
    await clock.runAll();

    expect(await Promise.all(outcomes)).toEqual(['t1', 'E_DEADLOCK']);
    expect(t2.status).toBe('deadlock');
    expect(harness.ofType('task.deadlock').map((event) => [event.taskId, event.code])).toEqual([['t2', 'E_DEADLOCK']]);
    expect(engine.progress()).toMatchObject({ completed: 1, deadlocked: 1, failed: 0 });
    const shutdown = engine.shutdown();
    await clock.runAll();
    expect(await shutdown).toMatchObject({ submitted: 2, completed: 1, deadlocked: 1, failed: 0, lost: 0 });
  });
});

describe('when detection runs', () => {
  test("detect: 'off' resolves nothing, yet detectDeadlocks() reports the deadlock and waitForGraph() shows its edges", async () => {
    const harness = startDeadlockEngine({ concurrency: 2, resources: { a: 1, b: 1 }, deadlock: { detect: 'off' } });
    const { engine, clock } = harness;
    const t1 = engine.submit(takeTwo('a', 'b'), { id: 't1' });
    const t2 = engine.submit(takeTwo('b', 'a'), { id: 't2' });
    const outcomes = [outcomeOf(t1), outcomeOf(t2)];
    await clock.advanceBy(1_000);

    expect([t1.status, t2.status]).toEqual(['running', 'running']);
    expect(deadlockEvents(harness.events)).toEqual([]);
    expect(engine.deadlocks()).toEqual([]);

    const graph = engine.waitForGraph();
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'a', to: 't1', kind: 'holds', units: 1 },
        { from: 'b', to: 't2', kind: 'holds', units: 1 },
        { from: 't1', to: 'b', kind: 'requests', units: 1 },
        { from: 't2', to: 'a', kind: 'requests', units: 1 },
        { from: '@workers', to: 't1', kind: 'holds', units: 1 },
        { from: '@workers', to: 't2', kind: 'holds', units: 1 },
      ]),
    );
    const reports = engine.detectDeadlocks();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ deadlocked: ['t1', 't2'], policy: 'youngest', at: 1_000 });
    expect(reports[0]!.victim).toBeUndefined();
    expect(reports[0]!.resolution).toBeUndefined();
    expect(missingCycleSteps(reports[0]!.cycle, graph)).toEqual([]);
    // Reporting changes nothing.
    await clock.advanceBy(1_000);
    expect([t1.status, t2.status]).toEqual(['running', 'running']);
    expect(engine.detectDeadlocks()).toHaveLength(1);
    expect(engine.deadlocks()).toEqual([]);

    t2.cancel();
    await clock.runAll();
    expect(await Promise.all(outcomes)).toEqual(['t1', 'E_CANCELLED']);
    expectNoHoldsAtRest(harness);
  });

  test('detect: { afterMs: 50 } resolves at block time + 50, not before', async () => {
    const harness = startDeadlockEngine({ concurrency: 2, resources: { a: 1, b: 1 }, deadlock: { detect: { afterMs: 50 } } });
    const { engine, clock } = harness;
    const t1 = engine.submit(takeTwo('a', 'b'), { id: 't1' });
    const t2 = engine.submit(takeTwo('b', 'a'), { id: 't2' });
    const outcomes = [outcomeOf(t1), outcomeOf(t2)];
    await clock.advanceTo(59);

    // Both blocked at 10: deadlocked, but not yet looked at.
    expect(harness.ofType('resource.waiting').map((event) => event.at)).toEqual([10, 10]);
    expect(deadlockEvents(harness.events)).toEqual([]);
    expect([t1.status, t2.status]).toEqual(['running', 'running']);
    expect(engine.detectDeadlocks()).toHaveLength(1);

    await clock.advanceTo(60);
    expect(deadlockEvents(harness.events).map((event) => [event.type, event.at])).toEqual([
      ['deadlock.detected', 60],
      ['deadlock.resolved', 60],
    ]);
    await clock.runAll();
    expect(await Promise.all(outcomes)).toEqual(['t1', 'E_DEADLOCK']);
    expect(engine.deadlocks()).toEqual([expect.objectContaining({ at: 60, victim: 't2', resolution: 'victim' })]);
    expect(clock.now()).toBe(65);
    expectNoHoldsAtRest(harness);
  });

  test('detect: { afterMs: 50 } resolves two deadlocks that formed in the same window, both of them', async () => {
    const harness = startDeadlockEngine({ concurrency: 4, resources: { a: 1, b: 1, c: 1, d: 1 }, deadlock: { detect: { afterMs: 50 } } });
    const { engine, clock } = harness;
    const handles = [
      engine.submit(takeTwo('a', 'b'), { id: 't1' }),
      engine.submit(takeTwo('b', 'a'), { id: 't2' }),
      engine.submit(takeTwo('c', 'd'), { id: 't3' }),
      engine.submit(takeTwo('d', 'c'), { id: 't4' }),
    ];
    const outcomes = handles.map(outcomeOf);
    await clock.advanceTo(1_000);

    expect(engine.detectDeadlocks()).toEqual([]);
    expect(handles.every((handle) => handle.isSettled)).toBe(true);
    expect(
      harness
        .ofType('deadlock.resolved')
        .map((event) => event.victim)
        .sort(),
    ).toEqual(['t2', 't4']);
    await clock.runAll();
    expect(await Promise.all(outcomes)).toEqual(['t1', 'E_DEADLOCK', 't3', 'E_DEADLOCK']);
    expectNoHoldsAtRest(harness);
  });
});

describe('inspection', () => {
  test('the graph at detection holds exactly what the detector reported, as the brute-force search confirms', async () => {
    const harness = startDeadlockEngine({ concurrency: 3, resources: ringPools(3) });
    const { engine, clock } = harness;
    const handles = submitRing(engine, 3);
    const outcomes = handles.map(outcomeOf);
    await clock.runAll();
    await Promise.all(outcomes);

    expect(harness.graphsAtDetection).toHaveLength(1);
    const graph = harness.graphsAtDetection[0]!;
    expect(bruteForceDeadlocked(specOfSnapshot(graph))).toEqual(['t01', 't02', 't03']);
    expect(heldUnits(graph)).toEqual(
      expect.arrayContaining([
        { resource: 'r1', task: 't01', units: 1 },
        { resource: 'r2', task: 't02', units: 1 },
        { resource: 'r3', task: 't03', units: 1 },
      ]),
    );
    expect(engine.deadlocks()).toHaveLength(1);
    expect(engine.deadlocks()[0]).toEqual({
      deadlocked: ['t01', 't02', 't03'],
      cycle: harness.ofType('deadlock.detected')[0]!.cycle,
      victim: 't03',
      resolution: 'victim',
      policy: 'youngest',
      at: 10,
    });
  });
});
