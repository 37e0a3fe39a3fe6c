import { createEngine, MezanError, VirtualClock, type EngineOptions, type TaskContext, type TaskFunction } from '../../src';
import { rejectionOf, startEngine, thrownBy } from '../fixtures/engine-harness';
import { sumOfSquaresTasks } from '../fixtures/sum-of-squares-tasks';

/** A named task that doubles `ctx.input` after `ms` of the engine's clock and records who ran. */
function doubling(ms: number, seen: Array<{ id: string; name: string; attempt: number; input: unknown }>): TaskFunction<number> {
  return async (ctx: TaskContext) => {
    seen.push({ id: ctx.id, name: ctx.name, attempt: ctx.attempt, input: ctx.input });
    await ctx.sleep(ms);
    return (ctx.input as number) * 2;
  };
}

describe('named tasks: engine.submit(name, options)', () => {
  it('runs the function the `tasks` option names, with its input, named after the task', async () => {
    const seen: Array<{ id: string; name: string; attempt: number; input: unknown }> = [];
    const { engine, clock } = startEngine({ tasks: { double: doubling(10, seen) } });
    const handle = engine.submit<number>('double', { input: 21 });
    expect(handle.name).toBe('double');
    await clock.runAll();
    await expect(handle.result).resolves.toBe(42);
    expect(seen).toEqual([{ id: handle.id, name: 'double', attempt: 1, input: 21 }]);
  });

  it('runs a task defined later by engine.define, and a caller-given name wins over the task name', async () => {
    const { engine, clock } = startEngine();
    engine.define('greet', (ctx) => `hello ${String(ctx.input)} from ${ctx.name}`);
    const handle = engine.submit('greet', { input: 'ada', name: 'greeting-1' });
    await clock.runAll();
    await expect(handle.result).resolves.toBe('hello ada from greeting-1');
  });

  it('applies every task option as for a function: priority, retries, timeouts, dependencies, resources, cancellation', async () => {
    const order: string[] = [];
    let failuresLeft = 1;
    const { engine, clock } = startEngine({
      concurrency: 1,
      resources: { db: 1 },
      tasks: {
        record: (ctx) => void order.push(String(ctx.input)),
        flaky: () => {
          if (failuresLeft-- > 0) throw new Error('once');
          return 'second time';
        },
        slow: (ctx) => ctx.sleep(100),
        holdsDb: async (ctx) => {
          order.push(`db:${String(ctx.input)}`);
          await ctx.sleep(5);
        },
      },
    });
    const blocker = engine.submit('slow', { id: 'blocker' });
    const low = engine.submit('record', { input: 'low', priority: 1 });
    const high = engine.submit('record', { input: 'high', priority: 9 });
    const dependant = engine.submit('record', { input: 'after-low', dependsOn: [low], priority: 10 });
    const flaky = engine.submit('flaky', { retries: { max: 1, delayMs: 1 } });
    const timedOut = engine.submit('slow', { timeoutMs: 10 });
    const cancelled = engine.submit('record', { input: 'never' });
    const withDb = engine.submit('holdsDb', { input: 'x', resources: { db: 1 } });
    expect(cancelled.cancel('not needed')).toBe(true);
    await clock.runAll();
    await blocker.result;
    expect(order.slice(0, 3)).toEqual(['high', 'low', 'after-low']);
    expect(order).toContain('db:x');
    expect(order).not.toContain('never');
    await expect(flaky.result).resolves.toBe('second time');
    expect((await rejectionOf(timedOut)).code).toBe('E_TIMEOUT');
    expect((await rejectionOf(cancelled)).code).toBe('E_CANCELLED');
    await dependant.result;
    await withDb.result;
    await high.result;
  });

  it('gives a named task the same context helpers: ctx.submit of another named task, awaited', async () => {
    const { engine, clock } = startEngine({ concurrency: 2, tasks: sumOfSquaresTasks });
    const handle = engine.submit('sumOfSquares', { input: [1, 2, 3] });
    await clock.runAll();
    await expect(handle.result).resolves.toBe(14);
  });

  it('takes a name in submitGraph nodes too', async () => {
    const { engine, clock } = startEngine({ tasks: { one: () => 1, plusOne: (ctx) => (ctx.dependencies[0]!.value as number) + 1 } });
    const { first, second } = engine.submitGraph({ first: { run: 'one' }, second: { run: 'plusOne', dependsOn: ['first'] } });
    await clock.runAll();
    await expect(first.result).resolves.toBe(1);
    await expect(second.result).resolves.toBe(2);
  });

  it('lets an agent handler submit a named task', async () => {
    const { engine, clock } = startEngine({ tasks: { shout: (ctx) => String(ctx.input).toUpperCase() } });
    const agent = engine.spawnAgent<string, string>({
      name: 'relay',
      receive: (message, ctx) => ctx.submit<string>('shout', { input: message }).result,
    });
    const reply = agent.ask('hi');
    await clock.runAll();
    await expect(reply).resolves.toBe('HI');
  });
});

