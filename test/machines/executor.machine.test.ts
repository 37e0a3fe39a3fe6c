import { createActor, type AnyActorRef, type AnyEventObject, type InspectionEvent } from 'xstate';
import { executorLogic, type ExecutorInput, type ExecutorSnapshot, type ExecutorState } from '../../actors/executor.actor';
import { executorMachine } from '../../machines/executor.machine';
import type { EngineEvent } from '../../src/engine-events';
import { MezanError } from '../../src/errors';
import type { EventSink } from '../../src/internal/event-sink';
import { NO_SERVICES } from '../../src/internal/task-services';
import { createQuietLogger } from '../../src/logger';
import { seededRandom } from '../../src/random';
import type { TaskFunction } from '../../src/task-options';
import { describeMachine, transitionLabel, type DiagramTransition } from '../../src/visualization/machine-diagram';
import { VirtualClock } from '../../src/virtual-clock';
import { RecordingReporter } from '../fixtures/recording-reporter';
import { taskSubmission, type TaskSpec } from '../fixtures/task-submission';

// The executor actor (`actors/executor.actor.ts`) runs as plain code; `executorMachine` only draws it.
// These tests hold the actor to its drawing: every change of state the actor makes, observed on its
// snapshots, must be what the chart does on the same event, every transition of the chart must be
// seen in the actor, and each entry into `idle` must emit `idle`.

const chart = describeMachine(executorMachine);
const ROOT_ID = chart.root.id;

/** The chart's state key of a state node id (`'executor.idle'` → `'idle'`). */
function keyOf(stateId: string): string {
  const state = chart.root.children.find((child) => child.id === stateId);
  if (state === undefined) throw new Error(`the chart has no state ${stateId}`);
  return state.key;
}

function idOf(key: string): string {
  const state = chart.root.children.find((child) => child.key === key);
  if (state === undefined) throw new Error(`the chart has no state ${key}`);
  return state.id;
}

/** How the test reads the chart's guards, from the snapshot the actor published after the event. */
const GUARDS: Readonly<Record<string, (snapshot: ExecutorSnapshot) => boolean>> = {
  hasNoTasks: (snapshot) => snapshot.context.unfinished === 0,
};

function guardHolds(transition: DiagramTransition, snapshot: ExecutorSnapshot): boolean {
  if (transition.guard === undefined) return true;
  const guard = GUARDS[transition.guard];
  if (guard === undefined) throw new Error(`the chart has a guard this test cannot read: ${transition.guard}`);
  return guard(snapshot);
}

/** Whether an event type matches a declared one, wildcards included (`*`, `xstate.done.actor.*`). */
function matches(declared: string, type: string): boolean {
  if (declared === '*') return true;
  if (declared.endsWith('.*')) return type.startsWith(declared.slice(0, -1));
  return declared === type;
}

function describeTransition(transition: DiagramTransition): string {
  const targets = transition.targets.map(keyOf).join(', ');
  const source = transition.source === ROOT_ID ? '(any)' : keyOf(transition.source);
  return `${source} --${transitionLabel(transition)}--> ${targets || '(no target)'}`;
}

/** What the chart does on one event: the transitions it takes, the states it passes through and those it enters. */
interface ChartMacrostep {
  readonly taken: DiagramTransition[];
  /** The states it is in, from the first to the last. */
  readonly path: string[];
  /** The states it enters (a self-transition that does not re-enter enters nothing). */
  readonly entered: string[];
  readonly end: string;
}

/**
 * The chart's macrostep: from `from` (or its initial state, for the actor's start), the first enabled
 * transition on `event` (the state's own before the root's), then eventless transitions until none is
 * enabled. Guards read the snapshot the actor published once the event was processed.
 */
