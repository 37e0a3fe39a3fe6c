import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import { createQuietLogger } from '../../src/logger';
import { seededRandom } from '../../src/random';
import { silentSink, type EventSink } from '../../src/internal/event-sink';
import { resolveRetryPolicy } from '../../src/internal/retry-policy';
import { TaskBook, type TaskCounts } from '../../src/internal/task-book';
import type { RunOutcome, TaskReporter, TaskSubmission } from '../../src/internal/task-protocol';
import type { RetryOptions, TaskFunction } from '../../src/task-options';
import type { TaskStatus, TerminalTaskStatus } from '../../src/task-status';

/** A reporter that records what the book tells the caller, and keeps the status as a handle would. */
class FakeReporter implements TaskReporter {
  status: TaskStatus = 'queued';
  readonly marks: TaskStatus[] = [];
  readonly settles: Array<{ status: TerminalTaskStatus; value: unknown; error: MezanError | undefined }> = [];

  markStatus(status: Exclude<TaskStatus, TerminalTaskStatus>): void {
    this.marks.push(status);
    this.status = status;
  }

  settle(status: TerminalTaskStatus, value: unknown, error: MezanError | undefined): void {
    this.settles.push({ status, value, error });
    this.status = status;
  }

  describeOutcome(): undefined {
    return undefined;
  }

  /** The one settlement; fails the test when there is none or more than one. */
  get settled(): { status: TerminalTaskStatus; value: unknown; error: MezanError | undefined } {
    expect(this.settles).toHaveLength(1);
    return this.settles[0]!;
  }
}

interface Fixture {
  readonly book: TaskBook;
  readonly events: EngineEvent[];
  readonly logger: { warn: jest.SpyInstance; error: jest.SpyInstance };
  readonly reporters: Map<string, FakeReporter>;
  time: number;
  submit(id: string, options?: { priority?: number; dependsOn?: string[]; retries?: number | RetryOptions; timeoutMs?: number }): FakeReporter;
  /** A dependency on a task the book no longer (or never) knew, settled with `status`. */
  settledReporter(status: TaskStatus): FakeReporter;
}

function makeBook(options: { listening?: boolean } = {}): Fixture {
  const events: EngineEvent[] = [];
  const sink: EventSink = { active: options.listening ?? true, publish: (event) => events.push(event) };
  // A copy: the quiet logger itself is frozen, and spies replace methods.
  const quiet = { ...createQuietLogger() };
  const logger = { warn: jest.spyOn(quiet, 'warn'), error: jest.spyOn(quiet, 'error') };
  const reporters = new Map<string, FakeReporter>();
  const fixture: Fixture = {
    book: undefined as unknown as TaskBook,
    events,
    logger,
    reporters,
    time: 0,
    submit(id, taskOptions = {}) {
      const reporter = new FakeReporter();
      reporters.set(id, reporter);
      const dependsOn = (taskOptions.dependsOn ?? []).map((dependency) => ({ id: dependency, reporter: reporters.get(dependency)! }));
      fixture.book.admit([submission(id, reporter, { ...taskOptions, dependsOn })]);
      return reporter;
    },
    settledReporter(status) {
      const reporter = new FakeReporter();
      reporter.status = status;
      return reporter;
    },
  };
  (fixture as { book: TaskBook }).book = new TaskBook({ sink, random: seededRandom(1), clock: { now: () => fixture.time }, logger: quiet });
  return fixture;
}

const noop: TaskFunction = () => undefined;

function submission(
  id: string,
  reporter: TaskReporter,
  options: { priority?: number; dependsOn?: TaskSubmission['dependsOn']; retries?: number | RetryOptions; timeoutMs?: number } = {},
): TaskSubmission {
  const dependsOn = options.dependsOn ?? [];
  return {
    id,
    taskId: id,
    name: `task ${id}`,
    priority: options.priority ?? 0,
    fn: noop,
    timeoutMs: options.timeoutMs,
    retry: resolveRetryPolicy(options.retries),
    dependsOn,
    dependencies: dependsOn.length === 0 ? undefined : dependsOn,
    reporter,
    resources: undefined,
    parentId: undefined,
  };
}

function outcome(kind: RunOutcome['kind'], taskId: string, fields: Partial<RunOutcome> = {}): RunOutcome {
  return { kind, taskId, attempt: 1, value: undefined, error: undefined, started: true, startedAt: 0, endedAt: 0, ...fields };
}

