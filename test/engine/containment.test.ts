import { filter, map } from 'rxjs';
import winston from 'winston';
import {
  createEngine,
  MezanError,
  seededRandom,
  VirtualClock,
  type Logger,
  type ShutdownReport,
  type TaskFunction,
  type TaskHandle,
} from '../../src';
import { describeThrown } from '../../src/internal/describe-thrown';
import { TaskBook } from '../../src/internal/task-book';
import { WaiterQueue } from '../../src/internal/waiter-queue';
import { TaskRunner } from '../../actors/task-runner';
import { recordingLogger, startEngine } from '../fixtures/engine-harness';

// User code is hostile until proven otherwise: whatever a task function throws or returns, whatever a
// callback, a logger or an events$ subscriber does, every task ends, the engine goes on, and
// nothing escapes into the process.

const revoked = Proxy.revocable({}, {});
revoked.revoke();

/** A proxy whose named traps throw. */
function proxyThrowingFrom(...traps: Array<keyof ProxyHandler<object>>): object {
  const handler: ProxyHandler<object> = {};
  for (const trap of traps) {
    (handler as Record<string, () => never>)[trap] = () => {
      throw new Error(`${trap} throws`);
    };
  }
  return new Proxy({}, handler);
}

/** Values no `String()` can render, each paired with a name for the test title. */
const HOSTILE_THROWS: ReadonlyArray<readonly [string, () => unknown]> = [
  ['an object without a prototype', () => Object.create(null)],
  [
    'an object whose toString throws',
    () => ({
      toString: () => {
        throw new Error('toString');
      },
    }),
  ],
  ['a symbol', () => Symbol('thrown')],
  ['undefined', () => undefined],
  ['null', () => null],
  ['a revoked proxy', () => revoked.proxy],
  ['a proxy whose every trap throws', () => proxyThrowingFrom('get', 'getPrototypeOf')],
  [
    'an Error whose message getter throws',
    () =>
      Object.defineProperty(new Error('x'), 'message', {
        get: () => {
          throw new Error('message');
        },
      }),
  ],
];

/** Values a task may return that cannot be looked at safely. */
const HOSTILE_RETURNS: ReadonlyArray<readonly [string, () => unknown]> = [
  [
    'an object whose then getter throws',
    () => ({
      get then(): never {
        throw new Error('then');
      },
    }),
  ],
  ['a revoked proxy', () => revoked.proxy],
  ['a proxy whose get throws', () => proxyThrowingFrom('get')],
];

/** The MezanError `createEngine(options)` throws; fails the test when it throws nothing or something else. */
function thrownByCreate(options: Record<string, unknown>): MezanError {
  try {
    void createEngine({ clock: new VirtualClock(), logger: false, ...options });
  } catch (error) {
    if (error instanceof MezanError) return error;
    throw new Error(`expected a MezanError, got ${describeThrown(error)}`);
  }
  throw new Error('expected createEngine to refuse its options');
}

describe('describeThrown', () => {
  it.each(HOSTILE_THROWS)('describes %s without throwing', (_name, make) => {
    expect(typeof describeThrown(make())).toBe('string');
  });

  it('uses the message of an Error and the text of a primitive', () => {
    expect(describeThrown(new TypeError('bad'))).toBe('bad');
    expect(describeThrown('plain')).toBe('plain');
    expect(describeThrown(42)).toBe('42');
    expect(describeThrown(Symbol('s'))).toBe('Symbol(s)');
    expect(describeThrown(Object.create(null))).toBe('[object Object]');
  });
});

describe('a task that throws a value no String() can render', () => {
  it.each(HOSTILE_THROWS)('%s: the task fails with E_TASK_FAILED carrying it, and the engine goes on', async (_name, make) => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const thrown = make();
    const failing = engine.submit(() => {
      throw thrown;
    });
    const rejecting = engine.submit(() => Promise.reject(thrown));
    for (const handle of [failing, rejecting]) {
      const error = await handle.result.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(MezanError);
      expect((error as MezanError).code).toBe('E_TASK_FAILED');
      expect((error as MezanError).cause).toBe(thrown);
      expect(handle.status).toBe('failed');
    }
    await expect(engine.submit(async () => 'still running').result).resolves.toBe('still running');
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ failed: 2, completed: 1, lost: 0 });
  });
});

