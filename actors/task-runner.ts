import { MezanError } from '../src/errors';
import type { RunOrder, RunOutcome, RunOutcomeKind, TaskAbortEvent } from '../src/internal/task-protocol';
import type { TaskFunction } from '../src/task-options';
import type { ResourceRepliesEvent, ResourceReplyEvent } from '../src/internal/resource-protocol';
import type { TaskVictimEvent } from '../src/internal/task-services';
import { returnUnwantedGrant, type AttemptWaits } from './attempt-waits';
import { TaskRunContext, type RunnerHost } from './task-run-context';
import { runSoon } from '../src/internal/run-soon';
import { SHAPE_KEEPER } from '../src/internal/task-record';

/** What the runner hears of besides its orders: aborts, victims, pool replies, a slowdown. @internal */
export type RunnerEvent =
  | TaskAbortEvent
  | TaskVictimEvent
  | ResourceReplyEvent
  | ResourceRepliesEvent
  | { readonly type: 'worker.slow'; readonly factor: number; readonly until: number };

/** What a runner has to report since its last report: ended attempts, slots given back, time its functions ran. @internal */
export interface RunnerReport {
  readonly outcomes: readonly RunOutcome[];
  /**
   * How many of the orders handed to the runner have left it since the last report: their
   * functions returned, or they were cancelled before they started. A timed-out or cancelled
   * function that has not returned yet keeps its slot.
   */
  readonly freed: number;
  /** How many orders the runner holds now: started functions that have not returned, and orders about to start. */
  readonly inUse: number;
  /** Milliseconds functions were running since the last report, aborted ones included. */
  readonly busyMs: number;
  /** How many functions returned (or threw) since the last report. */
  readonly attempts: number;
  /** How long the last function that returned ran, or `undefined` when none returned since the last report. */
  readonly lastTaskMs: number | undefined;
  /** Tasks whose functions were let go still running since the last report (see {@link TaskRunner.abandon}). */
  readonly abandoned?: readonly string[];
}

/** How a runner calls its functions and reports their outcomes. @internal */
export interface RunnerOptions {
  /** What to call for each task's function. @default the function itself */
  readonly functionFor?: (fn: TaskFunction) => TaskFunction;
  /**
   * Report the outcomes of each burst of promise jobs rather than of each turn of the event loop: a
   * thread worker's freed thread then gets its next task in the same burst as its result came,
   * without waiting for the turn to end (a thread waits idle meanwhile). @default false
   */
  readonly reportEachBurst?: boolean;
}

/**
 * One attempt: the `ctx` its function receives, and what the runner keeps of it. One object, not a
 * context and a record beside it: this is made for every task.
 */
class Attempt extends TaskRunContext {
  readonly startedAt: number;
  /** Its place in the runner's list of running attempts; `-1` once its function returned. */
  slot = -1;
  timer: unknown = undefined;
  /** Set once the attempt's outcome is recorded: a timeout or cancel records it before the function returns. */
  reported = false;
  /** Set when the supervisor chose this attempt as a deadlock victim: its failure is a deadlock. */
  victim: MezanError | undefined = undefined;
  /** Set when a lease it held lapsed (a cluster pool's, `E_LEASE_LOST`): its failure is that loss. */
  leaseLost: MezanError | undefined = undefined;

  constructor(order: RunOrder, host: RunnerHost, serial: number, startedAt: number) {
    super(order, host, serial);
    this.startedAt = startedAt;
  }
}

/** The empty list of orders to start, never added to: `run` makes a new list for a batch. */
const NO_ORDERS: RunOrder[] = [];
/** The empty list of outcomes, never added to: `#addOutcome` makes a new list. */
const NO_OUTCOMES: RunOutcome[] = [];

/**
 * The part of a worker that calls task functions: it runs every attempt its worker hands it at once
 * (the executor hands out only as many as the worker has free slots) and gathers how they end. It
 * is the only authority on an attempt once dispatched: it decides completed, failed, timeout or
 * cancelled, so no other actor can race it. Plain code, owned by one worker actor: no messages
 * inside.
 *
 * Outcomes are gathered, and the worker is asked to report them once per turn of the event loop
 * (once per instant in virtual time), or as soon as the runner holds nothing more, so that an idle
 * engine answers at once.
 *
 * @internal
 */
