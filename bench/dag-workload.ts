import type { RandomSource } from '../src/index';

/** A directed acyclic graph of tasks numbered in a topological order: every dependency is an earlier task. */
export interface TaskDag {
  readonly tasks: number;
  /** `dependencies[i]`: the tasks that must finish before task `i` (distinct, all below `i`). */
  readonly dependencies: ReadonlyArray<readonly number[]>;
  /** `dependents[i]`: the tasks that list task `i` among their dependencies (the reverse edges). */
  readonly dependents: ReadonlyArray<readonly number[]>;
  readonly edges: number;
}

/**
 * Draws a DAG where each task but the first depends on 1 to 3 distinct earlier tasks (fewer when
 * there are not that many), chosen uniformly: the same `random` sequence gives the same graph.
 *
 * @param tasks - how many tasks, at least 1
 * @param random - a seeded source, so every contender gets the same graph
 * @throws {RangeError} when `tasks` is not a positive integer
 */
export function buildTaskDag(tasks: number, random: RandomSource): TaskDag {
  if (!Number.isInteger(tasks) || tasks < 1) throw new RangeError(`Expected a positive integer of tasks, got \`${tasks}\``);
  const dependencies: number[][] = [];
  const dependents: number[][] = [];
  let edges = 0;
  for (let task = 0; task < tasks; task++) {
    const wanted = Math.min(task, 1 + Math.floor(random() * 3));
    const chosen: number[] = [];
    while (chosen.length < wanted) {
      const dependency = Math.floor(random() * task);
      if (!chosen.includes(dependency)) chosen.push(dependency);
    }
    dependencies.push(chosen);
    dependents.push([]);
    for (const dependency of chosen) dependents[dependency]!.push(task);
    edges += chosen.length;
  }
  return { tasks, dependencies, dependents, edges };
}
