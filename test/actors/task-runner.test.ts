import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import { TaskRunner, type RunnerEvent, type RunnerReport } from '../../actors/task-runner';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import type { TaskServices } from '../../src/internal/task-services';
import type { RunOrder, RunOutcome } from '../../src/internal/task-protocol';
import type { Lease, TaskContext, TaskFunction } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';
import { fakePool } from '../fixtures/fake-pool';
import { flush } from '../fixtures/flush';
import { letReturn, manual } from '../fixtures/manual-function';
import { cancelOrTimeoutBurst, instantBurst, stopBurst, stopWithTurnEndReportPlanned, turnBurst } from '../fixtures/order-bursts';
import { mainRunEnvironment } from '../fixtures/run-environment';
import { order } from '../fixtures/run-order';
import { TurnClock } from '../fixtures/turn-clock';
import { watchedSleep } from '../fixtures/watched-sleep';

/** A stand-in for the worker that owns the runner: pools answer it. */
const fakeSelf = (): AnyActorRef => createActor(fromCallback(() => {})).start();

/** Every runner a test started, to check afterwards that none asked for a report with nothing in it. */
const harnesses: Array<{ requests: () => number; reports: unknown[] }> = [];
afterEach(() => {
  for (const harness of harnesses.splice(0)) expect(harness.requests()).toBe(harness.reports.length);
});

/**
 * A runner whose owner takes its report as soon as it asks, as the worker does (its `worker.flush`
 * to itself is processed at once), and records it with the clock time.
 */
function startRunner<C extends VirtualClock = VirtualClock>(
  clock: C = new VirtualClock() as C,
  options: { services?: TaskServices; self?: AnyActorRef } = {},
) {
  const reports: Array<RunnerReport & { at: number }> = [];
  const events: EngineEvent[] = [];
  let requests = 0;
  const sink: EventSink = { active: true, publish: (event) => events.push(event) };
  const self = options.self ?? fakeSelf();
  const environment = { ...mainRunEnvironment(clock, { sink, services: options.services }), self, pace: { factor: 1, until: 0 } };
  const runner: TaskRunner = new TaskRunner(environment, () => {
    requests++;
    const report = runner.takeReport();
    if (report !== undefined) reports.push({ ...report, at: clock.now() });
  });
  harnesses.push({ requests: () => requests, reports });
  const send = (event: RunnerEvent): void => runner.receive(event);
  return {
    clock,
    reports,
    events,
    runner,
    environment,
    send,
    requests: () => requests,
    run: (...orders: RunOrder[]) => runner.run(orders),
    abort: (taskId: string, reason = cancelReason(taskId)) => send({ type: 'task.abort', taskId, reason }),
  };
}

const cancelReason = (taskId: string): MezanError => new MezanError('E_CANCELLED', 'cancelled', { details: { taskId } });

