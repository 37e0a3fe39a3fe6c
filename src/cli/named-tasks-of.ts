import type { NamedTaskFunctions } from '../engine-options';
import { MezanError } from '../errors';
import type { TaskFunction } from '../task-options';

/**
 * The named tasks a `mezan node --tasks` module exports: each function it exports, by export name
 * (a CommonJS module's `module.exports`, or an ES module's namespace and its default object): every
 * own one, whatever its name (`toString`, `constructor` and `__proto__` too, which a plain object
 * would take for its prototype's).
 *
 * @param exported - what the module exports (its `module.exports`, or its namespace)
 * @param file - the module, as given, named in a refusal
 * @returns the tasks by name; never empty
 * @throws {MezanError} `E_INVALID_OPTION` naming `tasks` (`details.file`, `details.problem`): a
 *   module whose default export is a function (`module.exports = fn`, `export default function`),
 *   which gives its task no name, even beside named exports (`default-function`); a module that
 *   exports no function (`no-function`)
 * @internal
 */
export function namedTasksOf(exported: unknown, file: string): NamedTaskFunctions {
  // Taken under some name, it would run under a name the module never wrote; left out, the node
  // would run without it, and a task of that name would wait for another node for ever.
  if (defaultFunctionOf(exported))
    throw refusal(
      file,
      'default-function',
      `${file}: exports a function as its default export (module.exports = fn, or export default function), which names no task: export each task under its name (export function resize(ctx) {…}, or module.exports = { resize })`,
    );
  const tasks = new Map<string, TaskFunction>();
  const collect = (source: unknown): void => {
    if ((typeof source !== 'object' && typeof source !== 'function') || source === null) return;
    for (const [name, value] of Object.entries(source))
      if (typeof value === 'function' && name !== 'default' && !tasks.has(name)) tasks.set(name, value as TaskFunction);
  };
  collect(exported);
  collect((exported as { default?: unknown } | null)?.default);
  if (tasks.size === 0)
    throw refusal(
      file,
      'no-function',
      `${file}: exports no function to run as a named task: export each task under its name (export function resize(ctx) {…}, or module.exports = { resize })`,
    );
  // Made of entries, the object's keys are its own properties, `__proto__` included.
  return Object.fromEntries(tasks);
}

/**
 * Whether a module's default export is a function: `module.exports = fn`, an ES module's `export
 * default function` (its namespace's `default`), or a transpiled one's `exports.default = fn` (the
 * `default` of its `module.exports`, which an ES module's import of it gives as `default`).
 */
function defaultFunctionOf(exported: unknown): boolean {
  if (typeof exported === 'function') return true;
  const first = defaultOf(exported);
  return typeof first === 'function' || typeof defaultOf(first) === 'function';
}

function defaultOf(value: unknown): unknown {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && Object.hasOwn(value, 'default')
    ? (value as { default?: unknown }).default
    : undefined;
}

function refusal(file: string, problem: 'default-function' | 'no-function', message: string): MezanError {
  return new MezanError('E_INVALID_OPTION', message, { details: { option: 'tasks', file, problem } });
}
