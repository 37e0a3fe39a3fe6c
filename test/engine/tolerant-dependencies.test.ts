import { MezanError, type DependencyOutcome, type DependencySpec, type Engine, type TaskContext, type TaskHandle, type TaskOptions } from '../../src';
import { blockedEngine } from '../fixtures/blocked-engine';
import { rejectionOf, startEngine, thrownBy, type EngineHarness } from '../fixtures/engine-harness';
import { failsAfter } from '../fixtures/fails-after';

const boom = (message: string) => () => {
  throw new Error(message);
};

/** A task function that returns its `ctx.dependencies`. */
const readDependencies = (ctx: TaskContext) => ctx.dependencies;

/** Submits a task that depends on `task` with `allow: 'settled'` (and has `options`), and returns the outcomes it is handed. */
const tolerantOf = (engine: Engine, task: DependencySpec['task'], options: TaskOptions = {}): TaskHandle<readonly DependencyOutcome[]> =>
  engine.submit(readDependencies, { ...options, dependsOn: [{ task, allow: 'settled' }] });

/** The one outcome a task of {@link tolerantOf} was handed; fails the test when it was handed another number of them. */
async function soleOutcome(dependant: TaskHandle<readonly DependencyOutcome[]>): Promise<DependencyOutcome> {
  const outcomes = await dependant.result;
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
}

/** The clock time the task `taskId` started at, from the `task.started` events of `harness`. */
const startedAt = (harness: EngineHarness, taskId: string): number | undefined =>
  harness.ofType('task.started').find((event) => event.taskId === taskId)?.at;

