import { createEngine, MezanError, VirtualClock, type EngineOptions, type Logger, type TaskOptions } from '../../src';
import { recordingLogger, rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';

describe('createEngine: E_INVALID_OPTION by option', () => {
  const clock = new VirtualClock();
  /** Each option, with the values it refuses; each refusal names that option. */
  const refusedValues: Array<[string, unknown[]]> = [
    ['concurrency', [0, -1, 1.5, '4', Number.NaN, Infinity, null]],
    ['workers', [0, -1, 1.5, '4', Number.NaN, Infinity]],
    ['maxBatch', [0, 2.5, '8']],
    ['clock', [{}, 'wall', { now: () => 0 }, null, []]],
    ['random', ['seeded', 0.5, null]],
    [
      'logger',
      [
        {},
        'console',
        null,
        true,
        [],
        {
          child() {
            return this;
          },
        },
      ],
    ],
    ['onUnhandledError', ['log it']],
  ];
  const cases = refusedValues.flatMap(([option, values]) => values.map((value): [string, unknown] => [option, value]));

  it.each(cases)('%s: %p', (option, value) => {
    const error = thrownBy(() => createEngine({ clock, [option]: value } as EngineOptions));
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
    expect(error.details['received']).toEqual(value);
  });

  it.each<[EngineOptions, string, unknown]>([
    // Both given with different values: the deprecated alias is the one refused.
    [{ workers: 2, concurrency: 3 }, 'workers', 2],
    [{ workers: 3, concurrency: 2 }, 'workers', 3],
    [{ workers: 1, concurrency: 8 }, 'workers', 1],
    // A bad value is refused as such first, whichever of the two it is.
    [{ workers: 0, concurrency: 2 }, 'workers', 0],
    [{ workers: 2, concurrency: 0 }, 'concurrency', 0],
    [{ workers: 2, concurrency: 2.5 }, 'concurrency', 2.5],
  ])('workers and concurrency together: %p', (options, option, received) => {
    const error = thrownBy(() => createEngine({ clock, ...options }));
    expect(error).toBeInstanceOf(MezanError);
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
    expect(error.details['received']).toEqual(received);
  });

  it.each([[null], ['fast'], [4], [[]]])('the options themselves: %p', (options) => {
    const error = thrownBy(() => createEngine(options as never));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('options');
  });

  it.each<[string, Record<string, unknown>]>([
    ['an object with child() only', { child: () => undefined }],
    ['a logger without debug', { child: () => undefined, error: () => undefined, warn: () => undefined, info: () => undefined }],
    [
      'a logger whose warn is a string',
      { child: () => undefined, error: () => undefined, warn: 'warn', info: () => undefined, debug: () => undefined },
    ],
  ])('logger: %s is refused, naming `logger` and the method it lacks', (_name, logger) => {
    const missing = ['child', 'error', 'warn', 'info', 'debug'].find((method) => typeof logger[method] !== 'function')!;
    const error = thrownBy(() => createEngine({ clock, logger: logger as never }));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'logger', received: logger } });
    expect(error.message).toContain('`logger`');
    expect(error.message).toContain(`\`logger.${missing}\` is not`);
  });

  it('logger: false and a winston logger are accepted', async () => {
    for (const logger of [false, recordingLogger().logger] as const) await createEngine({ clock, logger }).shutdown();
  });

  it('a logger of its own, without winston (plain methods, child, no isLevelEnabled), gets every line, debug ones included', async () => {
    const lines: Array<{ level: string; message: string; details: Record<string, unknown> }> = [];
    const loggerWith = (bound: Record<string, unknown>): Logger => {
      const write = (level: string) => (message: string, details?: Record<string, unknown>) =>
        void lines.push({ level, message, details: { ...bound, ...details } });
      return {
        error: write('error'),
        warn: write('warn'),
        info: write('info'),
        debug: write('debug'),
        child: (more) => loggerWith({ ...bound, ...more }),
      };
    };
    const engine = createEngine({ clock, logger: loggerWith({ app: 'test' }) });
    const handle = engine.submit(async (ctx) => void ctx.logger.info('from the task'), { id: 'mine' });
    await clock.runAll();
    await handle.result;
    await engine.shutdown();
    expect(lines).toContainEqual({ level: 'info', message: 'from the task', details: expect.objectContaining({ app: 'test', taskId: 'mine' }) });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'debug', message: 'task started', details: expect.objectContaining({ taskId: 'mine' }) }),
    );
  });

  it.each<[unknown, string]>([
    [{ next: 5 }, 'inspect.next'],
    [{ next: 5, error() {} }, 'inspect.next'],
    [{ next() {}, error: 'log it' }, 'inspect.error'],
    [{ complete: null }, 'inspect.complete'],
    [{}, 'inspect'],
    [{ next: undefined }, 'inspect'],
    [[], 'inspect'],
    ['inspector', 'inspect'],
    [null, 'inspect'],
  ])('inspect: %p is refused, naming %s', (inspect, option) => {
    const error = thrownBy(() => createEngine({ clock, inspect: inspect as never }));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option } });
    expect(error.message).toContain(`\`${option}\``);
  });

  it('inspect: a function, or an observer with any of next, error and complete, is accepted', async () => {
    const seen: string[] = [];
    const observers = [
      () => void seen.push('function'),
      {
        next(this: { tag: string }) {
          seen.push(this.tag);
        },
        tag: 'called on the observer',
      },
      { complete: () => undefined },
      { error: () => undefined, complete: undefined },
    ];
    for (const inspect of observers) await createEngine({ clock, inspect: inspect as never, logger: false }).shutdown();
    expect(seen).toContain('function');
    expect(seen).toContain('called on the observer');
  });

  it.each<[string, unknown]>([
    ['setImmediate', 5],
    ['setImmediate', 'soon'],
    ['setImmediate', null],
    ['clearImmediate', {}],
    ['clearImmediate', null],
  ])('clock.%s given but not a function (%p) is refused, naming it', (method, value) => {
    const given = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined, [method]: value };
    const error = thrownBy(() => createEngine({ clock: given as never }));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: `clock.${method}` } });
    expect(error.message).toContain(`\`clock.${method}\``);
  });

  it('rateLimit.intervalMs: a positive number up to 2^31 - 1, as the docs say', async () => {
    for (const intervalMs of [2 ** 31, Infinity]) {
      const error = thrownBy(() => createEngine({ clock, rateLimit: { limit: 1, intervalMs } }));
      expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'rateLimit.intervalMs' } });
      expect(error.message).toContain(String(2 ** 31 - 1));
    }
    await createEngine({ clock, rateLimit: { limit: 1, intervalMs: 2 ** 31 - 1 }, logger: false }).shutdown();
  });

  it('accepts the valid extremes', async () => {
    const engine = createEngine({
      concurrency: 1,
      maxBatch: 1,
      clock,
      random: () => 0,
      logger: recordingLogger().logger,
      onUnhandledError: () => undefined,
    });
    expect(engine.stats().workers).toEqual([expect.objectContaining({ id: 'main', slots: 1 })]);
    await engine.shutdown();
  });
});

