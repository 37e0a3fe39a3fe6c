import type { MezanErrorCode } from './errors';

/** What every engine event carries: its `type` and the clock time `at` which it happened. */
export interface EngineEventBase {
  /** The event's namespaced type, such as `task.completed`. */
  readonly type: string;
  /** The engine clock's time when it happened, in milliseconds. */
  readonly at: number;
}

/** What every task event carries on top of {@link EngineEventBase}. */
export interface TaskEventBase extends EngineEventBase {
  /** The task's id. */
  readonly taskId: string;
  /** The task's name. */
  readonly name: string;
  /** The attempt the event concerns, starting at 1. */
  readonly attempt: number;
}

/** A task entered the ready queue (on submission, when its dependencies completed, or for a retry). */
export interface TaskQueuedEvent extends TaskEventBase {
  readonly type: 'task.queued';
  /** The task's priority: higher runs first. */
  readonly priority: number;
}

/** A worker called the task's function. */
export interface TaskStartedEvent extends TaskEventBase {
  readonly type: 'task.started';
  /** The worker that runs the attempt. */
  readonly workerId: string;
}

/** The task reported progress through `ctx.progress`. */
export interface TaskProgressEvent extends TaskEventBase {
  readonly type: 'task.progress';
  /** The worker that runs the attempt. */
  readonly workerId: string;
  /** In `[0, 1]`. */
  readonly fraction: number;
  /** The message given to `ctx.progress`, if any. */
  readonly message: string | undefined;
}

/** An attempt failed and another will follow after `delayMs`; `attempt` is the failed one. */
export interface TaskRetryingEvent extends TaskEventBase {
  readonly type: 'task.retrying';
  /** The worker the failed attempt ran on. */
  readonly workerId: string;
  /** How long until the next attempt is queued, in milliseconds. */
  readonly delayMs: number;
  /** Why the attempt failed. */
  readonly code: MezanErrorCode;
  /** What the attempt threw (or the `MezanError` that failed it). */
  readonly error: unknown;
}

/** The task's function returned; the task is `completed`. */
export interface TaskCompletedEvent extends TaskEventBase {
  readonly type: 'task.completed';
  /** The worker that ran the attempt. */
  readonly workerId: string;
  /** How long the attempt ran, in milliseconds of the engine's clock. */
  readonly durationMs: number;
}

/** The task is `failed`: its function threw on its last attempt, or a dependency did not complete. */
export interface TaskFailedEvent extends TaskEventBase {
  readonly type: 'task.failed';
  /** The worker the last attempt ran on; `undefined` when it never ran (a dependency failed). */
  readonly workerId: string | undefined;
  /** How long the last attempt ran, in milliseconds; `undefined` when it never ran. */
  readonly durationMs: number | undefined;
  /** Why it failed, such as `E_TASK_FAILED` or `E_DEPENDENCY_FAILED`. */
  readonly code: MezanErrorCode;
  /** What the function threw (or the `MezanError` that failed the task). */
  readonly error: unknown;
}

/**
 * The task is `cancelled`: by its caller (`E_CANCELLED`) or by shutdown (`E_SHUTDOWN`). `workerId` is
 * set when it was on a worker.
 */
export interface TaskCancelledEvent extends TaskEventBase {
  readonly type: 'task.cancelled';
  /** The worker it ran on; `undefined` when it was cancelled before it started. */
  readonly workerId: string | undefined;
  /** `E_CANCELLED` for its caller, `E_SHUTDOWN` for a shutdown. */
  readonly code: 'E_CANCELLED' | 'E_SHUTDOWN';
}

/**
 * The task is `timeout`: it ran past its `timeoutMs` (`E_TIMEOUT`: its signal aborted), or it did
 * not start within its `queueTimeoutMs` (`E_QUEUE_TIMEOUT`: no worker, a duration of 0).
 */
export interface TaskTimeoutEvent extends TaskEventBase {
  readonly type: 'task.timeout';
  /** The worker it ran on; `undefined` for `E_QUEUE_TIMEOUT`. */
  readonly workerId: string | undefined;
  /** How long the attempt ran before it timed out, in milliseconds; 0 for `E_QUEUE_TIMEOUT`. */
  readonly durationMs: number;
  /** Which deadline passed. */
  readonly code: 'E_TIMEOUT' | 'E_QUEUE_TIMEOUT';
}

/** The task was chosen as a deadlock victim and had no retry left: it is `deadlock`. */
export interface TaskDeadlockEvent extends TaskEventBase {
  readonly type: 'task.deadlock';
  /** The worker it ran on, when it was running. */
  readonly workerId: string | undefined;
  /** Always `E_DEADLOCK`. */
  readonly code: 'E_DEADLOCK';
}

