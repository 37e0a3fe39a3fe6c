import type { AnyActorRef, EventObject, InspectionEvent } from 'xstate';
import { TaskRunner, type RunnerReport } from '../../actors/task-runner';
import type { WorkerEvent, WorkerInput, WorkerRef, WorkerStats } from '../../actors/worker.actor';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import type { ResourceRequestEvent } from '../../src/internal/resource-protocol';
import { NO_SERVICES, type TaskServices } from '../../src/internal/task-services';
import type { RunOrder, RunOutcome, TaskDispatchEvent, WorkerReportEvent } from '../../src/internal/task-protocol';
import type { Lease, TaskFunction } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';
import { fakePool } from '../fixtures/fake-pool';
import { flush } from '../fixtures/flush';
import { manual } from '../fixtures/manual-function';
import { cancelOrTimeoutBurst, instantBurst, stopBurst, stopWithTurnEndReportPlanned, turnBurst } from '../fixtures/order-bursts';
import { mainRunEnvironment } from '../fixtures/run-environment';
import { order, sleeps } from '../fixtures/run-order';
import { TurnClock } from '../fixtures/turn-clock';
import { hostWorker } from '../fixtures/worker-host';
import { zeroWorkerStats } from '../fixtures/worker-stats';

interface StartOptions<C extends VirtualClock> {
  clock?: C;
  slots?: number;
  initialStats?: WorkerStats;
  sink?: EventSink;
  services?: TaskServices;
}

