/**
 * Loads a scenario file (YAML or JSON), validates it against {@link SCENARIO_SCHEMA} and its
 * cross-references, and returns it deeply frozen. A bad file is refused with one precise message.
 */
import { didYouMean } from '../internal/did-you-mean';
import { readFileSync, statSync } from 'node:fs';
import { checkScenarioTaskCount, DEFAULT_MAX_SCENARIO_BYTES } from './scenario-limits';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { MezanError } from '../errors';
import { threadsProblem } from './scenario-threads';
import { MAIN_WORKER_ID } from '../../actors/executor.actor';
import { AGENT_STATISTICS, ASK_ERROR_CODES, SCENARIO_SCHEMA, UNREACHABLE_ERROR_CODES } from './scenario-schema';
import { checkAgentReferences } from './scenario-agent-references';
import { checkDuration, type Problem, type Segment } from './scenario-problem';
import { findJsonSyntaxError } from './strict-json';
import { type Scenario, type ScenarioDependency, type ScenarioTask, type Step, type TaskGenerator, type TaskTemplate } from './scenario';

/**
 * Reads and validates a scenario file. `.json` files are parsed as strict JSON, anything else as
 * YAML 1.2 (which JSON is also valid as).
 *
 * @param path - the file to read; it is named in messages and kept as `scenario.file`
 * @returns the scenario, deeply frozen, with `file` set to `path`
 * @throws MezanError `E_INVALID_SCENARIO` when the file cannot be read, is not valid YAML or JSON, or
 *   does not describe a valid scenario. The message reads `file:line:column: path: reason`;
 *   `details` holds `{ file, line, column, path, reason }` (no `line`/`column` when the file could
 *   not be read; `path` is `''` for a syntax error or the whole document).
 * @example
 * ```ts
 * const scenario = loadScenario('examples/dining-philosophers.yaml');
 * const report = await simulate(scenario, { seed: 7 });
 * ```
 */