describe('createEngine: concurrency, and workers as its deprecated alias', () => {
  /** Runs three 10 ms tasks, and tells when each started and how many ran at most at once. */
  async function runThree(options: EngineOptions) {
    const clock = new VirtualClock();
    const { logger, records } = recordingLogger();
    const engine = createEngine({ ...options, clock, logger });
    let running = 0;
    let peak = 0;
    const startedAt: number[] = [];
    const handles = [0, 1, 2].map(() =>
      engine.submit(async (ctx) => {
        startedAt.push(clock.now());
        running++;
        peak = Math.max(peak, running);
        await ctx.sleep(10);
        running--;
      }),
    );
    await clock.runAll();
    await Promise.all(handles.map((handle) => handle.result));
    const stats = engine.stats();
    await engine.shutdown();
    const warnings = records.filter((record) => record['level'] === 'warn');
    return { stats, peak, startedAt, warnings };
  }

  it('runs `concurrency` tasks at once in the one worker main, with no warning', async () => {
    const { stats, peak, startedAt, warnings } = await runThree({ concurrency: 2 });
    expect(peak).toBe(2);
    expect(startedAt).toEqual([0, 0, 10]);
    expect(stats.workers).toEqual([expect.objectContaining({ id: 'main', state: 'idle', slots: 2, running: 0, tasksCompleted: 3 })]);
    expect(warnings).toEqual([]);
  });

  it('reads `workers: n` as `concurrency: n`, and logs exactly one deprecation warning through the logger', async () => {
    const { stats, peak, startedAt, warnings } = await runThree({ workers: 2 });
    expect(peak).toBe(2);
    expect(startedAt).toEqual([0, 0, 10]);
    expect(stats.workers).toEqual([expect.objectContaining({ id: 'main', state: 'idle', slots: 2, running: 0, tasksCompleted: 3 })]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ workers: 2 });
    expect(String(warnings[0]!['message'])).toMatch(/`workers` is deprecated.*`concurrency`/);
  });

  it('accepts `workers` and `concurrency` given with the same value, still warning once', async () => {
    const { stats, peak, warnings } = await runThree({ workers: 3, concurrency: 3 });
    expect(peak).toBe(3);
    expect(stats.workers).toEqual([expect.objectContaining({ id: 'main', slots: 3 })]);
    expect(warnings).toHaveLength(1);
  });

  it('ignores `maxBatch`: a worker is handed as many tasks as it has free slots', async () => {
    const { peak, startedAt, warnings } = await runThree({ concurrency: 3, maxBatch: 1 });
    expect(peak).toBe(3);
    expect(startedAt).toEqual([0, 0, 0]);
    expect(warnings).toEqual([]);
  });
});

