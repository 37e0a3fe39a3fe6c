import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createEngine, MezanError, VirtualClock } from '../../src';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';

/** An engine on virtual time that hands over the actor refs of its agents, as XState's inspection shows them. */
function engineWithAgentRefs() {
  const clock = new VirtualClock();
  const refs = new Map<string, AnyActorRef>();
  const inspect = (inspection: InspectionEvent): void => {
    const ref = inspection.actorRef as AnyActorRef;
    if (inspection.type === '@xstate.actor' && ref.id.startsWith('agent:')) refs.set(ref.id, ref);
  };
  const engine = createEngine({ clock, logger: false, concurrency: 1, inspect });
  return { clock, engine, refs };
}

describe('a stopped agent ends as an actor', () => {
  it('its actor is done, its subscriptions complete, and what reaches it later is answered by its handle', async () => {
    const { engine, refs } = engineWithAgentRefs();
    const { receive } = manualHandler();
    const agent = engine.spawnAgent({ name: 'a', receive });
    const ref = refs.get('agent:a')!;
    const completed = jest.fn();
    ref.subscribe({ complete: completed });
    const pending = settledOutcome(agent.ask(1));
    await flush();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await agent.stop();
      expect(ref.getSnapshot()).toMatchObject({ status: 'stopped', value: 'stopped' });
      expect(completed).toHaveBeenCalledTimes(1);
      expect(engine.agents()).toEqual([]);
      await expect(pending).resolves.toMatchObject({ code: 'E_AGENT_STOPPED' });
      // Nothing is sent to the ended actor (XState would warn of an event sent to a stopped actor).
      agent.send(2);
      await expect(settledOutcome(agent.ask(3))).resolves.toMatchObject({ code: 'E_AGENT_STOPPED' });
      await agent.stop();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    expect(agent.stats()).toMatchObject({ received: 3, dropped: 3, handled: 0, failed: 0 });
  });

  it('ends too past its restart limit; at shutdown, every agent stops with the engine', async () => {
    const { engine, clock, refs } = engineWithAgentRefs();
    const fragile = engine.spawnAgent({ name: 'fragile', receive: () => 1, restart: { maxRestarts: 0, withinMs: 1_000 } });
    const steady = engine.spawnAgent({ name: 'steady', receive: () => 1 });
    engine.inject({ type: 'agent.crash', agent: 'fragile' });
    expect(fragile.status).toBe('stopped');
    expect(refs.get('agent:fragile')!.getSnapshot().status).toBe('stopped');
    const report = engine.shutdown();
    await clock.runAll();
    await report;
    expect(steady.status).toBe('stopped');
    expect(engine.agents()).toEqual([]);
  });
});

describe('draining waits for the agents through events', () => {
  it("the supervisor keeps whether the agents are quiet in its context, as the registry's agents.activity events say", async () => {
    const clock = new VirtualClock();
    const supervisorEvents: string[] = [];
    let supervisor: AnyActorRef | undefined;
    const inspect = (inspection: InspectionEvent): void => {
      // The first actor made is the root of the system: the supervisor.
      if (inspection.type === '@xstate.actor') supervisor ??= inspection.actorRef as AnyActorRef;
      if (inspection.type === '@xstate.event' && inspection.actorRef === supervisor && inspection.event.type === 'agents.activity')
        supervisorEvents.push(`${inspection.event.type}:${String((inspection.event as { quiet?: boolean }).quiet)}`);
    };
    const engine = createEngine({ clock, logger: false, inspect });
    const sleeper = engine.spawnAgent({ name: 'sleeper', receive: async (ms: number, ctx) => ctx.sleep(ms) });
    const ask = settledOutcome(sleeper.ask(10));
    await flush();
    const report = engine.shutdown({ graceMs: 1_000 });
    await clock.advanceBy(5);
    const context = supervisor!.getSnapshot().context as Record<string, unknown>;
    expect(context.agentsQuiet).toBe(false);
    // A fact, not a question put to the facade: nothing in the context is a function of the registry.
    expect(Object.values(context).some((value) => typeof value === 'function')).toBe(false);
    await clock.runAll();
    expect((await report).phases.map(({ phase, at }) => [phase, at])).toEqual([
      ['draining', 0],
      ['stopped', 10],
    ]);
    await expect(ask).resolves.toEqual({ ok: true, value: undefined });
    expect(supervisorEvents.slice(0, 2)).toEqual(['agents.activity:false', 'agents.activity:true']);
  });
});