export function loadScenario(path: string, limits: ScenarioFileLimits = {}): Scenario {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_SCENARIO_BYTES;
  let text: string;
  try {
    const { size } = statSync(path);
    if (size > maxBytes) {
      const reason = `the file is ${mebibytes(size)} MiB, over the limit of ${mebibytes(maxBytes)} MiB; raise it with --max-file-mib`;
      throw new MezanError('E_INVALID_SCENARIO', `${path}: ${reason}`, { details: { file: path, path: '', reason } });
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof MezanError) throw error;
    const reason = `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    throw new MezanError('E_INVALID_SCENARIO', `${path}: ${reason}`, { cause: error, details: { file: path, path: '', reason } });
  }
  const scenario = parseScenario(text, path);
  checkScenarioTaskCount(scenario, limits.maxTasks);
  return scenario;
}

/** What {@link loadScenario} refuses up front, so that a file cannot exhaust memory or block the event loop. */
export interface ScenarioFileLimits {
  /** The largest file, in bytes. @default 16 MiB */
  readonly maxBytes?: number;
  /** The most top-level tasks the scenario may make. @default 1,000,000 */
  readonly maxTasks?: number;
}

function mebibytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}

/**
 * Validates a scenario given as text. The text is parsed as YAML 1.2 (so JSON is accepted too), or
 * as strict JSON when `file` ends in `.json`.
 *
 * @param text - the scenario, YAML or JSON
 * @param file - the name used in messages and kept as `scenario.file`
 * @returns the scenario, deeply frozen, with `file` set
 * @throws MezanError `E_INVALID_SCENARIO`, as {@link loadScenario} does
 * @example
 * ```ts
 * const scenario = parseScenario('tasks:\n  - steps: [{ work: 10 }]\n', 'inline.yaml');
 * ```
 */
export function parseScenario(text: string, file = '<inline>'): Scenario {
  const lineCounter = new LineCounter();
  // A byte-order mark would shift every column of the first line by one.
  const source = text.replace(/^\uFEFF/, '');
  const json = /\.json$/i.test(file);
  const doc = parseDocument(source, { lineCounter, schema: json ? 'json' : 'core', prettyErrors: false, uniqueKeys: true });
  // YAML reads JSON too, and more (comments, trailing commas): a .json file must be JSON itself.
  const notJson = json ? findJsonSyntaxError(source) : undefined;
  if (notJson !== undefined) throw invalid(file, lineCounter, [], notJson.reason, notJson.offset);
  const refuse = (problem: Problem): never => {
    throw invalid(file, lineCounter, problem.segments, problem.reason, offsetOf(doc, problem));
  };

  const syntax = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (syntax !== undefined) throw invalid(file, lineCounter, [], firstLine(syntax.message), syntax.pos[0]);
  visit(doc, {
    Alias(_, alias, ancestors) {
      // A list or object that contains itself would send validation (and the simulator) round forever.
      if (ancestors.includes(alias.resolve(doc) as never))
        throw invalid(file, lineCounter, [], `the alias *${alias.source} refers to a node that contains it`, alias.range?.[0] ?? 0);
    },
    Pair(_, pair) {
      if (!isScalar(pair.key) || (typeof pair.key.value !== 'string' && typeof pair.key.value !== 'number')) {
        const at = isNode(pair.key) ? (pair.key.range?.[0] ?? 0) : 0;
        throw invalid(file, lineCounter, [], 'a key must be a plain name, not a list, an object or null', at);
      }
    },
  });

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw invalid(file, lineCounter, [], firstLine(error instanceof Error ? error.message : String(error)), 0);
  }

  const threads = threadsProblem(data);
  if (threads !== undefined) refuse(threads);
  const validate = scenarioValidator();
  if (!validate(data)) refuse(problemOf(validate.errors ?? [], data));
  const scenario = data as Scenario;
  const broken = checkReferences(scenario) ?? checkAgentReferences(scenario);
  if (broken !== undefined) refuse(broken);
  return deepFreeze({ file, ...scenario }) as Scenario;
}

let compiled: ValidateFunction | undefined;

/** Compiles the schema once, on first use, in strict mode. */
function scenarioValidator(): ValidateFunction {
  compiled ??= new Ajv({ strict: true, allErrors: false, verbose: true, allowUnionTypes: true }).compile(SCENARIO_SCHEMA);
  return compiled;
}

// --- messages and positions ------------------------------------------------------------------

function invalid(file: string, lineCounter: LineCounter, segments: readonly Segment[], reason: string, offset: number): MezanError {
  const { line, col: column } = lineCounter.linePos(offset);
  const path = formatPath(segments);
  const where = `${file}:${line}:${column}: `;
  return new MezanError('E_INVALID_SCENARIO', `${where}${path === '' ? '' : `${path}: `}${reason}`, {
    details: { file, line, column, path, reason },
  });
}

/** `tasks[3].steps[1].acquire`; keys that are not identifiers are quoted: `engine.resources["gpu-2"]`. */
function formatPath(segments: readonly Segment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/**
 * The source offset a problem points at: the node at its path (its key, its value, or the object
 * holding it), or the nearest ancestor that exists in the document.
 */
function offsetOf(doc: Document, problem: Problem): number {
  const segments = problem.atParent === true ? problem.segments.slice(0, -1) : problem.segments;
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let index = 0; index < segments.length; index++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = segments[index]!;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      const last = index === segments.length - 1;
      const value = pair.value;
      // An empty value (`steps:`) has no text of its own: its key is a better place to point at.
      const emptyValue = isScalar(value) && value.value === null && value.source === '';
      if (last && (problem.atKey === true || emptyValue || value === null)) return rangeStart(pair.key) ?? offset;
      node = value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

/** Renders a received value for a message. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === null) return 'nothing (null)';
  if (typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length <= 40 ? json : Array.isArray(value) ? 'a list' : 'an object';
  }
  return String(value);
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

// --- schema errors -----------------------------------------------------------------------------

const TYPE_WORDS: Readonly<Record<string, string>> = {
  number: 'a number',
  integer: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** Turns Ajv's first failure into a problem with a path and a reason. */
function problemOf(errors: readonly ErrorObject[], root: unknown): Problem {
  // A failed "exactly one kind" check comes after one error per kind tried; the check itself says it best.
  const error = errors.find((candidate) => candidate.keyword === 'oneOf') ?? errors.find((candidate) => candidate.keyword !== 'if') ?? errors[0]!;
  const segments = segmentsOf(error.instancePath, root);
  const parent = (error.parentSchema ?? {}) as {
    title?: string;
    description?: string;
    properties?: object;
    oneOf?: ReadonlyArray<{ required: readonly string[] }>;
  };
  const title = parent.title ?? 'object';
  const got = `got ${describe(error.data)}`;
  const params = error.params as Record<string, unknown>;

  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    const what = parent.description ?? 'a valid name';
    return { segments: [...segments, name], atKey: true, reason: `expected ${what}, got ${JSON.stringify(name)}` };
  }
  switch (error.keyword) {
    case 'required': {
      const missing = String(params['missingProperty']);
      return { segments: [...segments, missing], atParent: true, reason: `missing (required in ${article(title)})` };
    }
    case 'additionalProperties': {
      const field = String(params['additionalProperty']);
      const known = Object.keys(parent.properties ?? {});
      return { segments: [...segments, field], atKey: true, reason: unknownFieldReason(field, title, known) };
    }
    case 'oneOf': {
      const kinds = (parent.oneOf ?? []).map((branch) => branch.required[0]!);
      const present = kinds.filter((kind) => Object.prototype.hasOwnProperty.call(error.data ?? {}, kind));
      const reason =
        present.length === 0
          ? `${article(title)} needs one of: ${kinds.join(', ')}`
          : `${article(title)} has exactly one of ${kinds.join(', ')}; this one has ${present.map((kind) => JSON.stringify(kind)).join(' and ')}`;
      return { segments, reason };
    }
    default:
      break;
  }
  if (parent.description !== undefined) return { segments, reason: `expected ${parent.description}, ${got}` };
  switch (error.keyword) {
    case 'type': {
      const types = ([] as string[]).concat(params['type'] as string | string[]);
      const finite = typeof error.data === 'number' && types.some((type) => type === 'number' || type === 'integer') ? 'a finite ' : '';
      const words = types.map((type) => TYPE_WORDS[type] ?? type);
      return { segments, reason: `expected ${finite === '' ? words.join(' or ') : words.join(' or ').replace(/^an? /, finite)}, ${got}` };
    }
    case 'enum':
      return { segments, reason: `expected one of ${quoteList(params['allowedValues'] as unknown[])}, ${got}` };
    case 'const':
      return { segments, reason: `expected ${JSON.stringify(params['allowedValue'])}, ${got}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { segments, reason: `must be ${String(params['comparison'])} ${String(params['limit'])}, ${got}` };
    case 'minLength':
      return { segments, reason: 'must not be empty' };
    default:
      return { segments, reason: `${error.message ?? 'is invalid'}, ${got}` };
  }
}