/** Every count zero except `fields`, over whatever counts the book keeps, so a stray count fails the test. */
const counts = (fields: Partial<TaskCounts>): TaskCounts => {
  const zero = Object.fromEntries(
    Object.keys(new TaskBook({ sink: silentSink, random: Math.random, clock: { now: () => 0 }, logger: createQuietLogger() }).counts).map((key) => [
      key,
      0,
    ]),
  );
  return { ...zero, ...fields } as TaskCounts;
};

function takeAll(book: TaskBook, workerId = 'worker-1'): string[] {
  const ids: string[] = [];
  for (let order = book.takeReady(workerId); order !== undefined; order = book.takeReady(workerId)) ids.push(order.taskId);
  return ids;
}

const cancelReason = (): MezanError => new MezanError('E_CANCELLED', 'cancelled by the test');

describe('TaskBook', () => {
  describe('ordering', () => {
    it('hands out higher priorities first, and equal priorities first in, first out', () => {
      const { book, submit } = makeBook();
      submit('low-1', { priority: -1 });
      submit('mid-1');
      submit('high-1', { priority: 5 });
      submit('mid-2');
      submit('high-2', { priority: 5 });
      submit('low-2', { priority: -1 });
      submit('mid-3');
      expect(takeAll(book)).toEqual(['high-1', 'high-2', 'mid-1', 'mid-2', 'mid-3', 'low-1', 'low-2']);
    });

    it('keeps FIFO among equals across separate admissions and interleaved takes', () => {
      const { book, submit } = makeBook();
      submit('a');
      submit('b');
      expect(book.takeReady('w')!.taskId).toBe('a');
      submit('c', { priority: 1 });
      submit('d');
      expect(takeAll(book)).toEqual(['c', 'b', 'd']);
    });

    it('admits a batch of submissions in order', () => {
      const { book } = makeBook();
      const reporters = ['x', 'y', 'z'].map(() => new FakeReporter());
      book.admit(['x', 'y', 'z'].map((id, index) => submission(id, reporters[index]!)));
      expect(takeAll(book)).toEqual(['x', 'y', 'z']);
      expect(book.counts).toEqual(counts({ submitted: 3, dispatched: 3 }));
    });

    it('gives the task itself as its run order, with the attempt, function and timeout, and marks the task running', () => {
      const { book, submit } = makeBook();
      const reporter = submit('a', { timeoutMs: 250 });
      const order = book.takeReady('worker-7')!;
      expect(order).toMatchObject({
        taskId: 'a',
        name: 'task a',
        attempt: 1,
        fn: noop,
        timeoutMs: 250,
        dependencies: undefined,
        state: 'dispatched',
      });
      expect(reporter.marks).toEqual(['queued', 'running']);
      expect(book.takeReady('worker-7')).toBeUndefined();
    });
  });

  describe('counts and settlement', () => {
    it('counts each task exactly where it is', () => {
      const { book, submit } = makeBook();
      submit('a');
      submit('b', { dependsOn: ['a'] });
      submit('c');
      expect(book.counts).toEqual(counts({ submitted: 3, waiting: 1, queued: 2 }));
      expect(book.size).toBe(3);
      expect(book.readyCount).toBe(2);
      book.takeReady('w');
      expect(book.counts).toEqual(counts({ submitted: 3, waiting: 1, queued: 1, dispatched: 1 }));
      book.applyOutcome(outcome('completed', 'a', { value: 1 }), 'w');
      expect(book.counts).toEqual(counts({ submitted: 3, completed: 1, queued: 2 }));
      book.takeReady('w');
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'b', { error: new Error('x') }), 'w');
      book.applyOutcome(outcome('timeout', 'c', { error: new MezanError('E_TIMEOUT', 't') }), 'w');
      expect(book.counts).toEqual(counts({ submitted: 3, completed: 1, failed: 1, timedOut: 1 }));
      expect(book.size).toBe(0);
      expect(book.has('a')).toBe(false);
    });

    it('passes a completed value to the reporter and drops the task', () => {
      const { book, submit, events } = makeBook();
      const reporter = submit('a');
      book.takeReady('worker-2');
      book.applyOutcome(outcome('completed', 'a', { value: 42, startedAt: 10, endedAt: 35 }), 'worker-2');
      expect(reporter.settled).toEqual({ status: 'completed', value: 42, error: undefined });
      expect(book.has('a')).toBe(false);
      expect(events.map((event) => event.type)).toEqual(['task.queued', 'task.completed']);
      expect(events[1]).toMatchObject({ taskId: 'a', workerId: 'worker-2', durationMs: 25, at: 35, attempt: 1 });
    });

    it('wraps a thrown error as E_TASK_FAILED with the cause and attempts', () => {
      const { book, submit, events } = makeBook();
      const reporter = submit('a');
      book.takeReady('w');
      const thrown = new Error('boom');
      book.applyOutcome(outcome('failed', 'a', { error: thrown }), 'w');
      const { status, error } = reporter.settled;
      expect(status).toBe('failed');
      expect(error!.code).toBe('E_TASK_FAILED');
      expect(error!.cause).toBe(thrown);
      expect(error!.details).toMatchObject({ taskId: 'a', attempts: 1 });
      expect(events[1]).toMatchObject({ type: 'task.failed', code: 'E_TASK_FAILED', error: thrown, workerId: 'w' });
    });

    it('settles a timeout as `timeout` and never retries it', () => {
      const { book, submit } = makeBook();
      const reporter = submit('a', { retries: 3 });
      book.takeReady('w');
      const reason = new MezanError('E_TIMEOUT', 'too slow');
      expect(book.applyOutcome(outcome('timeout', 'a', { error: reason }), 'w')).toBeUndefined();
      expect(reporter.settled).toEqual({ status: 'timeout', value: undefined, error: reason });
      expect(book.counts).toMatchObject({ timedOut: 1, queued: 0, delayed: 0 });
    });

    it('settles a cancellation the worker reports, even for an attempt that never started', () => {
      const { book, submit } = makeBook();
      const reporter = submit('a', { retries: 3 });
      book.takeReady('w');
      const reason = cancelReason();
      book.applyOutcome(outcome('cancelled', 'a', { error: reason, started: false }), 'w');
      expect(reporter.settled).toEqual({ status: 'cancelled', value: undefined, error: reason });
      expect(book.counts).toEqual(counts({ submitted: 1, cancelled: 1 }));
    });

    it('ignores reports for unknown tasks, tasks not on a worker and stale attempts', () => {
      const { book, submit, logger } = makeBook();
      const reporter = submit('a', { retries: 1 });
      expect(book.applyOutcome(outcome('completed', 'nobody'), 'w')).toBeUndefined();
      expect(book.applyOutcome(outcome('completed', 'a'), 'w')).toBeUndefined(); // still queued
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w'); // retried at once: attempt 2 queued
      book.takeReady('w');
      expect(book.applyOutcome(outcome('completed', 'a', { attempt: 1 }), 'w')).toBeUndefined(); // stale attempt
      expect(logger.warn).toHaveBeenCalledTimes(3);
      expect(reporter.settles).toEqual([]);
      expect(book.counts).toEqual(counts({ submitted: 1, dispatched: 1 }));
      book.applyOutcome(outcome('completed', 'a', { attempt: 2, value: 'ok' }), 'w');
      expect(reporter.settled.value).toBe('ok');
    });

    it('settles a task once, even when its outcome is reported twice', () => {
      const { book, submit } = makeBook();
      const reporter = submit('a');
      book.takeReady('w');
      book.applyOutcome(outcome('completed', 'a', { value: 1 }), 'w');
      book.applyOutcome(outcome('failed', 'a', { error: new Error('late') }), 'w');
      expect(reporter.settles).toHaveLength(1);
      expect(book.counts).toEqual(counts({ submitted: 1, completed: 1 }));
    });

    it('publishes nothing while nobody listens, and still settles', () => {
      const { book, submit, events } = makeBook({ listening: false });
      const reporter = submit('a', { retries: 1 });
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w');
      book.takeReady('w');
      book.applyOutcome(outcome('completed', 'a', { attempt: 2 }), 'w');
      expect(events).toEqual([]);
      expect(reporter.settled.status).toBe('completed');
    });
  });

  describe('dependencies', () => {
    it('keeps a dependent waiting until its dependency completes, then queues it', () => {
      const { book, submit, events } = makeBook();
      submit('a');
      const b = submit('b', { dependsOn: ['a'] });
      expect(b.marks).toEqual(['waiting']);
      expect(takeAll(book)).toEqual(['a']);
      book.applyOutcome(outcome('completed', 'a'), 'w');
      expect(b.marks).toEqual(['waiting', 'queued']);
      expect(book.counts).toMatchObject({ waiting: 0, queued: 1 });
      expect(events.filter((event) => event.type === 'task.queued').map((event) => (event as { taskId: string }).taskId)).toEqual(['a', 'b']);
      expect(takeAll(book)).toEqual(['b']);
    });

    it('waits for every dependency', () => {
      const { book, submit } = makeBook();
      submit('a');
      submit('b');
      const c = submit('c', { dependsOn: ['a', 'b'] });
      takeAll(book);
      book.applyOutcome(outcome('completed', 'b'), 'w');
      expect(c.status).toBe('waiting');
      expect(book.readyCount).toBe(0);
      book.applyOutcome(outcome('completed', 'a'), 'w');
      expect(c.status).toBe('queued');
      expect(takeAll(book)).toEqual(['c']);
    });

    it('counts a dependency named twice once it completes', () => {
      const { book, submit } = makeBook();
      submit('a');
      const b = submit('b', { dependsOn: ['a', 'a'] });
      takeAll(book);
      book.applyOutcome(outcome('completed', 'a'), 'w');
      expect(b.status).toBe('queued');
      expect(book.counts).toMatchObject({ waiting: 0, queued: 1 });
    });

    it('queues at once a task whose dependency already completed', () => {
      const { book } = makeBook();
      const reporter = new FakeReporter();
      book.admit([submission('b', reporter, { dependsOn: [{ id: 'gone', reporter: Object.assign(new FakeReporter(), { status: 'completed' }) }] })]);
      expect(reporter.marks).toEqual(['queued']);
      expect(book.counts).toEqual(counts({ submitted: 1, queued: 1 }));
    });

    it.each(['failed', 'cancelled', 'timeout', 'rejected'] as const)('fails at once a task whose dependency already ended %s', (status) => {
      const { book, settledReporter } = makeBook();
      const reporter = new FakeReporter();
      book.admit([submission('b', reporter, { dependsOn: [{ id: 'gone', reporter: settledReporter(status) }] })]);
      const { error } = reporter.settled;
      expect(reporter.settled.status).toBe('failed');
      expect(error!.code).toBe('E_DEPENDENCY_FAILED');
      expect(error!.details).toEqual({ taskId: 'b', dependency: 'gone', dependencyStatus: status });
      expect(book.counts).toEqual(counts({ submitted: 1, failed: 1 }));
      expect(book.size).toBe(0);
    });

    it('does not mistake a new task for an old one that had the same id', () => {
      const { book, submit } = makeBook();
      const old = submit('a');
      takeAll(book);
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w');
      const renewed = submit('a');
      const dependent = new FakeReporter();
      // Depends on the old, failed `a`, not on the live task that now has its id.
      book.admit([submission('b', dependent, { dependsOn: [{ id: 'a', reporter: old }] })]);
      expect(dependent.settled.error!.code).toBe('E_DEPENDENCY_FAILED');
      expect(renewed.status).toBe('queued');
    });

    it('cascades a failure down a chain of dependents', () => {
      const { book, submit, events } = makeBook();
      submit('a');
      const b = submit('b', { dependsOn: ['a'] });
      const c = submit('c', { dependsOn: ['b'] });
      const d = submit('d', { dependsOn: ['c', 'a'] });
      const unrelated = submit('e');
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'a', { error: new Error('root cause') }), 'w');
      expect(b.settled.error!.details).toMatchObject({ dependency: 'a', dependencyStatus: 'failed' });
      expect(c.settled.error!.details).toMatchObject({ dependency: 'b', dependencyStatus: 'failed' });
      expect(d.settles).toHaveLength(1);
      expect(d.settled.error!.code).toBe('E_DEPENDENCY_FAILED');
      for (const each of [b, c, d]) expect(each.settled.status).toBe('failed');
      expect(unrelated.settles).toEqual([]);
      expect(book.counts).toEqual(counts({ submitted: 5, failed: 4, queued: 1 }));
      expect(events.filter((event) => event.type === 'task.failed')).toHaveLength(4);
    });

    it('fails dependents when their dependency is cancelled or times out', () => {
      const { book, submit } = makeBook();
      submit('a');
      submit('b');
      const afterA = submit('after-a', { dependsOn: ['a'] });
      const afterB = submit('after-b', { dependsOn: ['b'] });
      book.cancel('a', cancelReason());
      expect(afterA.settled.error!.details).toMatchObject({ dependency: 'a', dependencyStatus: 'cancelled' });
      book.takeReady('w');
      book.applyOutcome(outcome('timeout', 'b', { error: new MezanError('E_TIMEOUT', 't') }), 'w');
      expect(afterB.settled.error!.details).toMatchObject({ dependency: 'b', dependencyStatus: 'timeout' });
      expect(book.counts).toEqual(counts({ submitted: 4, cancelled: 1, timedOut: 1, failed: 2 }));
    });

    it('lets a dependent that was cancelled meanwhile stay cancelled', () => {
      const { book, submit } = makeBook();
      submit('a');
      const b = submit('b', { dependsOn: ['a'] });
      book.cancel('b', cancelReason());
      takeAll(book);
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w');
      expect(b.settled.status).toBe('cancelled');
      expect(book.counts).toEqual(counts({ submitted: 2, cancelled: 1, failed: 1 }));
    });

    it('does not fail a dependent while its dependency is only being retried', () => {
      const { book, submit } = makeBook();
      submit('a', { retries: 1 });
      const b = submit('b', { dependsOn: ['a'] });
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w');
      expect(b.status).toBe('waiting');
      book.takeReady('w');
      book.applyOutcome(outcome('completed', 'a', { attempt: 2 }), 'w');
      expect(b.status).toBe('queued');
    });
  });

  describe('cancel', () => {
    it('settles a waiting task at once', () => {
      const { book, submit } = makeBook();
      submit('a');
      const b = submit('b', { dependsOn: ['a'] });
      const reason = cancelReason();
      expect(book.cancel('b', reason)).toEqual({ kind: 'settled', wasDelayed: false });
      expect(b.settled).toEqual({ status: 'cancelled', value: undefined, error: reason });
      expect(book.counts).toEqual(counts({ submitted: 2, queued: 1, cancelled: 1 }));
      // Its dependency completing later must not resurrect it.
      takeAll(book);
      book.applyOutcome(outcome('completed', 'a'), 'w');
      expect(book.readyCount).toBe(0);
      expect(b.settles).toHaveLength(1);
    });

    it('removes a queued task from the ready queue', () => {
      const { book, submit, events } = makeBook();
      submit('a');
      const b = submit('b');
      submit('c');
      expect(book.cancel('b', cancelReason())).toEqual({ kind: 'settled', wasDelayed: false });
      expect(b.settled.status).toBe('cancelled');
      expect(book.readyCount).toBe(2);
      expect(takeAll(book)).toEqual(['a', 'c']);
      expect(events.filter((event) => event.type === 'task.cancelled')).toEqual([
        expect.objectContaining({ taskId: 'b', code: 'E_CANCELLED', workerId: undefined }),
      ]);
    });

    it('leaves a dispatched task to its worker', () => {
      const { book, submit } = makeBook();
      const a = submit('a');
      book.takeReady('worker-3');
      expect(book.cancel('a', cancelReason())).toEqual({ kind: 'on-worker', workerId: 'worker-3' });
      expect(a.settles).toEqual([]);
      expect(book.counts).toEqual(counts({ submitted: 1, dispatched: 1 }));
    });

    it('leaves the outcome of a dispatched task it was asked to cancel to its worker’s report', () => {
      // The worker is the only authority once a task is dispatched: a function that returned before
      // the abort reached it completed, whatever was asked meanwhile.
      const { book, submit } = makeBook();
      const a = submit('a');
      const b = submit('b');
      book.takeReady('main');
      book.takeReady('main');
      expect(book.cancel('a', cancelReason())).toEqual({ kind: 'on-worker', workerId: 'main' });
      expect(book.cancel('a', cancelReason())).toEqual({ kind: 'on-worker', workerId: 'main' });
      expect(book.cancel('b', cancelReason())).toEqual({ kind: 'on-worker', workerId: 'main' });
      expect(book.applyOutcome(outcome('completed', 'a', { value: 'A' }), 'main')).toBeUndefined();
      expect(a.settled).toEqual({ status: 'completed', value: 'A', error: undefined });
      const reason = cancelReason();
      expect(book.applyOutcome(outcome('cancelled', 'b', { error: reason, started: false }), 'main')).toBeUndefined();
      expect(b.settled).toEqual({ status: 'cancelled', value: undefined, error: reason });
      expect(book.readyCount).toBe(0);
      expect(book.counts).toEqual(counts({ submitted: 2, completed: 1, cancelled: 1 }));
    });

    it('settles a task waiting for its retry delay, and its requeue then does nothing', () => {
      const { book, submit } = makeBook();
      const a = submit('a', { retries: { max: 2, delayMs: 100 } });
      book.takeReady('w');
      expect(book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w')).toEqual({ taskId: 'a', delayMs: 100 });
      expect(book.cancel('a', cancelReason())).toEqual({ kind: 'settled', wasDelayed: true });
      expect(a.settled.status).toBe('cancelled');
      book.requeue('a');
      expect(book.readyCount).toBe(0);
      expect(book.counts).toEqual(counts({ submitted: 1, cancelled: 1 }));
    });

    it('knows nothing of a settled or unknown task', () => {
      const { book, submit } = makeBook();
      const a = submit('a');
      book.takeReady('w');
      book.applyOutcome(outcome('completed', 'a'), 'w');
      expect(book.cancel('a', cancelReason())).toEqual({ kind: 'unknown' });
      expect(book.cancel('never', cancelReason())).toEqual({ kind: 'unknown' });
      expect(a.settles).toHaveLength(1);
    });
  });

  describe('bulk operations', () => {
    const shutdown = (): MezanError => new MezanError('E_SHUTDOWN', 'shutting down');

    it('cancels every task not on a worker and returns those between retries', () => {
      const { book, submit } = makeBook();
      const running = submit('running');
      const delayed = submit('delayed', { retries: { max: 1, delayMs: 50 } });
      book.takeReady('w');
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'delayed', { error: new Error('x') }), 'w');
      const queued = submit('queued');
      const reason = shutdown();
      expect(book.cancelPending(reason)).toEqual(['delayed']);
      expect(running.settles).toEqual([]);
      expect(delayed.settled).toEqual({ status: 'cancelled', value: undefined, error: reason });
      expect(queued.settled).toEqual({ status: 'cancelled', value: undefined, error: reason });
      expect(book.readyCount).toBe(0);
      expect(book.counts).toEqual(counts({ submitted: 3, cancelled: 2, dispatched: 1 }));
    });

    it('rejects instead of cancelling when told to', () => {
      const { book, submit, events } = makeBook();
      const queued = submit('queued');
      book.cancelPending(shutdown(), 'rejected');
      expect(queued.settled.status).toBe('rejected');
      expect(book.counts).toEqual(counts({ submitted: 1, rejected: 1 }));
      expect(events[events.length - 1]).toMatchObject({ type: 'task.rejected', taskId: 'queued', code: 'E_SHUTDOWN' });
    });

    // A task waiting on a pending task is itself pending: it is cancelled by the same stroke, with
    // the same reason, rather than failed because its dependency was cancelled a moment earlier.
    it('cancels waiting dependents with the reason, not as dependency failures', () => {
      const { book, submit } = makeBook();
      submit('queued');
      const dependent = submit('dependent', { dependsOn: ['queued'] });
      const reason = shutdown();
      book.cancelPending(reason);
      expect(dependent.settled).toEqual({ status: 'cancelled', value: undefined, error: reason });
      expect(book.counts).toEqual(counts({ submitted: 2, cancelled: 2 }));
    });

    it('lists the tasks on workers, with their workers', () => {
      const { book, submit } = makeBook();
      submit('a');
      submit('b');
      submit('c');
      book.takeReady('worker-1');
      book.takeReady('worker-2');
      expect(book.dispatched()).toEqual([
        { taskId: 'a', workerId: 'worker-1' },
        { taskId: 'b', workerId: 'worker-2' },
      ]);
    });

    it('keeps many tasks on one worker at once, and settles each from its own outcome in any order', () => {
      const { book, submit, events } = makeBook();
      const reporters = ['a', 'b', 'c'].map((id) => submit(id));
      expect(takeAll(book, 'main')).toEqual(['a', 'b', 'c']);
      expect(book.dispatched()).toEqual(['a', 'b', 'c'].map((taskId) => ({ taskId, workerId: 'main' })));
      expect(book.counts).toEqual(counts({ submitted: 3, dispatched: 3 }));
      book.applyOutcome(outcome('completed', 'c', { value: 'C', startedAt: 0, endedAt: 30 }), 'main');
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x'), startedAt: 0, endedAt: 10 }), 'main');
      expect(book.dispatched()).toEqual([{ taskId: 'b', workerId: 'main' }]);
      book.applyOutcome(outcome('completed', 'b', { value: 'B', startedAt: 5, endedAt: 25 }), 'main');
      expect(reporters.map((reporter) => reporter.settled.status)).toEqual(['failed', 'completed', 'completed']);
      expect(events.filter((event) => event.type === 'task.completed' || event.type === 'task.failed')).toEqual([
        expect.objectContaining({ type: 'task.completed', taskId: 'c', workerId: 'main', durationMs: 30 }),
        expect.objectContaining({ type: 'task.failed', taskId: 'a', workerId: 'main', durationMs: 10 }),
        expect.objectContaining({ type: 'task.completed', taskId: 'b', workerId: 'main', durationMs: 20 }),
      ]);
      expect(book.counts).toEqual(counts({ submitted: 3, completed: 2, failed: 1 }));
    });

    it('fails every attempt on a crashed worker at once, retrying those whose policy allows it', () => {
      const { book, submit } = makeBook();
      const once = submit('once');
      const retried = submit('retried', { retries: 1 });
      const queued = submit('queued');
      book.takeReady('main');
      book.takeReady('main');
      const crash = new MezanError('E_WORKER_CRASHED', 'crashed', { details: { workerId: 'main' } });
      // No delay: the retry is queued at once, behind the task that was queued before.
      expect(book.failWorker('main', crash)).toEqual({ plans: [], taskIds: ['once', 'retried'] });
      expect(once.settled).toEqual({ status: 'failed', value: undefined, error: crash });
      expect(retried.settles).toEqual([]);
      expect(queued.settles).toEqual([]);
      expect(book.dispatched()).toEqual([]);
      expect(takeAll(book, 'main')).toEqual(['queued', 'retried']);
      expect(book.counts).toEqual(counts({ submitted: 3, failed: 1, dispatched: 2 }));
      // Listed in the order the tasks were submitted.
      expect(book.failWorker('main', crash)).toEqual({ plans: [], taskIds: ['retried', 'queued'] });
      expect(retried.settled.status).toBe('failed');
    });

    it('fails the attempts on a crashed worker with the crash’s code, and applies retries', () => {
      const { book, submit } = makeBook();
      const once = submit('once');
      const retried = submit('retried', { retries: { max: 1, delayMs: 10 } });
      const elsewhere = submit('elsewhere');
      book.takeReady('worker-1');
      book.takeReady('worker-1');
      book.takeReady('worker-2');
      const crash = new MezanError('E_WORKER_CRASHED', 'crashed', { details: { workerId: 'worker-1' } });
      expect(book.failWorker('worker-1', crash)).toEqual({ plans: [{ taskId: 'retried', delayMs: 10 }], taskIds: ['once', 'retried'] });
      expect(once.settled).toEqual({ status: 'failed', value: undefined, error: crash });
      expect(retried.settles).toEqual([]);
      expect(elsewhere.settles).toEqual([]);
      expect(book.counts).toEqual(counts({ submitted: 3, failed: 1, delayed: 1, dispatched: 1 }));
    });
  });

  describe('retries', () => {
    it('requeues at once when there is no delay, with the next attempt', () => {
      const { book, submit, events } = makeBook();
      const a = submit('a', { retries: 2 });
      expect(book.takeReady('w')!.attempt).toBe(1);
      expect(book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w')).toBeUndefined();
      expect(a.marks.slice(0, 2)).toEqual(['queued', 'running']);
      expect(a.status).toBe('queued');
      expect(book.counts).toEqual(counts({ submitted: 1, queued: 1 }));
      expect(book.takeReady('w')!.attempt).toBe(2);
      expect(events.map((event) => event.type)).toEqual(['task.queued', 'task.retrying', 'task.queued']);
      expect(events[1]).toMatchObject({ taskId: 'a', attempt: 1, delayMs: 0, code: 'E_TASK_FAILED', workerId: 'w' });
      expect(events[2]).toMatchObject({ attempt: 2 });
    });

    it('fails after the last retry, counting every attempt', () => {
      const { book, submit } = makeBook();
      const a = submit('a', { retries: 2 });
      for (let attempt = 1; attempt <= 3; attempt++) {
        expect(book.takeReady('w')!.attempt).toBe(attempt);
        book.applyOutcome(outcome('failed', 'a', { attempt, error: new Error(`attempt ${attempt}`) }), 'w');
      }
      const { status, error } = a.settled;
      expect(status).toBe('failed');
      expect(error!.details).toMatchObject({ attempts: 3 });
      expect((error!.cause as Error).message).toBe('attempt 3');
      expect(book.counts).toEqual(counts({ submitted: 1, failed: 1 }));
    });

    it('asks for a delayed retry, keeps the task delayed, then requeues it', () => {
      const { book, submit } = makeBook();
      const a = submit('a', { retries: { max: 3, delayMs: 100, backoff: 'exponential' } });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        book.takeReady('w');
        const plan = book.applyOutcome(outcome('failed', 'a', { attempt, error: new Error('x') }), 'w');
        delays.push(plan!.delayMs);
        expect(plan!.taskId).toBe('a');
        expect(book.counts).toEqual(counts({ submitted: 1, delayed: 1 }));
        expect(a.status).toBe('queued');
        expect(book.readyCount).toBe(0);
        book.requeue('a');
        expect(book.counts).toEqual(counts({ submitted: 1, queued: 1 }));
      }
      expect(delays).toEqual([100, 200, 400]);
    });

    it('ignores a requeue of a task that is not delayed', () => {
      const { book, submit } = makeBook();
      submit('a');
      book.requeue('a');
      book.requeue('unknown');
      expect(book.readyCount).toBe(1);
      expect(book.counts).toEqual(counts({ submitted: 1, queued: 1 }));
    });

    it('sends a retried task behind tasks of the same priority queued meanwhile', () => {
      const { book, submit } = makeBook();
      submit('a', { retries: 1 });
      book.takeReady('w');
      submit('b');
      submit('urgent', { priority: 1 });
      book.applyOutcome(outcome('failed', 'a', { error: new Error('x') }), 'w');
      submit('c');
      expect(takeAll(book)).toEqual(['urgent', 'b', 'a', 'c']);
    });

    it('asks retryIf with the error and the failed attempt', () => {
      const { book, submit } = makeBook();
      const fatal = new Error('fatal');
      const retryIf = jest.fn((error: unknown) => error !== fatal);
      const a = submit('a', { retries: { max: 5, retryIf } });
      book.takeReady('w');
      const transient = new Error('transient');
      book.applyOutcome(outcome('failed', 'a', { error: transient }), 'w');
      book.takeReady('w');
      book.applyOutcome(outcome('failed', 'a', { attempt: 2, error: fatal }), 'w');
      expect(retryIf.mock.calls).toEqual([
        [transient, 1],
        [fatal, 2],
      ]);
      expect(a.settled.error!.cause).toBe(fatal);
    });

    it('fails the task without retrying when retryIf throws, and logs it', () => {
      const { book, submit, logger } = makeBook();
      const a = submit('a', {
        retries: {
          max: 3,
          retryIf: () => {
            throw new Error('broken predicate');
          },
        },
      });
      book.takeReady('w');
      const thrown = new Error('x');
      book.applyOutcome(outcome('failed', 'a', { error: thrown }), 'w');
      expect(a.settled.status).toBe('failed');
      expect(a.settled.error!.cause).toBe(thrown);
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(book.counts).toEqual(counts({ submitted: 1, failed: 1 }));
    });

    it('draws jittered delays from the injected random source', () => {
      const run = (): number[] => {
        const { book, submit } = makeBook();
        submit('a', { retries: { max: 3, delayMs: 1000, jitter: true } });
        const delays: number[] = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
          book.takeReady('w');
          delays.push(book.applyOutcome(outcome('failed', 'a', { attempt, error: new Error('x') }), 'w')!.delayMs);
          book.requeue('a');
        }
        return delays;
      };
      const first = run();
      expect(run()).toEqual(first);
      const expected = seededRandom(1);
      expect(first).toEqual([1000 * (1 - expected()), 1000 * (1 - expected()), 1000 * (1 - expected())]);
    });
  });
});