describe('a task that returns a value that cannot be looked at', () => {
  it.each(HOSTILE_RETURNS)('%s: the task fails with E_TASK_FAILED, and the engine goes on', async (_name, make) => {
    const { engine } = startEngine();
    const handle = engine.submit(make as TaskFunction);
    await expect(handle.result).rejects.toMatchObject({ code: 'E_TASK_FAILED' });
    await expect(engine.submit(async () => 1).result).resolves.toBe(1);
    await expect(engine.shutdown()).resolves.toMatchObject({ failed: 1, completed: 1, lost: 0 });
  });
});

describe('logger: false', () => {
  it('gives tasks a logger whose every level and child write nothing and throw nothing', async () => {
    const { engine } = startEngine({ logger: false });
    const result = engine.submit(async (ctx) => {
      const child = ctx.logger.child({ step: 1 });
      for (const logger of [ctx.logger, child, child.child({ step: 2 })]) {
        logger.error('e');
        logger.warn('w');
        logger.info('i');
        logger.debug('d');
      }
      return ctx.logger.isLevelEnabled?.('error');
    }).result;
    await expect(result).resolves.toBe(false);
  });
});

describe('callbacks and observers that throw', () => {
  it('onUnhandledError: what it throws is logged, and the engine goes on', async () => {
    const { logger, records } = recordingLogger();
    const { engine } = startEngine({
      logger,
      onUnhandledError: () => {
        throw Object.create(null);
      },
    });
    engine.submit(() => {
      throw new Error('nobody awaits this');
    });
    await expect(engine.submit(async () => 'next').result).resolves.toBe('next');
    expect(records).toContainEqual(expect.objectContaining({ level: 'error', message: 'onUnhandledError threw' }));
    await engine.shutdown();
  });

  it('an events$ subscriber: what its callback throws is logged, and every subscriber keeps hearing events', async () => {
    const { logger, records } = recordingLogger();
    const { engine, events } = startEngine({ logger });
    engine.events$.subscribe(() => {
      throw new Error('next throws');
    });
    engine.events$.subscribe({
      next() {
        throw Object.create(null);
      },
    });
    // Through operators too, with an operator that throws and no error callback.
    engine.events$
      .pipe(
        filter((event) => event.type === 'task.completed'),
        map(() => {
          throw new Error('map throws');
        }),
      )
      .subscribe(() => undefined);
    await engine.submit(async () => 1).result;
    await engine.submit(async () => 2).result;
    expect(events.filter((event) => event.type === 'task.completed')).toHaveLength(2);
    const logged = records.filter((record) => record['message'] === 'an events$ subscriber threw');
    expect(logged.length).toBeGreaterThanOrEqual(3);
    await engine.shutdown();
  });

  it.each<[string, (thrown: Error) => unknown]>([
    [
      'a function',
      (thrown) => () => {
        throw thrown;
      },
    ],
    [
      'an observer object',
      (thrown) => ({
        next() {
          throw thrown;
        },
      }),
    ],
  ])('an inspect observer that throws (%s): the engine goes on, the first throw is logged and the others counted', async (_kind, make) => {
    const { logger, records } = recordingLogger();
    const thrown = new Error('inspect throws');
    let calls = 0;
    const observer = make(thrown);
    const counted =
      typeof observer === 'function'
        ? () => {
            calls++;
            (observer as () => void)();
          }
        : {
            next() {
              calls++;
              (observer as { next(): void }).next();
            },
          };
    const { engine, clock } = startEngine({ logger, concurrency: 2, inspect: counted as never });
    const handles = [
      engine.submit(async (ctx) => {
        await ctx.sleep(5);
        return 'slept';
      }),
      engine.submit(() => 'at once'),
      engine.submit(() => {
        throw new Error('fails');
      }),
    ];
    await clock.runAll();
    expect(handles.map((handle) => handle.status)).toEqual(['completed', 'completed', 'failed']);
    await expect(handles[0]!.result).resolves.toBe('slept');
    // No actor failed.
    expect(engine.actors().every((actor) => actor.state !== 'crashed' && actor.state !== 'error')).toBe(true);
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ completed: 2, failed: 1, lost: 0 });
    const errors = records.filter((record) => record['level'] === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining('the inspect observer threw'), error: 'inspect throws' }),
      expect.objectContaining({ message: 'the inspect observer threw more than once', times: expect.any(Number) }),
    ]);
    // Counted up to the stop (the actors' last inspection events come after it).
    expect(errors[1]!['times']).toBeGreaterThan(10);
    expect(errors[1]!['times']).toBeLessThanOrEqual(calls);
  });

  it.each<[string, () => unknown]>([
    ['an object without methods', () => ({})],
    ['a number', () => 5],
    ['null', () => null],
    ['a frozen object without methods', () => Object.freeze(Object.create(null))],
    [
      'a proxy whose get throws',
      () =>
        new Proxy(
          {},
          {
            get() {
              throw new Error('get throws');
            },
          },
        ),
    ],
  ])("a logger whose child() returns %s: the engine logs through the parent, and tasks' ctx.logger works", async (_name, makeChild) => {
    const lines: Array<[string, unknown]> = [];
    const write = (level: string) => (message: unknown) => void lines.push([level, message]);
    const logger = { child: makeChild, error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
    const { engine, clock } = startEngine({ logger: logger as never });
    const handle = engine.submit((ctx) => {
      ctx.logger.info('from the task');
      ctx.logger.child({ step: 1 }).warn('from a child of the task');
      return 'logged';
    });
    engine.submit(() => {
      throw new Error('nobody awaits this');
    });
    await clock.runAll();
    await expect(handle.result).resolves.toBe('logged');
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ completed: 1, failed: 1, lost: 0 });
    expect(lines).toEqual(
      expect.arrayContaining([
        ['info', 'from the task'],
        ['warn', 'from a child of the task'],
        ['warn', 'a task failed and nobody awaited its result'],
      ]),
    );
  });

  it('a frozen logger object (its methods fixed) is contained like any other', async () => {
    const lines: string[] = [];
    const logger = Object.freeze({
      child() {
        return this;
      },
      error(message: string) {
        lines.push(message);
      },
      warn(message: string) {
        lines.push(message);
      },
      info() {
        throw new Error('info throws');
      },
      debug() {},
    });
    const { engine, clock } = startEngine({ logger: logger as never });
    engine.submit(() => {
      throw new Error('nobody awaits this');
    });
    const handle = engine.submit((ctx) => void ctx.logger.info('thrown away'));
    await clock.runAll();
    expect(handle.status).toBe('completed');
    expect(lines).toContain('a task failed and nobody awaited its result');
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ lost: 0 });
  });

  it('a logger whose every method throws: tasks run, fail and settle, and shutdown resolves', async () => {
    const logger: Logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
    for (const level of ['error', 'warn', 'info', 'debug', 'log'] as const) {
      (logger as unknown as Record<string, unknown>)[level] = () => {
        throw new Error(`${level} throws`);
      };
    }
    const { engine } = startEngine({ logger, resources: { db: 1 }, workers: 2 });
    const holder = engine.submit(async (ctx) => (await ctx.acquire('db')).release());
    const failing = engine.submit(() => {
      throw new Error('fails');
    });
    await expect(holder.result).resolves.toBeUndefined();
    await expect(failing.result).rejects.toMatchObject({ code: 'E_TASK_FAILED' });
    await expect(engine.shutdown()).resolves.toMatchObject({ completed: 1, failed: 1, lost: 0 });
  });
});

