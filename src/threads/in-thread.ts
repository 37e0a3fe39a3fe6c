import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskContext, TaskFunction } from '../task-options';
import { expectKnownKeys, fail } from '../internal/validate';

/** Options of {@link inThread}. */
export interface InThreadOptions {
  /** The name of the function the module exports. @default 'default' */
  export?: string;
}

/** Where a thread task's code is: the module (a `file:` URL) and the name of its export. @internal */
export interface ThreadTarget {
  readonly module: string;
  readonly exportName: string;
}

/** The key under which a function made by {@link inThread} carries its {@link ThreadTarget}: registered, so that a thread's code can read it. @internal */
export const THREAD_TARGET: unique symbol = Symbol.for('mezan.threadTarget');

/**
 * Makes the `ctx` a task's function receives from its attempt's own (see {@link withContextView}).
 * @internal
 */
export type ContextView = (attempt: TaskContext) => TaskContext;

/** The key under which a thread task made by {@link withContextView} carries its {@link ContextView}. @internal */
export const THREAD_CONTEXT_VIEW: unique symbol = Symbol.for('mezan.threadContextView');

/** A task function made by {@link inThread} (or {@link withContextView} of one). @internal */
export type ThreadTaskFunction<T> = TaskFunction<T> & { readonly [THREAD_TARGET]: ThreadTarget; readonly [THREAD_CONTEXT_VIEW]?: ContextView };

const IN_THREAD_OPTION_KEYS: Readonly<Record<keyof InThreadOptions, true>> = Object.freeze({ export: true });

/**
 * A task that runs on a worker thread: the function `export` of the module at `module` (a `file:`
 * URL, or a path, resolved from the current directory), loaded in the thread. Submit it as any task
 * function; every task option applies. In the thread the function receives a `ctx` whose calls
 * (`progress`, `logger`, `sleep`, `acquire`, `submit`, `await`) are performed by the engine on its
 * behalf, `ctx.input` is a structured clone of the task's `input`, and what it returns is
 * structured-cloned back. With `threads: 0` the same function runs on the main thread.
 *
 * @param module - the module's `file:` URL (`new URL('./hash.js', import.meta.url)`) or path
 * @param options - `export`: the function's name in the module (default `'default'`)
 * @returns a task function for `engine.submit` and `ctx.submit`
 * @throws {MezanError} `E_INVALID_OPTION` for a module that is not a `file:` URL or path, or an export that is not a non-empty string
 * @example
 * ```ts
 * const hashed = engine.submit(inThread(new URL('./hash.js', import.meta.url), { export: 'hashMany' }), { input: { mb: 8 } });
 * ```
 */
export function inThread<T = unknown>(module: string | URL, options: InThreadOptions = {}): TaskFunction<T> {
  const target: ThreadTarget = Object.freeze({ module: moduleUrl(module), exportName: exportNameOf(options) });
  // The function itself runs the export on the calling thread: what an engine without threads does.
  const runHere = async (ctx: TaskContext): Promise<T> => {
    const loaded = (await import(target.module)) as Record<string, unknown>;
    const fn = loaded[target.exportName];
    if (typeof fn !== 'function') throw missingExport(target);
    return (await (fn as TaskFunction<T>)(ctx)) as T;
  };
  return Object.defineProperty(runHere, THREAD_TARGET, { value: target, enumerable: false });
}

/** The target of a function made by {@link inThread}; `undefined` for any other value. @internal */
export function threadTargetOf(fn: unknown): ThreadTarget | undefined {
  return typeof fn === 'function' ? (fn as Partial<ThreadTaskFunction<unknown>>)[THREAD_TARGET] : undefined;
}

/**
 * `fn`, whose attempts run with the `ctx` that `view` makes of theirs: how a cluster node gives a
 * task the cluster's identity of it (`ClusterTaskContext`). A thread task stays a thread task, of the
 * same target, carrying `view`: the engine still recognizes it ({@link threadTargetOf}) and runs it
 * on a thread, whose `ctx` is then the view's (its id, attempt, dependencies, and what its calls
 * reach, progress included; src/threads/thread-pool.ts). A plain arrow around it would hide it from
 * the engine, which would run the module's export on the calling thread. Views compose: `view` comes
 * first, then the one `fn` carried already.
 *
 * @param fn - a task function, a thread task or not
 * @param view - makes the `ctx` its function receives from the attempt's own
 * @returns a function of the same kind as `fn`, for `engine.submit`
 * @internal
 */
export function withContextView<T>(fn: TaskFunction<T>, view: ContextView): TaskFunction<T> {
  const viewed: TaskFunction<T> = (ctx) => fn(view(ctx));
  const target = threadTargetOf(fn);
  if (target === undefined) return viewed;
  const inner = contextViewOf(fn);
  const composed: ContextView = inner === undefined ? view : (ctx) => inner(view(ctx));
  return Object.defineProperties(viewed, {
    [THREAD_TARGET]: { value: target, enumerable: false },
    [THREAD_CONTEXT_VIEW]: { value: composed, enumerable: false },
  });
}

/** The view a thread task's attempts run with ({@link withContextView}); `undefined` for their own. @internal */
export function contextViewOf(fn: TaskFunction): ContextView | undefined {
  return (fn as Partial<ThreadTaskFunction<unknown>>)[THREAD_CONTEXT_VIEW];
}

/** The error of a module without the export a thread task names. @internal */
export function missingExport(target: ThreadTarget): Error {
  return new Error(`The module ${target.module} has no function export "${target.exportName}"`);
}

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') fail('inThread module', 'a file: URL or a path', module.href);
    return module.href;
  }
  if (typeof module !== 'string' || module.length === 0) fail('inThread module', 'a file: URL or a path', module);
  if (module.startsWith('file:')) return new URL(module).href;
  return pathToFileURL(path.resolve(module)).href;
}

function exportNameOf(options: InThreadOptions): string {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('inThread options', 'an object', options);
  expectKnownKeys('inThread options', options, IN_THREAD_OPTION_KEYS);
  const name = options.export ?? 'default';
  if (typeof name !== 'string' || name.length === 0) fail('inThread options.export', 'the name of an export (a non-empty string)', name);
  return name;
}