describe("a handler's error", () => {
  it('fails its ask with E_AGENT_FAILED, the very error thrown as the cause and its code in details', async () => {
    const { engine } = engineWithAgentRefs();
    const own = new MezanError('E_TIMEOUT', 'the handler gave up', { details: { step: 2 } });
    const plain = new TypeError('broken');
    const agent = engine.spawnAgent({ name: 'a', receive: async (n: number) => Promise.reject(n === 1 ? own : plain) });
    const first = (await settledOutcome(agent.ask(1))).error as MezanError;
    expect(first).toMatchObject({ code: 'E_AGENT_FAILED', details: { agent: 'a', causeCode: 'E_TIMEOUT' } });
    expect(first.cause).toBe(own);
    const second = (await settledOutcome(agent.ask(2))).error as MezanError;
    expect(second.cause).toBe(plain);
    expect(second.details).toEqual({ agent: 'a' });
    // Rethrown by an asking handler, the asked agent's failure is the cause, and the original error its cause.
    engine.spawnAgent({ name: 'relay', receive: async (n: number, ctx) => ctx.ask('a', n) });
    const relayed = (await settledOutcome(engine.agent('relay')!.ask(1))).error as MezanError;
    expect(relayed).toMatchObject({ code: 'E_AGENT_FAILED', details: { agent: 'relay', causeCode: 'E_AGENT_FAILED' } });
    expect((relayed.cause as MezanError).cause).toBe(own);
  });

  it("a team member's timeout is visible: under 'fail' as the cause of the team's E_AGENT_FAILED, under 'placeholder' as the member's error", async () => {
    const { engine, clock } = engineWithAgentRefs();
    engine.spawnAgent({ name: 'slow', receive: async (_message, ctx) => ctx.sleep(100) });
    engine.spawnAgent({ name: 'synthesizer', receive: (synthesis: unknown) => synthesis });
    const failing = engine.team({ name: 'strict', members: ['slow'], synthesizer: 'synthesizer', memberTimeoutMs: 10, onMemberFailure: 'fail' });
    const strict = settledOutcome(failing.ask('x'));
    await clock.advanceBy(10);
    const error = (await strict).error as MezanError;
    expect(error).toMatchObject({ code: 'E_AGENT_FAILED', details: { agent: 'strict', causeCode: 'E_TIMEOUT' } });
    expect(error.cause).toMatchObject({ code: 'E_TIMEOUT', details: { agent: 'slow', timeoutMs: 10 } });
    await clock.advanceBy(100);
    const lenient = engine.team({ name: 'lenient', members: ['slow'], synthesizer: 'synthesizer', memberTimeoutMs: 10 });
    const answer = settledOutcome(lenient.ask('y'));
    await clock.advanceBy(200);
    const { results } = (await answer).value as { results: Array<{ ok: boolean; error: MezanError; durationMs: number }> };
    expect(results[0]).toMatchObject({ ok: false, durationMs: 10, error: { code: 'E_TIMEOUT', details: { agent: 'slow', timeoutMs: 10 } } });
  });
});