describe('engine.submit: E_INVALID_OPTION by option', () => {
  const fn = () => 'ok';
  const taskCases: Array<[string, TaskOptions | unknown, string]> = [
    ['id empty', { id: '' }, 'id'],
    ['id not a string', { id: 7 }, 'id'],
    ['name empty', { name: '' }, 'name'],
    ['name not a string', { name: 7 }, 'name'],
    ['priority NaN', { priority: Number.NaN }, 'priority'],
    ['priority Infinity', { priority: Infinity }, 'priority'],
    ['priority -Infinity', { priority: -Infinity }, 'priority'],
    ['priority a string', { priority: '1' }, 'priority'],
    ['timeoutMs negative', { timeoutMs: -1 }, 'timeoutMs'],
    ['timeoutMs 0', { timeoutMs: 0 }, 'timeoutMs'],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }, 'timeoutMs'],
    ['timeoutMs Infinity', { timeoutMs: Infinity }, 'timeoutMs'],
    ['timeoutMs a string', { timeoutMs: '10' }, 'timeoutMs'],
    ['retries -1', { retries: -1 }, 'retries'],
    ['retries 1.5', { retries: 1.5 }, 'retries'],
    ['retries a string', { retries: '3' }, 'retries'],
    ['retries null', { retries: null }, 'retries'],
    ['retries.max -1', { retries: { max: -1 } }, 'retries.max'],
    ['retries.max 1.5', { retries: { max: 1.5 } }, 'retries.max'],
    ['retries.delayMs negative', { retries: { max: 1, delayMs: -5 } }, 'retries.delayMs'],
    ['retries.delayMs NaN', { retries: { max: 1, delayMs: Number.NaN } }, 'retries.delayMs'],
    ['retries.maxDelayMs negative', { retries: { max: 1, maxDelayMs: -1 } }, 'retries.maxDelayMs'],
    ['retries.backoff linear', { retries: { max: 1, backoff: 'linear' } }, 'retries.backoff'],
    ['retries.jitter 2', { retries: { max: 1, jitter: 2 } }, 'retries.jitter'],
    ['retries.jitter 0 (a number must be in (0, 1])', { retries: { max: 1, jitter: 0 } }, 'retries.jitter'],
    ['retries.jitter negative', { retries: { max: 1, jitter: -0.1 } }, 'retries.jitter'],
    ['retries.jitter a string', { retries: { max: 1, jitter: 'yes' } }, 'retries.jitter'],
    ['retries.retryIf not a function', { retries: { max: 1, retryIf: true } }, 'retries.retryIf'],
    ['signal a plain object', { signal: { aborted: false } }, 'signal'],
    ['signal a string', { signal: 'abort' }, 'signal'],
    ['dependsOn not an array', { dependsOn: 'task-1' }, 'dependsOn'],
    ['dependsOn an unknown id', { dependsOn: ['no-such-task'] }, 'dependsOn[0]'],
    ['dependsOn a number', { dependsOn: [42] }, 'dependsOn[0]'],
    ['dependsOn null', { dependsOn: [null] }, 'dependsOn[0]'],
    ['dependsOn allow unknown', { dependsOn: [{ task: 'no-such-task', allow: 'failed' }] }, 'dependsOn[0].allow'],
    ['dependsOn allow null', { dependsOn: [{ task: 'no-such-task', allow: null }] }, 'dependsOn[0].allow'],
    ['dependsOn allow true', { dependsOn: [{ task: 'no-such-task', allow: true }] }, 'dependsOn[0].allow'],
    ['dependsOn spec without task', { dependsOn: [{ allow: 'settled' }] }, 'dependsOn[0].task'],
    ['dependsOn spec with a numeric task', { dependsOn: [{ task: 42, allow: 'settled' }] }, 'dependsOn[0].task'],
    ['dependsOn spec with an unknown id', { dependsOn: [{ task: 'no-such-task', allow: 'settled' }] }, 'dependsOn[0].task'],
    ['queueTimeoutMs negative', { queueTimeoutMs: -1 }, 'queueTimeoutMs'],
    ['queueTimeoutMs NaN', { queueTimeoutMs: Number.NaN }, 'queueTimeoutMs'],
    ['queueTimeoutMs Infinity', { queueTimeoutMs: Infinity }, 'queueTimeoutMs'],
    ['queueTimeoutMs 2^31', { queueTimeoutMs: 2 ** 31 }, 'queueTimeoutMs'],
    ['queueTimeoutMs a string', { queueTimeoutMs: '10' }, 'queueTimeoutMs'],
    ['queueTimeoutMs null', { queueTimeoutMs: null }, 'queueTimeoutMs'],
  ];

  it.each(taskCases)('%s', async (_label, options, option) => {
    const { engine, clock } = startEngine();
    const called = jest.fn(fn);
    const error = thrownBy(() => engine.submit(called, options as TaskOptions));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
    // Nothing was submitted.
    await clock.runAll();
    expect(called).not.toHaveBeenCalled();
    expect(engine.progress().total).toBe(0);
  });

  // A string is the name of a named task (test/engine/named-tasks.test.ts).
  it.each([[true], [undefined], [null], [{ run: fn }]])('fn not a function: %p', (value) => {
    const { engine } = startEngine();
    const error = thrownBy(() => engine.submit(value as never));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('fn');
  });

  it('options not an object', () => {
    const { engine } = startEngine();
    for (const options of [null, 'fast', 3, []]) {
      const error = thrownBy(() => engine.submit(fn, options as never));
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe('options');
    }
  });

  it('an id an unfinished task has; the same id is free again once that task finished', async () => {
    const { engine, clock } = startEngine();
    engine.submit((ctx) => ctx.sleep(10), { id: 'unique' });
    const error = thrownBy(() => engine.submit(fn, { id: 'unique' }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toMatchObject({ option: 'id', received: 'unique' });
    await clock.runAll();
    const again = engine.submit(() => 'again', { id: 'unique' });
    await clock.runAll();
    await expect(again.result).resolves.toBe('again');
  });

  it('names the index of the bad dependency', () => {
    const { engine } = startEngine();
    const known = engine.submit((ctx) => ctx.sleep(10));
    const error = thrownBy(() => engine.submit(fn, { dependsOn: [known, known.id, 'missing'] }));
    expect(error.details).toMatchObject({ option: 'dependsOn[2]', received: 'missing' });
  });

  it('accepts the valid extremes', async () => {
    const { engine, clock } = startEngine();
    const handle = engine.submit(fn, {
      id: 'x',
      name: 'n',
      priority: -1e9,
      timeoutMs: 0.5,
      retries: { max: 0, delayMs: 0, maxDelayMs: Infinity, backoff: 'exponential', jitter: 1 },
      signal: new AbortController().signal,
      dependsOn: [],
      meta: { anything: true },
    });
    await clock.runAll();
    await expect(handle.result).resolves.toBe('ok');
  });
});

