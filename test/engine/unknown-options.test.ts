import { createEngine, type EngineOptions, type TaskOptions } from '../../src';
import { startEngine } from '../fixtures/engine-harness';

// A misspelt option is refused with E_INVALID_OPTION, named by its path with the closest known key,
// never silently ignored.

const refusal = (path: string, suggestion?: string) =>
  expect.objectContaining({
    code: 'E_INVALID_OPTION',
    message: expect.stringMatching(
      new RegExp(
        `^Unknown option \`${path.replace(/[.[\]]/g, '\\$&')}\`${suggestion === undefined ? '' : ` \\(did you mean "${suggestion}"\\?\\)`}; known: `,
      ),
    ),
  });

describe('createEngine refuses unknown keys, at every level', () => {
  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    ['top level', { wrokers: 2 }, 'wrokers', 'workers'],
    ['shutdown', { shutdown: { graceMs: 10, drian: 'run' } }, 'shutdown.drian', 'drain'],
    ['supervision', { supervision: { maxRestart: 2 } }, 'supervision.maxRestart', 'maxRestarts'],
    ['deadlock', { deadlock: { detct: 'off' } }, 'deadlock.detct', 'detect'],
    ['deadlock.detect', { deadlock: { detect: { afterMs: 0, afterMS: 1 } } }, 'deadlock.detect.afterMS', 'afterMs'],
    ['deadlock.compensate', { deadlock: { compensate: { maxExtra: 1 } } }, 'deadlock.compensate.maxExtra', undefined],
    ['a resource', { resources: { db: { capacity: 1, rnak: 2 } } }, 'resources.db.rnak', 'rank'],
    ['rateLimit', { rateLimit: { limit: 1, intervalMs: 10, pre: 'group' } }, 'rateLimit.pre', 'per'],
    ['metrics', { metrics: { timing: 'off' } }, 'metrics.timing', 'timings'],
    ['thresholds', { thresholds: { queuedepth: 5 } }, 'thresholds.queuedepth', 'queueDepth'],
  ])('%s', (_level, options, path, suggestion) => {
    expect(() => createEngine(options as EngineOptions)).toThrow(refusal(path, suggestion));
  });

  it('accepts every known key', async () => {
    const engine = createEngine({
      concurrency: 2,
      shutdown: { graceMs: 10, drain: 'run', abandonAfterMs: 10, signals: [], exitOnSignal: false },
      supervision: { maxRestarts: 1, withinMs: 10 },
      deadlock: { detect: 'off', policy: 'youngest', compensate: { maxExtraWorkers: 1 } },
      resources: { db: { capacity: 1, rank: 1 } },
      rateLimit: { limit: 5, intervalMs: 10, per: 'engine' },
      metrics: { timings: 'off' },
      thresholds: { queueDepth: 5 },
    });
    await engine.shutdown();
  });
});

describe('a task refuses unknown keys', () => {
  it.each<[Record<string, unknown>, string, string | undefined]>([
    [{ timeout: 5 }, 'timeout', 'timeoutMs'],
    [{ timeoutMS: 5 }, 'timeoutMS', 'timeoutMs'],
    [{ retry: 2 }, 'retry', undefined],
    [{ retries: { maxx: 2 } }, 'retries.maxx', 'max'],
    [{ prority: 1 }, 'prority', 'priority'],
  ])('submit(fn, %p)', async (options, path, suggestion) => {
    const { engine } = startEngine();
    expect(() => engine.submit(async () => 1, options as TaskOptions)).toThrow(refusal(path, suggestion));
    await engine.shutdown();
  });

  it('a dependsOn entry, a graph node, and the options of engine.shutdown()', async () => {
    const { engine } = startEngine();
    const first = engine.submit(async () => 1);
    expect(() => engine.submit(async () => 2, { dependsOn: [{ task: first, alow: 'settled' } as never] })).toThrow(
      refusal('dependsOn[0].alow', 'allow'),
    );
    expect(() => engine.submitGraph({ a: { run: async () => 1, dependson: [] } as never })).toThrow(refusal('graph.a.dependson', 'dependsOn'));
    expect(() => engine.shutdown({ forse: true } as never)).toThrow(refusal('forse', 'force'));
    await first.result;
    await engine.shutdown();
  });

  it('ctx.acquire and ctx.await reject unknown keys of their options', async () => {
    const { engine } = startEngine({ resources: { db: 2 } });
    await expect(engine.submit((ctx) => ctx.acquire('db', { unit: 2 } as never)).result).rejects.toMatchObject({
      cause: refusal('options.unit', 'units'),
    });
    const other = engine.submit(async () => 1);
    await expect(engine.submit((ctx) => ctx.await(other, { timeout: 5 } as never)).result).rejects.toMatchObject({
      cause: refusal('options.timeout', 'timeoutMs'),
    });
    await engine.shutdown();
  });
});