function chartMacrostep(from: string | undefined, event: AnyEventObject, after: ExecutorSnapshot): ChartMacrostep {
  const taken: DiagramTransition[] = [];
  const entered: string[] = [];
  let current: string;
  if (from === undefined) {
    current = keyOf(chart.root.initial!);
    entered.push(current);
  } else current = from;
  const path = [current];

  const take = (transition: DiagramTransition): void => {
    taken.push(transition);
    if (transition.targets.length > 1) throw new Error(`a transition to several states: ${describeTransition(transition)}`);
    const target = transition.targets[0];
    if (target === undefined) return;
    const key = keyOf(target);
    if (key !== current || transition.reenter) entered.push(key);
    if (key !== current) path.push(key);
    current = key;
  };
  const enabled = (kind: 'event' | 'always', type?: string): DiagramTransition | undefined => {
    for (const source of [idOf(current), ROOT_ID]) {
      const found = chart.transitions.find(
        (transition) =>
          transition.kind === kind &&
          transition.source === source &&
          (kind === 'always' || matches(transition.event!, type!)) &&
          guardHolds(transition, after),
      );
      if (found !== undefined) return found;
    }
    return undefined;
  };

  if (from !== undefined) {
    const onEvent = enabled('event', event.type);
    if (onEvent !== undefined) take(onEvent);
  }
  for (let microsteps = 0; ; microsteps++) {
    if (microsteps > 100) throw new Error(`the chart does not settle from ${from} on ${event.type}`);
    const eventless = enabled('always');
    if (eventless === undefined) break;
    take(eventless);
  }
  return { taken, path, entered, end: current };
}

/** What the executor emitted during one of its steps, and the state its snapshot read when it did. */
interface Emission {
  readonly type: 'idle' | 'quiescent';
  readonly value: ExecutorState;
}

/** One step of the executor, as `inspect` shows it: the event, its state before and the snapshot after. */
interface ObservedStep {
  readonly event: AnyEventObject;
  /** `undefined` for its start. */
  readonly before: ExecutorState | undefined;
  readonly after: ExecutorSnapshot;
  readonly emitted: readonly Emission[];
}

/** A task to submit: its id, and what the test says of it. */
type IdentifiedTaskSpec = TaskSpec & { readonly id: string };

const cancelReason = (taskId: string) => new MezanError('E_CANCELLED', 'cancelled', { details: { taskId } });

/** The executor with real workers, on a virtual clock, every step of it recorded through `inspect`. */
function startExecutor(concurrency: number) {
  const clock = new VirtualClock();
  const events: EngineEvent[] = [];
  const sink: EventSink = { active: true, publish: (event) => events.push(event) };
  const steps: ObservedStep[] = [];
  let emittedInStep: Emission[] = [];
  let before: ExecutorState | undefined;
  /** The executor, once made (`inspect` hears of its children being made before). */
  let self: AnyActorRef | undefined;
  const input: ExecutorInput = {
    concurrency,
    clock,
    random: seededRandom(1),
    logger: createQuietLogger(),
    sink,
    services: NO_SERVICES,
  };
  const inspect = (inspection: InspectionEvent): void => {
    // Children (workers, timers) share the system: only the executor's own snapshots count.
    if (inspection.type !== '@xstate.snapshot' || self === undefined || inspection.actorRef !== self) return;
    const after = inspection.snapshot as ExecutorSnapshot;
    // What a step emits is sent once its snapshot is set, before its observers hear of it.
    steps.push({ event: inspection.event, before, after, emitted: emittedInStep });
    emittedInStep = [];
    before = after.value;
  };
  const executor = createActor(executorLogic, { clock, input, inspect });
  self = executor;
  executor.on('idle', () => void emittedInStep.push({ type: 'idle', value: executor.getSnapshot().value }));
  executor.on('quiescent', () => void emittedInStep.push({ type: 'quiescent', value: executor.getSnapshot().value }));
  executor.start();

  return {
    clock,
    executor,
    events,
    steps,
    /** What it emitted since its last step: nothing, as it emits only within its steps. */
    emittedSinceLastStep: () => emittedInStep,
    /** Submits tasks in one event; `cancel` names tasks, new or admitted before, for its `cancelled` map. */
    submit(specs: readonly IdentifiedTaskSpec[], cancel: readonly string[] = []): RecordingReporter[] {
      const made = specs.map((spec) => taskSubmission(spec.id, spec, clock));
      const cancelled = cancel.length === 0 ? undefined : new Map(cancel.map((taskId) => [taskId, cancelReason(taskId)]));
      executor.send({ type: 'task.submit', submissions: made.map((each) => each.submission), cancelled });
      return made.map((each) => each.reporter);
    },
    cancel: (taskId: string) => executor.send({ type: 'task.cancel', taskId, reason: cancelReason(taskId) }),
    value: () => executor.getSnapshot().value,
  };
}

