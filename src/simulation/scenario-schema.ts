/**
 * The JSON Schema (draft-07) of a scenario file: types, required fields, closed objects and ranges.
 * What a schema cannot say (cross-references between fields) is checked by `parseScenario` after it.
 */
import type { MezanErrorCode } from '../errors';
import type { TerminalTaskStatus } from '../task-status';
import { EXPECTATION_PATTERN } from './expectations';

/**
 * The error codes no task of a simulation can end with, and why: `expect` refuses them rather than
 * check a count that is always 0.
 */
export const UNREACHABLE_ERROR_CODES = Object.freeze({
  E_LEASE_LOST: 'a simulation runs no cluster, whose pools alone have leases that can lapse',
  E_DEPENDENCY_CYCLE: 'the loader refuses dependency cycles before anything runs',
  E_INVALID_SCENARIO: 'an invalid scenario does not run',
  E_UNKNOWN_TASK: 'a scenario gives its tasks as steps, never by a name to look up',
  E_CLUSTER_UNAVAILABLE: 'a simulation runs no cluster, whose view alone is read from Redis',
} as const satisfies Partial<Record<MezanErrorCode, string>>);

/** The {@link MezanErrorCode}s a simulation's tasks can end with, for `code.E_…` expectations. */
export const SCENARIO_ERROR_CODES = Object.freeze([
  'E_INVALID_OPTION',
  'E_TASK_FAILED',
  'E_CANCELLED',
  'E_TIMEOUT',
  'E_QUEUE_TIMEOUT',
  'E_DEPENDENCY_FAILED',
  'E_SHUTDOWN',
  'E_RESOURCE_TIMEOUT',
  'E_DEADLOCK',
  'E_LOCK_ORDER',
  'E_WORKER_CRASHED',
  'E_AGENT_FAILED',
  'E_MAILBOX_FULL',
  'E_AGENT_STOPPED',
] as const satisfies readonly MezanErrorCode[]);

/** The codes an ask of a scenario (a step's or a message's) can fail with, for `asks.code.E_…` expectations. */
export const ASK_ERROR_CODES = Object.freeze([
  'E_AGENT_FAILED',
  'E_MAILBOX_FULL',
  'E_AGENT_STOPPED',
  'E_TIMEOUT',
  'E_DEADLOCK',
  'E_CANCELLED',
  'E_SHUTDOWN',
] as const satisfies readonly MezanErrorCode[]);

/** The statistics of an agent an `agent.<name>.<statistic>` expectation may name (its `stats()`, but the depth now). */
export const AGENT_STATISTICS = Object.freeze([
  'received',
  'handled',
  'failed',
  'dropped',
  'restarts',
  'maxMailboxDepth',
  'totalMs',
  'meanMs',
] as const);

/** What an agent's expectation looks like: `agent.<name>.<statistic>`; the name may hold dots, the statistic is the last part. */
export const AGENT_EXPECTATION_PATTERN = new RegExp(`^agent\\.(.+)\\.(${AGENT_STATISTICS.join('|')})$`);

// A new error code must be added to exactly one of the two lists above, or these lines stop compiling.
type UnreachableErrorCode = keyof typeof UNREACHABLE_ERROR_CODES;
const everyCodeListed: MezanErrorCode extends (typeof SCENARIO_ERROR_CODES)[number] | UnreachableErrorCode ? true : never = true;
const noCodeListedTwice: [Extract<(typeof SCENARIO_ERROR_CODES)[number], UnreachableErrorCode>] extends [never] ? true : never = true;
void everyCodeListed;
void noCodeListedTwice;

const STATUSES = ['completed', 'failed', 'cancelled', 'timeout', 'deadlock', 'rejected'] as const satisfies readonly TerminalTaskStatus[];
const everyStatusListed: TerminalTaskStatus extends (typeof STATUSES)[number] ? true : never = true;
void everyStatusListed;

/**
 * The names an `expect` entry may have: counts by terminal status, `deadlocks`, `lost`,
 * `maxQueueDepth`, `makespanMs`, `code.<MezanErrorCode>` (counts by error code), and the asks'
 * outcomes (`asks.replied`, `asks.failed`, `asks.code.<code>`). Besides these, `expect` takes
 * `agent.<name>.<statistic>` ({@link AGENT_EXPECTATION_PATTERN}).
 */