describe("dependsOn with allow: 'settled'", () => {
  it('runs the dependant after a failed dependency, with the failure in ctx.dependencies', async () => {
    const harness = startEngine({ concurrency: 2 });
    const { engine, clock } = harness;
    const dependency = engine.submit(failsAfter(10, 'broken'), { id: 'dep', name: 'the dependency' });
    dependency.result.catch(() => undefined);
    const dependant = tolerantOf(engine, dependency, { id: 'after' });
    await clock.advanceBy(9);
    expect(dependant.status).toBe('waiting');
    await clock.runAll();
    const outcome = await soleOutcome(dependant);
    expect(outcome).toMatchObject({ id: 'dep', name: 'the dependency', status: 'failed' });
    expect(outcome).not.toHaveProperty('value');
    expect(outcome.error).toBeInstanceOf(MezanError);
    expect(outcome.error!.code).toBe('E_TASK_FAILED');
    expect((outcome.error!.cause as Error).message).toBe('broken');
    // The very error the dependency's result rejected with.
    expect(outcome.error).toBe(await rejectionOf(dependency));
    expect(startedAt(harness, 'after')).toBe(10);
  });

  it('by default (and with allow: completed) a failed dependency still fails the dependant, never called', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit(boom('broken'), { id: 'dep' });
    dependency.result.catch(() => undefined);
    const plain = jest.fn();
    const explicit = jest.fn();
    const a = engine.submit(plain, { dependsOn: [dependency] });
    const b = engine.submit(explicit, { dependsOn: [{ task: dependency, allow: 'completed' }] });
    const c = engine.submit(explicit, { dependsOn: [{ task: dependency }] });
    await clock.runAll();
    for (const handle of [a, b, c]) {
      const error = await rejectionOf(handle);
      expect(error.code).toBe('E_DEPENDENCY_FAILED');
      expect(error.details).toMatchObject({ dependency: 'dep', dependencyStatus: 'failed' });
    }
    expect(plain).not.toHaveBeenCalled();
    expect(explicit).not.toHaveBeenCalled();
  });

  it('runs the dependant after a dependency cancelled while queued, at the moment it is cancelled', async () => {
    const { engine, clock, ofType, finish } = await blockedEngine();
    const dependency = engine.submit(() => 'never', { id: 'dep' });
    const dependant = tolerantOf(engine, dependency, { id: 'after', priority: 1 });
    await clock.advanceBy(15);
    expect(dependant.status).toBe('waiting');
    dependency.cancel('no longer needed');
    await clock.advanceBy(0);
    expect(dependant.status).toBe('queued');
    await finish();
    expect(await soleOutcome(dependant)).toMatchObject({
      id: 'dep',
      status: 'cancelled',
      error: { code: 'E_CANCELLED', details: { reason: 'no longer needed' } },
    });
    expect(ofType('task.queued').find((event) => event.taskId === 'after')?.at).toBe(15);
  });

  it('runs the dependant after a dependency cancelled while running', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit((ctx) => ctx.sleep(100), { id: 'dep' });
    const dependant = tolerantOf(engine, dependency);
    await clock.advanceBy(10);
    dependency.cancel();
    await clock.runAll();
    expect(await soleOutcome(dependant)).toMatchObject({ id: 'dep', status: 'cancelled', error: { code: 'E_CANCELLED' } });
  });

  it('runs the dependant after a dependency that timed out (timeoutMs)', async () => {
    const harness = startEngine({ concurrency: 2 });
    const dependency = harness.engine.submit((ctx) => ctx.sleep(100), { id: 'dep', timeoutMs: 20 });
    dependency.result.catch(() => undefined);
    const dependant = tolerantOf(harness.engine, dependency);
    await harness.clock.runAll();
    expect(await soleOutcome(dependant)).toMatchObject({ id: 'dep', status: 'timeout', error: { code: 'E_TIMEOUT' } });
    expect(startedAt(harness, dependant.id)).toBe(20);
  });

  it('runs the dependant after a dependency that never started in time (queueTimeoutMs)', async () => {
    const { engine, clock, finish } = await blockedEngine();
    const dependency = engine.submit(() => 'never', { id: 'dep', queueTimeoutMs: 10 });
    dependency.result.catch(() => undefined);
    const dependant = tolerantOf(engine, dependency);
    await clock.advanceBy(10);
    expect(dependant.status).toBe('queued');
    await finish();
    expect(await soleOutcome(dependant)).toMatchObject({ id: 'dep', status: 'timeout', error: { code: 'E_QUEUE_TIMEOUT' } });
  });

  it('runs the dependant after a dependency that failed for its own dependency', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const root = engine.submit(boom('root broke'), { id: 'root' });
    root.result.catch(() => undefined);
    const middle = engine.submit(() => 'never', { id: 'middle', dependsOn: [root] });
    middle.result.catch(() => undefined);
    const tolerant = tolerantOf(engine, middle);
    await clock.runAll();
    expect(await soleOutcome(tolerant)).toMatchObject({ id: 'middle', status: 'failed', error: { code: 'E_DEPENDENCY_FAILED' } });
  });

  it('gives a completed tolerant dependency its value', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const value = { rows: 3 };
    const dependency = engine.submit(() => value, { id: 'dep' });
    const dependant = tolerantOf(engine, dependency);
    await clock.runAll();
    const outcome = await soleOutcome(dependant);
    expect(outcome).toMatchObject({ id: 'dep', name: 'dep', status: 'completed' });
    expect(outcome.value).toBe(value);
    expect(outcome.error).toBeUndefined();
  });

  it('waits through the retries of a tolerant dependency, and sees how it finally ended', async () => {
    const harness = startEngine({ concurrency: 2 });
    const dependency = harness.engine.submit(boom('always'), { id: 'dep', retries: { max: 2, delayMs: 10 } });
    dependency.result.catch(() => undefined);
    const dependant = tolerantOf(harness.engine, dependency, { id: 'after' });
    await harness.clock.advanceBy(15);
    expect(dependant.status).toBe('waiting');
    await harness.clock.runAll();
    const outcome = await soleOutcome(dependant);
    expect(outcome.status).toBe('failed');
    expect(outcome.error!.details['attempts']).toBe(3);
    expect(startedAt(harness, 'after')).toBe(20);
  });

  it('takes a dependency by id as well as by handle', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    engine.submit(boom('broken'), { id: 'fetch' }).result.catch(() => undefined);
    const dependant = tolerantOf(engine, 'fetch');
    await clock.runAll();
    expect(await soleOutcome(dependant)).toMatchObject({ id: 'fetch', status: 'failed' });
  });
});

