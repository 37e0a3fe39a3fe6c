import fc from 'fast-check';
import { MezanError } from '../../src/errors';
import { encodeTraceJson, NO_ROOM, UNUSUAL } from '../../src/simulation/trace-json-encoder';
import { traceValue } from '../../src/simulation/trace-value';

const reference = (entry: unknown): string | undefined => JSON.stringify(entry, traceValue);

/** What the encoder wrote for `entry`, or its code when it wrote nothing usable. */
function encoded(entry: object, room = 1 << 16): string | number {
  const buffer = Buffer.alloc(room);
  const end = encodeTraceJson(entry, buffer, 0);
  return end < 0 ? end : buffer.toString('utf8', 0, end);
}

/** Plain data as engine events carry it, with errors of every kind anywhere. */
const errorArbitrary = fc.oneof(
  fc.string().map((message) => new Error(message)),
  fc
    .tuple(fc.constantFrom('E_TIMEOUT', 'E_TASK_FAILED', 'E_DEADLOCK'), fc.string({ unit: 'binary' }))
    .map(([code, message]) => new MezanError(code, message) as Error),
  fc.tuple(fc.string(), fc.jsonValue()).map(([message, code]) => Object.assign(new RangeError(message), { code })),
);
const { data } = fc.letrec((tie) => ({
  data: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.string({ unit: 'binary' }),
    fc.constantFrom(
      '\ud800 lone',
      'tab\t\u0001\u007f',
      undefined,
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
      1e21,
      2 ** 31,
      -(2 ** 31),
      0.1,
      1.5e-300,
      Number.MAX_SAFE_INTEGER,
    ),
    fc.double(),
    fc.integer(),
    errorArbitrary,
    fc.array(tie('data'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('data'), { maxKeys: 4 }),
  ),
}));

describe('encodeTraceJson', () => {
  it('writes what JSON.stringify with the trace replacer writes, for plain data and errors', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), data, { maxKeys: 6 }), (entry) => {
        expect(encoded(entry)).toBe(reference(entry));
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes the same or leaves the entry to JSON.stringify, for anything', () => {
    fc.assert(
      fc.property(
        fc.object({
          withBoxedValues: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withBigInt: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
          withObjectString: true,
        }),
        (entry) => {
          const result = encoded(entry);
          if (result !== UNUSUAL) expect(result).toBe(reference(entry));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it.each([
    ['a boxed number', { n: Object(1) as unknown }],
    ['a bigint', { n: 1n }],
    ['a toJSON', { when: new Date(0) }],
    ['an inherited enumerable key', Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 })],
    ['a function with a toJSON', { f: Object.assign(() => 1, { toJSON: () => 'f' }) }],
  ])('leaves %s to JSON.stringify', (_name, entry) => {
    expect(encoded(entry)).toBe(UNUSUAL);
  });

  it('says when the JSON does not fit, at every size short of it, and never writes past the buffer', () => {
    const entry = { type: 'task.failed', at: 12, taskId: 'é-1', error: new MezanError('E_TIMEOUT', 'late "quoted"'), n: 1.25, list: [1, null, 'x'] };
    const json = reference(entry)!;
    const bytes = Buffer.byteLength(json);
    for (let room = 0; room < bytes; room++) expect(encoded(entry, room)).toBe(NO_ROOM);
    expect(encoded(entry, bytes)).toBe(json);
  });

  it('writes from the offset it is given', () => {
    const buffer = Buffer.alloc(64, 0x2e);
    const end = encodeTraceJson({ a: 1 }, buffer, 3);
    expect(buffer.toString('utf8', 0, end)).toBe('...{"a":1}');
  });
});