describe("a task context's arguments are checked", () => {
  it.each([NaN, -100, '50', {}, Infinity])('ctx.sleep(%p) rejects with E_INVALID_OPTION', async (ms) => {
    const { engine } = startEngine();
    await expect(engine.submit((ctx) => ctx.sleep(ms as number)).result).rejects.toMatchObject({
      code: 'E_TASK_FAILED',
      cause: expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    });
    await engine.shutdown();
  });

  it.each(['two', null, 3, [1]])('ctx.acquire(resource, %p) rejects with E_INVALID_OPTION', async (options) => {
    const { engine } = startEngine({ resources: { db: 1 } });
    await expect(engine.submit((ctx) => ctx.acquire('db', options as never)).result).rejects.toMatchObject({
      code: 'E_TASK_FAILED',
      cause: expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    });
    await engine.shutdown();
  });
});

describe("a task context's calls with a hostile argument", () => {
  const thrown = new Error('a hostile proxy threw');
  const hostile = new Proxy(
    {},
    {
      get() {
        throw thrown;
      },
      getPrototypeOf() {
        throw thrown;
      },
      ownKeys() {
        throw thrown;
      },
    },
  );

  it.each<[string, string, (ctx: Parameters<TaskFunction>[0], other: TaskHandle<unknown>) => Promise<unknown>]>([
    ['ctx.acquire(resource, proxy)', 'options', (ctx) => ctx.acquire('db', hostile as never)],
    ['ctx.await(handle, proxy)', 'options', (ctx, other) => ctx.await(other, hostile as never)],
    ['ctx.await(proxy)', 'handle', (ctx) => ctx.await(hostile as never)],
  ])('%s returns a promise rejected with E_INVALID_OPTION naming `%s`; it does not throw', async (_call, option, call) => {
    const { engine, clock } = startEngine({ resources: { db: 1 }, concurrency: 2 });
    const other = engine.submit(async (ctx) => ctx.sleep(5));
    let outcome: 'threw' | 'rejected' | 'resolved' | undefined;
    let reason: unknown;
    const handle = engine.submit(async (ctx) => {
      let promise: Promise<unknown>;
      try {
        promise = call(ctx, other);
      } catch {
        outcome = 'threw';
        return;
      }
      await promise.then(
        () => (outcome = 'resolved'),
        (error: unknown) => {
          outcome = 'rejected';
          reason = error;
        },
      );
    });
    await clock.runAll();
    expect(outcome).toBe('rejected');
    expect(reason).toBeInstanceOf(MezanError);
    expect((reason as MezanError).code).toBe('E_INVALID_OPTION');
    expect((reason as MezanError).details['option']).toBe(option);
    expect((reason as MezanError).cause).toBe(thrown);
    expect(handle.status).toBe('completed');
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ lost: 0 });
  });
});