describe("allow: 'settled' with dependencies already settled at submission", () => {
  it('runs at once, with each outcome, whether the dependency failed, was cancelled or timed out', async () => {
    const { engine, clock } = startEngine({ concurrency: 3 });
    const failed = engine.submit(boom('early'), { id: 'failed' });
    const cancelled = engine.submit(() => 'never', { id: 'cancelled' });
    const timedOut = engine.submit((ctx) => ctx.sleep(100), { id: 'timed-out', timeoutMs: 5 });
    for (const handle of [failed, cancelled, timedOut]) handle.result.catch(() => undefined);
    cancelled.cancel();
    await clock.runAll();
    expect([failed.status, cancelled.status, timedOut.status]).toEqual(['failed', 'cancelled', 'timeout']);
    const startedAt = clock.now();
    const dependant = engine.submit(readDependencies, {
      dependsOn: [
        { task: timedOut, allow: 'settled' },
        { task: failed, allow: 'settled' },
        { task: cancelled, allow: 'settled' },
      ],
    });
    await clock.advanceBy(0);
    expect(dependant.status).toBe('completed');
    expect(clock.now()).toBe(startedAt);
    const outcomes = await dependant.result;
    expect(outcomes.map((outcome) => [outcome.id, outcome.status, outcome.error?.code])).toEqual([
      ['timed-out', 'timeout', 'E_TIMEOUT'],
      ['failed', 'failed', 'E_TASK_FAILED'],
      ['cancelled', 'cancelled', 'E_CANCELLED'],
    ]);
  });

  it('fails at once on a settled failed plain dependency, even next to a tolerant one', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const failed = engine.submit(boom('early'), { id: 'failed' });
    const alsoFailed = engine.submit(boom('early too'), { id: 'also-failed' });
    for (const handle of [failed, alsoFailed]) handle.result.catch(() => undefined);
    await clock.runAll();
    const fn = jest.fn();
    const dependant = engine.submit(fn, { dependsOn: [{ task: failed, allow: 'settled' }, alsoFailed] });
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    const error = await rejectionOf(dependant);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details).toMatchObject({ dependency: 'also-failed', dependencyStatus: 'failed' });
  });

  it('runs after a dependency cancelled in the same tick it and its dependant were submitted', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit(() => 'never', { id: 'dep' });
    const dependant = tolerantOf(engine, dependency);
    dependency.cancel();
    await clock.runAll();
    expect(await soleOutcome(dependant)).toMatchObject({ id: 'dep', status: 'cancelled' });
  });
});

describe('ctx.dependencies', () => {
  it('lists every dependency in dependsOn order, not in the order they settled', async () => {
    const { engine, clock } = startEngine({ concurrency: 4 });
    const slow = engine.submit((ctx) => ctx.sleep(30).then(() => 'slow'), { id: 'slow' });
    const failing = engine.submit(failsAfter(20, 'failing'), { id: 'failing' });
    failing.result.catch(() => undefined);
    engine.submit((ctx) => ctx.sleep(10).then(() => 'fast'), { id: 'fast' });
    const dependant = engine.submit(readDependencies, {
      dependsOn: [slow, { task: 'failing', allow: 'settled' }, 'fast'],
    });
    await clock.runAll();
    const outcomes = await dependant.result;
    expect(outcomes.map(({ id, status, value, error }) => [id, status, value, error?.code])).toEqual([
      ['slow', 'completed', 'slow', undefined],
      ['failing', 'failed', undefined, 'E_TASK_FAILED'],
      ['fast', 'completed', 'fast', undefined],
    ]);
  });

  it('lists plain dependencies too, with their values', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const a = engine.submit(() => 1, { id: 'a', name: 'first' });
    const b = engine.submit(() => 2, { id: 'b' });
    const dependant = engine.submit(readDependencies, { dependsOn: [b, a] });
    await clock.runAll();
    expect(await dependant.result).toEqual([
      { id: 'b', name: 'b', status: 'completed', value: 2 },
      { id: 'a', name: 'first', status: 'completed', value: 1 },
    ]);
  });

  it('is an empty array for a task without dependencies (and with dependsOn: [])', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const none = engine.submit(readDependencies);
    const empty = engine.submit(readDependencies, { dependsOn: [] });
    await clock.runAll();
    expect(await none.result).toEqual([]);
    expect(await empty.result).toEqual([]);
  });

  it('is the same on every attempt of a retried dependant', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const dependency = engine.submit(boom('broken'), { id: 'dep' });
    dependency.result.catch(() => undefined);
    const seen: unknown[] = [];
    const dependant = engine.submit(
      (ctx) => {
        seen.push(ctx.dependencies.map((outcome) => [outcome.id, outcome.status]));
        if (ctx.attempt === 1) throw new Error('again');
        return ctx.attempt;
      },
      { dependsOn: [{ task: dependency, allow: 'settled' }], retries: 1 },
    );
    await clock.runAll();
    await expect(dependant.result).resolves.toBe(2);
    expect(seen).toEqual([[['dep', 'failed']], [['dep', 'failed']]]);
  });
});