/** A worker inside the smallest parent that records every event the worker sends it, and when. */
function startWorker<C extends VirtualClock = VirtualClock>(options: StartOptions<C> = {}) {
  const clock = options.clock ?? (new VirtualClock() as C);
  const received: EventObject[] = [];
  const times: number[] = [];
  /** What the worker showed (its state, its slots taken) when the parent heard each of its reports. */
  const shownAtReport: Array<[string, number]> = [];
  /** The events the worker itself processed, in order (from XState's inspection). */
  const processed: string[] = [];
  const input: WorkerInput = {
    ...mainRunEnvironment(clock, { sink: options.sink, services: options.services }),
    slots: options.slots ?? 4,
    initialStats: options.initialStats,
  };
  const inspect = (inspection: InspectionEvent): void => {
    if (inspection.type === '@xstate.snapshot' && (inspection.actorRef as AnyActorRef).id === 'worker') processed.push(inspection.event.type);
  };
  const { actor, worker } = hostWorker(input, {
    inspect,
    onEvent: (event) => {
      received.push(event);
      times.push(clock.now());
      if (event.type === 'worker.report') shownAtReport.push([worker.getSnapshot().value, worker.getSnapshot().context.stats.running]);
    },
  });
  const reports = (): WorkerReportEvent[] => received.filter((event): event is WorkerReportEvent => event.type === 'worker.report');
  return {
    clock,
    actor,
    worker,
    received,
    processed,
    shownAtReport,
    reports,
    /** What the parent heard, in short: outcomes as `task:kind` and the slots freed. */
    heard: () =>
      reports().map((report) => ({ outcomes: report.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`), freed: report.freed })),
    /** When the parent heard each report. */
    heardAt: () => received.flatMap((event, index) => (event.type === 'worker.report' ? [times[index]!] : [])),
    state: () => worker.getSnapshot().value,
    stats: () => worker.getSnapshot().context.stats,
    dispatch: (...orders: RunOrder[]) => worker.send({ type: 'task.dispatch', orders }),
    abort: (taskId: string, reason = new MezanError('E_CANCELLED', 'cancelled')) => worker.send({ type: 'task.abort', taskId, reason }),
  };
}

/** The statistics of a worker with 4 slots that has run nothing. */
const ZERO_STATS: WorkerStats = zeroWorkerStats(4);

describe('workerLogic', () => {
  describe('with its real runner', () => {
    it('starts idle with its slots and zero statistics', () => {
      const { state, stats, worker } = startWorker();
      expect(state()).toBe('idle');
      expect(worker.getSnapshot().status).toBe('active');
      expect(stats()).toEqual(ZERO_STATS);
      expect(worker.getSnapshot().context.workerId).toBe('main');
      expect(startWorker({ slots: 7 }).stats()).toEqual({ ...ZERO_STATS, slots: 7 });
    });

    it('is busy while a function runs, then idle, and reports to its parent', async () => {
      const { clock, state, stats, dispatch, reports } = startWorker();
      dispatch(
        order('a', async (ctx) => {
          await ctx.sleep(25);
          return 'A';
        }),
      );
      expect(state()).toBe('busy');
      expect(stats().running).toBe(1);
      await clock.advanceBy(24);
      expect(state()).toBe('busy');
      expect(reports()).toEqual([]);
      await clock.advanceBy(1);
      expect(state()).toBe('idle');
      expect(reports()).toEqual([
        {
          type: 'worker.report',
          workerId: 'main',
          freed: 1,
          outcomes: [{ kind: 'completed', taskId: 'a', attempt: 1, value: 'A', error: undefined, started: true, startedAt: 0, endedAt: 25 }],
        },
      ]);
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 1, attempts: 1, busyMs: 25, lastTaskMs: 25 });
    });

    it('tells its parent after the transition: the parent reads the new snapshot', async () => {
      const { clock, dispatch, shownAtReport } = startWorker();
      dispatch(order('a', sleeps(5)), order('b', sleeps(10)));
      await clock.runAll();
      expect(shownAtReport).toEqual([
        ['busy', 1],
        ['idle', 0],
      ]);
    });

    it('runs the orders of one dispatch at once, each in a slot, and counts them running until they return', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      const started: Array<[string, number]> = [];
      const timed =
        (id: string, ms: number): TaskFunction =>
        async (ctx) => {
          started.push([id, clock.now()]);
          await ctx.sleep(ms);
        };
      dispatch(order('a', timed('a', 30)), order('b', timed('b', 10)), order('c', timed('c', 20)));
      expect(stats().running).toBe(3);
      await clock.advanceBy(10);
      expect(started).toEqual([
        ['a', 0],
        ['b', 0],
        ['c', 0],
      ]);
      expect(heard()).toEqual([{ outcomes: ['b:completed'], freed: 1 }]);
      expect(stats().running).toBe(2);
      expect(state()).toBe('busy');
      await clock.advanceBy(10);
      expect(stats().running).toBe(1);
      expect(state()).toBe('busy');
      await clock.advanceBy(10);
      expect(heard()).toEqual([
        { outcomes: ['b:completed'], freed: 1 },
        { outcomes: ['c:completed'], freed: 1 },
        { outcomes: ['a:completed'], freed: 1 },
      ]);
      expect(state()).toBe('idle');
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 3, attempts: 3, busyMs: 60, lastTaskMs: 30 });
    });

    it('runs a second dispatch beside the first, without waiting for it', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      dispatch(order('slow', sleeps(100)));
      await clock.advanceBy(10);
      dispatch(order('quick', sleeps(5)));
      expect(stats().running).toBe(2);
      await clock.advanceBy(5);
      expect(heard()).toEqual([{ outcomes: ['quick:completed'], freed: 1 }]);
      expect(state()).toBe('busy');
      expect(stats().running).toBe(1);
      await clock.runAll();
      expect(heard()[1]).toEqual({ outcomes: ['slow:completed'], freed: 1 });
      expect(state()).toBe('idle');
      expect(stats()).toMatchObject({ running: 0, tasksCompleted: 2, busyMs: 105 });
    });

    it('runs a dispatch of instant tasks and sends its parent one report', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      dispatch(
        order('a', () => 1),
        order('b', () => 2),
        order('c', () => {
          throw new Error('c failed');
        }),
      );
      await clock.runAll();
      expect(state()).toBe('idle');
      expect(heard()).toEqual([{ outcomes: ['a:completed', 'b:completed', 'c:failed'], freed: 3 }]);
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 2, tasksFailed: 1, attempts: 3, busyMs: 0, lastTaskMs: 0 });
    });

    it('stays busy after a timeout until the function returns, the slot still taken, and counts the timeout as failed', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      const stuck = manual();
      dispatch(order('stuck', stuck.fn, { timeoutMs: 40 }));
      await clock.advanceBy(40);
      expect(state()).toBe('busy');
      expect(heard()).toEqual([{ outcomes: ['stuck:timeout'], freed: 0 }]);
      expect(stuck.contexts[0]!.signal.aborted).toBe(true);
      expect(stats()).toEqual({ ...ZERO_STATS, running: 1, tasksFailed: 1 });
      await clock.advanceBy(60);
      stuck.resolve('late');
      await flush();
      expect(state()).toBe('idle');
      expect(heard()[1]).toEqual({ outcomes: [], freed: 1 });
      expect(stats()).toEqual({ ...ZERO_STATS, tasksFailed: 1, attempts: 1, busyMs: 100, lastTaskMs: 100 });
    });

    it('runs the other orders of a dispatch beside a function that timed out', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      const stuck = manual();
      const beside = jest.fn(() => 'beside');
      dispatch(order('stuck', stuck.fn, { timeoutMs: 0 }), order('beside', beside));
      await clock.advanceBy(0);
      expect(beside).toHaveBeenCalledTimes(1);
      expect(heard().flatMap((report) => report.outcomes)).toEqual(['beside:completed', 'stuck:timeout']);
      expect(heard().reduce((sum, report) => sum + report.freed, 0)).toBe(1);
      expect(state()).toBe('busy');
      expect(stats().running).toBe(1);
    });

    it('forwards an abort to its runner: the running function is cancelled at once', async () => {
      const { clock, state, stats, dispatch, abort, heard, reports } = startWorker();
      dispatch(order('a', sleeps(100)));
      await clock.advanceBy(30);
      const reason = new MezanError('E_CANCELLED', 'cancelled');
      abort('a', reason);
      await flush();
      // ctx.sleep rejected with the abort reason, so the function returned before the report went
      // out: the cancel and the freed slot travel together.
      expect(heard()).toEqual([{ outcomes: ['a:cancelled'], freed: 1 }]);
      expect(reports()[0]!.outcomes[0]!.error).toBe(reason);
      expect(state()).toBe('idle');
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCancelled: 1, attempts: 1, busyMs: 30, lastTaskMs: 30 });
    });

    it('stays busy while a cancelled function ignores its signal', async () => {
      const { clock, state, stats, dispatch, abort, heard } = startWorker();
      const stubborn = manual();
      dispatch(order('stubborn', stubborn.fn));
      await flush();
      abort('stubborn');
      await clock.advanceBy(500);
      expect(heard()).toEqual([{ outcomes: ['stubborn:cancelled'], freed: 0 }]);
      expect(state()).toBe('busy');
      expect(stats()).toEqual({ ...ZERO_STATS, running: 1, tasksCancelled: 1 });
      stubborn.resolve('done anyway');
      await flush();
      expect(heard()[1]).toEqual({ outcomes: [], freed: 1 });
      expect(state()).toBe('idle');
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCancelled: 1, attempts: 1, busyMs: 500, lastTaskMs: 500 });
    });

    it('forwards an abort of an order not started yet: its function never runs and its slot is freed', async () => {
      const { clock, stats, dispatch, abort, heard } = startWorker();
      const never = jest.fn();
      dispatch(order('a', sleeps(10)), order('b', never));
      abort('b');
      await flush();
      expect(heard()).toEqual([{ outcomes: ['b:cancelled'], freed: 1 }]);
      expect(stats()).toEqual({ ...ZERO_STATS, running: 1, tasksCancelled: 1 });
      await clock.runAll();
      expect(never).not.toHaveBeenCalled();
      expect(heard()[1]).toEqual({ outcomes: ['a:completed'], freed: 1 });
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 1, tasksCancelled: 1, attempts: 1, busyMs: 10, lastTaskMs: 10 });
    });

    it('goes back to idle when every order of a dispatch is cancelled before it starts', async () => {
      const { state, stats, dispatch, abort, heard } = startWorker();
      const never = jest.fn();
      dispatch(order('a', never), order('b', never));
      abort('a');
      abort('b');
      expect(state()).toBe('busy');
      await flush();
      expect(never).not.toHaveBeenCalled();
      expect(heard()).toEqual([{ outcomes: ['a:cancelled', 'b:cancelled'], freed: 2 }]);
      expect(state()).toBe('idle');
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCancelled: 2 });
    });

    it('cancels an order that a function of the same dispatch cancels before it starts', async () => {
      const { worker, dispatch, heard } = startWorker();
      const victim = jest.fn(() => 'ran anyway');
      dispatch(
        order('canceller', () => worker.send({ type: 'task.abort', taskId: 'victim', reason: new MezanError('E_CANCELLED', 'x') })),
        order('victim', victim),
      );
      await flush();
      expect(victim).not.toHaveBeenCalled();
      expect(heard()).toEqual([{ outcomes: ['victim:cancelled', 'canceller:completed'], freed: 2 }]);
    });

    it('fails a deadlock victim with its deadlock error once its function returns, and counts it failed', async () => {
      const { clock, worker, state, stats, dispatch, heard, reports } = startWorker();
      const stuck = manual();
      dispatch(order('victim', stuck.fn), order('other', sleeps(50)));
      await clock.advanceBy(10);
      const error = new MezanError('E_DEADLOCK', 'chosen as victim');
      worker.send({ type: 'task.victim', taskId: 'victim', error });
      worker.send({ type: 'task.victim', taskId: 'nobody', error });
      expect(stuck.contexts[0]!.signal.reason).toBe(error);
      await flush();
      expect(heard()).toEqual([]);
      stuck.reject(new Error('gave up'));
      await flush();
      expect(heard()).toEqual([{ outcomes: ['victim:deadlock'], freed: 1 }]);
      expect(reports()[0]!.outcomes[0]!.error).toBe(error);
      expect(state()).toBe('busy');
      await clock.runAll();
      expect(state()).toBe('idle');
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 1, tasksFailed: 1, attempts: 2, busyMs: 60, lastTaskMs: 50 });
    });

    it('slows its sleeps on worker.slow, whatever it is doing, and tells its parent nothing', async () => {
      const { clock, worker, state, dispatch, heardAt, received } = startWorker();
      worker.send({ type: 'worker.slow', factor: 3, until: 100 });
      expect(state()).toBe('idle');
      dispatch(order('slowed', sleeps(10)));
      await clock.advanceTo(100);
      // The slowdown is over: b sleeps its 10 ms.
      dispatch(order('b', sleeps(10)));
      await flush();
      worker.send({ type: 'worker.slow', factor: 2, until: 200 });
      expect(state()).toBe('busy');
      // A sleep already begun keeps its length; c's sleep, begun after the second slowdown, doubles.
      dispatch(order('c', sleeps(10)));
      await clock.runAll();
      expect(heardAt()).toEqual([30, 110, 120]);
      expect(received.every((event) => event.type === 'worker.report')).toBe(true);
    });

    it('keeps a reused task id apart from the old attempt that still holds its slot', async () => {
      const { clock, state, stats, dispatch, abort, heard, reports } = startWorker();
      const old = manual();
      const latest = manual();
      dispatch(order('x', old.fn, { timeoutMs: 10 }));
      await clock.advanceBy(10);
      expect(heard()).toEqual([{ outcomes: ['x:timeout'], freed: 0 }]);
      dispatch(order('x', latest.fn, { attempt: 2 }));
      expect(stats().running).toBe(2);
      await flush();
      abort('x');
      await flush();
      expect((old.contexts[0]!.signal.reason as MezanError).code).toBe('E_TIMEOUT');
      expect((latest.contexts[0]!.signal.reason as MezanError).code).toBe('E_CANCELLED');
      expect(heard()[1]).toEqual({ outcomes: ['x:cancelled'], freed: 0 });
      expect(reports()[1]!.outcomes[0]!.attempt).toBe(2);
      old.resolve('old');
      await flush();
      expect(heard()[2]).toEqual({ outcomes: [], freed: 1 });
      expect(state()).toBe('busy');
      expect(stats().running).toBe(1);
      latest.resolve('latest');
      await flush();
      expect(heard()[3]).toEqual({ outcomes: [], freed: 1 });
      expect(state()).toBe('idle');
      expect(stats()).toEqual({ ...ZERO_STATS, tasksFailed: 1, tasksCancelled: 1, attempts: 2, busyMs: 10, lastTaskMs: 0 });
    });

    it('runs its tasks in the environment it was given', async () => {
      const events: EngineEvent[] = [];
      const sink: EventSink = { active: true, publish: (event) => events.push(event) };
      const submitChild = jest.fn(() => {
        throw new Error('no engine here');
      });
      const services: TaskServices = { ...NO_SERVICES, submitChild };
      const { clock, dispatch } = startWorker({ sink, services });
      await clock.advanceTo(7);
      const child = (): number => 1;
      let submitError: unknown;
      dispatch(
        order('a', (ctx) => {
          ctx.progress(0.5, 'half');
          try {
            ctx.submit(child, { name: 'child' });
          } catch (error) {
            submitError = error;
          }
          return ctx.sleep(3);
        }),
      );
      await clock.runAll();
      expect(submitError).toEqual(new Error('no engine here'));
      expect(events).toEqual([
        { type: 'task.started', at: 7, taskId: 'a', name: 'a', attempt: 1, workerId: 'main' },
        { type: 'task.progress', at: 7, taskId: 'a', name: 'a', attempt: 1, workerId: 'main', fraction: 0.5, message: 'half' },
      ]);
      expect(submitChild).toHaveBeenCalledWith('a', child, { name: 'child' });
      expect(clock.now()).toBe(10);
    });

    it('has its pools answer the worker itself, which hands each reply to the attempt that asked', async () => {
      const { received: pool, services } = fakePool(1);
      const { clock, worker, state, dispatch, heard } = startWorker({ services });
      let lease: Lease | undefined;
      dispatch(
        order('t', async (ctx) => {
          lease = await ctx.acquire('db');
          return 'done';
        }),
      );
      await flush();
      const [request] = pool as ResourceRequestEvent[];
      expect(request).toMatchObject({ type: 'resource.request', requestId: 't#1.1#1', taskId: 't', units: 1 });
      expect(request!.replyTo).toBe(worker);
      worker.send({ type: 'resource.granted', requestId: request!.requestId, leaseId: 'db#1', resource: 'db', units: 1, at: 0 });
      // A grant changes nothing the worker shows.
      expect(state()).toBe('busy');
      await clock.runAll();
      expect(lease).toMatchObject({ leaseId: 'db#1' });
      expect(heard()).toEqual([{ outcomes: ['t:completed'], freed: 1 }]);
      expect(pool.slice(1)).toEqual([{ type: 'resource.release', leaseId: 'db#1', at: 0 }]);
      // A grant nobody waits for any more goes straight back.
      worker.send({ type: 'resource.granted', requestId: 't#1.1#2', leaseId: 'db#2', resource: 'db', units: 1, at: 0 });
      expect(pool.slice(2)).toEqual([{ type: 'resource.release', leaseId: 'db#2', at: 0 }]);
      expect(state()).toBe('idle');
    });

    it("on a simulation's clock, sends its pools what its attempts posted before it crashes or stops, so that a revoke comes after", async () => {
      for (const end of ['worker.crash', 'xstate.stop'] as const) {
        const { received: pool, services } = fakePool(1);
        const { worker, actor, dispatch } = startWorker({ clock: new VirtualClock({ settle: 'each-instant' }), services });
        let poolHeardAtEnd: string[] | undefined;
        dispatch(
          order('t', (ctx) => {
            const lease = ctx.acquire('db');
            lease.catch(() => undefined);
            // The request waits for the end of this burst of promise jobs; the worker ends first.
            if (end === 'worker.crash') worker.send({ type: 'worker.crash' });
            else actor.stop();
            poolHeardAtEnd = pool.map((event) => event.type);
            return lease;
          }),
        );
        await flush();
        // Its request, then the cancel its attempt's end made: what the pool hears next (the supervisor's revoke) comes after.
        expect({ end, heard: poolHeardAtEnd }).toEqual({ end, heard: ['resource.batch'] });
        expect(pool).toEqual([
          {
            type: 'resource.batch',
            events: [
              expect.objectContaining({ type: 'resource.request', requestId: 't#1.1#1' }),
              { type: 'resource.cancel', requestId: 't#1.1#1', at: 0 },
            ],
          },
        ]);
      }
    });

    it('keeps exact statistics over many dispatches', async () => {
      const { clock, stats, dispatch, reports } = startWorker();
      let expectedBusy = 0;
      for (let index = 0; index < 50; index++) {
        const fails = index % 5 === 0;
        const ms = index % 7;
        if (!fails) expectedBusy += ms;
        dispatch(order(`t${index}`, fails ? () => Promise.reject(new Error('no')) : sleeps(ms)));
        await clock.runAll();
      }
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 40, tasksFailed: 10, attempts: 50, busyMs: expectedBusy, lastTaskMs: 49 % 7 });
      expect(reports().flatMap((report) => report.outcomes)).toHaveLength(50);
      expect(reports().reduce((sum, report) => sum + report.freed, 0)).toBe(50);
    });

    it('keeps exact statistics over dispatches that overlap', async () => {
      const { clock, stats, dispatch, reports, state } = startWorker();
      let expectedBusy = 0;
      for (let index = 0; index < 40; index++) {
        const fails = index % 4 === 0;
        const ms = (index * 7) % 13;
        expectedBusy += ms;
        dispatch(order(`t${index}`, fails ? (ctx) => ctx.sleep(ms).then(() => Promise.reject(new Error('no'))) : sleeps(ms)));
        if (index % 3 === 0) await clock.advanceBy(2);
      }
      await clock.runAll();
      expect(state()).toBe('idle');
      expect(stats()).toMatchObject({ running: 0, tasksCompleted: 30, tasksFailed: 10, tasksCancelled: 0, attempts: 40, busyMs: expectedBusy });
      expect(reports().flatMap((report) => report.outcomes)).toHaveLength(40);
      expect(reports().reduce((sum, report) => sum + report.freed, 0)).toBe(40);
    });

    it('crashes on worker.crash: aborts every running function, reports nothing more, and ends with its output', async () => {
      const { clock, worker, state, dispatch, received } = startWorker();
      const stuck = manual();
      const other = manual();
      dispatch(order('stuck', stuck.fn, { timeoutMs: 100 }), order('other', other.fn));
      await clock.advanceBy(10);
      expect(received).toEqual([]);
      worker.send({ type: 'worker.crash' });
      expect(state()).toBe('crashed');
      expect(worker.getSnapshot().status).toBe('done');
      expect(worker.getSnapshot().output).toEqual({ crashed: true });
      for (const { signal } of [...stuck.contexts, ...other.contexts]) {
        expect((signal.reason as MezanError).code).toBe('E_WORKER_CRASHED');
        expect((signal.reason as MezanError).details).toMatchObject({ workerId: 'main' });
      }
      stuck.resolve('late');
      other.resolve('late');
      await clock.runAll();
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
      expect(clock.pendingTimers).toBe(0);
    });

    it('crashes before its functions start: none of them runs', async () => {
      const { clock, worker, dispatch, received } = startWorker();
      const never = jest.fn();
      dispatch(order('a', never), order('b', never));
      worker.send({ type: 'worker.crash' });
      await clock.runAll();
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
      expect(never).not.toHaveBeenCalled();
      expect(clock.pendingTimers).toBe(0);
    });

    it('crashes while idle, keeping the statistics it had', async () => {
      const { clock, worker, state, stats, dispatch, received } = startWorker();
      dispatch(order('a', sleeps(5)));
      await clock.runAll();
      const before = stats();
      worker.send({ type: 'worker.crash' });
      expect(state()).toBe('crashed');
      expect(stats()).toEqual(before);
      expect(received.map((event) => event.type)).toEqual(['worker.report', 'xstate.done.actor.worker']);
    });

    it('is stopped with its parent: aborts every running function with E_SHUTDOWN and reports nothing more', async () => {
      const { clock, actor, dispatch, received, processed } = startWorker();
      const burst = stopBurst();
      dispatch(...burst.orders);
      await clock.advanceBy(10);
      expect(received).toHaveLength(1);
      actor.stop();
      expect(processed.at(-1)).toBe('xstate.stop');
      burst.expectAborted('E_SHUTDOWN');
      expect(clock.pendingTimers).toBe(0);
      burst.release();
      await clock.runAll();
      expect(received).toHaveLength(1);
    });

    it('starts from the statistics it is given (a restarted worker carries them on), with its own slots and none running', async () => {
      const initialStats: WorkerStats = {
        slots: 9,
        running: 3,
        tasksCompleted: 5,
        tasksFailed: 2,
        tasksCancelled: 1,
        attempts: 7,
        busyMs: 300,
        lastTaskMs: 40,
      };
      const { clock, stats, dispatch } = startWorker({ initialStats, slots: 2 });
      expect(stats()).toEqual({ ...initialStats, slots: 2, running: 0 });
      dispatch(order('a', sleeps(20)));
      await clock.runAll();
      expect(stats()).toEqual({
        slots: 2,
        running: 0,
        tasksCompleted: 6,
        tasksFailed: 2,
        tasksCancelled: 1,
        attempts: 8,
        busyMs: 320,
        lastTaskMs: 20,
      });
      // The statistics it was given are left as they were.
      expect(initialStats.tasksCompleted).toBe(5);
    });

    it('takes its new number of slots on worker.resize, whatever it is doing', async () => {
      const { clock, state, stats, dispatch, worker, received } = startWorker({ slots: 2 });
      worker.send({ type: 'worker.resize', slots: 3 });
      expect(stats()).toEqual({ ...ZERO_STATS, slots: 3 });
      expect(state()).toBe('idle');
      dispatch(order('a', sleeps(10)), order('b', sleeps(10)), order('c', sleeps(10)));
      worker.send({ type: 'worker.resize', slots: 2 });
      expect(state()).toBe('busy');
      expect(stats()).toMatchObject({ slots: 2, running: 3 });
      await clock.runAll();
      expect(stats()).toMatchObject({ slots: 2, running: 0, tasksCompleted: 3 });
      // A resize is the executor's own decision: the worker tells it nothing.
      expect(received.filter((event) => event.type !== 'worker.report')).toEqual([]);
    });

    it('publishes a new snapshot at each change, never mutating one it published', async () => {
      const { clock, worker, dispatch } = startWorker();
      const snapshots = [worker.getSnapshot()];
      /** A deep copy of each snapshot's statistics, taken as it was published. */
      const statsAtPublication = [structuredClone(worker.getSnapshot().context.stats)];
      worker.subscribe((snapshot) => {
        snapshots.push(snapshot);
        statsAtPublication.push(structuredClone(snapshot.context.stats));
      });
      dispatch(order('a', sleeps(5)), order('b', sleeps(10)));
      worker.send({ type: 'worker.resize', slots: 5 });
      await clock.runAll();
      expect(
        snapshots.map((snapshot) => [
          snapshot.value,
          snapshot.context.stats.running,
          snapshot.context.stats.slots,
          snapshot.context.stats.tasksCompleted,
        ]),
      ).toEqual([
        ['idle', 0, 4, 0],
        ['busy', 2, 4, 0],
        ['busy', 2, 5, 0],
        ['busy', 1, 5, 1],
        ['idle', 0, 5, 2],
      ]);
      expect(new Set(snapshots).size).toBe(snapshots.length);
      expect(new Set(snapshots.map((snapshot) => snapshot.context.stats)).size).toBe(snapshots.length);
      // Not frozen, but never changed once published.
      expect(snapshots.map((snapshot) => snapshot.context.stats)).toEqual(statsAtPublication);
    });

    describe('timing of its reports', () => {
      it('in virtual time, reports in the very burst its runner asks: what returned synchronously before the promise jobs that follow', async () => {
        const { clock, dispatch, heard, processed } = startWorker();
        dispatch(...instantBurst());
        await clock.runAll();
        expect(heard()).toEqual([
          { outcomes: ['sync:completed', 'throws:failed'], freed: 2 },
          { outcomes: ['async:completed', 'rejects:failed'], freed: 2 },
        ]);
        // One flush per report: the worker asks itself once per request, and every flush finds something.
        expect(processed).toEqual(['xstate.init', 'task.dispatch', 'worker.flush', 'worker.flush']);
      });

      it('reports together, in virtual time, the functions that return at the same instant', async () => {
        const { clock, dispatch, heard, heardAt } = startWorker({ clock: new VirtualClock({ settle: 'each-instant' }) });
        dispatch(order('a', sleeps(10)), order('b', sleeps(10)), order('c', sleeps(20)));
        await flush();
        while (await clock.step());
        expect(heard()).toEqual([
          { outcomes: ['a:completed', 'b:completed'], freed: 2 },
          { outcomes: ['c:completed'], freed: 1 },
        ]);
        expect(heardAt()).toEqual([10, 20]);
      });

      it('with a clock that has turns, reports once at the end of a turn while functions still run, and at once when it holds nothing', async () => {
        const { clock, dispatch, heard, heardAt, state } = startWorker({ clock: new TurnClock() });
        const { slow, orders } = turnBurst();
        dispatch(...orders);
        await clock.advanceBy(10);
        expect(heard()).toEqual([]);
        expect(clock.pendingImmediates).toBe(1);
        await clock.endTurn();
        expect(heard()).toEqual([{ outcomes: ['b:completed', 'a:completed'], freed: 2 }]);
        expect(state()).toBe('busy');
        slow.resolve('slow');
        await flush();
        expect(heard()[1]).toEqual({ outcomes: ['slow:completed'], freed: 1 });
        expect(heardAt()).toEqual([10, 10]);
        expect(state()).toBe('idle');
        expect(clock.pendingImmediates).toBe(0);
      });

      it('with a clock that has turns, reports a cancel or a timeout at once', async () => {
        const { clock, dispatch, abort, heard } = startWorker({ clock: new TurnClock() });
        dispatch(...cancelOrTimeoutBurst());
        await flush();
        expect(heard()).toEqual([]);
        abort('stuck');
        await flush();
        expect(heard()).toEqual([{ outcomes: ['instant:completed', 'stuck:cancelled'], freed: 1 }]);
        await clock.advanceBy(5);
        expect(heard()[1]).toEqual({ outcomes: ['timed:timeout'], freed: 0 });
        await clock.endTurn();
        expect(heard()).toHaveLength(2);
      });

      it('stopped with its parent, drops the report it meant to make at the end of the turn', async () => {
        const { clock, actor, dispatch, received } = startWorker({ clock: new TurnClock() });
        await stopWithTurnEndReportPlanned(clock, dispatch, () => actor.stop());
        expect(received).toEqual([]);
      });
    });
  });

  describe('with a stubbed runner', () => {
    afterEach(() => jest.restoreAllMocks());

    /** Stubs every worker's runner: records what the worker hands it and lets the test report back. */
    function stubRunner() {
      const run = jest.spyOn(TaskRunner.prototype, 'run').mockImplementation(() => undefined);
      const receive = jest.spyOn(TaskRunner.prototype, 'receive').mockImplementation(() => undefined);
      const stop = jest.spyOn(TaskRunner.prototype, 'stop').mockImplementation(() => undefined);
      const takeReport = jest.spyOn(TaskRunner.prototype, 'takeReport').mockReturnValue(undefined);
      return {
        run,
        receive,
        stop,
        takeReport,
        /** The runner has `fields` to report: the worker takes them on the flush it sends itself. */
        report: (worker: WorkerRef, fields: Partial<RunnerReport>) => {
          const report: RunnerReport = { outcomes: [], freed: 0, inUse: 0, busyMs: 0, attempts: 0, lastTaskMs: undefined, ...fields };
          takeReport.mockReturnValueOnce(report);
          worker.send({ type: 'worker.flush' });
          return report;
        },
      };
    }

    const outcome = (kind: RunOutcome['kind'], taskId: string): RunOutcome => ({
      kind,
      taskId,
      attempt: 1,
      value: undefined,
      error: undefined,
      started: true,
      startedAt: 0,
      endedAt: 0,
    });

    it('hands a dispatch’s orders to its runner, and forwards aborts as they are', () => {
      const fake = stubRunner();
      const { worker, state } = startWorker();
      const dispatch: TaskDispatchEvent = { type: 'task.dispatch', orders: [order('a', () => 1), order('b', () => 2)] };
      worker.send(dispatch);
      expect(state()).toBe('busy');
      const abort: WorkerEvent = { type: 'task.abort', taskId: 'b', reason: new MezanError('E_CANCELLED', 'x') };
      worker.send(abort);
      expect(fake.run).toHaveBeenCalledTimes(1);
      expect(fake.run.mock.calls[0]![0]).toBe(dispatch.orders);
      expect(fake.receive).toHaveBeenCalledTimes(1);
      expect(fake.receive.mock.calls[0]![0]).toBe(abort);
    });

    it('forwards a deadlock victim, a slowdown and pool replies to its runner as they are', () => {
      const fake = stubRunner();
      const { worker, state, dispatch } = startWorker();
      dispatch(order('a', () => 1));
      const events: WorkerEvent[] = [
        { type: 'task.victim', taskId: 'a', error: new MezanError('E_DEADLOCK', 'victim') },
        { type: 'worker.slow', factor: 3, until: 500 },
        { type: 'resource.granted', requestId: 'a#1.1#1', leaseId: 'db#1', resource: 'db', units: 1, at: 0 },
        { type: 'resource.denied', requestId: 'a#1.1#2', resource: 'db', code: 'E_INVALID_OPTION', reason: 'too many' },
        { type: 'resource.cancelled', requestId: 'a#1.1#3', resource: 'db' },
        {
          type: 'resource.revoked',
          requestId: 'a#1.1#4',
          leaseId: undefined,
          taskId: 'a',
          resource: 'db',
          reason: new MezanError('E_DEADLOCK', 'x'),
        },
      ];
      const before = worker.getSnapshot();
      for (const event of events) worker.send(event);
      expect(fake.receive.mock.calls.map(([event]) => event)).toEqual(events);
      fake.receive.mock.calls.forEach(([event], index) => expect(event).toBe(events[index]));
      // None of them changes what the worker shows.
      expect(worker.getSnapshot()).toBe(before);
      expect(state()).toBe('busy');
    });

    it('keeps worker.resize to itself', () => {
      const fake = stubRunner();
      const { worker, stats, state } = startWorker();
      worker.send({ type: 'worker.resize', slots: 5 });
      expect(stats()).toEqual({ ...ZERO_STATS, slots: 5 });
      expect(fake.run).not.toHaveBeenCalled();
      expect(fake.receive).not.toHaveBeenCalled();
      expect(state()).toBe('idle');
    });

    it('stops its runner as crashed, then ends; it takes no report any more', () => {
      const fake = stubRunner();
      const { dispatch, worker, state, received } = startWorker();
      dispatch(order('a', () => 1));
      worker.send({ type: 'worker.crash' });
      expect(fake.stop.mock.calls).toEqual([['E_WORKER_CRASHED']]);
      expect(state()).toBe('crashed');
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
      expect(fake.takeReport).not.toHaveBeenCalled();
    });

    it('stops its runner for shutdown when it is stopped', () => {
      const fake = stubRunner();
      const { actor, state } = startWorker();
      actor.stop();
      expect(fake.stop.mock.calls).toEqual([[]]);
      expect(state()).toBe('idle');
    });

    it('counts the orders of a dispatch running at once, then takes the count its runner reports', () => {
      const fake = stubRunner();
      const { worker, dispatch, stats } = startWorker();
      dispatch(
        order('a', () => 1),
        order('b', () => 2),
      );
      expect(stats().running).toBe(2);
      dispatch(order('c', () => 3));
      expect(stats().running).toBe(3);
      fake.report(worker, { outcomes: [outcome('completed', 'a')], freed: 1, inUse: 2 });
      expect(stats().running).toBe(2);
      fake.report(worker, { outcomes: [outcome('timeout', 'b')], freed: 0, inUse: 2 });
      expect(stats().running).toBe(2);
      fake.report(worker, { outcomes: [outcome('completed', 'c')], freed: 2, inUse: 0 });
      expect(stats().running).toBe(0);
    });

    it('is busy while its runner holds anything, idle once it holds nothing', () => {
      const fake = stubRunner();
      const { worker, dispatch, state, heard } = startWorker();
      dispatch(
        order('a', () => 1),
        order('b', () => 2),
        order('c', () => 3),
      );
      expect(state()).toBe('busy');
      fake.report(worker, { outcomes: [outcome('completed', 'a')], freed: 1, inUse: 2 });
      expect(state()).toBe('busy');
      fake.report(worker, { outcomes: [outcome('timeout', 'b')], freed: 0, inUse: 2 });
      expect(state()).toBe('busy');
      fake.report(worker, { freed: 1, inUse: 1 });
      expect(state()).toBe('busy');
      fake.report(worker, { outcomes: [outcome('cancelled', 'c')], freed: 1, inUse: 0 });
      expect(state()).toBe('idle');
      // Every report reaches the parent, with its outcomes untouched and the slots it freed.
      expect(heard()).toEqual([
        { outcomes: ['a:completed'], freed: 1 },
        { outcomes: ['b:timeout'], freed: 0 },
        { outcomes: [], freed: 1 },
        { outcomes: ['c:cancelled'], freed: 1 },
      ]);
    });

    it('forwards each report with its own outcomes, not copies', () => {
      const fake = stubRunner();
      const { worker, reports } = startWorker();
      const outcomes = [outcome('completed', 'a'), outcome('failed', 'b')];
      fake.report(worker, { outcomes, freed: 2 });
      expect(reports()).toEqual([{ type: 'worker.report', workerId: 'main', outcomes, freed: 2 }]);
      expect(reports()[0]!.outcomes).toBe(outcomes);
    });

    it('changes nothing and tells its parent nothing on a flush that finds nothing to report', () => {
      const fake = stubRunner();
      const { worker, dispatch, received } = startWorker();
      dispatch(order('a', () => 1));
      const before = worker.getSnapshot();
      worker.send({ type: 'worker.flush' });
      expect(fake.takeReport).toHaveBeenCalledTimes(1);
      expect(worker.getSnapshot()).toBe(before);
      expect(received).toEqual([]);
    });

    it('adds up the statistics of every report', () => {
      const fake = stubRunner();
      const { worker, stats } = startWorker();
      fake.report(worker, {
        outcomes: [outcome('completed', 'a'), outcome('completed', 'b'), outcome('failed', 'c')],
        freed: 3,
        inUse: 2,
        busyMs: 12,
        attempts: 3,
        lastTaskMs: 4,
      });
      fake.report(worker, {
        outcomes: [outcome('timeout', 'd'), outcome('cancelled', 'e'), outcome('deadlock', 'f')],
        inUse: 2,
        busyMs: 0,
        attempts: 0,
        lastTaskMs: undefined,
      });
      expect(stats()).toEqual({ slots: 4, running: 2, tasksCompleted: 2, tasksFailed: 3, tasksCancelled: 1, attempts: 3, busyMs: 12, lastTaskMs: 4 });
      fake.report(worker, { outcomes: [outcome('crashed', 'g')], freed: 2, inUse: 0, busyMs: 30, attempts: 1, lastTaskMs: 30 });
      expect(stats()).toEqual({
        slots: 4,
        running: 0,
        tasksCompleted: 2,
        tasksFailed: 4,
        tasksCancelled: 1,
        attempts: 4,
        busyMs: 42,
        lastTaskMs: 30,
      });
    });

    it('keeps its previous statistics object unchanged (snapshots are immutable)', () => {
      const fake = stubRunner();
      const { worker, stats, dispatch } = startWorker();
      /** Each statistics object published, with a deep copy taken as it was. */
      const published = [{ stats: stats(), copy: structuredClone(stats()) }];
      worker.subscribe((snapshot) => void published.push({ stats: snapshot.context.stats, copy: structuredClone(snapshot.context.stats) }));
      const before = stats();
      fake.report(worker, { outcomes: [outcome('completed', 'a')], freed: 1, attempts: 1 });
      expect(before).toEqual(ZERO_STATS);
      expect(stats()).not.toBe(before);
      const afterReport = stats();
      dispatch(order('b', () => 2));
      expect(afterReport).toMatchObject({ running: 0 });
      const afterDispatch = stats();
      worker.send({ type: 'worker.resize', slots: 6 });
      expect(afterDispatch).toMatchObject({ slots: 4, running: 1 });
      expect(stats()).toMatchObject({ slots: 6, running: 1 });
      // Each change (report, dispatch, resize) published a new object; none changed once published.
      const seen = [before, afterReport, afterDispatch, stats()];
      expect(published).toHaveLength(seen.length);
      seen.forEach((each, index) => expect(published[index]!.stats).toBe(each));
      expect(new Set(seen).size).toBe(seen.length);
      for (const each of published) expect(each.stats).toEqual(each.copy);
    });
  });
});
