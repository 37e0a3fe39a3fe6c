import { createActor, sendParent, setup } from 'xstate';
import {
  createExecutorLogic,
  executorLogic,
  MAIN_WORKER_ID,
  type ExecutorEvent,
  type ExecutorInput,
  type ExecutorNotice,
  type ExecutorSnapshot,
} from '../../actors/executor.actor';
import type { WorkerEvent, WorkerInput, WorkerStats } from '../../actors/worker.actor';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import { NO_SERVICES } from '../../src/internal/task-services';
import type { RunOrder, RunOutcome, WorkerReportEvent } from '../../src/internal/task-protocol';
import { createQuietLogger } from '../../src/logger';
import { seededRandom } from '../../src/random';
import type { TaskContext, TaskFunction } from '../../src/task-options';
import { VirtualClock } from '../../src/virtual-clock';
import { flush } from '../fixtures/flush';
import type { RecordingReporter } from '../fixtures/recording-reporter';
import { taskSubmission, type TaskSpec } from '../fixtures/task-submission';

/**
 * One fake worker: what the executor sent it, and a way to report back as a real worker would. It
 * keeps the protocol's books: its slots (from its input, then `worker.resize`) and the orders it
 * holds; a dispatch of more orders than it has free slots, or of none, is a protocol error.
 */
interface FakeWorker {
  readonly input: WorkerInput;
  readonly received: WorkerEvent[];
  readonly dispatches: string[][];
  /** Its slots, as the executor last set them. */
  slots: number;
  /** Orders handed over and not freed yet. */
  held: number;
  /** Breaches of the protocol, by the executor or by the test. */
  readonly protocolErrors: string[];
  /** Reports `outcomes`, giving back `freed` slots (by default one per outcome: their functions returned). */
  report(outcomes: RunOutcome[], freed?: number): void;
}

/** Test → fake worker: report these outcomes to the executor. */
interface FakeReportEvent {
  readonly type: 'fake.report';
  readonly outcomes: RunOutcome[];
  readonly freed: number;
}

/** The statistics a fake worker starts with when not given any: distinct, so a carried-on copy shows. */
const FAKE_STATS: WorkerStats = { slots: 7, running: 8, tasksCompleted: 1, tasksFailed: 2, tasksCancelled: 3, attempts: 4, busyMs: 5, lastTaskMs: 6 };

/** Every fake worker of the running test: none may have seen the protocol broken. */
let fakesOfTest: FakeWorker[] = [];

beforeEach(() => {
  fakesOfTest = [];
});

afterEach(() => {
  for (const fake of fakesOfTest) expect(fake.protocolErrors).toEqual([]);
});

/**
 * An executor under the smallest parent machine, which records every notice the executor sends it,
 * with the executor's emitted events collected. With `fakeWorkers`, its worker is replaced by a
 * fake the test drives by hand (a fake crashes, as a real worker does, on `worker.crash`).
 */