describe('shutdown.signals', () => {
  it.each([
    // eslint-disable-next-line no-sparse-arrays -- the holes are the input under test
    [[, 'SIGTERM'], 'shutdown.signals[0]'],
    // eslint-disable-next-line no-sparse-arrays -- the holes are the input under test
    [['SIGTERM', , 'SIGINT'], 'shutdown.signals[1]'],
    [new Array(1), 'shutdown.signals[0]'],
  ])('refuses a hole: %p names no signal', (signals, path) => {
    const error = thrownByCreate({ shutdown: { signals } });
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: path } });
    expect(error.message).toContain(`\`${path}\``);
  });

  it.each(['SIGKILL', 'SIGSTOP', 'SIGFOO', 'sigterm', ''])('refuses %p: only a signal a process can catch', (signal) => {
    expect(() => createEngine({ shutdown: { signals: [signal as NodeJS.Signals] } })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('shutdown.signals[0]') }),
    );
  });

  it('accepts the signals a process can catch', async () => {
    const engine = createEngine({ shutdown: { signals: ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'] } });
    await engine.shutdown();
  });
});

describe('a bounded shutdown: functions that ignore their abort signal are abandoned after shutdown.abandonAfterMs', () => {
  const never = (): Promise<never> => new Promise<never>(() => undefined);

  it('draining, then terminating, then abandoned: the report lists them, and nothing is lost', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, shutdown: { abandonAfterMs: 1_000 } });
    const stuck = engine.submit(never, { id: 'stuck' });
    const done = engine.submit(async () => 'done');
    await clock.advanceBy(0);
    let report: ShutdownReport | undefined;
    void engine.shutdown({ graceMs: 100 }).then((value) => (report = value));
    await clock.advanceBy(100);
    await expect(stuck.result).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
    await clock.advanceBy(999);
    expect(report).toBeUndefined();
    await clock.advanceBy(1);
    expect(report).toMatchObject({ completed: 1, cancelled: 1, lost: 0, abandoned: ['stuck'] });
    expect(report!.phases.map((phase) => phase.phase)).toEqual(['draining', 'terminating', 'stopped']);
    await expect(done.result).resolves.toBe('done');
  });

  it('with force, and for a task that timed out but whose function never returned', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, shutdown: { abandonAfterMs: 500 } });
    engine.submit(never, { id: 'ignores-abort' });
    const timedOut = engine.submit(never, { id: 'timed-out', timeoutMs: 50 });
    await clock.advanceBy(50);
    await expect(timedOut.result).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    let report: ShutdownReport | undefined;
    void engine.shutdown({ force: true }).then((value) => (report = value));
    await clock.advanceBy(499);
    expect(report).toBeUndefined();
    await clock.advanceBy(1);
    expect(report).toMatchObject({ cancelled: 1, timedOut: 1, lost: 0 });
    expect([...report!.abandoned].sort()).toEqual(['ignores-abort', 'timed-out']);
  });

  it('abandons nothing when every aborted function returns', async () => {
    const { engine, clock } = startEngine({ shutdown: { abandonAfterMs: 500 } });
    engine.submit((ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())));
    await clock.advanceBy(0);
    const report = engine.shutdown({ force: true });
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ cancelled: 1, abandoned: [] });
  });

  it.each([-1, NaN, '5', 2 ** 31])('refuses shutdown.abandonAfterMs %p', (abandonAfterMs) => {
    expect(() => createEngine({ shutdown: { abandonAfterMs: abandonAfterMs as number } })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('shutdown.abandonAfterMs') }),
    );
  });
});

