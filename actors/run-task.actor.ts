import { fromCallback } from 'xstate';
import { MezanError } from '../src/errors';
import type { RunOrder, RunOutcome, RunOutcomeKind, TaskAbortEvent } from '../src/internal/task-protocol';
import type { ResourceReplyEvent } from '../src/internal/resource-protocol';
import type { TaskVictimEvent } from '../src/internal/task-services';
import { returnUnwantedGrant } from './attempt-waits';
import { TaskRunContext, type RunEnvironment, type RunnerHost } from './task-run-context';

/** What the runner receives from its worker: attempts to run, and aborts. @internal */
export type RunnerEvent =
  | { readonly type: 'run'; readonly orders: readonly RunOrder[] }
  | TaskAbortEvent
  | TaskVictimEvent
  | ResourceReplyEvent
  | { readonly type: 'runner.crash' }
  | { readonly type: 'worker.slow'; readonly factor: number; readonly until: number };

/** Where a runner is: nothing to do, running functions, or waiting for an aborted function to return. @internal */
export type RunnerState = 'idle' | 'busy' | 'aborting';

/** Runner → worker: ended attempts, the runner's state, and the time functions really ran since the last report. @internal */
export interface RunnerReportEvent {
  readonly type: 'runner.report';
  readonly outcomes: readonly RunOutcome[];
  readonly state: RunnerState;
  /** Milliseconds functions were running since the last report, aborted ones included. */
  readonly busyMs: number;
  /** How many functions returned (or threw) since the last report. */
  readonly attempts: number;
  /** How long the last function that returned ran, or `undefined` when none returned since the last report. */
  readonly lastTaskMs: number | undefined;
}

/** The input of {@link runTaskLogic}. @internal */
export type RunnerInput = RunEnvironment;

interface Attempt {
  readonly order: RunOrder;
  readonly context: TaskRunContext;
  readonly startedAt: number;
  timer: unknown;
  /** Set once the attempt's outcome is reported: a timeout or cancel reports before the function returns. */
  reported: boolean;
  /** Set when the supervisor chose this attempt as a deadlock victim: its failure is a deadlock. */
  victim: MezanError | undefined;
}

/**
 * Runs a worker's attempts one at a time and reports how they end. It is the only authority on an
 * attempt once dispatched: it decides completed, failed, timeout or cancelled, so no other actor can
 * race it. Outcomes are reported at once when time has passed or an abort happened, and otherwise
 * gathered until the batch ends, so that a batch of instant tasks costs one message, not one each.
 */
