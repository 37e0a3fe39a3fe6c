/**
 * What mezan calls on a span: the part of OpenTelemetry's `Span` it uses. Written out here, rather
 * than imported, so that mezan's public types compile without `@opentelemetry/api` installed.
 */
export interface TelemetrySpan {
  /** Sets an attribute of the span, such as the task's id or attempt. */
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Sets the span's status: OpenTelemetry's `SpanStatusCode` and, for an error, its message. */
  setStatus(status: {
    /** OpenTelemetry's `SpanStatusCode`. */
    code: number;
    /** What went wrong, for an error. */
    message?: string;
  }): unknown;
  /** Records what a failed attempt threw. */
  recordException(exception: unknown, time?: unknown): unknown;
  /** Adds a timed event to the span. */
  addEvent(name: string, attributes?: Record<string, string | number | boolean | undefined>, time?: unknown): unknown;
  /** Ends the span. */
  end(endTime?: unknown): unknown;
}

/**
 * What mezan needs of a tracer: OpenTelemetry's `Tracer` (`trace.getTracer(name)` of
 * `@opentelemetry/api`) fits it as it is.
 */
export interface TelemetryTracer {
  /** Starts a span named `name`, child of the span in `context`. */
  startSpan(name: string, options?: object, context?: unknown): TelemetrySpan;
}

/**
 * OpenTelemetry tracing (with `@opentelemetry/api` installed): a span per task attempt, named after
 * the task, child of the span active where the task was submitted, or of its parent task's span for
 * `ctx.submit`; the task function runs in its span's context.
 */
export interface TelemetryOptions {
  /**
   * The tracer that starts the spans, such as `trace.getTracer('my-service')`.
   * @default the tracer named `mezan` (with mezan's version) of the global tracer provider
   */
  tracer?: TelemetryTracer;
}

/** @internal */
export const TELEMETRY_OPTION_KEYS: Readonly<Record<keyof TelemetryOptions, true>> = Object.freeze({ tracer: true });