function unknownFieldReason(field: string, title: string, known: readonly string[]): string {
  if (title === 'expect') {
    const plain = known.filter((name) => !name.startsWith('code.') && !name.startsWith('asks.code.'));
    if (field.startsWith('asks.code.')) {
      const code = field.slice('asks.code.'.length);
      return `unknown ask error code ${JSON.stringify(code)}${didYouMean(code, ASK_ERROR_CODES)}; codes: ${ASK_ERROR_CODES.join(', ')}`;
    }
    if (field.startsWith('agent.')) {
      const statistic = field.slice(field.lastIndexOf('.') + 1);
      const hint = field.indexOf('.') === field.lastIndexOf('.') ? '' : didYouMean(statistic, AGENT_STATISTICS);
      return `an agent's expectation is agent.<name>.<statistic>${hint}; statistics: ${AGENT_STATISTICS.join(', ')}`;
    }
    if (field.startsWith('code.')) {
      const codes = known.filter((name) => name.startsWith('code.')).map((name) => name.slice('code.'.length));
      const code = field.slice('code.'.length);
      if (Object.prototype.hasOwnProperty.call(UNREACHABLE_ERROR_CODES, code)) {
        const why = UNREACHABLE_ERROR_CODES[code as keyof typeof UNREACHABLE_ERROR_CODES];
        return `no task of a simulation ends with ${code}: ${why}; codes: ${codes.join(', ')}`;
      }
      return `unknown error code ${JSON.stringify(code)}${didYouMean(code, codes)}; codes: ${codes.join(', ')}`;
    }
    return `unknown expectation${didYouMean(field, known)}; known: ${plain.join(', ')}, code.<error code>, asks.code.<error code>, agent.<name>.<statistic>`;
  }
  return `unknown field in ${article(title)}${didYouMean(field, known)}; fields: ${known.join(', ')}`;
}