describe('an injected clock and random source are checked when the engine is made', () => {
  it.each<[string, () => unknown]>([
    ['NaN', () => NaN],
    ['Infinity', () => Infinity],
    ['a string', () => '5'],
    [
      'a throw',
      () => {
        throw new Error('no time');
      },
    ],
  ])('a clock whose now() returns %s is refused', (_name, now) => {
    const clock = { now, setTimeout: () => 0, clearTimeout: () => undefined };
    expect(() => createEngine({ clock: clock as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('clock.now()') }),
    );
  });

  it.each([2, -0.5, 1, NaN, '0.5'])('a random source that returns %p is refused', (value) => {
    expect(() => createEngine({ random: () => value as number })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('random()') }),
    );
  });

  it('a random source that throws is refused, its exception as the cause', () => {
    const thrown = new Error('no randomness today');
    const error = thrownByCreate({
      random: () => {
        throw thrown;
      },
    });
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'random()' }, cause: thrown });
    expect(error.message).toContain('`random()`');
  });

  it.each([0.99, 0.15, 0.5, 0, 1 - 2 ** -53])('a constant random source (always %p) makes an engine, its id from 8 draws', async (value) => {
    // Counted, so that a source drawn from without end fails the test instead of hanging it.
    let draws = 0;
    const random = (): number => {
      if (++draws > 1_000) throw new Error('drawn from more than 1000 times');
      return value;
    };
    const engine = createEngine({ clock: new VirtualClock(), random, logger: false });
    expect(draws).toBe(8);
    const character = '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(value * 36)]!;
    expect(engine.id).toBe(`engine-${character.repeat(8)}`);
    await engine.shutdown();
  });

  it('the engine id is the same for the same seed (simulations replay by seed), and of the form engine-XXXXXXXX', async () => {
    const ids = [7, 7, 8].map((seed) => createEngine({ clock: new VirtualClock(), random: seededRandom(seed), logger: false }));
    expect(ids[0]!.id).toMatch(/^engine-[0-9a-z]{8}$/);
    expect(ids[1]!.id).toBe(ids[0]!.id);
    expect(ids[2]!.id).not.toBe(ids[0]!.id);
    await Promise.all(ids.map((engine) => engine.shutdown()));
  });

  it('a random source that goes bad later costs a retry its jitter, never the engine', async () => {
    let bad = false;
    let draws = 0;
    const random = (): number => (!bad ? 0.5 : ++draws % 2 === 0 ? 7 : Number.NaN);
    const { engine, clock } = startEngine({ random });
    bad = true;
    let calls = 0;
    const handle = engine.submit(
      async () => {
        if (++calls < 3) throw new Error('again');
        return 'third time';
      },
      { retries: { max: 3, delayMs: 10, jitter: 1 } },
    );
    await clock.runAll();
    await expect(handle.result).resolves.toBe('third time');
    // Both retries drew a bad value.
    expect(draws).toBe(2);
    await engine.shutdown();
  });
});

describe('a count that would allocate per unit', () => {
  it.each<['engine' | 'group', number]>([
    ['engine', 2 ** 32],
    ['group', 2 ** 32],
    ['engine', Number.MAX_SAFE_INTEGER],
  ])('rateLimit per %p with a limit of %p: tasks start, and shutdown resolves (no allocation per unit of the limit)', async (per, limit) => {
    const { engine, clock } = startEngine({ concurrency: 2, rateLimit: { limit, intervalMs: 1_000, per } });
    const handles = [1, 2, 3].map((n) =>
      engine.submit(
        async (ctx) => {
          await ctx.sleep(n);
          return n;
        },
        { group: 'g' },
      ),
    );
    await clock.runAll();
    expect(handles.map((handle) => handle.status)).toEqual(['completed', 'completed', 'completed']);
    await expect(Promise.all(handles.map((handle) => handle.result))).resolves.toEqual([1, 2, 3]);
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ completed: 3, lost: 0 });
  });
});

