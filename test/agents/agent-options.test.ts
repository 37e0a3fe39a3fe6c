import { AGENT_DEFAULTS, createEngine, isMezanError, VirtualClock } from '../../src';
import { resolveAgentOptions } from '../../src/agents/agent-options';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';

const receive = (): string => 'ok';

/** The error `fn` throws: its code and the option it names. */
function thrownBy(fn: () => unknown): { code: string | undefined; option: unknown } {
  try {
    fn();
  } catch (error) {
    return { code: isMezanError(error) ? error.code : undefined, option: isMezanError(error) ? error.details.option : undefined };
  }
  throw new Error('did not throw');
}

/** A logger that keeps what is logged at `warn` (the engine's child loggers included) and drops the rest. */
function warningsLogger() {
  const warnings: unknown[] = [];
  const logger = {
    error: () => undefined,
    warn: (...args: unknown[]) => void warnings.push(args),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  return { warnings, logger };
}

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

describe('spawnAgent options', () => {
  it('fills in the defaults', () => {
    expect(resolveAgentOptions({ name: 'a', receive })).toEqual({
      name: 'a',
      receive,
      mailbox: { capacity: 1_000, overflow: 'reject' },
      concurrency: 1,
      restart: { maxRestarts: 3, withinMs: 10_000 },
    });
    expect(AGENT_DEFAULTS).toEqual({
      mailbox: { capacity: 1_000, overflow: 'reject' },
      concurrency: 1,
      restart: { maxRestarts: 3, withinMs: 10_000 },
    });
    expect(Object.isFrozen(AGENT_DEFAULTS)).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['no options', undefined, 'options'],
    ['null', null, 'options'],
    ['an array', [], 'options'],
    ['a revoked proxy', revoked(), 'options'],
    ['no name', { receive }, 'name'],
    ['an empty name', { name: ' ', receive }, 'name'],
    ['a number for a name', { name: 7, receive }, 'name'],
    ['no handler', { name: 'a' }, 'receive'],
    ['a string for a handler', { name: 'a', receive: 'reply' }, 'receive'],
    ['a misspelt option', { name: 'a', receive, concurency: 2 }, 'concurency'],
    ['a machine beside a handler', { name: 'a', receive, machine: {} }, 'machine'],
    ['concurrency 0', { name: 'a', receive, concurrency: 0 }, 'concurrency'],
    ['fractional concurrency', { name: 'a', receive, concurrency: 1.5 }, 'concurrency'],
    ['a mailbox of null', { name: 'a', receive, mailbox: null }, 'mailbox'],
    ['a misspelt mailbox option', { name: 'a', receive, mailbox: { capacty: 3 } }, 'mailbox.capacty'],
    ['capacity 0', { name: 'a', receive, mailbox: { capacity: 0 } }, 'mailbox.capacity'],
    ['capacity Infinity', { name: 'a', receive, mailbox: { capacity: Infinity } }, 'mailbox.capacity'],
    ['an unknown overflow', { name: 'a', receive, mailbox: { overflow: 'drop-newest' } }, 'mailbox.overflow'],
    ['a restart of 3', { name: 'a', receive, restart: 3 }, 'restart'],
    ['a misspelt restart option', { name: 'a', receive, restart: { maxRestart: 3 } }, 'restart.maxRestart'],
    ['negative maxRestarts', { name: 'a', receive, restart: { maxRestarts: -1 } }, 'restart.maxRestarts'],
    ['withinMs 0', { name: 'a', receive, restart: { withinMs: 0 } }, 'restart.withinMs'],
    ['withinMs NaN', { name: 'a', receive, restart: { withinMs: NaN } }, 'restart.withinMs'],
  ])('refuses %s with E_INVALID_OPTION naming the option', (_case, options, option) => {
    const engine = createEngine({ clock: new VirtualClock(), logger: false });
    expect(thrownBy(() => engine.spawnAgent(options as never))).toEqual({ code: 'E_INVALID_OPTION', option });
    expect(engine.agents()).toEqual([]);
  });

  it('names the closest known key of a misspelt one', () => {
    expect(() => resolveAgentOptions({ name: 'a', receive, mailbx: {} })).toThrow(/Unknown option `mailbx`.*mailbox/);
  });

  it('refuses a name a running agent has, and takes it again once that agent stopped', async () => {
    const engine = createEngine({ clock: new VirtualClock(), logger: false });
    const first = engine.spawnAgent({ name: 'a', receive });
    expect(thrownBy(() => engine.spawnAgent({ name: 'a', receive }))).toEqual({ code: 'E_INVALID_OPTION', option: 'name' });
    await first.stop();
    expect(engine.spawnAgent({ name: 'a', receive }).status).toBe('idle');
  });
});

describe('ask options and hostile callers', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'options'],
    ['a misspelt key', { timeout: 5 }, 'timeout'],
    ['a negative timeoutMs', { timeoutMs: -1 }, 'timeoutMs'],
    ['a string timeoutMs', { timeoutMs: '5' }, 'timeoutMs'],
    ['a signal that is no AbortSignal', { signal: { aborted: false } }, 'signal'],
  ])('rejects an ask with %s as options with E_INVALID_OPTION, and delivers nothing', async (_case, options, option) => {
    const engine = createEngine({ clock: new VirtualClock(), logger: false });
    const agent = engine.spawnAgent({ name: 'a', receive });
    const result = await settledOutcome(agent.ask('m', options as never));
    expect(result).toMatchObject({ ok: false, code: 'E_INVALID_OPTION' });
    expect((result.error as { details: { option: string } }).details.option).toBe(option);
    expect(agent.stats().received).toBe(0);
  });

  it('takes any value as a message and as a reply; a reply no promise can hold fails the ask with E_AGENT_FAILED', async () => {
    const engine = createEngine({ clock: new VirtualClock(), logger: false });
    const hostile = revoked();
    const echo = engine.spawnAgent({ name: 'echo', receive: (message: unknown) => (message === hostile ? 'seen' : message) });
    await expect(echo.ask(hostile)).resolves.toBe('seen');
    await expect(echo.ask(undefined)).resolves.toBeUndefined();
    const symbol = Symbol('s');
    await expect(echo.ask(symbol)).resolves.toBe(symbol);
    // Resolving a promise with a revoked proxy reads its `then`, which throws.
    const revokedReply = await settledOutcome(engine.spawnAgent({ name: 'revoked', receive: () => revoked() }).ask('m'));
    expect(revokedReply).toMatchObject({ ok: false, code: 'E_AGENT_FAILED' });
    expect(echo.stats()).toMatchObject({ received: 3, handled: 3 });
  });

  it('a handler that throws on a sent message is logged, and the agent goes on', async () => {
    const { warnings, logger } = warningsLogger();
    const engine = createEngine({ clock: new VirtualClock(), logger });
    const agent = engine.spawnAgent({
      name: 'a',
      receive: (message: string) => {
        if (message === 'bad') throw new Error('bad message');
        return message;
      },
    });
    agent.send('bad');
    await expect(agent.ask('good')).resolves.toBe('good');
    expect(warnings).toEqual([
      ['an agent failed to handle a sent message', expect.objectContaining({ agent: 'a', error: expect.stringContaining('bad message') })],
    ]);
    expect(agent.stats()).toMatchObject({ received: 2, handled: 1, failed: 1 });
  });

  it('a message sent from outside after shutdown began is refused and logged', async () => {
    const { warnings, logger } = warningsLogger();
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger });
    const agent = engine.spawnAgent({ name: 'a', receive });
    const report = engine.shutdown();
    agent.send('late');
    await clock.runAll();
    await report;
    expect(warnings).toEqual([['a message sent to an agent after shutdown began was refused', { agent: 'a', code: 'E_SHUTDOWN' }]]);
    expect(agent.stats().received).toBe(0);
  });

  it('a handler’s ctx.send to nobody and a bad ctx.sleep fail only that message', async () => {
    const engine = createEngine({ clock: new VirtualClock(), logger: false });
    const agent = engine.spawnAgent({
      name: 'a',
      receive: async (message: string, ctx) => {
        if (message === 'send') ctx.send('nobody', 1);
        if (message === 'sleep') await ctx.sleep(-1);
        return 'fine';
      },
    });
    const results = await Promise.all(['send', 'sleep', 'other'].map((message) => settledOutcome(agent.ask(message))));
    expect(results.map((result) => result.value ?? result.code)).toEqual(['E_AGENT_FAILED', 'E_AGENT_FAILED', 'fine']);
    expect(results.slice(0, 2).map((result) => ((result.error as Error).cause as { code: string }).code)).toEqual([
      'E_AGENT_STOPPED',
      'E_INVALID_OPTION',
    ]);
  });

  it('an agent whose clock throws stops, answering every message it held, and nothing else fails', async () => {
    const virtual = new VirtualClock();
    let broken = false;
    const clock = {
      now: () => {
        if (broken) throw new Error('clock broke');
        return virtual.now();
      },
      setTimeout: (fn: () => void, ms: number) => virtual.setTimeout(fn, ms),
      clearTimeout: (id: unknown) => virtual.clearTimeout(id as number),
    };
    const engine = createEngine({ clock, logger: false });
    const { receive: manualReceive, calls } = manualHandler();
    const agent = engine.spawnAgent({ name: 'a', receive: manualReceive });
    const asks = [1, 2].map((n) => settledOutcome(agent.ask(n)));
    await flush();
    broken = true;
    calls[0]!.resolve('one');
    const results = await Promise.all(asks);
    expect(results.map((result) => result.code)).toEqual(['E_AGENT_STOPPED', 'E_AGENT_STOPPED']);
    expect(((results[0]!.error as Error).cause as Error).message).toBe('clock broke');
    expect(agent.status).toBe('stopped');
    expect(agent.stats()).toMatchObject({ received: 2, handled: 0, dropped: 2 });
    expect(engine.isAccepting).toBe(true);
  });

  it('refuses an unknown agent in engine.inject, and engine.agent of an unknown name is undefined', () => {
    const engine = createEngine({ clock: new VirtualClock(), logger: false });
    expect(engine.agent('nobody')).toBeUndefined();
    expect(thrownBy(() => engine.inject({ type: 'agent.crash', agent: 'nobody' }))).toEqual({ code: 'E_INVALID_OPTION', option: 'fault.agent' });
  });
});
