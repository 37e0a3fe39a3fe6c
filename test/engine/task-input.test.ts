import type { TaskContext } from '../../src';
import { startEngine } from '../fixtures/engine-harness';

describe('input', () => {
  it('is ctx.input, the very object given (not a copy), and the task sees later changes to it', async () => {
    const { engine, clock } = startEngine();
    const input = { rows: [1, 2, 3], seen: 0 };
    let received: unknown;
    const handle = engine.submit(
      async (ctx) => {
        received = ctx.input;
        await ctx.sleep(10);
        // The caller changed it meanwhile: the task reads the same object.
        return (ctx.input as typeof input).seen;
      },
      { input },
    );
    await clock.advanceBy(5);
    input.seen = 42;
    await clock.runAll();
    expect(received).toBe(input);
    await expect(handle.result).resolves.toBe(42);
    // The task's changes are the caller's too: nothing was cloned or frozen.
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('lets the task change the object the caller holds', async () => {
    const { engine, clock } = startEngine();
    const input = { total: 0 };
    const handle = engine.submit(
      (ctx) => {
        (ctx.input as typeof input).total = 7;
      },
      { input },
    );
    await clock.runAll();
    await handle.result;
    expect(input.total).toBe(7);
  });

  it('is the same reference on every attempt of a retried task', async () => {
    const { engine, clock } = startEngine();
    const input = new Map([['k', 1]]);
    const seen: unknown[] = [];
    const handle = engine.submit(
      (ctx) => {
        seen.push(ctx.input);
        if (ctx.attempt < 3) throw new Error('again');
        return ctx.attempt;
      },
      { input, retries: { max: 2, delayMs: 5 } },
    );
    await clock.runAll();
    await expect(handle.result).resolves.toBe(3);
    expect(seen).toHaveLength(3);
    for (const value of seen) expect(value).toBe(input);
  });

  it('is undefined without the option, and keeps falsy values as given', async () => {
    const { engine, clock } = startEngine({ concurrency: 4 });
    const read = (ctx: TaskContext) => ctx.input;
    const none = engine.submit(read);
    const zero = engine.submit(read, { input: 0 });
    const nil = engine.submit(read, { input: null });
    const empty = engine.submit(read, { input: '' });
    await clock.runAll();
    await expect(none.result).resolves.toBeUndefined();
    await expect(zero.result).resolves.toBe(0);
    await expect(nil.result).resolves.toBeNull();
    await expect(empty.result).resolves.toBe('');
  });

  it('is kept apart from meta', async () => {
    const { engine, clock } = startEngine();
    const input = { data: true };
    const meta = { owner: 'me' };
    const handle = engine.submit((ctx) => [ctx.input, ctx.meta], { input, meta });
    await clock.runAll();
    const [gotInput, gotMeta] = await handle.result;
    expect(gotInput).toBe(input);
    expect(gotMeta).toBe(meta);
    expect(handle.meta).toBe(meta);
  });

  it('passes a function or a class instance through untouched', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    class Job {
      constructor(readonly n: number) {}
    }
    const job = new Job(3);
    const callback = () => 'called';
    const a = engine.submit((ctx) => ctx.input, { input: job });
    const b = engine.submit((ctx) => ctx.input, { input: callback });
    await clock.runAll();
    const gotJob = await a.result;
    expect(gotJob).toBe(job);
    expect(gotJob).toBeInstanceOf(Job);
    expect(await b.result).toBe(callback);
  });

  it('reaches a child task submitted with ctx.submit, and each node of submitGraph', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const childInput = { child: true };
    const parent = engine.submit(async (ctx) => {
      const child = ctx.submit((childCtx) => childCtx.input, { input: childInput });
      return ctx.await(child);
    });
    const first = { first: 1 };
    const second = { second: 2 };
    const graph = engine.submitGraph({
      a: { run: (ctx) => ctx.input, input: first },
      b: { run: (ctx) => ctx.input, input: second, dependsOn: ['a'] },
    });
    await clock.runAll();
    expect(await parent.result).toBe(childInput);
    expect(await graph.a.result).toBe(first);
    expect(await graph.b.result).toBe(second);
  });
});
