import { context, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createEngine, VirtualClock, type EngineOptions, type TaskContext } from '../../src';
import type { TelemetryTracer } from '../../src/telemetry/telemetry-options';
import { TASK_SPAN_ATTRIBUTES, TaskTracing } from '../../src/telemetry/task-tracing';
import { deferred, rejectionOf } from '../fixtures/engine-harness';
import { millisOf, parentIdOf, recordSpans, useAsyncContext, type SpanRecorder } from './span-recorder';

const {
  taskId: TASK_ID,
  attempt: ATTEMPT,
  status: STATUS,
  errorCode: ERROR_CODE,
  queueWaitMs: QUEUE_WAIT_MS,
  parentId: PARENT_ID,
  workerId: WORKER_ID,
} = TASK_SPAN_ATTRIBUTES;

// OpenTelemetry's own tracer fits mezan's structural type as it is.
const fits: (tracer: Tracer) => TelemetryTracer = (tracer) => tracer;
void fits;

let recorder: SpanRecorder;
let tracer: Tracer;
let undoContext: () => void;

beforeEach(() => {
  recorder = recordSpans();
  tracer = recorder.provider.getTracer('test');
  undoContext = useAsyncContext();
});

afterEach(() => undoContext());

/** An engine in virtual time whose task spans go to the recorder. */
function tracedEngine(options: EngineOptions = {}): { engine: ReturnType<typeof createEngine>; clock: VirtualClock } {
  const clock = new VirtualClock();
  const engine = createEngine({ concurrency: 1, logger: false, clock, telemetry: { tracer }, ...options });
  return { engine, clock };
}

/** Runs `body` with the recorder's provider as the global tracer provider. */
async function withGlobalProvider(body: () => Promise<void>): Promise<void> {
  trace.setGlobalTracerProvider(recorder.provider);
  try {
    await body();
  } finally {
    trace.disable();
  }
}

/** A task function that throws `error`. */
const thrower = (error: Error) => async (): Promise<never> => {
  throw error;
};

function durationOf(span: ReadableSpan): number {
  return millisOf(span.endTime) - millisOf(span.startTime);
}

const sleeper =
  (ms: number) =>
  async (ctx: TaskContext): Promise<string> => {
    await ctx.sleep(ms);
    return 'done';
  };

