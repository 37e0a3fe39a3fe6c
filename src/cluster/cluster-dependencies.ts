import { MezanError, type MezanErrorCode } from '../errors';
import { describeValue, expectKnownKeys, expectOneOf, fail } from '../internal/validate';
import { TaskHandle } from '../task-handle';
import { DEPENDENCY_SPEC_KEYS, type Dependency, type DependencyOutcome } from '../task-options';
import type { TaskStatus, TerminalTaskStatus } from '../task-status';

/**
 * A cluster task's dependency, resolved on the submitting node: the handle it waits for (a cluster
 * task this node submitted, or any settled handle) and whether it must complete. @internal
 */
export interface ClusterDependency {
  readonly handle: TaskHandle<unknown>;
  readonly allow: 'completed' | 'settled';
}

/** A dependency's outcome as it travels in the dependant's job (JSON): its error as code and message. @internal */
export interface TravellingOutcome {
  readonly id: string;
  readonly name: string;
  readonly status: TerminalTaskStatus;
  readonly value?: unknown;
  readonly error?: { readonly code: MezanErrorCode; readonly message: string };
}

/**
 * Resolves a cluster submission's `dependsOn`. The dependencies are gated on the submitting node:
 * an unfinished handle must be one of its own cluster tasks (`isOwnClusterTask`), an id one of its
 * unfinished cluster tasks (`findOwn`); a settled handle tells how its task ended, whoever made it.
 * @throws {MezanError} `E_INVALID_OPTION` naming `dependsOn[i]` (or `.task`, `.allow`)
 * @internal
 */
export function resolveClusterDependencies(
  dependsOn: unknown,
  findOwn: (id: string) => TaskHandle<unknown> | undefined,
  isOwnClusterTask: (handle: TaskHandle<unknown>) => boolean,
): readonly ClusterDependency[] {
  if (dependsOn === undefined) return [];
  if (!Array.isArray(dependsOn)) fail('dependsOn', 'an array of task handles or ids', dependsOn);
  const list = dependsOn as readonly Dependency[];
  const resolved: ClusterDependency[] = [];
  // An index loop, not `map`: a hole in the array is a dependency of `undefined`, refused as such.
  for (let index = 0; index < list.length; index++) resolved.push(resolveDependency(list[index], index, findOwn, isOwnClusterTask));
  return resolved;
}

/** One dependency of {@link resolveClusterDependencies}, at `dependsOn[index]`. */
function resolveDependency(
  dependency: Dependency | undefined,
  index: number,
  findOwn: (id: string) => TaskHandle<unknown> | undefined,
  isOwnClusterTask: (handle: TaskHandle<unknown>) => boolean,
): ClusterDependency {
  let task: unknown = dependency;
  let allow: ClusterDependency['allow'] = 'completed';
  const isSpec = typeof dependency === 'object' && dependency !== null && !(dependency instanceof TaskHandle);
  const option = `dependsOn[${index}]${isSpec ? '.task' : ''}`;
  if (isSpec) {
    expectKnownKeys(`dependsOn[${index}]`, dependency, DEPENDENCY_SPEC_KEYS);
    task = dependency.task;
    if (dependency.allow !== undefined) {
      expectOneOf(`dependsOn[${index}].allow`, dependency.allow, ['completed', 'settled'] as const);
      allow = dependency.allow;
    }
  }
  if (task instanceof TaskHandle) {
    if (task.isSettled) {
      expectTravelling(option, task);
      return { handle: task, allow };
    }
    if (isOwnClusterTask(task)) return { handle: task, allow };
    fail(
      option,
      'a cluster task this engine submitted, or a settled task (an unfinished local task cannot be a cluster task’s dependency: the cluster would not hear of it)',
      describeValue(task.id),
    );
  }
  if (typeof task !== 'string') fail(option, "a task handle or id, or { task, allow: 'settled' }", task);
  const handle = findOwn(task);
  if (handle === undefined) fail(option, 'the id of an unfinished cluster task this engine submitted (or a handle)', task);
  return { handle, allow };
}

/** A settled dependency's value must reach the running node as JSON. */
function expectTravelling(option: string, handle: TaskHandle<unknown>): void {
  const outcome = handle.describeOutcome()!;
  if (outcome.status !== 'completed' || outcome.value === undefined) return;
  let text: string | undefined;
  try {
    text = JSON.stringify(outcome.value);
  } catch {
    text = undefined;
  }
  if (text === undefined)
    fail(option, 'a task whose value JSON can carry (it travels to the node that runs the dependant)', describeValue(handle.id));
}

/**
 * The dependency that stops dependant `name` (`id`), if any: the first that must complete and
 * ended otherwise. `undefined` while none did.
 * @internal
 */
export function failedDependency(dependencies: readonly ClusterDependency[]): TaskHandle<unknown> | undefined {
  return dependencies.find(({ handle, allow }) => allow === 'completed' && handle.isSettled && handle.status !== 'completed')?.handle;
}

/** The error of a dependant that did not run because dependency `dependency` did not complete, as a local engine words it. @internal */
export function dependencyFailedError(name: string, id: string, dependency: string, dependencyStatus: TaskStatus): MezanError {
  return new MezanError('E_DEPENDENCY_FAILED', `Task "${name}" did not run: its dependency "${dependency}" ended ${dependencyStatus}`, {
    details: { taskId: id, dependency, dependencyStatus },
  });
}

/** The settled dependencies' outcomes, as they travel in the job. @internal */
export function travellingOutcomes(dependencies: readonly ClusterDependency[]): TravellingOutcome[] {
  return dependencies.map(({ handle }) => travellingOutcome(handle));
}

/** A settled dependency's outcome, as it travels in the job. @internal */
export function travellingOutcome(handle: TaskHandle<unknown>): TravellingOutcome {
  const { id, name, status, value, error } = handle.describeOutcome()!;
  return status === 'completed'
    ? { id, name, status, value: value === undefined ? null : value }
    : { id, name, status, error: { code: error!.code, message: error!.message } };
}

/** The outcomes as `ctx.dependencies` lists them on the running node: errors as `MezanError`s again. @internal */
export function reviveOutcomes(outcomes: readonly TravellingOutcome[] | undefined): readonly DependencyOutcome[] {
  if (outcomes === undefined) return NONE;
  return Object.freeze(
    outcomes.map(({ id, name, status, value, error }) =>
      Object.freeze(
        status === 'completed'
          ? { id, name, status, value }
          : { id, name, status, error: new MezanError(error!.code, error!.message, { details: { taskId: id } }) },
      ),
    ),
  );
}

const NONE: readonly DependencyOutcome[] = Object.freeze([]);
