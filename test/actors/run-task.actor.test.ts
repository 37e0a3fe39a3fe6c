import { createActor, setup, type AnyActorRef } from 'xstate';
import { runTaskLogic, type RunnerEvent, type RunnerInput, type RunnerReportEvent } from '../../actors/run-task.actor';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import { NO_SERVICES } from '../../src/internal/task-services';
import type { RunOrder } from '../../src/internal/task-protocol';
import { createQuietLogger } from '../../src/logger';
import type { TaskContext, TaskFunction } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';

/** A runner inside the smallest parent that records what the runner sends back. */
function startRunner() {
  const clock = new VirtualClock();
  const reports: Array<RunnerReportEvent & { at: number }> = [];
  const events: EngineEvent[] = [];
  const sink: EventSink = { active: true, publish: (event) => events.push(event) };
  const input: RunnerInput = { workerId: 'worker-1', clock, sink, logger: createQuietLogger(), services: NO_SERVICES };
  const host = setup({
    types: { context: {} as { runnerInput: RunnerInput }, events: {} as RunnerReportEvent, input: {} as RunnerInput },
    actors: { runTask: runTaskLogic },
    actions: { record: ({ event }) => void reports.push({ ...event, at: clock.now() }) },
  }).createMachine({
    context: ({ input: hostInput }) => ({ runnerInput: hostInput }),
    invoke: { id: 'runner', src: 'runTask', input: ({ context }) => context.runnerInput },
    on: { 'runner.report': { actions: 'record' } },
  });
  const actor = createActor(host, { clock, input });
  actor.start();
  const runner = actor.getSnapshot().children.runner as AnyActorRef;
  const send = (event: RunnerEvent): void => runner.send(event);
  return {
    clock,
    reports,
    events,
    actor,
    run: (...orders: RunOrder[]) => send({ type: 'run', orders }),
    abort: (taskId: string, reason = cancelReason(taskId)) => send({ type: 'task.abort', taskId, reason }),
  };
}

const cancelReason = (taskId: string): MezanError => new MezanError('E_CANCELLED', 'cancelled', { details: { taskId } });

function order(taskId: string, fn: TaskFunction, fields: Partial<RunOrder> = {}): RunOrder {
  return { taskId, name: taskId, attempt: 1, fn, timeoutMs: undefined, resources: undefined, ...fields };
}

