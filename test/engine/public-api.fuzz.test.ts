import fc from 'fast-check';
import {
  createEngine,
  createQuietLogger,
  ENGINE_DEFAULTS,
  MezanError,
  seededRandom,
  TaskHandle,
  VirtualClock,
  type Engine,
  type EngineEvent,
  type EngineOptions,
  type Lease,
  type ShutdownReport,
  type ShutdownRequestOptions,
  type TaskContext,
  type TaskOptions,
} from '../../src';
import { startEngine } from '../fixtures/engine-harness';

// Fuzzing the public entry points against an oracle written from the documented rules (the TSDoc of
// EngineOptions, TaskOptions, TaskContext and the README's error table):
//   valid input    ⇒ accepted, and the engine runs it to the end in virtual time;
//   invalid input  ⇒ refused with a MezanError `E_INVALID_OPTION` naming the offending option path
//                    (thrown by createEngine, submit and shutdown; a rejection from ctx.sleep,
//                    ctx.acquire and ctx.await; a throw from ctx.progress);
//   never any other exception, never a hang: every run ends with the clock run out (a bounded number
//   of timers) and `engine.shutdown()` resolved with `lost: 0`.
//
// Each generated value carries the oracle's verdict for each option path it holds:
//   `invalid`  the documented rule refuses it: the call must be refused, naming this path (or one inside it);
//   `either`   the documentation and the code disagree (a known gap; none at present): accepted, or refused
//              naming the path;
//   `hostile`  a Proxy whose traps throw, or user code that throws: refused with E_INVALID_OPTION naming
//              the path (what it threw is the error's cause); anything else is a crash;
//   `wild`     a hostile value where no rule is enforced (a known gap; none at present): accepted, refused,
//              or its exception.
//
// The rules the oracle holds the code to, beyond each option's own type and range: `null` is no value
// (an optional field is absent only when `undefined`, as its type says), an array is no options object,
// and `rateLimit.intervalMs`, `shutdown.graceMs` and `engine.shutdown({ graceMs })` stop at 2^31-1 ms.
//
// KNOWN GAPS: none at present. (A throwing Proxy used to let its own exception out of createEngine,
// submit, ctx.acquire and ctx.await; reading options now finds the option whose reading threw.)
// Nothing is left out of the generators for crashing or hanging the engine.

// Fixed, so that every run tries the same inputs. FUZZ_SEED=<n> explores others; FUZZ_STRICT=1 counts the
// known gaps above as failures (`either` and `wild` as invalid, and a wild value's own exception let
// through), so the suite then fails on the first one its inputs reach (to see them, or to check that one
// was fixed).
const SEED = process.env['FUZZ_SEED'] === undefined ? 0x6d657a : Number(process.env['FUZZ_SEED']);
const STRICT = process.env['FUZZ_STRICT'] !== undefined;
const MAX_TIMER_MS = 2_147_483_647;
/** A bound on the timers of one run: a run that sets more is a runaway, not a slow test. */
const MAX_TIMERS = 20_000;

// ---------------------------------------------------------------------------------------------------
// Hostile values

/** What the hostile values throw: a user's own exception, which the engine may let through unchanged. */
const SENTINEL = new Error('fuzz: a hostile value threw');

/** A Proxy every string-keyed trap of which throws (symbol lookups answer, so fast-check can print it). */
const THROWING: object = new Proxy(
  {},
  {
    get(_target, key) {
      if (key === fc.toStringMethod) return () => 'ThrowingProxy';
      if (typeof key === 'symbol') return undefined;
      throw SENTINEL;
    },
    has(_target, key) {
      if (typeof key === 'symbol') return key === fc.toStringMethod;
      throw SENTINEL;
    },
    ownKeys() {
      throw SENTINEL;
    },
    getOwnPropertyDescriptor() {
      throw SENTINEL;
    },
    getPrototypeOf() {
      throw SENTINEL;
    },
    set() {
      throw SENTINEL;
    },
    defineProperty() {
      throw SENTINEL;
    },
    deleteProperty() {
      throw SENTINEL;
    },
  },
);

const NULL_PROTO_EMPTY: object = Object.freeze(Object.create(null) as object);

/** Values tried at every position, whatever its type; each position's rule classifies them. */
const GENERIC: readonly unknown[] = [
  Number.NaN,
  -1,
  0,
  -0,
  0.5,
  1.5,
  1e12,
  2 ** 31,
  Infinity,
  -Infinity,
  '5',
  '',
  Object.freeze({}),
  Object.freeze([]),
  null,
  Symbol('fuzz'),
  THROWING,
  NULL_PROTO_EMPTY,
  true,
  false,
  () => 0,
];

// ---------------------------------------------------------------------------------------------------
// Cases: a value and the oracle's verdict on each of its option paths

/** `wild`: a hostile value where the rule is not enforced (a known gap): accepted, refused, or its own exception. */
type Verdict = 'valid' | 'invalid' | 'either' | 'hostile' | 'wild';

interface Case {
  readonly value: unknown;
  readonly bad: readonly string[];
  readonly loose: readonly string[];
  readonly hostile: readonly string[];
  readonly wild: readonly string[];
}

function single(path: string, verdict: Verdict, value: unknown): Case {
  if (STRICT && (verdict === 'either' || verdict === 'wild')) verdict = 'invalid';
  return {
    value,
    bad: verdict === 'invalid' ? [path] : [],
    loose: verdict === 'either' ? [path] : [],
    hostile: verdict === 'hostile' ? [path] : [],
    wild: verdict === 'wild' ? [path] : [],
  };
}

function combine(value: unknown, parts: readonly Case[]): Case {
  return {
    value,
    bad: parts.flatMap((part) => part.bad),
    loose: parts.flatMap((part) => part.loose),
    hostile: parts.flatMap((part) => part.hostile),
    wild: parts.flatMap((part) => part.wild),
  };
}

/** Whether the case holds no verdict but `valid`. */
const allValid = (verdicts: Case): boolean => verdicts.bad.length + verdicts.loose.length + verdicts.hostile.length + verdicts.wild.length === 0;

/** The same case with more verdicts on it. */
function withVerdicts(base: Case, ...more: Case[]): Case {
  return combine(base.value, [base, ...more]);
}

type Rule = (value: unknown) => Verdict;
/**
 * How dirty a run's input is: 0, only valid values; `n`, about one anomaly (an invalid, hostile or
 * disputed value, an unknown key, a missing field) in `n + 1` draws. A few anomalies a run, at most,
 * test each rule on its own; many test that the first refusal names one of them.
 */
type Dirt = number;
const DIRT: fc.Arbitrary<Dirt> = fc.constantFrom(0, 0, 2, 6, 20, 60);

/** A generator of cases for the option at `path`. */
type Gen = (path: string, dirty: Dirt) => fc.Arbitrary<Case>;

const num = (value: unknown): value is number => typeof value === 'number';
const isInteger = (value: unknown): value is number => Number.isInteger(value);
const posInt = (value: unknown): boolean => isInteger(value) && value >= 1;
const nonNegInt = (value: unknown): boolean => isInteger(value) && value >= 0;
const nonNegFinite = (value: unknown): boolean => num(value) && Number.isFinite(value) && value >= 0;
const finite = (value: unknown): boolean => num(value) && Number.isFinite(value);
const positiveFinite = (value: unknown): boolean => num(value) && Number.isFinite(value) && value > 0;
const timerMs = (value: unknown): boolean => num(value) && value >= 0 && value <= MAX_TIMER_MS;
const fraction = (value: unknown): boolean => num(value) && value > 0 && value <= 1;
const isBoolean = (value: unknown): boolean => typeof value === 'boolean';
const isFunction = (value: unknown): boolean => typeof value === 'function';
const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
const oneOf =
  (...allowed: readonly unknown[]) =>
  (value: unknown): boolean =>
    allowed.includes(value);
const orFalse =
  (ok: (value: unknown) => boolean) =>
  (value: unknown): boolean =>
    value === false || ok(value);

/** An optional field: absent (`undefined`) means its default; `null` is a value like any other, refused unless `ok`. */
const optional =
  (ok: (value: unknown) => boolean): Rule =>
  (value) =>
    value === THROWING ? 'hostile' : ok(value) ? 'valid' : 'invalid';
/** A required field, or a positional argument. */
const required =
  (ok: (value: unknown) => boolean): Rule =>
  (value) =>
    value === THROWING ? 'hostile' : ok(value) ? 'valid' : 'invalid';

/** Mostly `a`, sometimes `b`. */
const mostly = <T>(a: fc.Arbitrary<T>, b: fc.Arbitrary<T>, ratio = 5): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: a, weight: Math.max(1, Math.round(ratio)) }, { arbitrary: b, weight: 1 });

/** `valid`, or in dirty runs now and then `odd`. */
const spoil = <T>(dirty: Dirt, valid: fc.Arbitrary<T>, odd: fc.Arbitrary<T>, scale = 1): fc.Arbitrary<T> =>
  dirty === 0 ? valid : mostly(valid, odd, dirty * scale);