type Run = ReturnType<typeof startExecutor>;

const sleeper =
  (ms: number): TaskFunction =>
  (ctx) =>
    ctx.sleep(ms);

/** Fails its first `failures` attempts, then completes. */
const failing =
  (failures: number): TaskFunction =>
  (ctx) => {
    if (ctx.attempt <= failures) throw new Error(`attempt ${ctx.attempt} failed`);
    return 'done';
  };

const statusesOf = (reporters: readonly RecordingReporter[]) => reporters.map((reporter) => reporter.settles.map((settle) => settle.status));

/**
 * The scenarios the actor is run through. Each checks what it is about; `checkAgainstChart` then
 * holds every step to the chart.
 */
const SCENARIOS: ReadonlyArray<readonly [name: string, run: () => Promise<Run>]> = [
  [
    'submission and completion',
    async () => {
      const run = startExecutor(2);
      const first = run.submit([
        { id: 'a', fn: sleeper(10) },
        { id: 'b', fn: sleeper(20) },
        { id: 'c', fn: sleeper(5) },
      ]);
      expect(run.value()).toBe('working');
      await run.clock.runAll();
      expect(run.value()).toBe('idle');
      const second = run.submit([{ id: 'd', fn: sleeper(10) }]);
      // A submission while working: nothing to draw, it stays working.
      const third = run.submit([{ id: 'e' }]);
      expect(run.value()).toBe('working');
      await run.clock.runAll();
      expect(statusesOf([...first, ...second, ...third])).toEqual(Array.from({ length: 5 }, () => ['completed']));
      expect(run.value()).toBe('idle');
      return run;
    },
  ],
  [
    'submissions whose tasks all settle at admission',
    async () => {
      const run = startExecutor(1);
      const cancelled = run.submit([{ id: 'x' }, { id: 'y' }], ['x', 'y']);
      expect(statusesOf(cancelled)).toEqual([['cancelled'], ['cancelled']]);
      const failedDependency = new RecordingReporter('gone', run.clock);
      failedDependency.status = 'failed';
      const [orphan] = run.submit([{ id: 'z', dependsOn: [failedDependency] }]);
      expect(orphan!.settles.map((settle) => [settle.status, settle.error!.code])).toEqual([['failed', 'E_DEPENDENCY_FAILED']]);
      run.submit([]);
      expect(run.value()).toBe('idle');
      await run.clock.runAll();
      // Each submission passed through `working` within its one step: no snapshot ever shows it.
      expect(run.steps.map((step) => step.after.value)).toEqual(run.steps.map(() => 'idle'));
      const submits = run.steps.filter((step) => step.event.type === 'task.submit');
      expect(submits).toHaveLength(3);
      for (const step of submits) {
        expect(chartMacrostep(step.before, step.event, step.after).path).toEqual(['idle', 'working', 'idle']);
        expect(step.emitted.map((emission) => emission.type)).toEqual(['idle', 'quiescent']);
      }
      expect(run.events.filter((event) => event.type === 'engine.idle')).toHaveLength(4);
      return run;
    },
  ],
  [
    'retries',
    async () => {
      const run = startExecutor(2);
      const reporters = run.submit([
        { id: 'twice', fn: failing(2), retries: { max: 2, delayMs: 50 } },
        { id: 'never', fn: failing(Infinity), retries: { max: 1, delayMs: 30 } },
        { id: 'once', fn: failing(1), retries: { max: 3, delayMs: 10 } },
      ]);
      await run.clock.runAll();
      expect(statusesOf(reporters)).toEqual([['completed'], ['failed'], ['completed']]);
      expect(run.steps.filter((step) => step.event.type === 'retry.due')).toHaveLength(4);
      expect(run.value()).toBe('idle');
      return run;
    },
  ],
  [
    'cancel',
    async () => {
      const run = startExecutor(1);
      const [delayed, running, queued] = run.submit([
        { id: 'delayed', fn: failing(1), retries: { max: 1, delayMs: 1_000 }, priority: 1 },
        { id: 'running', fn: sleeper(100) },
        { id: 'queued' },
      ]);
      await run.clock.advanceBy(10);
      expect([delayed!.status, running!.status, queued!.status]).toEqual(['queued', 'running', 'queued']);
      run.cancel('queued');
      run.cancel('delayed');
      expect(run.value()).toBe('working');
      // On the worker: the executor asks for an abort, and the worker's report settles it.
      run.cancel('running');
      await run.clock.runAll();
      expect(statusesOf([delayed!, running!, queued!])).toEqual([['cancelled'], ['cancelled'], ['cancelled']]);
      expect(run.value()).toBe('idle');
      // The last unfinished task, between attempts: its cancel makes the executor idle.
      const [last] = run.submit([{ id: 'last', fn: failing(1), retries: { max: 1, delayMs: 1_000 } }]);
      await run.clock.advanceBy(10);
      expect(run.value()).toBe('working');
      run.cancel('last');
      expect(statusesOf([last!])).toEqual([['cancelled']]);
      expect(run.value()).toBe('idle');
      expect(run.steps.at(-1)!.event.type).toBe('task.cancel');
      // A cancel for a task it does not know changes nothing.
      run.cancel('nobody');
      expect(run.value()).toBe('idle');
      return run;
    },
  ],
  [
    'cancel through the cancelled map of a later submission',
    async () => {
      const run = startExecutor(1);
      const [first] = run.submit([{ id: 'first', fn: failing(1), retries: { max: 1, delayMs: 1_000 } }]);
      await run.clock.advanceBy(10);
      // `first` failed its first attempt and waits for its retry.
      expect(first!.status).toBe('queued');
      expect(run.clock.pendingTimers).toBe(1);
      const [waiting] = run.submit([{ id: 'waiting', dependsOn: [first!] }]);
      expect(waiting!.status).toBe('waiting');
      // Every unfinished task is named: the submission makes the executor idle.
      const [late] = run.submit([{ id: 'late' }], ['waiting', 'first', 'late']);
      expect(statusesOf([first!, waiting!, late!])).toEqual([['cancelled'], ['cancelled'], ['cancelled']]);
      expect(run.value()).toBe('idle');
      expect(run.clock.pendingTimers).toBe(0);
      return run;
    },
  ],
  [
    'faults, compensation slots and shutdown',
    async () => {
      const run = startExecutor(1);
      // A timeout settles the task, but its function holds its slot: the report that frees it comes in `idle`.
      let finish!: () => void;
      const [timedOut] = run.submit([{ id: 'slow', timeoutMs: 50, fn: () => new Promise<void>((resolve) => (finish = resolve)) }]);
      await run.clock.advanceBy(50);
      expect(statusesOf([timedOut!])).toEqual([['timeout']]);
      expect(run.value()).toBe('idle');
      finish();
      await run.clock.runAll();
      // A crash fails what ran; what was queued waits for the restart.
      const [crashed, afterCrash] = run.submit([{ id: 'crashed', fn: sleeper(1_000) }, { id: 'after-crash' }]);
      await run.clock.advanceBy(10);
      run.executor.send({ type: 'worker.crash', workerId: 'main' });
      expect(statusesOf([crashed!])).toEqual([['failed']]);
      expect(run.value()).toBe('working');
      run.executor.send({ type: 'worker.restart', workerId: 'main' });
      await run.clock.runAll();
      expect(statusesOf([afterCrash!])).toEqual([['completed']]);
      // Shutdown: pending tasks are cancelled, running ones aborted.
      const [running, pending] = run.submit([{ id: 'running', fn: sleeper(1_000) }, { id: 'pending' }]);
      await run.clock.advanceBy(10);
      const reason = new MezanError('E_SHUTDOWN', 'shutting down');
      run.executor.send({ type: 'executor.cancel-pending', reason });
      expect(run.value()).toBe('working');
      run.executor.send({ type: 'executor.abort-running', reason });
      await run.clock.runAll();
      expect(statusesOf([running!, pending!])).toEqual([['cancelled'], ['cancelled']]);
      expect(run.value()).toBe('idle');
      // A compensation slot, taken and given back.
      run.submit([{ id: 'blocker', fn: sleeper(10) }, { id: 'behind' }]);
      run.executor.send({ type: 'slots.add-extra' });
      expect(run.executor.getSnapshot().context.extraSlots).toBe(1);
      await run.clock.runAll();
      expect(run.executor.getSnapshot().context.extraSlots).toBe(0);
      run.executor.send({ type: 'executor.probe' });
      run.executor.stop();
      return run;
    },
  ],
];