describe('telemetry: a span per task attempt', () => {
  it('names the span after the task, with its id, attempt, status and queue wait, and times it on the engine’s clock', async () => {
    const { engine, clock } = tracedEngine();
    engine.submit(sleeper(40), { id: 'first', name: 'resize' });
    const second = engine.submit(sleeper(25), { id: 'second', name: 'upload' });
    await clock.runAll();
    await expect(second.result).resolves.toBe('done');
    const upload = recorder.span('upload');
    expect(upload.attributes).toMatchObject({ [TASK_ID]: 'second', [ATTEMPT]: 1, [STATUS]: 'completed', [QUEUE_WAIT_MS]: 40, [WORKER_ID]: 'main' });
    expect(upload.attributes[ERROR_CODE]).toBeUndefined();
    expect(upload.status.code).toBe(SpanStatusCode.UNSET);
    expect(millisOf(upload.startTime)).toBe(40);
    expect(durationOf(upload)).toBe(25);
    expect(recorder.span('resize').attributes[QUEUE_WAIT_MS]).toBe(0);
    await engine.shutdown();
  });

  it('is a child of the span active where the task was submitted, and the task’s own spans are its children', async () => {
    const { engine, clock } = tracedEngine();
    const handle = tracer.startActiveSpan('request', (request) => {
      const submitted = engine.submit(
        async (ctx) => {
          await ctx.sleep(5);
          tracer.startActiveSpan('query', (query) => query.end());
          return ctx.id;
        },
        { name: 'job' },
      );
      request.end();
      return submitted;
    });
    await clock.runAll();
    await handle.result;
    const [request, job, query] = [recorder.span('request'), recorder.span('job'), recorder.span('query')];
    expect(parentIdOf(job)).toBe(request.spanContext().spanId);
    expect(parentIdOf(query)).toBe(job.spanContext().spanId);
    expect(new Set([request, job, query].map((span) => span.spanContext().traceId)).size).toBe(1);
    await engine.shutdown();
  });

  it('makes a task submitted with ctx.submit a child of its parent task’s span: nested tasks form one trace', async () => {
    const { engine, clock } = tracedEngine({ concurrency: 2 });
    const root = engine.submit(
      async (ctx) => {
        const child = ctx.submit(
          async (inner) => {
            const grandchild = inner.submit(sleeper(5), { name: 'grandchild' });
            return inner.await(grandchild);
          },
          { name: 'child' },
        );
        return ctx.await(child);
      },
      { name: 'root' },
    );
    await clock.runAll();
    await expect(root.result).resolves.toBe('done');
    const [rootSpan, child, grandchild] = [recorder.span('root'), recorder.span('child'), recorder.span('grandchild')];
    expect(parentIdOf(rootSpan)).toBeUndefined();
    expect(parentIdOf(child)).toBe(rootSpan.spanContext().spanId);
    expect(parentIdOf(grandchild)).toBe(child.spanContext().spanId);
    expect(child.attributes[PARENT_ID]).toBe(rootSpan.attributes[TASK_ID]);
    expect(new Set([rootSpan, child, grandchild].map((span) => span.spanContext().traceId)).size).toBe(1);
    await engine.shutdown();
  });

  it('nests ctx.submit under the parent task’s span without a context manager too, and under the parent’s own span when one is active', async () => {
    undoContext();
    undoContext = () => undefined;
    const { engine, clock } = tracedEngine({ concurrency: 2 });
    const root = engine.submit(
      async (ctx) => {
        await ctx.sleep(1);
        return ctx.await(ctx.submit(sleeper(1), { name: 'child' }));
      },
      { name: 'root' },
    );
    await clock.runAll();
    await root.result;
    expect(parentIdOf(recorder.span('child'))).toBe(recorder.span('root').spanContext().spanId);
    await engine.shutdown();

    undoContext = useAsyncContext();
    const again = tracedEngine({ concurrency: 2 });
    const parent = again.engine.submit(
      (ctx) => tracer.startActiveSpan('step', (step) => ctx.await(ctx.submit(sleeper(1), { name: 'step child' })).finally(() => step.end())),
      { name: 'parent' },
    );
    await again.clock.runAll();
    await parent.result;
    expect(parentIdOf(recorder.span('step child'))).toBe(recorder.span('step').spanContext().spanId);
    expect(parentIdOf(recorder.span('step'))).toBe(recorder.span('parent').spanContext().spanId);
    await again.engine.shutdown();
  });

  it('gives each attempt of a retried task its own span: failed ones retrying with the error, the last one completed', async () => {
    const { engine, clock } = tracedEngine();
    const handle = engine.submit(
      async (ctx) => {
        await ctx.sleep(10);
        if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
        return ctx.attempt;
      },
      { name: 'flaky', retries: { max: 2, delayMs: 50 } },
    );
    await clock.runAll();
    await expect(handle.result).resolves.toBe(3);
    const spans = recorder.spans().filter((span) => span.name === 'flaky');
    expect(spans.map((span) => [span.attributes[ATTEMPT], span.attributes[STATUS], span.attributes[ERROR_CODE], span.status.code])).toEqual([
      [1, 'retrying', 'E_TASK_FAILED', SpanStatusCode.ERROR],
      [2, 'retrying', 'E_TASK_FAILED', SpanStatusCode.ERROR],
      [3, 'completed', undefined, SpanStatusCode.UNSET],
    ]);
    expect(spans[0]!.status.message).toBe('attempt 1 failed');
    expect(spans[0]!.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([['exception', 'attempt 1 failed']]);
    // 10 ms each, 50 ms apart: the retry is queued when its delay is over and starts at once.
    expect(spans.map((span) => millisOf(span.startTime))).toEqual([0, 60, 120]);
    expect(spans.map(durationOf)).toEqual([10, 10, 10]);
    expect(spans.map((span) => span.attributes[QUEUE_WAIT_MS])).toEqual([0, 0, 0]);
    expect(new Set(spans.map((span) => span.spanContext().spanId)).size).toBe(3);
    await engine.shutdown();
  });

  it('ends a failed attempt with its code, the ERROR status and the exception', async () => {
    const { engine, clock } = tracedEngine();
    const handle = engine.submit(thrower(new TypeError('bad input')), { name: 'parse' });
    await clock.runAll();
    expect((await rejectionOf(handle)).code).toBe('E_TASK_FAILED');
    const span = recorder.span('parse');
    expect(span.attributes).toMatchObject({ [STATUS]: 'failed', [ERROR_CODE]: 'E_TASK_FAILED', 'error.type': 'E_TASK_FAILED' });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' });
    expect(span.events[0]?.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad input' });
    await engine.shutdown();
  });

  it('ends a timed-out attempt when it times out, with E_TIMEOUT', async () => {
    const { engine, clock } = tracedEngine();
    const handle = engine.submit(sleeper(500), { name: 'slow', timeoutMs: 100 });
    await clock.runAll();
    expect((await rejectionOf(handle)).code).toBe('E_TIMEOUT');
    const span = recorder.span('slow');
    expect(span.attributes).toMatchObject({ [STATUS]: 'timeout', [ERROR_CODE]: 'E_TIMEOUT' });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(durationOf(span)).toBe(100);
    await engine.shutdown();
  });

  it('ends a cancelled attempt when it is cancelled, with E_CANCELLED and no error status', async () => {
    const { engine, clock } = tracedEngine();
    const handle = engine.submit(sleeper(500), { name: 'long' });
    await clock.advanceBy(30);
    handle.cancel('changed my mind');
    await clock.runAll();
    const span = recorder.span('long');
    expect(span.attributes).toMatchObject({ [STATUS]: 'cancelled', [ERROR_CODE]: 'E_CANCELLED', [ATTEMPT]: 1 });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(durationOf(span)).toBe(30);
    await engine.shutdown();
  });

  it('gives a task that never starts a span from its queueing to its end: a queue timeout, a cancellation while queued', async () => {
    const { engine, clock } = tracedEngine();
    const blocker = deferred<void>();
    engine.submit(() => blocker.promise, { name: 'blocker' });
    const late = engine.submit(() => 'never', { name: 'late', queueTimeoutMs: 50 });
    const dropped = engine.submit(() => 'never', { name: 'dropped' });
    await clock.advanceBy(20);
    dropped.cancel();
    await clock.advanceBy(40);
    expect((await rejectionOf(late)).code).toBe('E_QUEUE_TIMEOUT');
    blocker.resolve();
    await clock.runAll();
    const lateSpan = recorder.span('late');
    expect(lateSpan.attributes).toMatchObject({ [STATUS]: 'timeout', [ERROR_CODE]: 'E_QUEUE_TIMEOUT', [ATTEMPT]: 1, [QUEUE_WAIT_MS]: 50 });
    expect(lateSpan.attributes[WORKER_ID]).toBeUndefined();
    expect(lateSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect([millisOf(lateSpan.startTime), durationOf(lateSpan)]).toEqual([0, 50]);
    const droppedSpan = recorder.span('dropped');
    expect(droppedSpan.attributes).toMatchObject({ [STATUS]: 'cancelled', [ERROR_CODE]: 'E_CANCELLED', [QUEUE_WAIT_MS]: 20 });
    expect(durationOf(droppedSpan)).toBe(20);
    await engine.shutdown();
  });

  it('gives a span to a task whose dependency failed and to one submitted after shutdown began', async () => {
    const { engine, clock } = tracedEngine();
    const failing = engine.submit(thrower(new Error('no')), { name: 'first' });
    const dependent = engine.submit(() => 'never', { name: 'second', dependsOn: [failing] });
    await clock.runAll();
    expect((await rejectionOf(dependent)).code).toBe('E_DEPENDENCY_FAILED');
    expect(recorder.span('second').attributes).toMatchObject({ [STATUS]: 'failed', [ERROR_CODE]: 'E_DEPENDENCY_FAILED' });
    expect(recorder.span('second').attributes[QUEUE_WAIT_MS]).toBeUndefined();
    const blocker = deferred<void>();
    engine.submit(() => blocker.promise, { name: 'blocker' });
    await clock.advanceBy(1);
    const stopping = engine.shutdown();
    const refused = engine.submit(() => 'never', { name: 'too late' });
    blocker.resolve();
    expect((await rejectionOf(refused)).code).toBe('E_SHUTDOWN');
    expect(recorder.span('too late').attributes).toMatchObject({ [STATUS]: 'rejected', [ERROR_CODE]: 'E_SHUTDOWN' });
    await clock.runAll();
    await stopping;
  });

  it('gives the attempt a retry delay was waiting for a span from the failed attempt’s end when it is cancelled', async () => {
    const { engine, clock } = tracedEngine();
    const handle = engine.submit(
      async (ctx) => {
        await ctx.sleep(10);
        throw new Error('first try');
      },
      { name: 'patient', retries: { max: 1, delayMs: 100 } },
    );
    await clock.advanceBy(40);
    handle.cancel();
    await clock.runAll();
    const [first, second] = recorder.spans().filter((span) => span.name === 'patient');
    expect(first!.attributes).toMatchObject({ [ATTEMPT]: 1, [STATUS]: 'retrying' });
    expect(second!.attributes).toMatchObject({ [ATTEMPT]: 2, [STATUS]: 'cancelled', [ERROR_CODE]: 'E_CANCELLED' });
    expect([millisOf(second!.startTime), durationOf(second!)]).toEqual([10, 30]);
    await engine.shutdown();
  });

  it('gives a span to a task cancelled in the tick it was submitted, before the executor saw it', async () => {
    const { engine, clock } = tracedEngine();
    const handle = engine.submit(() => 'never', { name: 'regretted' });
    handle.cancel();
    await clock.runAll();
    expect(recorder.span('regretted').attributes).toMatchObject({ [STATUS]: 'cancelled', [ERROR_CODE]: 'E_CANCELLED' });
    expect(durationOf(recorder.span('regretted'))).toBe(0);
    await engine.shutdown();
  });

  it('stops following the tasks of a graph it refuses', () => {
    const forget = jest.spyOn(TaskTracing.prototype, 'forget');
    try {
      const { engine } = tracedEngine();
      expect(() => engine.submitGraph({ a: { run: () => 1, dependsOn: ['b'] }, b: { run: () => 2, dependsOn: ['a'] } })).toThrow(
        expect.objectContaining({ code: 'E_DEPENDENCY_CYCLE' }),
      );
      expect(() => engine.submitGraph({ c: { run: () => 1 }, d: { run: 42 as never } })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
      expect(forget.mock.calls.map(([id]) => id)).toEqual(['a', 'b', 'c']);
    } finally {
      forget.mockRestore();
    }
  });

  it('records progress as span events', async () => {
    const { engine, clock } = tracedEngine();
    engine.submit(
      async (ctx) => {
        ctx.progress(0.5, 'half');
        await ctx.sleep(10);
        ctx.progress(1);
      },
      { name: 'steps' },
    );
    await clock.runAll();
    expect(recorder.span('steps').events.map((event) => [event.name, event.attributes, millisOf(event.time)])).toEqual([
      ['mezan.task.progress', { fraction: 0.5, message: 'half' }, 0],
      ['mezan.task.progress', { fraction: 1 }, 10],
    ]);
    await engine.shutdown();
  });

  it('times spans with performance.now() on the real clock', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'], now: 1_700_000_000_000 });
    // The fake performance has no timeOrigin of its own: give it the fake wall clock's start.
    Object.defineProperty(performance, 'timeOrigin', { value: 1_700_000_000_000, configurable: true });
    try {
      const engine = createEngine({ concurrency: 1, logger: false, telemetry: { tracer } });
      engine.submit(sleeper(100), { name: 'first' });
      const second = engine.submit(sleeper(250), { name: 'second' });
      await jest.advanceTimersByTimeAsync(400);
      await expect(second.result).resolves.toBe('done');
      const [first, next] = [recorder.span('first'), recorder.span('second')];
      expect(durationOf(first)).toBeCloseTo(100, 6);
      expect(durationOf(next)).toBeCloseTo(250, 6);
      expect(millisOf(next.startTime) - millisOf(first.startTime)).toBeCloseTo(100, 6);
      expect(next.attributes[QUEUE_WAIT_MS]).toBe(100);
      expect(millisOf(first.startTime)).toBe(1_700_000_000_000);
      await engine.shutdown();
    } finally {
      jest.useRealTimers();
    }
  });

  it('with telemetry: true, uses the global tracer provider’s tracer named mezan', () =>
    withGlobalProvider(async () => {
      const { engine, clock } = tracedEngine({ telemetry: true });
      engine.submit(sleeper(1), { name: 'global' });
      await clock.runAll();
      expect(recorder.span('global').instrumentationScope.name).toBe('mezan');
      expect(recorder.span('global').instrumentationScope.version).toMatch(/^\d+\.\d+\.\d+/);
      await engine.shutdown();
    }));

  it('makes no span without the option', () =>
    withGlobalProvider(async () => {
      const { engine, clock } = tracedEngine({ telemetry: undefined });
      const handle = engine.submit(async (ctx) => {
        await ctx.sleep(1);
        return trace.getSpan(context.active());
      });
      await clock.runAll();
      await expect(handle.result).resolves.toBeUndefined();
      expect(recorder.spans()).toEqual([]);
      await engine.shutdown();
    }));

  it('goes on when the tracer throws: tasks settle, the first throw is logged', async () => {
    const errors: unknown[] = [];
    const logger = { error: (...line: unknown[]) => errors.push(line), warn: () => {}, info: () => {}, debug: () => {}, child: () => logger };
    const throwing = {
      startSpan: () => {
        throw new Error('exporter down');
      },
    };
    const clock = new VirtualClock();
    const wrap = jest.spyOn(TaskTracing.prototype, 'wrap');
    try {
      const engine = createEngine({ concurrency: 1, logger, clock, telemetry: { tracer: throwing } });
      const handles = [engine.submit(sleeper(1)), engine.submit(sleeper(1))];
      await clock.runAll();
      await expect(Promise.all(handles.map((handle) => handle.result))).resolves.toEqual(['done', 'done']);
      expect(errors).toEqual([['the OpenTelemetry tracer threw; tasks go on, their spans may be incomplete', { error: 'exporter down' }]]);
      // The tasks ended: nothing of them is kept, though their spans could not be made.
      expect((wrap.mock.contexts[0] as TaskTracing).size).toBe(0);
      await engine.shutdown();
    } finally {
      wrap.mockRestore();
    }
  });

  it('goes on when a span cannot give its spanContext: a task still submits its children, under its own span', async () => {
    const errors: unknown[] = [];
    const logger = { error: (...line: unknown[]) => errors.push(line), warn: () => {}, info: () => {}, debug: () => {}, child: () => logger };
    // Only what TelemetrySpan declares: no spanContext().
    const ended: string[] = [];
    const minimal: TelemetryTracer = {
      startSpan: (name) => ({ setAttribute: () => 0, setStatus: () => 0, recordException: () => 0, addEvent: () => 0, end: () => ended.push(name) }),
    };
    const clock = new VirtualClock();
    const engine = createEngine({ concurrency: 2, logger, clock, telemetry: { tracer: minimal } });
    const root = engine.submit(async (ctx) => ctx.await(ctx.submit(() => 'child', { name: 'child' })), { name: 'root' });
    await clock.runAll();
    await expect(root.result).resolves.toBe('child');
    expect(ended.sort()).toEqual(['child', 'root']);
    expect(errors).toHaveLength(1);
    await engine.shutdown();
  });
});
