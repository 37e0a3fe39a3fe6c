import type { Attributes, Context, HrTime, Span, TimeInput, Tracer } from '@opentelemetry/api';
import type { Clock } from '../clock';
import type { EngineEvent } from '../engine-events';
import type { MezanErrorCode } from '../errors';
import { describeThrown } from '../internal/describe-thrown';
import type { Logger } from '../logger';
import type { TaskContext, TaskFunction } from '../task-options';
import type { OpenTelemetryApi } from './load-opentelemetry';
import { threadTargetOf } from '../threads/in-thread';

/** The attributes of a task attempt's span. */
export const TASK_SPAN_ATTRIBUTES = Object.freeze({
  /** The task's id. */
  taskId: 'mezan.task.id',
  /** The attempt, from 1. */
  attempt: 'mezan.task.attempt',
  /** How the attempt ended; see {@link AttemptStatus}. */
  status: 'mezan.task.status',
  /** The `MezanError` code of an attempt that did not complete (also as `error.type`). */
  errorCode: 'mezan.task.error_code',
  /** Milliseconds of the engine's clock from queued to started (to its end, for an attempt that never started). */
  queueWaitMs: 'mezan.task.queue_wait_ms',
  /** The parent task's id, for a task submitted with `ctx.submit`. */
  parentId: 'mezan.task.parent_id',
  /** The worker the attempt ran on. */
  workerId: 'mezan.worker.id',
  /** The engine's id. */
  engineId: 'mezan.engine.id',
} as const);

/**
 * How an attempt ended, as its span's `mezan.task.status` says: the task's terminal status, or
 * `retrying` for a failed attempt that another follows.
 */
export type AttemptStatus = 'completed' | 'failed' | 'retrying' | 'timeout' | 'cancelled' | 'deadlock' | 'rejected';

/** `error.type`, OpenTelemetry's semantic convention for the class of an error. */
const ERROR_TYPE = 'error.type';
/** `SpanStatusCode.ERROR`. */
const STATUS_ERROR = 2;
const NS_PER_MS = 1e6;

/** One submitted task, from its submission to its end. */
interface TracedTask {
  readonly id: string;
  /** The context its spans are children of. */
  readonly parent: Context;
  readonly parentId: string | undefined;
  /** Since when its next attempt has been owed (span time): its submission, or the end of the attempt before. */
  waitingTime: TimeInput;
  /** When its current attempt was queued (engine clock, and span time); `undefined` once it started. */
  queuedAt: number | undefined;
  queuedTime: TimeInput | undefined;
  /** The span of the attempt that runs, and the context the function runs in. */
  span: Span | undefined;
  spanContext: Context | undefined;
  spanAttempt: number;
  /** On the real clock, when the current attempt's function returned or threw. */
  returnedTime: TimeInput | undefined;
}

/**
 * Turns each attempt of each task into an OpenTelemetry span, from the engine's events and a
 * wrapper around the task's function, without touching the executor or the workers.
 *
 * - The span starts when the attempt starts (`task.started`), as a child of the context that was
 *   active where the task was submitted, or of its parent task's span for `ctx.submit`; its
 *   function runs inside the span's context (`context.with`), so the function's own spans nest
 *   under it.
 * - It ends when the attempt ends, with `mezan.task.status` and, unless it completed,
 *   `mezan.task.error_code`, `error.type`, the exception and the status `ERROR` (a cancelled
 *   attempt is no error: its status stays unset). An attempt that never started (a queue timeout,
 *   cancelled or rejected before it ran, a failed dependency) still gets its span, from its
 *   queueing (or the task's submission, or the end of the attempt before) to its end.
 * - Times are the engine clock's: a simulation's spans follow its virtual time; on the real clock
 *   they are taken with `performance.now()`, at sub-millisecond precision.
 *
 * It keeps one record per unfinished task, dropped when the task ends.
 *
 * @internal
 */
export class TaskTracing {
  readonly #api: OpenTelemetryApi;
  readonly #tracer: Tracer;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #realTime: boolean;
  readonly #engineId: string;
  readonly #logger: Logger;
  readonly #tasks = new Map<string, TracedTask>();
  #throws = 0;
  #closed = false;

  /**
   * @param realTime - the engine runs on the real clock: span times come from `performance.now()`
   *   rather than from the clock's milliseconds
   */
  constructor(api: OpenTelemetryApi, tracer: Tracer, clock: Pick<Clock, 'now'>, realTime: boolean, engineId: string, logger: Logger) {
    this.#api = api;
    this.#tracer = tracer;
    this.#clock = clock;
    this.#realTime = realTime;
    this.#engineId = engineId;
    this.#logger = logger;
  }