export const EXPECTATION_NAMES: readonly string[] = Object.freeze([
  ...STATUSES,
  'deadlocks',
  'lost',
  'maxQueueDepth',
  'makespanMs',
  ...SCENARIO_ERROR_CODES.map((code) => `code.${code}`),
  'asks.replied',
  'asks.failed',
  ...ASK_ERROR_CODES.map((code) => `asks.code.${code}`),
]);

/** The most milliseconds a timer may be set for (the engine's limit for `afterMs` and `graceMs`). */
const MAX_TIMER_MS = 2_147_483_647;

const nonEmptyString = { type: 'string', minLength: 1 };
const anyNumber = { type: 'number' };
const nonNegativeNumber = { type: 'number', minimum: 0 };
const positiveNumber = { type: 'number', exclusiveMinimum: 0 };
const timerMs = { type: 'number', minimum: 0, maximum: MAX_TIMER_MS };
const positiveTimerMs = { type: 'number', exclusiveMinimum: 0, maximum: MAX_TIMER_MS };
const positiveInteger = { type: 'integer', minimum: 1 };
const nonNegativeInteger = { type: 'integer', minimum: 0 };
const fraction = { type: 'number', minimum: 0, maximum: 1 };
const resourceName = { type: 'string', minLength: 1 };

/**
 * A closed object: the properties listed, `required` ones required, nothing else. Unknown keys are
 * checked first (a misspelt field is reported as such, not as a missing one), then missing ones,
 * then the values.
 */
function closed(title: string, properties: Record<string, unknown>, required: readonly string[] = []): Record<string, unknown> {
  const known = Object.fromEntries(Object.keys(properties).map((key) => [key, true]));
  return {
    title,
    type: 'object',
    allOf: [{ title, properties: known, additionalProperties: false }],
    ...(required.length > 0 ? { required } : {}),
    properties,
  };
}

/** Matches an object that has `key` (strict mode wants a required key declared beside it). */
function has(key: string): Record<string, unknown> {
  return { properties: { [key]: true }, required: [key] };
}

/**
 * A union of closed objects told apart by which one of their `kinds` keys they have: the keys are
 * checked first (an unknown key is reported as such), then that exactly one kind is present, then
 * the kind's own shape.
 */
function oneKeyOf(title: string, kinds: Readonly<Record<string, Record<string, unknown>>>): Record<string, unknown> {
  const allKeys: Record<string, true> = {};
  for (const shape of Object.values(kinds)) for (const key of Object.keys(shape['properties'] as object)) allKeys[key] = true;
  return {
    title,
    type: 'object',
    allOf: [
      { title, properties: allKeys, additionalProperties: false },
      { title, oneOf: Object.keys(kinds).map(has) },
      ...Object.entries(kinds).map(([kind, shape]) => ({ if: has(kind), then: shape })),
    ],
  };
}

const retries = {
  type: ['integer', 'object'],
  if: { type: 'integer' },
  then: { minimum: 0 },
  else: closed('retry options', {
    max: nonNegativeInteger,
    delayMs: nonNegativeNumber,
    backoff: { enum: ['fixed', 'exponential'] },
    maxDelayMs: nonNegativeNumber,
    jitter: { type: ['boolean', 'number'], if: { type: 'number' }, then: { exclusiveMinimum: 0, maximum: 1 } },
  }),
};

const duration = {
  type: ['number', 'object'],
  if: { type: 'number' },
  then: { minimum: 0 },
  else: oneKeyOf('duration', {
    uniform: closed('uniform duration', {
      uniform: {
        description: 'a list of two numbers of milliseconds [min, max]',
        type: 'array',
        items: [nonNegativeNumber, nonNegativeNumber],
        minItems: 2,
        additionalItems: false,
      },
    }),
    exponential: closed('exponential duration', { exponential: closed('exponential distribution', { mean: nonNegativeNumber }, ['mean']) }),
    normal: closed('normal duration', {
      normal: closed('normal distribution', { mean: nonNegativeNumber, stddev: nonNegativeNumber, min: nonNegativeNumber }, ['mean', 'stddev']),
    }),
  }),
};

