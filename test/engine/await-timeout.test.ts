import type { MezanError, TaskHandle } from '../../src';
import { deferred, rejectionOf, startEngine } from '../fixtures/engine-harness';
import { failsAfter } from '../fixtures/fails-after';

/** What a `ctx.await` ended with, and when. */
type Outcome = { kind: 'value'; value: unknown; at: number } | { kind: 'error'; error: MezanError; at: number };

async function outcomeOf(promise: Promise<unknown>, now: () => number): Promise<Outcome> {
  try {
    return { kind: 'value', value: await promise, at: now() };
  } catch (error) {
    return { kind: 'error', error: error as MezanError, at: now() };
  }
}

/** The error a waiter's `ctx.await` (kept by {@link outcomeOf}) rejected with, and when; fails the test when the await resolved. */
async function awaitErrorOf(waiter: TaskHandle<Outcome>): Promise<{ error: MezanError; at: number }> {
  const outcome = await waiter.result;
  expect(outcome.kind).toBe('error');
  return outcome as { error: MezanError; at: number };
}

function awaitsEdges(graph: { edges: ReadonlyArray<{ from: string; to: string; kind: string }> }) {
  return graph.edges.filter((edge) => edge.kind === 'awaits').map(({ from, to }) => [from, to]);
}

describe('ctx.await with timeoutMs', () => {
  it('rejects with E_TIMEOUT after timeoutMs of the engine clock; the awaited task goes on and completes', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(100).then(() => 'slow done'), { id: 'slow' });
    const waiter = engine.submit((ctx) => outcomeOf(ctx.await(slow, { timeoutMs: 30 }), () => clock.now()), { id: 'waiter' });
    await clock.advanceBy(29);
    expect(waiter.status).toBe('running');
    await clock.advanceBy(1);
    expect(waiter.status).toBe('completed');
    const { error, at } = await awaitErrorOf(waiter);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.details).toMatchObject({ taskId: 'waiter', awaited: 'slow', timeoutMs: 30 });
    expect(at).toBe(30);
    expect(slow.status).toBe('running');
    await clock.runAll();
    await expect(slow.result).resolves.toBe('slow done');
    expect(ofType('task.cancelled')).toEqual([]);
    expect(ofType('task.timeout')).toEqual([]);
    expect(ofType('task.completed').map((event) => [event.taskId, event.at])).toEqual([
      ['waiter', 30],
      ['slow', 100],
    ]);
  });

  it('lets the waiter go on after the timeout; a later completion or failure of the awaited task changes nothing for it', async () => {
    const { engine, clock } = startEngine({ concurrency: 3 });
    const completes = engine.submit((ctx) => ctx.sleep(50).then(() => 'late value'));
    const fails = engine.submit(failsAfter(50, 'late failure'));
    const waiter = engine.submit(async (ctx) => {
      const results: string[] = [];
      for (const handle of [completes, fails] as Array<TaskHandle<unknown>>) {
        try {
          await ctx.await(handle, { timeoutMs: 10 });
          results.push('value');
        } catch (error) {
          results.push((error as MezanError).code);
        }
      }
      await ctx.sleep(100);
      return results;
    });
    await clock.runAll();
    await expect(waiter.result).resolves.toEqual(['E_TIMEOUT', 'E_TIMEOUT']);
    await expect(completes.result).resolves.toBe('late value');
    expect((await rejectionOf(fails)).code).toBe('E_TASK_FAILED');
  });

  it('a waiter that lets the E_TIMEOUT through fails with it as the cause', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(100));
    const waiter = engine.submit((ctx) => ctx.await(slow, { timeoutMs: 10 }));
    await clock.runAll();
    const error = await rejectionOf(waiter);
    expect(error.code).toBe('E_TASK_FAILED');
    expect((error.cause as MezanError).code).toBe('E_TIMEOUT');
    expect(slow.status).toBe('completed');
  });

  it('resolves with the value when the awaited task completes in time, and leaves no timer behind', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const quick = engine.submit((ctx) => ctx.sleep(20).then(() => 'quick'));
    const waiter = engine.submit((ctx) => ctx.await(quick, { timeoutMs: 1000 }));
    await clock.runAll();
    await expect(waiter.result).resolves.toBe('quick');
    // The 1000 ms timer was dropped: nothing ran the clock past the tasks.
    expect(clock.now()).toBe(20);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the awaited failure, not E_TIMEOUT, when it fails in time', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const failing = engine.submit(failsAfter(5, 'bad'));
    const waiter = engine.submit((ctx) => outcomeOf(ctx.await(failing, { timeoutMs: 50 }), () => clock.now()));
    await clock.runAll();
    const { error, at } = await awaitErrorOf(waiter);
    expect(error).toBe(await rejectionOf(failing));
    expect(at).toBe(5);
    expect(clock.now()).toBe(5);
  });

  it('resolves at once for a task already settled, even with timeoutMs 0', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const done = engine.submit(() => 'done');
    await clock.runAll();
    const waiter = engine.submit((ctx) => ctx.await(done, { timeoutMs: 0 }));
    await clock.runAll();
    await expect(waiter.result).resolves.toBe('done');
  });

  it('with timeoutMs 0, rejects at the same instant for a task not yet settled', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(10));
    await clock.advanceBy(3);
    const waiter = engine.submit((ctx) => outcomeOf(ctx.await(slow, { timeoutMs: 0 }), () => clock.now()));
    await clock.runAll();
    const { error, at } = await awaitErrorOf(waiter);
    expect(error.code).toBe('E_TIMEOUT');
    expect(at).toBe(3);
  });

  it('can wait again for the same task after a timeout, and then gets its value', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(60).then(() => 'eventually'));
    const waiter = engine.submit(async (ctx) => {
      const first = await ctx.await(slow, { timeoutMs: 10 }).catch((error: MezanError) => error.code);
      const second = await ctx.await(slow);
      return [first, second, clock.now()];
    });
    await clock.runAll();
    await expect(waiter.result).resolves.toEqual(['E_TIMEOUT', 'eventually', 60]);
  });

  it('takes the awaits edge out of the wait-for graph when it times out', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(100), { id: 'slow' });
    const gate = deferred();
    const waiter = engine.submit(
      async (ctx) => {
        await ctx.await(slow, { timeoutMs: 30 }).catch(() => undefined);
        // Still running, no longer waiting.
        await gate.promise;
      },
      { id: 'waiter' },
    );
    await clock.advanceBy(10);
    expect(awaitsEdges(engine.waitForGraph())).toEqual([['waiter', 'slow']]);
    await clock.advanceBy(20);
    expect(waiter.status).toBe('running');
    expect(awaitsEdges(engine.waitForGraph())).toEqual([]);
    gate.resolve();
    await clock.runAll();
    expect(awaitsEdges(engine.waitForGraph())).toEqual([]);
  });

  it('keeps the other waits of the same task: only the timed-out one leaves the graph', async () => {
    const { engine, clock } = startEngine({ concurrency: 3 });
    const slow = engine.submit((ctx) => ctx.sleep(100), { id: 'slow' });
    const slower = engine.submit((ctx) => ctx.sleep(200), { id: 'slower' });
    const waiter = engine.submit(
      async (ctx) => {
        const timedOut = ctx.await(slow, { timeoutMs: 30 }).catch((error: MezanError) => error.code);
        const patient = ctx.await(slower);
        return [await timedOut, await patient];
      },
      { id: 'waiter' },
    );
    await clock.advanceBy(10);
    expect(awaitsEdges(engine.waitForGraph()).sort()).toEqual([
      ['waiter', 'slow'],
      ['waiter', 'slower'],
    ]);
    await clock.advanceBy(20);
    expect(awaitsEdges(engine.waitForGraph())).toEqual([['waiter', 'slower']]);
    await clock.runAll();
    await expect(waiter.result).resolves.toEqual(['E_TIMEOUT', undefined]);
  });

  it('a waiter cancelled while it waits is rejected with its cancellation, and its timer goes', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(100), { id: 'slow' });
    let waitError: MezanError | undefined;
    const waiter = engine.submit(
      async (ctx) => {
        try {
          await ctx.await(slow, { timeoutMs: 500 });
        } catch (error) {
          waitError = error as MezanError;
          throw error;
        }
      },
      { id: 'waiter' },
    );
    await clock.advanceBy(10);
    waiter.cancel();
    await clock.runAll();
    expect(waitError?.code).toBe('E_CANCELLED');
    expect(waiter.status).toBe('cancelled');
    expect(slow.status).toBe('completed');
    // The 500 ms timer was cleared with the attempt.
    expect(clock.now()).toBe(100);
    expect(awaitsEdges(engine.waitForGraph())).toEqual([]);
  });

  it("the waiter's own timeoutMs still applies when shorter than the wait's", async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(100));
    const waiter = engine.submit((ctx) => ctx.await(slow, { timeoutMs: 50 }), { timeoutMs: 20 });
    await clock.runAll();
    const error = await rejectionOf(waiter);
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.details).toMatchObject({ taskId: waiter.id, timeoutMs: 20 });
    expect(clock.now()).toBe(100);
  });

  it.each([[-1], [Number.NaN], [Infinity], ['10'], [null]])(
    'rejects with E_INVALID_OPTION for timeoutMs %p, and does not wait',
    async (timeoutMs) => {
      const { engine, clock } = startEngine({ concurrency: 2 });
      const slow = engine.submit((ctx) => ctx.sleep(100), { id: 'slow' });
      const waiter = engine.submit((ctx) => outcomeOf(ctx.await(slow, { timeoutMs: timeoutMs as number }), () => clock.now()));
      await clock.advanceBy(1);
      expect(waiter.status).toBe('completed');
      const { error, at } = await awaitErrorOf(waiter);
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.details['option']).toBe('timeoutMs');
      expect(at).toBe(0);
      expect(awaitsEdges(engine.waitForGraph())).toEqual([]);
      await clock.runAll();
    },
  );

  it('rejects with E_INVALID_OPTION for options that are not an object', async () => {
    const { engine, clock } = startEngine({ concurrency: 2 });
    const slow = engine.submit((ctx) => ctx.sleep(100));
    const waiter = engine.submit((ctx) => ctx.await(slow, 10 as never));
    await clock.runAll();
    const error = await rejectionOf(waiter);
    expect((error.cause as MezanError).code).toBe('E_INVALID_OPTION');
    expect((error.cause as MezanError).details['option']).toBe('options');
  });
});

describe('regressions found by review', () => {
  it('a timed-out wait does not take out the awaits edge of another wait of the same task (else a deadlock goes unseen)', async () => {
    const { engine, clock, ofType } = startEngine({ concurrency: 2 });
    let b!: TaskHandle<unknown>;
    const a = engine.submit(
      async (ctx) => {
        void ctx.await(b, { timeoutMs: 10 }).catch(() => undefined);
        return ctx.await(b);
      },
      { id: 'a' },
    );
    b = engine.submit(
      async (ctx) => {
        await ctx.sleep(20);
        return ctx.await(a);
      },
      { id: 'b' },
    );
    a.result.catch(() => undefined);
    b.result.catch(() => undefined);
    await clock.advanceBy(15);
    expect(engine.waitForGraph().edges.filter((edge) => edge.kind === 'awaits')).toEqual([{ from: 'a', to: 'b', kind: 'awaits' }]);
    await clock.advanceBy(1000);
    expect(ofType('deadlock.detected')).toHaveLength(1);
    await engine.shutdown({ force: true });
  });
});