/**
 * Holds every step of a run to the chart; returns what does not hold, one line each, and the chart
 * transitions the run took.
 */
function checkAgainstChart(steps: readonly ObservedStep[]): { readonly breaches: string[]; readonly taken: Set<DiagramTransition> } {
  const breaches: string[] = [];
  const taken = new Set<DiagramTransition>();
  steps.forEach((step, index) => {
    const where = `step ${index} (${step.event.type}, ${step.before ?? 'start'} → ${step.after.value})`;
    const macrostep = chartMacrostep(step.before, step.event, step.after);
    for (const transition of macrostep.taken) taken.add(transition);
    if (macrostep.end !== step.after.value) breaches.push(`${where}: the chart goes ${macrostep.path.join(' → ')}`);
    const idleEntries = macrostep.entered.filter((state) => state === 'idle').length;
    const idleEmitted = step.emitted.filter((emission) => emission.type === 'idle').length;
    if (idleEmitted !== idleEntries)
      breaches.push(`${where}: the chart enters idle ${idleEntries} time(s), the actor emitted idle ${idleEmitted} time(s)`);
    for (const emission of step.emitted) {
      // Emitted once the transition is over: its snapshot already reads `idle`.
      if (emission.value !== 'idle') breaches.push(`${where}: emitted ${emission.type} while its snapshot read ${emission.value}`);
    }
  });
  return { breaches, taken };
}