  /**
   * Follows a task being submitted, and wraps its function so that each attempt runs in its span's
   * context. Call it where the task is submitted: the context active there is its spans' parent.
   *
   * @param taskId - the task's id
   * @param parentId - the id of the task that submitted it with `ctx.submit`
   */
  wrap(fn: TaskFunction, taskId: string, parentId: string | undefined): TaskFunction {
    // A stopped engine refuses the task without an event: there is nothing to follow.
    if (this.#closed) return fn;
    const submittedAt = this.#clock.now();
    const task: TracedTask = {
      id: taskId,
      parent: this.#parentContext(parentId),
      parentId,
      waitingTime: this.#time(submittedAt),
      queuedAt: undefined,
      queuedTime: undefined,
      span: undefined,
      spanContext: undefined,
      spanAttempt: 0,
      returnedTime: undefined,
    };
    this.#tasks.set(taskId, task);
    // A thread task's function runs on a worker thread, out of reach of this thread's context: kept as it is, so it still goes there.
    if (threadTargetOf(fn) !== undefined) return fn;
    return (ctx) => this.#run(task, fn, ctx);
  }

  /** The engine stopped: every task has ended, and no event comes any more. */
  close(): void {
    this.#closed = true;
    this.#tasks.clear();
  }

  /** How many tasks it follows: wrapped, and not yet ended. */
  get size(): number {
    return this.#tasks.size;
  }

  /** Stops following a task that was wrapped but never submitted (its graph was refused). */
  forget(taskId: string): void {
    this.#tasks.delete(taskId);
  }

  /**
   * Learns from an engine event. It runs inside the actors' transitions, so nothing it calls (the
   * tracer is the caller's code) may throw out of it: the first throw is logged, the rest counted.
   */
  observe(event: EngineEvent): void {
    try {
      this.#observe(event);
    } catch (thrown) {
      this.#tracerThrew(thrown);
    }
  }

  /** Logs the first throw of the tracer or its spans, and counts the rest. */
  #tracerThrew(thrown: unknown): void {
    if (this.#throws++ > 0) return;
    this.#logger.error('the OpenTelemetry tracer threw; tasks go on, their spans may be incomplete', { error: describeThrown(thrown) });
  }

  #observe(event: EngineEvent): void {
    switch (event.type) {
      case 'task.queued': {
        const task = this.#tasks.get(event.taskId);
        if (task === undefined) return;
        task.queuedAt = event.at;
        task.queuedTime = this.#time(event.at);
        return;
      }
      case 'task.started': {
        const task = this.#tasks.get(event.taskId);
        if (task === undefined) return;
        const attributes: Attributes = {
          [TASK_SPAN_ATTRIBUTES.taskId]: task.id,
          [TASK_SPAN_ATTRIBUTES.attempt]: event.attempt,
          [TASK_SPAN_ATTRIBUTES.queueWaitMs]: task.queuedAt === undefined ? 0 : event.at - task.queuedAt,
          [TASK_SPAN_ATTRIBUTES.workerId]: event.workerId,
          [TASK_SPAN_ATTRIBUTES.engineId]: this.#engineId,
        };
        if (task.parentId !== undefined) attributes[TASK_SPAN_ATTRIBUTES.parentId] = task.parentId;
        const span = this.#tracer.startSpan(event.name, { attributes, startTime: this.#time(event.at) }, task.parent);
        task.span = span;
        task.spanContext = this.#api.trace.setSpan(task.parent, span);
        task.spanAttempt = event.attempt;
        task.returnedTime = undefined;
        task.queuedAt = undefined;
        task.queuedTime = undefined;
        return;
      }
      case 'task.progress': {
        const span = this.#tasks.get(event.taskId)?.span;
        if (span === undefined) return;
        span.addEvent('mezan.task.progress', { fraction: event.fraction, message: event.message }, this.#time(event.at));
        return;
      }
      case 'task.retrying': {
        const task = this.#tasks.get(event.taskId);
        if (task === undefined) return;
        this.#end(task, event.name, event.attempt, 'retrying', event.code, event.error, event.at);
        task.waitingTime = this.#time(event.at);
        return;
      }
      case 'task.completed': {
        const task = this.#taskEnding(event.taskId);
        if (task !== undefined) this.#end(task, event.name, event.attempt, 'completed', undefined, undefined, event.at);
        return;
      }
      case 'task.failed':
      case 'task.timeout':
      case 'task.cancelled':
      case 'task.deadlock':
      case 'task.rejected': {
        const task = this.#taskEnding(event.taskId);
        if (task !== undefined)
          this.#end(task, event.name, event.attempt, statusOf(event.type), event.code, 'error' in event ? event.error : undefined, event.at);
        return;
      }
      default:
        return;
    }
  }

  /** The record of a task that ends, no longer followed: dropped before its span ends, which may throw. */
  #taskEnding(taskId: string): TracedTask | undefined {
    const task = this.#tasks.get(taskId);
    if (task !== undefined) this.#tasks.delete(taskId);
    return task;
  }