describe('named tasks: errors', () => {
  it('throws E_UNKNOWN_TASK for a name no task has, suggesting the closest', () => {
    const { engine } = startEngine({ tasks: { resize: () => 1, charge: () => 2 } });
    const error = thrownBy(() => engine.submit('resise'));
    expect(error.code).toBe('E_UNKNOWN_TASK');
    expect(error.message).toContain('did you mean "resize"?');
    expect(error.details).toEqual({ task: 'resise', known: ['resize', 'charge'] });
    expect(engine.isIdle).toBe(true);
  });

  it('throws E_UNKNOWN_TASK from ctx.submit, which the parent sees as its failure', async () => {
    const { engine, clock } = startEngine({ tasks: { parent: (ctx) => ctx.submit('missing') } });
    const parent = engine.submit('parent');
    await clock.runAll();
    const error = await rejectionOf(parent);
    expect(error.code).toBe('E_TASK_FAILED');
    expect((error.cause as MezanError).code).toBe('E_UNKNOWN_TASK');
  });

  it('refuses a whole graph when a node names no defined task, submitting none of it', async () => {
    const ran: string[] = [];
    const { engine, clock } = startEngine({ tasks: { one: () => void ran.push('one') } });
    const error = thrownBy(() => engine.submitGraph({ first: { run: 'one' }, second: { run: 'two', dependsOn: ['first'] } }));
    expect(error.code).toBe('E_UNKNOWN_TASK');
    expect(error.details['task']).toBe('two');
    await clock.runAll();
    expect(ran).toEqual([]);
    expect(engine.progress().total).toBe(0);
  });

  it('refuses to define a name twice, whether first given as an option or by define', () => {
    const { engine } = startEngine({ tasks: { resize: () => 1 } });
    const again = thrownBy(() => engine.define('resize', () => 2));
    expect(again.code).toBe('E_INVALID_OPTION');
    expect(again.details['option']).toBe('name');
    engine.define('charge', () => 3);
    expect(thrownBy(() => engine.define('charge', () => 4)).details['option']).toBe('name');
  });

  it.each<[string, unknown, unknown]>([
    ['name', '', () => 1],
    ['name', 42, () => 1],
    ['name', undefined, () => 1],
    ['fn', 'resize', 'not a function'],
    ['fn', 'resize', undefined],
  ])('define refuses a bad %s (%p)', (option, name, fn) => {
    const { engine } = startEngine();
    const error = thrownBy(() => engine.define(name as string, fn as TaskFunction));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });

  it.each<[EngineOptions['tasks'] | unknown, string]>([
    [{ resize: 'resize.js' }, 'tasks.resize'],
    [{ resize: null }, 'tasks.resize'],
    [{ '': () => 1 }, 'tasks'],
    [[() => 1], 'tasks'],
    ['resize', 'tasks'],
    [null, 'tasks'],
  ])('createEngine refuses tasks: %p, naming %s', (tasks, option) => {
    const error = thrownBy(() => createEngine({ clock: new VirtualClock(), logger: false, tasks } as EngineOptions));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });

  it.each<[unknown, string]>([
    ['', 'task'],
    [42, 'fn'],
    [null, 'fn'],
  ])('submit refuses %p as a task, naming %s', (task, option) => {
    const { engine } = startEngine({ tasks: { resize: () => 1 } });
    const error = thrownBy(() => engine.submit(task as string));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe(option);
  });

  it('does not let a defined name shadow an option check: a bad option of a named task is refused', () => {
    const { engine } = startEngine({ tasks: { resize: () => 1 } });
    const error = thrownBy(() => engine.submit('resize', { priority: Number.NaN }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('priority');
  });
});
