import { createActor, sendParent, setup } from 'xstate';
import { executorMachine, type ExecutorEvent, type ExecutorInput, type ExecutorNotice } from '../../machines/executor.machine';
import type { WorkerEvent, WorkerInput, WorkerStats, workerMachine } from '../../machines/worker.machine';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import { NO_SERVICES } from '../../src/internal/task-services';
import { resolveRetryPolicy } from '../../src/internal/retry-policy';
import type { RunOrder, RunOutcome, TaskReporter, TaskSubmission, WorkerReportEvent } from '../../src/internal/task-protocol';
import { createQuietLogger } from '../../src/logger';
import { seededRandom } from '../../src/random';
import type { RetryOptions, TaskContext, TaskFunction } from '../../src/task-options';
import type { TaskStatus, TerminalTaskStatus } from '../../src/task-status';
import { VirtualClock } from '../../src/virtual-clock';

/** A reporter that records what the executor tells the caller, and keeps the status as a handle would. */
class FakeReporter implements TaskReporter {
  status: TaskStatus = 'queued';
  readonly settles: Array<{ status: TerminalTaskStatus; value: unknown; error: MezanError | undefined; at: number }> = [];

  constructor(
    readonly id: string,
    readonly clock: VirtualClock,
  ) {}

  markStatus(status: Exclude<TaskStatus, TerminalTaskStatus>): void {
    this.status = status;
  }

  settle(status: TerminalTaskStatus, value: unknown, error: MezanError | undefined): void {
    this.settles.push({ status, value, error, at: this.clock.now() });
    this.status = status;
  }
}

interface TaskSpec {
  fn?: TaskFunction;
  priority?: number;
  dependsOn?: FakeReporter[];
  retries?: number | RetryOptions;
  timeoutMs?: number;
}

/** One fake worker: what the executor sent it, and a way to report back as a real worker would. */
interface FakeWorker {
  readonly input: WorkerInput;
  readonly received: WorkerEvent[];
  readonly dispatches: string[][];
  report(outcomes: RunOutcome[], idle?: boolean): void;
}

/** Test → fake worker: report these outcomes to the executor. */
interface FakeReportEvent {
  readonly type: 'fake.report';
  readonly outcomes: RunOutcome[];
  readonly idle: boolean;
}

/** The statistics a fake worker starts with when not given any: distinct, so a carried-on copy shows. */
const FAKE_STATS: WorkerStats = { tasksCompleted: 1, tasksFailed: 2, tasksCancelled: 3, attempts: 4, busyMs: 5, lastTaskMs: 6 };

/**
 * An executor under the smallest parent machine, which records every notice the executor sends it,
 * with the executor's emitted events collected. With `fakeWorkers`, its workers are replaced by
 * fakes the test drives by hand (a fake crashes, as a real worker does, on `worker.crash`).
 */
function startExecutor(options: { workerCount?: number; maxBatch?: number; fakeWorkers?: boolean } = {}) {
  const clock = new VirtualClock();
  const events: EngineEvent[] = [];
  const sink: EventSink = { active: true, publish: (event) => events.push(event) };
  const notices: ExecutorNotice[] = [];
  const parentMachine = setup({
    types: { events: {} as ExecutorNotice },
    actions: { record: ({ event }) => void notices.push(event) },
  }).createMachine({ id: 'parent', on: { '*': { actions: 'record' } } });
  const parent = createActor(parentMachine, { clock });
  parent.start();

  /** The live fake of each worker id (a restart replaces it); `fakeHistory` keeps every one. */
  const fakes = new Map<string, FakeWorker>();
  const fakeHistory: FakeWorker[] = [];
  /** Every dispatch to any fake worker, in order. */
  const dispatchLog: Array<{ workerId: string; taskIds: string[] }> = [];
  const fakeWorkerMachine = setup({
    types: {
      context: {} as { workerId: string; stats: WorkerStats; fake: FakeWorker },
      events: {} as WorkerEvent | FakeReportEvent,
      input: {} as WorkerInput,
    },
    actions: {
      record: ({ context, event }) => {
        if (event.type === 'fake.report') return;
        context.fake.received.push(event);
        if (event.type !== 'task.dispatch') return;
        const taskIds = event.orders.map((order) => order.taskId);
        context.fake.dispatches.push(taskIds);
        dispatchLog.push({ workerId: context.workerId, taskIds });
      },
      report: sendParent(({ context, event }): WorkerReportEvent => {
        const { outcomes, idle } = event as FakeReportEvent;
        return { type: 'worker.report', workerId: context.workerId, outcomes, idle };
      }),
    },
  }).createMachine({
    context: ({ input, self }) => {
      const fake: FakeWorker = {
        input,
        received: [],
        dispatches: [],
        report: (outcomes, idle = true) => self.send({ type: 'fake.report', outcomes, idle }),
      };
      fakes.set(input.workerId, fake);
      fakeHistory.push(fake);
      return { workerId: input.workerId, stats: input.initialStats ?? FAKE_STATS, fake };
    },
    initial: 'alive',
    states: {
      alive: {
        on: {
          'fake.report': { actions: 'report' },
          'worker.crash': { target: 'crashed', actions: 'record' },
          '*': { actions: 'record' },
        },
      },
      crashed: { type: 'final' },
    },
    output: { crashed: true },
  });
  // A stand-in for the worker machine: the executor only sends it events, reads its reports and its statistics.
  const machine = options.fakeWorkers ? executorMachine.provide({ actors: { worker: fakeWorkerMachine as unknown as typeof workerMachine } }) : executorMachine;

  const input: ExecutorInput = {
    workerCount: options.workerCount ?? 1,
    maxBatch: options.maxBatch ?? 32,
    clock,
    random: seededRandom(1),
    logger: createQuietLogger(),
    sink,
    services: NO_SERVICES,
  };
  const executor = createActor(machine, { clock, input, parent });
  const emitted: Array<{ type: string; at: number }> = [];
  executor.on('idle', () => void emitted.push({ type: 'idle', at: clock.now() }));
  executor.on('quiescent', () => void emitted.push({ type: 'quiescent', at: clock.now() }));
  executor.start();

  let seq = 0;
  const submission = (id: string, spec: TaskSpec): { submission: TaskSubmission; reporter: FakeReporter } => {
    const reporter = new FakeReporter(id, clock);
    return {
      reporter,
      submission: {
        id,
        name: id,
        priority: spec.priority ?? 0,
        fn: spec.fn ?? (() => id),
        timeoutMs: spec.timeoutMs,
        retry: resolveRetryPolicy(spec.retries),
        dependsOn: (spec.dependsOn ?? []).map((dependency) => ({ id: dependency.id, reporter: dependency })),
        reporter,
        resources: undefined,
        parentId: undefined,
        meta: undefined,
      },
    };
  };

  return {
    clock,
    executor,
    events,
    notices,
    emitted,
    fakes,
    fakeHistory,
    dispatchLog,
    fake: (workerId: string) => fakes.get(workerId)!,
    send: (event: ExecutorEvent) => executor.send(event),
    /** Submits tasks in one event, as the engine's coalescing does; returns their reporters. */
    submit(...specs: Array<TaskSpec & { id?: string }>): FakeReporter[] {
      const made = specs.map((spec) => submission(spec.id ?? `t${seq++}`, spec));
      executor.send({ type: 'task.submit', submissions: made.map((each) => each.submission) });
      return made.map((each) => each.reporter);
    },
    cancel: (taskId: string) => executor.send({ type: 'task.cancel', taskId, reason: new MezanError('E_CANCELLED', 'cancelled', { details: { taskId } }) }),
    state: () => executor.getSnapshot().value,
    counts: () => executor.getSnapshot().context.book.counts,
    workerIds: () => executor.getSnapshot().context.workers.map((slot) => slot.id),
    slot: (workerId: string) => executor.getSnapshot().context.workersById.get(workerId),
  };
}