  /** Ends the attempt's span, or, for an attempt that never started, makes one from its queueing to now. */
  #end(task: TracedTask, name: string, attempt: number, status: AttemptStatus, code: MezanErrorCode | undefined, error: unknown, at: number): void {
    let span = task.span;
    let endTime = this.#time(at);
    if (span === undefined) {
      const attributes: Attributes = {
        [TASK_SPAN_ATTRIBUTES.taskId]: task.id,
        [TASK_SPAN_ATTRIBUTES.attempt]: attempt,
        [TASK_SPAN_ATTRIBUTES.engineId]: this.#engineId,
      };
      if (task.queuedAt !== undefined) attributes[TASK_SPAN_ATTRIBUTES.queueWaitMs] = at - task.queuedAt;
      if (task.parentId !== undefined) attributes[TASK_SPAN_ATTRIBUTES.parentId] = task.parentId;
      span = this.#tracer.startSpan(name, { attributes, startTime: task.queuedTime ?? task.waitingTime }, task.parent);
    } else if (task.returnedTime !== undefined && (status === 'completed' || status === 'failed' || status === 'retrying')) {
      // On the real clock the outcome is reported at the end of the event loop's turn: the span
      // ends when the function returned.
      endTime = task.returnedTime;
    }
    span.setAttribute(TASK_SPAN_ATTRIBUTES.status, status);
    if (code !== undefined) {
      span.setAttribute(TASK_SPAN_ATTRIBUTES.errorCode, code);
      if (status !== 'cancelled') {
        span.setAttribute(ERROR_TYPE, code);
        if (error !== undefined) span.recordException(error instanceof Error ? error : describeThrown(error), endTime);
        span.setStatus({ code: STATUS_ERROR, message: error instanceof Error ? error.message : code });
      }
    }
    span.end(endTime);
    task.span = undefined;
    task.spanContext = undefined;
    task.returnedTime = undefined;
  }

  /** Runs an attempt of the task's function inside its span's context. */
  #run(task: TracedTask, fn: TaskFunction, ctx: TaskContext): unknown {
    const attempt = ctx.attempt;
    const result = this.#api.context.with(task.spanContext ?? task.parent, fn, undefined, ctx);
    if (this.#realTime) {
      const returned = (): void => {
        if (task.span !== undefined && task.spanAttempt === attempt) task.returnedTime = preciseNow();
      };
      if (result instanceof Promise) result.then(returned, returned);
      else returned();
    }
    return result;
  }

  /**
   * The parent of a new task's spans: the context active here; for `ctx.submit`, its parent task's
   * span, unless the active context is a span of the same trace (one the parent's function made).
   */
  #parentContext(parentId: string | undefined): Context {
    const { context, trace } = this.#api;
    const active = context.active();
    if (parentId === undefined) return active;
    const own = this.#tasks.get(parentId)?.spanContext;
    if (own === undefined) return active;
    const activeSpan = trace.getSpan(active);
    if (activeSpan === undefined) return own;
    try {
      return activeSpan.spanContext().traceId === trace.getSpan(own)!.spanContext().traceId ? active : own;
    } catch (thrown) {
      // The spans are the caller's tracer's (one without `spanContext` fits `TelemetrySpan`): this
      // runs inside the parent task's `ctx.submit`, which must not fail for it.
      this.#tracerThrew(thrown);
      return own;
    }
  }

  /** A span time for the engine clock's `at`: that instant, or, on the real clock, now at full precision. */
  #time(at: number): TimeInput {
    return this.#realTime ? preciseNow() : toHrTime(at);
  }
}

/** Now, in milliseconds since the epoch, at the precision of `performance.now()`. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function statusOf(type: 'task.failed' | 'task.timeout' | 'task.cancelled' | 'task.deadlock' | 'task.rejected'): AttemptStatus {
  return type.slice('task.'.length) as AttemptStatus;
}

/** Milliseconds as OpenTelemetry's `[seconds, nanoseconds]`, taken as they are (a virtual clock's 0 is 1970). */
function toHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * NS_PER_MS);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}