/** The task was submitted after shutdown began and is `rejected`. */
export interface TaskRejectedEvent extends TaskEventBase {
  readonly type: 'task.rejected';
  /** Always `E_SHUTDOWN`. */
  readonly code: 'E_SHUTDOWN';
}

/** Every submitted task has settled. */
export interface EngineIdleEvent extends EngineEventBase {
  readonly type: 'engine.idle';
}

/** A process signal arrived (only with `shutdown.signals` set); it starts or hurries shutdown. */
export interface SignalReceivedEngineEvent extends EngineEventBase {
  readonly type: 'signal.received';
  /** The signal's name, such as `SIGTERM`. */
  readonly signal: string;
}

/** Shutdown entered a phase: `draining`, `terminating` or `stopped`, and why. */
export interface ShutdownPhaseEngineEvent extends EngineEventBase {
  readonly type: 'shutdown.phase';
  /** The phase entered. */
  readonly phase: 'draining' | 'terminating' | 'stopped';
  /** `request`, `signal`, `force`, `grace` (the grace period ran out) or `drained`. */
  readonly cause: string;
}

/** A worker crashed; its running attempt failed with `E_WORKER_CRASHED`. */
export interface WorkerCrashedEvent extends EngineEventBase {
  readonly type: 'worker.crashed';
  /** The worker that crashed. */
  readonly workerId: string;
}

/** A crashed worker was restarted (one-for-one), within the supervision limit. */
export interface WorkerRestartedEvent extends EngineEventBase {
  readonly type: 'worker.restarted';
  /** The worker restarted, with the id it had. */
  readonly workerId: string;
  /** Restarts within the current supervision window, this one included. */
  readonly restartsInWindow: number;
}

/**
 * The engine gave up: past the supervision limit (`reason` 'restart intensity exceeded'), it stopped
 * taking work and rejected its queued tasks; or one of its actors failed (`reason` 'actor failed',
 * `actor` naming it), and it shuts itself down.
 */
export interface EngineEscalatedEvent extends EngineEventBase {
  readonly type: 'engine.escalated';
  /** Always `critical`. */
  readonly severity: 'critical';
  /** `restart intensity exceeded` or `actor failed`. */
  readonly reason: string;
  /** Worker restarts within the supervision window. */
  readonly restarts: number;
  /** The supervision window, in milliseconds (`supervision.withinMs`). */
  readonly withinMs: number;
  /** The actor that failed, when one did. */
  readonly actor?: string;
}

/** A task waits for units of a resource pool (its request is queued). */
export interface ResourceWaitingEvent extends EngineEventBase {
  readonly type: 'resource.waiting';
  /** The task. */
  readonly taskId: string;
  /** The pool. */
  readonly resource: string;
  /** The units it asked for. */
  readonly units: number;
}

/** A task now holds more units of a resource pool (`units`: what it holds there now). */
export interface ResourceAcquiredEvent extends EngineEventBase {
  readonly type: 'resource.acquired';
  /** The task. */
  readonly taskId: string;
  /** The pool. */
  readonly resource: string;
  /** The units it holds in the pool now, in all. */
  readonly units: number;
}

/** A task gave units of a pool back (released, revoked, or at its end); `units`: what it still holds there. */
export interface ResourceReleasedEvent extends EngineEventBase {
  readonly type: 'resource.released';
  /** The task. */
  readonly taskId: string;
  /** The pool. */
  readonly resource: string;
  /** The units it still holds in the pool. */
  readonly units: number;
}

/** A task gave up waiting for a resource after `timeoutMs` (`E_RESOURCE_TIMEOUT`). */
export interface ResourceTimeoutEvent extends EngineEventBase {
  readonly type: 'resource.timeout';
  /** The task. */
  readonly taskId: string;
  /** The pool. */
  readonly resource: string;
  /** The units it asked for. */
  readonly units: number;
  /** How long it waited, in milliseconds: the acquire's `timeoutMs`. */
  readonly timeoutMs: number;
}

/**
 * The supervisor found a deadlock: the tasks that can never finish, and one cycle among them. For a
 * deadlock across the nodes of a cluster, the node whose task is its victim publishes it, with the
 * cycle's `nodes`, and task ids as the cluster names them (`<node>/<task id>`).
 */
export interface DeadlockDetectedEvent extends EngineEventBase {
  readonly type: 'deadlock.detected';
  /** The ids of the tasks that can never finish. */
  readonly deadlocked: readonly string[];
  /** One cycle among them, closed: tasks and the resources between them. */
  readonly cycle: readonly string[];
  /** For a deadlock across the nodes of a cluster only: the nodes whose tasks are on the cycle, sorted. */
  readonly nodes?: readonly string[];
}