/** A value field: `valid` values, and in dirty runs the generic ones and `odd` ones too, classified by `rule`. */
function leaf(rule: Rule, valid: fc.Arbitrary<unknown>, odd: readonly unknown[] = [], without: readonly unknown[] = []): Gen {
  const generic = fc.constantFrom(...GENERIC.filter((value) => !without.includes(value)), ...odd);
  return (path, dirty) => spoil<unknown>(dirty, valid, generic).map((value) => single(path, rule(value), value));
}

/** Values with their own verdicts (specimens): `[value, verdict, path relative to the option ('' = itself)]`. */
function specimens(valid: fc.Arbitrary<unknown>, odd: ReadonlyArray<readonly [() => unknown, Verdict, string?]>): Gen {
  return (path, dirty) => {
    const good = valid.map((value) => single(path, 'valid', value));
    if (!dirty) return good;
    const bad = fc
      .constantFrom(...odd)
      .map(([make, verdict, sub]) => single(sub === undefined || sub === '' ? path : `${path}${sub}`, verdict, make()));
    return mostly(good, bad, dirty);
  };
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

const UNKNOWN_KEYS = ['wrokers', 'timeout', 'x', 'constructor', 'toString', '__proto__', 'Concurrency', 'grace_ms', 'maxRestart', 'unit'];

interface Shape {
  readonly fields: Readonly<Record<string, Gen>>;
  /** Keys without a default: absent is invalid. */
  readonly required?: readonly string[];
  /** Keys always present (the engine's clock and logger). */
  readonly always?: readonly string[];
  /** Keys seldom present (the deprecated `workers`). */
  readonly seldom?: readonly string[];
  /** `false`: unknown keys are not refused (a known gap): `either`. */
  readonly strict?: boolean;
  /** The path a field is named by in errors (default `<path>.<key>`). */
  readonly fieldPath?: (path: string, key: string) => string;
  /** The path an unknown key is named by in errors (default `<path>.<key>`). */
  readonly unknownPath?: (path: string, key: string) => string;
  /** Values other than objects that the option also takes (`retries: 3`, `compensate: false`). */
  readonly alsoValid?: (value: unknown) => boolean;
}

/** Sets an own, enumerable property (a key such as `__proto__` included) without any setter. */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An options object: some of its fields, maybe an unknown key, maybe a null prototype. */
function object(shape: Shape): Gen {
  const keys = Object.keys(shape.fields);
  const fieldPath = shape.fieldPath ?? join;
  const unknownPath = shape.unknownPath ?? join;
  return (path, dirty) => {
    const fields = fc.tuple(
      ...keys.map((key) => {
        const arbitrary = shape.fields[key]!(fieldPath(path, key), dirty);
        if (shape.always?.includes(key)) return arbitrary;
        const absent = fc.constant(undefined);
        if (shape.required?.includes(key)) return spoil<Case | undefined>(dirty, arbitrary, absent, 3);
        if (shape.seldom?.includes(key)) return mostly(absent, arbitrary, 5);
        return fc.oneof(arbitrary, absent);
      }),
    );
    const unknown = spoil<string | undefined>(
      dirty,
      fc.constant(undefined),
      fc.constantFrom(...UNKNOWN_KEYS.filter((key) => !keys.includes(key))),
      2,
    );
    const nullPrototype = mostly(fc.constant(false), fc.constant(true), 4);
    return fc.tuple(fields, unknown, nullPrototype).map(([values, unknownKey, nullProto]) => {
      const target: Record<string, unknown> = nullProto ? (Object.create(null) as Record<string, unknown>) : {};
      const parts: Case[] = [];
      keys.forEach((key, index) => {
        const part = values[index];
        if (part === undefined) {
          if (shape.required?.includes(key)) parts.push(single(fieldPath(path, key), 'invalid', undefined));
          return;
        }
        define(target, key, part.value);
        parts.push(part);
      });
      if (unknownKey !== undefined) {
        define(target, unknownKey, 1);
        parts.push(single(unknownPath(path, unknownKey), shape.strict === false ? 'either' : 'invalid', 1));
      }
      return combine(target, parts);
    });
  };
}

/** A generic value where an options object is expected. */
function genericAsObject(path: string, value: unknown, shape: Shape): Case {
  if (value === THROWING) return single(path, 'hostile', value);
  if (shape.alsoValid?.(value) === true) return single(path, 'valid', value);
  if (value === null || Array.isArray(value)) return single(path, 'invalid', value);
  if (typeof value === 'object') {
    // `{}` or a null-prototype object: an object without keys; its required fields are missing.
    return combine(
      value,
      (shape.required ?? []).map((key) => single((shape.fieldPath ?? join)(path, key), 'invalid', undefined)),
    );
  }
  return single(path, 'invalid', value);
}

/** An option whose value is an options object (sometimes, in dirty runs, a generic value instead). */
function objectOption(shape: Shape): Gen {
  const inner = object(shape);
  return (path, dirty) =>
    spoil(
      dirty,
      inner(path, dirty),
      fc.constantFrom(...GENERIC).map((value) => genericAsObject(path, value, shape)),
      2,
    );
}

/** One of the generators. */
const anyOf =
  (...gens: Gen[]): Gen =>
  (path, dirty) =>
    fc.oneof(...gens.map((gen) => gen(path, dirty)));

/** A record of names to values (`resources`), keys set as own properties whatever their name. */
function record(names: fc.Arbitrary<string[]>, entry: (name: string) => Gen, nameVerdict: (name: string) => Verdict): Gen {
  const shape: Shape = { fields: {} };
  const inner: Gen = (path, dirty) =>
    names.chain((chosen) =>
      fc.tuple(...chosen.map((name) => entry(name)(`${path}.${name}`, dirty))).map((entries) => {
        const target: Record<string, unknown> = {};
        const parts: Case[] = [];
        chosen.forEach((name, index) => {
          define(target, name, entries[index]!.value);
          parts.push(entries[index]!);
          const verdict = nameVerdict(name);
          if (verdict !== 'valid') parts.push(single(path, verdict, name));
        });
        return combine(target, parts);
      }),
    );
  return (path, dirty) =>
    spoil(
      dirty,
      inner(path, dirty),
      fc.constantFrom(...GENERIC).map((value) => genericAsObject(path, value, shape)),
      2,
    );
}

// ---------------------------------------------------------------------------------------------------
// The oracle

/** Whether an error naming `reported` names the option `path` (or an option inside it). */
function names(reported: string, path: string): boolean {
  return reported === path || reported.startsWith(`${path}.`) || reported.startsWith(`${path}[`) || reported.startsWith(`${path}(`);
}

function describeCase(verdicts: Case): string {
  const list = (label: string, paths: readonly string[]) => (paths.length === 0 ? '' : ` ${label}: [${paths.join(', ')}]`);
  return `{${list('invalid', verdicts.bad)}${list('either', verdicts.loose)}${list('hostile', verdicts.hostile)}${list('wild', verdicts.wild)} }`;
}

function describeError(error: unknown): string {
  if (error instanceof MezanError) return `MezanError ${error.code} (option ${String(error.details['option'])}): ${error.message}`;
  if (error === SENTINEL) return 'the hostile value’s own exception';
  return error instanceof Error ? `${error.name}: ${error.message}` : `a thrown ${typeof error}`;
}

type Outcome = { readonly accepted: true } | { readonly accepted: false; readonly error: unknown };

/**
 * Checks one call's outcome against the verdicts; returns what is wrong, or `undefined`.
 * @param what - the call, for the message
 */
function judge(what: string, outcome: Outcome, verdicts: Case): string | undefined {
  const mayAccept = verdicts.bad.length === 0 && verdicts.hostile.length === 0;
  const mustAccept = allValid(verdicts);
  if (outcome.accepted) return mayAccept ? undefined : `${what} accepted input the rules refuse ${describeCase(verdicts)}`;
  const { error } = outcome;
  if (error === SENTINEL && verdicts.wild.length > 0 && !STRICT) return undefined;
  if (!(error instanceof MezanError) || error.code !== 'E_INVALID_OPTION') {
    return `${what} failed with ${describeError(error)}, not E_INVALID_OPTION ${describeCase(verdicts)}`;
  }
  if (mustAccept) return `${what} refused valid input: ${describeError(error)}`;
  const reported = String(error.details['option']);
  const paths = [...verdicts.bad, ...verdicts.loose, ...verdicts.hostile, ...verdicts.wild];
  if (!paths.some((path) => names(reported, path)))
    return `${what} refused naming \`${reported}\`, none of the offending paths ${describeCase(verdicts)}`;
  if (!error.message.includes(`\`${reported}`)) return `${what}: the message does not name \`${reported}\`: ${error.message}`;
  return undefined;
}

function attempt<T>(call: () => T): { outcome: Outcome; value: T | undefined } {
  try {
    return { outcome: { accepted: true }, value: call() };
  } catch (error) {
    return { outcome: { accepted: false, error }, value: undefined };
  }
}

/** Checks what an asynchronous context call did: it must return a promise, which rejects when it refuses. */
async function attemptAsync<T>(call: () => Promise<T>): Promise<{ outcome: Outcome; value: T | undefined; synchronous: unknown }> {
  let promise: Promise<T>;
  try {
    promise = call();
  } catch (error) {
    // Thrown instead of rejected: always a problem (checked by the caller).
    return { outcome: { accepted: false, error }, value: undefined, synchronous: error };
  }
  try {
    return { outcome: { accepted: true }, value: await promise, synchronous: undefined };
  } catch (error) {
    return { outcome: { accepted: false, error }, value: undefined, synchronous: undefined };
  }
}

const settleTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Shuts the engine down in virtual time; fails (instead of hanging) when the report never comes. */
async function shutDown(engine: Engine, clock: VirtualClock, options?: ShutdownRequestOptions): Promise<ShutdownReport> {
  let report: ShutdownReport | undefined;
  let failure: unknown;
  engine.shutdown(options).then(
    (value) => (report = value),
    (error: unknown) => (failure = error),
  );
  await clock.runAll(MAX_TIMERS);
  await settleTurn();
  if (failure !== undefined) throw failure;
  if (report === undefined) throw new Error('engine.shutdown() did not resolve once the clock had run out: a hang');
  return report;
}

const TERMINAL_EVENTS: ReadonlySet<EngineEvent['type']> = new Set([
  'task.completed',
  'task.failed',
  'task.cancelled',
  'task.timeout',
  'task.deadlock',
  'task.rejected',
]);

/** Every handle settled, and each task told its end exactly once; returns what is wrong. */
function checkSettledOnce(handles: readonly TaskHandle<unknown>[], events: readonly EngineEvent[]): string[] {
  const problems: string[] = [];
  const handlesById = new Map<string, number>();
  for (const handle of handles) {
    if (!handle.isSettled) problems.push(`task ${handle.id} is still ${handle.status} after the clock ran out`);
    handlesById.set(handle.id, (handlesById.get(handle.id) ?? 0) + 1);
  }
  const endsById = new Map<string, number>();
  for (const event of events) {
    if (TERMINAL_EVENTS.has(event.type) && 'taskId' in event) endsById.set(event.taskId, (endsById.get(event.taskId) ?? 0) + 1);
  }
  for (const [id, count] of handlesById) {
    const ends = endsById.get(id) ?? 0;
    if (ends !== count) problems.push(`task ${id}: ${count} handle(s), ${ends} terminal event(s)`);
  }
  return problems;
}

/** The result promise agrees with the status: fulfilled when completed, a MezanError otherwise. */
async function checkResults(handles: readonly TaskHandle<unknown>[]): Promise<string[]> {
  const problems: string[] = [];
  for (const handle of handles) {
    // Only a settled handle's result is awaited: an unsettled one is reported by checkSettledOnce.
    if (!handle.isSettled) continue;
    try {
      await handle.result;
      if (handle.status !== 'completed') problems.push(`task ${handle.id} is ${handle.status} but its result resolved`);
    } catch (error) {
      if (handle.status === 'completed') problems.push(`task ${handle.id} completed but its result rejected`);
      if (!(error instanceof MezanError)) problems.push(`task ${handle.id} rejected with ${describeError(error)}`);
    }
  }
  return problems;
}

function checkReport(report: ShutdownReport, submitted: number): string[] {
  const problems: string[] = [];
  if (report.lost !== 0) problems.push(`shutdown report: lost ${report.lost}`);
  if (report.submitted !== submitted) problems.push(`shutdown report: submitted ${report.submitted}, expected ${submitted}`);
  const ends = report.completed + report.failed + report.cancelled + report.timedOut + report.deadlocked + report.rejected;
  if (ends !== report.submitted) problems.push(`shutdown report: ${ends} ends for ${report.submitted} tasks`);
  return problems;
}

const WATCHED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'] as const;
const signalListeners = (): number[] => WATCHED_SIGNALS.map((signal) => process.listenerCount(signal));

// ---------------------------------------------------------------------------------------------------
// 1. createEngine(options)

/** A clock that answers like `now` but keeps its timers on a fresh virtual clock; `extra` adds (or spoils) methods. */
function clockWith(now: () => unknown, extra: Record<string, unknown> = {}): object {
  const inner = new VirtualClock();
  return {
    now,
    setTimeout: (fn: () => void, ms: number) => inner.setTimeout(fn, ms),
    clearTimeout: (id: number) => inner.clearTimeout(id),
    ...extra,
  };
}

const clockGen = specimens(
  fc
    .constantFrom<() => VirtualClock>(
      () => new VirtualClock(),
      () => new VirtualClock({ settle: 'each-instant' }),
      () => new VirtualClock(1_700_000_000_000),
    )
    .map((make) => make()),
  [
    [() => ({}), 'invalid'],
    [() => 'wall', 'invalid'],
    [() => 0, 'invalid'],
    [() => ({ now: () => 0 }), 'invalid'],
    [() => clockWith(() => Number.NaN), 'invalid', '.now()'],
    [() => clockWith(() => '0'), 'invalid', '.now()'],
    [() => clockWith(() => Infinity), 'invalid', '.now()'],
    // Optional methods, given but not functions.
    [() => clockWith(() => 0, { setImmediate: 5 }), 'invalid', '.setImmediate'],
    [() => clockWith(() => 0, { setImmediate: null, clearImmediate: () => undefined }), 'invalid', '.setImmediate'],
    [() => clockWith(() => 0, { setImmediate: (fn: () => void) => setImmediate(fn), clearImmediate: 'no' }), 'invalid', '.clearImmediate'],
    // A clock that cannot tell the time is refused (its exception as the cause).
    [
      () =>
        clockWith(() => {
          throw SENTINEL;
        }),
      'invalid',
    ],
    [() => THROWING, 'hostile'],
  ],
);

const randomGen = specimens(
  fc.oneof(
    fc.integer().map((seed) => seededRandom(seed)),
    // Constant sources too: the engine's id must not wait for a draw it likes.
    fc.constantFrom(0, 0.15, 0.5, 0.99, 1 - 2 ** -53).map((value) => () => value),
  ),
  [
    [() => 'seeded', 'invalid'],
    [() => 0.5, 'invalid'],
    [() => ({}), 'invalid'],
    [() => () => 1, 'invalid', '()'],
    [() => () => Number.NaN, 'invalid', '()'],
    [() => () => -0.1, 'invalid', '()'],
    [() => () => '0.5', 'invalid', '()'],
    // Refused, its exception as the cause (as a clock's is).
    [
      () => () => {
        throw SENTINEL;
      },
      'invalid',
      '()',
    ],
    [() => null, 'invalid'],
    [() => THROWING, 'hostile'],
  ],
);

/** A logger that is a plain object with the methods mezan calls; `child` as given. */
function objectLogger(child: (this: object) => unknown): object {
  const ignore = (): void => undefined;
  return { child, error: ignore, warn: ignore, info: ignore, debug: ignore };
}

const loggerGen = specimens(
  fc
    .constantFrom<() => unknown>(
      () => false,
      () => createQuietLogger(),
      () =>
        objectLogger(function (this: object) {
          return this;
        }),
      // Its child() returns no logger: the engine logs through the parent.
      () => objectLogger(() => ({})),
      () =>
        objectLogger(() => {
          throw SENTINEL;
        }),
    )
    .map((make) => make()),
  [
    [() => ({}), 'invalid'],
    // An object with child() but not the writing methods.
    [
      () => ({
        child() {
          return this;
        },
      }),
      'invalid',
    ],
    [() => 'console', 'invalid'],
    [() => true, 'invalid'],
    [() => 0, 'invalid'],
    [() => () => undefined, 'invalid'],
    [() => null, 'invalid'],
    [() => THROWING, 'hostile'],
  ],
);

/** An inspection observer: a function, or an object whose handlers are functions, one at least. */
function isObserver(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (typeof value !== 'object' || value === null) return false;
  const handlers = value as { next?: unknown; error?: unknown; complete?: unknown };
  const given = [handlers.next, handlers.error, handlers.complete].filter((handler) => handler !== undefined);
  return given.length > 0 && given.every(isFunction);
}

const POLICIES = ['youngest', 'lowest-priority', 'least-work', 'fewest-resources'] as const;
const CATCHABLE_SAMPLE = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'] as const;

const signalsGen: Gen = (path, dirty) => {
  const element = spoil(
    dirty,
    fc.constantFrom<unknown>(...CATCHABLE_SAMPLE).map((signal) => ({ signal, verdict: 'valid' as Verdict })),
    fc.constantFrom<unknown>('SIGKILL', 'SIGSTOP', 'SIGFOO', 'sigterm', 'TERM', '', 15, null, Symbol('SIGTERM'), THROWING).map((signal) => ({
      signal,
      verdict: (signal === THROWING ? 'hostile' : 'invalid') as Verdict,
    })),
  );
  const listed = fc.tuple(fc.array(element, { maxLength: 3 }), spoil(dirty, fc.constant(false), fc.constant(true), 2)).map(([elements, sparse]) => {
    const signals: unknown[] = elements.map((element) => element.signal);
    const parts = elements.map((element, index) => single(`${path}[${index}]`, element.verdict, element.signal));
    if (sparse) {
      // A hole is not a signal name.
      signals.length += 1;
      parts.push(single(`${path}[${signals.length - 1}]`, 'invalid', undefined));
    }
    return combine(signals, parts);
  });
  const generic = fc
    .constantFrom(...GENERIC)
    .map((value) => single(path, value === THROWING ? 'hostile' : Array.isArray(value) ? 'valid' : 'invalid', value));
  return spoil(dirty, listed, generic, 2);
};

const POOL_NAMES = ['db', 'gpu', 'cache', 'constructor', 'toString', '__proto__', 'a.b', ' '];
const RESERVED_POOL_NAMES = ['', '@workers', '@x'];

const poolSpecGen: Gen = anyOf(
  leaf(required(posInt), fc.constantFrom(1, 2, 3, 1e12)),
  objectOption({
    fields: {
      capacity: leaf(required(posInt), fc.integer({ min: 1, max: 3 })),
      rank: leaf(optional(finite), fc.constantFrom(-1, 0, 1, 2.5, 1e12)),
    },
    required: ['capacity'],
    alsoValid: posInt,
  }),
);

const engineResourcesGen = (dirty: Dirt): fc.Arbitrary<string[]> =>
  fc.uniqueArray(spoil(dirty, fc.constantFrom(...POOL_NAMES), fc.constantFrom(...RESERVED_POOL_NAMES)), { maxLength: 3 });

const engineShape: Shape = {
  fieldPath: (_path, key) => key,
  unknownPath: (_path, key) => key,
  always: ['clock', 'logger'],
  seldom: ['workers'],
  fields: {
    concurrency: leaf(optional(posInt), fc.integer({ min: 1, max: 4 }), [MAX_TIMER_MS]),
    workers: leaf(optional(posInt), fc.integer({ min: 1, max: 4 })),
    clock: clockGen,
    random: randomGen,
    logger: loggerGen,
    maxBatch: leaf(optional(posInt), fc.integer({ min: 1, max: 64 })),
    onUnhandledError: leaf(
      optional(isFunction),
      fc.constant(() => undefined),
    ),
    rateLimit: objectOption({
      fields: {
        // Huge limits too, in clean runs as well: nothing is allocated per unit.
        limit: leaf(required(posInt), mostly(fc.integer({ min: 1, max: 5 }), fc.constantFrom(2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER), 3), [
          2 ** 32,
          Number.MAX_SAFE_INTEGER,
        ]),
        // A positive number of milliseconds up to 2^31-1.
        intervalMs: leaf(
          required((value) => num(value) && value > 0 && value <= MAX_TIMER_MS),
          fc.constantFrom(1, 10, 1000, 0.5, MAX_TIMER_MS),
          [MAX_TIMER_MS + 1],
        ),
        per: leaf(optional(oneOf('engine', 'group')), fc.constantFrom('engine', 'group')),
      },
      required: ['limit', 'intervalMs'],
    }),
    supervision: objectOption({
      fields: {
        maxRestarts: leaf(optional(nonNegInt), fc.integer({ min: 0, max: 10 })),
        withinMs: leaf(optional(nonNegFinite), fc.constantFrom(0, 10, 5000, 1e12)),
      },
    }),
    resources: (path, dirty) =>
      record(
        engineResourcesGen(dirty),
        () => poolSpecGen,
        (name) => (name.length === 0 || name.startsWith('@') ? 'invalid' : 'valid'),
      )(path, dirty),
    deadlock: objectOption({
      fields: {
        detect: anyOf(
          leaf(optional(oneOf('immediate', 'off')), fc.constantFrom('immediate', 'off')),
          objectOption({
            fields: { afterMs: leaf(required(timerMs), fc.constantFrom(0, 5, 100, MAX_TIMER_MS)) },
            required: ['afterMs'],
          }),
        ),
        policy: leaf(
          optional((value) => isFunction(value) || POLICIES.includes(value as never)),
          fc.constantFrom<unknown>(...POLICIES, () => undefined),
          ['oldest', 'Youngest'],
        ),
        compensate: objectOption({
          fields: { maxExtraWorkers: leaf(optional(nonNegInt), fc.integer({ min: 0, max: 4 })) },
          alsoValid: (value) => value === false,
        }),
      },
    }),
    lockOrder: leaf(optional(oneOf('off', 'warn', 'enforce')), fc.constantFrom('off', 'warn', 'enforce'), ['strict']),
    shutdown: objectOption({
      fields: {
        graceMs: leaf(optional(timerMs), fc.constantFrom(0, 10, 10_000, MAX_TIMER_MS), [MAX_TIMER_MS + 1]),
        drain: leaf(optional(oneOf('run', 'cancel')), fc.constantFrom('run', 'cancel'), ['abort']),
        abandonAfterMs: leaf(optional(timerMs), fc.constantFrom(0, 10, 5000, MAX_TIMER_MS), [MAX_TIMER_MS + 1]),
        signals: signalsGen,
        exitOnSignal: leaf(optional(isBoolean), fc.boolean()),
      },
    }),
    metrics: objectOption({
      fields: { timings: leaf(optional(oneOf('always', 'on-demand', 'off')), fc.constantFrom('always', 'on-demand', 'off'), ['ondemand']) },
    }),
    thresholds: objectOption({
      fields: {
        resourceWaitMs: leaf(optional(orFalse(timerMs)), fc.constantFrom(0, 100, false)),
        poolUtilization: leaf(optional(orFalse(fraction)), fc.constantFrom(0.1, 0.9, 1, false)),
        poolUtilizationForMs: leaf(optional(timerMs), fc.constantFrom(0, 1000)),
        queueDepth: leaf(optional(orFalse(nonNegInt)), fc.constantFrom(0, 5, 1000, false)),
        deadlock: leaf(optional(isBoolean), fc.boolean()),
        workerRestarts: leaf(optional(orFalse(nonNegInt)), fc.constantFrom(0, 3, false)),
        clearRatio: leaf(optional(fraction), fc.constantFrom(0.1, 0.8, 1)),
      },
    }),
    inspect: leaf(
      optional(isObserver),
      fc.constantFrom<unknown>(
        () => undefined,
        { next: () => undefined },
        { error: () => undefined, complete: () => undefined },
        // Observers that throw: contained, logged once.
        () => {
          throw new Error('inspect throws');
        },
        {
          next() {
            throw SENTINEL;
          },
        },
      ),
      [{ next: undefined }, { next: 5, error() {} }, { next() {}, complete: 'done' }],
    ),
  },
};

/** `workers` is a deprecated alias: given with a different `concurrency`, it is refused. */
function withAliasRule(options: Case): Case {
  const value = options.value as { workers?: unknown; concurrency?: unknown };
  if (posInt(value.workers) && posInt(value.concurrency) && value.workers !== value.concurrency)
    return withVerdicts(options, single('workers', 'invalid', value.workers));
  return options;
}

const engineOptionsCase: fc.Arbitrary<Case> = DIRT.chain((dirty) => {
  const options = object(engineShape)('options', dirty).map(withAliasRule);
  // Now and then not an options object at all (never `{}`: it would run on the real clock).
  const notAnObject = fc
    .constantFrom<unknown>(null, '5', 4, true, THROWING, Symbol('options'), Object.freeze([]))
    .map((value) => single('options', value === THROWING ? 'hostile' : 'invalid', value));
  return spoil(dirty, options, notAnObject, 3);
});

// ---------------------------------------------------------------------------------------------------
// 2. engine.submit(fn, options)

const TASK_POOLS = { db: { capacity: 2 }, gpu: { capacity: 1, rank: 1 } } as const;

/** Declared resources: units of the engine's pools; an unknown pool is named by its entry (`resources.nope`). */
const declaredResourcesGen: Gen = (path, dirty) =>
  record(
    fc.uniqueArray(spoil(dirty, fc.constantFrom('db', 'gpu'), fc.constantFrom('nope', '@workers', 'constructor')), { maxLength: 2 }),
    (name) => {
      const capacity = Object.hasOwn(TASK_POOLS, name) ? TASK_POOLS[name as keyof typeof TASK_POOLS].capacity : undefined;
      return leaf(
        required((units) => capacity !== undefined && isInteger(units) && units >= 1 && units <= capacity),
        capacity === undefined ? fc.constant(1) : fc.integer({ min: 1, max: capacity }),
        [3],
      );
    },
    () => 'valid',
  )(path, dirty);

const retriesGen: Gen = objectOption({
  fields: {
    max: leaf(optional(nonNegInt), fc.integer({ min: 0, max: 3 }), [1e12]),
    delayMs: leaf(optional(nonNegFinite), fc.constantFrom(0, 1, 7, 1e12)),
    backoff: leaf(optional(oneOf('fixed', 'exponential')), fc.constantFrom('fixed', 'exponential'), ['linear']),
    maxDelayMs: leaf(
      optional((value) => num(value) && value >= 0),
      fc.constantFrom(0, 5, Infinity),
    ),
    // A boolean, or a number in (0, 1] (0 is refused).
    jitter: leaf(
      optional((value) => isBoolean(value) || fraction(value)),
      fc.constantFrom(true, false, 0.5, 1),
    ),
    retryIf: leaf(
      optional(isFunction),
      fc.constantFrom(
        () => true,
        () => false,
        (_error: unknown, attempt: number) => attempt < 2,
        () => {
          throw new Error('retryIf threw');
        },
      ),
    ),
  },
  alsoValid: nonNegInt,
});

/** Every field of TaskOptions but those that refer to the engine's state (id, dependsOn, signal). */
const taskShape: Shape = {
  fieldPath: (path, key) => join(path, key),
  unknownPath: (path, key) => join(path, key),
  fields: {
    name: leaf(optional(nonEmptyString), fc.constantFrom('alpha', 'beta', 'x'.repeat(200))),
    priority: leaf(optional(finite), fc.integer({ min: -3, max: 3 }), [Number.MAX_VALUE, -Number.MAX_VALUE]),
    timeoutMs: leaf(optional(positiveFinite), fc.constantFrom(1, 5, 40, 0.5, 1e12)),
    // A count, or a retry options object (whose generic values, numbers included, the latter classifies).
    retries: anyOf((path) => fc.integer({ min: 0, max: 3 }).map((count) => single(path, 'valid', count)), retriesGen),
    // Anything, untouched: even a hostile value is valid here.
    meta: leaf(() => 'valid', fc.constantFrom<unknown>(...GENERIC, { a: 1 })),
    input: leaf(() => 'valid', fc.constantFrom<unknown>(...GENERIC, [1, 2])),
    queueTimeoutMs: leaf(optional(timerMs), fc.constantFrom(0, 3, 40, MAX_TIMER_MS), [MAX_TIMER_MS + 1]),
    group: leaf(optional(nonEmptyString), fc.constantFrom('g1', 'g2')),
    resources: declaredResourcesGen,
  },
};

/** A task's own options at `path` ('' for submit: its fields are `name`, `retries.max`…; the object itself is `options`). */
const taskOptionsGen = (dirty: Dirt): fc.Arbitrary<Case> => {
  const generic = fc.constantFrom(...GENERIC).map((value) => genericAsObject('options', value, taskShape));
  return spoil(dirty, object(taskShape)('', dirty), generic, 3);
};

type Ref = number;
type DependencySpec =
  | { readonly kind: 'handle'; readonly ref: Ref }
  | { readonly kind: 'id'; readonly ref: Ref }
  | { readonly kind: 'spec'; readonly ref: Ref; readonly byId: boolean; readonly allow: unknown; readonly extraKey: boolean }
  | { readonly kind: 'unknown-id' }
  | { readonly kind: 'spec-task'; readonly task: unknown }
  | { readonly kind: 'generic'; readonly value: unknown };

const dependencySpec = (dirty: Dirt): fc.Arbitrary<DependencySpec> => {
  const ref = fc.nat();
  const good = fc.oneof(
    ref.map((r): DependencySpec => ({ kind: 'handle', ref: r })),
    ref.map((r): DependencySpec => ({ kind: 'id', ref: r })),
    fc
      .record({ ref, byId: fc.boolean(), allow: fc.constantFrom<unknown>(undefined, 'completed', 'settled') })
      .map(({ ref: r, byId, allow }): DependencySpec => ({ kind: 'spec', ref: r, byId, allow, extraKey: false })),
  );
  const bad = fc.oneof(
    fc.constant<DependencySpec>({ kind: 'unknown-id' }),
    fc
      .record({ ref, byId: fc.boolean(), allow: fc.constantFrom<unknown>('done', null, 1, undefined), extraKey: fc.boolean() })
      .map((spec): DependencySpec => ({ kind: 'spec', ...spec })),
    fc.constantFrom<unknown>(5, null, {}, [], '', THROWING).map((task): DependencySpec => ({ kind: 'spec-task', task })),
    fc.constantFrom(...GENERIC).map((value): DependencySpec => ({ kind: 'generic', value })),
  );
  return spoil(dirty, good, bad);
};

type SignalSpec =
  | { readonly kind: 'fresh' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'abort-at'; readonly at: number }
  | { readonly kind: 'generic'; readonly value: unknown };

type IdSpec =
  | { readonly kind: 'chosen'; readonly id: string }
  | { readonly kind: 'reuse'; readonly ref: Ref }
  | { readonly kind: 'generic'; readonly value: unknown };

interface Submission {
  /** Clock time it is submitted at. */
  readonly at: number;
  /** `undefined`: the task function below; otherwise what is passed instead of a function. */
  readonly notAFunction: { readonly value: unknown } | undefined;
  readonly sleepMs: number;
  /** How many of its first attempts throw. */
  readonly failures: number;
  readonly options: Case;
  readonly id: IdSpec | undefined;
  readonly dependsOn: readonly DependencySpec[] | { readonly value: unknown } | undefined;
  readonly signal: SignalSpec | undefined;
}

const submission = (dirty: Dirt): fc.Arbitrary<Submission> =>
  fc.record({
    at: fc.integer({ min: 0, max: 30 }),
    notAFunction: spoil(
      dirty,
      fc.constant(undefined),
      // Not a string: a string is a task's name (test/engine/named-tasks.test.ts).
      fc.constantFrom<unknown>(null, true, 5, {}, THROWING).map((value) => ({ value })),
      3,
    ),
    sleepMs: fc.integer({ min: 0, max: 20 }),
    failures: fc.integer({ min: 0, max: 2 }),
    options: taskOptionsGen(dirty),
    // The id may be taken by an unfinished task (one of the chosen ones, or a reused one): then refused.
    id: spoil(
      dirty,
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 4 },
        { arbitrary: fc.constantFrom('a', 'b', 'task-1', 'task-2').map((id): IdSpec => ({ kind: 'chosen', id })), weight: 2 },
        { arbitrary: fc.nat().map((ref): IdSpec => ({ kind: 'reuse', ref })), weight: 1 },
      ),
      fc.constantFrom(...GENERIC).map((value): IdSpec => ({ kind: 'generic', value })),
    ),
    dependsOn: spoil<Submission['dependsOn']>(
      dirty,
      fc.oneof(fc.constant(undefined), fc.array(dependencySpec(dirty), { maxLength: 3 })),
      fc.constantFrom<unknown>('a', 5, null, {}, THROWING).map((value) => ({ value })),
    ),
    signal: spoil(
      dirty,
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 5 },
        { arbitrary: fc.constant<SignalSpec>({ kind: 'fresh' }), weight: 1 },
        { arbitrary: fc.constant<SignalSpec>({ kind: 'aborted' }), weight: 1 },
        { arbitrary: fc.integer({ min: 0, max: 40 }).map((at): SignalSpec => ({ kind: 'abort-at', at })), weight: 1 },
      ),
      fc.constantFrom<unknown>({}, 'signal', { aborted: false }, null, THROWING).map((value): SignalSpec => ({ kind: 'generic', value })),
    ),
  });