describe('null is not absent: an optional option is left out, or `undefined`', () => {
  const clock = new VirtualClock();
  it.each<[EngineOptions | Record<string, unknown>, string]>([
    [{ clock: null }, 'clock'],
    [{ random: null }, 'random'],
    [{ logger: null }, 'logger'],
    [{ lockOrder: null }, 'lockOrder'],
    [{ supervision: { maxRestarts: null } }, 'supervision.maxRestarts'],
    [{ supervision: { withinMs: null } }, 'supervision.withinMs'],
    [{ shutdown: { graceMs: null } }, 'shutdown.graceMs'],
    [{ shutdown: { drain: null } }, 'shutdown.drain'],
    [{ shutdown: { abandonAfterMs: null } }, 'shutdown.abandonAfterMs'],
    [{ shutdown: { signals: null } }, 'shutdown.signals'],
    [{ shutdown: { exitOnSignal: null } }, 'shutdown.exitOnSignal'],
    [{ deadlock: { detect: null } }, 'deadlock.detect'],
    [{ deadlock: { policy: null } }, 'deadlock.policy'],
    [{ deadlock: { compensate: { maxExtraWorkers: null } } }, 'deadlock.compensate.maxExtraWorkers'],
    [{ metrics: { timings: null } }, 'metrics.timings'],
    [{ thresholds: { queueDepth: null } }, 'thresholds.queueDepth'],
    [{ thresholds: { deadlock: null } }, 'thresholds.deadlock'],
    [{ thresholds: { clearRatio: null } }, 'thresholds.clearRatio'],
    [{ rateLimit: { limit: 1, intervalMs: 10, per: null } }, 'rateLimit.per'],
  ])('createEngine(%p) is refused, naming %s', (options, option) => {
    const error = thrownBy(() => createEngine({ clock, ...options } as EngineOptions));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option } });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ priority: null }, 'priority'],
    [{ retries: { max: null } }, 'retries.max'],
    [{ retries: { max: 1, delayMs: null } }, 'retries.delayMs'],
    [{ retries: { max: 1, maxDelayMs: null } }, 'retries.maxDelayMs'],
    [{ retries: { max: 1, backoff: null } }, 'retries.backoff'],
    [{ retries: { max: 1, jitter: null } }, 'retries.jitter'],
  ])('engine.submit(fn, %p) is refused, naming %s', async (options, option) => {
    const { engine } = startEngine();
    const error = thrownBy(() => engine.submit(() => 1, options as TaskOptions));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option } });
    await engine.shutdown();
  });

  it('a graph node with a null id is refused (not given the key as its id)', async () => {
    const { engine } = startEngine();
    const error = thrownBy(() => engine.submitGraph({ a: { run: () => 1, id: null as never } }));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'graph.a.id' } });
    await engine.shutdown();
  });

  it('ctx.acquire(resource, { units: null }) rejects, naming units', async () => {
    const { engine } = startEngine({ resources: { db: 2 } });
    const error = await rejectionOf(engine.submit((ctx) => ctx.acquire('db', { units: null as never })));
    expect(error.cause).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'units' } });
    await engine.shutdown();
  });
});