const templateProperties = {
  name: nonEmptyString,
  priority: anyNumber,
  timeoutMs: positiveNumber,
  retries,
  resources: { type: 'object', propertyNames: resourceName, additionalProperties: positiveInteger },
  group: nonEmptyString,
  queueTimeoutMs: timerMs,
  steps: { type: 'array', items: { $ref: '#/definitions/step' } },
};

const agentName = { description: 'an agent name: a string with a character other than a space', type: 'string', pattern: '\\S' };
/** A message's content: any value, which the scripts carry but never read. */
const anyValue = {};
const askStep = closed('ask step', { ask: agentName, message: anyValue, timeoutMs: positiveTimerMs, onFailure: { enum: ['fail', 'continue'] } });
const sendStep = closed('send step', { send: agentName, message: anyValue });

const step = oneKeyOf('step', {
  work: closed('work step', { work: duration }),
  acquire: closed('acquire step', { acquire: resourceName, units: positiveInteger, timeoutMs: nonNegativeNumber }),
  release: closed('release step', { release: resourceName }),
  spawn: closed('spawn step', { spawn: { $ref: '#/definitions/template' }, await: { type: 'boolean' } }),
  fail: closed('fail step', { fail: fraction, message: { type: 'string' } }),
  progress: closed('progress step', { progress: fraction, message: { type: 'string' } }),
  ask: askStep,
  send: sendStep,
});

const agentStep = oneKeyOf('agent step', {
  work: closed('work step', { work: duration }),
  fail: closed('fail step', { fail: fraction, message: { type: 'string' } }),
  acquire: closed('handler acquire step', { acquire: resourceName, units: positiveInteger }),
  release: closed('release step', { release: resourceName }),
  ask: askStep,
  send: sendStep,
  reply: closed('reply step', { reply: anyValue }),
});

const agent = closed(
  'agent',
  {
    name: agentName,
    concurrency: positiveInteger,
    mailbox: closed('mailbox', { capacity: positiveInteger, overflow: { enum: ['reject', 'drop-oldest', 'wait'] } }),
    restart: closed('restart options', { maxRestarts: nonNegativeInteger, withinMs: positiveTimerMs }),
    steps: { type: 'array', items: agentStep },
  },
  ['name', 'steps'],
);

const arrivals = {
  at: nonNegativeNumber,
  count: positiveInteger,
  rate: positiveNumber,
  times: { type: 'array', minItems: 1, items: nonNegativeNumber },
};
const message = oneKeyOf('message', {
  send: closed('sent message', { send: agentName, message: anyValue, ...arrivals }),
  ask: closed('asked message', { ask: agentName, message: anyValue, timeoutMs: positiveTimerMs, ...arrivals }),
});

const dependencyText = 'a task id, or { task: <id>, allow: settled | completed }';
const dependency = {
  description: dependencyText,
  type: ['string', 'object'],
  if: { type: 'string' },
  then: { minLength: 1 },
  else: closed('dependency', { task: nonEmptyString, allow: { enum: ['settled', 'completed'] } }, ['task']),
};

const task = closed('task', { id: nonEmptyString, at: nonNegativeNumber, dependsOn: { type: 'array', items: dependency }, ...templateProperties }, [
  'steps',
]);

const generator = closed(
  'task generator',
  {
    generate: closed(
      'generated task',
      {
        count: positiveInteger,
        rate: positiveNumber,
        start: nonNegativeNumber,
        times: { type: 'array', minItems: 1, items: nonNegativeNumber },
        ...templateProperties,
      },
      ['steps'],
    ),
  },
  ['generate'],
);

// 0, a pool taken offline, would be a fault worth simulating, but the engine fails the acquires that
// wait for a pool whose capacity falls below them, rather than keep them waiting until it comes back.
const newCapacity = {
  ...positiveInteger,
  description: 'an integer, 1 or more (0, a pool taken offline, is not supported yet: its waiting acquires would fail rather than wait)',
};

