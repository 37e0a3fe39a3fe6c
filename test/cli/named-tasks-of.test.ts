import { namedTasksOf } from '../../src/cli/named-tasks-of';

// What `mezan node --tasks` takes from a module's exports, as a CommonJS `module.exports` or an ES
// module's namespace (a null-prototype object with `default` for a default export).

const resize = (): number => 1;
const crop = (): number => 2;
/** An ES module's namespace of `exports`. */
const namespace = (exports: Record<string, unknown>): object => Object.assign(Object.create(null) as object, exports);

describe('namedTasksOf', () => {
  it.each<[string, unknown]>([
    ['module.exports = fn', resize],
    ['module.exports = fn with a named function on it', Object.assign((): number => 0, { crop })],
    ['export default function', namespace({ default: resize })],
    ['export default function beside a named export', namespace({ default: crop, resize })],
    ['exports.default = fn (a transpiled ES module), required', { __esModule: true, default: crop, resize }],
    ['exports.default = fn (a transpiled ES module), imported', namespace({ default: { __esModule: true, default: crop, resize }, resize })],
  ])('refuses a default export that is a function, %s: E_INVALID_OPTION naming tasks and the module', (_case, exported) => {
    expect(() => namedTasksOf(exported, 'tasks.js')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', details: { option: 'tasks', file: 'tasks.js', problem: 'default-function' } }),
    );
  });

  it.each<[string, unknown]>([
    ['nothing but constants', { answer: 42 }],
    ['an ES module of constants', namespace({ answer: 42 })],
    ['null', null],
  ])('refuses a module that exports no function, %s: E_INVALID_OPTION naming tasks and the module', (_case, exported) => {
    expect(() => namedTasksOf(exported, 'tasks.js')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', details: { option: 'tasks', file: 'tasks.js', problem: 'no-function' } }),
    );
  });

  it('takes named exports, and the functions of a default object, by name', () => {
    expect(namedTasksOf(namespace({ resize, default: { crop } }), 'tasks.js')).toEqual({ resize, crop });
    expect(namedTasksOf({ resize, crop }, 'tasks.cjs')).toEqual({ resize, crop });
  });
});