describe('the executor actor against its chart, executorMachine', () => {
  it('draws exactly the states idle and working, starting idle, with no delayed transition', () => {
    expect(chart.id).toBe('executor');
    expect(chart.root.children.map((state) => [state.key, state.type])).toEqual([
      ['idle', 'atomic'],
      ['working', 'atomic'],
    ]);
    expect(chart.root.initial).toBe(idOf('idle'));
    // The actor's own type of states: one key each, no more, no fewer (checked by the compiler).
    const actorStates: Record<ExecutorState, true> = { idle: true, working: true };
    expect(Object.keys(actorStates)).toEqual(chart.root.children.map((state) => state.key));
    // The macrostep above reads event and eventless transitions; the actor has no timers of its own.
    expect(chart.transitions.filter((transition) => transition.kind === 'after')).toEqual([]);
    expect(chart.transitions.length).toBeGreaterThan(0);
  });

  it.each(SCENARIOS)('%s: every change of state is a transition of the chart, and each entry into idle emits idle', async (_name, scenario) => {
    const run = await scenario();
    expect(run.steps.length).toBeGreaterThan(1);
    expect(run.steps[0]!.event.type).toBe('xstate.init');
    expect(checkAgainstChart(run.steps).breaches).toEqual([]);
    expect(run.emittedSinceLastStep()).toEqual([]);
  });

  it('takes every transition of the chart over the scenarios', async () => {
    const taken = new Set<DiagramTransition>();
    const seen = new Set<string>();
    for (const [, scenario] of SCENARIOS) {
      const run = await scenario();
      const checked = checkAgainstChart(run.steps);
      expect(checked.breaches).toEqual([]);
      for (const transition of checked.taken) taken.add(transition);
      for (const step of run.steps)
        if (step.before !== undefined && step.before !== step.after.value) seen.add(`${step.before} → ${step.after.value}`);
    }
    expect(chart.transitions.filter((transition) => !taken.has(transition)).map(describeTransition)).toEqual([]);
    // Both changes of state show on the actor's snapshots, not only inside a step.
    expect([...seen].sort()).toEqual(['idle → working', 'working → idle']);
  });

  it('reports an actor that strays from the chart', () => {
    const snapshot = (value: ExecutorState, unfinished: number) => ({ value, context: { unfinished } }) as unknown as ExecutorSnapshot;
    const idle: Emission = { type: 'idle', value: 'idle' };
    const strays: ObservedStep[] = [
      // Working without a submission.
      { event: { type: 'worker.report' }, before: 'idle', after: snapshot('working', 1), emitted: [] },
      // Idle with a task unfinished, without emitting idle.
      { event: { type: 'worker.report' }, before: 'working', after: snapshot('idle', 1), emitted: [] },
      // Through working and back within a step, without emitting idle.
      { event: { type: 'task.submit' }, before: 'idle', after: snapshot('idle', 0), emitted: [] },
      // Idle emitted in working, and before the snapshot reads idle.
      { event: { type: 'task.submit' }, before: 'idle', after: snapshot('working', 1), emitted: [{ type: 'idle', value: 'working' }] },
      // Idle emitted twice for one entry.
      { event: { type: 'task.cancel' }, before: 'working', after: snapshot('idle', 0), emitted: [idle, idle] },
    ];
    expect(checkAgainstChart(strays).breaches).toEqual([
      'step 0 (worker.report, idle → working): the chart goes idle',
      'step 1 (worker.report, working → idle): the chart goes working',
      'step 2 (task.submit, idle → idle): the chart enters idle 1 time(s), the actor emitted idle 0 time(s)',
      'step 3 (task.submit, idle → working): the chart enters idle 0 time(s), the actor emitted idle 1 time(s)',
      'step 3 (task.submit, idle → working): emitted idle while its snapshot read working',
      'step 4 (task.cancel, working → idle): the chart enters idle 1 time(s), the actor emitted idle 2 time(s)',
    ]);
  });

  it('emits idle on its start, in idle, and at each return to idle, once', async () => {
    const run = startExecutor(1);
    const emittedIdle = () => run.steps.flatMap((step) => step.emitted).filter((emission) => emission.type === 'idle').length;
    expect(run.steps.map((step) => [step.event.type, step.after.value, step.emitted.map((emission) => emission.type)])).toEqual([
      ['xstate.init', 'idle', ['idle', 'quiescent']],
    ]);
    run.submit([{ id: 'a', fn: sleeper(10) }]);
    expect(emittedIdle()).toBe(1);
    await run.clock.runAll();
    expect(emittedIdle()).toBe(2);
    run.submit([{ id: 'b' }], ['b']);
    expect(emittedIdle()).toBe(3);
    // Events that leave it idle emit nothing.
    run.cancel('nobody');
    run.executor.send({ type: 'retry.due', taskId: 'nobody' });
    expect(emittedIdle()).toBe(3);
  });
});
