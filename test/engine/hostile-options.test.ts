import { createEngine, MezanError, VirtualClock, type EngineOptions, type TaskOptions } from '../../src';
import { startEngine } from '../fixtures/engine-harness';

// Options are the caller's objects: a getter or a proxy trap may throw while the engine reads them.
// Whatever it throws, the caller gets an `E_INVALID_OPTION` naming what was being read, with what
// was thrown as its cause; a MezanError thrown on purpose passes as it is.

/** An object whose every read throws `thrown`, from whichever trap the reader reaches first. */
function throwingOptions(thrown: unknown = new Error('trap threw')): object {
  const fail = (): never => {
    throw thrown;
  };
  return new Proxy({}, { get: fail, has: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, getPrototypeOf: fail });
}

/** A property descriptor of `key` whose getter throws. */
function throwingGetter(key: string): PropertyDescriptor {
  return {
    enumerable: true,
    get() {
      throw new Error(`${key} getter threw`);
    },
  };
}

/** An object whose only key, `key`, has a getter that throws. */
function withThrowingGetter(key: string): object {
  return Object.defineProperty({}, key, throwingGetter(key));
}

const revoked = Proxy.revocable({}, {});
revoked.revoke();

function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Checks `error` is the `E_INVALID_OPTION` of reading `option` in `call`, caused by `cause` when given. */
function expectReadError(error: unknown, call: string, option: string, cause?: unknown): void {
  expect(error).toBeInstanceOf(MezanError);
  const mezanError = error as MezanError;
  expect(mezanError.code).toBe('E_INVALID_OPTION');
  expect(mezanError.message).toContain(`Reading \`${option}\` (${call}) threw`);
  expect(mezanError.details['option']).toBe(option);
  if (cause !== undefined) expect(mezanError.cause).toBe(cause);
}

const ENGINE = 'the options of `createEngine`';
const SUBMIT = 'the options of `submit`';
const GRAPH = 'the graph of `submitGraph`';

