import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MezanError } from '../../src/errors';
import { TraceRecorder, traceLine, traceValue } from '../../src/simulation/trace-recorder';

/** The trace line as it was always made: a replacer on every key. */
const reference = (entry: object): string => `${JSON.stringify(entry, traceValue)}\n`;

const withCode = (message: string, code: unknown): Error => Object.assign(new Error(message), { code });

class Stamp {
  constructor(readonly at: number) {}
  toJSON(): unknown {
    return { at: this.at, error: new TypeError('from toJSON') };
  }
}

const entries: Record<string, object> = {
  'a plain event': { type: 'task.queued', at: 3, taskId: 't1', name: 'a', attempt: 1, priority: 0 },
  'undefined fields': {
    type: 'task.failed',
    at: 4,
    taskId: 't1',
    name: 'a',
    attempt: 2,
    workerId: undefined,
    durationMs: undefined,
    code: 'E_TASK_FAILED',
    error: undefined,
  },
  'a MezanError': {
    type: 'task.failed',
    at: 5,
    taskId: 't1',
    name: 'a',
    attempt: 1,
    code: 'E_TIMEOUT',
    error: new MezanError('E_TIMEOUT', 'too slow', { details: { ms: 3 } }),
  },
  'a plain Error': {
    type: 'task.retrying',
    at: 6,
    taskId: 't1',
    name: 'a',
    attempt: 1,
    delayMs: 2,
    code: 'E_TASK_FAILED',
    error: new RangeError('out'),
  },
  'an error that is not an Error': { type: 'task.failed', at: 7, error: 'boom', code: 'E_TASK_FAILED' },
  'an Error whose code is an Error': { type: 'task.failed', at: 8, error: withCode('outer', new MezanError('E_CANCELLED', 'inner')) },
  'an Error whose code is an object': { type: 'task.failed', at: 8, error: withCode('outer', { nested: [new Error('deep')] }) },
  'an Error with a toJSON': { type: 'task.failed', at: 9, error: Object.assign(new Error('own'), { toJSON: () => ({ custom: true }) }) },
  'two Errors': { type: 'x', at: 10, error: new Error('one'), reason: new MezanError('E_SHUTDOWN', 'two') },
  'a nested Error': { type: 'simulation.fault', at: 11, fault: { kind: 'crash', causes: [{ error: new Error('nested') }] } },
  // eslint-disable-next-line no-sparse-arrays -- a hole is what this entry tests
  'arrays with holes and undefined': { type: 'deadlock.detected', at: 12, deadlocked: ['a', undefined, 'b'], cycle: [, 'c'] },
  'an Error in an array': { type: 'x', at: 13, errors: [1, new MezanError('E_DEADLOCK', 'victim')] },
  'a toJSON returning an Error': { type: 'x', at: 14, stamp: new Stamp(1) },
  'a Date': { type: 'x', at: 15, when: new Date(0) },
  'functions and symbols': { type: 'x', at: 16, f: () => 1, s: Symbol('s'), list: [() => 2, Symbol('t')] },
  'deep data': {
    type: 'simulation.start',
    at: 0,
    scenario: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: new Error('deepest') } } } } } } } } } },
  },
  'an Error entry': new MezanError('E_TASK_FAILED', 'the entry itself'),
  'an entry with a toJSON': new Stamp(17),
  'an inherited Error': Object.assign(Object.create({ error: new Error('inherited') }) as object, { type: 'x', at: 18 }),
  'a null error': { type: 'task.failed', at: 19, error: null },
};

