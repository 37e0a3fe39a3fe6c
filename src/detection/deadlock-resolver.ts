import { MezanError } from '../errors';
import { chooseVictim, type DeadlockCandidate, type DeadlockPolicy } from './deadlock-policy';
import type { DeadlockAnalysis } from './wait-for-graph';

/** The resource that stands for worker slots in the wait-for graph. @internal */
export const WORKER_SLOTS = '@workers';

/**
 * The resource that stands for the thread worker's slots (one per thread) in the wait-for graph: a
 * thread task that waits holds one, and an awaited thread task that is queued asks for one. No
 * compensation slot is added for it: a thread is not made on demand.
 * @internal
 */
export const THREAD_SLOTS = '@threads';

/** One deadlock, as the engine reports it. */
export interface DeadlockReport {
  /** The tasks that can never finish as things stand. */
  readonly deadlocked: readonly string[];
  /** One cycle among them, closed: tasks and the resources between them. */
  readonly cycle: readonly string[];
  /**
   * The task whose wait failed with `E_DEADLOCK`, when one was chosen; for a cycle through agents'
   * asks, the asked message's node (`@agent:<name>#<n>`), whose ask failed with it.
   */
  readonly victim?: string;
  /** `victim`, `compensation` (an extra worker), or absent when it was only detected. */
  readonly resolution?: 'victim' | 'compensation';
  /** The victim policy in force (`custom` for a function). */
  readonly policy: string;
  /** Clock time of the detection. */
  readonly at: number;
  /**
   * For a deadlock across the nodes of a cluster only (reported by the node of its victim): the
   * nodes whose tasks are on the cycle, sorted; its task ids are then `<node>/<task id>`.
   */
  readonly nodes?: readonly string[];
}

/** What the supervisor knows of an unfinished task, read from the executor's snapshot. @internal */
export interface TaskFacts {
  readonly state: string;
  readonly priority: number;
  readonly admittedSeq: number;
  readonly dispatchedAt: number;
}

/** How deadlocks are resolved. @internal */
export interface ResolutionSettings {
  readonly policy: DeadlockPolicy;
  /** The most compensation workers at once; 0 turns compensation off. */
  readonly maxExtraWorkers: number;
}

/** What to do about a deadlock. @internal */
export type Resolution =
  | { readonly kind: 'victim'; readonly report: DeadlockReport; readonly error: MezanError }
  | { readonly kind: 'compensation'; readonly report: DeadlockReport }
  /** Nothing can be done now: every candidate is already a victim whose end is on its way. */
  | { readonly kind: 'wait'; readonly report: DeadlockReport };

/**
 * Decides how to resolve a detected deadlock: with an extra worker when worker slots are on the
 * cycle and the compensation bound allows one; otherwise by a victim, chosen by policy among the
 * tasks on the cycle that hold a worker slot while they wait (the only ones with a wait to fail).
 *
 * @internal
 */
export function resolveDeadlock(
  analysis: DeadlockAnalysis,
  settings: ResolutionSettings,
  context: {
    readonly now: number;
    readonly extraWorkers: number;
    readonly blockedOnWorker: ReadonlySet<string>;
    readonly pendingVictims: ReadonlySet<string>;
    /** Whether a task is on a cycle of the wait-for relation (so that failing it can help). */
    readonly isOnCycle: (taskId: string) => boolean;
    readonly unitsHeld: (taskId: string) => number;
    readonly describe: (taskId: string) => TaskFacts | undefined;
  },
): Resolution {
  const policy = typeof settings.policy === 'function' ? 'custom' : settings.policy;
  const base = { deadlocked: analysis.deadlocked, cycle: analysis.cycle, policy, at: context.now };
  if (analysis.cycle.includes(WORKER_SLOTS) && context.extraWorkers < settings.maxExtraWorkers) {
    return { kind: 'compensation', report: { ...base, resolution: 'compensation' } };
  }
  // Only a task on a cycle can break one: a task merely waiting behind the deadlock would die for nothing.
  const candidates: DeadlockCandidate[] = [];
  for (const taskId of analysis.deadlocked) {
    if (!context.isOnCycle(taskId)) continue;
    if (!context.blockedOnWorker.has(taskId)) continue;
    if (context.pendingVictims.has(taskId)) return { kind: 'wait', report: base };
    const facts = context.describe(taskId);
    if (facts === undefined) continue;
    candidates.push({
      taskId,
      submittedSeq: facts.admittedSeq,
      priority: facts.priority,
      workMs: Math.max(0, context.now - facts.dispatchedAt),
      resourcesHeld: context.unitsHeld(taskId),
    });
  }
  if (candidates.length === 0) return { kind: 'wait', report: base };
  const victim = chooseVictim(settings.policy, candidates);
  const report: DeadlockReport = { ...base, victim, resolution: 'victim' };
  const error = new MezanError('E_DEADLOCK', `Task ${victim} was chosen (${policy}) to break a deadlock: ${analysis.cycle.join(' → ')}`, {
    details: { victim, cycle: analysis.cycle, deadlocked: analysis.deadlocked, policy },
  });
  return { kind: 'victim', report, error };
}
