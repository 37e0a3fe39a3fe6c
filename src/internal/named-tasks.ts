import { MezanError } from '../errors';
import type { TaskFunction } from '../task-options';
import { didYouMean } from './did-you-mean';
import { expectFunction, expectNonEmptyString, expectOptionsObject, fail } from './validate';

/**
 * The functions an engine knows by name (its `tasks` option and `engine.define`): what
 * `engine.submit('resize', options)` runs, and what a cluster node can run for the others. Only
 * added to, never changed: a name once defined means one function for the engine's whole life.
 * @internal
 */
export class NamedTasks {
  readonly #functions = new Map<string, TaskFunction>();

  /**
   * The `tasks` option, checked: an object of non-empty names and functions.
   * @throws {MezanError} `E_INVALID_OPTION` naming `tasks` or `tasks.<name>`
   */
  static fromOption(tasks: unknown): NamedTasks {
    const named = new NamedTasks();
    if (tasks === undefined) return named;
    expectOptionsObject('tasks', tasks, 'an object of task names and functions');
    for (const [name, fn] of Object.entries(tasks)) {
      if (name.length === 0) fail('tasks', 'task names that are non-empty strings', name);
      expectFunction(`tasks.${name}`, fn);
      named.#functions.set(name, fn as TaskFunction);
    }
    return named;
  }

  /** How many names are defined. */
  get size(): number {
    return this.#functions.size;
  }

  /**
   * Defines `name` as `fn`.
   * @throws {MezanError} `E_INVALID_OPTION` for an empty or non-string name, a name already
   *   defined, or a `fn` that is not a function
   */
  define(name: string, fn: TaskFunction): void {
    expectNonEmptyString('name', name);
    if (this.#functions.has(name)) fail('name', 'a name no task of this engine has (a named task is defined once)', name);
    expectFunction('fn', fn);
    this.#functions.set(name, fn);
  }

  /** The function named `name`, or `undefined`. */
  find(name: string): TaskFunction | undefined {
    return this.#functions.get(name);
  }

  /**
   * The function named `name`.
   * @throws {MezanError} `E_UNKNOWN_TASK` for a name not defined, with the closest defined one suggested
   */
  get(name: string): TaskFunction {
    const fn = this.#functions.get(name);
    if (fn !== undefined) return fn;
    throw unknownTask(name, this.names());
  }

  /** The defined names, in the order they were defined. */
  names(): string[] {
    return [...this.#functions.keys()];
  }
}

/**
 * The error of a task name no function is defined for: `E_UNKNOWN_TASK`, with the closest known
 * name suggested and the known names in `details.known`.
 * @param where - whose names were looked in, for the message: `this engine`, `node "api-1"`
 * @internal
 */
export function unknownTask(name: string, known: readonly string[], where = 'this engine'): MezanError {
  const list = known.length === 0 ? 'none' : known.map((candidate) => JSON.stringify(candidate)).join(', ');
  return new MezanError('E_UNKNOWN_TASK', `No task named ${JSON.stringify(name)} is defined in ${where}${didYouMean(name, known)}; known: ${list}`, {
    details: { task: name, known: [...known] },
  });
}