/** A copy of an options object (its prototype and own keys kept), to add the fields that refer to the engine. */
function copyOf(value: object): Record<string, unknown> {
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(value)) define(copy, key, (value as Record<string, unknown>)[key]);
  return copy;
}

/** What is passed for `dependsOn`, with its verdicts, given the handles accepted so far. */
function materializeDependsOn(
  spec: Submission['dependsOn'],
  accepted: readonly TaskHandle<unknown>[],
  liveIds: ReadonlySet<string>,
): Case | undefined {
  if (spec === undefined) return undefined;
  if (!Array.isArray(spec)) {
    const { value } = spec as { value: unknown };
    return single('dependsOn', value === THROWING ? 'hostile' : 'invalid', value);
  }
  const entries: unknown[] = [];
  const parts: Case[] = [];
  (spec as readonly DependencySpec[]).forEach((dependency, index) => {
    const path = `dependsOn[${index}]`;
    const target = (ref: Ref): TaskHandle<unknown> | undefined => (accepted.length === 0 ? undefined : accepted[ref % accepted.length]);
    const byId = (handle: TaskHandle<unknown>): Verdict => (liveIds.has(handle.id) ? 'valid' : 'invalid');
    switch (dependency.kind) {
      case 'handle':
      case 'id': {
        const handle = target(dependency.ref);
        if (handle === undefined) {
          entries.push('no-such-task');
          parts.push(single(path, 'invalid', 'no-such-task'));
        } else if (dependency.kind === 'handle') {
          entries.push(handle);
        } else {
          entries.push(handle.id);
          parts.push(single(path, byId(handle), handle.id));
        }
        return;
      }
      case 'spec': {
        const handle = target(dependency.ref);
        const entry: Record<string, unknown> = {};
        if (handle === undefined) {
          define(entry, 'task', 'no-such-task');
          parts.push(single(`${path}.task`, 'invalid', 'no-such-task'));
        } else {
          define(entry, 'task', dependency.byId ? handle.id : handle);
          if (dependency.byId) parts.push(single(`${path}.task`, byId(handle), handle.id));
        }
        if (dependency.allow !== undefined) define(entry, 'allow', dependency.allow);
        if (dependency.allow !== undefined && dependency.allow !== 'completed' && dependency.allow !== 'settled') {
          parts.push(single(`${path}.allow`, 'invalid', dependency.allow));
        }
        if (dependency.extraKey) {
          define(entry, 'alow', 'settled');
          parts.push(single(`${path}.alow`, 'invalid', 'settled'));
        }
        entries.push(entry);
        return;
      }
      case 'unknown-id':
        entries.push('no-such-task');
        parts.push(single(path, 'invalid', 'no-such-task'));
        return;
      case 'spec-task':
        entries.push({ task: dependency.task });
        parts.push(single(`${path}.task`, dependency.task === THROWING ? 'hostile' : 'invalid', dependency.task));
        return;
      case 'generic': {
        const { value } = dependency;
        entries.push(value);
        // A string names a task by id ('5' may be one).
        parts.push(single(path, value === THROWING ? 'hostile' : typeof value === 'string' && liveIds.has(value) ? 'valid' : 'invalid', value));
        return;
      }
    }
  });
  return combine(entries, parts);
}

