import { expectTypeOf } from 'expect-type';
import { assign, createActor, fromCallback, raise, setup } from 'xstate';
import { createEngine, reply, VirtualClock, type Agent, type Logger, type MachineReplyEvent } from '../../src';
import { flush } from '../fixtures/flush';
import { settledOutcome } from '../fixtures/settled-outcome';

type CounterEvent = { type: 'add'; by: number } | { type: 'get' } | { type: 'quit' } | { type: 'boom' } | { type: 'ignore' };

/** A plain XState machine: nothing in it knows of an engine. */
const counter = setup({
  types: { context: {} as { count: number }, events: {} as CounterEvent, emitted: {} as MachineReplyEvent },
  actions: {
    explode: () => {
      throw new Error('boom');
    },
  },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  initial: 'counting',
  states: {
    counting: {
      on: {
        add: { actions: [assign({ count: ({ context, event }) => context.count + event.by }), reply(({ context }) => context.count)] },
        get: { actions: reply(({ context }) => context.count) },
        quit: { target: 'done', actions: reply('bye') },
        boom: { actions: 'explode' },
        ignore: {},
      },
    },
    done: { type: 'final' },
  },
});

interface Line {
  readonly level: string;
  readonly message: string;
  readonly details: unknown;
}

/** A logger that keeps its lines. */
function recordingLogger(lines: Line[]): Logger {
  const logger: Logger = {
    error: (message, details) => lines.push({ level: 'error', message, details }),
    warn: (message, details) => lines.push({ level: 'warn', message, details }),
    info: (message, details) => lines.push({ level: 'info', message, details }),
    debug: (message, details) => lines.push({ level: 'debug', message, details }),
    child: () => logger,
  };
  return logger;
}

function engineOnVirtualTime(lines?: Line[]) {
  const clock = new VirtualClock();
  return { clock, engine: createEngine({ clock, logger: lines === undefined ? false : recordingLogger(lines), concurrency: 1 }) };
}