export class TaskRunner {
  readonly #environment: RunnerHost;
  /** Asks the worker to report: it takes {@link TaskRunner.takeReport} on its own turn. */
  readonly #requestReport: () => void;
  /** The function to call for a task's own: a thread worker's runs its thread tasks on its threads. */
  readonly #functionFor: ((fn: TaskFunction) => TaskFunction) | undefined;
  /** Whether every burst of promise jobs reports, rather than the turn of the event loop. */
  readonly #reportEachBurst: boolean;
  /** Orders handed over: those from {@link TaskRunner.#nextToStart} on have not started yet; they start together in a microtask. */
  #toStart: RunOrder[] = NO_ORDERS;
  #nextToStart = 0;
  #startScheduled = false;
  /**
   * Started attempts whose functions have not returned: each holds a slot. An array with each
   * attempt's place in it (removal swaps the last one in), not a hash set: this changes per task.
   * A task id may be reused once its task settled, while the function of a timed-out or cancelled
   * attempt of the old task still runs: that attempt stays here, holding its slot, and lookups by
   * task id take the latest attempt that has not been reported.
   */
  readonly #running: Attempt[] = [];
  /** Numbers the attempts, so that each one's pool requests have ids of their own. */
  #serial = 0;
  #outcomes: RunOutcome[] = NO_OUTCOMES;
  #freed = 0;
  #busyMs = 0;
  #attempts = 0;
  #lastTaskMs: number | undefined = undefined;
  #abandoned: string[] | undefined = undefined;
  #stopped = false;
  #reportSoon = false;
  #reportAtTurnEnd: unknown = undefined;
  readonly #startSoon = (): void => {
    this.#startScheduled = false;
    this.#startAll();
  };
  readonly #report = (): void => {
    this.#reportSoon = false;
    this.#askForReport();
  };
  readonly #reportTurnEnd = (): void => {
    this.#reportAtTurnEnd = undefined;
    this.#askForReport();
  };
  /** Read once: winston builds a log record even for a disabled level, too dear for every task. */
  readonly #debug: boolean;
  /** Never run: it keeps the attempts' map alive while none runs (see `SHAPE_KEEPER`). */
  readonly shapeKeeper: TaskRunContext;

  constructor(environment: RunnerHost, requestReport: () => void, options: RunnerOptions = {}) {
    this.#environment = environment;
    this.#debug = environment.logger.isLevelEnabled?.('debug') ?? true;
    this.#requestReport = requestReport;
    this.#functionFor = options.functionFor;
    this.#reportEachBurst = options.reportEachBurst ?? false;
    this.shapeKeeper = new Attempt(SHAPE_KEEPER, environment, 0, environment.clock.now());
  }

  /** Takes attempts to run, each in a free slot of the worker. */
  run(orders: readonly RunOrder[]): void {
    if (this.#stopped) return;
    // A list made to the size of the first batch: an idle engine's batches are of one.
    if (this.#toStart.length === 0) this.#toStart = orders.slice();
    else for (const order of orders) this.#toStart.push(order);
    // Functions start in a microtask, never inside the dispatching actor's turn: a cancel sent in
    // the same tick still finds the order unstarted, and user code never runs mid-transition.
    if (!this.#startScheduled) {
      this.#startScheduled = true;
      runSoon(this.#startSoon);
    }
  }

  receive(event: RunnerEvent): void {
    if (this.#stopped) return;
    switch (event.type) {
      case 'task.abort':
        this.#abort(event.taskId, event.reason);
        return;
      case 'task.victim':
        this.#victimize(event);
        return;
      case 'worker.slow':
        this.#environment.pace.factor = event.factor;
        this.#environment.pace.until = event.until;
        return;
      case 'resource.replies':
        for (const reply of event.replies) this.#routeReply(reply);
        return;
      default:
        this.#routeReply(event);
    }
  }

  /** How many orders it holds: started functions that have not returned, and orders about to start. */
  get inUse(): number {
    return this.#toStart.length - this.#nextToStart + this.#running.length;
  }

  /** The latest running attempt of `taskId` whose outcome is not recorded yet (aborts and victims are rare: a scan). */
  #liveAttemptOf(taskId: string): Attempt | undefined {
    let found: Attempt | undefined;
    for (const attempt of this.#running) {
      if (attempt.order.taskId === taskId && !attempt.reported && (found === undefined || attempt.serial > found.serial)) found = attempt;
    }
    return found;
  }

  #victimize(event: TaskVictimEvent): void {
    const attempt = this.#liveAttemptOf(event.taskId);
    if (attempt === undefined) return;
    // Its waits fail and its leases go back now; its function decides what to make of it, and its
    // outcome, a failure, goes through its retry policy.
    attempt.waits?.victimize(event.error);
    attempt.victim = event.error;
    attempt.abort(event.error);
  }

  #routeReply(reply: ResourceReplyEvent): void {
    const serial = attemptSerialOf(reply.requestId);
    let waits: AttemptWaits | undefined;
    let holder: Attempt | undefined;
    for (const attempt of this.#running) {
      if (attempt.serial === serial) {
        waits = attempt.waits;
        holder = attempt;
        break;
      }
    }
    if (waits !== undefined) {
      waits.onReply(reply);
      // Units it held are gone (another node may hold them now): the attempt must not go on as if it held them.
      if (reply.type === 'resource.revoked' && reply.leaseId !== undefined && reply.reason.code === 'E_LEASE_LOST' && !holder!.reported) {
        holder!.leaseLost = reply.reason;
        holder!.abort(reply.reason);
      }
    } else if (reply.type === 'resource.granted') {
      // For an attempt that is over.
      returnUnwantedGrant(this.#environment, reply);
    }
  }

  /**
   * Stops for good: nothing more is run or reported. Functions still running have their signals
   * aborted; the executor settles their tasks from the worker's end (a crash) or already has (shutdown).
   */
  stop(code: 'E_WORKER_CRASHED' | 'E_SHUTDOWN' = 'E_SHUTDOWN'): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#reportAtTurnEnd !== undefined) this.#environment.clock.clearImmediate?.(this.#reportAtTurnEnd);
    this.#reportAtTurnEnd = undefined;
    this.#toStart = NO_ORDERS;
    this.#nextToStart = 0;
    const { workerId, clock } = this.#environment;
    const message = code === 'E_WORKER_CRASHED' ? `Worker ${workerId} crashed` : `Worker ${workerId} stopped`;
    for (const attempt of this.#running) {
      clock.clearTimeout(attempt.timer);
      attempt.abort(new MezanError(code, message, { details: { taskId: attempt.order.taskId, workerId } }));
    }
    this.#running.length = 0;
  }

  /**
   * Lets go of every function still running: shutdown waited for them after aborting them, and they
   * ignored their signal. Their slots are freed, whatever they do later is ignored, and they are
   * reported abandoned. An attempt not reported yet ends `cancelled`.
   */
  abandon(): void {
    if (this.#stopped) return;
    const { clock, workerId } = this.#environment;
    const now = clock.now();
    const abandoned = (this.#abandoned ??= []);
    for (const attempt of this.#running) {
      attempt.slot = -1;
      clock.clearTimeout(attempt.timer);
      attempt.timer = undefined;
      if (!attempt.reported) {
        attempt.reported = true;
        const reason = new MezanError('E_SHUTDOWN', `Abandoned by shutdown on worker ${workerId}: the function ignored its abort signal`, {
          details: { taskId: attempt.order.taskId, workerId },
        });
        attempt.abort(reason);
        this.#record(attempt, 'cancelled', undefined, reason, now);
      }
      abandoned.push(attempt.order.taskId);
      this.#freed++;
    }
    this.#running.length = 0;
    this.#scheduleReport(true);
  }

  #startAll(): void {
    // Orders stay in the list until each starts, so that a function starting first can still
    // cancel one behind it, and so that they count as taken slots.
    while (this.#nextToStart < this.#toStart.length) {
      if (this.#stopped) return;
      this.#run(this.#toStart[this.#nextToStart++]!);
    }
    this.#toStart = NO_ORDERS;
    this.#nextToStart = 0;
  }

  #run(order: RunOrder): void {
    const attempt = this.#start(order);
    // Running while its function runs, even synchronously: a pool may answer its first `acquire`
    // before the function returns.
    attempt.slot = this.#running.length;
    this.#running.push(attempt);
    let result: unknown;
    try {
      const { resources } = order;
      const fn = this.#functionFor === undefined ? order.fn : this.#functionFor(order.fn);
      result = resources === undefined ? fn(attempt) : attempt.runWithDeclared(resources, fn);
      if (isPromiseLike(result)) {
        // A foreign thenable is adopted by a native promise, so a `then` that throws becomes a failure.
        (result instanceof Promise ? result : Promise.resolve(result)).then(
          (value) => this.#onReturn(attempt, 'completed', value, undefined),
          (error: unknown) => this.#onReturn(attempt, 'failed', undefined, error),
        );
        return;
      }
    } catch (error) {
      this.#onReturn(attempt, 'failed', undefined, error);
      return;
    }
    this.#onReturn(attempt, 'completed', result, undefined);
  }

  #start(order: RunOrder): Attempt {
    const { clock, sink, workerId } = this.#environment;
    const serial = ++this.#serial;
    const attempt = new Attempt(order, this.#environment, serial, clock.now());
    if (order.timeoutMs !== undefined) {
      attempt.timer = clock.setTimeout(() => this.#onTimeout(attempt), order.timeoutMs);
    }
    if (this.#debug) this.#environment.logger.debug('task started', { taskId: order.taskId, taskName: order.name, attempt: order.attempt });
    if (sink.active) {
      sink.publish({ type: 'task.started', at: attempt.startedAt, taskId: order.taskId, name: order.name, attempt: order.attempt, workerId });
    }
    return attempt;
  }

  /** The attempt's function returned (or threw): its slot is free, and its outcome stands unless an abort came first. */
  #onReturn(attempt: Attempt, kind: RunOutcomeKind, value: unknown, error: unknown): void {
    if (this.#stopped || attempt.slot < 0) return;
    const last = this.#running.pop()!;
    if (last !== attempt) {
      this.#running[attempt.slot] = last;
      last.slot = attempt.slot;
    }
    attempt.slot = -1;
    const endedAt = this.#environment.clock.now();
    if (attempt.timer !== undefined) this.#environment.clock.clearTimeout(attempt.timer);
    attempt.dispose();
    this.#busyMs += endedAt - attempt.startedAt;
    this.#attempts++;
    this.#lastTaskMs = endedAt - attempt.startedAt;
    this.#freed++;
    if (!attempt.reported) {
      attempt.reported = true;
      this.#record(attempt, kind, value, error, endedAt);
    }
    this.#scheduleReport();
  }

  #onTimeout(attempt: Attempt): void {
    if (attempt.reported || this.#stopped) return;
    attempt.reported = true;
    attempt.timer = undefined;
    const { order } = attempt;
    const reason = new MezanError('E_TIMEOUT', `Task "${order.name}" timed out after ${order.timeoutMs} ms`, {
      details: { taskId: order.taskId, attempt: attempt.attempt, timeoutMs: order.timeoutMs },
    });
    attempt.abort(reason);
    this.#record(attempt, 'timeout', undefined, reason, this.#environment.clock.now());
    this.#scheduleReport(true);
  }

  #abort(taskId: string, reason: MezanError): void {
    const attempt = this.#liveAttemptOf(taskId);
    if (attempt !== undefined) {
      attempt.reported = true;
      this.#environment.clock.clearTimeout(attempt.timer);
      attempt.timer = undefined;
      attempt.abort(reason);
      this.#record(attempt, 'cancelled', undefined, reason, this.#environment.clock.now());
      this.#scheduleReport(true);
      return;
    }
    let index = this.#nextToStart;
    while (index < this.#toStart.length && this.#toStart[index]!.taskId !== taskId) index++;
    if (index === this.#toStart.length) return;
    // Its function is never called: it was cancelled before its turn to start.
    const order = this.#toStart[index]!;
    this.#toStart.splice(index, 1);
    const now = this.#environment.clock.now();
    this.#addOutcome({
      kind: 'cancelled',
      taskId,
      attempt: order.attempt,
      value: undefined,
      error: reason,
      started: false,
      startedAt: now,
      endedAt: now,
    });
    this.#freed++;
    this.#scheduleReport(true);
  }

  #record(attempt: Attempt, kind: RunOutcomeKind, value: unknown, error: unknown, endedAt: number): void {
    const { order } = attempt;
    // Whatever the victim's function threw, the attempt failed because of the deadlock.
    if (kind === 'failed' && attempt.victim !== undefined) {
      kind = 'deadlock';
      error = attempt.victim;
    } else if (kind === 'failed' && attempt.leaseLost !== undefined) error = attempt.leaseLost;
    attempt.waits?.end(error);
    // The attempt's number as it started: the order is the executor's record, whose count goes on.
    this.#addOutcome({
      kind,
      taskId: order.taskId,
      attempt: attempt.attempt,
      value,
      error,
      started: true,
      startedAt: attempt.startedAt,
      endedAt,
    });
  }

  /**
   * Reports at once when the runner holds nothing more in real time (an idle worker answers at
   * once, with every outcome gathered so far); in a microtask, with every outcome of this burst of
   * promise jobs, when it is urgent (an abort or timeout settles its task at once), when it holds
   * nothing more in virtual time, when the clock has no turns (in virtual time, the timers of
   * one instant fire before the promise jobs run), or when it reports each burst; otherwise at the
   * end of the turn, with every outcome of the turn.
   */
  #scheduleReport(urgent = false): void {
    const { clock } = this.#environment;
    if (!urgent && this.inUse === 0 && clock.setImmediate !== undefined && !this.#reportSoon) {
      // In real time, a runner left with nothing answers now: an idle engine's latency is one hop shorter.
      this.#askForReport();
      return;
    }
    if (urgent || this.#reportEachBurst || this.inUse === 0 || clock.setImmediate === undefined) {
      if (!this.#reportSoon) {
        this.#reportSoon = true;
        runSoon(this.#report);
      }
    } else if (this.#reportAtTurnEnd === undefined) {
      this.#reportAtTurnEnd = clock.setImmediate(this.#reportTurnEnd);
    }
  }

  #askForReport(): void {
    if (this.#stopped || (this.#outcomes.length === 0 && this.#freed === 0 && this.#abandoned === undefined)) return;
    this.#requestReport();
  }

  /** Gathers an outcome; the list is made on the first one, to its size (an idle engine reports one at a time). */
  #addOutcome(outcome: RunOutcome): void {
    if (this.#outcomes.length === 0) this.#outcomes = [outcome];
    else this.#outcomes.push(outcome);
  }

  /** Everything to report since the last report; `undefined` when there is nothing. */
  takeReport(): RunnerReport | undefined {
    if (this.#stopped || (this.#outcomes.length === 0 && this.#freed === 0 && this.#abandoned === undefined)) return undefined;
    const report: RunnerReport = {
      outcomes: this.#outcomes,
      freed: this.#freed,
      inUse: this.inUse,
      busyMs: this.#busyMs,
      attempts: this.#attempts,
      lastTaskMs: this.#lastTaskMs,
      ...(this.#abandoned === undefined ? {} : { abandoned: this.#abandoned }),
    };
    this.#abandoned = undefined;
    this.#outcomes = NO_OUTCOMES;
    this.#freed = 0;
    this.#busyMs = 0;
    this.#attempts = 0;
    this.#lastTaskMs = undefined;
    return report;
  }
}

/**
 * The serial of the attempt that made a pool request, read from its id without making a string:
 * request ids are `<taskId>#<attempt>.<serial>#<n>` (see `AttemptWaits`), and the serial is unique
 * among a runner's attempts. `-1` for an id of another shape.
 */
function attemptSerialOf(requestId: string): number {
  let index = requestId.lastIndexOf('#') - 1;
  let serial = 0;
  let scale = 1;
  for (; index >= 0; index--) {
    const code = requestId.charCodeAt(index);
    if (code === DOT) return scale === 1 ? -1 : serial;
    if (code < DIGIT_0 || code > DIGIT_9) return -1;
    serial += (code - DIGIT_0) * scale;
    scale *= 10;
  }
  return -1;
}

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}
