import type { ActorLogic, ActorRef, ActorScope, AnyActorRef, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import type { RunOutcome, TaskDispatchEvent, TaskAbortEvent, WorkerReportEvent } from '../src/internal/task-protocol';
import type { ResourceRepliesEvent, ResourceReplyEvent } from '../src/internal/resource-protocol';
import { PoolPost } from './pool-post';
import type { TaskVictimEvent } from '../src/internal/task-services';
import { TaskRunner, type RunnerReport } from './task-runner';
import type { RunEnvironment } from './task-run-context';
import { ThreadPool, type ThreadSettings } from '../src/threads/thread-pool';

/** A worker's own statistics; exact, because only the worker updates them. */
export interface WorkerStats {
  /** How many tasks it may run at once (the engine's `concurrency`, plus compensation slots in service). */
  slots: number;
  /** How many of its slots are taken now: functions that have not returned, and orders about to start. */
  running: number;
  /** Attempts whose function returned a value. */
  tasksCompleted: number;
  /** Attempts whose function threw or that timed out (retried attempts included). */
  tasksFailed: number;
  /** Attempts cancelled while on this worker (started or not). */
  tasksCancelled: number;
  /** Functions that returned or threw (each attempt counts once). */
  attempts: number;
  /** Milliseconds of clock time its functions ran, aborted ones included. */
  busyMs: number;
  /** How long its last function ran, in milliseconds; `undefined` before the first. */
  lastTaskMs: number | undefined;
}

/** The worker's input: the environment its tasks run in, its slots, and the statistics a restarted worker carries on. @internal */
export interface WorkerInput extends RunEnvironment {
  readonly slots: number;
  readonly initialStats?: Readonly<WorkerStats>;
  /** Set for a thread worker: its tasks run on this many worker threads (one slot each). */
  readonly threads?: ThreadSettings;
}

/** The states of a worker; the statechart `machines/worker.machine.ts` draws them and their transitions. */
export type WorkerState = 'idle' | 'busy' | 'crashed';

/** Makes the worker crash, as a fault injection (tests and simulations). @internal */
export interface WorkerCrashEvent {
  readonly type: 'worker.crash';
}

/** Slows the worker down (a simulated fault): its sleeps stretch by `factor` until clock time `until`. @internal */
export interface WorkerSlowEvent {
  readonly type: 'worker.slow';
  readonly factor: number;
  readonly until: number;
}

/** The executor changed how many slots the worker has (compensation slots added or retired). @internal */
export interface WorkerResizeEvent {
  readonly type: 'worker.resize';
  readonly slots: number;
}

/**
 * Shutdown gave up waiting: the worker lets go of the functions still running (they ignored their
 * abort signal), frees their slots and reports them abandoned. @internal
 */
export interface WorkerAbandonEvent {
  readonly type: 'worker.abandon';
}

/** The worker to itself: outcomes are waiting; report them now. @internal */
export interface WorkerFlushEvent {
  readonly type: 'worker.flush';
}

/** Events a worker accepts. @internal */
export type WorkerEvent =
  | TaskDispatchEvent
  | TaskAbortEvent
  | TaskVictimEvent
  | ResourceReplyEvent
  | ResourceRepliesEvent
  | WorkerCrashEvent
  | WorkerSlowEvent
  | WorkerResizeEvent
  | WorkerFlushEvent
  | WorkerAbandonEvent
  | { readonly type: 'xstate.stop' };

/**
 * What a worker publishes: its state and a copy of its statistics, made anew at each change and
 * never mutated afterwards (typed read-only), so whoever reads it reads a value, not the worker's
 * internals.
 */
export type WorkerActorSnapshot = Snapshot<{ readonly crashed: true }> & {
  readonly value: WorkerState;
  readonly context: {
    readonly workerId: string;
    readonly stats: Readonly<WorkerStats>;
  };
};

/** A reference to a worker actor. @internal */
export type WorkerRef = ActorRef<WorkerActorSnapshot, WorkerEvent>;

type WorkerScope = ActorScope<WorkerActorSnapshot, WorkerEvent>;

/** The live part of one worker actor: its runner and its statistics. Only its own transitions touch it. */
class WorkerCore {
  readonly workerId: string;
  readonly runner: TaskRunner;
  /** A thread worker's threads; `undefined` for the main-thread worker. */
  readonly threads: ThreadPool | undefined;
  /** Its runner's way to the pools. */
  readonly post: PoolPost;
  stats: WorkerStats;
  state: WorkerState = 'idle';
  /** Whether a `worker.flush` is on its way to the actor's own mailbox. */
  flushRequested = false;
  /** The report the current flush sends to the parent once its transition is over. */
  pendingReport: WorkerReportEvent | undefined = undefined;
  /** Sends {@link WorkerCore.pendingReport} to the parent: one function for every report, not a closure each. */
  readonly sendPendingReport = (): void => {
    const report = this.pendingReport;
    this.pendingReport = undefined;
    if (report !== undefined) this.#parent?.send(report);
  };
  readonly #parent: AnyActorRef | undefined;

  constructor(input: WorkerInput, self: AnyActorRef) {
    this.workerId = input.workerId;
    this.#parent = self._parent;
    this.stats = {
      ...(input.initialStats ?? { tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0, lastTaskMs: undefined }),
      slots: input.slots,
      running: 0,
    };
    this.post = new PoolPost(input.clock);
    const environment = {
      workerId: input.workerId,
      clock: input.clock,
      sink: input.sink,
      logger: input.logger,
      services: input.services,
      post: this.post,
    };
    this.threads = input.threads === undefined ? undefined : new ThreadPool(input.threads, input.clock, input.logger, input.workerId);
    // The runner's outcomes reach the worker as an event to itself, so that every change of the
    // worker's state and statistics happens in one of its own transitions.
    this.runner = new TaskRunner(
      input.threads === undefined
        ? { ...environment, self, pace: { factor: 1, until: 0 } }
        : { ...environment, self, pace: { factor: 1, until: 0 }, threads: input.threads.count },
      () => {
        if (this.flushRequested) return;
        this.flushRequested = true;
        self.send({ type: 'worker.flush' } satisfies WorkerFlushEvent);
      },
      // A thread waits idle until its next task comes: its outcome is reported without waiting for the turn to end.
      this.threads === undefined ? {} : { functionFor: this.threads.functionFor, reportEachBurst: true },
    );
  }

  snapshot(): WorkerActorSnapshot {
    // A copy, never mutated once published (not frozen: freezing costs more than the copy, once per burst).
    const context = { workerId: this.workerId, stats: { ...this.stats } };
    if (this.state === 'crashed') return { status: 'done', output: { crashed: true }, error: undefined, value: this.state, context };
    return { status: 'active', output: undefined, error: undefined, value: this.state, context };
  }

  /** Counts a report into the statistics. */
  record(report: RunnerReport): void {
    const stats = this.stats;
    stats.running = report.inUse;
    for (const outcome of report.outcomes) {
      if (outcome.kind === 'completed') stats.tasksCompleted++;
      else if (outcome.kind === 'cancelled') stats.tasksCancelled++;
      else stats.tasksFailed++;
    }
    stats.busyMs += report.busyMs;
    stats.attempts += report.attempts;
    if (report.lastTaskMs !== undefined) stats.lastTaskMs = report.lastTaskMs;
    this.state = report.inUse === 0 ? 'idle' : 'busy';
  }
}

const cores = new WeakMap<AnyActorRef, WorkerCore>();

function coreOf(scope: WorkerScope): WorkerCore {
  return cores.get(scope.self)!;
}

/**
 * A thread worker's outcomes as the executor must see them: an attempt whose thread crashed ended
 * `crashed` (its task fails with `E_WORKER_CRASHED`, under its retry policy), not `failed`.
 */
function crashesOf(threads: ThreadPool, outcomes: readonly RunOutcome[]): readonly RunOutcome[] {
  return outcomes.map((outcome) => (outcome.kind === 'failed' && threads.isCrash(outcome.error) ? { ...outcome, kind: 'crashed' } : outcome));
}

/**
 * Applies one event to a worker.
 * @returns whether its published snapshot changed
 */
function applyWorkerEvent(core: WorkerCore, event: WorkerEvent, scope: WorkerScope): boolean {
  switch (event.type) {
    case 'task.dispatch':
      core.runner.run(event.orders);
      core.stats.running += event.orders.length;
      core.state = 'busy';
      return true;
    case 'worker.flush': {
      core.flushRequested = false;
      const report = core.runner.takeReport();
      if (report === undefined) return false;
      core.record(report);
      const parent = scope.self._parent;
      if (parent !== undefined) {
        const outcomes = core.threads === undefined ? report.outcomes : crashesOf(core.threads, report.outcomes);
        const notice: WorkerReportEvent =
          report.abandoned === undefined
            ? { type: 'worker.report', workerId: core.workerId, outcomes, freed: report.freed }
            : { type: 'worker.report', workerId: core.workerId, outcomes, freed: report.freed, abandoned: report.abandoned };
        // After this transition, as XState's sendParent would: the snapshot the executor may read is the new one.
        core.pendingReport = notice;
        scope.defer(core.sendPendingReport);
      }
      return true;
    }
    case 'worker.abandon':
      core.runner.abandon();
      return false;
    case 'worker.resize':
      core.stats.slots = event.slots;
      return true;
    case 'worker.crash':
      core.runner.stop('E_WORKER_CRASHED');
      // What its attempts posted goes now, before the supervisor revokes their tasks' leases.
      core.post.flush();
      core.threads?.destroy();
      core.state = 'crashed';
      return true;
    case 'xstate.stop':
      core.runner.stop();
      core.post.flush();
      core.threads?.destroy();
      return false;
    default:
      core.runner.receive(event);
      return false;
  }
}

/**
 * The logic of a worker: an execution context (the main thread) that runs as many tasks at once as
 * it has slots. The executor hands it attempts only for free slots, in one `task.dispatch`; it calls
 * them (through its {@link TaskRunner}) and reports their outcomes in one `worker.report` per burst
 * of promise jobs or turn of the event loop. It is `idle` while no slot is taken, `busy` otherwise,
 * and `crashed` (final: the executor learns it from the done event) after a crash. It keeps its own
 * statistics and publishes them in its snapshot.
 *
 * Custom actor logic rather than a machine: its transitions are plain code, because they run once
 * per burst of tasks and a machine's macrostep costs microseconds. The statechart it follows is
 * `machines/worker.machine.ts`, which tests hold it to.
 *
 * @internal
 */
export const workerLogic: ActorLogic<WorkerActorSnapshot, WorkerEvent, WorkerInput, AnyActorSystem, EventObject> = {
  config: 'mezan.worker',
  getInitialSnapshot(scope, input) {
    const core = new WorkerCore(input, scope.self);
    cores.set(scope.self, core);
    return core.snapshot();
  },
  transition(snapshot, event, scope) {
    const core = coreOf(scope);
    if (core === undefined || snapshot.status !== 'active') return snapshot;
    return applyWorkerEvent(core, event, scope) ? core.snapshot() : snapshot;
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