describe('an array is no options object: refused with E_INVALID_OPTION wherever an options object is expected', () => {
  const clock = new VirtualClock();
  it.each<[Record<string, unknown>, string]>([
    [{ shutdown: [] }, 'shutdown'],
    [{ supervision: [] }, 'supervision'],
    [{ deadlock: [] }, 'deadlock'],
    [{ deadlock: { detect: [] } }, 'deadlock.detect'],
    [{ deadlock: { compensate: [] } }, 'deadlock.compensate'],
    [{ metrics: [] }, 'metrics'],
    [{ thresholds: [] }, 'thresholds'],
    [{ rateLimit: [] }, 'rateLimit'],
    [{ resources: [] }, 'resources'],
    [{ resources: { db: [] } }, 'resources.db'],
  ])('createEngine(%p), naming %s', (options, option) => {
    const error = thrownBy(() => createEngine({ clock, ...options } as EngineOptions));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option } });
  });

  it('engine.submit(fn, []), engine.submitGraph({ a: [] }), engine.shutdown([])', async () => {
    const { engine } = startEngine();
    expect(thrownBy(() => engine.submit(() => 1, [] as never))).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'options' } });
    expect(thrownBy(() => engine.submitGraph({ a: [] as never }))).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'graph.a' } });
    expect(thrownBy(() => engine.shutdown([] as never))).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'options' } });
    expect(engine.isAccepting).toBe(true);
    await engine.shutdown();
  });

  it('ctx.await(handle, []) rejects, and ctx.submit(fn, []) throws, as engine.submit does', async () => {
    const { engine } = startEngine({ concurrency: 2 });
    const other = engine.submit(() => 'other');
    const awaiting = engine.submit((ctx) => ctx.await(other, [] as never));
    const submitting = engine.submit((ctx) => ctx.submit(() => 'child', [] as never));
    for (const handle of [awaiting, submitting]) {
      const error = await rejectionOf(handle);
      expect(error.cause).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'options' } });
    }
    await engine.shutdown();
  });
});