function materializeId(spec: IdSpec | undefined, accepted: readonly TaskHandle<unknown>[], liveIds: ReadonlySet<string>): Case | undefined {
  if (spec === undefined) return undefined;
  let id: unknown;
  if (spec.kind === 'generic') id = spec.value;
  else if (spec.kind === 'chosen') id = spec.id;
  else id = accepted.length === 0 ? 'a' : accepted[spec.ref % accepted.length]!.id;
  if (id === THROWING) return single('id', 'hostile', id);
  return single('id', nonEmptyString(id) && !liveIds.has(id as string) ? 'valid' : 'invalid', id);
}

function materializeSignal(spec: SignalSpec | undefined, clock: VirtualClock): Case | undefined {
  if (spec === undefined) return undefined;
  switch (spec.kind) {
    case 'fresh':
      return single('signal', 'valid', new AbortController().signal);
    case 'aborted':
      return single('signal', 'valid', AbortSignal.abort('cancelled before submission'));
    case 'abort-at': {
      const controller = new AbortController();
      clock.setTimeout(() => controller.abort('cancelled by its signal'), spec.at);
      return single('signal', 'valid', controller.signal);
    }
    case 'generic':
      return single('signal', spec.value === THROWING ? 'hostile' : 'invalid', spec.value);
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. The task context: ctx.sleep, ctx.progress, ctx.acquire, ctx.await, ctx.submit

const CTX_POOLS = { db: { capacity: 2 }, gpu: { capacity: 1, rank: 1 }, cache: { capacity: 1, rank: 2 } } as const;

type AwaitTarget = 'ok' | 'fail' | 'done' | 'self' | { readonly value: unknown };

type CtxCall =
  | { readonly op: 'sleep'; readonly ms: unknown }
  | { readonly op: 'progress'; readonly fraction: unknown; readonly message: unknown }
  | { readonly op: 'acquire'; readonly resource: unknown; readonly options: Case | undefined; readonly hold: boolean }
  | { readonly op: 'await'; readonly target: AwaitTarget; readonly options: Case | undefined }
  | { readonly op: 'submit'; readonly options: Case | undefined };

interface Script {
  readonly calls: readonly CtxCall[];
  /** Rethrow the first E_INVALID_OPTION a call gives. */
  readonly rethrow: boolean;
}

/** `{ units, timeoutMs }` of ctx.acquire: errors name `units`, `timeoutMs`, `options`, `options.<key>`. */
const acquireOptionsGen: Gen = objectOption({
  fieldPath: (_path, key) => key,
  unknownPath: (path, key) => join(path, key),
  fields: {
    // Its upper bound is the pool's capacity: checked when the call is made.
    units: leaf(optional(posInt), fc.integer({ min: 1, max: 2 }), [3]),
    timeoutMs: leaf(optional(nonNegFinite), fc.constantFrom(0, 3, 30, 1e12)),
  },
});

const awaitOptionsGen: Gen = objectOption({
  fieldPath: (_path, key) => key,
  unknownPath: (path, key) => join(path, key),
  fields: { timeoutMs: leaf(optional(nonNegFinite), fc.constantFrom(0, 2, 30, 1e12)) },
});

const ctxCall = (dirty: Dirt): fc.Arbitrary<CtxCall> => {
  const value = (valid: fc.Arbitrary<unknown>) => spoil(dirty, valid, fc.constantFrom(...GENERIC));
  const maybeOptions = (gen: Gen) => fc.oneof(fc.constant(undefined), gen('options', dirty));
  return fc.oneof(
    value(fc.constantFrom(0, 1, 2.5, 10, 1e12)).map((ms): CtxCall => ({ op: 'sleep', ms })),
    fc
      .record({
        fraction: value(fc.constantFrom(0, 0.25, 1)),
        message: spoil<unknown>(dirty, fc.constantFrom(undefined, 'half way'), fc.constantFrom(5, THROWING)),
      })
      .map(({ fraction, message }): CtxCall => ({ op: 'progress', fraction, message })),
    fc
      .record({
        resource: spoil<unknown>(dirty, fc.constantFrom('db', 'gpu', 'cache'), fc.constantFrom('nope', '@workers', '', THROWING, 5, null)),
        options: maybeOptions(acquireOptionsGen),
        hold: fc.boolean(),
      })
      .map(({ resource, options, hold }): CtxCall => ({ op: 'acquire', resource, options, hold })),
    fc
      .record({
        target: spoil<AwaitTarget>(
          dirty,
          fc.constantFrom('ok', 'fail', 'done'),
          fc.oneof(
            fc.constant('self' as const),
            fc.constantFrom(...GENERIC).map((v) => ({ value: v })),
          ),
        ),
        options: maybeOptions(awaitOptionsGen),
      })
      .map(({ target, options }): CtxCall => ({ op: 'await', target, options })),
    fc.oneof(fc.constant(undefined), taskOptionsGen(dirty)).map((options): CtxCall => ({ op: 'submit', options })),
  );
};

// ---------------------------------------------------------------------------------------------------
// 4. engine.shutdown(options)

const shutdownRequestShape: Shape = {
  fieldPath: (_path, key) => key,
  unknownPath: (_path, key) => key,
  fields: {
    // Bounded as `shutdown.graceMs` is.
    graceMs: leaf(optional(timerMs), fc.constantFrom(0, 5, 50, 10_000), [MAX_TIMER_MS, MAX_TIMER_MS + 1]),
    drain: leaf(optional(oneOf('run', 'cancel')), fc.constantFrom('run', 'cancel'), ['abort']),
    force: leaf(optional(isBoolean), fc.boolean()),
  },
};

const shutdownRequestGen = (dirty: Dirt): fc.Arbitrary<Case> =>
  spoil(
    dirty,
    object(shutdownRequestShape)('options', dirty),
    fc.constantFrom(...GENERIC).map((value) => genericAsObject('options', value, shutdownRequestShape)),
  );

type ShutdownTask = { readonly kind: 'sleep'; readonly ms: number } | { readonly kind: 'stubborn' };

// ---------------------------------------------------------------------------------------------------

describe('the public entry points under fuzzed input (an oracle from the documented rules)', () => {
  it('createEngine(options): valid ⇒ an engine that runs a task and shuts down; invalid ⇒ E_INVALID_OPTION naming the option', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(engineOptionsCase, async (options) => {
        const listenersBefore = signalListeners();
        const { outcome, value: engine } = attempt(() => createEngine(options.value as EngineOptions));
        const problem = judge('createEngine', outcome, options);
        if (problem !== undefined) {
          if (engine !== undefined) await shutDown(engine, (options.value as { clock: VirtualClock }).clock);
          throw new Error(problem);
        }
        if (engine === undefined) {
          refused++;
          expect(signalListeners()).toEqual(listenersBefore);
          return;
        }
        accepted++;
        const clock = (options.value as { clock: unknown }).clock;
        if (!(clock instanceof VirtualClock)) throw new Error('an engine was made on a clock that is not the injected VirtualClock');
        // Its main-thread worker has `concurrency` slots (`workers`, the deprecated alias, if alone).
        const given = options.value as { concurrency?: number; workers?: number };
        expect(engine.stats().workers.map(({ id, slots }) => ({ id, slots }))).toEqual([
          { id: 'main', slots: given.concurrency ?? given.workers ?? ENGINE_DEFAULTS.concurrency() },
        ]);
        const handle = engine.submit(async (ctx) => {
          await ctx.sleep(1);
          return 'done';
        });
        await clock.runAll(MAX_TIMERS);
        expect(handle.status).toBe('completed');
        await expect(handle.result).resolves.toBe('done');
        const report = await shutDown(engine, clock);
        expect(checkReport(report, 1)).toEqual([]);
        expect(engine.isAccepting).toBe(false);
        // Every process signal listener the engine installed is gone.
        expect(signalListeners()).toEqual(listenersBefore);
      }),
      { seed: SEED, numRuns: 250 },
    );
    // Both sides of the oracle were exercised.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });

  it('engine.submit(fn, options): valid ⇒ a handle that settles once; invalid ⇒ a synchronous E_INVALID_OPTION; shutdown loses nothing', async () => {
    let acceptedTotal = 0;
    let refusedTotal = 0;
    await fc.assert(
      fc.asyncProperty(
        DIRT.chain((dirty) =>
          fc.record({ concurrency: fc.integer({ min: 1, max: 3 }), submissions: fc.array(submission(dirty), { minLength: 1, maxLength: 6 }) }),
        ),
        async ({ concurrency, submissions }) => {
          const { engine, clock, events } = startEngine({ concurrency, logger: false, random: seededRandom(7), resources: TASK_POOLS });
          const accepted: TaskHandle<unknown>[] = [];
          /** Submitted with a signal already aborted: cancelled, their function never called. */
          const abortedFirst: number[] = [];
          /** The submissions whose function was called. */
          const called = new Set<number>();
          const handleOf = new Map<number, TaskHandle<unknown>>();
          const problems: string[] = [];
          const ordered = [...submissions].sort((a, b) => a.at - b.at);
          for (const [index, spec] of ordered.entries()) {
            await clock.advanceTo(spec.at);
            const liveIds = new Set(accepted.filter((handle) => !handle.isSettled).map((handle) => handle.id));
            const parts: Case[] = [];
            let options: unknown = spec.options.value;
            const extras = [
              materializeId(spec.id, accepted, liveIds),
              materializeDependsOn(spec.dependsOn, accepted, liveIds),
              materializeSignal(spec.signal, clock),
            ];
            const isOptionsObject = typeof options === 'object' && options !== null && options !== THROWING && !Array.isArray(options);
            // The fields that refer to the engine are added to an options object (not to `[]`, `null`…).
            if (isOptionsObject) {
              options = copyOf(options as object);
              (['id', 'dependsOn', 'signal'] as const).forEach((key, i) => {
                const extra = extras[i];
                if (extra === undefined) return;
                define(options as object, key, extra.value);
                parts.push(extra);
              });
            }
            const fn =
              spec.notAFunction === undefined
                ? async (ctx: TaskContext) => {
                    called.add(index);
                    if (spec.sleepMs > 0) await ctx.sleep(spec.sleepMs);
                    if (ctx.attempt <= spec.failures) throw new Error(`attempt ${ctx.attempt} fails`);
                    return `${ctx.id}:${ctx.attempt}`;
                  }
                : spec.notAFunction.value;
            if (spec.notAFunction !== undefined) {
              const value = spec.notAFunction.value;
              parts.push(single('fn', value === THROWING ? 'hostile' : 'invalid', value));
            }
            const verdicts = withVerdicts(spec.options, ...parts);
            const { outcome, value: handle } = attempt(() => engine.submit(fn as never, options as TaskOptions));
            const problem = judge(`submission ${index}`, outcome, verdicts);
            if (problem !== undefined) problems.push(problem);
            if (handle !== undefined) {
              if (!(handle instanceof TaskHandle)) problems.push(`submission ${index} returned ${String(handle)}, not a handle`);
              accepted.push(handle);
              handleOf.set(index, handle);
              acceptedTotal++;
              if (isOptionsObject && spec.signal?.kind === 'aborted') abortedFirst.push(index);
            } else refusedTotal++;
          }
          await clock.runAll(MAX_TIMERS);
          problems.push(...checkSettledOnce(accepted, events));
          problems.push(...(await checkResults(accepted)));
          for (const index of abortedFirst) {
            const handle = handleOf.get(index)!;
            if (handle.status !== 'cancelled') problems.push(`task ${handle.id}, its signal aborted before submission, ended ${handle.status}`);
            if (called.has(index)) problems.push(`task ${handle.id}, its signal aborted before submission, was run`);
          }
          const progress = engine.progress();
          if (progress.total !== accepted.length || progress.pending !== 0 || progress.running !== 0) {
            problems.push(
              `progress: total ${progress.total}, pending ${progress.pending}, running ${progress.running}, for ${accepted.length} tasks`,
            );
          }
          const statuses = accepted.map((handle) => handle.status);
          const report = await shutDown(engine, clock);
          problems.push(...checkReport(report, accepted.length));
          if (accepted.some((handle, i) => handle.status !== statuses[i])) problems.push('a settled task changed its status during shutdown');
          expect(problems).toEqual([]);
        },
      ),
      { seed: SEED + 1, numRuns: 200 },
    );
    expect(acceptedTotal).toBeGreaterThan(100);
    expect(refusedTotal).toBeGreaterThan(30);
  });

  it('ctx.sleep, ctx.progress, ctx.acquire, ctx.await and ctx.submit inside a task: valid ⇒ works; invalid ⇒ E_INVALID_OPTION, and rethrown ⇒ E_TASK_FAILED', async () => {
    let refusedCalls = 0;
    let validCalls = 0;
    await fc.assert(
      fc.asyncProperty(
        DIRT.chain((dirty) =>
          fc.record({
            concurrency: fc.integer({ min: 1, max: 3 }),
            lockOrder: fc.constantFrom('warn' as const, 'enforce' as const, 'off' as const),
            scripts: fc.array(fc.record({ calls: fc.array(ctxCall(dirty), { minLength: 1, maxLength: 6 }), rethrow: fc.boolean() }), {
              minLength: 1,
              maxLength: 4,
            }),
          }),
        ),
        async ({ concurrency, lockOrder, scripts }) => {
          const { engine, clock, events } = startEngine({ concurrency, lockOrder, logger: false, resources: CTX_POOLS });
          const problems: string[] = [];
          const helperError = new Error('the helper fails');
          const helpers = {
            ok: engine.submit(async (ctx) => {
              await ctx.sleep(5);
              return 'ok';
            }),
            fail: engine.submit(async (ctx) => {
              await ctx.sleep(3);
              throw helperError;
            }),
            done: engine.submit(() => 'done'),
          };
          const children: TaskHandle<unknown>[] = [];
          const progressReported: Array<{ taskId: string; fraction: number }> = [];
          const handles = new Map<string, TaskHandle<unknown>>();
          /** What each script task should end as: `completed`, `failed` with this cause, or any end. */
          const expected = new Map<
            string,
            { readonly kind: 'completed' } | { readonly kind: 'failed'; readonly cause: MezanError } | { readonly kind: 'any' }
          >();

          const run = async (script: Script, ctx: TaskContext): Promise<string> => {
            const self = handles.get(ctx.id);
            for (const [index, call] of script.calls.entries()) {
              const what = `task ${ctx.id} call ${index} (${call.op})`;
              let verdicts: Case;
              let outcome: Outcome;
              let synchronous: unknown;
              /** The rejections a valid call may have (a timeout it asked for, a deadlock…). */
              let allowed: (error: MezanError) => boolean = () => false;
              switch (call.op) {
                case 'sleep': {
                  verdicts = single('ms', optional(nonNegFinite)(call.ms), call.ms);
                  const before = clock.now();
                  ({ outcome, synchronous } = await attemptAsync(() => ctx.sleep(call.ms as number)));
                  if (outcome.accepted && clock.now() !== before + (call.ms as number)) {
                    problems.push(`${what}: slept from ${before} to ${clock.now()}, not ${String(call.ms)} ms`);
                  }
                  break;
                }
                case 'progress': {
                  // A string, or nothing (a throwing proxy is refused as a non-string, untouched).
                  const message: Verdict = call.message === undefined || typeof call.message === 'string' ? 'valid' : 'invalid';
                  verdicts = combine(call.fraction, [
                    single('progress fraction', optional((v) => finite(v) && (v as number) >= 0 && (v as number) <= 1)(call.fraction), call.fraction),
                    single('message', message, call.message),
                  ]);
                  ({ outcome } = attempt(() => ctx.progress(call.fraction as number, call.message as string)));
                  // Each accepted report is a `task.progress` event (someone subscribes to events$).
                  if (outcome.accepted) progressReported.push({ taskId: ctx.id, fraction: call.fraction as number });
                  break;
                }
                case 'acquire': {
                  const pool =
                    typeof call.resource === 'string' && Object.hasOwn(CTX_POOLS, call.resource)
                      ? CTX_POOLS[call.resource as keyof typeof CTX_POOLS]
                      : undefined;
                  const parts = [
                    single('resource', pool === undefined ? (call.resource === THROWING ? 'hostile' : 'invalid') : 'valid', call.resource),
                  ];
                  const options = call.options?.value as { units?: unknown; timeoutMs?: unknown } | undefined;
                  const plainOptions = typeof options === 'object' && options !== null && options !== THROWING;
                  const units = plainOptions ? options.units : undefined;
                  if (pool !== undefined && isInteger(units) && units > pool.capacity) parts.push(single('units', 'invalid', units));
                  verdicts = call.options === undefined ? combine(undefined, parts) : withVerdicts(call.options, ...parts);
                  const result = await attemptAsync(() => ctx.acquire(call.resource as string, options as never));
                  ({ outcome, synchronous } = result);
                  const lease = result.value as Lease | undefined;
                  if (lease !== undefined) {
                    const wanted = units === undefined || units === null ? 1 : units;
                    if (lease.resource !== call.resource || lease.units !== wanted) {
                      problems.push(`${what}: a lease of ${lease.units} ${lease.resource}, asked ${String(wanted)} ${String(call.resource)}`);
                    }
                    if (!call.hold) lease.release();
                  }
                  const timeoutGiven = plainOptions && options.timeoutMs !== undefined;
                  allowed = ({ code }) =>
                    (code === 'E_RESOURCE_TIMEOUT' && timeoutGiven) || (code === 'E_LOCK_ORDER' && lockOrder === 'enforce') || code === 'E_DEADLOCK';
                  break;
                }
                case 'await': {
                  const { target } = call;
                  let handle: unknown;
                  let targetVerdict: Verdict = 'valid';
                  if (target === 'self') {
                    handle = self;
                    targetVerdict = 'invalid';
                  } else if (typeof target === 'object') {
                    handle = target.value;
                    targetVerdict = target.value === THROWING ? 'hostile' : 'invalid';
                  } else handle = helpers[target];
                  const parts = [single('handle', targetVerdict, handle)];
                  verdicts = call.options === undefined ? combine(undefined, parts) : withVerdicts(call.options, ...parts);
                  const options = call.options?.value as { timeoutMs?: unknown } | undefined;
                  const result = await attemptAsync(() => ctx.await(handle as TaskHandle<unknown>, options as never));
                  ({ outcome, synchronous } = result);
                  if (outcome.accepted && typeof target === 'string' && result.value !== target) {
                    problems.push(`${what}: awaited the ${target} helper, got ${String(result.value)}`);
                  }
                  const timeoutGiven = typeof options === 'object' && options !== null && options !== THROWING && options.timeoutMs !== undefined;
                  allowed = (error) =>
                    (target === 'fail' && error.code === 'E_TASK_FAILED' && error.cause === helperError) ||
                    (error.code === 'E_TIMEOUT' && timeoutGiven) ||
                    error.code === 'E_DEADLOCK';
                  break;
                }
                case 'submit': {
                  // The same rules as engine.submit: ctx.submit(fn, null) and ctx.submit(fn, []) are refused.
                  verdicts = call.options === undefined ? single('options', 'valid', undefined) : call.options;
                  const result = attempt(() => ctx.submit(() => 'child', call.options?.value as TaskOptions));
                  outcome = result.outcome;
                  if (result.value !== undefined) children.push(result.value);
                  break;
                }
              }
              if (synchronous !== undefined) problems.push(`${what} threw synchronously instead of rejecting: ${describeError(synchronous)}`);
              const error = outcome.accepted ? undefined : outcome.error;
              // A call the rules let through (or may) can still fail as documented: that is no refusal.
              const mayPass = verdicts.bad.length + verdicts.hostile.length === 0;
              const expectedRejection = error instanceof MezanError && error.code !== 'E_INVALID_OPTION' && mayPass && allowed(error);
              const problem = judge(what, expectedRejection ? { accepted: true } : outcome, verdicts);
              if (problem !== undefined) problems.push(problem);
              if (error === undefined || expectedRejection) validCalls++;
              else refusedCalls++;
              if (error instanceof MezanError && error.code === 'E_INVALID_OPTION' && script.rethrow) {
                expected.set(ctx.id, { kind: 'failed', cause: error });
                throw error;
              }
              if (error instanceof MezanError && error.code === 'E_DEADLOCK') {
                // A deadlock victim's attempt is over: its later waits would be refused as such.
                expected.set(ctx.id, { kind: 'any' });
                throw error;
              }
            }
            return 'script done';
          };

          for (const script of scripts) {
            const handle = engine.submit((ctx) => run(script, ctx), { priority: 1 });
            handles.set(handle.id, handle);
            expected.set(handle.id, { kind: 'completed' });
          }
          await clock.runAll(MAX_TIMERS);
          const all = [...Object.values(helpers), ...handles.values(), ...children];
          problems.push(...checkSettledOnce(all, events));
          for (const [id, handle] of handles) {
            const wanted = expected.get(id)!;
            if (!handle.isSettled) continue;
            const error = await handle.result.then(
              () => undefined,
              (reason: unknown) => reason,
            );
            if (wanted.kind === 'completed' && handle.status !== 'completed')
              problems.push(`task ${id} ran its script but ended ${handle.status}: ${describeError(error)}`);
            if (wanted.kind === 'failed') {
              const ok = handle.status === 'failed' && error instanceof MezanError && error.code === 'E_TASK_FAILED' && error.cause === wanted.cause;
              if (!ok) problems.push(`task ${id} rethrew E_INVALID_OPTION but ended ${handle.status}: ${describeError(error)}`);
            }
          }
          const progressEvents = events.flatMap((event) =>
            event.type === 'task.progress' ? [{ taskId: event.taskId, fraction: event.fraction }] : [],
          );
          if (JSON.stringify(progressEvents) !== JSON.stringify(progressReported)) {
            problems.push(`task.progress events ${JSON.stringify(progressEvents)}, reported ${JSON.stringify(progressReported)}`);
          }
          const report = await shutDown(engine, clock);
          problems.push(...checkReport(report, all.length));
          expect(problems).toEqual([]);
        },
      ),
      { seed: SEED + 2, numRuns: 200 },
    );
    expect(validCalls).toBeGreaterThan(100);
    expect(refusedCalls).toBeGreaterThan(50);
  });

  it('engine.shutdown(options): valid ⇒ the one shutdown promise, resolved with lost 0; invalid ⇒ a synchronous E_INVALID_OPTION that changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        DIRT.chain((dirty) =>
          fc.record({
            concurrency: fc.integer({ min: 1, max: 2 }),
            engineGraceMs: fc.constantFrom(0, 20, 10_000),
            tasks: fc.array(
              fc.oneof(
                { arbitrary: fc.integer({ min: 0, max: 60 }).map((ms): ShutdownTask => ({ kind: 'sleep', ms })), weight: 4 },
                { arbitrary: fc.constant<ShutdownTask>({ kind: 'stubborn' }), weight: 1 },
              ),
              { maxLength: 4 },
            ),
            runFirstMs: fc.integer({ min: 0, max: 30 }),
            requests: fc.array(shutdownRequestGen(dirty), { minLength: 1, maxLength: 3 }),
            afterwards: shutdownRequestGen(dirty),
          }),
        ),
        async ({ concurrency, engineGraceMs, tasks, runFirstMs, requests, afterwards }) => {
          const { engine, clock, events } = startEngine({ concurrency, logger: false, shutdown: { graceMs: engineGraceMs, abandonAfterMs: 15 } });
          const problems: string[] = [];
          const handles: TaskHandle<unknown>[] = tasks.map((task) =>
            engine.submit(async (ctx) => {
              if (task.kind === 'sleep') await ctx.sleep(task.ms);
              // Ignores its signal and never returns: abandoned by the terminating phase.
              else await new Promise(() => undefined);
              return task.kind;
            }),
          );
          const lateTasks: TaskHandle<unknown>[] = [];
          await clock.advanceBy(runFirstMs);
          let promise: Promise<ShutdownReport> | undefined;
          let report: ShutdownReport | undefined;
          const call = (request: Case, label: string): void => {
            const wasAccepting = engine.isAccepting;
            const { outcome, value } = attempt(() => engine.shutdown(request.value as ShutdownRequestOptions));
            const problem = judge(label, outcome, request);
            if (problem !== undefined) problems.push(problem);
            if (value === undefined) {
              if (engine.isAccepting !== wasAccepting) problems.push(`${label}: a refused shutdown changed isAccepting`);
              return;
            }
            if (!(value instanceof Promise)) problems.push(`${label} returned ${String(value)}, not a promise`);
            if (promise !== undefined && value !== promise) problems.push(`${label} returned another promise than the first shutdown`);
            promise ??= value;
            void value.then((resolved) => (report = resolved));
            if (engine.isAccepting) problems.push(`${label}: still accepting after shutdown began`);
          };
          requests.forEach((request, index) => call(request, `shutdown call ${index}`));
          if (promise !== undefined) {
            // Submitted after shutdown began: rejected at once, with E_SHUTDOWN.
            const late = engine.submit(() => 'late');
            lateTasks.push(late);
            if (late.status !== 'rejected') problems.push(`a task submitted after shutdown began is ${late.status}`);
            await late.result.then(
              () => problems.push('a task submitted after shutdown began completed'),
              (error: unknown) => {
                if (!(error instanceof MezanError && error.code === 'E_SHUTDOWN')) problems.push(`late task: ${describeError(error)}`);
              },
            );
          } else {
            // No request was valid: the engine still runs; shut it down plainly.
            call(single('options', 'valid', undefined), 'the plain shutdown');
          }
          await clock.runAll(MAX_TIMERS);
          await settleTurn();
          if (report === undefined) problems.push('engine.shutdown() did not resolve once the clock had run out: a hang');
          else {
            // A task refused after shutdown began counts in the report unless the engine had already stopped.
            const late = report.submitted - handles.length;
            if (late !== 0 && late !== lateTasks.length) problems.push(`shutdown report: submitted ${report.submitted} for ${handles.length} tasks`);
            problems.push(...checkReport(report, handles.length + late));
            // Once stopped, the same rules, and the same (resolved) promise.
            call(afterwards, 'a shutdown call after the stop');
          }
          problems.push(...checkSettledOnce(handles, events));
          expect(problems).toEqual([]);
        },
      ),
      { seed: SEED + 3, numRuns: 200 },
    );
  });
});
