import { context, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A tracer provider whose finished spans are kept in memory, for the tests to read. */
export interface SpanRecorder {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** The finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** The one finished span named `name`. */
  span(name: string): ReadableSpan;
}

/** Makes a {@link SpanRecorder}. */
export function recordSpans(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return {
    provider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    span: (name) => {
      const found = exporter.getFinishedSpans().filter((span) => span.name === name);
      if (found.length !== 1) throw new Error(`${found.length} spans named ${name}`);
      return found[0]!;
    },
  };
}

/** Makes `context.with` and `context.active` follow async calls, as an OpenTelemetry SDK for Node does; returns how to undo it. */
export function useAsyncContext(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  return () => {
    manager.disable();
    context.disable();
  };
}

/** An `HrTime` in milliseconds. */
export function millisOf([seconds, nanos]: HrTime): number {
  return seconds * 1000 + nanos / 1e6;
}

/** The id of a span's parent, or `undefined` for a root span. */
export function parentIdOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