describe('the task context checks its arguments as the engine does', () => {
  it('ctx.submit(fn, null) is refused, as engine.submit(fn, null) is', async () => {
    const { engine } = startEngine();
    expect(thrownBy(() => engine.submit(() => 1, null as never))).toMatchObject({ details: { option: 'options' } });
    const parent = engine.submit((ctx) => ctx.submit(() => 'child', null as never));
    const error = await rejectionOf(parent);
    expect(error.cause).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'options', received: null } });
    // Nothing was submitted but the parent.
    expect(engine.progress().total).toBe(1);
    await engine.shutdown();
  });

  it.each([5, null, {}, Symbol('message')])('ctx.progress(fraction, %p) throws E_INVALID_OPTION naming the message', async (message) => {
    const { engine, ofType } = startEngine();
    const error = await rejectionOf(engine.submit((ctx) => ctx.progress(0.5, message as never)));
    expect(error.cause).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'message' } });
    expect(ofType('task.progress')).toEqual([]);
    await engine.shutdown();
  });

  it('ctx.progress(fraction) and ctx.progress(fraction, text) report', async () => {
    const { engine, ofType } = startEngine();
    await engine.submit((ctx) => {
      ctx.progress(0.25);
      ctx.progress(0.5, 'half way');
    }).result;
    expect(ofType('task.progress').map(({ fraction, message }) => [fraction, message])).toEqual([
      [0.25, undefined],
      [0.5, 'half way'],
    ]);
    await engine.shutdown();
  });
});

describe('engine.shutdown({ graceMs }) is bounded as shutdown.graceMs is', () => {
  it.each([2 ** 31, 1e12, Infinity, -1])('refuses %p', async (graceMs) => {
    const { engine } = startEngine();
    const error = thrownBy(() => engine.shutdown({ graceMs }));
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'graceMs' } });
    expect(error.message).toContain(String(2 ** 31 - 1));
    expect(engine.isAccepting).toBe(true);
    await engine.shutdown({ graceMs: 2 ** 31 - 1 });
  });
});

