import type { AnyActorRef } from 'xstate';
import type { DetectorNotice } from '../../actors/detector.actor';
import type { MezanError } from '../errors';
import type { TaskHandle } from '../task-handle';
import type { TaskFunction, TaskOptions } from '../task-options';

// What a running task can reach besides its own function: the engine's resource pools, the
// deadlock detector (told of awaits and lock order, so it can keep the wait-for graph), and the
// engine itself (for nested submissions). Handed to each worker's runner at start.

/** How resource ranks are enforced. */
export type LockOrderMode = 'off' | 'warn' | 'enforce';

/** One resource pool as tasks see it. */
export interface ResourceDescriptor {
  readonly name: string;
  readonly capacity: number;
  readonly rank: number | undefined;
  readonly ref: AnyActorRef;
}

/** The services of {@link TaskContext.acquire}, `submit` and `await`. */
export interface TaskServices {
  readonly resources: ReadonlyMap<string, ResourceDescriptor>;
  /**
   * Where runners report awaits and lock order, and the executor its watched tasks: the detector's
   * inbox, which delivers a turn's notices at once; `undefined` in a bare executor (tests).
   */
  readonly detector: NoticeReceiver | undefined;
  readonly lockOrder: LockOrderMode;
  /** Submits a child task of `parentId`: a function, or the name of a defined task. */
  submitChild(parentId: string, fn: TaskFunction | string, options: TaskOptions | undefined): TaskHandle<unknown>;
  /** Asks an agent (a handle or a running agent's name) from task `taskId`, which waits for the reply; absent without agents. */
  readonly askAgent?: (taskId: string, to: unknown, message: unknown, options: unknown) => Promise<unknown>;
}

/** Whatever takes notices for the deadlock detector: its inbox (or, in tests, the detector itself). */
export interface NoticeReceiver {
  send(notice: DetectorNotice): void;
}

/** Services for an engine without resources or supervisor (machine tests). */
export const NO_SERVICES: TaskServices = Object.freeze({
  resources: new Map(),
  detector: undefined,
  lockOrder: 'off',
  submitChild: () => {
    throw new Error('nested submission needs an engine');
  },
});

/** Runner → deadlock detector: what the wait-for graph must learn from a task on a worker. */
export type RunnerGraphNotice =
  /** The task waits (`active`) or no longer waits for `awaited`'s result. */
  | { readonly type: 'graph.await'; readonly taskId: string; readonly awaited: string; readonly active: boolean }
  /**
   * The task's attempt runs on one of `threads` threads, so the slot it holds while it waits is one
   * of theirs: `active` before its first wait, not `active` once it ended.
   */
  | { readonly type: 'graph.thread-task'; readonly taskId: string; readonly threads: number; readonly active: boolean }
  /** The attempt, which waited at some point, ended: its waits are over and its slot is free. */
  | { readonly type: 'graph.attempt-ended'; readonly taskId: string }
  /** The task is acquiring `resource` while holding `holding` (for the learned lock order). */
  | { readonly type: 'lockorder.acquiring'; readonly taskId: string; readonly resource: string; readonly holding: readonly string[] }
  /** A rank violation, refused (`enforce`) or let through (`warn`). */
  | {
      readonly type: 'lockorder.rank-violation';
      readonly taskId: string;
      readonly resource: string;
      readonly rank: number;
      readonly holding: ReadonlyArray<{ readonly resource: string; readonly rank: number }>;
      readonly refused: boolean;
    };

/** Deadlock detector → executor → worker → runner: the task was chosen as a deadlock victim. */
export interface TaskVictimEvent {
  readonly type: 'task.victim';
  readonly taskId: string;
  readonly error: MezanError;
}
