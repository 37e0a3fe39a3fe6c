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
function startWorker(machine: WorkerMachine = workerMachine, initialStats?: WorkerStats) {
  const clock = new VirtualClock();
  const received: EventObject[] = [];
  const input: WorkerInput = { workerId: 'worker-7', clock, sink: silentSink, logger: createQuietLogger(), services: NO_SERVICES, initialStats };
  const host = setup({
    types: { context: {} as { workerInput: WorkerInput }, input: {} as WorkerInput },
    actors: { worker: machine },
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
    /** What the parent heard, in short: outcomes as `task:kind` and the idle flag. */
    heard: () => reports().map((report) => ({ outcomes: report.outcomes.map((outcome) => `${outcome.taskId}:${outcome.kind}`), idle: report.idle })),
    state: () => worker.getSnapshot().value,
    stats: () => worker.getSnapshot().context.stats,
    dispatch: (...orders: RunOrder[]) => worker.send({ type: 'task.dispatch', orders }),
    abort: (taskId: string) => worker.send({ type: 'task.abort', taskId, reason: new MezanError('E_CANCELLED', 'cancelled') }),
  };
}

function order(taskId: string, fn: TaskFunction, fields: Partial<RunOrder> = {}): RunOrder {
  return { taskId, name: taskId, attempt: 1, fn, timeoutMs: undefined, resources: undefined, ...fields };
}

const sleeps = (ms: number): TaskFunction => (ctx) => ctx.sleep(ms);

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

const ZERO_STATS = { tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0, lastTaskMs: undefined };

describe('workerMachine', () => {
  describe('with its real runner', () => {
    it('starts idle with zero statistics', () => {
      const { state, stats, worker } = startWorker();
      expect(state()).toBe('idle');
      expect(stats()).toEqual(ZERO_STATS);
      expect(worker.getSnapshot().context.workerId).toBe('worker-7');
    });

    it('is busy while a function runs, then idle, and reports to its parent', async () => {
      const { clock, state, stats, dispatch, reports } = startWorker();
      dispatch(order('a', async (ctx) => {
        await ctx.sleep(25);
        return 'A';
      }));
      expect(state()).toBe('busy');
      await clock.advanceBy(24);
      expect(state()).toBe('busy');
      expect(reports()).toEqual([]);
      await clock.advanceBy(1);
      expect(state()).toBe('idle');
      expect(reports()).toEqual([
        {
          type: 'worker.report',
          workerId: 'worker-7',
          idle: true,
          outcomes: [{ kind: 'completed', taskId: 'a', attempt: 1, value: 'A', error: undefined, started: true, startedAt: 0, endedAt: 25 }],
        },
      ]);
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 1, attempts: 1, busyMs: 25, lastTaskMs: 25 });
    });

    it('runs a batch of instant tasks and sends its parent one report', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      dispatch(
        order('a', () => 1),
        order('b', async () => 2),
        order('c', () => {
          throw new Error('c failed');
        }),
      );
      await clock.runAll();
      expect(state()).toBe('idle');
      expect(heard()).toEqual([{ outcomes: ['a:completed', 'b:completed', 'c:failed'], idle: true }]);
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 2, tasksFailed: 1, attempts: 3, busyMs: 0, lastTaskMs: 0 });
    });

    it('hands the orders behind a slow function back at the next clock turn, unstarted, and stays busy until it returns', async () => {
      const { clock, state, stats, dispatch, heard, reports } = startWorker();
      const behind = jest.fn();
      dispatch(order('a', sleeps(10)), order('b', behind, { attempt: 3 }));
      await clock.advanceBy(0);
      expect(heard()).toEqual([{ outcomes: ['b:requeue'], idle: false }]);
      expect(reports()[0]!.outcomes[0]).toEqual({ kind: 'requeue', taskId: 'b', attempt: 3, value: undefined, error: undefined, started: false, startedAt: 0, endedAt: 0 });
      expect(state()).toBe('busy');
      // A hand-back is neither a failure nor an attempt.
      expect(stats()).toEqual(ZERO_STATS);
      await clock.advanceBy(10);
      expect(heard()).toEqual([
        { outcomes: ['b:requeue'], idle: false },
        { outcomes: ['a:completed'], idle: true },
      ]);
      expect(state()).toBe('idle');
      expect(behind).not.toHaveBeenCalled();
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCompleted: 1, attempts: 1, busyMs: 10, lastTaskMs: 10 });
    });

    it('reports the instant tasks before a slow one at the next clock turn, with the orders behind it handed back', async () => {
      const { clock, state, dispatch, heard } = startWorker();
      const behind = jest.fn();
      dispatch(order('a', () => 1), order('b', sleeps(10)), order('c', behind));
      await clock.advanceBy(0);
      expect(heard()).toEqual([{ outcomes: ['a:completed', 'c:requeue'], idle: false }]);
      expect(state()).toBe('busy');
      await clock.advanceBy(10);
      expect(heard()[1]).toEqual({ outcomes: ['b:completed'], idle: true });
      expect(behind).not.toHaveBeenCalled();
    });

    it('hands back the orders behind a function cancelled before the clock turns', async () => {
      const { clock, state, stats, dispatch, abort, heard } = startWorker();
      const stuck = manual();
      const behind = jest.fn();
      dispatch(order('stuck', stuck.fn), order('b', behind));
      await flush();
      expect(stuck.contexts).toHaveLength(1);
      abort('stuck');
      expect(heard()).toEqual([{ outcomes: ['stuck:cancelled', 'b:requeue'], idle: false }]);
      expect(state()).toBe('aborting');
      await clock.runAll();
      expect(heard()).toHaveLength(1);
      stuck.resolve('late');
      await flush();
      expect(heard()[1]).toEqual({ outcomes: [], idle: true });
      expect(state()).toBe('idle');
      expect(behind).not.toHaveBeenCalled();
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCancelled: 1, attempts: 1, busyMs: 0, lastTaskMs: 0 });
    });

    it('hands back the orders behind a function that times out at once', async () => {
      const { clock, state, dispatch, heard } = startWorker();
      const stuck = manual();
      dispatch(order('stuck', stuck.fn, { timeoutMs: 0 }), order('b', jest.fn()));
      await clock.advanceBy(0);
      expect(heard()).toEqual([{ outcomes: ['stuck:timeout', 'b:requeue'], idle: false }]);
      expect(state()).toBe('aborting');
    });

    it('is aborting after a timeout until the function returns, and counts the timeout as failed', async () => {
      const { clock, state, stats, dispatch, heard } = startWorker();
      const stuck = manual();
      dispatch(order('stuck', stuck.fn, { timeoutMs: 40 }));
      await clock.advanceBy(40);
      expect(state()).toBe('aborting');
      expect(heard()).toEqual([{ outcomes: ['stuck:timeout'], idle: false }]);
      expect(stuck.contexts[0]!.signal.aborted).toBe(true);
      expect(stats()).toMatchObject({ tasksFailed: 1, attempts: 0, busyMs: 0 });
      await clock.advanceBy(60);
      stuck.resolve('late');
      await flush();
      expect(state()).toBe('idle');
      expect(heard()[1]).toEqual({ outcomes: [], idle: true });
      expect(stats()).toEqual({ ...ZERO_STATS, tasksFailed: 1, attempts: 1, busyMs: 100, lastTaskMs: 100 });
    });

    it('forwards an abort to its runner: the running function is cancelled at once', async () => {
      const { clock, state, stats, dispatch, abort, heard } = startWorker();
      dispatch(order('a', sleeps(100)));
      await clock.advanceBy(30);
      abort('a');
      expect(heard()).toEqual([{ outcomes: ['a:cancelled'], idle: false }]);
      await flush();
      // ctx.sleep rejected with the abort reason, so the function has returned.
      expect(state()).toBe('idle');
      expect(heard()[1]).toEqual({ outcomes: [], idle: true });
      expect(stats()).toEqual({ ...ZERO_STATS, tasksCancelled: 1, attempts: 1, busyMs: 30, lastTaskMs: 30 });
    });

    it('forwards an abort of an order still waiting its turn: its function never runs', async () => {
      const { clock, stats, dispatch, abort, heard } = startWorker();
      const never = jest.fn();
      dispatch(order('a', sleeps(10)), order('b', never));
      abort('b');
      expect(heard()).toEqual([{ outcomes: ['b:cancelled'], idle: false }]);
      await clock.runAll();
      expect(never).not.toHaveBeenCalled();
      expect(heard()[1]).toEqual({ outcomes: ['a:completed'], idle: true });
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
    });
    it('crashes on worker.crash: aborts the running function, reports nothing more, and ends with its output', async () => {
      const { clock, worker, state, dispatch, received, heard } = startWorker();
      const stuck = manual();
      const never = jest.fn();
      dispatch(order('stuck', stuck.fn, { timeoutMs: 100 }), order('never', never));
      await clock.advanceBy(10);
      // The order behind the slow function went back at the first clock turn.
      expect(heard()).toEqual([{ outcomes: ['never:requeue'], idle: false }]);
      received.length = 0;
      worker.send({ type: 'worker.crash' });
      expect(state()).toBe('crashed');
      expect(worker.getSnapshot().status).toBe('done');
      expect((stuck.contexts[0]!.signal.reason as MezanError).code).toBe('E_WORKER_CRASHED');
      stuck.resolve('late');
      await clock.runAll();
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
      expect(never).not.toHaveBeenCalled();
      expect(clock.pendingTimers).toBe(0);
    });

    it('crashes before the clock turns: the orders behind are neither run nor handed back', async () => {
      const { clock, worker, dispatch, received } = startWorker();
      const stuck = manual();
      const never = jest.fn();
      dispatch(order('stuck', stuck.fn), order('never', never));
      await flush();
      expect(stuck.contexts).toHaveLength(1);
      worker.send({ type: 'worker.crash' });
      await clock.runAll();
      stuck.resolve('late');
      await flush();
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
      expect(never).not.toHaveBeenCalled();
      expect(clock.pendingTimers).toBe(0);
    });

    it('starts from the statistics it is given (a restarted worker carries them on)', async () => {
      const initialStats = { tasksCompleted: 5, tasksFailed: 2, tasksCancelled: 1, attempts: 7, busyMs: 300, lastTaskMs: 40 };
      const { clock, stats, dispatch } = startWorker(workerMachine, initialStats);
      expect(stats()).toEqual(initialStats);
      dispatch(order('a', sleeps(20)));
      await clock.runAll();
      expect(stats()).toEqual({ tasksCompleted: 6, tasksFailed: 2, tasksCancelled: 1, attempts: 8, busyMs: 320, lastTaskMs: 20 });
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
          report({ type: 'runner.report', outcomes: [], state: 'idle', busyMs: 0, attempts: 0, lastTaskMs: undefined, ...fields }),
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

    it('hands its runner the environment it was given', () => {
      const fake = fakeRunner();
      const { clock } = startWorker(fake.machine);
      expect(fake.inputs).toHaveLength(1);
      expect(fake.inputs[0]).toEqual({ workerId: 'worker-7', clock, sink: silentSink, logger: expect.anything(), services: NO_SERVICES });
    });

    it('turns a dispatch into a run, forwards aborts as they are', () => {
      const fake = fakeRunner();
      const { dispatch, worker, state } = startWorker(fake.machine);
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

    it('forwards a deadlock victim to its runner as it is', () => {
      const fake = fakeRunner();
      const { dispatch, worker, state } = startWorker(fake.machine);
      dispatch(order('a', () => 1));
      const victim = { type: 'task.victim' as const, taskId: 'a', error: new MezanError('E_DEADLOCK', 'victim') };
      worker.send(victim);
      expect(fake.received[1]).toBe(victim);
      expect(state()).toBe('busy');
    });

    it('tells its runner to crash, then ends: reports the runner sends afterwards are lost', () => {
      const fake = fakeRunner();
      const { dispatch, worker, state, received } = startWorker(fake.machine);
      dispatch(order('a', () => 1));
      worker.send({ type: 'worker.crash' });
      expect(fake.received[1]).toEqual({ type: 'runner.crash' });
      expect(state()).toBe('crashed');
      fake.report({ state: 'idle', outcomes: [outcome('completed', 'a')], attempts: 1 });
      expect(received).toEqual([{ type: 'xstate.done.actor.worker', actorId: 'worker', output: { crashed: true } }]);
    });

    it('counts a handed-back order in no statistic, and forwards it to the executor', () => {
      const fake = fakeRunner();
      const { stats, heard } = startWorker(fake.machine);
      fake.report({ state: 'busy', outcomes: [outcome('requeue', 'a'), outcome('requeue', 'b')] });
      expect(stats()).toEqual(ZERO_STATS);
      expect(heard()).toEqual([{ outcomes: ['a:requeue', 'b:requeue'], idle: false }]);
    });

    it('follows the state its runner reports: busy, aborting, idle', () => {
      const fake = fakeRunner();
      const { dispatch, state, heard } = startWorker(fake.machine);
      dispatch(order('a', () => 1));
      fake.report({ state: 'busy', outcomes: [outcome('completed', 'a')] });
      expect(state()).toBe('busy');
      fake.report({ state: 'aborting', outcomes: [outcome('timeout', 'b')] });
      expect(state()).toBe('aborting');
      fake.report({ state: 'busy' });
      expect(state()).toBe('busy');
      fake.report({ state: 'idle', outcomes: [outcome('cancelled', 'c')] });
      expect(state()).toBe('idle');
      // Every report reaches the parent, with outcomes untouched; only `idle` frees the slot.
      expect(heard()).toEqual([
        { outcomes: ['a:completed'], idle: false },
        { outcomes: ['b:timeout'], idle: false },
        { outcomes: [], idle: false },
        { outcomes: ['c:cancelled'], idle: true },
      ]);
    });

    it('adds up the statistics of every report', () => {
      const fake = fakeRunner();
      const { stats } = startWorker(fake.machine);
      fake.report({ state: 'busy', outcomes: [outcome('completed', 'a'), outcome('completed', 'b'), outcome('failed', 'c')], busyMs: 12, attempts: 3, lastTaskMs: 4 });
      fake.report({ state: 'aborting', outcomes: [outcome('timeout', 'd'), outcome('cancelled', 'e')], busyMs: 0, attempts: 0, lastTaskMs: undefined });
      expect(stats()).toEqual({ tasksCompleted: 2, tasksFailed: 2, tasksCancelled: 1, attempts: 3, busyMs: 12, lastTaskMs: 4 });
      fake.report({ state: 'idle', busyMs: 30, attempts: 1, lastTaskMs: 30 });
      expect(stats()).toEqual({ tasksCompleted: 2, tasksFailed: 2, tasksCancelled: 1, attempts: 4, busyMs: 42, lastTaskMs: 30 });
    });

    it('keeps its previous statistics object unchanged (snapshots are immutable)', () => {
      const fake = fakeRunner();
      const { stats } = startWorker(fake.machine);
      const before = stats();
      fake.report({ outcomes: [outcome('completed', 'a')], attempts: 1 });
      expect(before).toEqual(ZERO_STATS);
      expect(stats()).not.toBe(before);
    });
  });
});
