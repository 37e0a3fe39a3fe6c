import { createActor, fromCallback, setup, type ActorRefFrom, type EventObject } from 'xstate';
import type { RunnerEvent, RunnerInput, RunnerReportEvent } from '../../actors/run-task.actor';
import { workerMachine, type WorkerInput, type WorkerStats } from '../../machines/worker.machine';
import { MezanError } from '../../src/errors';
import { silentSink } from '../../src/internal/event-sink';
import { NO_SERVICES } from '../../src/internal/task-services';
import type { RunOrder, RunOutcome, WorkerReportEvent } from '../../src/internal/task-protocol';
import { createQuietLogger } from '../../src/logger';
import type { TaskContext, TaskFunction } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';

type WorkerMachine = typeof workerMachine;

/** A worker inside the smallest parent that records every event the worker sends it. */
function startWorker(options: { machine?: WorkerMachine; slots?: number; initialStats?: WorkerStats } = {}) {
  const clock = new VirtualClock();
  const received: EventObject[] = [];
  const input: WorkerInput = {
    workerId: 'main',
    clock,
    sink: silentSink,
    logger: createQuietLogger(),
    services: NO_SERVICES,
    slots: options.slots ?? 4,
    initialStats: options.initialStats,
  };
  const host = setup({
    types: { context: {} as { workerInput: WorkerInput }, input: {} as WorkerInput },
    actors: { worker: options.machine ?? workerMachine },
    actions: { record: ({ event }) => void received.push(event) },
  }).createMachine({
    context: ({ input: hostInput }) => ({ workerInput: hostInput }),
    invoke: { id: 'worker', src: 'worker', input: ({ context }) => context.workerInput },
    on: { '*': { actions: 'record' } },
  });
  const actor = createActor(host, { clock, input });
  actor.start();
  const worker = actor.getSnapshot().children.worker as ActorRefFrom<WorkerMachine>;
  const reports = (): WorkerReportEvent[] => received.filter((event): event is WorkerReportEvent => event.type === 'worker.report');
  return {
    clock,
    actor,
    worker,
    received,
    reports,
    /** What the parent heard, in short: outcomes as `task:kind` and the slots freed. */
    heard: () =>
      reports().map((report) => ({ outcomes: report.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`), freed: report.freed })),
    state: () => worker.getSnapshot().value,
    stats: () => worker.getSnapshot().context.stats,
    dispatch: (...orders: RunOrder[]) => worker.send({ type: 'task.dispatch', orders }),
    abort: (taskId: string) => worker.send({ type: 'task.abort', taskId, reason: new MezanError('E_CANCELLED', 'cancelled') }),
  };
}

function order(taskId: string, fn: TaskFunction, fields: Partial<RunOrder> = {}): RunOrder {
  return { taskId, name: taskId, attempt: 1, fn, timeoutMs: undefined, resources: undefined, ...fields };
}

const sleeps =
  (ms: number): TaskFunction =>
  (ctx) =>
    ctx.sleep(ms);

/** A function that returns only when the test says so, whatever its signal does. */
function manual() {
  let resolve!: (value: unknown) => void;
  const contexts: TaskContext[] = [];
  const fn = (ctx: TaskContext): Promise<unknown> => {
    contexts.push(ctx);
    return new Promise((res) => {
      resolve = res;
    });
  };
  return { fn, contexts, resolve: (value: unknown) => resolve(value) };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The statistics of a worker with 4 slots that has run nothing. */
const ZERO_STATS: WorkerStats = {
  slots: 4,
  running: 0,
  tasksCompleted: 0,
  tasksFailed: 0,
  tasksCancelled: 0,
  attempts: 0,
  busyMs: 0,
  lastTaskMs: undefined,
};

describe('workerMachine', () => {
  describe('with its real runner', () => {
    it('starts idle with its slots and zero statistics', () => {
      const { state, stats, worker } = startWorker();
      expect(state()).toBe('idle');
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
      const { clock, state, stats, dispatch, abort, heard } = startWorker();
      dispatch(order('a', sleeps(100)));
      await clock.advanceBy(30);
      abort('a');
      await flush();
      // ctx.sleep rejected with the abort reason, so the function returned before the report went
      // out: the cancel and the freed slot travel together.
      expect(heard()).toEqual([{ outcomes: ['a:cancelled'], freed: 1 }]);
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
      expect((stuck.contexts[0]!.signal.reason as MezanError).code).toBe('E_WORKER_CRASHED');
      expect((other.contexts[0]!.signal.reason as MezanError).code).toBe('E_WORKER_CRASHED');
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
  });

  describe('with a fake runner', () => {
    /** Replaces the runner: records what the worker sends it and lets the test report back. */
    function fakeRunner() {
      const received: RunnerEvent[] = [];
      let report!: (event: RunnerReportEvent) => void;
      const inputs: RunnerInput[] = [];
      const logic = fromCallback<RunnerEvent, RunnerInput>(({ input, receive, sendBack }) => {
        inputs.push(input);
        report = sendBack as (event: RunnerReportEvent) => void;
        receive((event) => void received.push(event));
      });
      const machine = workerMachine.provide({ actors: { runTask: logic } });
      return {
        machine,
        received,
        inputs,
        report: (fields: Partial<RunnerReportEvent>) =>
          report({ type: 'runner.report', outcomes: [], freed: 0, inUse: 0, busyMs: 0, attempts: 0, lastTaskMs: undefined, ...fields }),
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

    it('hands its runner the environment it was given, without its slots', () => {
      const fake = fakeRunner();
      const { clock } = startWorker({ machine: fake.machine });
      expect(fake.inputs).toHaveLength(1);
      expect(fake.inputs[0]).toEqual({ workerId: 'main', clock, sink: silentSink, logger: expect.anything(), services: NO_SERVICES });
    });

    it('turns a dispatch into a run, forwards aborts as they are', () => {
      const fake = fakeRunner();
      const { dispatch, worker, state } = startWorker({ machine: fake.machine });
      const orders = [order('a', () => 1), order('b', () => 2)];
      dispatch(...orders);
      expect(state()).toBe('busy');
      const reason = new MezanError('E_CANCELLED', 'x');
      worker.send({ type: 'task.abort', taskId: 'b', reason });
      expect(fake.received).toEqual([
        { type: 'run', orders },
        { type: 'task.abort', taskId: 'b', reason },
      ]);
    });

    it('forwards a deadlock victim and a slowdown to its runner as they are', () => {
      const fake = fakeRunner();
      const { dispatch, worker, state } = startWorker({ machine: fake.machine });
      dispatch(order('a', () => 1));
      const victim = { type: 'task.victim' as const, taskId: 'a', error: new MezanError('E_DEADLOCK', 'victim') };
      worker.send(victim);
      worker.send({ type: 'worker.slow', factor: 3, until: 500 });
      expect(fake.received.slice(1)).toEqual([victim, { type: 'worker.slow', factor: 3, until: 500 }]);
      expect(fake.received[1]).toBe(victim);
      expect(state()).toBe('busy');
    });

    it('keeps worker.resize to itself', () => {
      const fake = fakeRunner();
      const { worker, stats, state } = startWorker({ machine: fake.machine });
      worker.send({ type: 'worker.resize', slots: 5 });
      expect(stats()).toEqual({ ...ZERO_STATS, slots: 5 });
      expect(fake.received).toEqual([]);
      expect(state()).toBe('idle');
    });

    it('tells its runner to crash, then ends: reports the runner sends afterwards are lost', () => {
      const fake = fakeRunner();
      const { dispatch, worker, state, received } = startWorker({ machine: fake.machine });
      dispatch(order('a', () => 1));
      worker.send({ type: 'worker.crash' });
      expect(fake.received[1]).toEqual({ type: 'runner.crash' });
      expect(state()).toBe('crashed');
      fake.report({ outcomes: [outcome('completed', 'a')], freed: 1, inUse: 0, attempts: 1 });
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
    });

    it('counts the orders of a dispatch running at once, then takes the count its runner reports', () => {
      const fake = fakeRunner();
      const { dispatch, stats } = startWorker({ machine: fake.machine });
      dispatch(
        order('a', () => 1),
        order('b', () => 2),
      );
      expect(stats().running).toBe(2);
      dispatch(order('c', () => 3));
      expect(stats().running).toBe(3);
      fake.report({ outcomes: [outcome('completed', 'a')], freed: 1, inUse: 2 });
      expect(stats().running).toBe(2);
      fake.report({ outcomes: [outcome('timeout', 'b')], freed: 0, inUse: 2 });
      expect(stats().running).toBe(2);
      fake.report({ outcomes: [outcome('completed', 'c')], freed: 2, inUse: 0 });
      expect(stats().running).toBe(0);
    });

    it('is busy while its runner holds anything, idle once it holds nothing', () => {
      const fake = fakeRunner();
      const { dispatch, state, heard } = startWorker({ machine: fake.machine });
      dispatch(
        order('a', () => 1),
        order('b', () => 2),
        order('c', () => 3),
      );
      expect(state()).toBe('busy');
      fake.report({ outcomes: [outcome('completed', 'a')], freed: 1, inUse: 2 });
      expect(state()).toBe('busy');
      fake.report({ outcomes: [outcome('timeout', 'b')], freed: 0, inUse: 2 });
      expect(state()).toBe('busy');
      fake.report({ freed: 1, inUse: 1 });
      expect(state()).toBe('busy');
      fake.report({ outcomes: [outcome('cancelled', 'c')], freed: 1, inUse: 0 });
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
      const fake = fakeRunner();
      const { reports } = startWorker({ machine: fake.machine });
      const outcomes = [outcome('completed', 'a'), outcome('failed', 'b')];
      fake.report({ outcomes, freed: 2 });
      expect(reports()).toEqual([{ type: 'worker.report', workerId: 'main', outcomes, freed: 2 }]);
      expect(reports()[0]!.outcomes).toBe(outcomes);
    });

    it('adds up the statistics of every report', () => {
      const fake = fakeRunner();
      const { stats } = startWorker({ machine: fake.machine });
      fake.report({
        outcomes: [outcome('completed', 'a'), outcome('completed', 'b'), outcome('failed', 'c')],
        freed: 3,
        inUse: 2,
        busyMs: 12,
        attempts: 3,
        lastTaskMs: 4,
      });
      fake.report({
        outcomes: [outcome('timeout', 'd'), outcome('cancelled', 'e'), outcome('deadlock', 'f')],
        inUse: 2,
        busyMs: 0,
        attempts: 0,
        lastTaskMs: undefined,
      });
      expect(stats()).toEqual({ slots: 4, running: 2, tasksCompleted: 2, tasksFailed: 3, tasksCancelled: 1, attempts: 3, busyMs: 12, lastTaskMs: 4 });
      fake.report({ outcomes: [outcome('crashed', 'g')], freed: 2, inUse: 0, busyMs: 30, attempts: 1, lastTaskMs: 30 });
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
      const fake = fakeRunner();
      const { stats, dispatch, worker } = startWorker({ machine: fake.machine });
      const before = stats();
      fake.report({ outcomes: [outcome('completed', 'a')], freed: 1, attempts: 1 });
      expect(before).toEqual(ZERO_STATS);
      expect(stats()).not.toBe(before);
      const afterReport = stats();
      dispatch(order('b', () => 2));
      expect(afterReport).toMatchObject({ running: 0 });
      const afterDispatch = stats();
      worker.send({ type: 'worker.resize', slots: 6 });
      expect(afterDispatch).toMatchObject({ slots: 4, running: 1 });
      expect(stats()).toMatchObject({ slots: 6, running: 1 });
    });
  });
});
