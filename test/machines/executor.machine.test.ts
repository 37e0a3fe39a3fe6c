import { createActor, fromCallback, type EventObject } from 'xstate';
import { executorMachine, type ExecutorEvent, type ExecutorInput } from '../../machines/executor.machine';
import type { WorkerEvent, WorkerInput, workerMachine } from '../../machines/worker.machine';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import { NO_SERVICES } from '../../src/internal/task-services';
import { resolveRetryPolicy } from '../../src/internal/retry-policy';
import type { RunOrder, RunOutcome, TaskReporter, TaskSubmission } from '../../src/internal/task-protocol';
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
  readonly received: WorkerEvent[];
  readonly dispatches: string[][];
  report(outcomes: RunOutcome[], idle?: boolean): void;
}

/**
 * An executor whose parent records what it is told, with its emitted events collected. With
 * `fakeWorkers`, its workers are replaced by fakes the test drives by hand.
 */
function startExecutor(options: { workerCount?: number; maxBatch?: number; fakeWorkers?: boolean } = {}) {
  const clock = new VirtualClock();
  const events: EngineEvent[] = [];
  const sink: EventSink = { active: true, publish: (event) => events.push(event) };
  const notices: EventObject[] = [];
  const parent = createActor(
    fromCallback<EventObject>(({ receive }) => receive((event) => void notices.push(event))),
    { clock },
  );
  parent.start();

  const fakes = new Map<string, FakeWorker>();
  /** Every dispatch to any fake worker, in order. */
  const dispatchLog: Array<{ workerId: string; taskIds: string[] }> = [];
  const fakeWorkerLogic = fromCallback<WorkerEvent, WorkerInput>(({ input, receive, sendBack }) => {
    const fake: FakeWorker = {
      received: [],
      dispatches: [],
      report: (outcomes, idle = true) => sendBack({ type: 'worker.report', workerId: input.workerId, outcomes, idle }),
    };
    fakes.set(input.workerId, fake);
    receive((event) => {
      fake.received.push(event);
      if (event.type !== 'task.dispatch') return;
      const taskIds = event.orders.map((order) => order.taskId);
      fake.dispatches.push(taskIds);
      dispatchLog.push({ workerId: input.workerId, taskIds });
    });
  });
  // A stand-in for the worker machine: the executor only sends it events and reads its reports.
  const machine = options.fakeWorkers ? executorMachine.provide({ actors: { worker: fakeWorkerLogic as unknown as typeof workerMachine } }) : executorMachine;

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

    /** Runs one instant task on every worker, so the executor has seen that tasks here are instant. */
    function warmUp(run: ReturnType<typeof startExecutor>, workerCount: number): void {
      run.submit(...Array.from({ length: workerCount }, (_, index) => ({ id: `warm-${index}` })));
      for (let index = 1; index <= workerCount; index++) completeLastDispatch(run.fake(`worker-${index}`));
      for (const fake of run.fakes.values()) fake.dispatches.length = 0;
      run.dispatchLog.length = 0;
    }

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
      expect(dispatch).toEqual({ type: 'task.dispatch', orders: [{ taskId: 'a', name: 'a', attempt: 1, fn, timeoutMs: 300 }] });
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
      // b waits its turn behind the function that is still running after its timeout.
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
});
