import { createEngine, isMezanError, MezanError, seededRandom, VirtualClock } from '../../src';
import type { Agent, Engine, RouterOptions, RouterOutcome } from '../../src';
import type { Logger } from '../../src/logger';
import { thrownBy } from '../fixtures/engine-harness';
import { settledOutcome } from '../fixtures/settled-outcome';

/** A logger that keeps its warnings, whatever child it is asked for. */
function warningLogger() {
  const warnings: { message: string; details: unknown }[] = [];
  const logger: Logger = {
    error: () => undefined,
    warn: (message, details) => warnings.push({ message, details }),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  return { logger, warnings };
}

function engineOnVirtualTime(seed = 1, logger: Logger | false = false) {
  const clock = new VirtualClock();
  return { clock, engine: createEngine({ clock, logger, concurrency: 1, random: seededRandom(seed) }) };
}

/** An arm that takes `latencyMs` of the clock and replies with its name with probability `p`, else throws (its own seeded draws). */
function spawnArm(engine: Engine, name: string, p: number, latencyMs: number, seed: number, handled: string[]): Agent<number, string> {
  const draw = seededRandom(seed);
  return engine.spawnAgent<number, string>({
    name,
    receive: async (_, ctx) => {
      handled.push(name);
      await ctx.sleep(latencyMs);
      if (draw() < p) return name;
      throw new Error(`${name} gave up`);
    },
  });
}

/** Asks `router` `count` times, one after the other, running the clock for each. */
async function askInTurn(clock: VirtualClock, router: Agent<number, string>, count: number) {
  const outcomes = [];
  for (let i = 0; i < count; i++) {
    const outcome = settledOutcome(router.ask(i));
    await clock.runAll();
    outcomes.push(await outcome);
  }
  return outcomes;
}

/** Three arms paying 0.2, 0.5 and 0.8, 300 asks through a router of `strategy` on an engine seeded with `seed`. */
async function runThreeArms(strategy: RouterOptions['strategy'], seed: number) {
  const { engine, clock } = engineOnVirtualTime(seed);
  const handled: string[] = [];
  const arms = [
    spawnArm(engine, 'weak', 0.2, 5, 11, handled),
    spawnArm(engine, 'fair', 0.5, 5, 12, handled),
    spawnArm(engine, 'strong', 0.8, 5, 13, handled),
  ];
  const router = engine.router<number, string>({ name: 'solver', arms, strategy });
  const outcomes = await askInTurn(clock, router, 300);
  return { engine, router, handled, outcomes };
}

describe('engine.router', () => {
  it.each([['thompson' as const], ['ucb1' as const], [{ type: 'epsilon-greedy' as const, epsilon: 0.1 }]])(
    'pulls the best of three arms most with %p, one pull and one reward per ask',
    async (strategy) => {
      const { router, handled, outcomes } = await runThreeArms(strategy, 7);
      const { arms } = router.stats();
      expect(arms.map((arm) => arm.name)).toEqual(['weak', 'fair', 'strong']);
      expect(arms.reduce((sum, arm) => sum + arm.pulls, 0)).toBe(300);
      expect(arms.map((arm) => arm.pulls)).toEqual(['weak', 'fair', 'strong'].map((name) => handled.filter((h) => h === name).length));
      expect(arms[2]!.pulls).toBeGreaterThan(arms[0]!.pulls + arms[1]!.pulls);
      // Each mean reward is the share of that arm's asks that were answered (the default reward).
      const replies = outcomes.filter((o) => o.ok).length;
      expect(arms.reduce((sum, arm) => sum + arm.meanReward * arm.pulls, 0)).toBeCloseTo(replies, 6);
      expect(arms[2]!.meanReward).toBeGreaterThan(arms[0]!.meanReward);
      expect(router.stats()).toMatchObject({ received: 300, handled: replies, failed: 300 - replies, dropped: 0 });
    },
  );

  it('makes the same choices with the same seed, and other choices with another', async () => {
    const first = await runThreeArms('thompson', 3);
    const again = await runThreeArms('thompson', 3);
    const other = await runThreeArms('thompson', 4);
    expect(again.handled).toEqual(first.handled);
    expect(again.router.stats()).toEqual(first.router.stats());
    expect(other.handled).not.toEqual(first.handled);
  });

  it("replies with the arm's reply, and fails with the arm's error as the cause", async () => {
    const { engine } = engineOnVirtualTime();
    const failure = new Error('no answer');
    engine.spawnAgent({ name: 'broken', receive: () => Promise.reject(failure) });
    const echo = engine.spawnAgent<string, string>({ name: 'echo', receive: async (message) => `echo ${message}` });
    const toEcho = engine.router<string, string>({ name: 'to-echo', arms: [echo] });
    await expect(toEcho.ask('hi')).resolves.toBe('echo hi');
    const toBroken = engine.router({ name: 'to-broken', arms: ['broken'] });
    const outcome = await settledOutcome(toBroken.ask('hi'));
    expect(outcome.code).toBe('E_AGENT_FAILED');
    const cause = (outcome.error as MezanError).cause;
    expect(isMezanError(cause) && cause.code).toBe('E_AGENT_FAILED');
    expect((cause as MezanError).cause).toBe(failure);
  });

  it('scores each ask once with its outcome, timed on the engine clock', async () => {
    const { engine, clock } = engineOnVirtualTime();
    let calls = 0;
    engine.spawnAgent<number, number>({
      name: 'slow-doubler',
      receive: async (n, ctx) => {
        await ctx.sleep(n);
        if (n > 30) throw new Error('too big');
        return n * 2;
      },
    });
    const seen: RouterOutcome<number>[] = [];
    const router = engine.router<number, number>({
      name: 'r',
      arms: ['slow-doubler'],
      reward: (outcome) => {
        calls++;
        seen.push(outcome);
        return outcome.ok ? 1 - outcome.durationMs / 100 : 0;
      },
    });
    const small = settledOutcome(router.ask(20));
    const big = settledOutcome(router.ask(40));
    await clock.runAll();
    expect(await small).toEqual({ ok: true, value: 40 });
    expect((await big).code).toBe('E_AGENT_FAILED');
    expect(calls).toBe(2);
    expect(seen[0]).toEqual({ ok: true, value: 40, durationMs: 20 });
    // The second ask waited 20 ms in the router's mailbox; its arm took 40.
    expect(seen[1]).toMatchObject({ ok: false, durationMs: 40 });
    expect(isMezanError(seen[1]!.error) && seen[1]!.error.code).toBe('E_AGENT_FAILED');
    expect(router.stats().arms).toEqual([{ name: 'slow-doubler', pulls: 2, meanReward: 0.4 }]);
  });

  it.each([
    ['throws', 0, () => { throw new Error('scorer broke'); }], // prettier-ignore
    ['returns NaN', 0, () => Number.NaN],
    ['returns a promise', 0, () => Promise.reject(new Error('async scorer'))],
    ['returns 7', 1, () => 7],
  ])('contains a reward function that %s: the ask still replies, the reward counts as %p, a warning says why', async (_, counted, reward) => {
    const { logger, warnings } = warningLogger();
    const { engine } = engineOnVirtualTime(1, logger);
    engine.spawnAgent({ name: 'ok', receive: async () => 'fine' });
    const router = engine.router({ name: 'r', arms: ['ok'], reward: reward as () => number });
    await expect(router.ask('x')).resolves.toBe('fine');
    await expect(router.ask('y')).resolves.toBe('fine');
    expect(router.stats().arms).toEqual([{ name: 'ok', pulls: 2, meanReward: counted }]);
    expect(warnings.filter((w) => w.message === 'a router contained its reward function')).toHaveLength(2);
    expect(warnings[0]!.details).toMatchObject({ arm: 'ok', code: 'E_INVALID_OPTION' });
  });

  it('answers with what the arm said, whatever the reward function does to the outcome it is given', async () => {
    const { engine } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'ok', receive: async () => 'fine' });
    const router = engine.router({
      name: 'r',
      arms: ['ok'],
      reward: (outcome) => {
        Object.assign(outcome, { ok: false, error: new Error('forged') });
        return 1;
      },
    });
    await expect(router.ask('x')).resolves.toBe('fine');
    expect(router.stats().arms).toEqual([{ name: 'ok', pulls: 1, meanReward: 0 }]);
  });

  it("scores a router's ask that timed out as a timeout, withdrawing the arm's ask", async () => {
    const { engine, clock } = engineOnVirtualTime();
    let armSignal: AbortSignal | undefined;
    engine.spawnAgent({
      name: 'stuck',
      receive: (_, ctx) => {
        armSignal = ctx.signal;
        return new Promise(() => undefined);
      },
    });
    const seen: RouterOutcome[] = [];
    const router = engine.router({ name: 'r', arms: ['stuck'], reward: (o) => (seen.push(o), 1) });
    const outcome = settledOutcome(router.ask('x', { timeoutMs: 25 }));
    await clock.runAll();
    expect((await outcome).code).toBe('E_TIMEOUT');
    expect(armSignal?.aborted).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ ok: false, durationMs: 25 });
    expect(isMezanError(seen[0]!.error) && seen[0]!.error.code).toBe('E_TIMEOUT');
  });

  it('finds an arm given by name at each ask; an arm with no running agent scores 0', async () => {
    const { engine } = engineOnVirtualTime();
    const router = engine.router({ name: 'r', arms: ['later'], strategy: 'ucb1' });
    const missing = await settledOutcome(router.ask(1));
    expect(missing.code).toBe('E_AGENT_FAILED');
    expect(isMezanError((missing.error as MezanError).cause) && ((missing.error as MezanError).cause as MezanError).code).toBe('E_AGENT_STOPPED');
    engine.spawnAgent({ name: 'later', receive: async () => 'here' });
    await expect(router.ask(2)).resolves.toBe('here');
    expect(router.stats().arms).toEqual([{ name: 'later', pulls: 2, meanReward: 0.5 }]);
  });

  it('with concurrency, routes asks made at once over the arms before any reward is known', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const handled: string[] = [];
    const arms = ['a', 'b', 'c'].map((name, index) => spawnArm(engine, name, 1, 10, index, handled));
    const router = engine.router<number, string>({ name: 'r', arms, strategy: 'ucb1', concurrency: 3 });
    const replies = Promise.all([router.ask(1), router.ask(2), router.ask(3)]);
    await clock.runAll();
    expect(await replies).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(10);
    expect(router.stats().arms.map((arm) => arm.pulls)).toEqual([1, 1, 1]);
  });

  it('scores an ask its crash cut short once, as a failure, and keeps learning after the restart', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const seen: RouterOutcome[] = [];
    engine.spawnAgent({ name: 'slow', receive: async (_, ctx) => (await ctx.sleep(10), 'done') });
    const router = engine.router({ name: 'r', arms: ['slow'], reward: (o) => (seen.push(o), o.ok ? 1 : 0) });
    const cut = settledOutcome(router.ask(1));
    await clock.advanceBy(5);
    engine.inject({ type: 'agent.crash', agent: 'r' });
    await clock.runAll();
    expect((await cut).code).toBe('E_AGENT_FAILED');
    const next = settledOutcome(router.ask(2));
    await clock.runAll();
    expect(await next).toEqual({ ok: true, value: 'done' });
    expect(seen.map((o) => o.ok)).toEqual([false, true]);
    expect(router.stats()).toMatchObject({ restarts: 1, arms: [{ name: 'slow', pulls: 2, meanReward: 0.5 }] });
  });

  it('is an agent like any other: listed, found by name, asked by other agents, stopped', async () => {
    const { engine } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'a', receive: async () => 'A' });
    const router = engine.router({ name: 'r', arms: ['a'] });
    expect(engine.agent('r')).toBe(router);
    expect(engine.agents()).toContain(router);
    expect(Object.keys(router.stats())).toContain('arms');
    const caller = engine.spawnAgent({ name: 'caller', receive: (_, ctx) => ctx.ask(router, 'q') });
    await expect(caller.ask('go')).resolves.toBe('A');
    await router.stop();
    expect(router.status).toBe('stopped');
    expect(engine.agent('r')).toBeUndefined();
    expect((await settledOutcome(router.ask('late'))).code).toBe('E_AGENT_STOPPED');
  });

  it('refuses bad options with E_INVALID_OPTION naming the option', async () => {
    const { engine } = engineOnVirtualTime();
    const a = engine.spawnAgent({ name: 'a', receive: async () => 1 });
    const stopped = engine.spawnAgent({ name: 'gone', receive: async () => 1 });
    await stopped.stop();
    const cases: [unknown, string][] = [
      [undefined, 'options'],
      [{ name: 'r' }, 'arms'],
      [{ name: 'r', arms: [] }, 'arms'],
      [{ name: 'r', arms: [''] }, 'arms[0]'],
      [{ name: 'r', arms: ['a', { name: 'b', ask: () => undefined }] }, 'arms[1]'],
      [{ name: 'r', arms: [stopped] }, 'arms[0]'],
      [{ name: 'r', arms: [a, 'a'] }, 'arms[1]'],
      [{ name: 'r', arms: ['a', 'r'] }, 'arms[1]'],
      [{ name: 'r', arms: ['a'], strategy: 'ucb' }, 'strategy'],
      [{ name: 'r', arms: ['a'], strategy: { type: 'epsilon-greedy', epsilon: 2 } }, 'strategy.epsilon'],
      [{ name: 'r', arms: ['a'], reward: 1 }, 'reward'],
      [{ name: 'r', arms: ['a'], stratgy: 'ucb1' }, 'stratgy'],
      [{ name: '', arms: ['a'] }, 'name'],
      [{ name: 'a', arms: ['b'] }, 'name'],
      [{ name: 'r', arms: ['a'], concurrency: 0 }, 'concurrency'],
    ];
    for (const [options, option] of cases) {
      const error = thrownBy(() => engine.router(options as RouterOptions));
      expect([error.code, error.details.option]).toEqual(['E_INVALID_OPTION', option]);
    }
    expect(() => engine.router({ name: 'r', arms: ['a'], stratgy: 'ucb1' } as RouterOptions)).toThrow(/did you mean "strategy"/);
    expect(engine.agents().map((agent) => agent.name)).toEqual(['a']);
  });
});
