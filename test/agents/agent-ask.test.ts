import { createEngine, MezanError, VirtualClock } from '../../src';
import type { AgentContext } from '../../src/agents/agent-context';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';

function engineOnVirtualTime() {
  const clock = new VirtualClock();
  return { clock, engine: createEngine({ clock, logger: false, concurrency: 1 }) };
}

const outcome = settledOutcome;

describe('agent ask and send', () => {
  it('replies to an ask with what the handler returns, and counts it', async () => {
    const { engine } = engineOnVirtualTime();
    const doubler = engine.spawnAgent<number, number>({ name: 'doubler', receive: async (n) => n * 2 });
    expect(doubler.name).toBe('doubler');
    expect(doubler.status).toBe('idle');
    await expect(doubler.ask(21)).resolves.toBe(42);
    expect(doubler.stats()).toEqual({
      received: 1,
      handled: 1,
      failed: 0,
      dropped: 0,
      restarts: 0,
      mailboxDepth: 0,
      maxMailboxDepth: 0,
      totalMs: 0,
      meanMs: 0,
    });
    expect(engine.agent('doubler')).toBe(doubler);
    expect(engine.agents()).toEqual([doubler]);
    expect(engine.actors()).toContainEqual({ id: 'agent:doubler', machine: 'agent', parent: 'supervisor', state: 'idle' });
  });

  it('handles sent messages in order, one at a time by default, timing each with the engine clock', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const seen: string[] = [];
    const log = engine.spawnAgent<string>({
      name: 'log',
      receive: async (message, ctx) => {
        seen.push(`start ${message}`);
        await ctx.sleep(10);
        seen.push(`end ${message}`);
      },
    });
    log.send('a');
    log.send('b');
    log.send('c');
    await flush();
    expect(log.status).toBe('busy');
    expect(log.stats()).toMatchObject({ received: 3, mailboxDepth: 2, maxMailboxDepth: 2 });
    await clock.runAll();
    expect(seen).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(log.stats()).toMatchObject({ received: 3, handled: 3, mailboxDepth: 0, totalMs: 30, meanMs: 10 });
    expect(clock.now()).toBe(30);
    expect(log.status).toBe('idle');
  });

  it('runs up to `concurrency` handlers at once', async () => {
    const { engine } = engineOnVirtualTime();
    const { receive, calls } = manualHandler();
    const worker = engine.spawnAgent({ name: 'worker', receive, concurrency: 2 });
    const asks = [1, 2, 3, 4].map((n) => worker.ask(n));
    await flush();
    expect(calls.map((call) => call.message)).toEqual([1, 2]);
    expect(worker.stats().mailboxDepth).toBe(2);
    calls[1]!.resolve('two');
    await flush();
    expect(calls.map((call) => call.message)).toEqual([1, 2, 3]);
    calls[0]!.resolve('one');
    calls[2]!.resolve('three');
    await flush();
    calls[3]!.resolve('four');
    await expect(Promise.all(asks)).resolves.toEqual(['one', 'two', 'three', 'four']);
    expect(worker.stats()).toMatchObject({ received: 4, handled: 4, maxMailboxDepth: 2 });
  });

  it('fails the ask of a message whose handler throws, with the error as its cause, and goes on', async () => {
    const { engine } = engineOnVirtualTime();
    const thrown = new Error('no');
    const picky = engine.spawnAgent<string, string>({
      name: 'picky',
      receive: (message) => {
        if (message === 'bad') throw thrown;
        return message.toUpperCase();
      },
    });
    const bad = await outcome(picky.ask('bad'));
    expect(bad).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect((bad.error as MezanError).cause).toBe(thrown);
    expect((bad.error as MezanError).details).toEqual({ agent: 'picky' });
    await expect(picky.ask('good')).resolves.toBe('GOOD');
    expect(picky.stats()).toMatchObject({ received: 2, handled: 1, failed: 1, dropped: 0 });
    expect(picky.status).toBe('idle');
  });

  it('contains whatever a handler throws or returns: non-errors, rejected promises, thenables that throw', async () => {
    const { engine } = engineOnVirtualTime();
    const hostileThen = {
      get then(): never {
        throw new Error('then getter');
      },
    };
    const behaviours: Record<string, () => unknown> = {
      'throws undefined': () => {
        throw undefined;
      },
      'throws a string': () => {
        throw 'oops';
      },
      'rejects with null': () => Promise.reject(null),
      'returns a thenable whose then throws': () => hostileThen,
      'returns a thenable that never calls back, then throws': () => ({
        then: () => {
          throw new Error('inside then');
        },
      }),
      'returns undefined': () => undefined,
    };
    const hostile = engine.spawnAgent<string>({ name: 'hostile', receive: (message) => behaviours[message]!() });
    const results = await Promise.all(Object.keys(behaviours).map((name) => outcome(hostile.ask(name))));
    expect(results.map((result) => (result.ok ? 'ok' : result.code))).toEqual([
      'E_AGENT_FAILED',
      'E_AGENT_FAILED',
      'E_AGENT_FAILED',
      'E_AGENT_FAILED',
      'E_AGENT_FAILED',
      'ok',
    ]);
    expect(hostile.stats()).toMatchObject({ received: 6, handled: 1, failed: 5 });
  });

  it('lets agents ask and send to each other, by handle or by name, with `from` naming the sender', async () => {
    const { engine } = engineOnVirtualTime();
    const froms: Array<string | undefined> = [];
    const notes: unknown[] = [];
    const validator = engine.spawnAgent<number, boolean>({
      name: 'validator',
      receive: (n, ctx) => {
        froms.push(ctx.from);
        return n % 2 === 0;
      },
    });
    engine.spawnAgent({ name: 'notes', receive: (note) => void notes.push(note) });
    const analyzer = engine.spawnAgent<number, string>({
      name: 'analyzer',
      receive: async (n, ctx: AgentContext) => {
        expect(ctx.self.name).toBe('analyzer');
        const even = await ctx.ask<boolean>(validator, n);
        const again = await ctx.ask<boolean>('validator', n + 1);
        ctx.send('notes', `${n}: ${even}, ${again}`);
        return even ? 'even' : 'odd';
      },
    });
    await expect(analyzer.ask(4)).resolves.toBe('even');
    await flush();
    expect(froms).toEqual(['analyzer', 'analyzer']);
    expect(notes).toEqual(['4: true, false']);
    const unknown = await outcome(engine.spawnAgent({ name: 'lost', receive: (_message, ctx) => ctx.ask('nobody', 1) }).ask('go'));
    expect(unknown).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(((unknown.error as MezanError).cause as MezanError).code).toBe('E_AGENT_STOPPED');
  });

  it('keeps exact counts under many senders: received equals what was sent, and sums to handled + failed + dropped', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const counter = engine.spawnAgent<number>({
      name: 'counter',
      concurrency: 3,
      mailbox: { capacity: 50, overflow: 'drop-oldest' },
      receive: async (n, ctx) => {
        await ctx.sleep(n % 7);
        if (n % 5 === 0) throw new Error(`five ${n}`);
        return n;
      },
    });
    const asks: Array<Promise<unknown>> = [];
    for (let n = 1; n <= 400; n++) {
      if (n % 2 === 0) counter.send(n);
      else asks.push(outcome(counter.ask(n)));
      if (n % 40 === 0) await clock.advanceBy(3);
    }
    await clock.runAll();
    await Promise.all(asks);
    const stats = counter.stats();
    expect(stats.received).toBe(400);
    expect(stats.handled + stats.failed + stats.dropped).toBe(400);
    expect(stats.mailboxDepth).toBe(0);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.maxMailboxDepth).toBe(50);
  });
});
