import fc from 'fast-check';
import { createEngine, MezanError, VirtualClock, type AgentContext } from '../../src';
import { flush } from '../fixtures/flush';
import { settledOutcome } from '../fixtures/settled-outcome';

describe("a handler's tasks and pools", () => {
  it('ctx.submit and ctx.await: a handler submits a task and replies with its result', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    const agent = engine.spawnAgent({
      name: 'planner',
      receive: async (n: number, ctx: AgentContext) => {
        const handle = ctx.submit(async (task) => (await task.sleep(10), n * 2), { name: 'double' });
        return ctx.await(handle);
      },
    });
    const answer = settledOutcome(agent.ask(21));
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 42 });
    expect(engine.progress()).toMatchObject({ completed: 1 });
  });

  it('a task asks an agent whose handler awaits a task that waits for the only worker slot: compensation, or with it off the ask is the victim', async () => {
    for (const compensate of [undefined, false] as const) {
      const clock = new VirtualClock();
      const engine = createEngine({ clock, logger: false, concurrency: 1, deadlock: compensate === undefined ? {} : { compensate } });
      engine.spawnAgent({
        name: 'planner',
        receive: async (n: number, ctx: AgentContext) => ctx.await(ctx.submit(async () => n + 1)),
      });
      const task = engine.submit(
        async (ctx) => {
          try {
            return await ctx.ask<number>('planner', 1);
          } catch (error) {
            return (error as MezanError).code;
          }
        },
        { id: 'asker' },
      );
      await clock.runAll();
      const [report] = engine.deadlocks();
      expect(report!.cycle).toContain('@workers');
      expect(report!.cycle).toContain('@agent:planner#1');
      if (compensate === undefined) {
        await expect(task.result).resolves.toBe(2);
        expect(report!.resolution).toBe('compensation');
      } else {
        await expect(task.result).resolves.toBe('E_DEADLOCK');
        expect(report).toMatchObject({ resolution: 'victim', victim: '@agent:planner#1' });
      }
      await clock.runAll();
      expect(engine.waitForGraph().edges).toEqual([]);
    }
  });

  it('ctx.acquire: what a handler holds is given back when it ends, even by a throw; bad arguments reject with E_INVALID_OPTION', async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false, resources: { db: 2 } });
    const holder = engine.spawnAgent({
      name: 'holder',
      receive: async (units: number, ctx: AgentContext) => {
        await ctx.acquire('db', units);
        throw new Error('failed while holding');
      },
    });
    await expect(settledOutcome(holder.ask(2))).resolves.toMatchObject({ code: 'E_AGENT_FAILED' });
    await flush();
    const taker = engine.submit(async (ctx) => (await ctx.acquire('db', { units: 2 })).units);
    await clock.runAll();
    await expect(taker.result).resolves.toBe(2);
    const checker = engine.spawnAgent({
      name: 'checker',
      receive: async ([pool, units]: [unknown, unknown], ctx: AgentContext) => ctx.acquire(pool as string, units as number),
    });
    const bad: Array<[unknown, unknown]> = [
      ['nope', 1],
      ['db', 3],
      ['db', 0],
      ['db', 1.5],
    ];
    for (const args of bad)
      await expect(settledOutcome(checker.ask(args))).resolves.toMatchObject({
        code: 'E_AGENT_FAILED',
        error: { cause: { code: 'E_INVALID_OPTION' } },
      });
  });

  it("a task's ctx.ask: the agent sees the task's id as from; aborting the task withdraws the ask", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    const signals: AbortSignal[] = [];
    engine.spawnAgent({
      name: 'slow',
      receive: async (_message: unknown, ctx: AgentContext) => {
        signals.push(ctx.signal);
        await ctx.sleep(1_000);
        return ctx.from;
      },
    });
    const quick = engine.submit(async (ctx) => ctx.ask('slow', 'x'), { id: 'quick-task' });
    await clock.runAll();
    await expect(quick.result).resolves.toBe('quick-task');
    const cancelled = engine.submit(async (ctx) => ctx.ask('slow', 'y'), { id: 'cancelled-task' });
    await clock.advanceBy(10);
    cancelled.cancel();
    await expect(cancelled.result).rejects.toMatchObject({ code: 'E_CANCELLED' });
    await flush();
    expect(signals[1]!.aborted).toBe(true);
    await expect(engine.submit(async (ctx) => ctx.ask('nobody', 1)).result).rejects.toMatchObject({ code: 'E_TASK_FAILED' });
    await clock.runAll();
    expect(engine.waitForGraph().edges).toEqual([]);
  });

  it("overflow 'wait': an ask waiting for room in a full mailbox is on the cycle too", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    const a = engine.spawnAgent({
      name: 'a',
      mailbox: { capacity: 1, overflow: 'wait' },
      receive: async (message: string, ctx: AgentContext) => (message === 'go' ? `a > ${await ctx.ask<string>('b', 'go')}` : `a did ${message}`),
    });
    engine.spawnAgent({
      name: 'b',
      receive: async (_message: string, ctx: AgentContext) => {
        try {
          return await ctx.ask<string>('a', 'work');
        } catch (error) {
          return `b caught ${(error as MezanError).code}`;
        }
      },
    });
    const answer = settledOutcome(a.ask('go'));
    a.send('filler'); // fills a's mailbox: b's ask waits for room behind it
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 'a > b caught E_DEADLOCK' });
    expect(engine.deadlocks()[0]).toMatchObject({ victim: '@agent:a#4' });
    expect(a.stats()).toMatchObject({ received: 3, handled: 2, dropped: 1, maxMailboxDepth: 1 });
  });
});

describe('every ask settles exactly once', () => {
  it('in random rings of agents (sizes, concurrencies, who catches), with deadlocks found and resolved', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ concurrency: fc.integer({ min: 1, max: 2 }), catches: fc.boolean() }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        async (ring, asks, hops) => {
          const clock = new VirtualClock();
          const engine = createEngine({ clock, logger: false });
          let settled = 0;
          let handlerAsks = 0;
          ring.forEach(({ concurrency, catches }, index) => {
            const next = `r${(index + 1) % ring.length}`;
            engine.spawnAgent({
              name: `r${index}`,
              concurrency,
              receive: async (left: number, ctx: AgentContext) => {
                if (left === 0) return 'end';
                handlerAsks++;
                const reply = ctx.ask<string>(next, left - 1).finally(() => settled++);
                if (!catches) return reply;
                return reply.catch((error: MezanError) => error.code);
              },
            });
          });
          const outcomes = Array.from({ length: asks }, () => settledOutcome(engine.agent('r0')!.ask(hops)));
          await clock.runAll();
          await flush();
          await clock.runAll();
          for (const outcome of await Promise.all(outcomes)) if (!outcome.ok) expect(['E_AGENT_FAILED', 'E_DEADLOCK']).toContain(outcome.code);
          expect(settled).toBe(handlerAsks);
          for (const handle of engine.agents()) {
            const stats = handle.stats();
            expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
            expect(handle.status).toBe('idle');
          }
          expect(engine.waitForGraph().edges).toEqual([]);
        },
      ),
      { seed: 101, numRuns: 60 },
    );
  });
});