describe('onUnhandledError', () => {
  it('receives a failure nobody asked the result of, asynchronously, once, with its handle', async () => {
    const onUnhandledError = jest.fn();
    const { engine, clock } = startEngine({ onUnhandledError });
    const boom = new Error('boom');
    const handle = engine.submit(() => {
      throw boom;
    });
    await clock.runAll();
    expect(onUnhandledError).toHaveBeenCalledTimes(1);
    const [error, reported] = onUnhandledError.mock.calls[0]!;
    expect(error).toBeInstanceOf(MezanError);
    expect((error as MezanError).code).toBe('E_TASK_FAILED');
    expect((error as MezanError).cause).toBe(boom);
    expect(reported).toBe(handle);
  });

  it('is not called synchronously when the task settles', async () => {
    const calls: string[] = [];
    const { engine, clock } = startEngine({ onUnhandledError: () => void calls.push('hook') });
    engine.events$.subscribe((event) => {
      if (event.type === 'task.failed' || event.type === 'engine.idle') calls.push(event.type);
    });
    engine.submit(() => {
      throw new Error('boom');
    });
    await clock.runAll();
    // The engine went idle in the same synchronous step as the failure; the hook came after.
    expect(calls).toEqual(['task.failed', 'engine.idle', 'hook']);
  });

  it('receives unobserved timeouts and dependency failures too', async () => {
    const onUnhandledError = jest.fn();
    const { engine, clock } = startEngine({ concurrency: 2, onUnhandledError });
    const timesOut = engine.submit((ctx) => ctx.sleep(100), { timeoutMs: 10 });
    engine.submit(() => 'never', { dependsOn: [timesOut] });
    await clock.runAll();
    expect(onUnhandledError.mock.calls.map(([error]) => (error as MezanError).code).sort()).toEqual(['E_DEPENDENCY_FAILED', 'E_TIMEOUT']);
  });

  it('is not called for a failure whose result was read before it settled', async () => {
    const onUnhandledError = jest.fn();
    const { engine, clock } = startEngine({ concurrency: 2, onUnhandledError });
    const watchedEarly = engine.submit(async (ctx) => {
      await ctx.sleep(10);
      throw new Error('watched early');
    });
    const early = rejectionOf(watchedEarly);
    const watchedLate = engine.submit(() => {
      throw new Error('watched late');
    });
    watchedLate.result.catch(() => undefined);
    await clock.runAll();
    expect((await early).code).toBe('E_TASK_FAILED');
    expect(onUnhandledError).not.toHaveBeenCalled();
  });

  it('is not called for cancellations, queued or running, nor for completed tasks', async () => {
    const onUnhandledError = jest.fn();
    const { engine, clock } = startEngine({ concurrency: 1, onUnhandledError });
    const running = engine.submit((ctx) => ctx.sleep(100));
    await clock.advanceBy(0);
    const queued = engine.submit(() => 'never');
    const ok = engine.submit(() => 'ok');
    queued.cancel();
    await clock.advanceBy(5);
    running.cancel(new Error('stop'));
    await clock.runAll();
    expect([running.status, queued.status, ok.status]).toEqual(['cancelled', 'cancelled', 'completed']);
    expect(onUnhandledError).not.toHaveBeenCalled();
  });

  it('defaults to a warning through the logger, with the task id and code', async () => {
    const { logger, records } = recordingLogger();
    const { engine, clock } = startEngine({ logger });
    const handle = engine.submit(
      () => {
        throw new Error('boom');
      },
      { id: 'noisy' },
    );
    await clock.runAll();
    expect(handle.status).toBe('failed');
    const warnings = records.filter((record) => record['level'] === 'warn' && record['taskId'] === 'noisy');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ taskId: 'noisy', code: 'E_TASK_FAILED' });
  });
});