function startExecutor(options: { concurrency?: number; fakeWorkers?: boolean } = {}) {
  const clock = new VirtualClock();
  const events: EngineEvent[] = [];
  const sink: EventSink = { active: true, publish: (event) => events.push(event) };
  const notices: ExecutorNotice[] = [];
  /** The executor's snapshot as each notice reached the parent. */
  const snapshotsAtNotice: ExecutorSnapshot[] = [];
  const parentMachine = setup({
    types: { events: {} as ExecutorNotice },
    actions: {
      record: ({ event }) => {
        notices.push(event);
        snapshotsAtNotice.push(executor.getSnapshot());
      },
    },
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
        const { fake } = context;
        fake.received.push(event);
        if (event.type === 'worker.resize') fake.slots = event.slots;
        if (event.type !== 'task.dispatch') return;
        const taskIds = event.orders.map((order) => order.taskId);
        const free = fake.slots - fake.held;
        if (taskIds.length === 0) fake.protocolErrors.push('an empty dispatch');
        if (taskIds.length > free) fake.protocolErrors.push(`${taskIds.length} orders for ${free} free slots: ${taskIds.join(', ')}`);
        fake.held += taskIds.length;
        fake.dispatches.push(taskIds);
        dispatchLog.push({ workerId: context.workerId, taskIds });
      },
      report: sendParent(({ context, event }): WorkerReportEvent => {
        const { outcomes, freed } = event as FakeReportEvent;
        return { type: 'worker.report', workerId: context.workerId, outcomes, freed };
      }),
    },
  }).createMachine({
    context: ({ input, self }) => {
      const fake: FakeWorker = {
        input,
        received: [],
        dispatches: [],
        slots: input.slots,
        held: 0,
        protocolErrors: [],
        report: (outcomes, freed = outcomes.length) => {
          if (freed > fake.held) fake.protocolErrors.push(`the test frees ${freed} slots of ${fake.held} held`);
          fake.held -= freed;
          self.send({ type: 'fake.report', outcomes, freed });
        },
      };
      fakes.set(input.workerId, fake);
      fakeHistory.push(fake);
      fakesOfTest.push(fake);
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
  // A stand-in for the worker: the executor only sends it events, reads its reports and its statistics.
  const logic = options.fakeWorkers ? createExecutorLogic(fakeWorkerMachine) : executorLogic;

  const input: ExecutorInput = {
    concurrency: options.concurrency ?? 1,
    clock,
    random: seededRandom(1),
    logger: createQuietLogger(),
    sink,
    services: NO_SERVICES,
  };
  const executor = createActor(logic, { clock, input, parent });
  const emitted: Array<{ type: string; at: number }> = [];
  executor.on('idle', () => void emitted.push({ type: 'idle', at: clock.now() }));
  executor.on('quiescent', () => void emitted.push({ type: 'quiescent', at: clock.now() }));
  executor.start();

  let seq = 0;
  const submission = (id: string, spec: TaskSpec) => taskSubmission(id, spec, clock);

  return {
    clock,
    executor,
    events,
    notices,
    snapshotsAtNotice,
    emitted,
    fakes,
    fakeHistory,
    dispatchLog,
    fake: (workerId: string = MAIN_WORKER_ID) => fakes.get(workerId)!,
    send: (event: ExecutorEvent) => executor.send(event),
    /** Submits tasks in one event, as the engine's coalescing does; returns their reporters. */
    submit(...specs: Array<TaskSpec & { id?: string }>): RecordingReporter[] {
      const made = specs.map((spec) => submission(spec.id ?? `t${seq++}`, spec));
      executor.send({ type: 'task.submit', submissions: made.map((each) => each.submission) });
      return made.map((each) => each.reporter);
    },
    /** Submits tasks with a `cancelled` map, which may name tasks admitted before. */
    submitCancelling(cancelled: ReadonlyMap<string, MezanError>, ...specs: Array<TaskSpec & { id: string }>): RecordingReporter[] {
      const made = specs.map((spec) => submission(spec.id, spec));
      executor.send({ type: 'task.submit', submissions: made.map((each) => each.submission), cancelled });
      return made.map((each) => each.reporter);
    },
    cancel: (taskId: string) =>
      executor.send({ type: 'task.cancel', taskId, reason: new MezanError('E_CANCELLED', 'cancelled', { details: { taskId } }) }),
    state: () => executor.getSnapshot().value,
    counts: () => executor.getSnapshot().context.counts,
    workerIds: () => executor.getSnapshot().context.workers.map((slots) => slots.id),
    slot: (workerId: string = MAIN_WORKER_ID) => executor.getSnapshot().context.workers.find((slots) => slots.id === workerId),
    extraSlots: () => executor.getSnapshot().context.extraSlots,
  };
}

function outcome(kind: RunOutcome['kind'], taskId: string, fields: Partial<RunOutcome> = {}): RunOutcome {
  return { kind, taskId, attempt: 1, value: taskId, error: undefined, started: true, startedAt: 0, endedAt: 0, ...fields };
}

/** Completes, instantly and in one report, every order of the fake worker's last dispatch. */
function completeLastDispatch(fake: FakeWorker): void {
  const last = fake.dispatches[fake.dispatches.length - 1]!;
  fake.report(last.map((taskId) => outcome('completed', taskId)));
}

/** Completes, instantly and in one report, the given orders. */
function complete(fake: FakeWorker, ...taskIds: string[]): void {
  fake.report(taskIds.map((taskId) => outcome('completed', taskId)));
}

/** When and where each task started, from the `task.started` events. */
const startsOf = (events: EngineEvent[]) =>
  events.filter((event) => event.type === 'task.started').map((event) => [event.taskId, event.at, (event as { workerId: string }).workerId]);

describe('executor actor', () => {
  describe('dispatch', () => {
    it('starts idle, with one worker, main, every slot free, and tells whoever listens', () => {
      const { state, emitted, notices, counts, workerIds, slot, fake, fakeHistory } = startExecutor({ concurrency: 2, fakeWorkers: true });
      expect(MAIN_WORKER_ID).toBe('main');
      expect(state()).toBe('idle');
      expect(emitted).toEqual([
        { type: 'idle', at: 0 },
        { type: 'quiescent', at: 0 },
      ]);
      // Its parent has not probed it: it hears nothing of this quiescence.
      expect(notices).toEqual([]);
      expect(counts().submitted).toBe(0);
      expect(workerIds()).toEqual(['main']);
      expect(slot()).toMatchObject({ id: 'main', capacity: 2, free: 2, down: false });
      expect(fakeHistory).toHaveLength(1);
      expect(fake().input).toMatchObject({ workerId: 'main', slots: 2 });
      expect(fake().input.initialStats).toBeUndefined();
    });

    it('hands the worker exactly as many orders as it has free slots, in one dispatch, by priority then in submission order', () => {
      const { submit, fake, slot, state } = startExecutor({ concurrency: 3, fakeWorkers: true });
      const reporters = submit({ id: 'low', priority: -1 }, { id: 'a' }, { id: 'high', priority: 9 }, { id: 'b' }, { id: 'mid', priority: 1 });
      expect(state()).toBe('working');
      const worker = fake();
      expect(worker.dispatches).toEqual([['high', 'mid', 'a']]);
      expect(reporters.map((reporter) => reporter.status)).toEqual(['queued', 'running', 'running', 'queued', 'running']);
      expect(slot()).toMatchObject({ capacity: 3, free: 0 });
      complete(worker, 'mid');
      expect(worker.dispatches).toEqual([['high', 'mid', 'a'], ['b']]);
      complete(worker, 'high', 'a');
      // Two slots freed, one task ready: it takes what there is.
      expect(worker.dispatches).toEqual([['high', 'mid', 'a'], ['b'], ['low']]);
      expect(slot()).toMatchObject({ free: 1 });
      complete(worker, 'b', 'low');
      expect(slot()).toMatchObject({ free: 3 });
      expect(state()).toBe('idle');
    });

    it('dispatches by priority, then in submission order, one at a time with one slot', () => {
      const { submit, fake, state } = startExecutor({ concurrency: 1, fakeWorkers: true });
      submit({ id: 'low', priority: -1 }, { id: 'a' }, { id: 'high', priority: 9 }, { id: 'b' }, { id: 'mid', priority: 1 });
      expect(state()).toBe('working');
      const worker = fake();
      expect(worker.dispatches).toEqual([['high']]);
      for (let step = 0; step < 4; step++) completeLastDispatch(worker);
      expect(worker.dispatches).toEqual([['high'], ['mid'], ['a'], ['b'], ['low']]);
    });

    it('lets a later, more urgent submission overtake queued tasks', () => {
      const { submit, fake } = startExecutor({ concurrency: 1, fakeWorkers: true });
      submit({ id: 'first' }, { id: 'second' });
      submit({ id: 'urgent', priority: 1 });
      completeLastDispatch(fake());
      expect(fake().dispatches).toEqual([['first'], ['urgent']]);
    });

    it('hands out what is ready when fewer tasks are ready than slots are free, and the rest as they come', () => {
      const { submit, fake, slot } = startExecutor({ concurrency: 4, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' });
      expect(fake().dispatches).toEqual([['a', 'b']]);
      expect(slot()).toMatchObject({ free: 2 });
      submit({ id: 'c' });
      expect(fake().dispatches).toEqual([['a', 'b'], ['c']]);
      const [, e] = submit({ id: 'd' }, { id: 'e' });
      expect(fake().dispatches).toEqual([['a', 'b'], ['c'], ['d']]);
      expect(e!.status).toBe('queued');
      expect(slot()).toMatchObject({ free: 0 });
    });

    it('never hands the worker more orders than its free slots, and always the best ready ones', () => {
      const run = startExecutor({ concurrency: 3, fakeWorkers: true });
      const random = seededRandom(7);
      const ids = Array.from({ length: 40 }, (_, index) => `t${index}`);
      run.submit(...ids.map((id) => ({ id })));
      const worker = run.fake();
      const held = [...worker.dispatches[0]!];
      expect(held).toEqual(['t0', 't1', 't2']);
      let next = 3;
      while (held.length > 0) {
        // The worker ends some of what it holds, in any order; the executor refills exactly those slots.
        const count = 1 + Math.floor(random() * held.length);
        const ended = held.splice(Math.floor(random() * (held.length - count + 1)), count);
        const before = worker.dispatches.length;
        complete(worker, ...ended);
        const expected = ids.slice(next, next + count);
        next += expected.length;
        expect(worker.dispatches.slice(before)).toEqual(expected.length > 0 ? [expected] : []);
        held.push(...expected);
        expect(run.slot()!.free).toBe(3 - held.length);
      }
      expect(worker.dispatches.flat()).toEqual(ids);
      expect(run.counts()).toMatchObject({ completed: 40, queued: 0, dispatched: 0 });
    });

    it('dispatches nothing for a report that frees no slot, and more once a slot is freed', () => {
      const { submit, fake, slot } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [a, b] = submit({ id: 'a' }, { id: 'b' });
      const worker = fake();
      // a timed out, but its function has not returned: its slot is still taken.
      worker.report([outcome('timeout', 'a', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      expect(a!.status).toBe('timeout');
      expect(worker.dispatches).toEqual([['a']]);
      expect(slot()).toMatchObject({ free: 0 });
      expect(b!.status).toBe('queued');
      worker.report([], 1);
      expect(worker.dispatches).toEqual([['a'], ['b']]);
    });

    it('hands the worker run orders with the attempt, function and timeout', () => {
      const { submit, fake } = startExecutor({ fakeWorkers: true });
      const fn: TaskFunction = () => 1;
      submit({ id: 'a', fn, timeoutMs: 300 });
      const dispatch = fake().received[0] as { type: 'task.dispatch'; orders: RunOrder[] };
      expect(dispatch.type).toBe('task.dispatch');
      expect(dispatch.orders).toEqual([
        expect.objectContaining({ taskId: 'a', name: 'a', attempt: 1, fn, timeoutMs: 300, resources: undefined, meta: undefined }),
      ]);
    });

    it('keeps priority order within and across dispatches', () => {
      const run = startExecutor({ concurrency: 3, fakeWorkers: true });
      run.submit({ id: 'first' }, { id: 'second' }, { id: 'third' });
      run.submit(...[0, 2, 1, 2, 0, 1, 2].map((priority, index) => ({ id: `p${priority}-${index}`, priority })));
      const worker = run.fake();
      expect(worker.dispatches).toEqual([['first', 'second', 'third']]);
      completeLastDispatch(worker);
      expect(worker.dispatches[1]).toEqual(['p2-1', 'p2-3', 'p2-6']);
      complete(worker, 'p2-3');
      expect(worker.dispatches[2]).toEqual(['p1-2']);
      complete(worker, 'p2-1', 'p2-6', 'p1-2');
      expect(worker.dispatches[3]).toEqual(['p1-5', 'p0-0', 'p0-4']);
    });
  });

  describe('settlement', () => {
    it('settles each task once from its worker’s report and drops it', () => {
      const { submit, fake, counts, state } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [a, b] = submit({ id: 'a' }, { id: 'b' });
      const thrown = new Error('b broke');
      fake().report([outcome('completed', 'a', { value: 'A' })]);
      fake().report([outcome('failed', 'b', { error: thrown })]);
      expect(a!.settles).toEqual([{ status: 'completed', value: 'A', error: undefined, at: 0 }]);
      expect(b!.settles).toHaveLength(1);
      expect(b!.settles[0]!.error!.code).toBe('E_TASK_FAILED');
      expect(b!.settles[0]!.error!.cause).toBe(thrown);
      expect(counts()).toMatchObject({ submitted: 2, completed: 1, failed: 1, queued: 0, dispatched: 0 });
      expect(state()).toBe('idle');
    });

    it('settles every outcome of one report', () => {
      const { submit, fake, counts, state } = startExecutor({ concurrency: 3, fakeWorkers: true });
      const [a, b, c] = submit({ id: 'a' }, { id: 'b' }, { id: 'c' });
      fake().report([
        outcome('completed', 'b', { value: 'B' }),
        outcome('failed', 'c', { error: new Error('c') }),
        outcome('completed', 'a', { value: 'A' }),
      ]);
      expect([a, b, c].map((reporter) => reporter!.settles.map((settle) => [settle.status, settle.value]))).toEqual([
        [['completed', 'A']],
        [['completed', 'B']],
        [['failed', undefined]],
      ]);
      expect(counts()).toMatchObject({ completed: 2, failed: 1, dispatched: 0 });
      expect(state()).toBe('idle');
    });

    it('runs dependents only after their dependencies complete', () => {
      const { submit, fake } = startExecutor({ concurrency: 2, fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      const [b] = submit({ id: 'b', dependsOn: [a!] });
      expect(b!.status).toBe('waiting');
      expect(fake().dispatches).toEqual([['a']]);
      completeLastDispatch(fake());
      expect(fake().dispatches).toEqual([['a'], ['b']]);
    });

    it('fails the dependents of a failed task without running them', () => {
      const { submit, fake, state } = startExecutor({ concurrency: 2, fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      const [b, c] = submit({ id: 'b', dependsOn: [a!] }, { id: 'c' });
      expect(fake().dispatches).toEqual([['a'], ['c']]);
      fake().report([outcome('failed', 'a', { error: new Error('x') })]);
      expect(b!.settles[0]!.error!.code).toBe('E_DEPENDENCY_FAILED');
      expect(c!.settles).toEqual([]);
      complete(fake(), 'c');
      expect(state()).toBe('idle');
      expect(fake().dispatches.flat()).toEqual(['a', 'c']);
    });

    it('retries a failed attempt after its delay on the injected clock', async () => {
      const { clock, submit, fake, counts } = startExecutor({ fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 1, delayMs: 100 } });
      fake().report([outcome('failed', 'a', { error: new Error('x') })]);
      expect(counts()).toMatchObject({ delayed: 1, queued: 0 });
      expect(a!.status).toBe('queued');
      await clock.advanceBy(99);
      expect(fake().dispatches).toEqual([['a']]);
      await clock.advanceBy(1);
      const redispatch = fake().received[1] as { type: 'task.dispatch'; orders: RunOrder[] };
      expect(redispatch.orders.map((order) => [order.taskId, order.attempt])).toEqual([['a', 2]]);
      fake().report([outcome('completed', 'a', { attempt: 2, value: 'second time' })]);
      expect(a!.settles).toEqual([{ status: 'completed', value: 'second time', error: undefined, at: 100 }]);
    });
  });

  describe('cancel', () => {
    it('settles a queued task at once and never dispatches it', () => {
      const { submit, fake, cancel, counts } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [, b] = submit({ id: 'a' }, { id: 'b' }, { id: 'c' });
      cancel('b');
      expect(b!.settles.map((settle) => [settle.status, settle.error!.code])).toEqual([['cancelled', 'E_CANCELLED']]);
      completeLastDispatch(fake());
      completeLastDispatch(fake());
      expect(fake().dispatches).toEqual([['a'], ['c']]);
      expect(counts()).toMatchObject({ completed: 2, cancelled: 1 });
    });

    it('asks the worker to abort a dispatched task, settles it from the worker’s report, and reuses its slot only once freed', () => {
      const { submit, fake, cancel, slot } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [a, b] = submit({ id: 'a' }, { id: 'b' });
      cancel('a');
      const worker = fake();
      expect(worker.received[1]).toMatchObject({ type: 'task.abort', taskId: 'a' });
      expect((worker.received[1] as { reason: MezanError }).reason.code).toBe('E_CANCELLED');
      expect(a!.settles).toEqual([]);
      worker.report([outcome('cancelled', 'a', { error: (worker.received[1] as { reason: MezanError }).reason })], 0);
      expect(a!.settles.map((settle) => settle.status)).toEqual(['cancelled']);
      // Its function has not returned: b waits for the slot.
      expect(b!.status).toBe('queued');
      expect(slot()).toMatchObject({ free: 0 });
      worker.report([], 1);
      expect(worker.dispatches).toEqual([['a'], ['b']]);
    });

    it('settles a task cancelled on the worker as the worker reports it, even when it completed meanwhile', () => {
      const { submit, fake, cancel, counts } = startExecutor({ fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      cancel('a');
      // The function returned before the abort reached it: the worker's word stands.
      fake().report([outcome('completed', 'a', { value: 'A' })]);
      expect(a!.settles.map((settle) => [settle.status, settle.value])).toEqual([['completed', 'A']]);
      expect(counts()).toMatchObject({ completed: 1, cancelled: 0, dispatched: 0 });
    });

    it('clears the retry timer of a task cancelled between attempts', async () => {
      const { clock, submit, fake, cancel, state } = startExecutor({ fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 3, delayMs: 1_000 } });
      fake().report([outcome('failed', 'a', { error: new Error('x') })]);
      expect(clock.pendingTimers).toBe(1);
      cancel('a');
      expect(clock.pendingTimers).toBe(0);
      expect(a!.settles.map((settle) => settle.status)).toEqual(['cancelled']);
      expect(state()).toBe('idle');
      await clock.runAll();
      expect(fake().dispatches).toEqual([['a']]);
    });

    it('ignores a cancel for a task it does not know', () => {
      const { cancel, state, emitted } = startExecutor({ fakeWorkers: true });
      cancel('nobody');
      expect(state()).toBe('idle');
      expect(emitted).toHaveLength(2);
    });
  });

  describe('task.submit with a cancelled map', () => {
    const reasonFor = (taskId: string) => new MezanError('E_CANCELLED', `${taskId} cancelled`, { details: { taskId } });
    const cancelledWith = (reason: MezanError | undefined) => [{ status: 'cancelled', value: undefined, error: reason, at: 0 }];

    it('cancels the tasks admitted before that it names, as task.cancel does, and the new ones it names at admission', async () => {
      const { clock, submit, submitCancelling, fake, counts, state, slot } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [delayed, onWorker, queued, spared] = submit(
        { id: 'delayed', priority: 1, retries: { max: 1, delayMs: 100 } },
        { id: 'on-worker' },
        { id: 'queued' },
        { id: 'spared' },
      );
      fake().report([outcome('failed', 'delayed', { error: new Error('x') })]);
      expect(clock.pendingTimers).toBe(1);
      expect(fake().dispatches).toEqual([['delayed'], ['on-worker']]);
      const reasons = new Map(['delayed', 'on-worker', 'queued', 'new', 'nobody'].map((taskId) => [taskId, reasonFor(taskId)]));
      const [added, kept] = submitCancelling(reasons, { id: 'new' }, { id: 'kept' });
      expect(delayed!.settles).toEqual(cancelledWith(reasons.get('delayed')));
      expect(clock.pendingTimers).toBe(0);
      expect(queued!.settles).toEqual(cancelledWith(reasons.get('queued')));
      expect(added!.settles).toEqual(cancelledWith(reasons.get('new')));
      // On the worker: the executor asks for an abort with the reason, and waits for the report.
      expect(fake().received.at(-1)).toEqual({ type: 'task.abort', taskId: 'on-worker', reason: reasons.get('on-worker') });
      expect(onWorker!.settles).toEqual([]);
      expect([spared!.status, kept!.status]).toEqual(['queued', 'queued']);
      expect(counts()).toMatchObject({ submitted: 6, cancelled: 3, dispatched: 1, queued: 2 });
      expect(slot()).toMatchObject({ free: 0 });
      expect(state()).toBe('working');
      fake().report([outcome('cancelled', 'on-worker', { error: reasons.get('on-worker') })]);
      expect(onWorker!.settles.map((settle) => [settle.status, settle.error])).toEqual([['cancelled', reasons.get('on-worker')]]);
      completeLastDispatch(fake());
      completeLastDispatch(fake());
      expect(fake().dispatches.flat()).toEqual(['delayed', 'on-worker', 'spared', 'kept']);
      expect(state()).toBe('idle');
      await clock.runAll();
      expect(fake().dispatches).toHaveLength(4);
    });

    it('goes idle from a submission that leaves no task unfinished, and says so', () => {
      const { clock, submit, submitCancelling, fake, state, emitted, notices, events } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [first] = submit({ id: 'first', retries: { max: 1, delayMs: 100 } });
      fake().report([outcome('failed', 'first', { error: new Error('x') })]);
      const [waiting] = submit({ id: 'waiting', dependsOn: [first!] });
      expect([first!.status, waiting!.status]).toEqual(['queued', 'waiting']);
      emitted.length = 0;
      notices.length = 0;
      const reasons = new Map(['waiting', 'first', 'late'].map((taskId) => [taskId, reasonFor(taskId)]));
      const [late] = submitCancelling(reasons, { id: 'late' });
      expect([first, waiting, late].map((reporter) => reporter!.settles.map((settle) => [settle.status, settle.error]))).toEqual(
        ['first', 'waiting', 'late'].map((taskId) => [['cancelled', reasons.get(taskId)]]),
      );
      expect(clock.pendingTimers).toBe(0);
      expect(state()).toBe('idle');
      expect(emitted.map((each) => each.type)).toEqual(['idle', 'quiescent']);
      // Said to whoever listens; its parent, which has not probed, hears nothing.
      expect(notices).toEqual([]);
      expect(events.filter((event) => event.type === 'engine.idle')).toHaveLength(2);
      expect(fake().dispatches).toEqual([['first']]);
    });
  });

  describe('snapshots', () => {
    it('publishes a new snapshot for each change and never alters one published before', () => {
      const { executor, submit, fake } = startExecutor({ concurrency: 2, fakeWorkers: true });
      const before = executor.getSnapshot();
      submit({ id: 'a' }, { id: 'b' }, { id: 'c' });
      const working = executor.getSnapshot();
      expect(working).not.toBe(before);
      expect(before.value).toBe('idle');
      expect(before.context).toMatchObject({ settled: 0, unfinished: 0, peakQueued: 0, extraSlots: 0 });
      expect(before.context.counts).toMatchObject({ submitted: 0, queued: 0, dispatched: 0 });
      expect(before.context.workers).toEqual([expect.objectContaining({ id: 'main', capacity: 2, free: 2, down: false })]);
      expect(working.value).toBe('working');
      expect(working.context).toMatchObject({ settled: 0, unfinished: 3, peakQueued: 3 });
      expect(working.context.counts).toMatchObject({ submitted: 3, queued: 1, dispatched: 2 });
      expect(working.context.workers).toEqual([expect.objectContaining({ id: 'main', capacity: 2, free: 0, down: false })]);
      expect(Object.keys(working.children).sort()).toEqual(['main', 'timers']);
      completeLastDispatch(fake());
      completeLastDispatch(fake());
      expect(executor.getSnapshot().context).toMatchObject({ settled: 3, unfinished: 0 });
      expect(working.value).toBe('working');
      expect(working.context).toMatchObject({ settled: 0, unfinished: 3, peakQueued: 3 });
      expect(working.context.counts).toMatchObject({ submitted: 3, completed: 0, queued: 1, dispatched: 2 });
      expect(working.context.workers[0]!.free).toBe(0);
    });

    it('sends its notices and emitted events once the snapshot of their transition is published', () => {
      const { executor, submit, send, fake, notices, snapshotsAtNotice } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const atIdle: Array<[string, number]> = [];
      executor.on('idle', () => void atIdle.push([executor.getSnapshot().value, executor.getSnapshot().context.counts.completed]));
      // Probed, as in a shutdown: the parent hears each quiescence from then on.
      send({ type: 'executor.probe' });
      notices.length = 0;
      snapshotsAtNotice.length = 0;
      submit({ id: 'a' });
      completeLastDispatch(fake());
      expect(atIdle).toEqual([['idle', 1]]);
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      expect(snapshotsAtNotice.map((snapshot) => [snapshot.value, snapshot.context.unfinished, snapshot.context.workers[0]!.free])).toEqual([
        ['idle', 0, 1],
      ]);
    });
  });

  describe('idle and quiescent', () => {
    it('emits idle when no task is left, and quiescent once every slot is free too', () => {
      const { submit, fake, emitted, notices, state, events } = startExecutor({ concurrency: 2, fakeWorkers: true });
      emitted.length = 0;
      notices.length = 0;
      submit({ id: 'a' }, { id: 'b' });
      fake().report([outcome('completed', 'a')]);
      expect(emitted).toEqual([]);
      // b's outcome is out, but its function has not returned (a timeout): idle, not quiescent.
      fake().report([outcome('timeout', 'b', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      expect(state()).toBe('idle');
      expect(emitted.map((each) => each.type)).toEqual(['idle']);
      expect(notices).toEqual([]);
      fake().report([], 1);
      expect(emitted.map((each) => each.type)).toEqual(['idle', 'quiescent']);
      // Emitted, but not sent: no probe has asked the executor to tell its parent.
      expect(notices).toEqual([]);
      expect(events.filter((event) => event.type === 'engine.idle')).toHaveLength(2);
    });

    it('emits idle once per return to idle, at the clock time it happened', async () => {
      const { clock, submit, emitted } = startExecutor({ concurrency: 1 });
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

  describe('with the real worker', () => {
    it('runs every task exactly once, never more at once than its concurrency, and the worker’s counts add up to the totals', async () => {
      const { clock, submit, executor, counts, state, emitted, events } = startExecutor({ concurrency: 3 });
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
      expect(mostAtOnce).toBe(3);
      const completed = reporters.filter((reporter) => reporter.status === 'completed').length;
      const failed = reporters.filter((reporter) => reporter.status === 'failed').length;
      expect(completed + failed).toBe(300);
      expect(counts()).toMatchObject({ submitted: 300, completed, failed, waiting: 0, queued: 0, delayed: 0, dispatched: 0 });
      const workers = executor.getSnapshot().context.workers;
      expect(workers.map((worker) => worker.id)).toEqual(['main']);
      expect(workers[0]!.ref.getSnapshot().context.stats).toMatchObject({
        slots: 3,
        running: 0,
        tasksCompleted: completed,
        tasksFailed: failed,
        tasksCancelled: 0,
        attempts: 300,
      });
      expect(workers[0]!.ref.getSnapshot().value).toBe('idle');
      expect(new Set(events.filter((event) => event.type === 'task.started').map((event) => (event as { workerId: string }).workerId))).toEqual(
        new Set(['main']),
      );
      expect(emitted[emitted.length - 1]).toEqual({ type: 'quiescent', at: clock.now() });
    });

    it('starts a queued task as soon as a slot frees', async () => {
      const { clock, submit, events } = startExecutor({ concurrency: 2 });
      const reporters = submit(
        { id: 'a', fn: (ctx) => ctx.sleep(30) },
        { id: 'b', fn: (ctx) => ctx.sleep(10) },
        { id: 'c', fn: (ctx) => ctx.sleep(10) },
        { id: 'd', fn: (ctx) => ctx.sleep(5) },
      );
      await clock.runAll();
      expect(startsOf(events)).toEqual([
        ['a', 0, 'main'],
        ['b', 0, 'main'],
        ['c', 10, 'main'],
        ['d', 20, 'main'],
      ]);
      expect(reporters.map((reporter) => reporter.settles.map((settle) => [settle.status, settle.at]))).toEqual([
        [['completed', 30]],
        [['completed', 10]],
        [['completed', 20]],
        [['completed', 25]],
      ]);
    });

    it('lets a slow function hold back nothing but its own slot', async () => {
      const { clock, submit, events, emitted } = startExecutor({ concurrency: 2 });
      const slow: TaskFunction = (ctx) => ctx.sleep(100);
      const reporters = submit({ id: 'slow', fn: slow }, ...['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => ({ id })));
      await clock.advanceBy(0);
      // Everything but the slow task is done at time 0, one after the other in the free slot.
      expect(reporters.slice(1).map((reporter) => [reporter.status, reporter.settles[0]?.at])).toEqual(
        Array.from({ length: 7 }, () => ['completed', 0]),
      );
      expect(startsOf(events).map(([taskId]) => taskId)).toEqual(['slow', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
      emitted.length = 0;
      await clock.runAll();
      expect(reporters[0]!.settles.map((settle) => [settle.status, settle.at])).toEqual([['completed', 100]]);
      expect(emitted).toEqual([
        { type: 'idle', at: 100 },
        { type: 'quiescent', at: 100 },
      ]);
    });

    it('times a task out and settles it at once; its function keeps its slot, and the executor is quiescent, only once it returns', async () => {
      const { clock, submit, emitted, executor, events } = startExecutor({ concurrency: 1 });
      emitted.length = 0;
      let finish!: () => void;
      const [a, b] = submit({ id: 'a', timeoutMs: 50, fn: () => new Promise<void>((resolve) => (finish = resolve)) }, { id: 'b', fn: () => 'b' });
      await clock.advanceBy(50);
      expect(a!.settles.map((settle) => [settle.status, settle.error!.code, settle.at])).toEqual([['timeout', 'E_TIMEOUT', 50]]);
      // The only slot is still taken by a's function: b waits.
      expect(b!.settles).toEqual([]);
      expect(b!.status).toBe('queued');
      const main = executor.getSnapshot().context.workers[0]!;
      expect(main.free).toBe(0);
      expect(main.ref.getSnapshot().value).toBe('busy');
      expect(main.ref.getSnapshot().context.stats).toMatchObject({ slots: 1, running: 1 });
      await clock.advanceBy(25);
      finish();
      await clock.runAll();
      expect(startsOf(events)).toEqual([
        ['a', 0, 'main'],
        ['b', 75, 'main'],
      ]);
      expect(b!.settles.map((settle) => [settle.status, settle.at])).toEqual([['completed', 75]]);
      expect(emitted).toEqual([
        { type: 'idle', at: 75 },
        { type: 'quiescent', at: 75 },
      ]);
    });

    it('cancels a running task through its worker: the signal aborts and the task settles at once', async () => {
      const { clock, submit, cancel } = startExecutor({ concurrency: 1 });
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
      await flush();
      expect(signal!.aborted).toBe(true);
      expect(a!.settles.map((settle) => [settle.status, settle.at])).toEqual([['cancelled', 10]]);
      await clock.runAll();
      expect(a!.settles).toHaveLength(1);
    });
  });

  describe('executor.cancel-pending', () => {
    it('settles every task not on a worker with the reason, dependents included, and leaves the running one alone', async () => {
      const { clock, submit, fake, send, counts, notices, state } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [retrying] = submit({ id: 'retrying', retries: { max: 2, delayMs: 500 } });
      fake().report([outcome('failed', 'retrying', { error: new Error('x') })]);
      // `retrying` is between attempts, its timer set.
      expect(clock.pendingTimers).toBe(1);
      const [onWorker, plain] = submit({ id: 'on-worker' }, { id: 'plain' });
      const [afterOnWorker, afterPlain] = submit({ id: 'after-on-worker', dependsOn: [onWorker!] }, { id: 'after-plain', dependsOn: [plain!] });
      expect([onWorker, plain, afterOnWorker, afterPlain].map((reporter) => reporter!.status)).toEqual(['running', 'queued', 'waiting', 'waiting']);
      notices.length = 0;
      const reason = new MezanError('E_SHUTDOWN', 'shutting down');
      send({ type: 'executor.cancel-pending', reason });
      // As the supervisor does when its shutdown drains: a probe after the cancel.
      send({ type: 'executor.probe' });
      for (const reporter of [retrying!, plain!, afterOnWorker!, afterPlain!]) {
        expect(reporter.settles).toEqual([{ status: 'cancelled', value: undefined, error: reason, at: 0 }]);
      }
      expect(onWorker!.settles).toEqual([]);
      expect(clock.pendingTimers).toBe(0);
      expect(counts()).toMatchObject({ cancelled: 4, failed: 0, queued: 0, waiting: 0, delayed: 0, dispatched: 1 });
      // A slot is still taken: not quiescent yet.
      expect(notices).toEqual([]);
      expect(state()).toBe('working');
      fake().report([outcome('completed', 'on-worker', { value: 'W' })]);
      expect(onWorker!.settles.map((settle) => settle.status)).toEqual(['completed']);
      expect(afterOnWorker!.settles).toHaveLength(1);
      expect(state()).toBe('idle');
      expect(notices.at(-1)).toEqual({ type: 'executor.quiescent' });
      await clock.runAll();
      expect(fake().dispatches.flat()).toEqual(['retrying', 'on-worker']);
    });

    it('rejects them instead with status rejected, dependents with the same reason', () => {
      const { submit, send, counts, events } = startExecutor({ concurrency: 1, fakeWorkers: true });
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

    it('tells the parent it is quiescent at once when no slot is taken', async () => {
      const { clock, submit, send, notices, state } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [a] = submit({ id: 'a', retries: { max: 1, delayMs: 100 } });
      const [b] = submit({ id: 'b', dependsOn: [a!] });
      send({ type: 'worker.crash', workerId: 'main' });
      // a waits for its retry, b for a; the only worker is down and nothing runs.
      expect(clock.pendingTimers).toBe(1);
      notices.length = 0;
      // A shutdown that drains first probes: tasks are left, so no answer yet.
      send({ type: 'executor.probe' });
      expect(notices).toEqual([]);
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
    it('sends an abort with the reason for every task on the worker, and settles them from the reports', () => {
      const run = startExecutor({ concurrency: 4, fakeWorkers: true });
      const reporters = run.submit(...['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id })));
      const worker = run.fake();
      expect(worker.dispatches).toEqual([['a', 'b', 'c', 'd']]);
      const reason = new MezanError('E_SHUTDOWN', 'aborted');
      run.send({ type: 'executor.abort-running', reason });
      const aborts = worker.received.filter((event) => event.type === 'task.abort');
      expect(aborts).toEqual(['a', 'b', 'c', 'd'].map((taskId) => ({ type: 'task.abort', taskId, reason })));
      // Nothing settles before the worker says so; the queued tasks are not the executor's to abort here.
      expect(reporters.every((reporter) => reporter.settles.length === 0)).toBe(true);
      expect(reporters.slice(4).map((reporter) => reporter.status)).toEqual(['queued', 'queued']);
      worker.report(
        ['a', 'b'].map((taskId) => outcome('cancelled', taskId, { error: reason })),
        0,
      );
      expect(reporters.slice(0, 2).map((reporter) => reporter.settles.map((settle) => [settle.status, settle.error]))).toEqual([
        [['cancelled', reason]],
        [['cancelled', reason]],
      ]);
      expect(run.counts()).toMatchObject({ cancelled: 2, dispatched: 2, queued: 2 });
      // Their functions have not returned: no slot is free.
      expect(worker.dispatches).toHaveLength(1);
    });

    it('does nothing when no task is on a worker', () => {
      const { send, fakes, notices, state } = startExecutor({ concurrency: 2, fakeWorkers: true });
      notices.length = 0;
      send({ type: 'executor.abort-running', reason: new MezanError('E_SHUTDOWN', 'x') });
      expect([...fakes.values()].every((fake) => fake.received.length === 0)).toBe(true);
      expect(notices).toEqual([]);
      expect(state()).toBe('idle');
    });

    it('with the real worker, aborts the signals of running functions and settles them at once', async () => {
      const { clock, submit, send, notices } = startExecutor({ concurrency: 2 });
      const signals: AbortSignal[] = [];
      const sleeper: TaskFunction = async (ctx) => {
        signals.push(ctx.signal);
        await ctx.sleep(1_000);
      };
      const reporters = submit({ id: 'a', fn: sleeper }, { id: 'b', fn: sleeper });
      await clock.advanceBy(10);
      notices.length = 0;
      send({ type: 'executor.abort-running', reason: new MezanError('E_SHUTDOWN', 'aborted') });
      // As the supervisor does when its shutdown terminates: a probe after the abort.
      send({ type: 'executor.probe' });
      await flush();
      expect(signals.map((signal) => (signal.reason as MezanError).code)).toEqual(['E_SHUTDOWN', 'E_SHUTDOWN']);
      expect(reporters.map((reporter) => reporter.settles.map((settle) => [settle.status, settle.error!.code, settle.at]))).toEqual([
        [['cancelled', 'E_SHUTDOWN', 10]],
        [['cancelled', 'E_SHUTDOWN', 10]],
      ]);
      await clock.runAll();
      expect(notices.at(-1)).toEqual({ type: 'executor.quiescent' });
    });

    it('with the real worker, also aborts the orders handed over but not started yet', async () => {
      // Terminating phase of a shutdown: cancel-pending, then abort-running, before the functions start.
      const { clock, submit, send } = startExecutor({ concurrency: 3 });
      let signal: AbortSignal | undefined;
      const [running] = submit({
        id: 'a',
        fn: (ctx) => {
          signal = ctx.signal;
          return ctx.sleep(100);
        },
      });
      await flush();
      const behind = jest.fn(() => 'ran');
      const reporters = submit({ id: 'b', fn: behind }, { id: 'c', fn: behind });
      const reason = new MezanError('E_SHUTDOWN', 'aborted');
      send({ type: 'executor.cancel-pending', reason });
      send({ type: 'executor.abort-running', reason });
      await clock.runAll();
      expect(behind).not.toHaveBeenCalled();
      expect(signal!.reason).toBe(reason);
      expect([running!, ...reporters].map((reporter) => reporter.settles.map((settle) => [settle.status, settle.error?.code]))).toEqual([
        [['cancelled', 'E_SHUTDOWN']],
        [['cancelled', 'E_SHUTDOWN']],
        [['cancelled', 'E_SHUTDOWN']],
      ]);
    });
  });

  describe('executor.probe', () => {
    /** Probes an executor with nothing to do: it answers quiescent to the parent and emits quiescent, once each. */
    function expectQuiescentProbe({ send, notices, emitted }: ReturnType<typeof startExecutor>): void {
      emitted.length = 0;
      send({ type: 'executor.probe' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      expect(emitted.map((each) => each.type)).toEqual(['quiescent']);
    }

    it('answers executor.quiescent to the parent only when nothing is left to do', () => {
      const executor = startExecutor({ concurrency: 1, fakeWorkers: true });
      const { submit, send, fake, notices } = executor;
      notices.length = 0;
      expectQuiescentProbe(executor);
      notices.length = 0;
      submit({ id: 'a' });
      send({ type: 'executor.probe' });
      expect(notices).toEqual([]);
      // The task is settled, but its function still holds its slot: idle, not quiescent.
      fake().report([outcome('timeout', 'a', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      notices.length = 0;
      send({ type: 'executor.probe' });
      expect(notices).toEqual([]);
      fake().report([], 1);
      notices.length = 0;
      send({ type: 'executor.probe' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
    });

    it('tells the parent nothing of its quiescence before a probe, though it emits quiescent each time', () => {
      const { submit, send, fake, notices, emitted } = startExecutor({ concurrency: 1, fakeWorkers: true });
      /** Whether `quiescent` was emitted since the last call. */
      const emittedQuiescent = () => {
        const seen = emitted.some((each) => each.type === 'quiescent');
        emitted.length = 0;
        return seen;
      };
      // At start.
      expect(emittedQuiescent()).toBe(true);
      // Its last task completes.
      submit({ id: 'a' });
      complete(fake(), 'a');
      expect(emittedQuiescent()).toBe(true);
      // The function of a task that timed out returns, freeing the last slot taken.
      submit({ id: 'b' });
      fake().report([outcome('timeout', 'b', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      expect(emittedQuiescent()).toBe(false);
      fake().report([], 1);
      expect(emittedQuiescent()).toBe(true);
      // Its pending tasks are cancelled with nothing on the worker.
      submit({ id: 'c', retries: { max: 1, delayMs: 100 } });
      fake().report([outcome('failed', 'c', { error: new Error('x') })]);
      expect(emittedQuiescent()).toBe(false);
      send({ type: 'executor.cancel-pending', reason: new MezanError('E_SHUTDOWN', 'x') });
      expect(emittedQuiescent()).toBe(true);
      // Its idle worker crashes, then restarts.
      send({ type: 'worker.crash', workerId: 'main' });
      expect(emittedQuiescent()).toBe(true);
      send({ type: 'worker.restart', workerId: 'main' });
      expect(emittedQuiescent()).toBe(true);
      expect(notices).toEqual([{ type: 'worker.crashed', workerId: 'main', taskIds: [] }]);
    });

    it('after a probe, tells the parent at once when quiescent, and again at each later quiescence', () => {
      const executor = startExecutor({ concurrency: 1, fakeWorkers: true });
      const { submit, send, fake, notices } = executor;
      expect(notices).toEqual([]);
      expectQuiescentProbe(executor);
      // Its last task completes.
      notices.length = 0;
      submit({ id: 'a' });
      expect(notices).toEqual([]);
      complete(fake(), 'a');
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      // The function of a task that timed out returns, freeing the last slot taken.
      notices.length = 0;
      submit({ id: 'b' });
      fake().report([outcome('timeout', 'b', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      expect(notices).toEqual([]);
      fake().report([], 1);
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
      // Its idle worker crashes, then restarts.
      notices.length = 0;
      send({ type: 'worker.crash', workerId: 'main' });
      expect(notices).toEqual([{ type: 'worker.crashed', workerId: 'main', taskIds: [] }, { type: 'executor.quiescent' }]);
      notices.length = 0;
      send({ type: 'worker.restart', workerId: 'main' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
    });

    it('answers a probe made while work is left once it is quiescent, and one made after the work is done at once', () => {
      const { submit, send, fake, notices } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const reason = new MezanError('E_SHUTDOWN', 'x');
      // As a shutdown that cancels queued tasks: cancel-pending, then the probe; a task still runs.
      submit({ id: 'running' }, { id: 'queued' });
      send({ type: 'executor.cancel-pending', reason });
      send({ type: 'executor.probe' });
      expect(notices).toEqual([]);
      complete(fake(), 'running');
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);

      const late = startExecutor({ concurrency: 1, fakeWorkers: true });
      late.submit({ id: 'retrying', retries: { max: 1, delayMs: 100 } });
      late.fake().report([outcome('failed', 'retrying', { error: new Error('x') })]);
      // Quiescent after the cancel, before any probe: nothing said; the probe that follows is answered at once.
      late.send({ type: 'executor.cancel-pending', reason });
      expect(late.state()).toBe('idle');
      expect(late.notices).toEqual([]);
      late.send({ type: 'executor.probe' });
      expect(late.notices).toEqual([{ type: 'executor.quiescent' }]);
    });
  });

  describe('worker crash and restart', () => {
    it('fails every task running on main with E_WORKER_CRASHED and tells the parent which tasks it took down', async () => {
      const { clock, submit, send, notices, events, slot, state } = startExecutor({ concurrency: 2 });
      const signals: AbortSignal[] = [];
      const never = jest.fn();
      const sleeper: TaskFunction = async (ctx) => {
        signals.push(ctx.signal);
        await ctx.sleep(1_000);
      };
      const [a, b, c] = submit({ id: 'a', fn: sleeper }, { id: 'b', fn: sleeper }, { id: 'c', fn: never });
      await clock.advanceBy(20);
      notices.length = 0;
      send({ type: 'worker.crash', workerId: 'main' });
      for (const reporter of [a!, b!]) {
        expect(reporter.settles.map((settle) => [settle.status, settle.error!.code, settle.at])).toEqual([['failed', 'E_WORKER_CRASHED', 20]]);
        expect(reporter.settles[0]!.error!.details).toMatchObject({ workerId: 'main' });
      }
      expect(signals.map((signal) => (signal.reason as MezanError).code)).toEqual(['E_WORKER_CRASHED', 'E_WORKER_CRASHED']);
      expect(notices).toEqual([{ type: 'worker.crashed', workerId: 'main', taskIds: ['a', 'b'] }]);
      expect(events.filter((event) => event.type === 'task.failed').map((event) => [event.taskId, (event as { code: string }).code])).toEqual([
        ['a', 'E_WORKER_CRASHED'],
        ['b', 'E_WORKER_CRASHED'],
      ]);
      expect(slot()).toMatchObject({ down: true, free: 0, capacity: 2 });
      // The only worker is down: c waits in the queue and nothing is quiescent.
      await clock.runAll();
      expect(never).not.toHaveBeenCalled();
      expect(c!.status).toBe('queued');
      expect(state()).toBe('working');
      expect(notices).toHaveLength(1);
    });

    it('applies the retry policy to a crashed attempt; a retry due while main is down waits for its restart', async () => {
      const { clock, submit, send, notices, events } = startExecutor({ concurrency: 1 });
      const attempts: Array<[number, number, string]> = [];
      const [a] = submit({
        id: 'a',
        retries: { max: 1, delayMs: 50 },
        fn: async (ctx) => {
          attempts.push([ctx.attempt, clock.now(), events.filter((event) => event.type === 'task.started').at(-1)!.workerId as string]);
          if (ctx.attempt === 1) await ctx.sleep(1_000);
          return 'second';
        },
      });
      await clock.advanceBy(10);
      send({ type: 'worker.crash', workerId: 'main' });
      expect(a!.settles).toEqual([]);
      expect(a!.status).toBe('queued');
      const retrying = events.find((event) => event.type === 'task.retrying') as { code: string; delayMs: number; workerId: string };
      expect(retrying).toMatchObject({ code: 'E_WORKER_CRASHED', delayMs: 50, workerId: 'main' });
      expect(notices.at(-1)).toEqual({ type: 'worker.crashed', workerId: 'main', taskIds: ['a'] });
      await clock.advanceTo(70);
      expect(attempts).toEqual([[1, 0, 'main']]);
      send({ type: 'worker.restart', workerId: 'main' });
      await clock.runAll();
      expect(attempts).toEqual([
        [1, 0, 'main'],
        [2, 70, 'main'],
      ]);
      expect(a!.settles.map((settle) => [settle.status, settle.value, settle.at])).toEqual([['completed', 'second', 70]]);
    });

    it('lists every task of a crashed worker, and none for an idle one', () => {
      const run = startExecutor({ concurrency: 3, fakeWorkers: true });
      run.notices.length = 0;
      run.emitted.length = 0;
      run.send({ type: 'worker.crash', workerId: 'main' });
      // Nothing was lost, and nothing is left to do (emitted; the parent, which has not probed, is not told).
      expect(run.notices).toEqual([{ type: 'worker.crashed', workerId: 'main', taskIds: [] }]);
      expect(run.emitted).toEqual([{ type: 'quiescent', at: 0 }]);
      run.send({ type: 'worker.restart', workerId: 'main' });
      const reporters = run.submit(...['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, retries: { max: 1 } })));
      expect(run.dispatchLog).toEqual([{ workerId: 'main', taskIds: ['a', 'b', 'c'] }]);
      run.notices.length = 0;
      run.send({ type: 'worker.crash', workerId: 'main' });
      expect(run.notices).toEqual([{ type: 'worker.crashed', workerId: 'main', taskIds: ['a', 'b', 'c'] }]);
      // No delay: a, b and c are back in the queue at once, but the worker is down.
      expect(reporters.map((reporter) => reporter.status)).toEqual(Array.from({ length: 6 }, () => 'queued'));
      expect(run.counts()).toMatchObject({ queued: 6, dispatched: 0, failed: 0 });
      expect(run.events.filter((event) => event.type === 'task.retrying').map((event) => event.taskId)).toEqual(['a', 'b', 'c']);
    });

    it('hands the restarted worker as many ready tasks as it has slots, retried ones behind those queued before', () => {
      const run = startExecutor({ concurrency: 2, fakeWorkers: true });
      run.submit(...['a', 'b', 'c', 'd'].map((id) => ({ id, retries: { max: 1 } })));
      expect(run.fake().dispatches).toEqual([['a', 'b']]);
      run.send({ type: 'worker.crash', workerId: 'main' });
      run.send({ type: 'worker.restart', workerId: 'main' });
      const restarted = run.fake();
      expect(restarted).not.toBe(run.fakeHistory[0]);
      const dispatch = restarted.received[0] as { type: 'task.dispatch'; orders: RunOrder[] };
      expect(dispatch.orders.map((order) => [order.taskId, order.attempt])).toEqual([
        ['c', 1],
        ['d', 1],
      ]);
      expect(run.slot()).toMatchObject({ down: false, free: 0, capacity: 2 });
      completeLastDispatch(restarted);
      expect(restarted.dispatches[1]).toEqual(['a', 'b']);
    });

    it('ignores a crash of a worker it does not have, and a crash of a worker already down', () => {
      const { send, notices } = startExecutor({ concurrency: 1, fakeWorkers: true });
      notices.length = 0;
      send({ type: 'worker.crash', workerId: 'worker-1' });
      expect(notices).toEqual([]);
      send({ type: 'worker.crash', workerId: 'main' });
      send({ type: 'worker.crash', workerId: 'main' });
      expect(notices.filter((notice) => notice.type === 'worker.crashed')).toEqual([{ type: 'worker.crashed', workerId: 'main', taskIds: [] }]);
    });

    it('ignores a late report from a crashed worker', () => {
      const { submit, send, fakeHistory, counts, slot } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [a] = submit({ id: 'a' });
      const crashed = fakeHistory[0]!;
      send({ type: 'worker.crash', workerId: 'main' });
      crashed.report([outcome('completed', 'a')]);
      expect(a!.settles.map((settle) => settle.status)).toEqual(['failed']);
      expect(counts()).toMatchObject({ completed: 0, failed: 1 });
      expect(slot()).toMatchObject({ down: true, free: 0 });
    });

    it('restarts a crashed worker under the same id, carrying its statistics, and dispatches to it', async () => {
      const { clock, submit, send, executor, notices, emitted, slot, workerIds } = startExecutor({ concurrency: 1 });
      submit({ id: 'first', fn: (ctx) => ctx.sleep(10) });
      await clock.runAll();
      const [stuck, queued] = submit({ id: 'stuck', fn: (ctx) => ctx.sleep(1_000) }, { id: 'queued', fn: (ctx) => ctx.sleep(5).then(() => 'Q') });
      await clock.advanceBy(20);
      const before = slot()!.ref;
      const statsBefore = before.getSnapshot().context.stats;
      expect(statsBefore).toEqual({
        slots: 1,
        running: 1,
        tasksCompleted: 1,
        tasksFailed: 0,
        tasksCancelled: 0,
        attempts: 1,
        busyMs: 10,
        lastTaskMs: 10,
      });
      send({ type: 'worker.crash', workerId: 'main' });
      expect(stuck!.settles.map((settle) => settle.error!.code)).toEqual(['E_WORKER_CRASHED']);
      expect(queued!.status).toBe('queued');
      notices.length = 0;
      emitted.length = 0;
      send({ type: 'worker.restart', workerId: 'main' });
      const after = slot()!.ref;
      expect(after).not.toBe(before);
      expect(after.id).toBe('main');
      expect(executor.getSnapshot().children['main']).toBe(after);
      expect(workerIds()).toEqual(['main']);
      expect(slot()).toMatchObject({ down: false, free: 0, capacity: 1 });
      expect(queued!.status).toBe('running');
      await clock.runAll();
      expect(queued!.settles.map((settle) => [settle.status, settle.value])).toEqual([['completed', 'Q']]);
      expect(after.getSnapshot().context.stats).toEqual({ ...statsBefore, running: 0, tasksCompleted: 2, attempts: 2, busyMs: 15, lastTaskMs: 5 });
      // Quiescent once queued returns: emitted; the parent, which has not probed, is not told.
      expect(emitted).toEqual([
        { type: 'idle', at: 35 },
        { type: 'quiescent', at: 35 },
      ]);
      expect(notices.filter((notice) => notice.type === 'executor.quiescent')).toEqual([]);
    });

    it('hands the restarted worker the statistics of the crashed one, and its slots', () => {
      const { send, fakeHistory } = startExecutor({ concurrency: 2, fakeWorkers: true });
      send({ type: 'worker.crash', workerId: 'main' });
      send({ type: 'worker.restart', workerId: 'main' });
      expect(fakeHistory.map((fake) => [fake.input.workerId, fake.input.slots, fake.input.initialStats])).toEqual([
        ['main', 2, undefined],
        ['main', 2, FAKE_STATS],
      ]);
    });

    it('ignores a restart of a worker that is not down', () => {
      const { send, fakeHistory, workerIds, slot } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const ref = slot()!.ref;
      send({ type: 'worker.restart', workerId: 'main' });
      send({ type: 'worker.restart', workerId: 'worker-9' });
      expect(fakeHistory).toHaveLength(1);
      expect(slot()!.ref).toBe(ref);
      expect(workerIds()).toEqual(['main']);
    });

    it('tells the parent it is quiescent once a restart leaves nothing to do', () => {
      const { send, notices } = startExecutor({ concurrency: 1, fakeWorkers: true });
      // Probed, as in a shutdown: the parent hears each quiescence from then on.
      send({ type: 'executor.probe' });
      send({ type: 'worker.crash', workerId: 'main' });
      notices.length = 0;
      send({ type: 'worker.restart', workerId: 'main' });
      expect(notices).toEqual([{ type: 'executor.quiescent' }]);
    });
  });

  describe('compensation slots', () => {
    const resizes = (fake: FakeWorker) => fake.received.filter((event) => event.type === 'worker.resize');
    const retiredNotices = (notices: ExecutorNotice[]) => notices.filter((notice) => notice.type === 'slots.retired-extra');

    it('adds a slot to main on slots.add-extra, which takes a ready task at once', () => {
      const { submit, send, fake, workerIds, notices, slot, extraSlots } = startExecutor({ concurrency: 1, fakeWorkers: true });
      const [, b] = submit({ id: 'a' }, { id: 'b' });
      expect(b!.status).toBe('queued');
      send({ type: 'slots.add-extra' });
      expect(workerIds()).toEqual(['main']);
      expect(slot()).toMatchObject({ capacity: 2, free: 0 });
      expect(extraSlots()).toBe(1);
      // The worker learns of its new slot before it is handed the order that fills it.
      expect(fake().received.slice(1)).toEqual([
        { type: 'worker.resize', slots: 2 },
        { type: 'task.dispatch', orders: [expect.objectContaining({ taskId: 'b' })] },
      ]);
      expect(fake().dispatches).toEqual([['a'], ['b']]);
      expect(b!.status).toBe('running');
      expect(retiredNotices(notices)).toEqual([]);
    });

    it('keeps an extra slot while tasks are ready, and retires it once a slot is free with nothing ready', () => {
      const { submit, send, fake, notices, emitted, slot, extraSlots } = startExecutor({ concurrency: 1, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' });
      send({ type: 'slots.add-extra' });
      const worker = fake();
      expect(worker.dispatches).toEqual([['a'], ['b']]);
      complete(worker, 'b');
      // c was ready: the freed slot takes it instead of leaving.
      expect(worker.dispatches.at(-1)).toEqual(['c']);
      complete(worker, 'a');
      expect(worker.dispatches.at(-1)).toEqual(['d']);
      expect(retiredNotices(notices)).toEqual([]);
      expect(slot()).toMatchObject({ capacity: 2, free: 0 });
      complete(worker, 'c');
      expect(retiredNotices(notices)).toEqual([{ type: 'slots.retired-extra' }]);
      expect(slot()).toMatchObject({ capacity: 1, free: 0 });
      expect(extraSlots()).toBe(0);
      expect(resizes(worker)).toEqual([
        { type: 'worker.resize', slots: 2 },
        { type: 'worker.resize', slots: 1 },
      ]);
      expect(worker.slots).toBe(1);
      emitted.length = 0;
      complete(worker, 'd');
      expect(worker.dispatches.flat()).toEqual(['a', 'b', 'c', 'd']);
      expect(retiredNotices(notices)).toHaveLength(1);
      expect(slot()).toMatchObject({ capacity: 1, free: 1 });
      // Quiescent: emitted; the parent, which has not probed, is not told.
      expect(emitted.map((each) => each.type)).toEqual(['idle', 'quiescent']);
      expect(notices.at(-1)).toEqual({ type: 'slots.retired-extra' });
    });

    it('retires as many extra slots as are free, with one notice each, and never a slot of its concurrency', () => {
      const { submit, send, fake, notices, slot, extraSlots } = startExecutor({ concurrency: 2, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' });
      send({ type: 'slots.add-extra' });
      send({ type: 'slots.add-extra' });
      const worker = fake();
      expect(worker.dispatches).toEqual([['a', 'b'], ['c'], ['d']]);
      expect(slot()).toMatchObject({ capacity: 4, free: 0 });
      expect(extraSlots()).toBe(2);
      complete(worker, 'a', 'b', 'c');
      expect(retiredNotices(notices)).toEqual([{ type: 'slots.retired-extra' }, { type: 'slots.retired-extra' }]);
      expect(slot()).toMatchObject({ capacity: 2, free: 1 });
      expect(extraSlots()).toBe(0);
      expect(resizes(worker).at(-1)).toEqual({ type: 'worker.resize', slots: 2 });
      complete(worker, 'd');
      expect(retiredNotices(notices)).toHaveLength(2);
      expect(slot()).toMatchObject({ capacity: 2, free: 2 });
    });

    it('retires an extra slot from a report that arrives once every task is settled', () => {
      const { submit, send, fake, notices, emitted, slot, state } = startExecutor({ concurrency: 1, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' });
      send({ type: 'slots.add-extra' });
      const worker = fake();
      // Both time out: every task is settled, but their functions still hold both slots.
      worker.report([outcome('timeout', 'a', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      worker.report([outcome('timeout', 'b', { error: new MezanError('E_TIMEOUT', 't') })], 0);
      expect(state()).toBe('idle');
      expect(retiredNotices(notices)).toEqual([]);
      expect(slot()).toMatchObject({ capacity: 2, free: 0 });
      worker.report([], 1);
      expect(retiredNotices(notices)).toEqual([{ type: 'slots.retired-extra' }]);
      expect(slot()).toMatchObject({ capacity: 1, free: 0 });
      expect(resizes(worker).at(-1)).toEqual({ type: 'worker.resize', slots: 1 });
      expect(notices.at(-1)).toEqual({ type: 'slots.retired-extra' });
      emitted.length = 0;
      worker.report([], 1);
      expect(retiredNotices(notices)).toHaveLength(1);
      expect(slot()).toMatchObject({ capacity: 1, free: 1 });
      // Quiescent: emitted; the parent, which has not probed, is not told.
      expect(emitted.map((each) => each.type)).toEqual(['quiescent']);
      expect(notices.at(-1)).toEqual({ type: 'slots.retired-extra' });
    });

    it('gives an extra slot added while main is down to the restarted worker', () => {
      const { submit, send, fake, slot } = startExecutor({ concurrency: 1, fakeWorkers: true });
      send({ type: 'worker.crash', workerId: 'main' });
      send({ type: 'slots.add-extra' });
      expect(slot()).toMatchObject({ capacity: 2, free: 0, down: true });
      submit({ id: 'a' }, { id: 'b' }, { id: 'c' });
      send({ type: 'worker.restart', workerId: 'main' });
      expect(fake().input.slots).toBe(2);
      expect(fake().dispatches).toEqual([['a', 'b']]);
      expect(slot()).toMatchObject({ capacity: 2, free: 0, down: false });
    });
  });

  describe('task.victim and faults', () => {
    it('forwards the victim to the worker the task is on, and nowhere else', () => {
      const { submit, send, fake } = startExecutor({ concurrency: 2, fakeWorkers: true });
      submit({ id: 'a' }, { id: 'b' }, { id: 'queued' });
      const victim = { type: 'task.victim' as const, taskId: 'b', error: new MezanError('E_DEADLOCK', 'victim') };
      send(victim);
      const victims = () => fake().received.filter((event) => event.type === 'task.victim');
      expect(victims()).toEqual([victim]);
      send({ ...victim, taskId: 'queued' });
      send({ ...victim, taskId: 'nobody' });
      expect(victims()).toHaveLength(1);
    });

    it('forwards a slowdown to the worker it names', () => {
      const { send, fake } = startExecutor({ concurrency: 2, fakeWorkers: true });
      send({ type: 'worker.slow', workerId: 'main', factor: 4, until: 250 });
      send({ type: 'worker.slow', workerId: 'worker-1', factor: 2, until: 100 });
      expect(fake().received).toEqual([{ type: 'worker.slow', factor: 4, until: 250 }]);
    });
  });
});
