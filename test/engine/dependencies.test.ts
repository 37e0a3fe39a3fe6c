import { createEngine, VirtualClock, type TaskGraphNode } from '../../src';
import { rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';

const fail = (message: string) => () => {
  throw new Error(message);
};

describe('dependsOn', () => {
  it('waits for a dependency given by handle, then runs when it completes', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const first = engine.submit((ctx) => ctx.sleep(25));
    const fn = jest.fn(() => 'second');
    const second = engine.submit(fn, { dependsOn: [first] });
    expect(second.status).toBe('waiting');
    await clock.advanceBy(24);
    expect(second.status).toBe('waiting');
    expect(fn).not.toHaveBeenCalled();
    await clock.runAll();
    await expect(second.result).resolves.toBe('second');
    expect(ofType('task.started').find((event) => event.taskId === second.id)?.at).toBe(25);
  });

  it('waits for a dependency given by id', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    engine.submit((ctx) => ctx.sleep(10), { id: 'fetch' });
    const parse = engine.submit(() => 'parsed', { dependsOn: ['fetch'] });
    expect(parse.status).toBe('waiting');
    await clock.runAll();
    await expect(parse.result).resolves.toBe('parsed');
    expect(ofType('task.started').map((event) => [event.taskId, event.at])).toEqual([
      ['fetch', 0],
      [parse.id, 10],
    ]);
  });

  it('waits for every dependency', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 4 });
    const slow = engine.submit((ctx) => ctx.sleep(30));
    const fast = engine.submit((ctx) => ctx.sleep(10));
    const both = engine.submit(() => 'both', { dependsOn: [fast, slow.id] });
    await clock.advanceBy(10);
    expect(both.status).toBe('waiting');
    await clock.runAll();
    await expect(both.result).resolves.toBe('both');
    expect(ofType('task.started').find((event) => event.taskId === both.id)?.at).toBe(30);
  });

  it('fails dependents of a failed task with E_DEPENDENCY_FAILED, in cascade, without calling them', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const root = engine.submit(fail('root broke'), { id: 'root' });
    const child = jest.fn();
    const grandchild = jest.fn();
    const a = engine.submit(child, { id: 'child', dependsOn: [root] });
    const b = engine.submit(grandchild, { id: 'grandchild', dependsOn: [a] });
    await clock.runAll();
    expect(child).not.toHaveBeenCalled();
    expect(grandchild).not.toHaveBeenCalled();
    expect((await rejectionOf(root)).code).toBe('E_TASK_FAILED');
    const childError = await rejectionOf(a);
    const grandchildError = await rejectionOf(b);
    expect(childError.code).toBe('E_DEPENDENCY_FAILED');
    expect(childError.details).toMatchObject({ taskId: 'child', dependency: 'root', dependencyStatus: 'failed' });
    expect(grandchildError.code).toBe('E_DEPENDENCY_FAILED');
    expect(grandchildError.details).toMatchObject({ taskId: 'grandchild', dependency: 'child', dependencyStatus: 'failed' });
    expect([a.status, b.status]).toEqual(['failed', 'failed']);
    expect(ofType('task.failed').map((event) => [event.taskId, event.code, event.workerId])).toEqual([
      ['root', 'E_TASK_FAILED', 'main'],
      ['child', 'E_DEPENDENCY_FAILED', undefined],
      ['grandchild', 'E_DEPENDENCY_FAILED', undefined],
    ]);
    expect(engine.progress()).toMatchObject({ failed: 3, completed: 0 });
  });

  it('fails dependents of a cancelled or timed-out task with E_DEPENDENCY_FAILED naming that status', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const timesOut = engine.submit((ctx) => ctx.sleep(100), { timeoutMs: 10 });
    const cancelled = engine.submit((ctx) => ctx.sleep(100));
    const afterTimeout = engine.submit(() => 'never', { dependsOn: [timesOut] });
    const afterCancel = engine.submit(() => 'never', { dependsOn: [cancelled] });
    await clock.advanceBy(5);
    cancelled.cancel();
    await clock.runAll();
    expect((await rejectionOf(afterTimeout)).details).toMatchObject({ dependency: timesOut.id, dependencyStatus: 'timeout' });
    expect((await rejectionOf(afterCancel)).details).toMatchObject({ dependency: cancelled.id, dependencyStatus: 'cancelled' });
    expect((await rejectionOf(afterCancel)).code).toBe('E_DEPENDENCY_FAILED');
  });

  it('fails a task with several dependencies once, at the first that fails, and lets the others run', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 3 });
    const okFn = jest.fn(async (ctx: { sleep(ms: number): Promise<void> }) => ctx.sleep(50));
    const ok = engine.submit(okFn);
    const bad = engine.submit(async (ctx) => {
      await ctx.sleep(10);
      throw new Error('bad');
    });
    const bad2 = engine.submit(async (ctx) => {
      await ctx.sleep(20);
      throw new Error('bad too');
    });
    const joined = engine.submit(() => 'never', { dependsOn: [ok, bad, bad2] });
    await clock.advanceBy(10);
    expect(joined.status).toBe('failed');
    await clock.runAll();
    expect(ok.status).toBe('completed');
    expect((await rejectionOf(joined)).details['dependency']).toBe(bad.id);
    expect(ofType('task.failed').filter((event) => event.taskId === joined.id)).toHaveLength(1);
  });

  it('keeps dependents waiting through the retries of a dependency, and runs them when it finally completes', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const flaky = engine.submit(
      (ctx) => {
        if (ctx.attempt < 3) throw new Error('not yet');
        return 'finally';
      },
      { retries: { max: 2, delayMs: 10 } },
    );
    const dependent = engine.submit(() => 'after', { dependsOn: [flaky] });
    await clock.advanceBy(15);
    expect(dependent.status).toBe('waiting');
    await clock.runAll();
    await expect(dependent.result).resolves.toBe('after');
    expect(ofType('task.started').find((event) => event.taskId === dependent.id)?.at).toBe(20);
  });

  it('runs a task whose dependency handle has already completed', async () => {
    const { engine, clock } = startEngine();
    const done = engine.submit(() => 'done');
    await clock.runAll();
    expect(done.status).toBe('completed');
    const later = engine.submit(() => 'later', { dependsOn: [done] });
    await clock.runAll();
    await expect(later.result).resolves.toBe('later');
  });

  it('fails at once a task whose dependency handle has already failed', async () => {
    const { engine, clock } = startEngine();
    const failed = engine.submit(fail('early'));
    await clock.runAll();
    expect(failed.status).toBe('failed');
    const fn = jest.fn();
    const later = engine.submit(fn, { dependsOn: [failed] });
    await clock.advanceBy(0);
    expect(later.status).toBe('failed');
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    const error = await rejectionOf(later);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details).toMatchObject({ dependency: failed.id, dependencyStatus: 'failed' });
    expect((await rejectionOf(failed)).code).toBe('E_TASK_FAILED');
  });

  it('refuses with E_INVALID_OPTION the id of a task that has already finished (ids are kept only while unfinished)', async () => {
    const { engine, clock } = startEngine();
    engine.submit(() => 'done', { id: 'finished' });
    await clock.runAll();
    const error = thrownBy(() => engine.submit(() => 'x', { dependsOn: ['finished'] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('dependsOn[0]');
  });

  it('refuses with E_INVALID_OPTION an unknown id, and submits nothing', async () => {
    const { engine, clock } = startEngine();
    const fn = jest.fn();
    const error = thrownBy(() => engine.submit(fn, { dependsOn: ['no-such-task'] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toMatchObject({ option: 'dependsOn[0]', received: 'no-such-task' });
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect(engine.progress().total).toBe(0);
  });

  it('refuses with E_INVALID_OPTION an unfinished handle of another engine', async () => {
    const { engine } = startEngine();
    const other = createEngine({ concurrency: 1, clock: new VirtualClock() });
    const foreign = other.submit((ctx) => ctx.sleep(10));
    const error = thrownBy(() => engine.submit(() => 'x', { dependsOn: [foreign] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('dependsOn[0]');
  });
});

describe('submitGraph', () => {
  it('returns a handle per key, runs each task after its dependencies, and resolves every result', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 4 });
    const graph = engine.submitGraph({
      // Declared out of order on purpose: dependencies may name keys that come later.
      report: { run: () => 'report', dependsOn: ['left', 'right'] },
      left: { run: async (ctx) => (await ctx.sleep(10), 'left'), dependsOn: ['source'] },
      right: { run: async (ctx) => (await ctx.sleep(30), 'right'), dependsOn: ['source'] },
      source: { run: async (ctx) => (await ctx.sleep(5), 'source') },
    });
    expect(Object.keys(graph).sort()).toEqual(['left', 'report', 'right', 'source']);
    expect(graph.source.id).toBe('source');
    expect(graph.report.status).toBe('waiting');
    await clock.runAll();
    const results = await Promise.all([graph.source.result, graph.left.result, graph.right.result, graph.report.result]);
    expect(results).toEqual(['source', 'left', 'right', 'report']);
    const startedAt = Object.fromEntries(ofType('task.started').map((event) => [event.taskId, event.at]));
    expect(startedAt).toEqual({ source: 0, left: 5, right: 5, report: 35 });
  });

  it('accepts node options (id, name, priority, retries, timeoutMs) and external dependencies', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 1 });
    const external = engine.submit((ctx) => ctx.sleep(10), { id: 'external' });
    let attempts = 0;
    const graph = engine.submitGraph({
      first: { id: 'custom-id', name: 'first node', run: () => 'first', dependsOn: [external] },
      second: {
        run: () => {
          attempts++;
          if (attempts === 1) throw new Error('once');
          return 'second';
        },
        dependsOn: ['first', 'external'],
        retries: 1,
        priority: 3,
      },
      slow: { run: (ctx) => ctx.sleep(100), timeoutMs: 20 },
    });
    await clock.runAll();
    expect(graph.first.id).toBe('custom-id');
    expect(graph.first.name).toBe('first node');
    await expect(graph.first.result).resolves.toBe('first');
    await expect(graph.second.result).resolves.toBe('second');
    expect((await rejectionOf(graph.slow)).code).toBe('E_TIMEOUT');
    expect(ofType('task.started').map((event) => event.taskId)).toEqual(['external', 'slow', 'custom-id', 'second', 'second']);
  });

  it('cascades a failure through the graph', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const graph = engine.submitGraph({
      a: { run: fail('a broke') },
      b: { run: () => 'b', dependsOn: ['a'] },
      c: { run: () => 'c', dependsOn: ['a'] },
      d: { run: () => 'd', dependsOn: ['b', 'c'] },
      independent: { run: () => 'independent' },
    });
    await clock.runAll();
    expect((await rejectionOf(graph.a)).code).toBe('E_TASK_FAILED');
    for (const key of ['b', 'c', 'd'] as const) expect((await rejectionOf(graph[key])).code).toBe('E_DEPENDENCY_FAILED');
    await expect(graph.independent.result).resolves.toBe('independent');
    expect(engine.progress()).toMatchObject({ total: 5, failed: 4, completed: 1 });
  });

  describe('E_DEPENDENCY_CYCLE', () => {
    /** Checks that `cycle` is closed and that each node in it depends on the next. */
    function expectCycleIn(graph: Record<string, { dependsOn?: readonly unknown[] }>, cycle: unknown, members: string[]) {
      expect(Array.isArray(cycle)).toBe(true);
      const path = cycle as string[];
      expect(path[0]).toBe(path[path.length - 1]);
      expect([...new Set(path)].sort()).toEqual([...members].sort());
      for (let index = 0; index + 1 < path.length; index++) {
        expect(graph[path[index]!]!.dependsOn).toContain(path[index + 1]);
      }
    }

    it('throws with the cycle in details.cycle, and nothing of the graph runs', async () => {
      const { engine, clock } = startEngine();
      const run = jest.fn();
      const graph: Record<string, TaskGraphNode> = {
        entry: { run, dependsOn: ['a'] },
        a: { run, dependsOn: ['c'] },
        b: { run, dependsOn: ['a'] },
        c: { run, dependsOn: ['b'] },
        free: { run },
      };
      const error = thrownBy(() => engine.submitGraph(graph));
      expect(error.code).toBe('E_DEPENDENCY_CYCLE');
      expectCycleIn(graph, error.details['cycle'], ['a', 'b', 'c']);
      await clock.runAll();
      expect(run).not.toHaveBeenCalled();
      expect(engine.progress().total).toBe(0);
    });

    it('reports a task that depends on itself', () => {
      const { engine } = startEngine();
      const graph = { self: { run: () => 1, dependsOn: ['self'] } };
      const error = thrownBy(() => engine.submitGraph(graph));
      expect(error.code).toBe('E_DEPENDENCY_CYCLE');
      expect(error.details['cycle']).toEqual(['self', 'self']);
    });
  });

  describe('validated as a whole', () => {
    it.each([
      ['an unknown dependency', { dependsOn: ['missing'] }, 'graph.last.dependsOn[0]'],
      ['a bad timeout', { timeoutMs: -1 }, 'graph.last.timeoutMs'],
      ['bad retries', { retries: { backoff: 'linear' } }, 'graph.last.retries.backoff'],
      ['a bad priority', { priority: Number.NaN }, 'graph.last.priority'],
    ])('refuses a graph whose last node has %s, and runs none of it', async (_label, options, option) => {
      const { engine, clock } = startEngine();
      const run = jest.fn();
      const graph = { first: { run }, second: { run, dependsOn: ['first'] }, last: { run, ...options } } as Record<string, TaskGraphNode>;
      const error = thrownBy(() => engine.submitGraph(graph));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe(option);
      await clock.runAll();
      expect(run).not.toHaveBeenCalled();
      expect(engine.progress().total).toBe(0);
      // The ids were not taken: the same graph, fixed, is accepted.
      const fixed = engine.submitGraph({ first: { run }, second: { run, dependsOn: ['first'] }, last: { run } });
      await clock.runAll();
      expect(fixed.last.status).toBe('completed');
    });

    it('refuses a node without a run function', () => {
      const { engine } = startEngine();
      const error = thrownBy(() => engine.submitGraph({ ok: { run: () => 1 }, broken: { run: 42 } } as never));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe('graph.broken.run');
    });

    it('refuses two nodes with the same id, and a node whose id an unfinished task has', () => {
      const { engine } = startEngine();
      const twice = thrownBy(() => engine.submitGraph({ a: { run: () => 1, id: 'same' }, b: { run: () => 2, id: 'same' } }));
      expect(twice.code).toBe('E_INVALID_OPTION');
      expect(twice.details).toMatchObject({ option: 'graph.b.id', received: 'same' });
      engine.submit(() => 0, { id: 'taken' });
      const taken = thrownBy(() => engine.submitGraph({ taken: { run: () => 1 } }));
      expect(taken.code).toBe('E_INVALID_OPTION');
      expect(taken.details).toMatchObject({ option: 'graph.taken.id', received: 'taken' });
    });

    it('refuses something that is not a graph', () => {
      const { engine } = startEngine();
      for (const graph of [null, [], 'a']) {
        const error = thrownBy(() => engine.submitGraph(graph as never));
        expect(error.code).toBe('E_INVALID_OPTION');
        expect(error.details['option']).toBe('graph');
      }
    });
  });
});