const fault = oneKeyOf('fault', {
  signal: closed('signal fault', { at: nonNegativeNumber, signal: { enum: ['SIGINT', 'SIGTERM'] } }, ['at']),
  crash: closed(
    'crash fault',
    {
      at: nonNegativeNumber,
      crash: {
        description: 'a worker ("main") or { agent: <name> }',
        type: ['string', 'object'],
        if: { type: 'string' },
        then: { minLength: 1 },
        else: closed('agent crash', { agent: agentName }, ['agent']),
      },
    },
    ['at'],
  ),
  cancel: closed('cancel fault', { at: nonNegativeNumber, cancel: nonEmptyString }, ['at']),
  capacity: closed(
    'capacity fault',
    { at: nonNegativeNumber, capacity: closed('capacity change', { resource: resourceName, units: newCapacity }, ['resource', 'units']) },
    ['at'],
  ),
  slow: closed(
    'slow fault',
    {
      at: nonNegativeNumber,
      slow: closed('slow-down', { worker: nonEmptyString, factor: positiveNumber, forMs: nonNegativeNumber }, ['worker', 'factor']),
    },
    ['at'],
  ),
});

const expectationText = 'a number or a comparison such as ">= 990" (==, !=, >=, <=, >, <)';
const expectation = {
  description: expectationText,
  type: ['number', 'string'],
  if: { type: 'string' },
  then: { description: expectationText, pattern: EXPECTATION_PATTERN.source },
};

/** `expect`: the names listed, and `agent.<name>.<statistic>`; nothing else. */
const expect = {
  title: 'expect',
  type: 'object',
  allOf: [
    {
      title: 'expect',
      properties: Object.fromEntries(EXPECTATION_NAMES.map((name) => [name, true])),
      patternProperties: { [AGENT_EXPECTATION_PATTERN.source]: true },
      additionalProperties: false,
    },
  ],
  properties: Object.fromEntries(EXPECTATION_NAMES.map((name) => [name, expectation])),
  patternProperties: { [AGENT_EXPECTATION_PATTERN.source]: expectation },
};

const engine = closed('engine', {
  concurrency: positiveInteger,
  workers: positiveInteger,
  rateLimit: closed('rate limit', { limit: positiveInteger, intervalMs: positiveTimerMs, per: { enum: ['engine', 'group'] } }, [
    'limit',
    'intervalMs',
  ]),
  resources: {
    type: 'object',
    propertyNames: { description: 'a resource name: not empty and not starting with "@" (reserved)', type: 'string', pattern: '^[^@]' },
    additionalProperties: {
      type: ['integer', 'object'],
      if: { type: 'integer' },
      then: { minimum: 1 },
      else: closed('resource', { capacity: positiveInteger, rank: anyNumber }, ['capacity']),
    },
  },
  deadlock: closed('deadlock options', {
    detect: {
      type: ['string', 'object'],
      if: { type: 'string' },
      then: { enum: ['immediate', 'off'] },
      else: closed('deadlock detection', { afterMs: timerMs }, ['afterMs']),
    },
    policy: { enum: ['youngest', 'lowest-priority', 'least-work', 'fewest-resources'] },
    compensate: {
      type: ['boolean', 'object'],
      if: { type: 'boolean' },
      then: { const: false },
      else: closed('compensation', { maxExtraWorkers: nonNegativeInteger }),
    },
  }),
  lockOrder: { enum: ['off', 'warn', 'enforce'] },
  supervision: closed('supervision options', { maxRestarts: nonNegativeInteger, withinMs: nonNegativeNumber }),
  shutdown: closed('shutdown options', { graceMs: timerMs, drain: { enum: ['run', 'cancel'] } }),
});

/**
 * The JSON Schema of a scenario file (draft-07; `title`s name the objects in error messages).
 * Ajv compiles it in strict mode.
 */
export const SCENARIO_SCHEMA: Readonly<Record<string, unknown>> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  ...closed('scenario', {
    name: { type: 'string' },
    engine,
    tasks: { type: 'array', items: { type: 'object', if: has('generate'), then: generator, else: task } },
    agents: { type: 'array', items: agent },
    messages: { type: 'array', items: message },
    faults: { type: 'array', items: fault },
    expect,
  }),
  definitions: {
    template: closed('task template', templateProperties, ['steps']),
    step,
  },
};