describe("mixing allow: 'settled' with plain dependencies", () => {
  it('runs once the plain one completed and the tolerant one failed', async () => {
    const harness = startEngine({ concurrency: 3 });
    const { engine, clock } = harness;
    const tolerated = engine.submit(boom('tolerated'), { id: 'tolerated' });
    tolerated.result.catch(() => undefined);
    const needed = engine.submit((ctx) => ctx.sleep(25).then(() => 'needed'), { id: 'needed' });
    const dependant = engine.submit(readDependencies, { id: 'after', dependsOn: [needed, { task: tolerated, allow: 'settled' }] });
    await clock.runAll();
    const outcomes = await dependant.result;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['completed', 'failed']);
    expect(startedAt(harness, 'after')).toBe(25);
  });

  it('fails when the plain one fails, however the tolerant one ends', async () => {
    const { engine, clock } = startEngine({ concurrency: 3 });
    const tolerated = engine.submit((ctx) => ctx.sleep(30).then(() => 'fine'), { id: 'tolerated' });
    const needed = engine.submit(failsAfter(10, 'needed broke'), { id: 'needed' });
    needed.result.catch(() => undefined);
    const fn = jest.fn();
    const dependant = engine.submit(fn, { dependsOn: [{ task: tolerated, allow: 'settled' }, needed] });
    await clock.advanceBy(10);
    expect(dependant.status).toBe('failed');
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect((await rejectionOf(dependant)).details).toMatchObject({ dependency: 'needed', dependencyStatus: 'failed' });
  });

  it('a plain dependant of a tolerant task runs: the tolerated failure does not cascade past it', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const root = engine.submit(boom('root'), { id: 'root' });
    const middle = tolerantOf(engine, root, { id: 'middle' });
    const plainLeaf = engine.submit(readDependencies, { id: 'plain-leaf', dependsOn: [middle] });
    root.result.catch(() => undefined);
    await clock.runAll();
    expect(middle.status).toBe('completed');
    expect(plainLeaf.status).toBe('completed');
    expect((await plainLeaf.result)[0]).toMatchObject({ id: 'middle', status: 'completed' });
  });
});

describe("submitGraph with allow: 'settled'", () => {
  it('takes a graph key as the task, and runs the node after its failed dependency', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const graph = engine.submitGraph({
      cleanup: { run: readDependencies, dependsOn: [{ task: 'build', allow: 'settled' }, 'lint'] },
      build: { run: boom('build broke') },
      lint: { run: () => 'lint ok' },
      report: { run: () => 'never', dependsOn: ['build'] },
    });
    graph.build.result.catch(() => undefined);
    graph.report.result.catch(() => undefined);
    await clock.runAll();
    const outcomes = await graph.cleanup.result;
    expect(outcomes.map(({ id, status, value }) => [id, status, value])).toEqual([
      ['build', 'failed', undefined],
      ['lint', 'completed', 'lint ok'],
    ]);
    expect((await rejectionOf(graph.report)).code).toBe('E_DEPENDENCY_FAILED');
  });
});

describe('allow: E_INVALID_OPTION', () => {
  it('names the index of a bad allow among valid dependencies, and submits nothing', async () => {
    const { engine, clock } = startEngine();
    const known = engine.submit((ctx) => ctx.sleep(10));
    const fn = jest.fn();
    const error = thrownBy(() => engine.submit(fn, { dependsOn: [known, { task: known, allow: 'failed' as 'settled' }] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toMatchObject({ option: 'dependsOn[1].allow', received: 'failed' });
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect(engine.progress().total).toBe(1);
  });

  it("refuses a handle of another engine inside { task, allow: 'settled' }", () => {
    const { engine } = startEngine();
    const other = startEngine().engine;
    const foreign = other.submit((ctx) => ctx.sleep(10));
    const error = thrownBy(() => engine.submit(() => 'x', { dependsOn: [{ task: foreign, allow: 'settled' }] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('dependsOn[0].task');
  });

  it('names the graph node with a bad allow, and submits nothing of the graph', async () => {
    const { engine, clock } = startEngine();
    const fn = jest.fn();
    const error = thrownBy(() =>
      engine.submitGraph({
        a: { run: fn },
        b: { run: fn, dependsOn: [{ task: 'a', allow: 'maybe' as 'settled' }] },
      }),
    );
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('graph.b.dependsOn[0].allow');
    await clock.runAll();
    expect(fn).not.toHaveBeenCalled();
    expect(engine.progress().total).toBe(0);
  });
});

describe('regressions found by review', () => {
  it("[{ task: h, allow: 'settled' }, h]: the plain entry fails the dependant whether h fails before or after submission", async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const h = engine.submit(failsAfter(10, 'boom'), { id: 'h' });
    h.result.catch(() => undefined);
    const fn = jest.fn();
    const live = engine.submit(fn, { dependsOn: [{ task: h, allow: 'settled' }, h] });
    live.result.catch(() => undefined);
    await clock.runAll();
    const settled = engine.submit(fn, { dependsOn: [{ task: h, allow: 'settled' }, h] });
    settled.result.catch(() => undefined);
    await clock.runAll();
    expect(settled.status).toBe('failed'); // passes
    expect(live.status).toBe('failed');
    expect(fn).not.toHaveBeenCalled();
  });
});
