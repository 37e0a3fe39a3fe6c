import { createEngine, MezanError, VirtualClock } from '../../src';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';

function engineOnVirtualTime() {
  const clock = new VirtualClock();
  return { clock, engine: createEngine({ clock, logger: false, concurrency: 1 }) };
}

describe('agent timeouts and aborts', () => {
  it('rejects an ask past its timeoutMs with E_TIMEOUT, aborting its handler, which counts when it returns', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const reasons: unknown[] = [];
    const slow = engine.spawnAgent({
      name: 'slow',
      receive: async (_message, ctx) => {
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        await ctx.sleep(1_000);
        return 'late';
      },
    });
    const ask = settledOutcome(slow.ask('x', { timeoutMs: 50 }));
    await clock.advanceBy(49);
    expect(slow.status).toBe('busy');
    await clock.advanceBy(1);
    await expect(ask).resolves.toMatchObject({ ok: false, code: 'E_TIMEOUT' });
    expect((reasons[0] as MezanError).code).toBe('E_TIMEOUT');
    // The aborted sleep rejected the handler at once: its message failed.
    await flush();
    expect(slow.stats()).toMatchObject({ received: 1, failed: 1, handled: 0, totalMs: 50 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with E_CANCELLED when the signal aborts, withdrawing a waiting message; an aborted signal is refused at once', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const { receive, calls } = manualHandler();
    const agent = engine.spawnAgent({ name: 'a', receive });
    const first = settledOutcome(agent.ask(1));
    const controller = new AbortController();
    const second = settledOutcome(agent.ask(2, { signal: controller.signal, timeoutMs: 1_000 }));
    await flush();
    controller.abort();
    await expect(second).resolves.toMatchObject({ ok: false, code: 'E_CANCELLED' });
    expect(agent.stats()).toMatchObject({ received: 2, dropped: 1, mailboxDepth: 0 });
    await expect(settledOutcome(agent.ask(3, { signal: controller.signal }))).resolves.toMatchObject({ code: 'E_CANCELLED' });
    calls[0]!.resolve('one');
    await expect(first).resolves.toEqual({ ok: true, value: 'one' });
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('agent restarts', () => {
  it('restarts after a crash within its limit: what ran fails, the mailbox is kept', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const { receive, calls } = manualHandler();
    const agent = engine.spawnAgent({ name: 'fragile', receive, restart: { maxRestarts: 2, withinMs: 1_000 } });
    const asks = [1, 2, 3].map((n) => settledOutcome(agent.ask(n)));
    await flush();
    engine.inject({ type: 'agent.crash', agent: 'fragile' });
    expect(agent.status).toBe('restarting');
    const crashed = await asks[0];
    expect(crashed).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(((crashed.error as MezanError).cause as MezanError).code).toBe('E_AGENT_FAILED');
    await clock.advanceBy(0);
    expect(agent.status).toBe('busy');
    expect(calls.map((call) => call.message)).toEqual([1, 2]);
    calls[1]!.resolve('two');
    await flush();
    calls[2]!.resolve('three');
    expect((await Promise.all(asks)).map((result) => result.value ?? result.code)).toEqual(['E_AGENT_FAILED', 'two', 'three']);
    expect(agent.stats()).toMatchObject({ received: 3, handled: 2, failed: 1, restarts: 1 });
    // A handler that settles after the crash changes nothing.
    calls[0]!.resolve('too late');
    await flush();
    expect(agent.stats()).toMatchObject({ handled: 2, failed: 1 });
  });

  it('stops past its restart limit: every waiting ask is rejected with E_AGENT_STOPPED and its name is free again', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const { receive } = manualHandler();
    const agent = engine.spawnAgent({ name: 'doomed', receive, restart: { maxRestarts: 1, withinMs: 1_000 } });
    engine.inject({ type: 'agent.crash', agent: 'doomed' });
    await clock.advanceBy(500);
    expect(agent.status).toBe('idle');
    const asks = [1, 2].map((n) => settledOutcome(agent.ask(n)));
    await flush();
    engine.inject({ type: 'agent.crash', agent: 'doomed' });
    expect(agent.status).toBe('stopped');
    expect((await Promise.all(asks)).map((result) => result.code)).toEqual(['E_AGENT_FAILED', 'E_AGENT_STOPPED']);
    expect(agent.stats()).toMatchObject({ received: 2, failed: 1, dropped: 1, restarts: 1 });
    expect(engine.agent('doomed')).toBeUndefined();
    await expect(settledOutcome(agent.ask(3))).resolves.toMatchObject({ code: 'E_AGENT_STOPPED' });
    expect(engine.spawnAgent({ name: 'doomed', receive }).status).toBe('idle');
  });

  it('forgets crashes older than withinMs', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'old', receive: () => 'ok', restart: { maxRestarts: 1, withinMs: 100 } });
    for (let crash = 0; crash < 3; crash++) {
      engine.inject({ type: 'agent.crash', agent: 'old' });
      await clock.advanceBy(100);
    }
    expect(agent.status).toBe('idle');
    expect(agent.stats().restarts).toBe(3);
    expect(() => engine.inject({ type: 'agent.crash', agent: 'nobody' })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
  });
});

describe('stopping agents', () => {
  it('stop() lets go of what runs and waits, rejecting each ask with E_AGENT_STOPPED, and aborts the handlers', async () => {
    const { engine } = engineOnVirtualTime();
    const { receive, calls } = manualHandler();
    const agent = engine.spawnAgent({ name: 'a', receive, concurrency: 1 });
    const asks = [1, 2, 3].map((n) => settledOutcome(agent.ask(n)));
    await flush();
    await agent.stop();
    expect(agent.status).toBe('stopped');
    expect(calls[0]!.ctx.signal.aborted).toBe(true);
    expect((await Promise.all(asks)).map((result) => result.code)).toEqual(['E_AGENT_STOPPED', 'E_AGENT_STOPPED', 'E_AGENT_STOPPED']);
    agent.send(4);
    expect(agent.stats()).toMatchObject({ received: 4, handled: 0, failed: 0, dropped: 4 });
    expect(engine.agents()).toEqual([]);
    await agent.stop();
  });

  it('shutdown refuses outside messages once draining, then stops every agent; each ask hears E_SHUTDOWN, none is lost', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const { receive } = manualHandler();
    const stubborn = engine.spawnAgent({ name: 'stubborn', receive, concurrency: 2 });
    const quick = engine.spawnAgent({ name: 'quick', receive: async (n: number, ctx) => ctx.sleep(n) });
    const asks = [1, 2, 3].map((n) => settledOutcome(stubborn.ask(n)));
    const quickAsk = settledOutcome(quick.ask(5));
    await flush();
    const report = engine.shutdown({ graceMs: 100 });
    await flush();
    await expect(settledOutcome(stubborn.ask(4))).resolves.toMatchObject({ code: 'E_SHUTDOWN' });
    expect(() => engine.spawnAgent({ name: 'late', receive })).toThrow(expect.objectContaining({ code: 'E_SHUTDOWN' }));
    await clock.runAll();
    expect((await report).phases.map(({ phase, at }) => [phase, at])).toEqual([
      ['draining', 0],
      ['terminating', 100],
      ['stopped', 100],
    ]);
    expect((await Promise.all(asks)).map((result) => result.code)).toEqual(['E_SHUTDOWN', 'E_SHUTDOWN', 'E_SHUTDOWN']);
    expect(await quickAsk).toEqual({ ok: true, value: undefined });
    expect(stubborn.status).toBe('stopped');
    expect(stubborn.stats()).toMatchObject({ received: 3, dropped: 3 });
    expect(engine.agents()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('draining waits for the agents to handle what their mailboxes hold, agent to agent included', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const echo = engine.spawnAgent({
      name: 'echo',
      receive: async (n: number, ctx) => {
        await ctx.sleep(n);
        return n;
      },
    });
    const relay = engine.spawnAgent({ name: 'relay', receive: async (n: number, ctx) => ctx.ask('echo', n * 2) });
    const asks = [1, 2].map((n) => settledOutcome(relay.ask(n)));
    engine.submit(async (ctx) => ctx.sleep(3));
    const report = engine.shutdown({ graceMs: 1_000 });
    await clock.runAll();
    expect((await report).phases.map(({ phase, at }) => [phase, at])).toEqual([
      ['draining', 0],
      ['stopped', 6],
    ]);
    expect((await Promise.all(asks)).map((result) => result.value)).toEqual([2, 4]);
    expect(echo.stats()).toMatchObject({ received: 2, handled: 2 });
    expect(relay.status).toBe('stopped');
  });

  it("with drain: 'cancel' too, the messages already in a mailbox are handled", async () => {
    const { engine, clock } = engineOnVirtualTime();
    const sleeper = engine.spawnAgent({ name: 'sleeper', receive: async (n: number, ctx) => ctx.sleep(n).then(() => n) });
    const asks = [3, 4, 5].map((n) => settledOutcome(sleeper.ask(n)));
    await flush();
    const report = engine.shutdown({ drain: 'cancel', graceMs: 1_000 });
    await clock.runAll();
    expect((await report).phases.map(({ phase, at }) => [phase, at])).toEqual([
      ['draining', 0],
      ['stopped', 12],
    ]);
    expect((await Promise.all(asks)).map((result) => result.value)).toEqual([3, 4, 5]);
  });
});