/** A report in short: when, the outcomes as `task:kind`, the slots given back and those still taken. */
const summary = (report: RunnerReport & { at: number }) => ({
  at: report.at,
  outcomes: report.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`),
  freed: report.freed,
  inUse: report.inUse,
});

describe('TaskRunner', () => {
  describe('running', () => {
    it('runs every order it is handed at once, in the order received', async () => {
      const { clock, run, reports } = startRunner();
      let running = 0;
      let mostAtOnce = 0;
      const log: string[] = [];
      // Each function yields to promise jobs without the clock turning: overlapping calls show.
      const step =
        (name: string): TaskFunction =>
        async () => {
          running++;
          mostAtOnce = Math.max(mostAtOnce, running);
          log.push(`${name} start`);
          for (let turn = 0; turn < 3; turn++) await null;
          log.push(`${name} end`);
          running--;
        };
      run(order('a', step('a')), order('b', step('b')));
      run(order('c', step('c')));
      await clock.runAll();
      expect(log).toEqual(['a start', 'b start', 'c start', 'a end', 'b end', 'c end']);
      expect(mostAtOnce).toBe(3);
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['a:completed', 'b:completed', 'c:completed'], freed: 3, inUse: 0 }]);
    });

    it('runs functions that take clock time side by side', async () => {
      const { clock, run, reports, events } = startRunner();
      run(
        order('a', (ctx) => ctx.sleep(30)),
        order('b', (ctx) => ctx.sleep(10)),
        order('c', (ctx) => ctx.sleep(20)),
      );
      await clock.runAll();
      expect(events).toEqual(['a', 'b', 'c'].map((taskId) => ({ type: 'task.started', at: 0, taskId, name: taskId, attempt: 1, workerId: 'main' })));
      expect(reports.map(summary)).toEqual([
        { at: 10, outcomes: ['b:completed'], freed: 1, inUse: 2 },
        { at: 20, outcomes: ['c:completed'], freed: 1, inUse: 1 },
        { at: 30, outcomes: ['a:completed'], freed: 1, inUse: 0 },
      ]);
      expect(reports.map((report) => [report.busyMs, report.attempts, report.lastTaskMs])).toEqual([
        [10, 1, 10],
        [20, 1, 20],
        [30, 1, 30],
      ]);
      expect(reports.map((report) => report.outcomes[0])).toEqual([
        { kind: 'completed', taskId: 'b', attempt: 1, value: undefined, error: undefined, started: true, startedAt: 0, endedAt: 10 },
        { kind: 'completed', taskId: 'c', attempt: 1, value: undefined, error: undefined, started: true, startedAt: 0, endedAt: 20 },
        { kind: 'completed', taskId: 'a', attempt: 1, value: undefined, error: undefined, started: true, startedAt: 0, endedAt: 30 },
      ]);
    });

    it('gives each function its context: id, name, attempt and a live signal', async () => {
      const { clock, run } = startRunner();
      const seen: Array<Pick<TaskContext, 'id' | 'name' | 'attempt'> & { aborted: boolean }> = [];
      run(
        order('t', (ctx) => void seen.push({ id: ctx.id, name: ctx.name, attempt: ctx.attempt, aborted: ctx.signal.aborted }), {
          name: 'the task',
          attempt: 3,
        }),
      );
      await clock.runAll();
      expect(seen).toEqual([{ id: 't', name: 'the task', attempt: 3, aborted: false }]);
    });

    it('publishes task.started with the worker and the clock time', async () => {
      const { clock, run, events } = startRunner();
      await clock.advanceTo(5);
      run(order('a', (ctx) => ctx.sleep(10)));
      await flush();
      // Handed over while a runs, b starts at once beside it.
      run(order('b', () => 1, { attempt: 2 }));
      await clock.runAll();
      expect(events).toEqual([
        { type: 'task.started', at: 5, taskId: 'a', name: 'a', attempt: 1, workerId: 'main' },
        { type: 'task.started', at: 5, taskId: 'b', name: 'b', attempt: 2, workerId: 'main' },
      ]);
    });

    it('treats a thenable as a promise, and a then that throws as a failure', async () => {
      const { clock, run, reports } = startRunner();
      const broken = new Error('broken then');
      run(
        order('good', () => ({ then: (resolve: (value: number) => void) => resolve(7) })),
        order('bad', () => ({
          then: () => {
            throw broken;
          },
        })),
      );
      await clock.runAll();
      const outcomes = reports.flatMap((report) => report.outcomes);
      expect(outcomes.map((outcome) => [outcome.taskId, outcome.kind, outcome.value ?? outcome.error])).toEqual([
        ['good', 'completed', 7],
        ['bad', 'failed', broken],
      ]);
      expect(reports.reduce((sum, report) => sum + report.freed, 0)).toBe(2);
    });

    it('starts new orders while others run, without waiting for them', async () => {
      const { clock, run, reports } = startRunner();
      const first = manual();
      const second = jest.fn(() => 'second');
      run(order('first', first.fn));
      await flush();
      run(order('second', second));
      await flush();
      expect(second).toHaveBeenCalledTimes(1);
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['second:completed'], freed: 1, inUse: 1 }]);
      first.resolve('first');
      await clock.runAll();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 0, outcomes: ['first:completed'], freed: 1, inUse: 0 }]);
    });

    it('counts as in use the orders about to start and the functions that have not returned', async () => {
      const { clock, run, abort, runner } = startRunner();
      const slow = manual();
      expect(runner.inUse).toBe(0);
      run(
        order('slow', slow.fn, { timeoutMs: 10 }),
        order('instant', () => 1),
        order('dropped', jest.fn()),
      );
      expect(runner.inUse).toBe(3);
      abort('dropped');
      expect(runner.inUse).toBe(2);
      await flush();
      expect(runner.inUse).toBe(1);
      // A timed-out function keeps its slot until it returns.
      await clock.advanceBy(10);
      expect(runner.inUse).toBe(1);
      await letReturn(slow, 'late');
      expect(runner.inUse).toBe(0);
    });
  });

  describe('starting', () => {
    it('calls no function inside run(), so a cancel in the same turn finds its order unstarted', async () => {
      const { run, abort, reports } = startRunner();
      const cancelled = jest.fn(() => 'a');
      const other = jest.fn(() => 'b');
      run(order('a', cancelled), order('b', other));
      expect(cancelled).not.toHaveBeenCalled();
      expect(other).not.toHaveBeenCalled();
      abort('a');
      await flush();
      expect(cancelled).not.toHaveBeenCalled();
      expect(other).toHaveBeenCalledTimes(1);
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['a:cancelled', 'b:completed'], freed: 2, inUse: 0 }]);
      expect(reports[0]!.outcomes.map((outcome) => outcome.started)).toEqual([false, true]);
    });

    it('starts the orders of several run() calls together, in one burst', async () => {
      const { run, reports } = startRunner();
      const calls: string[] = [];
      run(order('a', () => void calls.push('a')));
      run(
        order('b', () => void calls.push('b')),
        order('c', () => void calls.push('c')),
      );
      expect(calls).toEqual([]);
      await flush();
      expect(calls).toEqual(['a', 'b', 'c']);
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['a:completed', 'b:completed', 'c:completed'], freed: 3, inUse: 0 }]);
    });

    it('drops an order of the same burst that a function starting before it cancels', async () => {
      // A function's synchronous code cancels a task handed over with it: the cancel reaches the
      // runner before that task's function is called, so it must never be called.
      const { send, run, reports } = startRunner();
      const victim = jest.fn(() => 'ran anyway');
      run(
        order('canceller', () => send({ type: 'task.abort', taskId: 'victim', reason: cancelReason('victim') })),
        order('victim', victim),
      );
      await flush();
      expect(victim).not.toHaveBeenCalled();
      expect(reports.flatMap((report) => report.outcomes).map((outcome) => [outcome.taskId, outcome.kind, outcome.started])).toEqual([
        ['victim', 'cancelled', false],
        ['canceller', 'completed', true],
      ]);
      expect(reports.reduce((sum, report) => sum + report.freed, 0)).toBe(2);
    });
  });

  describe('reports', () => {
    const syncFailure = new Error('sync failure');
    const asyncFailure = new Error('async failure');
    /** The outcome of a function of the burst, started and ended at 0. */
    const ended = (kind: RunOutcome['kind'], taskId: string, value: unknown, error: unknown): RunOutcome => ({
      kind,
      taskId,
      attempt: 1,
      value,
      error,
      started: true,
      startedAt: 0,
      endedAt: 0,
    });
    it.each([
      {
        burst: 'that return at once',
        orders: [
          order('sync', () => 'value'),
          order('throws', () => {
            throw syncFailure;
          }),
          order('also sync', () => 'other'),
        ],
        outcomes: [
          ended('completed', 'sync', 'value', undefined),
          ended('failed', 'throws', undefined, syncFailure),
          ended('completed', 'also sync', 'other', undefined),
        ],
      },
      {
        burst: 'whose promises settle in one burst of promise jobs',
        orders: [
          order('async', async () => 'async value'),
          order('rejects', () => Promise.reject(asyncFailure)),
          order('resolved', () => Promise.resolve(3)),
        ],
        outcomes: [
          ended('completed', 'async', 'async value', undefined),
          ended('failed', 'rejects', undefined, asyncFailure),
          ended('completed', 'resolved', 3, undefined),
        ],
      },
    ])('reports in one message the functions of a burst $burst', async ({ orders, outcomes }) => {
      const { clock, run, reports } = startRunner();
      run(...orders);
      await clock.runAll();
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ freed: 3, inUse: 0, busyMs: 0, attempts: 3, lastTaskMs: 0 });
      expect(reports[0]!.outcomes).toEqual(outcomes);
    });

    it('in virtual time, reports what returned synchronously before the promise jobs that follow', async () => {
      // Without turns of the event loop, a report goes out in a microtask: after the functions'
      // synchronous code, before the promise jobs they leave behind.
      const { clock, run, reports } = startRunner();
      run(...instantBurst());
      await clock.runAll();
      expect(reports.map(summary)).toEqual([
        { at: 0, outcomes: ['sync:completed', 'throws:failed'], freed: 2, inUse: 2 },
        { at: 0, outcomes: ['async:completed', 'rejects:failed'], freed: 2, inUse: 0 },
      ]);
      expect(reports.map((report) => [report.busyMs, report.attempts, report.lastTaskMs])).toEqual([
        [0, 2, 0],
        [0, 2, 0],
      ]);
    });

    it('reports together, in virtual time, the functions that return at the same instant', async () => {
      const { clock, run, reports } = startRunner(new VirtualClock({ settle: 'each-instant' }));
      run(
        order('a', (ctx) => ctx.sleep(10)),
        order('b', (ctx) => ctx.sleep(10)),
        order('c', (ctx) => ctx.sleep(20)),
      );
      await flush();
      // Each step fires every timer due at one instant, then lets the promise jobs run.
      while (await clock.step());
      expect(reports.map(summary)).toEqual([
        { at: 10, outcomes: ['a:completed', 'b:completed'], freed: 2, inUse: 1 },
        { at: 20, outcomes: ['c:completed'], freed: 1, inUse: 0 },
      ]);
      expect(reports.map((report) => [report.busyMs, report.attempts, report.lastTaskMs])).toEqual([
        [20, 2, 10],
        [20, 1, 20],
      ]);
    });

    it('does not hold an instant task’s outcome while another function of the burst takes clock time', async () => {
      const { clock, run, reports } = startRunner();
      run(
        order('instant', () => 'done'),
        order('slow', (ctx) => ctx.sleep(1_000)),
      );
      await flush();
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['instant:completed'], freed: 1, inUse: 1 }]);
      await clock.runAll();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 1_000, outcomes: ['slow:completed'], freed: 1, inUse: 0 }]);
    });

    describe('asked for and taken', () => {
      /** A runner whose owner only counts its requests: the test takes the reports. */
      function startManual() {
        const clock = new VirtualClock();
        let requests = 0;
        const runner = new TaskRunner({ ...mainRunEnvironment(clock), self: fakeSelf(), pace: { factor: 1, until: 0 } }, () => void requests++);
        return { clock, runner, requests: () => requests };
      }

      it('has nothing to report before anything ended, and asks for no report', async () => {
        const { clock, runner, requests } = startManual();
        expect(runner.takeReport()).toBeUndefined();
        runner.run([order('slow', (ctx) => ctx.sleep(10))]);
        await flush();
        expect(runner.takeReport()).toBeUndefined();
        expect(requests()).toBe(0);
        await clock.runAll();
        expect(requests()).toBe(1);
      });

      it('asks once per burst, and keeps gathering until its report is taken, then starts afresh', async () => {
        const { clock, runner, requests } = startManual();
        runner.run([order('a', () => 'a'), order('b', (ctx) => ctx.sleep(10)), order('c', (ctx) => ctx.sleep(25))]);
        await clock.advanceBy(10);
        // Two bursts asked; nobody took anything yet: the report holds both.
        expect(requests()).toBe(2);
        const first = runner.takeReport()!;
        expect({ ...first, outcomes: first.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`) }).toEqual({
          outcomes: ['a:completed', 'b:completed'],
          freed: 2,
          inUse: 1,
          busyMs: 10,
          attempts: 2,
          lastTaskMs: 10,
        });
        expect(runner.takeReport()).toBeUndefined();
        await clock.runAll();
        expect(requests()).toBe(3);
        const second = runner.takeReport()!;
        expect({ ...second, outcomes: second.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`) }).toEqual({
          outcomes: ['c:completed'],
          freed: 1,
          inUse: 0,
          busyMs: 25,
          attempts: 1,
          lastTaskMs: 25,
        });
        // A new array each time: the taken report is the owner's to keep.
        expect(second.outcomes).not.toBe(first.outcomes);
        expect(first.outcomes).toHaveLength(2);
      });

      it('reports its in-use count as of the moment the report is taken', async () => {
        const { runner } = startManual();
        runner.run([order('a', () => 'a')]);
        await flush();
        runner.run([order('b', () => 'b')]);
        // a's report, taken after b was handed over: b counts as in use.
        expect(runner.takeReport()).toMatchObject({ freed: 1, inUse: 1 });
      });
    });

    describe('with a clock that has turns', () => {
      it('gathers the outcomes of a turn into one report at its end while functions still run', async () => {
        const { clock, run, reports } = startRunner(new TurnClock());
        const { slow, orders } = turnBurst();
        run(...orders);
        await clock.advanceBy(10);
        // b returned at 0 and a at 10 while slow runs: nothing goes out before the turn ends.
        expect(reports).toEqual([]);
        expect(clock.pendingImmediates).toBe(1);
        await clock.endTurn();
        expect(reports.map(summary)).toEqual([{ at: 10, outcomes: ['b:completed', 'a:completed'], freed: 2, inUse: 1 }]);
        expect(reports[0]).toMatchObject({ busyMs: 10, attempts: 2, lastTaskMs: 10 });
        await clock.endTurn();
        expect(reports).toHaveLength(1);
        await letReturn(slow, 'slow');
        // It holds nothing more: it reports at once, without waiting for the end of the turn.
        expect(reports.map(summary).slice(1)).toEqual([{ at: 10, outcomes: ['slow:completed'], freed: 1, inUse: 0 }]);
      });

      it('reports a burst of instant functions in one message, whichever returns first', async () => {
        // The orders of the burst not started yet are still held: the first function to return
        // must not count as the runner holding nothing more.
        const { clock, run, reports } = startRunner(new TurnClock());
        run(...instantBurst());
        await flush();
        await clock.endTurn();
        expect(reports.map(summary)).toEqual([
          { at: 0, outcomes: ['sync:completed', 'throws:failed', 'async:completed', 'rejects:failed'], freed: 4, inUse: 0 },
        ]);
        expect(clock.pendingImmediates).toBe(0);
      });

      it('reports a cancel or a timeout at once, with the outcomes gathered so far', async () => {
        const { clock, run, abort, reports } = startRunner(new TurnClock());
        run(...cancelOrTimeoutBurst());
        await flush();
        expect(reports).toEqual([]);
        abort('stuck');
        await flush();
        expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['instant:completed', 'stuck:cancelled'], freed: 1, inUse: 2 }]);
        await clock.advanceBy(5);
        expect(reports.map(summary).slice(1)).toEqual([{ at: 5, outcomes: ['timed:timeout'], freed: 0, inUse: 2 }]);
        // The turn's end finds nothing left to report.
        await clock.endTurn();
        expect(reports).toHaveLength(2);
      });

      it('reports at once an unstarted order cancelled while others run', async () => {
        const { clock, run, abort, reports } = startRunner(new TurnClock());
        const slow = manual();
        const never = jest.fn();
        run(order('slow', slow.fn));
        await flush();
        run(order('dropped', never));
        abort('dropped');
        await flush();
        expect(never).not.toHaveBeenCalled();
        expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['dropped:cancelled'], freed: 1, inUse: 1 }]);
        expect(clock.pendingImmediates).toBe(0);
      });
    });
  });

  describe('timeouts', () => {
    it('reports a timeout before the function returns, and keeps its slot until it does', async () => {
      const { clock, run, reports } = startRunner();
      const slow = manual();
      run(order('slow', slow.fn, { timeoutMs: 50 }));
      await clock.advanceBy(49);
      expect(reports).toEqual([]);
      await clock.advanceBy(1);
      expect(reports.map(summary)).toEqual([{ at: 50, outcomes: ['slow:timeout'], freed: 0, inUse: 1 }]);
      const [timeout] = reports[0]!.outcomes;
      expect(timeout).toMatchObject({ started: true, startedAt: 0, endedAt: 50 });
      expect((timeout!.error as MezanError).code).toBe('E_TIMEOUT');
      expect((timeout!.error as MezanError).details).toMatchObject({ taskId: 'slow', attempt: 1, timeoutMs: 50 });
      expect(reports[0]).toMatchObject({ busyMs: 0, attempts: 0, lastTaskMs: undefined });

      const { signal } = slow.contexts[0]!;
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBe(timeout!.error);

      await clock.advanceBy(30);
      expect(reports).toHaveLength(1);
      await letReturn(slow, 'too late');
      // The late value changes nothing; the report frees the slot and counts the time really used.
      expect(reports.map(summary).slice(1)).toEqual([{ at: 80, outcomes: [], freed: 1, inUse: 0 }]);
      expect(reports[1]).toMatchObject({ busyMs: 80, attempts: 1, lastTaskMs: 80 });
    });

    it('runs the orders handed over with a function that times out, beside it', async () => {
      const { clock, run, reports } = startRunner();
      const slow = manual();
      const next = jest.fn(() => 'next');
      run(order('slow', slow.fn, { timeoutMs: 20 }), order('next', next));
      await clock.advanceBy(100);
      expect(next).toHaveBeenCalledTimes(1);
      expect(reports.map(summary)).toEqual([
        { at: 0, outcomes: ['next:completed'], freed: 1, inUse: 1 },
        { at: 20, outcomes: ['slow:timeout'], freed: 0, inUse: 1 },
      ]);
      slow.reject(new Error('gave up'));
      await clock.runAll();
      expect(reports.map(summary).slice(2)).toEqual([{ at: 100, outcomes: [], freed: 1, inUse: 0 }]);
      expect(reports[2]).toMatchObject({ busyMs: 100, attempts: 1 });
    });

    it('clears the timeout of a function that returns in time', async () => {
      const { clock, run, reports } = startRunner();
      run(order('quick', (ctx) => ctx.sleep(10), { timeoutMs: 50 }));
      await clock.advanceBy(10);
      expect(clock.pendingTimers).toBe(0);
      await clock.runAll();
      expect(reports.map(summary)).toEqual([{ at: 10, outcomes: ['quick:completed'], freed: 1, inUse: 0 }]);
    });

    it('times out each attempt from its own start', async () => {
      const { clock, run, reports } = startRunner();
      run(order('first', (ctx) => ctx.sleep(40), { timeoutMs: 50 }));
      await clock.advanceBy(30);
      // Started at 30, second has until 80 and returns at 70.
      run(order('second', (ctx) => ctx.sleep(40), { timeoutMs: 50 }));
      await clock.runAll();
      expect(reports.map(summary)).toEqual([
        { at: 40, outcomes: ['first:completed'], freed: 1, inUse: 1 },
        { at: 70, outcomes: ['second:completed'], freed: 1, inUse: 0 },
      ]);
      expect(reports[1]!.outcomes[0]).toMatchObject({ startedAt: 30, endedAt: 70 });
    });

    it('times each function out on its own', async () => {
      const { clock, run, reports } = startRunner();
      const a = manual();
      const b = manual();
      run(order('a', a.fn, { timeoutMs: 30 }), order('b', b.fn, { timeoutMs: 10 }));
      await clock.advanceBy(30);
      expect(reports.map(summary)).toEqual([
        { at: 10, outcomes: ['b:timeout'], freed: 0, inUse: 2 },
        { at: 30, outcomes: ['a:timeout'], freed: 0, inUse: 2 },
      ]);
      await letReturn(b, 'b');
      await letReturn(a, 'a');
      expect(reports.map(summary).slice(2)).toEqual([
        { at: 30, outcomes: [], freed: 1, inUse: 1 },
        { at: 30, outcomes: [], freed: 1, inUse: 0 },
      ]);
    });
  });

  describe('aborts', () => {
    it('drops an order not started yet without ever calling its function', async () => {
      const { clock, run, abort, reports } = startRunner();
      const first = manual();
      const dropped = jest.fn();
      const last = jest.fn(() => 'last');
      await clock.advanceTo(5);
      run(order('first', first.fn), order('dropped', dropped, { attempt: 2 }), order('last', last));
      const reason = cancelReason('dropped');
      abort('dropped', reason);
      await flush();
      expect(reports.map(summary)).toEqual([{ at: 5, outcomes: ['dropped:cancelled', 'last:completed'], freed: 2, inUse: 1 }]);
      expect(reports[0]!.outcomes[0]).toEqual({
        kind: 'cancelled',
        taskId: 'dropped',
        attempt: 2,
        value: undefined,
        error: reason,
        started: false,
        startedAt: 5,
        endedAt: 5,
      });
      // A dropped order is no attempt: only last's call counts.
      expect(reports[0]).toMatchObject({ busyMs: 0, attempts: 1, lastTaskMs: 0 });
      first.resolve('first');
      await clock.runAll();
      expect(dropped).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 5, outcomes: ['first:completed'], freed: 1, inUse: 0 }]);
    });

    it('aborts a running function’s signal and reports it cancelled at once, keeping its slot until it returns', async () => {
      const { clock, run, abort, reports } = startRunner();
      const current = watchedSleep(100);
      run(order('current', current.fn));
      await clock.advanceBy(30);
      const reason = cancelReason('current');
      abort('current', reason);
      await flush();
      expect(current.caught()).toBe(reason);
      // The cancel went out at once, before the function returned: its own report frees the slot.
      expect(reports.map(summary)).toEqual([
        { at: 30, outcomes: ['current:cancelled'], freed: 0, inUse: 1 },
        { at: 30, outcomes: [], freed: 1, inUse: 0 },
      ]);
      expect(reports[0]!.outcomes[0]).toMatchObject({ error: reason, started: true, startedAt: 0, endedAt: 30 });
      expect(reports[1]).toMatchObject({ busyMs: 30, attempts: 1, lastTaskMs: 30 });
      expect(clock.pendingTimers).toBe(0);
    });

    it('keeps the slot while a cancelled function ignores its signal', async () => {
      const { clock, run, abort, reports } = startRunner();
      const stubborn = manual();
      run(order('stubborn', stubborn.fn, { timeoutMs: 500 }));
      await clock.advanceBy(10);
      abort('stubborn');
      await clock.advanceBy(1_000);
      // The abort cleared the timeout: no second outcome for the same attempt.
      expect(reports.map(summary)).toEqual([{ at: 10, outcomes: ['stubborn:cancelled'], freed: 0, inUse: 1 }]);
      await letReturn(stubborn, 'done anyway');
      expect(reports.map(summary).slice(1)).toEqual([{ at: 1_010, outcomes: [], freed: 1, inUse: 0 }]);
    });

    it('ignores an abort for a task it does not hold, or one already reported', async () => {
      const { clock, run, abort, reports } = startRunner();
      const slow = manual();
      abort('nobody');
      run(order('slow', slow.fn, { timeoutMs: 10 }));
      abort('elsewhere');
      await clock.advanceBy(10);
      abort('slow');
      abort('slow');
      await flush();
      expect(reports.map(summary)).toEqual([{ at: 10, outcomes: ['slow:timeout'], freed: 0, inUse: 1 }]);
      await letReturn(slow, 'x');
      expect(reports.map(summary).slice(1)).toEqual([{ at: 10, outcomes: [], freed: 1, inUse: 0 }]);
    });

    it('ignores an abort for a function that has returned', async () => {
      const { clock, run, abort, reports } = startRunner();
      run(order('done', () => 'done'));
      await clock.runAll();
      abort('done');
      await clock.runAll();
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['done:completed'], freed: 1, inUse: 0 }]);
    });

    it('starts an order handed over while a function is aborting, and drops one cancelled before it starts', async () => {
      const { clock, run, abort, reports } = startRunner();
      const slow = manual();
      const beside = jest.fn(() => 'beside');
      const dropped = jest.fn();
      run(order('slow', slow.fn, { timeoutMs: 10 }));
      await clock.advanceBy(10);
      run(order('beside', beside), order('dropped', dropped));
      abort('dropped');
      await flush();
      expect(beside).toHaveBeenCalledTimes(1);
      expect(dropped).not.toHaveBeenCalled();
      expect(reports.map(summary)).toEqual([
        { at: 10, outcomes: ['slow:timeout'], freed: 0, inUse: 1 },
        { at: 10, outcomes: ['dropped:cancelled', 'beside:completed'], freed: 2, inUse: 1 },
      ]);
      expect(reports[1]!.outcomes[0]).toMatchObject({ started: false });
      await letReturn(slow, 'x');
      expect(reports.map(summary).slice(2)).toEqual([{ at: 10, outcomes: [], freed: 1, inUse: 0 }]);
    });

    it('fails a deadlock victim with its deadlock error once its function returns', async () => {
      const { clock, run, send, reports } = startRunner();
      const stuck = manual();
      run(
        order('victim', stuck.fn),
        order('other', (ctx) => ctx.sleep(50)),
      );
      await clock.advanceBy(10);
      const error = new MezanError('E_DEADLOCK', 'chosen as victim');
      send({ type: 'task.victim', taskId: 'victim', error });
      send({ type: 'task.victim', taskId: 'nobody', error });
      expect(stuck.contexts[0]!.signal.reason).toBe(error);
      await flush();
      // The victim's function decides: nothing is reported until it returns.
      expect(reports).toEqual([]);
      stuck.reject(new Error('gave up'));
      await flush();
      expect(reports.map(summary)).toEqual([{ at: 10, outcomes: ['victim:deadlock'], freed: 1, inUse: 1 }]);
      expect(reports[0]!.outcomes[0]!.error).toBe(error);
      await clock.runAll();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 50, outcomes: ['other:completed'], freed: 1, inUse: 0 }]);
    });

    it('lets a deadlock victim that returns a value complete, and ignores a victim already reported', async () => {
      const { clock, run, send, reports } = startRunner();
      const stuck = manual();
      const timed = manual();
      run(order('stuck', stuck.fn), order('timed', timed.fn, { timeoutMs: 5 }));
      await clock.advanceBy(5);
      const error = new MezanError('E_DEADLOCK', 'chosen as victim');
      send({ type: 'task.victim', taskId: 'stuck', error });
      // timed already timed out: its signal keeps the timeout's reason.
      send({ type: 'task.victim', taskId: 'timed', error });
      expect((timed.contexts[0]!.signal.reason as MezanError).code).toBe('E_TIMEOUT');
      stuck.resolve('recovered');
      timed.reject(new Error('late'));
      await flush();
      expect(reports.flatMap((report) => report.outcomes).map((outcome) => `${outcome.taskId}:${outcome.kind}`)).toEqual([
        'timed:timeout',
        'stuck:completed',
      ]);
      expect(reports.at(-1)).toMatchObject({ inUse: 0 });
    });
  });

  describe('a task id reused while an old attempt still runs', () => {
    /** A runner whose task `x` timed out at 10 while its function, `old`, still runs. */
    async function startTimedOut() {
      const harness = startRunner();
      const old = manual();
      harness.run(order('x', old.fn, { timeoutMs: 10 }));
      await harness.clock.advanceBy(10);
      return { ...harness, old };
    }

    it('aborts the latest attempt, and frees the old one’s slot silently when its function returns', async () => {
      const { run, abort, reports, old } = await startTimedOut();
      const latest = manual();
      expect(reports.map(summary)).toEqual([{ at: 10, outcomes: ['x:timeout'], freed: 0, inUse: 1 }]);
      // The task settled; its id comes back with a new attempt while the old function still runs.
      run(order('x', latest.fn, { attempt: 2 }));
      await flush();
      expect(latest.fn).toHaveBeenCalledTimes(1);
      const reason = cancelReason('x');
      abort('x', reason);
      await flush();
      expect(latest.contexts[0]!.signal.reason).toBe(reason);
      expect((old.contexts[0]!.signal.reason as MezanError).code).toBe('E_TIMEOUT');
      expect(reports.map(summary).slice(1)).toEqual([{ at: 10, outcomes: ['x:cancelled'], freed: 0, inUse: 2 }]);
      expect(reports[1]!.outcomes[0]).toMatchObject({ attempt: 2, error: reason });
      await letReturn(old, 'old');
      expect(reports.map(summary).slice(2)).toEqual([{ at: 10, outcomes: [], freed: 1, inUse: 1 }]);
      // The latest attempt is still the one an abort or a victim concerns.
      await letReturn(latest, 'latest');
      expect(reports.map(summary).slice(3)).toEqual([{ at: 10, outcomes: [], freed: 1, inUse: 0 }]);
    });

    it('keeps the latest attempt reachable after the old one returns', async () => {
      const { run, send, reports, old } = await startTimedOut();
      const latest = manual();
      run(order('x', latest.fn, { attempt: 2 }));
      await flush();
      await letReturn(old, 'old');
      const error = new MezanError('E_DEADLOCK', 'victim');
      send({ type: 'task.victim', taskId: 'x', error });
      expect(latest.contexts[0]!.signal.reason).toBe(error);
      latest.reject(new Error('gave up'));
      await flush();
      expect(reports.map(summary)).toEqual([
        { at: 10, outcomes: ['x:timeout'], freed: 0, inUse: 1 },
        { at: 10, outcomes: [], freed: 1, inUse: 1 },
        { at: 10, outcomes: ['x:deadlock'], freed: 1, inUse: 0 },
      ]);
      expect(reports[2]!.outcomes[0]).toMatchObject({ attempt: 2, error });
    });
  });

  describe('pool replies', () => {
    it('asks pools to answer its owner, and hands a grant to the attempt that asked', async () => {
      const pool = fakePool();
      const self = fakeSelf();
      const { clock, run, send, reports } = startRunner(new VirtualClock(), { services: pool.services, self });
      let lease: Lease | undefined;
      run(
        order('t', async (ctx) => {
          lease = await ctx.acquire('db');
          await ctx.sleep(5);
          return 'done';
        }),
      );
      await flush();
      expect(pool.requests()).toEqual([{ type: 'resource.request', requestId: 't#1.1#1', taskId: 't', units: 1, at: 0, replyTo: self }]);
      send({ type: 'resource.granted', requestId: 't#1.1#1', leaseId: 'db#1', resource: 'db', units: 1, at: 0 });
      await flush();
      expect(lease).toMatchObject({ leaseId: 'db#1', resource: 'db', units: 1 });
      await clock.runAll();
      expect(reports.map(summary)).toEqual([{ at: 5, outcomes: ['t:completed'], freed: 1, inUse: 0 }]);
      // The attempt ended holding its lease: it went back to the pool.
      expect(pool.received.at(-1)).toEqual({ type: 'resource.release', leaseId: 'db#1', at: 5 });
    });

    it('hands a grant for an attempt that is over straight back to its pool', async () => {
      const pool = fakePool();
      const { clock, run, send } = startRunner(new VirtualClock(), { services: pool.services });
      run(order('t', (ctx) => ctx.acquire('db', { timeoutMs: 3 }).then(() => 'got it')));
      await clock.runAll();
      // The acquisition timed out and withdrew its request; the pool's grant crossed it.
      expect(pool.received.map((event) => event.type)).toEqual(['resource.request', 'resource.cancel']);
      send({ type: 'resource.granted', requestId: 't#1.1#1', leaseId: 'db#4', resource: 'db', units: 1, at: 3 });
      send({ type: 'resource.granted', requestId: 'nobody#1.9#1', leaseId: 'db#5', resource: 'db', units: 1, at: 3 });
      send({ type: 'resource.cancelled', requestId: 'nobody#1.9#2', resource: 'db' });
      expect(pool.received.slice(2)).toEqual([
        { type: 'resource.release', leaseId: 'db#4', at: 3 },
        { type: 'resource.release', leaseId: 'db#5', at: 3 },
      ]);
    });

    it('does not hand the latest attempt of a reused task id a grant meant for the old one', async () => {
      const pool = fakePool();
      const { clock, run, send } = startRunner(new VirtualClock(), { services: pool.services });
      const old = manual();
      let latestLease: Lease | undefined;
      run(
        order(
          'x',
          (ctx) => {
            void ctx.acquire('db').catch(() => undefined);
            return old.fn(ctx);
          },
          { timeoutMs: 10 },
        ),
      );
      await clock.advanceBy(10);
      run(order('x', async (ctx) => void (latestLease = await ctx.acquire('db')), { attempt: 2 }));
      await flush();
      const [oldRequest, latestRequest] = pool.requests();
      expect([oldRequest!.requestId, latestRequest!.requestId]).toEqual(['x#1.1#1', 'x#2.2#1']);
      send({ type: 'resource.granted', requestId: 'x#1.1#1', leaseId: 'db#1', resource: 'db', units: 1, at: 10 });
      await flush();
      expect(latestLease).toBeUndefined();
      expect(pool.received.at(-1)).toEqual({ type: 'resource.release', leaseId: 'db#1', at: 10 });
      send({ type: 'resource.granted', requestId: 'x#2.2#1', leaseId: 'db#2', resource: 'db', units: 1, at: 10 });
      await flush();
      expect(latestLease).toMatchObject({ leaseId: 'db#2' });
    });
  });

  describe('worker.slow', () => {
    it('stretches the sleeps that start before `until` by `factor`', async () => {
      const { clock, run, send, reports, environment } = startRunner();
      send({ type: 'worker.slow', factor: 3, until: 100 });
      expect(environment.pace).toEqual({ factor: 3, until: 100 });
      run(order('slowed', (ctx) => ctx.sleep(10)));
      await clock.advanceTo(100);
      run(order('normal', (ctx) => ctx.sleep(10)));
      await clock.runAll();
      expect(reports.map(summary)).toEqual([
        { at: 30, outcomes: ['slowed:completed'], freed: 1, inUse: 0 },
        { at: 110, outcomes: ['normal:completed'], freed: 1, inUse: 0 },
      ]);
    });
  });

  describe('stop', () => {
    it('aborts every running function with E_SHUTDOWN and reports nothing more', async () => {
      const { clock, run, runner, reports } = startRunner();
      const burst = stopBurst();
      run(...burst.orders);
      await clock.advanceBy(10);
      expect(reports.map(summary)).toEqual([{ at: 0, outcomes: ['instant:completed'], freed: 1, inUse: 2 }]);
      runner.stop();
      burst.expectAborted('E_SHUTDOWN');
      for (const signal of burst.signals()) expect((signal.reason as MezanError).message).toBe('Worker main stopped');
      expect(clock.pendingTimers).toBe(0);
      burst.release();
      await clock.runAll();
      expect(reports).toHaveLength(1);
      expect(runner.takeReport()).toBeUndefined();
    });

    it('aborts them with E_WORKER_CRASHED when its worker crashed', async () => {
      const { clock, run, runner, reports } = startRunner();
      const slow = manual();
      run(order('slow', slow.fn));
      await flush();
      runner.stop('E_WORKER_CRASHED');
      const reason = slow.contexts[0]!.signal.reason as MezanError;
      expect([reason.code, reason.message, reason.details]).toEqual([
        'E_WORKER_CRASHED',
        'Worker main crashed',
        { taskId: 'slow', workerId: 'main' },
      ]);
      // Stopping again changes nothing.
      runner.stop();
      expect((slow.contexts[0]!.signal.reason as MezanError).code).toBe('E_WORKER_CRASHED');
      slow.resolve('x');
      await clock.runAll();
      expect(reports).toEqual([]);
    });

    it('never calls the functions of orders not started yet, nor of orders handed over afterwards', async () => {
      const { clock, run, runner, abort, send, reports } = startRunner();
      const never = jest.fn();
      run(order('a', never), order('b', never));
      runner.stop();
      expect(runner.inUse).toBe(0);
      run(order('c', never));
      abort('a');
      send({ type: 'task.victim', taskId: 'b', error: new MezanError('E_DEADLOCK', 'victim') });
      await clock.runAll();
      expect(never).not.toHaveBeenCalled();
      expect(reports).toEqual([]);
      expect(runner.inUse).toBe(0);
    });

    it('clears the report it meant to ask for at the end of the turn', async () => {
      const { clock, run, runner, reports } = startRunner(new TurnClock());
      await stopWithTurnEndReportPlanned(clock, run, () => runner.stop());
      expect(reports).toEqual([]);
    });
  });
});