describe('a fault in the engine itself', () => {
  it('the executor logs an error for an event it failed on, and goes on running and settling tasks', async () => {
    const { logger, records } = recordingLogger();
    const { engine, clock } = startEngine({ logger, concurrency: 2 });
    const applyOutcome = TaskBook.prototype.applyOutcome;
    let faults = 1;
    let lostToTheBug: TaskHandle<string> | undefined;
    const spy = jest.spyOn(TaskBook.prototype, 'applyOutcome').mockImplementation(function (this: TaskBook, ...args) {
      if (faults-- > 0) throw new Error('a bug in the book');
      return applyOutcome.apply(this, args);
    });
    try {
      lostToTheBug = engine.submit(async () => 'lost to the bug');
      await clock.advanceBy(0);
      await expect(engine.submit(async () => 'after').result).resolves.toBe('after');
      expect(records).toContainEqual(
        expect.objectContaining({
          level: 'error',
          message: 'the executor failed on an event; it goes on with the next one',
          error: 'a bug in the book',
        }),
      );
    } finally {
      spy.mockRestore();
    }
    // The task whose report the bug ate stays on its worker for the book: shutdown gives up on it
    // after abandonAfterMs and settles it, so that it still ends, and shutdown with it.
    expect(lostToTheBug!.status).toBe('running');
    const report = engine.shutdown({ force: true });
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ completed: 1, cancelled: 1, lost: 0 });
    await expect(lostToTheBug!.result).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
  });

  it('a worker that fails is restarted as after a crash: its tasks fail with E_WORKER_CRASHED (and retry), the error is logged', async () => {
    const { logger, records } = recordingLogger();
    const { engine, clock, ofType } = startEngine({ logger, concurrency: 2 });
    const takeReport = TaskRunner.prototype.takeReport;
    let faults = 1;
    const spy = jest.spyOn(TaskRunner.prototype, 'takeReport').mockImplementation(function (this: TaskRunner) {
      if (faults-- > 0) throw new Error('a bug in the worker');
      return takeReport.call(this);
    });
    try {
      const retried = engine.submit(async () => 'retried', { retries: 1 });
      await clock.advanceBy(0);
      await expect(retried.result).resolves.toBe('retried');
      await expect(engine.submit(async () => 'after').result).resolves.toBe('after');
    } finally {
      spy.mockRestore();
    }
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'worker main failed: it is restarted as after a crash', error: 'a bug in the worker' }),
    );
    expect(ofType('worker.crashed')).toHaveLength(1);
    expect(ofType('worker.restarted')).toHaveLength(1);
    const report = engine.shutdown();
    await clock.runAll();
    await expect(report).resolves.toMatchObject({ completed: 2, lost: 0 });
  });

  it('a pool that fails escalates: the error is logged, the engine stops taking work and shuts down, every task accounted for', async () => {
    const { logger, records } = recordingLogger();
    const { engine, clock, ofType } = startEngine({ logger, concurrency: 2, resources: { db: 1 } });
    const spy = jest.spyOn(WaiterQueue.prototype, 'push').mockImplementation(() => {
      throw new Error('a bug in the pool');
    });
    let holder: TaskHandle<void>;
    let waiter: TaskHandle<void>;
    try {
      holder = engine.submit(async (ctx) => {
        await ctx.acquire('db');
        await ctx.sleep(10);
      });
      waiter = engine.submit(async (ctx) => void (await ctx.acquire('db')));
      await clock.advanceBy(0);
    } finally {
      spy.mockRestore();
    }
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'the resource:db actor failed: the engine shuts down', error: 'a bug in the pool' }),
    );
    expect(ofType('engine.escalated')).toEqual([expect.objectContaining({ reason: 'actor failed', actor: 'resource:db', severity: 'critical' })]);
    expect(engine.isAccepting).toBe(false);
    await clock.runAll();
    const report = await engine.shutdown();
    expect(report).toMatchObject({ lost: 0 });
    expect(report.phases.map((phase) => phase.phase)).toEqual(['terminating', 'stopped']);
    expect(holder!.isSettled && waiter!.isSettled).toBe(true);
    await expect(engine.submit(async () => undefined).result).rejects.toMatchObject({ code: 'E_SHUTDOWN' });
  });
});