describe('hostile options', () => {
  describe('createEngine', () => {
    it('turns a throwing proxy into E_INVALID_OPTION naming `options`, with the thrown error as cause', () => {
      const thrown = new Error('boom');
      expectReadError(
        thrownBy(() => createEngine(throwingOptions(thrown) as EngineOptions)),
        ENGINE,
        'options',
        thrown,
      );
    });

    it.each([
      ['resources', { clock: new VirtualClock(), resources: throwingOptions() }],
      ['shutdown', { clock: new VirtualClock(), shutdown: throwingOptions() }],
      ['deadlock', { clock: new VirtualClock(), deadlock: throwingOptions() }],
      ['rateLimit', { clock: new VirtualClock(), rateLimit: throwingOptions() }],
      ['supervision', { clock: new VirtualClock(), supervision: throwingOptions() }],
      ['resources.db', { clock: new VirtualClock(), resources: { db: throwingOptions() } }],
      ['concurrency', Object.defineProperty({ clock: new VirtualClock() }, 'concurrency', throwingGetter('concurrency'))],
    ])('names the option whose reading threw: %s', (option, options) => {
      expectReadError(
        thrownBy(() => createEngine(options as EngineOptions)),
        ENGINE,
        option,
      );
    });

    it('names a known option a proxy reads as throwing though it lists no key', () => {
      const listsNothing = new Proxy(
        {},
        {
          get: (_target, key) => {
            if (key === 'concurrency') throw new Error('concurrency threw');
            return undefined;
          },
        },
      );
      expectReadError(
        thrownBy(() => createEngine(listsNothing as EngineOptions)),
        ENGINE,
        'concurrency',
      );
    });

    it('describes a thrown value that is itself hostile', () => {
      const error = thrownBy(() => createEngine(throwingOptions(revoked.proxy) as EngineOptions));
      expectReadError(error, ENGINE, 'options', revoked.proxy);
    });

    it('lets a MezanError thrown on purpose through as it is', () => {
      const own = new MezanError('E_SHUTDOWN', 'mine');
      expect(thrownBy(() => createEngine(throwingOptions(own) as EngineOptions))).toBe(own);
    });

    it('refuses a revoked proxy as options', () => {
      const error = thrownBy(() => createEngine(revoked.proxy as EngineOptions)) as MezanError;
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe('options');
    });
  });

  describe('submit, submitGraph, ctx.submit and shutdown', () => {
    it('refuses throwing task options, naming the option, without queuing anything', async () => {
      const { engine } = startEngine();
      const run = jest.fn(async () => 1);
      const cases: ReadonlyArray<readonly [string, object]> = [
        ['options', throwingOptions()],
        ['resources', { resources: throwingOptions() }],
        ['retries', { retries: throwingOptions() }],
        ['signal', { signal: throwingOptions() }],
        ['meta', { meta: throwingOptions() }],
        [
          'dependsOn',
          {
            dependsOn: new Proxy([], {
              get: () => {
                throw new Error('reading the list threw');
              },
            }),
          },
        ],
        ['dependsOn[0].task', { dependsOn: [{ task: throwingOptions() }] }],
        ['priority', withThrowingGetter('priority')],
      ];
      for (const [option, options] of cases) {
        let error: unknown = 'accepted';
        try {
          engine.submit(run, options as TaskOptions);
        } catch (thrown) {
          error = thrown;
        }
        // `meta` is the caller's, untouched: a hostile value is accepted there, as any other.
        if (option === 'meta') expect(error).toBe('accepted');
        else expectReadError(error, SUBMIT, option);
      }
      const report = await engine.shutdown();
      expect(run).toHaveBeenCalledTimes(1);
      expect(report.completed).toBe(1);
    });

    it('refuses a throwing graph and a graph node whose reading throws, naming the path', async () => {
      const { engine } = startEngine();
      expectReadError(
        thrownBy(() => engine.submitGraph(throwingOptions() as never)),
        GRAPH,
        'graph',
      );
      expectReadError(
        thrownBy(() => engine.submitGraph({ a: throwingOptions() } as never)),
        GRAPH,
        'graph.a',
      );
      expectReadError(
        thrownBy(() => engine.submitGraph(withThrowingGetter('a') as never)),
        GRAPH,
        'graph.a',
      );
      expectReadError(
        thrownBy(() => engine.submitGraph({ a: Object.defineProperty({ run: async () => 1 }, 'priority', throwingGetter('priority')) } as never)),
        GRAPH,
        'graph.a.priority',
      );
      await engine.shutdown();
    });

    it('fails the parent task with the read error when ctx.submit gets throwing options', async () => {
      const { engine } = startEngine();
      const handle = engine.submit(async (ctx) => {
        ctx.submit(async () => 2, throwingOptions() as TaskOptions);
      });
      const error = (await handle.result.catch((thrown: unknown) => thrown)) as MezanError;
      expect(error.code).toBe('E_TASK_FAILED');
      expectReadError(error.cause, 'the options of `ctx.submit`', 'options');
      await engine.shutdown();
    });

    it('refuses throwing shutdown options, then shuts down on a good call', async () => {
      const { engine } = startEngine();
      let error: unknown;
      try {
        await engine.shutdown(withThrowingGetter('graceMs') as never);
      } catch (thrown) {
        error = thrown;
      }
      expectReadError(error, 'the options of `shutdown`', 'graceMs');
      const report = await engine.shutdown();
      expect(report.lost).toBe(0);
    });

    it('reads each shutdown option once: a getter cannot pass the check with one value and send another', async () => {
      const { engine } = startEngine();
      let reads = 0;
      const fickle = {
        get graceMs(): unknown {
          reads++;
          return reads === 1 ? 10 : 'not a number';
        },
      };
      const report = await engine.shutdown(fickle as never);
      expect(reads).toBe(1);
      expect(report.lost).toBe(0);
    });
  });
});
