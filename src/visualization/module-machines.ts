import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';
import { StateMachine, type AnyStateMachine } from 'xstate';
import { MezanError } from '../errors';

/** A machine a user's module exports, under the name it is exported as (`default` for a default export). */
export interface ModuleMachine {
  readonly exportName: string;
  readonly machine: AnyStateMachine;
}

/** What was wrong with a module given to {@link loadModuleMachines}: `details.problem` of the error it throws. */
export type ModuleMachinesProblem = 'not-found' | 'not-a-module' | 'needs-typescript-loader' | 'load-failed' | 'no-machine';

/** The files of tsx's two registration APIs (their ES modules), `tsx/esm/api` and `tsx/cjs/api`. */
export interface TsxApi {
  readonly esm: string;
  readonly cjs: string;
}

/** How this process can load a TypeScript module. */
export interface TypeScriptSupport {
  /** tsx's registration APIs, when tsx is installed beside the module or beside mezan. */
  readonly tsxApi: TsxApi | undefined;
  /** Whether this process loads TypeScript already: Node strips types (22.6 and later), or a loader such as tsx's is registered. */
  readonly native: boolean;
}

/** Options of {@link loadModuleMachines}. */
export interface LoadModuleMachinesOptions {
  /** How TypeScript modules can be loaded; found out from the module's folder and the running Node by default. */
  readonly typeScript?: (moduleFile: string) => TypeScriptSupport;
}

const JAVASCRIPT_EXTENSIONS: readonly string[] = ['.js', '.cjs', '.mjs'];
const TYPESCRIPT_EXTENSIONS: readonly string[] = ['.ts', '.cts', '.mts'];

/**
 * Loads a user's module and returns the XState machines it exports, so that `mezan diagram
 * --module` can draw them as it draws mezan's own.
 *
 * A `.js` or `.cjs` module is required, a `.mjs` one imported (a `.js` file that is an ES module
 * too); a `.ts`, `.cts` or `.mts` module is imported through tsx when tsx is installed beside the
 * module or beside mezan, or as the process loads TypeScript already (Node 22.6 and later strips types; a
 * loader such as tsx's, run with the command, registers `.ts`). An export is a machine when it is
 * an instance of XState's `StateMachine`; a machine made by another copy of XState is recognised by
 * the marker XState puts on every machine (`__xstatenode`, what `xstate/graph` checks). The
 * machines come in the order the module lists them (an ES module's namespace lists its exports
 * alphabetically); a CommonJS module whose `module.exports` is itself a machine gives `default`.
 *
 * @param file - the module's path, absolute or from the working directory
 * @returns every export that is a machine; never empty
 * @throws MezanError `E_INVALID_OPTION` (the promise rejects), its `details.problem` a
 * {@link ModuleMachinesProblem}: no such file, not a JavaScript or TypeScript module, a TypeScript
 * module with nothing to load it, a module that failed to load (its error is the `cause`, its
 * message in the error's), or a module with no machine export
 * @example
 * ```ts
 * for (const { exportName, machine } of await loadModuleMachines('dist/agents.js')) console.log(exportName, toMermaid(machine));
 * ```
 */
export async function loadModuleMachines(file: string, options: LoadModuleMachinesOptions = {}): Promise<ModuleMachine[]> {
  const exported = await loadModuleExports(file, options);
  let machines: ModuleMachine[];
  try {
    machines = machineExports(exported);
  } catch (error) {
    throw problem('load-failed', file, `${file}: the module failed to load: ${describeError(error)}`, error);
  }
  if (machines.length === 0) {
    throw problem('no-machine', file, `${file}: exports no XState machine (an export made by createMachine() or setup({...}).createMachine())`);
  }
  return machines;
}

/**
 * Loads a user's module as {@link loadModuleMachines} does (a `.js`, `.cjs` or `.mjs` module, or a
 * TypeScript one through tsx) and returns what it exports: its `module.exports`, or its namespace.
 *
 * @param file - the module's path, absolute or from the working directory
 * @throws MezanError `E_INVALID_OPTION` (the promise rejects), its `details.problem` one of
 * `not-found`, `not-a-module`, `needs-typescript-loader` and `load-failed`
 */
export async function loadModuleExports(file: string, options: LoadModuleMachinesOptions = {}): Promise<unknown> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw problem('not-found', file, `${file}: no such file`);
  const extension = extname(path).toLowerCase();
  const typeScript = TYPESCRIPT_EXTENSIONS.includes(extension);
  if (!typeScript && !JAVASCRIPT_EXTENSIONS.includes(extension)) {
    throw problem('not-a-module', file, `${file}: not a module: expected a ${[...JAVASCRIPT_EXTENSIONS, ...TYPESCRIPT_EXTENSIONS].join(', ')} file`);
  }
  try {
    return typeScript
      ? await importTypeScript(path, (options.typeScript ?? findTypeScriptSupport)(path), file)
      : await loadJavaScript(path, extension);
  } catch (error) {
    if (error instanceof MezanError) throw error;
    throw problem('load-failed', file, `${file}: the module failed to load: ${describeError(error)}`, error);
  }
}

/**
 * Whether a value is an XState machine: an instance of XState's `StateMachine`, or a machine made by
 * another copy of XState (which carries XState's `__xstatenode` marker, a state tree and `toJSON`).
 *
 * @param value - anything a module exports
 */