describe("overflow 'wait'", () => {
  it('bounds the senders waiting for room by the capacity again; past it a message is refused with E_MAILBOX_FULL', async () => {
    const { engine } = engineWithAgentRefs();
    const { receive, calls } = manualHandler();
    const agent = engine.spawnAgent({ name: 'w', receive, mailbox: { capacity: 2, overflow: 'wait' } });
    // One runs, two wait in the mailbox, two wait for room; the sixth and the seventh are refused.
    const asks = [1, 2, 3, 4, 5, 6].map((n) => settledOutcome(agent.ask(n)));
    agent.send(7);
    await flush();
    await expect(asks[5]).resolves.toMatchObject({ ok: false, code: 'E_MAILBOX_FULL' });
    expect(((await asks[5]!).error as MezanError).details).toEqual({ agent: 'w', capacity: 2, overflow: 'wait' });
    expect(agent.stats()).toMatchObject({ received: 7, dropped: 2, mailboxDepth: 2 });
    for (let n = 0; n < 5; n++) {
      calls[n]!.resolve(n + 1);
      await flush();
    }
    expect((await Promise.all(asks.slice(0, 5))).map((outcome) => outcome.value)).toEqual([1, 2, 3, 4, 5]);
    expect(agent.stats()).toMatchObject({ received: 7, handled: 5, dropped: 2, mailboxDepth: 0, maxMailboxDepth: 2 });
  });
});

describe("a handler's abort listeners", () => {
  it('may throw: nothing escapes as an uncaught exception, the throw is logged, and the other listeners still run', async () => {
    const clock = new VirtualClock();
    const warnings: unknown[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => void warnings.push(message),
      error: () => undefined,
      child: () => logger,
    };
    const engine = createEngine({ clock, logger });
    const uncaught = jest.fn();
    process.on('uncaughtException', uncaught);
    const heard: string[] = [];
    try {
      const agent = engine.spawnAgent({
        name: 'hostile',
        receive: async (_message, ctx) => {
          ctx.signal.addEventListener('abort', () => {
            throw new Error('listener');
          });
          ctx.signal.addEventListener('abort', { handleEvent: () => heard.push('object') });
          ctx.signal.onabort = () => {
            throw new Error('onabort');
          };
          const removed = (): void => {
            throw new Error('removed');
          };
          ctx.signal.addEventListener('abort', removed);
          ctx.signal.removeEventListener('abort', removed);
          ctx.signal.addEventListener('abort', () => heard.push('last'));
          await ctx.sleep(100);
        },
      });
      const ask = settledOutcome(agent.ask('x', { timeoutMs: 10 }));
      await clock.advanceBy(10);
      await expect(ask).resolves.toMatchObject({ code: 'E_TIMEOUT' });
      await flush();
      await flush();
      expect(uncaught).not.toHaveBeenCalled();
      expect(heard).toEqual(['object', 'last']);
      expect(warnings.filter((message) => message === "an abort listener on a handler's signal threw")).toHaveLength(2);
      expect(agent.status).toBe('idle');
      expect(agent.stats()).toMatchObject({ received: 1, failed: 1 });
    } finally {
      process.off('uncaughtException', uncaught);
    }
  });
});

describe('the handle a user holds', () => {
  it('reaches nothing but the public API: no way to crash the agent, fake a sender or reach its actor', async () => {
    const { engine } = engineWithAgentRefs();
    const agent = engine.spawnAgent({ name: 'a', receive: (message: unknown, ctx) => ({ message, from: ctx.from }) });
    const keys = new Set<string>();
    for (let object: object | null = agent; object !== null && object !== Object.prototype; object = Object.getPrototypeOf(object) as object | null)
      for (const key of Reflect.ownKeys(object)) keys.add(String(key));
    for (const internal of ['post', 'request', 'crash', 'stopWith', 'snapshot', 'ref', 'port']) expect(keys.has(internal)).toBe(false);
    expect([...keys].filter((key) => key !== 'constructor' && key !== 'mailboxCapacity').sort()).toEqual([
      'ask',
      'name',
      'send',
      'stats',
      'status',
      'stop',
    ]);
    // An ask from outside any agent has no sender, whatever the caller passes.
    const ask = agent.ask as (message: unknown, options: unknown, from: string) => Promise<unknown>;
    await expect(ask.call(agent, 'hi', undefined, 'someone-else')).resolves.toEqual({ message: 'hi', from: undefined });
  });
});