describe('a machine agent', () => {
  it('is a plain XState machine: createActor alone runs it, and its replies are emitted events', () => {
    const actor = createActor(counter);
    const replies: MachineReplyEvent[] = [];
    actor.on('mezan.reply', (event) => replies.push(event));
    actor.start();
    const add = { type: 'add', by: 2 } as const;
    actor.send(add);
    actor.send({ type: 'get' });
    actor.send({ type: 'ignore' });
    expect(replies.map((event) => event.value)).toEqual([2, 2]);
    expect(replies[0]!.to).toBe(add);
    actor.send({ type: 'quit' });
    expect(replies.at(-1)).toMatchObject({ type: 'mezan.reply', value: 'bye' });
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('takes sent and asked messages as events, and answers an ask with reply(value)', async () => {
    const { engine } = engineOnVirtualTime();
    const agent = engine.spawnAgent<CounterEvent, number>({ name: 'counter', machine: counter });
    agent.send({ type: 'add', by: 2 });
    agent.send({ type: 'add', by: 3 });
    await expect(agent.ask({ type: 'get' })).resolves.toBe(5);
    await expect(agent.ask({ type: 'add', by: 1 })).resolves.toBe(6);
    expect(agent.status).toBe('idle');
    expect(agent.stats()).toMatchObject({ received: 4, handled: 4, failed: 0, dropped: 0, restarts: 0 });
    expect(engine.actors()).toContainEqual({ id: 'agent:counter', machine: 'agent', parent: 'supervisor', state: 'idle' });
  });

  it("types the agent's messages as the machine's events", () => {
    const { engine } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'typed', machine: counter });
    expectTypeOf(agent).toEqualTypeOf<Agent<CounterEvent, unknown>>();
    // @ts-expect-error -- no event of the machine
    expectTypeOf(agent.send).toBeCallableWith({ type: 'sub', by: 1 });
    expectTypeOf(engine.spawnAgent<CounterEvent, number>({ name: 'replies', machine: counter })).toEqualTypeOf<Agent<CounterEvent, number>>();
  });

  it('answers an ask the machine takes without replying with undefined, once the machine is at rest', async () => {
    const { engine } = engineOnVirtualTime();
    // Typed as taking anything: the machine's own events are what it is typed to take.
    const agent = engine.spawnAgent<unknown>({ name: 'counter', machine: counter });
    await expect(agent.ask({ type: 'ignore' })).resolves.toBeUndefined();
    await expect(agent.ask({ type: 'unknown to the machine' })).resolves.toBeUndefined();
    expect(agent.stats()).toMatchObject({ received: 2, handled: 2 });
  });

  it("waits, on the engine's clock, for what the machine started for a message: a delayed transition", async () => {
    const slow = setup({}).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { think: 'thinking', nap: 'napping' } },
        thinking: { after: { 40: { target: 'idle', actions: reply('thought') } } },
        napping: { after: { 25: 'idle' } },
      },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'slow', machine: slow });
    const thought = settledOutcome(agent.ask({ type: 'think' }));
    const nap = settledOutcome(agent.ask({ type: 'nap' }));
    await flush();
    expect(agent.status).toBe('busy');
    expect(agent.stats().mailboxDepth).toBe(1);
    await clock.runAll();
    expect(await thought).toEqual({ ok: true, value: 'thought' });
    expect(await nap).toEqual({ ok: true, value: undefined });
    expect(clock.now()).toBe(65);
    expect(agent.stats()).toMatchObject({ received: 2, handled: 2, totalMs: 65, meanMs: 32.5 });
  });

  it('fails an ask the machine never answers, with its timeoutMs, counts it failed, and goes on', async () => {
    const stuck = setup({ actors: { forever: fromCallback(() => undefined) } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { wait: 'waiting', ping: { actions: reply('pong') } } },
        waiting: { invoke: { src: 'forever' }, on: { ping: { target: 'idle', actions: reply('pong') } } },
      },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'stuck', machine: stuck });
    const waiting = settledOutcome(agent.ask({ type: 'wait' }, { timeoutMs: 50 }));
    await flush();
    await clock.advanceBy(49);
    expect(agent.status).toBe('busy');
    await clock.advanceBy(1);
    expect(await waiting).toMatchObject({ ok: false, code: 'E_TIMEOUT' });
    await flush();
    expect(agent.status).toBe('idle');
    expect(agent.stats()).toMatchObject({ received: 1, handled: 0, failed: 1, totalMs: 50 });
    await expect(agent.ask({ type: 'ping' })).resolves.toBe('pong');
  });

  it('handles up to `concurrency` messages at once, a later reply naming its message with `to`', async () => {
    type JobEvent = { type: 'job'; key: string; ms: number } | { type: 'finish'; key: string };
    const jobs = setup({
      types: { context: {} as { requests: Record<string, JobEvent> }, events: {} as JobEvent },
    }).createMachine({
      context: { requests: {} },
      on: {
        job: {
          actions: [
            assign({ requests: ({ context, event }) => ({ ...context.requests, [event.key]: event }) }),
            raise(({ event }) => ({ type: 'finish' as const, key: event.key }), { delay: ({ event }) => event.ms }),
          ],
        },
        finish: {
          actions: reply(({ event }) => `done ${event.key}`, { to: ({ context, event }) => context.requests[event.key] }),
        },
      },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'jobs', machine: jobs, concurrency: 2 });
    const finished: string[] = [];
    const asks = [
      { key: 'a', ms: 30 },
      { key: 'b', ms: 10 },
      { key: 'c', ms: 5 },
    ].map(({ key, ms }) => agent.ask({ type: 'job', key, ms }).then((value) => (finished.push(`${String(value)} at ${clock.now()}`), value)));
    await flush();
    expect(agent.stats()).toMatchObject({ mailboxDepth: 1, maxMailboxDepth: 1 });
    await clock.runAll();
    await expect(Promise.all(asks)).resolves.toEqual(['done a', 'done b', 'done c']);
    expect(finished).toEqual(['done b at 10', 'done c at 15', 'done a at 30']);
    expect(agent.stats()).toMatchObject({ received: 3, handled: 3, totalMs: 30 + 10 + 5 });
  });

  it('drops a later reply that names no message while several wait, and says so', async () => {
    const vague = setup({}).createMachine({
      on: { job: { actions: raise({ type: 'finish' }, { delay: 10 }) }, finish: { actions: reply('which one?') } },
    });
    const lines: Line[] = [];
    const { engine, clock } = engineOnVirtualTime(lines);
    const agent = engine.spawnAgent({ name: 'vague', machine: vague, concurrency: 2 });
    const asks = [settledOutcome(agent.ask({ type: 'job' })), settledOutcome(agent.ask({ type: 'job' }))];
    await clock.runAll();
    // Neither gets the reply meant for one of them; both end once the machine is at rest.
    expect(await Promise.all(asks)).toEqual([
      { ok: true, value: undefined },
      { ok: true, value: undefined },
    ]);
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'a reply naming no message, with several waiting, was dropped: name it with `to`',
      'a reply naming no message, with several waiting, was dropped: name it with `to`',
    ]);
  });

  it('ignores a second reply to the same message', async () => {
    const twice = setup({}).createMachine({ on: { ask: { actions: [reply(1), reply(2)] } } });
    const { engine } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'twice', machine: twice });
    await expect(agent.ask({ type: 'ask' })).resolves.toBe(1);
    await expect(agent.ask({ type: 'ask' })).resolves.toBe(1);
    expect(agent.stats()).toMatchObject({ received: 2, handled: 2 });
  });

  it('crashes when its machine reaches a final state: that message fails, a new machine takes the whole mailbox', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent<CounterEvent, unknown>({ name: 'counter', machine: counter });
    agent.send({ type: 'add', by: 5 });
    const quit = settledOutcome(agent.ask({ type: 'quit' }));
    const after = settledOutcome(agent.ask({ type: 'get' }));
    await flush();
    // The reply made in the step that ended the machine does not count: the step is a crash.
    const failure = await quit;
    expect(failure).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(((failure.error as Error).cause as Error).message).toBe('The machine of agent "counter" reached a final state');
    expect(agent.status).toBe('restarting');
    expect(agent.stats().mailboxDepth).toBe(1);
    await clock.runAll();
    // A new machine, from its initial state: the count starts again.
    expect(await after).toEqual({ ok: true, value: 0 });
    expect(agent.status).toBe('idle');
    expect(agent.stats()).toMatchObject({ received: 3, handled: 2, failed: 1, dropped: 0, restarts: 1 });
  });

  it('crashes when an action throws: that message fails with E_AGENT_FAILED, the mailbox is kept, past the limit it stops', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent<CounterEvent, unknown>({ name: 'counter', machine: counter, restart: { maxRestarts: 1, withinMs: 1_000 } });
    agent.send({ type: 'add', by: 1 });
    const boom = settledOutcome(agent.ask({ type: 'boom' }));
    const kept = settledOutcome(agent.ask({ type: 'get' }));
    await clock.runAll();
    const failure = await boom;
    expect(failure).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    const cause = (failure.error as Error).cause as Error & { code: string };
    expect(cause.code).toBe('E_AGENT_FAILED');
    expect(cause.message).toBe('The machine of agent "counter" failed: boom');
    expect(await kept).toEqual({ ok: true, value: 0 });
    expect(agent.stats()).toMatchObject({ received: 3, handled: 2, failed: 1, restarts: 1 });

    const again = settledOutcome(agent.ask({ type: 'boom' }));
    const lost = settledOutcome(agent.ask({ type: 'get' }));
    await clock.runAll();
    expect(await again).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(await lost).toMatchObject({ ok: false, code: 'E_AGENT_STOPPED' });
    expect(agent.status).toBe('stopped');
    expect(agent.stats()).toMatchObject({ received: 5, handled: 2, failed: 2, dropped: 1, restarts: 1 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops what a failed machine ran: XState leaves the children of a machine that threw running', async () => {
    let cleanups = 0;
    const ticker = setup({}).createMachine({ initial: 'a', states: { a: { after: { 10: 'b' } }, b: { after: { 10: 'a' } } } });
    const parent = setup({
      actors: { ticker, watcher: fromCallback(() => () => void cleanups++) },
      actions: {
        explode: () => {
          throw new Error('boom');
        },
      },
    }).createMachine({ invoke: [{ src: 'ticker' }, { src: 'watcher' }], on: { boom: { actions: 'explode' } } });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'parent', machine: parent, restart: { maxRestarts: 0, withinMs: 1_000 } });
    expect(clock.pendingTimers).toBe(1);
    const boom = settledOutcome(agent.ask({ type: 'boom' }));
    await flush();
    expect(await boom).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(agent.status).toBe('stopped');
    expect(cleanups).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('crashes, and restarts, when its machine fails as it starts', async () => {
    const broken = setup({}).createMachine({
      entry: () => {
        throw new Error('no start');
      },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'broken', machine: broken, restart: { maxRestarts: 2, withinMs: 1_000 } });
    const asked = settledOutcome(agent.ask({ type: 'anything' }));
    await clock.runAll();
    // Taken as the agent restarted, the message was being handled when the new machine failed.
    expect(await asked).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(agent.status).toBe('stopped');
    expect(agent.stats()).toMatchObject({ received: 1, failed: 1, restarts: 2 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts a new machine after an injected crash', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent<CounterEvent, unknown>({ name: 'counter', machine: counter });
    await agent.ask({ type: 'add', by: 4 });
    engine.inject({ type: 'agent.crash', agent: 'counter' });
    await clock.runAll();
    await expect(agent.ask({ type: 'get' })).resolves.toBe(0);
    expect(agent.stats().restarts).toBe(1);
  });

  it('stops its machine when it stops: no timer of the machine is left', async () => {
    const ticking = setup({}).createMachine({
      initial: 'a',
      states: { a: { after: { 1_000: 'b' } }, b: { after: { 1_000: 'a' } } },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'ticking', machine: ticking });
    expect(clock.pendingTimers).toBe(1);
    await agent.stop();
    expect(clock.pendingTimers).toBe(0);
    await expect(settledOutcome(agent.ask({ type: 'x' }))).resolves.toMatchObject({ code: 'E_AGENT_STOPPED' });
  });

  it('refuses what is no event before it reaches the agent: an ask rejects, a send throws, E_INVALID_OPTION', async () => {
    const { engine } = engineOnVirtualTime();
    const agent = engine.spawnAgent<unknown>({ name: 'counter', machine: counter });
    const hostile = new Proxy(
      { type: 'get' },
      {
        ownKeys: () => {
          throw new Error('no keys for you');
        },
      },
    );
    const cases: Array<[unknown, string]> = [
      ['get', 'message'],
      [null, 'message'],
      [[{ type: 'get' }], 'message'],
      [{}, 'message.type'],
      [{ type: '' }, 'message.type'],
      [{ type: 42 }, 'message.type'],
      [{ type: 'xstate.stop' }, 'message.type'],
      [hostile, 'message'],
    ];
    for (const [message, option] of cases) {
      const outcome = await settledOutcome(agent.ask(message));
      expect(outcome).toMatchObject({ ok: false, code: 'E_INVALID_OPTION', error: { details: { option } } });
      expect(() => agent.send(message)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    }
    expect(agent.stats().received).toBe(0);
    await expect(agent.ask({ type: 'get' })).resolves.toBe(0);
  });

  it('delivers a copy of the message: a later change by its sender does not reach the machine', async () => {
    const { engine } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'counter', machine: counter });
    const message = { type: 'add' as const, by: 1 };
    const answer = agent.ask(message);
    message.by = 1_000;
    await expect(answer).resolves.toBe(1);
  });

  it('survives hostile replies: a Proxy whose `then` throws fails that ask only; a reply function that throws is a crash', async () => {
    const trap = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trapped');
        },
      },
    );
    const hostile = setup({}).createMachine({
      on: {
        proxy: { actions: reply(trap) },
        throwing: {
          actions: reply(() => {
            throw new Error('no value');
          }),
        },
        ping: { actions: reply('pong') },
      },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'hostile', machine: hostile });
    const proxied = await settledOutcome(agent.ask({ type: 'proxy' }));
    expect(proxied).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(agent.stats()).toMatchObject({ failed: 1, restarts: 0 });
    const thrown = settledOutcome(agent.ask({ type: 'throwing' }));
    await clock.runAll();
    expect(await thrown).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(agent.stats()).toMatchObject({ failed: 2, restarts: 1 });
    await expect(agent.ask({ type: 'ping' })).resolves.toBe('pong');
  });

  it('crashes when a guard throws, as when an action does', async () => {
    const guarded = setup({
      guards: {
        broken: () => {
          throw new Error('no verdict');
        },
      },
    }).createMachine({ on: { check: { guard: 'broken', actions: reply('yes') }, ping: { actions: reply('pong') } } });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'guarded', machine: guarded });
    const checked = settledOutcome(agent.ask({ type: 'check' }));
    const after = settledOutcome(agent.ask({ type: 'ping' }));
    await clock.runAll();
    expect(await checked).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(await after).toEqual({ ok: true, value: 'pong' });
    expect(agent.stats()).toMatchObject({ received: 2, handled: 1, failed: 1, restarts: 1 });
  });

  it('treats a machine XState cannot start as a failing machine: the agent crashes, then stops at its limit', async () => {
    // It looks like a machine (transition, getInitialSnapshot, root), but its snapshot is none.
    const impostor = { transition: () => undefined, getInitialSnapshot: () => undefined, root: {} };
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'impostor', machine: impostor as never, restart: { maxRestarts: 1, withinMs: 1_000 } });
    const asked = settledOutcome(agent.ask({ type: 'anything' }));
    await clock.runAll();
    expect(await asked).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(agent.status).toBe('stopped');
    expect(agent.stats()).toMatchObject({ received: 1, failed: 1, restarts: 1 });
  });

  it("refuses a message whose `type` getter throws, with what it threw as the error's cause", async () => {
    const { engine } = engineOnVirtualTime();
    const agent = engine.spawnAgent<unknown>({ name: 'counter', machine: counter });
    const thrown = new Error('no type');
    const message = {
      get type(): string {
        throw thrown;
      },
    };
    const outcome = await settledOutcome(agent.ask(message));
    expect(outcome).toMatchObject({ ok: false, code: 'E_INVALID_OPTION', error: { cause: thrown, details: { option: 'message' } } });
  });

  it('lets go of a message being handled when it stops, and stops the machine that handled it', async () => {
    const stuck = setup({ actors: { forever: fromCallback(() => undefined) } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { wait: 'waiting' } }, waiting: { invoke: { src: 'forever' }, after: { 1_000: 'idle' } } },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'stuck', machine: stuck });
    const waiting = settledOutcome(agent.ask({ type: 'wait' }));
    await flush();
    expect(clock.pendingTimers).toBe(1);
    await agent.stop();
    expect(await waiting).toMatchObject({ ok: false, code: 'E_AGENT_STOPPED' });
    expect(agent.stats()).toMatchObject({ received: 1, dropped: 1 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('is asked by other agents and is a team member as any agent is; a handler sending it no event fails that message', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent<CounterEvent, unknown>({ name: 'counter', machine: counter });
    const front = engine.spawnAgent<number, unknown>({
      name: 'front',
      receive: async (by, ctx) => {
        if (by < 0) ctx.send('counter', 'not an event');
        ctx.send('counter', { type: 'add', by });
        return ctx.ask('counter', { type: 'get' });
      },
    });
    await expect(front.ask(3)).resolves.toBe(3);
    await expect(settledOutcome(front.ask(-1))).resolves.toMatchObject({
      code: 'E_AGENT_FAILED',
      error: { cause: expect.objectContaining({ code: 'E_INVALID_OPTION' }) },
    });
    const second = engine.spawnAgent<CounterEvent, unknown>({ name: 'second', machine: counter });
    second.send({ type: 'add', by: 10 });
    engine.spawnAgent({
      name: 'sum',
      receive: ({ results }: { results: Array<{ value?: unknown }> }) => results.reduce((sum, result) => sum + Number(result.value), 0),
    });
    const team = engine.team({ name: 'team', members: ['counter', 'second'], synthesizer: 'sum' });
    const polled = settledOutcome(team.ask({ type: 'get' }));
    await clock.runAll();
    expect(await polled).toEqual({ ok: true, value: 3 + 10 });
  });

  it('keeps exact counts through a large mailbox', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent<CounterEvent, unknown>({ name: 'counter', machine: counter, mailbox: { capacity: 20_000 } });
    for (let n = 0; n < 25_000; n++) agent.send({ type: 'add', by: 1 });
    await clock.runAll();
    // The first message is taken at once; 20,000 wait behind it, and the rest find the mailbox full.
    await expect(agent.ask({ type: 'get' })).resolves.toBe(20_001);
    expect(agent.stats()).toMatchObject({ received: 25_001, handled: 20_002, failed: 0, dropped: 4_999, maxMailboxDepth: 20_000 });
  });

  it('refuses options with both receive and machine, with neither, or with a machine that is none', () => {
    const { engine } = engineOnVirtualTime();
    const invalid = (options: unknown, option: string) =>
      expect(() => engine.spawnAgent(options as never)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option }) }),
      );
    invalid({ name: 'both', machine: counter, receive: () => 1 }, 'machine');
    invalid({ name: 'neither' }, 'receive');
    invalid({ name: 'not a machine', machine: { transition: 'no' } }, 'machine');
    invalid({ name: 'a function', machine: () => counter }, 'machine');
    expect(engine.agents()).toEqual([]);
  });

  it('is drained by shutdown: the work its machine started for a message is waited for', async () => {
    const slow = setup({}).createMachine({
      initial: 'idle',
      states: { idle: { on: { think: 'thinking' } }, thinking: { after: { 40: { target: 'idle', actions: reply('thought') } } } },
    });
    const { engine, clock } = engineOnVirtualTime();
    const agent = engine.spawnAgent({ name: 'slow', machine: slow });
    const thought = settledOutcome(agent.ask({ type: 'think' }));
    await flush();
    const report = engine.shutdown({ graceMs: 1_000 });
    await clock.runAll();
    expect((await report).phases.map(({ phase, at }) => [phase, at])).toEqual([
      ['draining', 0],
      ['stopped', 40],
    ]);
    expect(await thought).toEqual({ ok: true, value: 'thought' });
    expect(clock.pendingTimers).toBe(0);
  });
});