/** What a recorder wrote to its file for `items`. */
function recorded(...items: object[]): string {
  const file = path.join(scratch, `one-${Math.random().toString(36).slice(2)}.jsonl`);
  const recorder = new TraceRecorder(file);
  for (const item of items) recorder.record(item);
  recorder.close();
  return readFileSync(file, 'utf8');
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'mezan-trace-recorder-test-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('TraceRecorder lines', () => {
  it.each(Object.entries(entries))('records %s as the replacer on every key does', (_name, entry) => {
    expect(recorded(entry)).toBe(reference(entry));
    expect(traceLine(entry)).toBe(reference(entry));
  });

  it('keeps the key order when it converts an Error', () => {
    const entry = { type: 'task.failed', at: 1, error: new MezanError('E_TIMEOUT', 'late'), code: 'E_TIMEOUT' };
    expect(recorded(entry)).toBe(
      '{"type":"task.failed","at":1,"error":{"name":"MezanError","message":"late","code":"E_TIMEOUT"},"code":"E_TIMEOUT"}\n',
    );
  });

  it('leaves the entry as it was', () => {
    const error = new Error('kept');
    const entry = { type: 'task.failed', at: 1, error };
    recorded(entry);
    expect(entry.error).toBe(error);
  });

  it('throws on a cycle as JSON.stringify does, and records the lines before it', () => {
    const entry: Record<string, unknown> = { type: 'x', at: 1 };
    entry['self'] = entry;
    const before = { type: 'y', at: 0 };
    const recorder = new TraceRecorder();
    recorder.record(before);
    expect(() => recorder.record(entry)).toThrow(TypeError);
    expect(recorder.digest()).toBe(createHash('sha256').update(reference(before)).digest('hex'));
  });

  it('calls no JSON.stringify for engine events, errors included', () => {
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const recorder = new TraceRecorder();
      recorder.record(entries['a plain event']!);
      recorder.record(entries['a MezanError']!);
      recorder.record(entries['undefined fields']!);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
  });

  it('records an entry larger than its chunk', () => {
    const entry = {
      type: 'simulation.start',
      at: 0,
      scenario: { tasks: Array.from({ length: 20_000 }, (_, index) => ({ name: `t${index}`, at: index })) },
    };
    const small = { type: 'x', at: 1 };
    expect(recorded(small, entry, small)).toBe(reference(small) + reference(entry) + reference(small));
  });
});

describe('TraceRecorder', () => {
  /** Enough lines for several hash chunks and more than one file chunk. */
  const many = (): object[] =>
    Array.from({ length: 30_000 }, (_, index) =>
      index % 7 === 0
        ? {
            type: 'task.failed',
            at: index,
            taskId: `t${index}`,
            code: 'E_TASK_FAILED',
            error: new MezanError('E_TASK_FAILED', `failure ${index} é ✓`),
          }
        : { type: 'task.queued', at: index, taskId: `t${index}`, name: 'é', attempt: 1, priority: index % 3 },
    );

  it('digests as hashing the reference lines one by one would, and writes them to the file', () => {
    const file = path.join(scratch, 'trace.jsonl');
    const recorder = new TraceRecorder(file);
    const lineByLine = createHash('sha256');
    const expected: string[] = [];
    for (const entry of many()) {
      recorder.record(entry);
      const line = reference(entry);
      lineByLine.update(line);
      expected.push(line);
    }
    const digest = recorder.digest();
    recorder.close();
    expect(digest).toBe(lineByLine.digest('hex'));
    expect(readFileSync(file, 'utf8')).toBe(expected.join(''));
  });

  it('digests the same without a file, and for a short trace', () => {
    const entries = many();
    const withoutFile = new TraceRecorder();
    for (const entry of entries) withoutFile.record(entry);
    expect(withoutFile.digest()).toBe(createHash('sha256').update(entries.map(reference).join('')).digest('hex'));
    const short = new TraceRecorder();
    short.record(entries[0]!);
    expect(short.digest()).toBe(createHash('sha256').update(reference(entries[0]!)).digest('hex'));
  });

  it('writes every line to the file when closed before its digest', () => {
    const file = path.join(scratch, 'closed.jsonl');
    const recorder = new TraceRecorder(file);
    const entries = many().slice(0, 100);
    for (const entry of entries) recorder.record(entry);
    recorder.close();
    expect(readFileSync(file, 'utf8')).toBe(entries.map(reference).join(''));
  });
});