function outcome(kind: RunOutcome['kind'], taskId: string, fields: Partial<RunOutcome> = {}): RunOutcome {
  return { kind, taskId, attempt: 1, value: taskId, error: undefined, started: true, startedAt: 0, endedAt: 0, ...fields };
}

/** Completes, instantly, every order of the fake worker's last dispatch. */
function completeLastDispatch(fake: FakeWorker, idle = true): void {
  const last = fake.dispatches[fake.dispatches.length - 1]!;
  fake.report(last.map((taskId) => outcome('completed', taskId)), idle);
}

/** Runs one instant task on every worker, so the executor has seen that tasks here are instant. */
function warmUp(run: ReturnType<typeof startExecutor>, workerCount: number): void {
  run.submit(...Array.from({ length: workerCount }, (_, index) => ({ id: `warm-${index}` })));
  for (let index = 1; index <= workerCount; index++) completeLastDispatch(run.fake(`worker-${index}`));
  for (const fake of run.fakes.values()) fake.dispatches.length = 0;
  run.dispatchLog.length = 0;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('executorMachine', () => {
  describe('dispatch', () => {
    it('starts idle, with every worker idle, and tells whoever listens', () => {
      const { state, emitted, notices, counts } = startExecutor({ workerCount: 2, fakeWorkers: true });
      expect(state()).toBe('idle');
      expect(emitted).toEqual([
        { type: 'idle', at: 0 },
        { type: 'quiescent', at: 0 },
      ]);
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      expect(counts().submitted).toBe(0);
    });

    it('dispatches by priority, then in submission order, one worker at a time', () => {
      const { submit, fake, state } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      submit({ id: 'low', priority: -1 }, { id: 'a' }, { id: 'high', priority: 9 }, { id: 'b' }, { id: 'mid', priority: 1 });
      expect(state()).toBe('working');
      const worker = fake('worker-1');
      expect(worker.dispatches).toEqual([['high']]);
      for (let step = 0; step < 4; step++) completeLastDispatch(worker);
      expect(worker.dispatches).toEqual([['high'], ['mid'], ['a'], ['b'], ['low']]);
    });

    it('lets a later, more urgent submission overtake queued tasks', () => {
      const { submit, fake } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      submit({ id: 'first' }, { id: 'second' });
      submit({ id: 'urgent', priority: 1 });
      completeLastDispatch(fake('worker-1'));
      expect(fake('worker-1').dispatches).toEqual([['first'], ['urgent']]);
    });

    it('spreads work over idle workers, worker-1 first, one task each when the queue is shallow', () => {
      const { submit, fake, fakes } = startExecutor({ workerCount: 3, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' });
      expect(fake('worker-1').dispatches).toEqual([['a']]);
      expect(fake('worker-2').dispatches).toEqual([['b']]);
      expect(fake('worker-3').dispatches).toEqual([]);
      expect(fakes.size).toBe(3);
    });

    it('dispatches one task at a time until it has seen how long tasks take', () => {
      const { submit, fake } = startExecutor({ workerCount: 1, maxBatch: 8, fakeWorkers: true });
      submit(...Array.from({ length: 10 }, () => ({})));
      expect(fake('worker-1').dispatches).toEqual([['t0']]);
    });

    it('sends small batches, capped by maxBatch, when the queue is deep and tasks are instant', () => {
      const run = startExecutor({ workerCount: 2, maxBatch: 4, fakeWorkers: true });
      const { submit, fake, dispatchLog } = run;
      warmUp(run, 2);
      submit(...Array.from({ length: 20 }, () => ({})));
      const batches = (): string[][] => dispatchLog.map((dispatch) => dispatch.taskIds);
      const completeOn = (index: number): void => completeLastDispatch(fake(dispatchLog[index]!.workerId));
      // 20 ready over 2 workers: a share of 10, capped at 4; one batch to each worker.
      expect(batches()).toEqual([
        ['t0', 't1', 't2', 't3'],
        ['t4', 't5', 't6', 't7'],
      ]);
      expect(new Set(dispatchLog.map((dispatch) => dispatch.workerId))).toEqual(new Set(['worker-1', 'worker-2']));
      completeOn(0);
      completeOn(1);
      // 12 then 8 left: still capped at 4.
      expect(batches().slice(2)).toEqual([
        ['t8', 't9', 't10', 't11'],
        ['t12', 't13', 't14', 't15'],
      ]);
      completeOn(2);
      // 4 left over 2 workers: a share of 2.
      expect(batches().slice(4)).toEqual([['t16', 't17']]);
      completeOn(3);
      // 2 left over 2 workers: a share of 1.
      expect(batches().slice(5)).toEqual([['t18']]);
      // Every batch goes to an idle worker only.
      expect(dispatchLog[4]!.workerId).toBe(dispatchLog[2]!.workerId);
      expect(dispatchLog[5]!.workerId).toBe(dispatchLog[3]!.workerId);
    });

    it('keeps priority order within and across batches', () => {
      const run = startExecutor({ workerCount: 1, maxBatch: 3, fakeWorkers: true });
      warmUp(run, 1);
      run.submit(...[0, 2, 1, 2, 0, 1, 2].map((priority, index) => ({ id: `p${priority}-${index}`, priority })));
      const worker = run.fake('worker-1');
      while (worker.dispatches.flat().length < 7) completeLastDispatch(worker);
      expect(worker.dispatches.flat()).toEqual(['p2-1', 'p2-3', 'p2-6', 'p1-2', 'p1-5', 'p0-0', 'p0-4']);
      expect(worker.dispatches[0]).toEqual(['p2-1', 'p2-3', 'p2-6']);
    });

    it('never batches with maxBatch 1', () => {
      const run = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      warmUp(run, 1);
      run.submit(...Array.from({ length: 10 }, () => ({})));
      expect(run.fake('worker-1').dispatches).toEqual([['t0']]);
    });

    it('dispatches one at a time once tasks take clock time', () => {
      const run = startExecutor({ workerCount: 1, maxBatch: 8, fakeWorkers: true });
      warmUp(run, 1);
      run.submit(...Array.from({ length: 20 }, () => ({})));
      const worker = run.fake('worker-1');
      expect(worker.dispatches[0]).toHaveLength(8);
      worker.report(worker.dispatches[0]!.map((taskId) => outcome('completed', taskId, { startedAt: 0, endedAt: 50 })));
      expect(worker.dispatches[1]).toEqual(['t8']);
    });

    it('waits for a worker to report idle before dispatching to it again', () => {
      const { submit, fake } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' });
      const worker = fake('worker-1');
      worker.report([outcome('timeout', 'a', { error: new MezanError('E_TIMEOUT', 't') })], false);
      expect(worker.dispatches).toEqual([['a']]);
      worker.report([], true);
      expect(worker.dispatches).toEqual([['a'], ['b']]);
    });

    it('hands the worker run orders with the attempt, function and timeout', () => {
      const { submit, fake } = startExecutor({ fakeWorkers: true });
      const fn: TaskFunction = () => 1;
      submit({ id: 'a', fn, timeoutMs: 300 });
      const dispatch = fake('worker-1').received[0] as { type: 'task.dispatch'; orders: RunOrder[] };
      expect(dispatch).toEqual({ type: 'task.dispatch', orders: [{ taskId: 'a', name: 'a', attempt: 1, fn, timeoutMs: 300, resources: undefined, meta: undefined }] });
    });
  });

  describe('settlement', () => {
    it('settles each task once from its worker’s report and drops it', () => {
      const { submit, fake, counts, state } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      const [a, b] = submit({ id: 'a' }, { id: 'b' });
      const thrown = new Error('b broke');
      fake('worker-1').report([outcome('completed', 'a', { value: 'A' })]);
      fake('worker-1').report([outcome('failed', 'b', { error: thrown })]);
      expect(a!.settles).toEqual([{ status: 'completed', value: 'A', error: undefined, at: 0 }]);
      expect(b!.settles).toHaveLength(1);
      expect(b!.settles[0]!.error!.code).toBe('E_TASK_FAILED');
      expect(b!.settles[0]!.error!.cause).toBe(thrown);
      expect(counts()).toMatchObject({ submitted: 2, completed: 1, failed: 1, queued: 0, dispatched: 0 });
      expect(state()).toBe('idle');
    });

    it('runs dependents only after their dependencies complete', () => {
      const { submit, fake } = startExecutor({ workerCount: 2, fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      const [b] = submit({ id: 'b', dependsOn: [a!] });
      expect(b!.status).toBe('waiting');
      expect(fake('worker-2').dispatches).toEqual([]);
      completeLastDispatch(fake('worker-1'));
      expect([...fake('worker-1').dispatches, ...fake('worker-2').dispatches]).toEqual([['a'], ['b']]);
    });

    it('fails the dependents of a failed task without running them', () => {
      const { submit, fake, state } = startExecutor({ workerCount: 2, fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      const [b, c] = submit({ id: 'b', dependsOn: [a!] }, { id: 'c' });
      fake('worker-1').report([outcome('failed', 'a', { error: new Error('x') })]);
      expect(b!.settles[0]!.error!.code).toBe('E_DEPENDENCY_FAILED');
      expect(c!.settles).toEqual([]);
      completeLastDispatch(fake('worker-2'));
      expect(state()).toBe('idle');
      expect(fake('worker-1').dispatches.flat()).not.toContain('b');
      expect(fake('worker-2').dispatches.flat()).not.toContain('b');
    });

    it('retries a failed attempt after its delay on the injected clock', async () => {
      const { clock, submit, fake, counts } = startExecutor({ fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 1, delayMs: 100 } });
      fake('worker-1').report([outcome('failed', 'a', { error: new Error('x') })]);
      expect(counts()).toMatchObject({ delayed: 1, queued: 0 });
      expect(a!.status).toBe('queued');
      await clock.advanceBy(99);
      expect(fake('worker-1').dispatches).toEqual([['a']]);
      await clock.advanceBy(1);
      const redispatch = fake('worker-1').received[1] as { type: 'task.dispatch'; orders: RunOrder[] };
      expect(redispatch.orders.map((order) => [order.taskId, order.attempt])).toEqual([['a', 2]]);
      fake('worker-1').report([outcome('completed', 'a', { attempt: 2, value: 'second time' })]);
      expect(a!.settles).toEqual([{ status: 'completed', value: 'second time', error: undefined, at: 100 }]);
    });
  });

  describe('cancel', () => {
    it('settles a queued task at once and never dispatches it', () => {
      const { submit, fake, cancel, counts } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      const [, b] = submit({ id: 'a' }, { id: 'b' }, { id: 'c' });
      cancel('b');
      expect(b!.settles.map((settle) => [settle.status, settle.error!.code])).toEqual([['cancelled', 'E_CANCELLED']]);
      completeLastDispatch(fake('worker-1'));
      completeLastDispatch(fake('worker-1'));
      expect(fake('worker-1').dispatches).toEqual([['a'], ['c']]);
      expect(counts()).toMatchObject({ completed: 2, cancelled: 1 });
    });

    it('asks the worker to abort a dispatched task, and settles it from the worker’s report', () => {
      const { submit, fake, cancel } = startExecutor({ fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      cancel('a');
      const worker = fake('worker-1');
      expect(worker.received[1]).toMatchObject({ type: 'task.abort', taskId: 'a' });
      expect((worker.received[1] as { reason: MezanError }).reason.code).toBe('E_CANCELLED');
      expect(a!.settles).toEqual([]);
      worker.report([outcome('cancelled', 'a', { error: (worker.received[1] as { reason: MezanError }).reason })], false);
      expect(a!.settles.map((settle) => settle.status)).toEqual(['cancelled']);
    });

    it('clears the retry timer of a task cancelled between attempts', async () => {
      const { clock, submit, fake, cancel, state } = startExecutor({ fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 3, delayMs: 1_000 } });
      fake('worker-1').report([outcome('failed', 'a', { error: new Error('x') })]);
      expect(clock.pendingTimers).toBe(1);
      cancel('a');
      expect(clock.pendingTimers).toBe(0);
      expect(a!.settles.map((settle) => settle.status)).toEqual(['cancelled']);
      expect(state()).toBe('idle');
      await clock.runAll();
      expect(fake('worker-1').dispatches).toEqual([['a']]);
    });

    it('ignores a cancel for a task it does not know', () => {
      const { cancel, state, emitted } = startExecutor({ fakeWorkers: true });
      cancel('nobody');
      expect(state()).toBe('idle');
      expect(emitted).toHaveLength(2);
    });
  });

  describe('idle and quiescent', () => {
    it('emits idle when no task is left, and quiescent once every worker is idle too', () => {
      const { submit, fake, emitted, notices, state, events } = startExecutor({ workerCount: 2, fakeWorkers: true });
      emitted.length = 0;
      notices.length = 0;
      submit({ id: 'a' }, { id: 'b' });
      fake('worker-1').report([outcome('completed', 'a')]);
      expect(emitted).toEqual([]);
      // b's outcome is out, but its function has not returned (a timeout): idle, not quiescent.
      fake('worker-2').report([outcome('timeout', 'b', { error: new MezanError('E_TIMEOUT', 't') })], false);
      expect(state()).toBe('idle');
      expect(emitted.map((each) => each.type)).toEqual(['idle']);
      expect(notices).toEqual([]);
      fake('worker-2').report([], true);
      expect(emitted.map((each) => each.type)).toEqual(['idle', 'quiescent']);
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      expect(events.filter((event) => event.type === 'engine.idle')).toHaveLength(2);
    });

    it('emits idle once per return to idle, at the clock time it happened', async () => {
      const { clock, submit, emitted } = startExecutor({ workerCount: 1 });
      emitted.length = 0;
      submit({ fn: (ctx) => ctx.sleep(30) });
      await clock.runAll();
      submit({ fn: (ctx) => ctx.sleep(20) });
      await clock.runAll();
      expect(emitted).toEqual([
        { type: 'idle', at: 30 },
        { type: 'quiescent', at: 30 },
        { type: 'idle', at: 50 },
        { type: 'quiescent', at: 50 },
      ]);
    });
  });

  describe('with real workers', () => {
    it('runs every task exactly once and the per-worker counts add up to the totals', async () => {
      const { clock, submit, executor, counts, state, emitted } = startExecutor({ workerCount: 3, maxBatch: 4 });
      const random = seededRandom(42);
      const calls = new Map<string, number>();
      let running = 0;
      let mostAtOnce = 0;
      const specs = Array.from({ length: 300 }, (_, index) => {
        const ms = random() < 0.5 ? 0 : Math.floor(random() * 20);
        const fails = random() < 0.1;
        const id = `t${index}`;
        const fn: TaskFunction = async (ctx: TaskContext) => {
          calls.set(id, (calls.get(id) ?? 0) + 1);
          running++;
          mostAtOnce = Math.max(mostAtOnce, running);
          try {
            if (ms > 0) await ctx.sleep(ms);
            if (fails) throw new Error(`${id} failed`);
            return id;
          } finally {
            running--;
          }
        };
        return { id, fn, priority: index % 3 };
      });
      const reporters = submit(...specs.slice(0, 150));
      await clock.advanceBy(7);
      reporters.push(...submit(...specs.slice(150)));
      await clock.runAll();

      expect(state()).toBe('idle');
      expect(reporters.every((reporter) => reporter.settles.length === 1)).toBe(true);
      expect([...calls.values()].every((count) => count === 1)).toBe(true);
      expect(calls.size).toBe(300);
      expect(mostAtOnce).toBeLessThanOrEqual(3);
      const completed = reporters.filter((reporter) => reporter.status === 'completed').length;
      const failed = reporters.filter((reporter) => reporter.status === 'failed').length;
      expect(completed + failed).toBe(300);
      expect(counts()).toMatchObject({ submitted: 300, completed, failed, waiting: 0, queued: 0, delayed: 0, dispatched: 0 });
      const stats = executor.getSnapshot().context.workers.map((slot) => slot.ref.getSnapshot().context.stats);
      expect(stats.reduce((sum, each) => sum + each.tasksCompleted, 0)).toBe(completed);
      expect(stats.reduce((sum, each) => sum + each.tasksFailed, 0)).toBe(failed);
      expect(stats.reduce((sum, each) => sum + each.attempts, 0)).toBe(300);
      expect(stats.every((each) => each.attempts > 0)).toBe(true);
      expect(emitted[emitted.length - 1]).toEqual({ type: 'quiescent', at: clock.now() });
    });

    it('times a task out, settles it at once, and is quiescent only when its function returns', async () => {
      const { clock, submit, emitted, executor } = startExecutor({ workerCount: 1 });
      emitted.length = 0;
      let finish!: () => void;
      const [a, b] = submit(
        { id: 'a', timeoutMs: 50, fn: () => new Promise<void>((resolve) => (finish = resolve)) },
        { id: 'b', fn: () => 'b' },
      );
      await clock.advanceBy(50);
      expect(a!.settles.map((settle) => [settle.status, settle.error!.code, settle.at])).toEqual([['timeout', 'E_TIMEOUT', 50]]);
      // b went back to the queue at the first clock turn; the only worker is still taken by a.
      expect(b!.settles).toEqual([]);
      expect(executor.getSnapshot().context.workers[0]!.ref.getSnapshot().value).toBe('aborting');
      await clock.advanceBy(25);
      finish();
      await clock.runAll();
      expect(b!.settles.map((settle) => [settle.status, settle.at])).toEqual([['completed', 75]]);
      expect(emitted).toEqual([
        { type: 'idle', at: 75 },
        { type: 'quiescent', at: 75 },
      ]);
    });

    it('cancels a running task through its worker: the signal aborts and the task settles at once', async () => {
      const { clock, submit, cancel } = startExecutor({ workerCount: 1 });
      let signal: AbortSignal | undefined;
      const [a] = submit({
        id: 'a',
        fn: async (ctx) => {
          signal = ctx.signal;
          await ctx.sleep(1_000);
        },
      });
      await clock.advanceBy(10);
      cancel('a');
      expect(signal!.aborted).toBe(true);
      expect(a!.settles.map((settle) => [settle.status, settle.at])).toEqual([['cancelled', 10]]);
      await clock.runAll();
      expect(a!.settles).toHaveLength(1);
    });
  });

  describe('requeue', () => {
    it('puts a handed-back task back in the queue, keeping its place ahead of tasks queued since', () => {
      const run = startExecutor({ workerCount: 1, maxBatch: 4, fakeWorkers: true });
      warmUp(run, 1);
      const reporters = run.submit(...Array.from({ length: 6 }, (_, index) => ({ id: `b${index}` })));
      const [late] = run.submit({ id: 'late' });
      const worker = run.fake('worker-1');
      expect(worker.dispatches).toEqual([['b0', 'b1', 'b2', 'b3']]);
      // b0 is slow: the orders behind it come back unstarted; the worker stays busy.
      worker.report(['b1', 'b2', 'b3'].map((taskId) => outcome('requeue', taskId, { started: false })), false);
      expect(reporters.map((reporter) => reporter.status)).toEqual(['running', 'queued', 'queued', 'queued', 'queued', 'queued']);
      expect(reporters.every((reporter) => reporter.settles.length === 0)).toBe(true);
      expect(run.counts()).toMatchObject({ submitted: 8, queued: 6, dispatched: 1, completed: 1, failed: 0, cancelled: 0 });
      expect(run.events.filter((event) => event.type === 'task.queued' && event.taskId === 'b1')).toHaveLength(2);
      expect(worker.dispatches).toHaveLength(1);
      worker.report([outcome('completed', 'b0')]);
      // b1..b3 are ahead of b4, b5 and late, submitted while they were on the worker.
      expect(worker.dispatches[1]).toEqual(['b1', 'b2', 'b3', 'b4']);
      completeLastDispatch(worker);
      expect(worker.dispatches[2]).toEqual(['b5', 'late']);
      completeLastDispatch(worker);
      expect(late!.status).toBe('completed');
      expect(run.counts()).toMatchObject({ completed: 8, queued: 0, dispatched: 0 });
    });

    it('keeps a handed-back task behind more urgent ones', () => {
      const run = startExecutor({ workerCount: 1, maxBatch: 2, fakeWorkers: true });
      warmUp(run, 1);
      run.submit({ id: 'slow' }, { id: 'behind' }, { id: 'next' });
      run.submit({ id: 'urgent', priority: 5 });
      const worker = run.fake('worker-1');
      expect(worker.dispatches).toEqual([['slow', 'behind']]);
      worker.report([outcome('requeue', 'behind', { started: false })], false);
      worker.report([outcome('completed', 'slow')]);
      expect(worker.dispatches[1]).toEqual(['urgent', 'behind']);
    });

    it('runs a handed-back order again as the same attempt, not a retry', () => {
      const { submit, fake, events } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 1 } });
      fake('worker-1').report([outcome('requeue', 'a', { started: false })]);
      const redispatch = fake('worker-1').received[1] as { type: 'task.dispatch'; orders: RunOrder[] };
      expect(redispatch.orders.map((order) => [order.taskId, order.attempt])).toEqual([['a', 1]]);
      expect(events.some((event) => event.type === 'task.retrying')).toBe(false);
      fake('worker-1').report([outcome('completed', 'a', { value: 'A' })]);
      expect(a!.settles.map((settle) => [settle.status, settle.value])).toEqual([['completed', 'A']]);
    });

    it('settles a handed-back task it has asked the worker to abort, instead of queueing it again', () => {
      // The hand-back and the abort cross: the runner had already handed b back when the abort came.
      const run = startExecutor({ workerCount: 1, maxBatch: 2, fakeWorkers: true });
      warmUp(run, 1);
      const [, b] = run.submit({ id: 'a' }, { id: 'b' });
      const worker = run.fake('worker-1');
      expect(worker.dispatches).toEqual([['a', 'b']]);
      run.cancel('b');
      expect(worker.received.at(-1)).toMatchObject({ type: 'task.abort', taskId: 'b' });
      worker.report([outcome('requeue', 'b', { started: false })], false);
      expect(b!.settles.map((settle) => [settle.status, settle.error?.code])).toEqual([['cancelled', 'E_CANCELLED']]);
      worker.report([outcome('completed', 'a')]);
      expect(worker.dispatches).toEqual([['a', 'b']]);
      expect(run.counts()).toMatchObject({ completed: 2, cancelled: 1, queued: 0, dispatched: 0 });
    });

    it('with real workers, gives the orders behind a slow function to an idle worker at the next clock turn', async () => {
      const { clock, submit, events, emitted } = startExecutor({ workerCount: 2, maxBatch: 4 });
      submit({ id: 'warm' });
      await clock.runAll();
      const slow: TaskFunction = (ctx) => ctx.sleep(100);
      const reporters = submit({ id: 'slow', fn: slow }, ...['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => ({ id })));
      await clock.advanceBy(0);
      const startedOn = (taskId: string) => events.find((event) => event.type === 'task.started' && event.taskId === taskId) as { workerId: string } | undefined;
      const slowWorker = startedOn('slow')!.workerId;
      // Everything but the slow task is done at time 0, on the other worker.
      expect(reporters.slice(1).map((reporter) => [reporter.status, reporter.settles[0]?.at])).toEqual(Array.from({ length: 7 }, () => ['completed', 0]));
      for (const id of ['b', 'c', 'd']) expect(startedOn(id)!.workerId).not.toBe(slowWorker);
      expect(events.filter((event) => event.type === 'task.started')).toHaveLength(9);
      emitted.length = 0;
      await clock.runAll();
      expect(reporters[0]!.settles.map((settle) => [settle.status, settle.at])).toEqual([['completed', 100]]);
      expect(emitted).toEqual([
        { type: 'idle', at: 100 },
        { type: 'quiescent', at: 100 },
      ]);
    });
  });

  describe('executor.cancel-pending', () => {
    it('settles every task not on a worker with the reason, dependents included, and leaves the running one alone', async () => {
      const { clock, submit, fake, send, counts, notices, state } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      const [retrying] = submit({ id: 'retrying', retries: { max: 2, delayMs: 500 } });
      fake('worker-1').report([outcome('failed', 'retrying', { error: new Error('x') })]);
      // `retrying` is between attempts, its timer set.
      expect(clock.pendingTimers).toBe(1);
      const [onWorker, plain] = submit({ id: 'on-worker' }, { id: 'plain' });
      const [afterOnWorker, afterPlain] = submit({ id: 'after-on-worker', dependsOn: [onWorker!] }, { id: 'after-plain', dependsOn: [plain!] });
      expect([onWorker, plain, afterOnWorker, afterPlain].map((reporter) => reporter!.status)).toEqual(['running', 'queued', 'waiting', 'waiting']);
      notices.length = 0;
      const reason = new MezanError('E_SHUTDOWN', 'shutting down');
      send({ type: 'executor.cancel-pending', reason });
      for (const reporter of [retrying!, plain!, afterOnWorker!, afterPlain!]) {
        expect(reporter.settles).toEqual([{ status: 'cancelled', value: undefined, error: reason, at: 0 }]);
      }
      expect(onWorker!.settles).toEqual([]);
      expect(clock.pendingTimers).toBe(0);
      expect(counts()).toMatchObject({ cancelled: 4, failed: 0, queued: 0, waiting: 0, delayed: 0, dispatched: 1 });
      // The worker is still busy: not quiescent yet.
      expect(notices).toEqual([]);
      expect(state()).toBe('working');
      fake('worker-1').report([outcome('completed', 'on-worker', { value: 'W' })]);
      expect(onWorker!.settles.map((settle) => settle.status)).toEqual(['completed']);
      expect(afterOnWorker!.settles).toHaveLength(1);
      expect(state()).toBe('idle');
      expect(notices.at(-1)).toEqual({ type: 'executor.quiescent' });
      await clock.runAll();
      expect(fake('worker-1').dispatches.flat()).toEqual(['retrying', 'on-worker']);
    });

    it('rejects them instead with status rejected, dependents with the same reason', () => {
      const { submit, send, counts, events } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      const [, queued] = submit({ id: 'running' }, { id: 'queued' });
      const [dependent] = submit({ id: 'dependent', dependsOn: [queued!] });
      const reason = new MezanError('E_SHUTDOWN', 'refused');
      send({ type: 'executor.cancel-pending', reason, status: 'rejected' });
      expect(queued!.settles).toEqual([{ status: 'rejected', value: undefined, error: reason, at: 0 }]);
      expect(dependent!.settles).toEqual([{ status: 'rejected', value: undefined, error: reason, at: 0 }]);
      expect(counts()).toMatchObject({ rejected: 2, cancelled: 0, failed: 0, dispatched: 1 });
      expect(events.filter((event) => event.type === 'task.rejected').map((event) => [event.taskId, (event as { code: string }).code])).toEqual([
        ['queued', 'E_SHUTDOWN'],
        ['dependent', 'E_SHUTDOWN'],
      ]);
    });

    it('tells the parent it is quiescent at once when no worker is busy', async () => {
      const { clock, submit, send, notices, state } = startExecutor({ workerCount: 1, fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 1, delayMs: 100 } });
      const [b] = submit({ id: 'b', dependsOn: [a!] });
      send({ type: 'worker.crash', workerId: 'worker-1' });
      // a waits for its retry, b for a; the only worker is down and nothing runs.
      expect(clock.pendingTimers).toBe(1);
      notices.length = 0;
      send({ type: 'executor.cancel-pending', reason: new MezanError('E_SHUTDOWN', 'x') });
      expect([a!.status, b!.status]).toEqual(['cancelled', 'cancelled']);
      expect(state()).toBe('idle');
      // (Sent twice today: once by cancel-pending, once on entering idle; the supervisor's handling is idempotent.)
      expect(notices.length).toBeGreaterThan(0);
      expect(notices.every((notice) => notice.type === 'executor.quiescent')).toBe(true);
      expect(clock.pendingTimers).toBe(0);
    });
  });

  describe('executor.abort-running', () => {
    it('sends an abort with the reason for every task on a worker, and settles them from the reports', () => {
      const run = startExecutor({ workerCount: 2, maxBatch: 2, fakeWorkers: true });
      warmUp(run, 2);
      const reporters = run.submit(...['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id })));
      expect(run.dispatchLog.map((dispatch) => dispatch.taskIds)).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
      const reason = new MezanError('E_SHUTDOWN', 'aborted');
      run.send({ type: 'executor.abort-running', reason });
      const aborts = (workerId: string) => run.fake(workerId).received.filter((event) => event.type === 'task.abort');
      const byWorker = new Map(run.dispatchLog.map((dispatch) => [dispatch.workerId, dispatch.taskIds]));
      for (const [workerId, taskIds] of byWorker) {
        expect(aborts(workerId)).toEqual(taskIds.map((taskId) => ({ type: 'task.abort', taskId, reason })));
      }
      // Nothing settles before the workers say so; the queued task is not the executor's to abort here.
      expect(reporters.every((reporter) => reporter.settles.length === 0)).toBe(true);
      expect(reporters.slice(4).map((reporter) => reporter.status)).toEqual(['queued', 'queued']);
      const [first, second] = [...byWorker.keys()];
      run.fake(first!).report(byWorker.get(first!)!.map((taskId) => outcome('cancelled', taskId, { error: reason })), false);
      expect(reporters.slice(0, 2).map((reporter) => reporter.settles.map((settle) => [settle.status, settle.error]))).toEqual([
        [['cancelled', reason]],
        [['cancelled', reason]],
      ]);
      expect(run.counts()).toMatchObject({ cancelled: 2, dispatched: 2, queued: 2 });
      expect(run.fake(second!).dispatches).toHaveLength(1);
    });

    it('does nothing when no task is on a worker', () => {
      const { send, fakes, notices, state } = startExecutor({ workerCount: 2, fakeWorkers: true });
      notices.length = 0;
      send({ type: 'executor.abort-running', reason: new MezanError('E_SHUTDOWN', 'x') });
      expect([...fakes.values()].every((fake) => fake.received.length === 0)).toBe(true);
      expect(notices).toEqual([]);
      expect(state()).toBe('idle');
    });

    it('with real workers, aborts the signals of running functions and settles them at once', async () => {
      const { clock, submit, send, notices } = startExecutor({ workerCount: 2 });
      const signals: AbortSignal[] = [];
      const sleeper: TaskFunction = async (ctx) => {
        signals.push(ctx.signal);
        await ctx.sleep(1_000);
      };
      const reporters = submit({ id: 'a', fn: sleeper }, { id: 'b', fn: sleeper });
      await clock.advanceBy(10);
      notices.length = 0;
      send({ type: 'executor.abort-running', reason: new MezanError('E_SHUTDOWN', 'aborted') });
      expect(signals.map((signal) => (signal.reason as MezanError).code)).toEqual(['E_SHUTDOWN', 'E_SHUTDOWN']);
      expect(reporters.map((reporter) => reporter.settles.map((settle) => [settle.status, settle.error!.code, settle.at]))).toEqual([
        [['cancelled', 'E_SHUTDOWN', 10]],
        [['cancelled', 'E_SHUTDOWN', 10]],
      ]);
      await clock.runAll();
      expect(notices.at(-1)).toEqual({ type: 'executor.quiescent' });
    });

    it('with real workers, also aborts the orders waiting behind a running function on the same worker', async () => {
      // Terminating phase of a shutdown: cancel-pending, then abort-running, before the clock turns.
      const { clock, submit, send } = startExecutor({ workerCount: 1, maxBatch: 4 });
      submit({ id: 'warm' });
      await clock.runAll();
      const behind = jest.fn(() => 'ran');
      const reporters = submit({ id: 'a', fn: (ctx) => ctx.sleep(100) }, { id: 'b', fn: behind }, { id: 'c', fn: behind });
      await flush();
      const reason = new MezanError('E_SHUTDOWN', 'aborted');
      send({ type: 'executor.cancel-pending', reason });
      send({ type: 'executor.abort-running', reason });
      await clock.runAll();
      expect(behind).not.toHaveBeenCalled();
      expect(reporters.map((reporter) => reporter.settles.map((settle) => [settle.status, settle.error?.code]))).toEqual([
        [['cancelled', 'E_SHUTDOWN']],
        [['cancelled', 'E_SHUTDOWN']],
        [['cancelled', 'E_SHUTDOWN']],
      ]);
    });
  });

  describe('executor.probe', () => {
    it('answers executor.quiescent to the parent only when nothing is left to do', () => {
      const { submit, send, fake, notices, emitted } = startExecutor({ workerCount: 1, fakeWorkers: true });
      notices.length = 0;
      emitted.length = 0;
      send({ type: 'executor.probe' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      expect(emitted.map((each) => each.type)).toEqual(['quiescent']);
      notices.length = 0;
      submit({ id: 'a' });
      send({ type: 'executor.probe' });
      expect(notices).toEqual([]);
      // The task is settled, but its worker is still aborting: idle, not quiescent.
      fake('worker-1').report([outcome('timeout', 'a', { error: new MezanError('E_TIMEOUT', 't') })], false);
      notices.length = 0;
      send({ type: 'executor.probe' });
      expect(notices).toEqual([]);
      fake('worker-1').report([], true);
      notices.length = 0;
      send({ type: 'executor.probe' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
    });
  });

  describe('worker crash and restart', () => {
    it('fails the crashed worker’s attempt with E_WORKER_CRASHED and tells the parent which tasks it took down', async () => {
      const { clock, submit, send, notices, events, slot, state } = startExecutor({ workerCount: 1 });
      let signal: AbortSignal | undefined;
      const never = jest.fn();
      const [a, b] = submit(
        {
          id: 'a',
          fn: async (ctx) => {
            signal = ctx.signal;
            await ctx.sleep(1_000);
          },
        },
        { id: 'b', fn: never },
      );
      await clock.advanceBy(20);
      notices.length = 0;
      send({ type: 'worker.crash', workerId: 'worker-1' });
      expect(a!.settles.map((settle) => [settle.status, settle.error!.code, settle.at])).toEqual([['failed', 'E_WORKER_CRASHED', 20]]);
      expect(a!.settles[0]!.error!.details).toMatchObject({ workerId: 'worker-1' });
      expect((signal!.reason as MezanError).code).toBe('E_WORKER_CRASHED');
      expect(notices).toEqual([{ type: 'worker.crashed', workerId: 'worker-1', taskIds: ['a'] }]);
      expect(events.filter((event) => event.type === 'task.failed').map((event) => (event as { code: string }).code)).toEqual(['E_WORKER_CRASHED']);
      expect(slot('worker-1')).toMatchObject({ down: true, idle: false });
      // The only worker is down: b waits in the queue and nothing is quiescent.
      await clock.runAll();
      expect(never).not.toHaveBeenCalled();
      expect(b!.status).toBe('queued');
      expect(state()).toBe('working');
      expect(notices).toHaveLength(1);
    });

    it('applies the retry policy to a crashed attempt', async () => {
      const { clock, submit, send, notices, events } = startExecutor({ workerCount: 2 });
      const attempts: Array<[number, string]> = [];
      const [a] = submit({
        id: 'a',
        retries: { max: 1, delayMs: 50 },
        fn: async (ctx) => {
          attempts.push([ctx.attempt, events.filter((event) => event.type === 'task.started').at(-1)!.workerId as string]);
          if (ctx.attempt === 1) await ctx.sleep(1_000);
          return 'second';
        },
      });
      await clock.advanceBy(10);
      send({ type: 'worker.crash', workerId: 'worker-1' });
      expect(a!.settles).toEqual([]);
      expect(a!.status).toBe('queued');
      const retrying = events.find((event) => event.type === 'task.retrying') as { code: string; delayMs: number; workerId: string };
      expect(retrying).toMatchObject({ code: 'E_WORKER_CRASHED', delayMs: 50, workerId: 'worker-1' });
      expect(notices.at(-1)).toEqual({ type: 'worker.crashed', workerId: 'worker-1', taskIds: ['a'] });
      await clock.runAll();
      expect(attempts).toEqual([
        [1, 'worker-1'],
        [2, 'worker-2'],
      ]);
      expect(a!.settles.map((settle) => [settle.status, settle.value, settle.at])).toEqual([['completed', 'second', 60]]);
    });

    it('lists every task of a crashed worker’s batch, and none for an idle worker', () => {
      const run = startExecutor({ workerCount: 2, maxBatch: 3, fakeWorkers: true });
      warmUp(run, 2);
      run.notices.length = 0;
      run.send({ type: 'worker.crash', workerId: 'worker-2' });
      expect(run.notices[0]).toEqual({ type: 'worker.crashed', workerId: 'worker-2', taskIds: [] });
      const reporters = run.submit(...['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, retries: { max: 1 } })));
      // The only live worker takes one batch: a share of 6 over 2 workers (the one down included).
      expect(run.dispatchLog).toEqual([{ workerId: 'worker-1', taskIds: ['a', 'b', 'c'] }]);
      run.notices.length = 0;
      run.send({ type: 'worker.crash', workerId: 'worker-1' });
      expect(run.notices).toEqual([{ type: 'worker.crashed', workerId: 'worker-1', taskIds: ['a', 'b', 'c'] }]);
      // No delay: a, b and c are back in the queue at once, but every worker is down.
      expect(reporters.map((reporter) => reporter.status)).toEqual(Array.from({ length: 6 }, () => 'queued'));
      expect(run.counts()).toMatchObject({ queued: 6, dispatched: 0, failed: 0 });
      expect(run.events.filter((event) => event.type === 'task.retrying').map((event) => event.taskId)).toEqual(['a', 'b', 'c']);
    });

    it('ignores a crash of a worker it does not have, and a crash of a worker already down', () => {
      const { send, notices } = startExecutor({ workerCount: 1, fakeWorkers: true });
      notices.length = 0;
      send({ type: 'worker.crash', workerId: 'worker-9' });
      expect(notices).toEqual([]);
      send({ type: 'worker.crash', workerId: 'worker-1' });
      send({ type: 'worker.crash', workerId: 'worker-1' });
      expect(notices.filter((notice) => notice.type === 'worker.crashed')).toEqual([{ type: 'worker.crashed', workerId: 'worker-1', taskIds: [] }]);
    });

    it('ignores a late report from a crashed worker', () => {
      const { submit, send, fakeHistory, counts } = startExecutor({ workerCount: 1, fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      const crashed = fakeHistory[0]!;
      send({ type: 'worker.crash', workerId: 'worker-1' });
      crashed.report([outcome('completed', 'a')]);
      expect(a!.settles.map((settle) => settle.status)).toEqual(['failed']);
      expect(counts()).toMatchObject({ completed: 0, failed: 1 });
    });

    it('restarts a crashed worker under the same id, carrying its statistics, and dispatches to it', async () => {
      const { clock, submit, send, executor, notices, slot, workerIds } = startExecutor({ workerCount: 1 });
      submit({ id: 'first', fn: (ctx) => ctx.sleep(10) });
      await clock.runAll();
      const [stuck, queued] = submit({ id: 'stuck', fn: (ctx) => ctx.sleep(1_000) }, { id: 'queued', fn: (ctx) => ctx.sleep(5).then(() => 'Q') });
      await clock.advanceBy(20);
      const before = slot('worker-1')!.ref;
      const statsBefore = before.getSnapshot().context.stats;
      expect(statsBefore).toMatchObject({ tasksCompleted: 1, attempts: 1, busyMs: 10 });
      send({ type: 'worker.crash', workerId: 'worker-1' });
      expect(stuck!.settles.map((settle) => settle.error!.code)).toEqual(['E_WORKER_CRASHED']);
      expect(queued!.status).toBe('queued');
      notices.length = 0;
      send({ type: 'worker.restart', workerId: 'worker-1' });
      const after = slot('worker-1')!.ref;
      expect(after).not.toBe(before);
      expect(after.id).toBe('worker-1');
      expect(executor.getSnapshot().children['worker-1']).toBe(after);
      expect(workerIds()).toEqual(['worker-1']);
      expect(slot('worker-1')).toMatchObject({ down: false, idle: false });
      expect(queued!.status).toBe('running');
      await clock.runAll();
      expect(queued!.settles.map((settle) => [settle.status, settle.value])).toEqual([['completed', 'Q']]);
      expect(after.getSnapshot().context.stats).toEqual({ ...statsBefore, tasksCompleted: 2, attempts: 2, busyMs: 15, lastTaskMs: 5 });
      expect(notices.at(-1)).toEqual({ type: 'executor.quiescent' });
    });

    it('hands the restarted worker the statistics of the crashed one', () => {
      const { send, fakeHistory } = startExecutor({ workerCount: 2, fakeWorkers: true });
      send({ type: 'worker.crash', workerId: 'worker-2' });
      send({ type: 'worker.restart', workerId: 'worker-2' });
      expect(fakeHistory.map((fake) => [fake.input.workerId, fake.input.initialStats])).toEqual([
        ['worker-1', undefined],
        ['worker-2', undefined],
        ['worker-2', FAKE_STATS],
      ]);
    });

    it('ignores a restart of a worker that is not down', () => {
      const { send, fakeHistory, workerIds, slot } = startExecutor({ workerCount: 1, fakeWorkers: true });
      const ref = slot('worker-1')!.ref;
      send({ type: 'worker.restart', workerId: 'worker-1' });
      send({ type: 'worker.restart', workerId: 'worker-9' });
      expect(fakeHistory).toHaveLength(1);
      expect(slot('worker-1')!.ref).toBe(ref);
      expect(workerIds()).toEqual(['worker-1']);
    });

    it('tells the parent it is quiescent once a restart leaves nothing to do', () => {
      const { send, notices } = startExecutor({ workerCount: 1, fakeWorkers: true });
      send({ type: 'worker.crash', workerId: 'worker-1' });
      notices.length = 0;
      send({ type: 'worker.restart', workerId: 'worker-1' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
    });
  });

  describe('compensation workers', () => {
    it('adds worker-extra-N, which takes a ready task at once', () => {
      const { submit, send, fake, workerIds, notices } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      const [, b] = submit({ id: 'a' }, { id: 'b' });
      expect(b!.status).toBe('queued');
      send({ type: 'worker.add-extra' });
      expect(workerIds()).toEqual(['worker-1', 'worker-extra-1']);
      expect(fake('worker-extra-1').dispatches).toEqual([['b']]);
      expect(b!.status).toBe('running');
      expect(notices.filter((notice) => notice.type === 'worker.retired')).toEqual([]);
    });

    it('keeps an extra worker while tasks are ready, and retires it once it is idle with nothing ready', () => {
      const { submit, send, fake, workerIds, notices, executor, slot } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' });
      send({ type: 'worker.add-extra' });
      const extra = fake('worker-extra-1');
      const extraRef = slot('worker-extra-1')!.ref;
      expect(extra.dispatches).toEqual([['b']]);
      completeLastDispatch(extra);
      // c was ready: the extra takes it instead of leaving.
      expect(extra.dispatches).toEqual([['b'], ['c']]);
      expect(workerIds()).toContain('worker-extra-1');
      completeLastDispatch(fake('worker-1'));
      expect(fake('worker-1').dispatches).toEqual([['a'], ['d']]);
      completeLastDispatch(extra);
      expect(notices.filter((notice) => notice.type === 'worker.retired')).toEqual([{ type: 'worker.retired', workerId: 'worker-extra-1' }]);
      expect(workerIds()).toEqual(['worker-1']);
      expect(slot('worker-extra-1')).toBeUndefined();
      expect(extraRef.getSnapshot().status).toBe('stopped');
      expect(executor.getSnapshot().children['worker-extra-1']).toBeUndefined();
      completeLastDispatch(fake('worker-1'));
      expect(fake('worker-1').dispatches.flat()).toEqual(['a', 'd']);
      expect(notices.at(-1)).toEqual({ type: 'executor.quiescent' });
    });

    it('numbers extra workers on, never reusing a retired one’s name', () => {
      const { submit, send, fake, workerIds, notices } = startExecutor({ workerCount: 1, maxBatch: 1, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' });
      send({ type: 'worker.add-extra' });
      completeLastDispatch(fake('worker-extra-1'));
      expect(workerIds()).toEqual(['worker-1']);
      submit({ id: 'c' });
      send({ type: 'worker.add-extra' });
      send({ type: 'worker.add-extra' });
      expect(workerIds()).toEqual(['worker-1', 'worker-extra-2', 'worker-extra-3']);
      expect(fake('worker-extra-2').dispatches).toEqual([['c']]);
      completeLastDispatch(fake('worker-extra-2'));
      expect(notices.filter((notice) => notice.type === 'worker.retired').map((notice) => (notice as { workerId: string }).workerId)).toEqual([
        'worker-extra-1',
        'worker-extra-2',
        'worker-extra-3',
      ]);
    });
  });

  describe('task.victim', () => {
    it('forwards the victim to the worker the task is on, and nowhere else', () => {
      const { submit, send, fake } = startExecutor({ workerCount: 2, maxBatch: 1, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' }, { id: 'queued' });
      const victim = { type: 'task.victim' as const, taskId: 'b', error: new MezanError('E_DEADLOCK', 'victim') };
      send(victim);
      const victims = (workerId: string) => fake(workerId).received.filter((event) => event.type === 'task.victim');
      expect(victims('worker-2')).toEqual([victim]);
      expect(victims('worker-1')).toEqual([]);
      send({ ...victim, taskId: 'queued' });
      send({ ...victim, taskId: 'nobody' });
      expect([...victims('worker-1'), ...victims('worker-2')]).toHaveLength(1);
    });
  });
});
