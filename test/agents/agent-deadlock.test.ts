import { createEngine, MezanError, VirtualClock, type AgentContext } from '../../src';
import { settledOutcome } from '../fixtures/settled-outcome';

type DeadlockOption = NonNullable<Parameters<typeof createEngine>[0]>['deadlock'];

function engineOnVirtualTime(deadlock?: DeadlockOption) {
  const clock = new VirtualClock();
  return { clock, engine: createEngine({ clock, logger: false, concurrency: 2, ...(deadlock === undefined ? {} : { deadlock }) }) };
}

/** A handler that asks `next` (unless it is the end of the line) and replies with the answer, or with what it caught. */
const relay =
  (next: string | undefined) =>
  async (hops: number, ctx: AgentContext): Promise<string> => {
    if (next === undefined || hops === 0) return `${ctx.self.name} answered`;
    try {
      return `${ctx.self.name} > ${await ctx.ask<string>(next, hops - 1)}`;
    } catch (error) {
      return `${ctx.self.name} caught ${(error as MezanError).code}`;
    }
  };

describe('conversations in the wait-for graph', () => {
  it('two agents asking each other: the youngest ask of the cycle rejects with E_DEADLOCK carrying the cycle; its handler catches it and replies', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const errors: MezanError[] = [];
    engine.spawnAgent({ name: 'a', receive: relay('b') });
    engine.spawnAgent({
      name: 'b',
      receive: async (hops: number, ctx: AgentContext) => {
        try {
          return `b > ${await ctx.ask<string>('a', hops - 1)}`;
        } catch (error) {
          errors.push(error as MezanError);
          return 'b caught it';
        }
      },
    });
    const answer = settledOutcome(engine.agent('a')!.ask(5));
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 'a > b caught it' });
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error!.code).toBe('E_DEADLOCK');
    const { cycle, victim, asker } = error!.details as { cycle: string[]; victim: string; asker: string };
    // a's handler (message 1) asked b (message 2), whose handler asked a (message 3), which waits for a's one unit.
    expect(new Set(cycle)).toEqual(new Set(['@agent:a', '@agent:a#1', '@agent:b#2', '@agent:a#3']));
    expect({ victim, asker }).toEqual({ victim: '@agent:a#3', asker: '@agent:b#2' });
    expect(engine.deadlocks()).toHaveLength(1);
    expect(engine.deadlocks()[0]).toMatchObject({ victim: '@agent:a#3', resolution: 'victim' });
    expect(engine.agent('a')!.stats()).toMatchObject({ received: 2, handled: 1, dropped: 1 });
    expect(engine.waitForGraph()).toEqual({ nodes: expect.any(Array), edges: [] });
  });

  it('three agents in a ring: found and resolved the same way', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'a', receive: relay('b') });
    engine.spawnAgent({ name: 'b', receive: relay('c') });
    engine.spawnAgent({ name: 'c', receive: relay('a') });
    const answer = settledOutcome(engine.agent('a')!.ask(3));
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 'a > b > c caught E_DEADLOCK' });
    const [report] = engine.deadlocks();
    expect(new Set(report!.cycle)).toEqual(new Set(['@agent:a', '@agent:a#1', '@agent:b#2', '@agent:c#3', '@agent:a#4']));
    expect(report!.victim).toBe('@agent:a#4');
  });

  it('a spare unit of concurrency means no deadlock: the same ring with a at concurrency 2 answers, nothing detected', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'a', receive: relay('b'), concurrency: 2 });
    engine.spawnAgent({ name: 'b', receive: relay('a') });
    const answer = settledOutcome(engine.agent('a')!.ask(2));
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 'a > b > a answered' });
    expect(engine.deadlocks()).toEqual([]);
  });

  it('a unit held by a handler that will finish is no deadlock either: the ask waits for it, and nothing is detected', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent({
      name: 'a',
      concurrency: 2,
      receive: async (message: { hops: number } | 'sleep', ctx: AgentContext) => {
        if (message === 'sleep') return ctx.sleep(100).then(() => 'slept');
        return message.hops === 0 ? 'a answered' : `a > ${await ctx.ask<string>('b', message.hops - 1)}`;
      },
    });
    engine.spawnAgent({ name: 'b', receive: async (hops: number, ctx: AgentContext) => `b > ${await ctx.ask<string>('a', { hops: hops - 1 })}` });
    const sleeping = settledOutcome(engine.agent('a')!.ask('sleep'));
    const answer = settledOutcome(engine.agent('a')!.ask({ hops: 2 }));
    await clock.advanceBy(99);
    // Both units of a are held (the sleeper, and the handler waiting for b, which waits for a): not a deadlock.
    expect(engine.waitForGraph().edges).toEqual(
      expect.arrayContaining([
        { from: '@agent:b#3', to: '@agent:a#4', kind: 'asks' },
        { from: '@agent:a#4', to: '@agent:a', kind: 'requests', units: 1 },
      ]),
    );
    await clock.runAll();
    await expect(answer).resolves.toEqual({ ok: true, value: 'a > b > a answered' });
    await expect(sleeping).resolves.toEqual({ ok: true, value: 'slept' });
    expect(engine.deadlocks()).toEqual([]);
  });

  it('with detection off, a ring is never resolved: its asks wait until their own timeouts', async () => {
    const { engine, clock } = engineOnVirtualTime({ detect: 'off' });
    engine.spawnAgent({ name: 'a', receive: relay('b') });
    engine.spawnAgent({ name: 'b', receive: relay('a') });
    const answer = settledOutcome(engine.agent('a')!.ask(2, { timeoutMs: 1_000 }));
    await clock.advanceBy(999);
    expect(engine.deadlocks()).toEqual([]);
    await clock.advanceBy(1);
    await expect(answer).resolves.toMatchObject({ ok: false, code: 'E_TIMEOUT' });
    await clock.runAll();
    expect(engine.deadlocks()).toEqual([]);
  });

  it("a task holding a pool asks an agent whose handler waits for that pool: the task's ask rejects with E_DEADLOCK, the task carries on", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false, concurrency: 2, resources: { db: 1 } });
    engine.spawnAgent({
      name: 'writer',
      receive: async (row: string, ctx: AgentContext) => {
        const lease = await ctx.acquire('db');
        ctx.release(lease);
        return `wrote ${row} for ${ctx.from}`;
      },
    });
    const task = engine.submit(
      async (ctx) => {
        const lease = await ctx.acquire('db');
        try {
          return await ctx.ask<string>('writer', 'row 1');
        } catch (error) {
          return `task caught ${(error as MezanError).code}: ${((error as MezanError).details as { cycle: string[] }).cycle.join(' → ')}`;
        } finally {
          lease.release();
        }
      },
      { id: 'holder' },
    );
    await clock.runAll();
    await expect(task.result).resolves.toBe('task caught E_DEADLOCK: @agent:writer#1 → db → holder → @agent:writer#1');
    await clock.runAll();
    // Nobody waits for the writer's reply any more: its signal aborted, and with it its wait for the pool.
    expect(engine.agent('writer')!.stats()).toMatchObject({ received: 1, failed: 1 });
    expect(engine.deadlocks()[0]).toMatchObject({ victim: '@agent:writer#1', resolution: 'victim' });
    // Nothing waits any more.
    expect(engine.waitForGraph().edges).toEqual([]);
    expect(engine.progress()).toMatchObject({ completed: 1 });
  });

  it("the engine's policy chooses among the cycle's asks: a policy function gets each ask as a candidate named by its message", async () => {
    const seen: string[][] = [];
    const { engine, clock } = engineOnVirtualTime({
      policy: (candidates) => {
        seen.push(candidates.map((candidate) => candidate.taskId));
        // The oldest ask: a's own, to b.
        return [...candidates].sort((x, y) => x.submittedSeq - y.submittedSeq)[0]!.taskId;
      },
    });
    engine.spawnAgent({ name: 'a', receive: relay('b') });
    engine.spawnAgent({ name: 'b', receive: relay('a') });
    const answer = settledOutcome(engine.agent('a')!.ask(2));
    await clock.runAll();
    expect(seen).toEqual([['@agent:a#3', '@agent:b#2']]);
    // a's ask to b failed: a's handler caught it at once; b's handler, still waiting for a, is answered once a is free.
    expect(engine.agent('b')!.stats()).toMatchObject({ received: 1, handled: 1 });
    await expect(answer).resolves.toEqual({ ok: true, value: 'a caught E_DEADLOCK' });
    expect(engine.deadlocks()[0]).toMatchObject({ victim: '@agent:b#2', policy: 'custom' });
  });

  it('an agent asking itself with no spare unit is a deadlock too, found after the optimistic delay of detect: { afterMs }', async () => {
    const { engine, clock } = engineOnVirtualTime({ detect: { afterMs: 50 } });
    const selfish = engine.spawnAgent({ name: 'selfish', receive: relay('selfish') });
    const answer = settledOutcome(selfish.ask(1));
    await clock.advanceBy(49);
    expect(engine.deadlocks()).toEqual([]);
    await clock.advanceBy(1);
    await expect(answer).resolves.toEqual({ ok: true, value: 'selfish caught E_DEADLOCK' });
    expect(engine.deadlocks()[0]).toMatchObject({ victim: '@agent:selfish#2', at: 50 });
  });

  it("two handlers each holding a pool and waiting for the other's, with no ask on the cycle: one handler's acquire rejects with E_DEADLOCK", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false, resources: { db: 1, gpu: 1 } });
    const grab =
      (first: string, second: string) =>
      async (_message: unknown, ctx: AgentContext): Promise<string> => {
        const held = await ctx.acquire(first);
        await ctx.sleep(1);
        try {
          await ctx.acquire(second);
          return `${ctx.self.name} got both`;
        } catch (error) {
          return `${ctx.self.name} caught ${(error as MezanError).code}`;
        } finally {
          ctx.release(held);
        }
      };
    const left = engine.spawnAgent({ name: 'left', receive: grab('db', 'gpu') });
    const right = engine.spawnAgent({ name: 'right', receive: grab('gpu', 'db') });
    const answers = [settledOutcome(left.ask('go')), settledOutcome(right.ask('go'))];
    await clock.runAll();
    expect((await Promise.all(answers)).map((answer) => answer.value)).toEqual(['left got both', 'right caught E_DEADLOCK']);
    expect(engine.deadlocks()[0]).toMatchObject({ victim: '@agent:right#2', resolution: 'victim' });
    expect(new Set(engine.deadlocks()[0]!.cycle)).toEqual(new Set(['@agent:left#1', 'gpu', '@agent:right#2', 'db']));
  });
});