/** A function that returns only when the test says so, whatever its signal does. */
function manual<T = string>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const contexts: TaskContext[] = [];
  const fn = jest.fn((ctx: TaskContext) => {
    contexts.push(ctx);
    return new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  });
  return { fn, contexts, resolve: (value: T) => resolve(value), reject: (error: unknown) => reject(error) };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const summary = (report: RunnerReportEvent & { at: number }) => ({
  at: report.at,
  state: report.state,
  outcomes: report.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`),
});

describe('runTaskLogic', () => {
  describe('running', () => {
    it('runs orders one at a time, in the order received', async () => {
      const { clock, run, reports } = startRunner();
      let running = 0;
      let mostAtOnce = 0;
      const log: string[] = [];
      // Each function yields to promise jobs without the clock turning: overlapping calls would
      // show, and the batch stays on this runner (orders behind a clock-time function go back).
      const step = (name: string): TaskFunction => async () => {
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
      expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
      expect(mostAtOnce).toBe(1);
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'idle', outcomes: ['a:completed', 'b:completed', 'c:completed'] }]);
    });

    it('gives each function its context: id, name, attempt and a live signal', async () => {
      const { clock, run } = startRunner();
      const seen: Array<Pick<TaskContext, 'id' | 'name' | 'attempt'> & { aborted: boolean }> = [];
      run(order('t', (ctx) => void seen.push({ id: ctx.id, name: ctx.name, attempt: ctx.attempt, aborted: ctx.signal.aborted }), { name: 'the task', attempt: 3 }));
      await clock.runAll();
      expect(seen).toEqual([{ id: 't', name: 'the task', attempt: 3, aborted: false }]);
    });

    it('publishes task.started with the worker and the clock time', async () => {
      const { clock, run, events } = startRunner();
      await clock.advanceTo(5);
      run(order('a', (ctx) => ctx.sleep(10)));
      await flush();
      // Sent while a already runs, b waits its turn here (no hand-back timer is set for it).
      run(order('b', () => 1, { attempt: 2 }));
      await clock.runAll();
      expect(events).toEqual([
        { type: 'task.started', at: 5, taskId: 'a', name: 'a', attempt: 1, workerId: 'worker-1' },
        { type: 'task.started', at: 15, taskId: 'b', name: 'b', attempt: 2, workerId: 'worker-1' },
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
    });

    it('accepts new orders while busy and runs them after the current ones', async () => {
      const { clock, run, reports } = startRunner();
      const first = manual();
      const second = jest.fn(() => 'second');
      run(order('first', first.fn));
      await flush();
      run(order('second', second));
      await flush();
      expect(second).not.toHaveBeenCalled();
      first.resolve('first');
      await clock.runAll();
      expect(second).toHaveBeenCalledTimes(1);
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'idle', outcomes: ['first:completed', 'second:completed'] }]);
    });
  });

  describe('starting', () => {
    it('calls no function inside the run event, so a cancel in the same turn finds its order unstarted', async () => {
      const { run, abort, reports } = startRunner();
      const cancelled = jest.fn(() => 'a');
      const other = jest.fn(() => 'b');
      run(order('a', cancelled), order('b', other));
      expect(cancelled).not.toHaveBeenCalled();
      abort('a');
      await flush();
      expect(cancelled).not.toHaveBeenCalled();
      expect(other).toHaveBeenCalledTimes(1);
      expect(reports.flatMap((report) => report.outcomes).map((outcome) => [outcome.taskId, outcome.kind, outcome.started])).toEqual([
        ['a', 'cancelled', false],
        ['b', 'completed', true],
      ]);
      expect(reports.at(-1)!.state).toBe('idle');
    });
  });

  describe('report batching', () => {
    it('reports a batch of instant tasks in one message', async () => {
      const { clock, run, reports } = startRunner();
      const thrown = new Error('sync failure');
      run(
        order('sync', () => 'value'),
        order('async', async () => 'async value'),
        order('throws', () => {
          throw thrown;
        }),
        order('rejects', () => Promise.reject(thrown)),
      );
      await clock.runAll();
      expect(reports).toHaveLength(1);
      const [report] = reports;
      expect(report).toMatchObject({ type: 'runner.report', state: 'idle', busyMs: 0, attempts: 4, lastTaskMs: 0 });
      expect(report!.outcomes).toEqual([
        { kind: 'completed', taskId: 'sync', attempt: 1, value: 'value', error: undefined, started: true, startedAt: 0, endedAt: 0 },
        { kind: 'completed', taskId: 'async', attempt: 1, value: 'async value', error: undefined, started: true, startedAt: 0, endedAt: 0 },
        { kind: 'failed', taskId: 'throws', attempt: 1, value: undefined, error: thrown, started: true, startedAt: 0, endedAt: 0 },
        { kind: 'failed', taskId: 'rejects', attempt: 1, value: undefined, error: thrown, started: true, startedAt: 0, endedAt: 0 },
      ]);
    });

    it('reports at once each task that took clock time', async () => {
      const { clock, run, reports } = startRunner();
      run(order('a', (ctx) => ctx.sleep(10)));
      await flush();
      // Sent while a runs, so they wait their turn here instead of being handed back.
      run(order('b', (ctx) => ctx.sleep(20)));
      await clock.advanceBy(10);
      expect(reports.map(summary)).toEqual([{ at: 10, state: 'busy', outcomes: ['a:completed'] }]);
      await clock.runAll();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 30, state: 'idle', outcomes: ['b:completed'] }]);
      expect(reports.map((report) => [report.busyMs, report.attempts, report.lastTaskMs])).toEqual([
        [10, 1, 10],
        [20, 1, 20],
      ]);
      expect(reports[1]!.outcomes[0]).toMatchObject({ startedAt: 10, endedAt: 30 });
    });

    // An instant outcome is held for the batch's single message; it must not wait for a slow
    // function that happens to follow it in the same batch.
    it('does not hold an instant task’s outcome while a later task of the batch takes clock time', async () => {
      const { clock, run, reports } = startRunner();
      run(
        order('instant', () => 'done'),
        order('slow', (ctx) => ctx.sleep(1_000)),
      );
      await clock.advanceBy(1);
      expect(reports.flatMap((report) => report.outcomes).map((outcome) => outcome.taskId)).toContain('instant');
      await clock.runAll();
      expect(reports.flatMap((report) => report.outcomes).map((outcome) => outcome.taskId)).toEqual(['instant', 'slow']);
    });
  });

  describe('timeouts', () => {
    it('reports a timeout before the function returns, and stays aborting until it does', async () => {
      const { clock, run, reports } = startRunner();
      const slow = manual();
      run(order('slow', slow.fn, { timeoutMs: 50 }));
      await clock.advanceBy(49);
      expect(reports).toEqual([]);
      await clock.advanceBy(1);
      expect(reports.map(summary)).toEqual([{ at: 50, state: 'aborting', outcomes: ['slow:timeout'] }]);
      const [timeout] = reports[0]!.outcomes;
      expect(timeout).toMatchObject({ started: true, startedAt: 0, endedAt: 50 });
      expect((timeout!.error as MezanError).code).toBe('E_TIMEOUT');
      expect((timeout!.error as MezanError).details).toMatchObject({ taskId: 'slow', attempt: 1, timeoutMs: 50 });
      expect(reports[0]).toMatchObject({ busyMs: 0, attempts: 0 });

      const { signal } = slow.contexts[0]!;
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBe(timeout!.error);

      await clock.advanceBy(30);
      slow.resolve('too late');
      await flush();
      // The late value changes nothing; the report frees the worker and counts the time really used.
      expect(reports.map(summary).slice(1)).toEqual([{ at: 80, state: 'idle', outcomes: [] }]);
      expect(reports[1]).toMatchObject({ busyMs: 80, attempts: 1, lastTaskMs: 80 });
    });

    it('never starts the order behind a function that times out: it went back to the executor', async () => {
      const { clock, run, reports } = startRunner();
      const slow = manual();
      const next = jest.fn(() => 'next');
      run(order('slow', slow.fn, { timeoutMs: 20 }), order('next', next));
      await clock.advanceBy(100);
      expect(next).not.toHaveBeenCalled();
      expect(reports.map(summary)).toEqual([
        { at: 0, state: 'busy', outcomes: ['next:requeue'] },
        { at: 20, state: 'aborting', outcomes: ['slow:timeout'] },
      ]);
      slow.reject(new Error('gave up'));
      await clock.runAll();
      expect(next).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(2)).toEqual([{ at: 100, state: 'idle', outcomes: [] }]);
      expect(reports[2]).toMatchObject({ busyMs: 100, attempts: 1 });
    });

    it('clears the timeout of a function that returns in time', async () => {
      const { clock, run, reports } = startRunner();
      run(order('quick', (ctx) => ctx.sleep(10), { timeoutMs: 50 }));
      await clock.advanceBy(10);
      expect(clock.pendingTimers).toBe(0);
      await clock.runAll();
      expect(reports.map(summary)).toEqual([{ at: 10, state: 'idle', outcomes: ['quick:completed'] }]);
    });

    it('times out each attempt from its own start', async () => {
      const { clock, run, reports } = startRunner();
      run(order('first', (ctx) => ctx.sleep(40), { timeoutMs: 50 }));
      await flush();
      // Received at 0 while first runs, second starts at 40: timed from then, it has until 90.
      run(order('second', (ctx) => ctx.sleep(40), { timeoutMs: 50 }));
      await clock.runAll();
      expect(reports.map(summary)).toEqual([
        { at: 40, state: 'busy', outcomes: ['first:completed'] },
        { at: 80, state: 'idle', outcomes: ['second:completed'] },
      ]);
    });
  });

  describe('aborts', () => {
    it('drops a pending order without ever calling its function', async () => {
      const { clock, run, abort, reports } = startRunner();
      const first = manual();
      const dropped = jest.fn();
      const last = jest.fn(() => 'last');
      await clock.advanceTo(5);
      run(order('first', first.fn), order('dropped', dropped, { attempt: 2 }), order('last', last));
      // Before the clock turns: the orders behind first have not been handed back yet.
      await flush();
      const reason = cancelReason('dropped');
      abort('dropped', reason);
      expect(reports.map(summary)).toEqual([{ at: 5, state: 'busy', outcomes: ['dropped:cancelled'] }]);
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
      first.resolve('first');
      await clock.runAll();
      expect(dropped).not.toHaveBeenCalled();
      expect(last).toHaveBeenCalledTimes(1);
      expect(reports.flatMap((report) => report.outcomes).map((outcome) => `${outcome.taskId}:${outcome.kind}`)).toEqual([
        'dropped:cancelled',
        'first:completed',
        'last:completed',
      ]);
    });

    it('aborts the current function’s signal and reports it cancelled at once', async () => {
      const { clock, run, abort, reports } = startRunner();
      let caught: unknown;
      run(
        order('current', async (ctx) => {
          try {
            await ctx.sleep(100);
          } catch (error) {
            caught = error;
            throw error;
          }
        }),
      );
      await clock.advanceBy(30);
      const reason = cancelReason('current');
      abort('current', reason);
      expect(reports.map(summary)[0]).toEqual({ at: 30, state: 'aborting', outcomes: ['current:cancelled'] });
      expect(reports[0]!.outcomes[0]).toMatchObject({ error: reason, started: true, startedAt: 0, endedAt: 30 });
      await flush();
      expect(caught).toBe(reason);
      expect(reports.map(summary)).toEqual([
        { at: 30, state: 'aborting', outcomes: ['current:cancelled'] },
        { at: 30, state: 'idle', outcomes: [] },
      ]);
      expect(reports[1]).toMatchObject({ busyMs: 30, attempts: 1 });
      expect(clock.pendingTimers).toBe(0);
    });

    it('stays aborting while a cancelled function ignores its signal', async () => {
      const { clock, run, abort, reports } = startRunner();
      const stubborn = manual();
      run(order('stubborn', stubborn.fn, { timeoutMs: 500 }));
      await clock.advanceBy(10);
      abort('stubborn');
      await clock.advanceBy(1_000);
      // The abort cleared the timeout: no second outcome for the same attempt.
      expect(reports.map(summary)).toEqual([{ at: 10, state: 'aborting', outcomes: ['stubborn:cancelled'] }]);
      stubborn.resolve('done anyway');
      await flush();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 1_010, state: 'idle', outcomes: [] }]);
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
      expect(reports.map(summary)).toEqual([{ at: 10, state: 'aborting', outcomes: ['slow:timeout'] }]);
      slow.resolve('x');
      await flush();
      expect(reports).toHaveLength(2);
    });

    it('drops a pending order while the current function is aborting, and stays aborting', async () => {
      const { clock, run, abort, reports } = startRunner();
      const slow = manual();
      const behind = jest.fn();
      run(order('slow', slow.fn, { timeoutMs: 10 }));
      await clock.advanceBy(10);
      // Orders waiting at the timeout were handed back with it; this one arrives after.
      run(order('behind', behind));
      abort('behind');
      expect(reports.map(summary)).toEqual([
        { at: 10, state: 'aborting', outcomes: ['slow:timeout'] },
        { at: 10, state: 'aborting', outcomes: ['behind:cancelled'] },
      ]);
      expect(reports[1]!.outcomes[0]).toMatchObject({ started: false });
      slow.resolve('x');
      await flush();
      expect(behind).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(2)).toEqual([{ at: 10, state: 'idle', outcomes: [] }]);
    });
  });

  describe('hand-back', () => {
    it('hands back, at the next turn of the clock, the orders behind a function still running', async () => {
      const { clock, run, reports } = startRunner();
      const slow = manual();
      const behind = jest.fn();
      await clock.advanceTo(5);
      run(order('instant', () => 'done'), order('slow', slow.fn), order('b', behind, { attempt: 2 }), order('c', behind));
      await flush();
      // Promise jobs alone do not count: only a turn of the clock shows the function is slow.
      expect(slow.fn).toHaveBeenCalledTimes(1);
      expect(reports).toEqual([]);
      await clock.advanceBy(0);
      expect(reports.map(summary)).toEqual([{ at: 5, state: 'busy', outcomes: ['instant:completed', 'b:requeue', 'c:requeue'] }]);
      expect(reports[0]!.outcomes.slice(1)).toEqual([
        { kind: 'requeue', taskId: 'b', attempt: 2, value: undefined, error: undefined, started: false, startedAt: 5, endedAt: 5 },
        { kind: 'requeue', taskId: 'c', attempt: 1, value: undefined, error: undefined, started: false, startedAt: 5, endedAt: 5 },
      ]);
      expect(reports[0]).toMatchObject({ busyMs: 0, attempts: 1 });
      await clock.advanceBy(100);
      slow.resolve('slow');
      await clock.runAll();
      expect(behind).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 105, state: 'idle', outcomes: ['slow:completed'] }]);
    });

    it('hands nothing back when the whole batch ends before the clock turns', async () => {
      const { clock, run, reports } = startRunner();
      const promiseJobsOnly = async (): Promise<string> => {
        for (let turn = 0; turn < 3; turn++) await null;
        return 'async';
      };
      run(order('a', promiseJobsOnly), order('b', promiseJobsOnly), order('c', () => 'sync'));
      await flush();
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'idle', outcomes: ['a:completed', 'b:completed', 'c:completed'] }]);
      // The batch's end cleared the hand-back timer set when a went async.
      expect(clock.pendingTimers).toBe(0);
      await clock.runAll();
      expect(reports).toHaveLength(1);
    });

    it('hands back the orders behind a function that times out, in the timeout’s report', async () => {
      const { clock, run, reports } = startRunner();
      const slow = manual();
      const behind = jest.fn();
      run(order('slow', slow.fn, { timeoutMs: 20 }));
      await flush();
      // Received while slow runs, they set no hand-back timer: only the timeout frees them.
      run(order('b', behind), order('c', behind));
      await clock.advanceBy(20);
      expect(reports.map(summary)).toEqual([{ at: 20, state: 'aborting', outcomes: ['slow:timeout', 'b:requeue', 'c:requeue'] }]);
      expect(reports[0]!.outcomes[1]).toMatchObject({ started: false, startedAt: 20, endedAt: 20 });
      await clock.advanceBy(30);
      slow.resolve('late');
      await clock.runAll();
      expect(behind).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 50, state: 'idle', outcomes: [] }]);
    });

    it('hands back the orders behind a cancelled function, in the cancel’s report', async () => {
      const { clock, run, abort, reports } = startRunner();
      const slow = manual();
      const behind = jest.fn();
      run(order('slow', slow.fn), order('b', behind), order('c', behind));
      await flush();
      abort('slow');
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'aborting', outcomes: ['slow:cancelled', 'b:requeue', 'c:requeue'] }]);
      expect(clock.pendingTimers).toBe(0);
      await clock.advanceBy(10);
      slow.resolve('late');
      await clock.runAll();
      expect(behind).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 10, state: 'idle', outcomes: [] }]);
    });

    it('ignores a cancel for an order it handed back: the executor holds it again', async () => {
      const { clock, run, abort, reports } = startRunner();
      const slow = manual();
      const behind = jest.fn();
      run(order('slow', slow.fn), order('b', behind));
      await clock.advanceBy(0);
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'busy', outcomes: ['b:requeue'] }]);
      await clock.advanceBy(5);
      abort('b');
      expect(reports).toHaveLength(1);
      slow.resolve('slow');
      await clock.runAll();
      expect(behind).not.toHaveBeenCalled();
      expect(reports.map(summary).slice(1)).toEqual([{ at: 5, state: 'idle', outcomes: ['slow:completed'] }]);
    });

    it('still hands back the orders behind a slow function after a cancel drops one of them', async () => {
      const { clock, run, abort, reports } = startRunner();
      const slow = manual();
      const dropped = jest.fn();
      const last = jest.fn(() => 'last');
      run(order('slow', slow.fn), order('dropped', dropped), order('last', last));
      await flush();
      abort('dropped');
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'busy', outcomes: ['dropped:cancelled'] }]);
      await clock.advanceBy(0);
      expect(reports.map(summary).slice(1)).toEqual([{ at: 0, state: 'busy', outcomes: ['last:requeue'] }]);
      await clock.advanceBy(1_000);
      slow.resolve('slow');
      await clock.runAll();
      expect(dropped).not.toHaveBeenCalled();
      expect(last).not.toHaveBeenCalled();
    });
  });

  describe('stop', () => {
    it('aborts the current function with E_SHUTDOWN and reports nothing more', async () => {
      const { clock, run, actor, reports } = startRunner();
      const slow = manual();
      const never = jest.fn();
      run(order('slow', slow.fn, { timeoutMs: 100 }), order('never', never));
      await clock.advanceBy(10);
      expect(reports.map(summary)).toEqual([{ at: 0, state: 'busy', outcomes: ['never:requeue'] }]);
      actor.stop();
      const { signal } = slow.contexts[0]!;
      expect(signal.aborted).toBe(true);
      expect((signal.reason as MezanError).code).toBe('E_SHUTDOWN');
      expect(clock.pendingTimers).toBe(0);
      slow.resolve('x');
      await clock.runAll();
      expect(never).not.toHaveBeenCalled();
      expect(reports).toHaveLength(1);
    });
  });
});