class TaskRunner {
  readonly #environment: RunnerHost;
  readonly #sendBack: (event: RunnerReportEvent) => void;
  #pending: RunOrder[] = [];
  #next = 0;
  /** The attempt whose function has not returned yet. */
  #current: Attempt | undefined = undefined;
  #outcomes: RunOutcome[] = [];
  #busyMs = 0;
  #attempts = 0;
  #lastTaskMs: number | undefined = undefined;
  #stopped = false;
  /** True while {@link TaskRunner.#drive} runs, so a report made meanwhile never claims idleness. */
  #driving = false;
  #driveScheduled = false;
  #flushTimer: unknown = undefined;
  readonly #flushPending = (): void => {
    this.#flushTimer = undefined;
    if (this.#current !== undefined) this.#handBackUnstarted();
    if (this.#outcomes.length > 0) this.#flush(this.#state());
  };
  #lastReported: RunnerState = 'idle';
  readonly #driveSoon = (): void => {
    this.#driveScheduled = false;
    if (this.#current === undefined) this.#drive();
  };
  /** Read once: winston builds a log record even for a disabled level, too dear for every task. */
  readonly #debug: boolean;

  constructor(environment: RunnerHost, sendBack: (event: RunnerReportEvent) => void) {
    this.#environment = environment;
    this.#debug = environment.logger.isLevelEnabled('debug');
    this.#sendBack = sendBack;
  }

  receive(event: RunnerEvent): void {
    if (this.#stopped) return;
    if (event.type === 'run') {
      for (const order of event.orders) this.#pending.push(order);
      // Functions start in a microtask, never inside the dispatching actor's turn: a cancel sent in
      // the same tick still finds the order unstarted, and user code never runs mid-transition.
      if (this.#current === undefined && !this.#driveScheduled) {
        this.#driveScheduled = true;
        queueMicrotask(this.#driveSoon);
      }
    } else if (event.type === 'task.abort') {
      this.#abort(event.taskId, event.reason);
    } else if (event.type === 'task.victim') {
      this.#victimize(event);
    } else if (event.type === 'runner.crash') {
      this.stop('E_WORKER_CRASHED');
    } else if (event.type === 'worker.slow') {
      this.#environment.pace.factor = event.factor;
      this.#environment.pace.until = event.until;
    } else {
      this.#routeReply(event);
    }
  }

  #victimize(event: TaskVictimEvent): void {
    const current = this.#current;
    if (current === undefined || current.order.taskId !== event.taskId || current.reported) return;
    // Its waits fail and its leases go back now; its function decides what to make of it, and its
    // outcome, a failure, goes through its retry policy.
    current.context.waits?.victimize(event.error);
    current.victim = event.error;
    current.context.abort(event.error);
  }

  #routeReply(reply: ResourceReplyEvent): void {
    const waits = this.#current?.context.waits;
    if (waits !== undefined && waits.owns(reply.requestId)) {
      waits.onReply(reply);
    } else if (reply.type === 'resource.granted') {
      // For an attempt that is over.
      returnUnwantedGrant(this.#environment, reply);
    }
  }

  /**
   * Stops for good: nothing more is run or reported. A function still running has its signal
   * aborted; the executor settles its task from the worker's end (a crash) or already has (shutdown).
   */
  stop(code: 'E_WORKER_CRASHED' | 'E_SHUTDOWN' = 'E_SHUTDOWN'): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#flushTimer !== undefined) this.#environment.clock.clearTimeout(this.#flushTimer);
    const current = this.#current;
    if (current !== undefined) {
      this.#environment.clock.clearTimeout(current.timer);
      const { workerId } = this.#environment;
      const message = code === 'E_WORKER_CRASHED' ? `Worker ${workerId} crashed` : `Worker ${workerId} stopped`;
      current.context.abort(new MezanError(code, message, { details: { taskId: current.order.taskId, workerId } }));
    }
  }

  #drive(): void {
    this.#driving = true;
    while (this.#next < this.#pending.length) {
      if (this.#stopped) return;
      const attempt = this.#start(this.#pending[this.#next++]!);
      let result: unknown;
      // Current while its function runs, even synchronously: a pool may answer its first
      // `acquire` before the function returns.
      this.#current = attempt;
      try {
        const { fn, resources } = attempt.order;
        result = resources === undefined ? fn(attempt.context) : attempt.context.runWithDeclared(resources, fn);
      } catch (error) {
        this.#current = undefined;
        this.#finish(attempt, 'failed', undefined, error);
        continue;
      }
      if (isPromiseLike(result)) {
        this.#driving = false;
        // If this function turns out slow, neither the outcomes gathered so far nor the orders
        // behind it should wait for it: at the next turn of the clock the outcomes go out and the
        // orders go back to the executor for an idle worker. A batch that ends first clears this.
        this.#armHandBack();
        // A foreign thenable is adopted by a native promise, so a `then` that throws becomes a failure.
        (result instanceof Promise ? result : Promise.resolve(result)).then(this.#onFulfilled, this.#onRejected);
        return;
      }
      this.#current = undefined;
      this.#finish(attempt, 'completed', result, undefined);
    }
    this.#driving = false;
    this.#pending = [];
    this.#next = 0;
    this.#flush('idle');
  }

  #state(): RunnerState {
    if (this.#current !== undefined) return this.#current.reported ? 'aborting' : 'busy';
    return this.#driving || this.#driveScheduled || this.#next < this.#pending.length ? 'busy' : 'idle';
  }

  #start(order: RunOrder): Attempt {
    const { clock, sink, workerId } = this.#environment;
    const attempt: Attempt = {
      order,
      context: new TaskRunContext(order, this.#environment),
      startedAt: clock.now(),
      timer: undefined,
      reported: false,
      victim: undefined,
    };
    if (order.timeoutMs !== undefined) {
      attempt.timer = clock.setTimeout(() => this.#onTimeout(attempt), order.timeoutMs);
    }
    if (this.#debug) this.#environment.logger.debug('task started', { taskId: order.taskId, taskName: order.name, attempt: order.attempt });
    if (sink.active) {
      sink.publish({ type: 'task.started', at: attempt.startedAt, taskId: order.taskId, name: order.name, attempt: order.attempt, workerId });
    }
    return attempt;
  }

  // One function runs at a time, so the promise that settles is always the current attempt's;
  // handlers bound once spare two closures per task.
  readonly #onFulfilled = (value: unknown): void => this.#onReturn('completed', value, undefined);
  readonly #onRejected = (error: unknown): void => this.#onReturn('failed', undefined, error);

  #onReturn(kind: RunOutcomeKind, value: unknown, error: unknown): void {
    const attempt = this.#current;
    if (this.#stopped || attempt === undefined) return;
    this.#current = undefined;
    this.#finish(attempt, kind, value, error);
    this.#drive();
  }

  #finish(attempt: Attempt, kind: RunOutcomeKind, value: unknown, error: unknown): void {
    const endedAt = this.#environment.clock.now();
    if (attempt.timer !== undefined) this.#environment.clock.clearTimeout(attempt.timer);
    attempt.context.dispose();
    this.#busyMs += endedAt - attempt.startedAt;
    this.#attempts++;
    this.#lastTaskMs = endedAt - attempt.startedAt;
    if (attempt.reported) {
      // Its outcome went out when it was aborted; only the worker's state changes now.
      if (this.#next < this.#pending.length) this.#flush('busy');
      return;
    }
    attempt.reported = true;
    this.#record(attempt, kind, value, error, endedAt);
    // Time passed while it ran: its caller hears now, not at the end of the batch.
    if (endedAt !== attempt.startedAt && this.#next < this.#pending.length) this.#flush('busy');
  }

  #onTimeout(attempt: Attempt): void {
    if (attempt.reported || this.#stopped) return;
    attempt.reported = true;
    attempt.timer = undefined;
    const { order } = attempt;
    const reason = new MezanError('E_TIMEOUT', `Task "${order.name}" timed out after ${order.timeoutMs} ms`, {
      details: { taskId: order.taskId, attempt: order.attempt, timeoutMs: order.timeoutMs },
    });
    attempt.context.abort(reason);
    this.#record(attempt, 'timeout', undefined, reason, this.#environment.clock.now());
    this.#handBackUnstarted();
    this.#flush('aborting');
  }

  #abort(taskId: string, reason: MezanError): void {
    const current = this.#current;
    if (current !== undefined && current.order.taskId === taskId) {
      if (current.reported) return;
      current.reported = true;
      this.#environment.clock.clearTimeout(current.timer);
      current.timer = undefined;
      current.context.abort(reason);
      this.#record(current, 'cancelled', undefined, reason, this.#environment.clock.now());
      this.#handBackUnstarted();
      this.#flush('aborting');
      return;
    }
    for (let index = this.#next; index < this.#pending.length; index++) {
      const order = this.#pending[index]!;
      if (order.taskId !== taskId) continue;
      // Its function is never called: it was cancelled while still waiting its turn.
      this.#pending.splice(index, 1);
      const now = this.#environment.clock.now();
      this.#outcomes.push({
        kind: 'cancelled',
        taskId,
        attempt: order.attempt,
        value: undefined,
        error: reason,
        started: false,
        startedAt: now,
        endedAt: now,
      });
      this.#flush(this.#state());
      return;
    }
  }

  /**
   * The current function was aborted but may never return: the orders waiting behind it go back to
   * the executor, which can give them to a free worker, instead of waiting on this one.
   */
  #handBackUnstarted(): void {
    const now = this.#environment.clock.now();
    for (let index = this.#next; index < this.#pending.length; index++) {
      const order = this.#pending[index]!;
      this.#outcomes.push({
        kind: 'requeue',
        taskId: order.taskId,
        attempt: order.attempt,
        value: undefined,
        error: undefined,
        started: false,
        startedAt: now,
        endedAt: now,
      });
    }
    this.#pending.length = this.#next;
  }

  #record(attempt: Attempt, kind: RunOutcomeKind, value: unknown, error: unknown, endedAt: number): void {
    const { order } = attempt;
    // Whatever the victim's function threw, the attempt failed because of the deadlock.
    if (kind === 'failed' && attempt.victim !== undefined) {
      kind = 'deadlock';
      error = attempt.victim;
    }
    attempt.context.waits?.end(error);
    this.#outcomes.push({ kind, taskId: order.taskId, attempt: order.attempt, value, error, started: true, startedAt: attempt.startedAt, endedAt });
  }

  #flush(state: RunnerState): void {
    if (this.#stopped) return;
    if (this.#flushTimer !== undefined) {
      this.#environment.clock.clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    // Nothing new to say: a second identical report would make the executor count the worker idle twice.
    if (this.#outcomes.length === 0 && this.#attempts === 0 && state === this.#lastReported) return;
    this.#lastReported = state;
    const event: RunnerReportEvent = {
      type: 'runner.report',
      outcomes: this.#outcomes,
      state,
      busyMs: this.#busyMs,
      attempts: this.#attempts,
      lastTaskMs: this.#lastTaskMs,
    };
    this.#outcomes = [];
    this.#busyMs = 0;
    this.#attempts = 0;
    this.#lastTaskMs = undefined;
    this.#sendBack(event);
    // A report made while a function still runs (a cancel of an order behind it) keeps the
    // hand-back of the orders still waiting behind it.
    if (this.#current !== undefined && !this.#current.reported) this.#armHandBack();
  }

  /** Sets the next-turn timer that hands back waiting orders and sends gathered outcomes, if any. */
  #armHandBack(): void {
    if (this.#flushTimer !== undefined || this.#stopped) return;
    if (this.#outcomes.length > 0 || this.#next < this.#pending.length) {
      this.#flushTimer = this.#environment.clock.setTimeout(this.#flushPending, 0);
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * The actor that calls a worker's task functions, one per worker for its whole life (never one per
 * task). It receives `run` and `task.abort` from its worker and sends back `runner.report`.
 *
 * @internal
 */
export const runTaskLogic = fromCallback<RunnerEvent, RunnerInput>(({ input, receive, sendBack, self }) => {
  const runner = new TaskRunner({ ...input, self, pace: { factor: 1, until: 0 } }, sendBack as (event: RunnerReportEvent) => void);
  receive((event) => runner.receive(event));
  return () => runner.stop();
});