/** The supervisor resolved a deadlock: by a `victim` (its wait fails with `E_DEADLOCK`) or by `compensation` (an extra worker). */
export interface DeadlockResolvedEvent extends EngineEventBase {
  readonly type: 'deadlock.resolved';
  /** How it was resolved. */
  readonly resolution: 'victim' | 'compensation';
  /** The task whose wait failed, for `victim`. */
  readonly victim: string | undefined;
  /** The policy that chose the victim, such as `youngest`. */
  readonly policy: string;
  /** The cycle that was resolved, as in `deadlock.detected`. */
  readonly cycle: readonly string[];
  /** For a deadlock across the nodes of a cluster only: the nodes whose tasks are on the cycle, as in `deadlock.detected`. */
  readonly nodes?: readonly string[];
}

/**
 * Resources taken out of order: a `rank` violation (refused under `lockOrder: 'enforce'`), or an
 * `inversion` of the learned order between tasks, a potential deadlock even when none happened.
 */
export interface LockOrderViolationEvent extends EngineEventBase {
  readonly type: 'lockorder.violation';
  /** A violated `rank`, or an `inversion` of the learned order. */
  readonly kind: 'rank' | 'inversion';
  /** The task that took a resource out of order. */
  readonly taskId: string;
  /** For `rank`: the resource being taken; for `inversion`: the cycle of the learned order, closed. */
  readonly resources: readonly string[];
  /** For `inversion`: the tasks that took each step of the cycle. */
  readonly tasks: readonly string[];
  /** `true` when the acquire was refused (`E_LOCK_ORDER`, under `lockOrder: 'enforce'`). */
  readonly refused: boolean;
}

/** What an alert watches: a pool's waits or utilization, the queue, deadlocks, worker restarts, or an agent's mailbox. */
export type AlertKind = 'resource.wait' | 'resource.utilization' | 'queue.depth' | 'deadlock' | 'worker.restarts' | 'agent.mailbox';

/** How urgent an alert is; it is logged at `warn` (warning) or `error` (critical) level. */
export type AlertSeverity = 'warning' | 'critical';

/** What every alert event carries on top of {@link EngineEventBase}. */
export interface AlertEventBase extends EngineEventBase {
  /** The alert's identity, the same in its raised and cleared events: its kind, and `:pool` for a pool's (`:agent` for an agent's). */
  readonly alertId: string;
  /** What the alert watches. */
  readonly alert: AlertKind;
  /** How urgent it is. */
  readonly severity: AlertSeverity;
  /** The pool, for `resource.wait` and `resource.utilization`. */
  readonly resource: string | undefined;
  /** The agent, for `agent.mailbox`. */
  readonly agent?: string | undefined;
  /**
   * The measured value: milliseconds waited, a utilization in `[0, 1]`, tasks queued, tasks
   * deadlocked, restarts in the window, or messages in a mailbox.
   */
  readonly value: number;
  /** The threshold the value went over. */
  readonly threshold: number;
  /** A sentence for people, as it is logged. */
  readonly message: string;
}

/** The monitor raised an alert: a measure crossed its threshold. Raised once until it clears. */
export interface AlertRaisedEvent extends AlertEventBase {
  readonly type: 'alert.raised';
}

/**
 * An alert cleared: its measure fell to or below its clear level (a fraction of the threshold, so it
 * does not flap), or the engine stopped.
 */
export interface AlertClearedEvent extends AlertEventBase {
  readonly type: 'alert.cleared';
  /** The level the value fell to or below: `clearRatio` times the threshold. */
  readonly clearLevel: number;
  /** Clock time the alert was raised. */
  readonly raisedAt: number;
}

/** Every event `engine.events$` emits, discriminated by `type`. */
export type EngineEvent =
  | TaskQueuedEvent
  | TaskStartedEvent
  | TaskProgressEvent
  | TaskRetryingEvent
  | TaskCompletedEvent
  | TaskFailedEvent
  | TaskCancelledEvent
  | TaskTimeoutEvent
  | TaskDeadlockEvent
  | TaskRejectedEvent
  | EngineIdleEvent
  | SignalReceivedEngineEvent
  | ShutdownPhaseEngineEvent
  | WorkerCrashedEvent
  | WorkerRestartedEvent
  | EngineEscalatedEvent
  | ResourceWaitingEvent
  | ResourceAcquiredEvent
  | ResourceReleasedEvent
  | ResourceTimeoutEvent
  | DeadlockDetectedEvent
  | DeadlockResolvedEvent
  | LockOrderViolationEvent
  | AlertRaisedEvent
  | AlertClearedEvent;

/** The `type` strings of {@link EngineEvent}. */
export type EngineEventType = EngineEvent['type'];
