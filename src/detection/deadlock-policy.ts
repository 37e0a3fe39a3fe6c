import { MezanError } from '../errors';
import { expectOneOf, fail } from '../internal/validate';

/** What a deadlock policy knows of each deadlocked task. @internal */
export interface DeadlockCandidate {
  readonly taskId: string;
  /** Submission order: higher is younger. */
  readonly submittedSeq: number;
  /** The task's priority (higher runs first). */
  readonly priority: number;
  /** Time the task has spent running so far, in milliseconds. */
  readonly workMs: number;
  /** Units of every resource pool the task holds, in total (its worker slot not counted). */
  readonly resourcesHeld: number;
}

/** The named deadlock policies. @internal */
export type DeadlockPolicyName = 'youngest' | 'lowest-priority' | 'least-work' | 'fewest-resources';

/**
 * How the victim of a deadlock is chosen: a named policy, or a function given the candidates
 * (sorted by task id) that returns the victim's id.
 *
 * @internal
 */
export type DeadlockPolicy = DeadlockPolicyName | ((candidates: readonly DeadlockCandidate[]) => string);

/** Every named {@link DeadlockPolicy}. @internal */
export const DEADLOCK_POLICY_NAMES: readonly DeadlockPolicyName[] = Object.freeze(['youngest', 'lowest-priority', 'least-work', 'fewest-resources']);

/** Each named policy's primary key: the candidate with the smallest key is the victim. */
const PRIMARY_KEY: Readonly<Record<DeadlockPolicyName, ((candidate: DeadlockCandidate) => number) | undefined>> = Object.freeze({
  youngest: undefined,
  'lowest-priority': (candidate) => candidate.priority,
  'least-work': (candidate) => candidate.workMs,
  'fewest-resources': (candidate) => candidate.resourcesHeld,
});

/**
 * Chooses the victim of a deadlock among `candidates`, deterministically: the youngest, the lowest
 * priority, the least work done or the fewest units held; ties go to the youngest, then to the
 * smallest task id. A policy function receives the candidates sorted by task id.
 *
 * @param policy - the policy (a name, or a function returning a candidate's id)
 * @param candidates - the deadlocked tasks, at least one
 * @returns the victim's task id
 * @throws {MezanError} `E_INVALID_OPTION` for an unknown policy, no candidates, or a policy function
 * that returns an id that is not a candidate's
 * @example
 * ```ts
 * chooseVictim('lowest-priority', candidates); // 't7'
 * ```
 * @internal
 */
export function chooseVictim(policy: DeadlockPolicy, candidates: readonly DeadlockCandidate[]): string {
  if (candidates.length === 0) fail('candidates', 'at least one deadlocked task', candidates);
  if (typeof policy === 'function') return chooseByFunction(policy, candidates);
  expectOneOf('deadlock.policy', policy, DEADLOCK_POLICY_NAMES);
  const key = PRIMARY_KEY[policy];
  let victim = candidates[0]!;
  for (let index = 1; index < candidates.length; index++) {
    const candidate = candidates[index]!;
    if (key !== undefined) {
      const difference = key(candidate) - key(victim);
      if (difference < 0) victim = candidate;
      if (difference !== 0) continue;
    }
    if (candidate.submittedSeq > victim.submittedSeq || (candidate.submittedSeq === victim.submittedSeq && candidate.taskId < victim.taskId)) {
      victim = candidate;
    }
  }
  return victim.taskId;
}

function chooseByFunction(policy: (candidates: readonly DeadlockCandidate[]) => string, candidates: readonly DeadlockCandidate[]): string {
  const sorted = Object.freeze(
    [...candidates].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0)).map((candidate) => Object.freeze({ ...candidate })),
  );
  const victim = policy(sorted);
  if (!sorted.some((candidate) => candidate.taskId === victim)) {
    throw new MezanError('E_INVALID_OPTION', `The deadlock policy function returned ${JSON.stringify(victim)}, which is not a deadlocked task`, {
      details: { option: 'deadlock.policy', received: victim, candidates: sorted.map((candidate) => candidate.taskId) },
    });
  }
  return victim;
}
