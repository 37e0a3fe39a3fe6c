import { createEngine, MezanError, VirtualClock } from '../../src';
import { loadOpenTelemetry, type OpenTelemetryApi } from '../../src/telemetry/load-opentelemetry';
import { resolveTelemetry } from '../../src/telemetry/resolve-telemetry';
import { thrownBy } from '../fixtures/engine-harness';

/** What Node's `require` throws for a package that is not installed. */
function notFound(id: string): Error {
  return Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/index.js`), { code: 'MODULE_NOT_FOUND' });
}

const neverLoad = (): OpenTelemetryApi => {
  throw new Error('loaded @opentelemetry/api while telemetry is off');
};

describe('the telemetry option', () => {
  it.each([
    ['null', null, 'telemetry'],
    ['a number', 1, 'telemetry'],
    ['a string', 'on', 'telemetry'],
    ['an array', [], 'telemetry'],
    ['a tracer without startSpan', { tracer: {} }, 'telemetry.tracer'],
    ['a null tracer', { tracer: null }, 'telemetry.tracer'],
    ['a function as tracer', { tracer: () => undefined }, 'telemetry.tracer'],
    ['an unknown key', { tracr: {} }, 'telemetry.tracr'],
  ])('refuses %s with E_INVALID_OPTION naming the option', (_, telemetry, option) => {
    const error = thrownBy(() => createEngine({ logger: false, clock: new VirtualClock(), telemetry: telemetry as never }));
    expect(error).toBeInstanceOf(MezanError);
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option }) });
  });

  it('says which key was meant', () => {
    expect(thrownBy(() => createEngine({ logger: false, telemetry: { tracr: {} } as never })).message).toMatch(/did you mean "tracer"/);
  });

  it.each([undefined, false])('is off with %p, and loads nothing', (telemetry) => {
    expect(resolveTelemetry(telemetry, neverLoad)).toBeUndefined();
  });

  it('validates before it loads: a bad option is refused even where the API is missing', () => {
    expect(thrownBy(() => resolveTelemetry({ tracer: {} } as never, neverLoad))).toMatchObject({
      details: expect.objectContaining({ option: 'telemetry.tracer' }),
    });
  });

  it('takes the tracer given, or the global one named mezan', () => {
    const tracer = { startSpan: jest.fn() };
    const getTracer = jest.fn((_name: string, _version?: string) => 'global tracer');
    const api = { trace: { getTracer } } as unknown as OpenTelemetryApi;
    expect(resolveTelemetry({ tracer }, () => api)).toEqual({ api, tracer });
    expect(getTracer).not.toHaveBeenCalled();
    expect(resolveTelemetry(true, () => api)?.tracer).toBe('global tracer');
    expect(resolveTelemetry({}, () => api)?.tracer).toBe('global tracer');
    expect(getTracer.mock.calls.map(([name]) => name)).toEqual(['mezan', 'mezan']);
  });
});

describe('loadOpenTelemetry', () => {
  it('loads @opentelemetry/api', () => {
    expect(loadOpenTelemetry()).toBe(jest.requireActual('@opentelemetry/api'));
  });

  it('refuses telemetry with E_INVALID_OPTION naming the missing package when it is not installed', () => {
    const missing = notFound('@opentelemetry/api');
    const error = thrownBy(() =>
      loadOpenTelemetry(() => {
        throw missing;
      }),
    );
    expect(error).toBeInstanceOf(MezanError);
    expect(error).toMatchObject({ code: 'E_INVALID_OPTION', details: { option: 'telemetry', missing: '@opentelemetry/api' }, cause: missing });
    expect(error.message).toMatch(/npm install @opentelemetry\/api/);
  });

  it('lets any other failure through as it is: a broken installation is not a missing one', () => {
    const inner = notFound('some-dependency-of-the-api');
    expect(() =>
      loadOpenTelemetry(() => {
        throw inner;
      }),
    ).toThrow(expect.objectContaining({ message: inner.message, code: 'MODULE_NOT_FOUND' }));
  });

  it('makes createEngine({ telemetry: true }) throw the same where the package is missing', () => {
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/api', () => {
        throw notFound('@opentelemetry/api');
      });
      const isolated = jest.requireActual<typeof import('../../src')>('../../src');
      const make = (): unknown => isolated.createEngine({ logger: false, telemetry: true });
      expect(make).toThrow(isolated.MezanError);
      expect(make).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', details: { option: 'telemetry', missing: '@opentelemetry/api' } }));
      // Without telemetry the same installation works.
      void isolated.createEngine({ logger: false, clock: new isolated.VirtualClock() }).shutdown();
    });
    jest.dontMock('@opentelemetry/api');
  });
});