export function isStateMachine(value: unknown): value is AnyStateMachine {
  if (value instanceof StateMachine) return true;
  if (typeof value !== 'object' || value === null || !('__xstatenode' in value)) return false;
  const candidate = value as { readonly root?: unknown; readonly toJSON?: unknown; readonly transition?: unknown };
  return (
    typeof candidate.root === 'object' &&
    candidate.root !== null &&
    typeof candidate.toJSON === 'function' &&
    typeof candidate.transition === 'function'
  );
}

/**
 * How this process can load a TypeScript module: tsx beside the module (the user's project) first,
 * then beside mezan; and whether the process loads TypeScript already.
 *
 * @param moduleFile - the module's absolute path
 */
export function findTypeScriptSupport(moduleFile: string): TypeScriptSupport {
  // A loader run with the CLI (`tsx`, `node --import tsx`) registers `.ts` with require; tsx's API would not load under it.
  const native = Boolean((process.features as { readonly typescript?: unknown }).typescript) || Object.hasOwn(require.extensions, '.ts');
  return { tsxApi: findTsxApi([dirname(moduleFile), __dirname]), native };
}

/** The ES modules of tsx's `tsx/esm/api` and `tsx/cjs/api` (their CommonJS builds cannot register tsx's loader when required from elsewhere). */
function findTsxApi(paths: readonly string[]): TsxApi | undefined {
  let manifest: string;
  try {
    manifest = require.resolve('tsx/package.json', { paths: [...paths] });
  } catch {
    return undefined;
  }
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> };
  const importOf = (entry: string): string | undefined => {
    const target = (exports?.[entry] as { import?: string | { default?: unknown } } | undefined)?.import;
    const file = typeof target === 'string' ? target : target?.default;
    return typeof file === 'string' ? join(dirname(manifest), file) : undefined;
  };
  const esm = importOf('./esm/api');
  const cjs = importOf('./cjs/api');
  return esm === undefined || cjs === undefined ? undefined : { esm, cjs };
}

/** tsx registered in this process by {@link registerTsx}: once, whichever tsx was found first. */
let tsxRegistered: Promise<void> | undefined;

/**
 * Registers tsx for the whole process, for `import` (`tsx/esm/api`) and `require` (`tsx/cjs/api`),
 * as `node --import tsx` does. Not tsx's scoped `tsImport`: its loader leaks its namespace into
 * later plain `require`s of the files it loaded, so a module the user's module imported (ioredis,
 * BullMQ) and mezan then required is evaluated twice over shared parts of it (ioredis then throws
 * "Cannot redefine property: default", and BullMQ cannot load ioredis). Registered process-wide,
 * every module has one copy, whoever loads it first.
 */
function registerTsx(api: TsxApi): Promise<void> {
  tsxRegistered ??= (async () => {
    type Register = { register(): unknown };
    const [esm, cjs] = (await Promise.all([import(pathToFileURL(api.esm).href), import(pathToFileURL(api.cjs).href)])) as [Register, Register];
    esm.register();
    cjs.register();
  })();
  return tsxRegistered;
}

async function importTypeScript(path: string, support: TypeScriptSupport, file: string): Promise<unknown> {
  if (!support.native) {
    if (support.tsxApi === undefined) {
      throw problem(
        'needs-typescript-loader',
        file,
        `${file}: loading a TypeScript module needs tsx, which is not installed (npm install --save-dev tsx), or Node 22.6 or later; or compile the module to JavaScript and pass that`,
      );
    }
    await registerTsx(support.tsxApi);
  }
  return import(pathToFileURL(path).href);
}

async function loadJavaScript(path: string, extension: string): Promise<unknown> {
  if (extension === '.mjs') return import(pathToFileURL(path).href);
  try {
    // Required, not imported: a CommonJS module's exports are then exactly its `module.exports`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as unknown;
  } catch (error) {
    // A `.js` file in a package of `"type": "module"` is an ES module.
    if ((error as { code?: unknown } | null)?.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(path).href);
    throw error;
  }
}

/** Every export that is a machine; a CommonJS module imported as an ES module has its exports under `default` too. */
function machineExports(exported: unknown): ModuleMachine[] {
  if (isStateMachine(exported)) return [{ exportName: 'default', machine: exported }];
  if (typeof exported !== 'object' || exported === null) return [];
  const namespace = exported as Readonly<Record<string, unknown>>;
  const machines: ModuleMachine[] = [];
  for (const exportName of Object.keys(namespace)) {
    const value = namespace[exportName];
    if (isStateMachine(value)) machines.push({ exportName, machine: value });
  }
  const fallback = namespace.default;
  if (typeof fallback === 'object' && fallback !== null && !isStateMachine(fallback)) {
    const found = new Set<unknown>(machines.map(({ machine }) => machine));
    for (const exportName of Object.keys(fallback)) {
      const value = (fallback as Readonly<Record<string, unknown>>)[exportName];
      if (isStateMachine(value) && !found.has(value) && !machines.some((machine) => machine.exportName === exportName)) {
        machines.push({ exportName, machine: value });
      }
    }
  }
  return machines;
}

/**
 * Whether a value is an error, made in this realm or another (a module run in a VM context throws
 * that context's errors).
 *
 * @param value - what was thrown
 */
export function isAnyError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function describeError(error: unknown): string {
  if (isAnyError(error)) return `${error.name}: ${error.message}`;
  try {
    return `a thrown ${error === null ? 'null' : typeof error}: ${String(error)}`;
  } catch {
    return 'a thrown value that cannot be printed';
  }
}

function problem(kind: ModuleMachinesProblem, file: string, message: string, cause?: unknown): MezanError {
  return new MezanError('E_INVALID_OPTION', message, { cause, details: { option: 'module', file, problem: kind } });
}