/** Decodes a JSON pointer into keys and indices, using the data to tell list indices from keys. */
function segmentsOf(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const segments: Segment[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

// --- cross-references ----------------------------------------------------------------------------

/** What the schema cannot check: names that must exist elsewhere in the file, and order in time. */
function checkReferences(scenario: Scenario): Problem | undefined {
  const resources = new Map<string, number>();
  for (const [name, spec] of Object.entries(scenario.engine?.resources ?? {})) resources.set(name, typeof spec === 'number' ? spec : spec.capacity);
  const resourceList = resources.size === 0 ? 'none are declared in engine.resources' : `resources: ${[...resources.keys()].join(', ')}`;
  const unknownResource = (name: string): string => `unknown resource ${JSON.stringify(name)} (${resourceList})`;
  const overCapacity = (name: string, units: number, capacity: number): string =>
    `asks for ${units} units but ${JSON.stringify(name)} has a capacity of ${capacity}${hasCapacityFault(name) ? ' (a capacity fault changes what is free, not what a task may ask for)' : ''}`;
  const hasCapacityFault = (name: string): boolean =>
    (scenario.faults ?? []).some((fault) => 'capacity' in fault && fault.capacity.resource === name);

  const checkTemplate = (template: TaskTemplate, at: readonly Segment[]): Problem | undefined => {
    for (const [name, units] of Object.entries(template.resources ?? {})) {
      const capacity = resources.get(name);
      if (capacity === undefined) return { segments: [...at, 'resources', name], atKey: true, reason: unknownResource(name) };
      if (units > capacity) return { segments: [...at, 'resources', name], reason: overCapacity(name, units, capacity) };
    }
    const held = new Map<string, number>();
    for (const [index, step] of template.steps.entries()) {
      const here = [...at, 'steps', index];
      const problem = checkStep(step, here, held);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };

  const checkStep = (step: Step, here: readonly Segment[], held: Map<string, number>): Problem | undefined => {
    if ('acquire' in step) {
      // The declared capacity, as the engine checks it: a capacity fault changes what is free, not what may be asked.
      const capacity = resources.get(step.acquire);
      if (capacity === undefined) return { segments: [...here, 'acquire'], reason: unknownResource(step.acquire) };
      if ((step.units ?? 1) > capacity) return { segments: [...here, 'units'], reason: overCapacity(step.acquire, step.units ?? 1, capacity) };
      held.set(step.acquire, (held.get(step.acquire) ?? 0) + 1);
    } else if ('release' in step) {
      if (!resources.has(step.release)) return { segments: [...here, 'release'], reason: unknownResource(step.release) };
      const leases = held.get(step.release) ?? 0;
      if (leases === 0)
        return { segments: [...here, 'release'], reason: `no lease of ${JSON.stringify(step.release)} is held here (acquire it in an earlier step)` };
      held.set(step.release, leases - 1);
    } else if ('spawn' in step) {
      return checkTemplate(step.spawn, [...here, 'spawn']);
    } else if ('work' in step) {
      return checkDuration(step.work, [...here, 'work']);
    }
    return undefined;
  };

  const tasks = scenario.tasks ?? [];
  const ids = new Map<string, { readonly index: number; readonly at: number }>();
  for (const [index, entry] of tasks.entries()) {
    if (isGenerator(entry)) continue;
    if (entry.id === undefined) continue;
    const first = ids.get(entry.id);
    if (first !== undefined)
      return { segments: ['tasks', index, 'id'], reason: `duplicate task id ${JSON.stringify(entry.id)} (also tasks[${first.index}])` };
    ids.set(entry.id, { index, at: entry.at ?? 0 });
  }
  const idList = ids.size === 0 ? 'no task has an id' : `task ids: ${[...ids.keys()].join(', ')}`;
  const unknownTask = (id: string): string => `unknown task id ${JSON.stringify(id)} (${idList})`;

  for (const [index, entry] of tasks.entries()) {
    const problem = isGenerator(entry) ? checkTemplate(entry.generate, ['tasks', index, 'generate']) : checkTemplate(entry, ['tasks', index]);
    if (problem !== undefined) return problem;
    if (isGenerator(entry)) {
      // Arrivals: `count` of them (at `rate`, or all at `start`), or one at each of `times`.
      const { count, rate, start, times } = entry.generate;
      if (count === undefined && times === undefined) {
        return { segments: ['tasks', index, 'generate'], reason: 'needs `count` (with `rate` or `start`) or `times`' };
      }
      if (times !== undefined && (count !== undefined || rate !== undefined || start !== undefined)) {
        return { segments: ['tasks', index, 'generate', 'times'], reason: '`times` goes without `count`, `rate` and `start`' };
      }
      continue;
    }
    const seen = new Set<string>();
    for (const [position, entryDependency] of (entry.dependsOn ?? []).entries()) {
      const segments = dependencySegments(index, position, entryDependency);
      const dependency = dependencyId(entryDependency);
      const target = ids.get(dependency);
      if (target === undefined) return { segments, reason: unknownTask(dependency) };
      if (dependency === entry.id) return { segments, reason: 'a task cannot depend on itself' };
      if (seen.has(dependency)) return { segments, reason: `${JSON.stringify(dependency)} is listed twice` };
      seen.add(dependency);
      const at = entry.at ?? 0;
      if (target.at > at)
        return {
          segments,
          reason: `${JSON.stringify(dependency)} is submitted at ${target.at}, after this task (at ${at}); a dependency must be submitted first`,
        };
    }
  }
  const cycle = dependencyCycle(tasks);
  if (cycle !== undefined) return cycle;

  const { concurrency, workers } = scenario.engine ?? {};
  if (concurrency !== undefined && workers !== undefined && concurrency !== workers) {
    return { segments: ['engine', 'workers'], reason: `the old name of \`concurrency\`: it must be left out, or equal to it (${concurrency})` };
  }

  const checkWorker = (worker: string, segments: readonly Segment[]): Problem | undefined => {
    if (worker === MAIN_WORKER_ID) return undefined;
    return {
      segments,
      reason: `unknown worker ${JSON.stringify(worker)} (the engine's worker is "${MAIN_WORKER_ID}": it runs \`concurrency\` tasks at once)`,
    };
  };
  for (const [index, fault] of (scenario.faults ?? []).entries()) {
    let problem: Problem | undefined;
    if ('cancel' in fault) problem = ids.has(fault.cancel) ? undefined : { segments: ['faults', index, 'cancel'], reason: unknownTask(fault.cancel) };
    // An agent's crash (`crash: { agent }`) is checked with the agents.
    else if ('crash' in fault) problem = typeof fault.crash === 'string' ? checkWorker(fault.crash, ['faults', index, 'crash']) : undefined;
    else if ('slow' in fault) problem = checkWorker(fault.slow.worker, ['faults', index, 'slow', 'worker']);
    else if ('capacity' in fault && !resources.has(fault.capacity.resource)) {
      problem = { segments: ['faults', index, 'capacity', 'resource'], reason: unknownResource(fault.capacity.resource) };
    }
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function isGenerator(entry: ScenarioTask | TaskGenerator): entry is TaskGenerator {
  return 'generate' in entry;
}

/** The id a `dependsOn` entry names: the entry itself, or its `task`. */
function dependencyId(entry: string | ScenarioDependency): string {
  return typeof entry === 'string' ? entry : entry.task;
}

/** Where a `dependsOn` entry's id is written: the entry itself, or its `task` field. */
function dependencySegments(index: number, position: number, entry: string | ScenarioDependency): Segment[] {
  const segments: Segment[] = ['tasks', index, 'dependsOn', position];
  return typeof entry === 'string' ? segments : [...segments, 'task'];
}

/** The first dependency that closes a cycle among explicit tasks (tasks at the same time may form one). */
function dependencyCycle(tasks: ReadonlyArray<ScenarioTask | TaskGenerator>): Problem | undefined {
  const byId = new Map<string, { readonly index: number; readonly task: ScenarioTask }>();
  for (const [index, entry] of tasks.entries()) if (!isGenerator(entry) && entry.id !== undefined) byId.set(entry.id, { index, task: entry });
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const walk = (id: string): Problem | undefined => {
    state.set(id, 'open');
    trail.push(id);
    const { index, task } = byId.get(id)!;
    for (const [position, entry] of (task.dependsOn ?? []).entries()) {
      const dependency = dependencyId(entry);
      const seen = state.get(dependency);
      if (seen === 'open') {
        const loop = [...trail.slice(trail.indexOf(dependency)), dependency];
        // A tolerant dependency (`allow: settled`) still waits for its task to end: it closes a cycle too.
        return { segments: dependencySegments(index, position, entry), reason: `dependency cycle: ${loop.join(' → ')}` };
      }
      if (seen === undefined) {
        const found = walk(dependency);
        if (found !== undefined) return found;
      }
    }
    trail.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of byId.keys()) {
    if (state.has(id)) continue;
    const found = walk(id);
    if (found !== undefined) return found;
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
