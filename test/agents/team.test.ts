import { createEngine, isMezanError, MezanError, VirtualClock } from '../../src';
import type { AgentContext, TeamMemberResult, TeamOptions, TeamSynthesis } from '../../src';
import { thrownBy } from '../fixtures/engine-harness';
import { settledOutcome } from '../fixtures/settled-outcome';

function engineOnVirtualTime() {
  const clock = new VirtualClock();
  return { clock, engine: createEngine({ clock, logger: false, concurrency: 1 }) };
}

interface Finding {
  readonly by: string;
  readonly confidence: number;
}

/** A member that takes `ms` of the clock and answers with its finding, or throws `failure` when given one. */
function member(by: string, ms: number, confidence: number, failure?: Error) {
  const signals: AbortSignal[] = [];
  const receive = async (_problem: string, ctx: AgentContext): Promise<Finding> => {
    signals.push(ctx.signal);
    await ctx.sleep(ms);
    if (failure !== undefined) throw failure;
    return { by, confidence };
  };
  return { receive, signals };
}

/** The deep-think synthesizer: a placeholder (a failed member) counts with confidence 0. */
function synthesize({ message, results }: TeamSynthesis<string, Finding>) {
  const confidences = results.map((result) => (result.ok ? result.value!.confidence : 0));
  return { problem: message, from: results.map((result) => result.agent), confidence: confidences.reduce((a, b) => a + b, 0) / results.length };
}

const codeOf = (error: unknown): unknown => (isMezanError(error) ? error.code : error);

describe('engine.team', () => {
  it('thinks deep: asks the Analyzer, Optimizer and Validator at once, then the Synthesizer with their results in member order', async () => {
    const { engine, clock } = engineOnVirtualTime();
    const analyzer = engine.spawnAgent({ name: 'analyzer', receive: member('analyzer', 30, 0.75).receive });
    engine.spawnAgent({ name: 'optimizer', receive: member('optimizer', 50, 0.5).receive });
    engine.spawnAgent({ name: 'validator', receive: member('validator', 20, 0.25).receive });
    const heard: TeamSynthesis<string, Finding>[] = [];
    engine.spawnAgent<TeamSynthesis<string, Finding>>({
      name: 'synthesizer',
      receive: async (synthesis, ctx) => {
        heard.push(synthesis);
        await ctx.sleep(5);
        return synthesize(synthesis);
      },
    });
    const deepThink = engine.team<string, ReturnType<typeof synthesize>>({
      name: 'deep-think',
      members: [analyzer, 'optimizer', 'validator'],
      synthesizer: 'synthesizer',
      memberTimeoutMs: 100,
      timeoutMs: 500,
    });
    const answer = settledOutcome(deepThink.ask('route 40 trucks'));
    await clock.runAll();
    expect(await answer).toEqual({ ok: true, value: { problem: 'route 40 trucks', from: ['analyzer', 'optimizer', 'validator'], confidence: 0.5 } });
    // In parallel: the slowest member (50 ms), then the synthesizer (5 ms).
    expect(clock.now()).toBe(55);
    expect(heard).toEqual([
      {
        message: 'route 40 trucks',
        results: [
          { agent: 'analyzer', ok: true, value: { by: 'analyzer', confidence: 0.75 }, durationMs: 30 },
          { agent: 'optimizer', ok: true, value: { by: 'optimizer', confidence: 0.5 }, durationMs: 50 },
          { agent: 'validator', ok: true, value: { by: 'validator', confidence: 0.25 }, durationMs: 20 },
        ],
      },
    ]);
    expect(engine.agent('deep-think')).toBe(deepThink);
    expect(deepThink.stats()).toMatchObject({ received: 1, handled: 1, totalMs: 55 });
  });

  it("gives a member that fails or passes memberTimeoutMs a placeholder result with ok: false, and aborts the late one's signal", async () => {
    const { engine, clock } = engineOnVirtualTime();
    const failure = new Error('validator broke');
    engine.spawnAgent({ name: 'analyzer', receive: member('analyzer', 10, 0.9).receive });
    const slow = member('optimizer', 500, 0.8);
    engine.spawnAgent({ name: 'optimizer', receive: slow.receive });
    engine.spawnAgent({ name: 'validator', receive: member('validator', 5, 0.7, failure).receive });
    const heard: TeamMemberResult[][] = [];
    engine.spawnAgent<TeamSynthesis<string, Finding>>({
      name: 'synthesizer',
      receive: (synthesis) => (heard.push([...synthesis.results]), synthesize(synthesis)),
    });
    const team = engine.team({ name: 't', members: ['analyzer', 'optimizer', 'validator'], synthesizer: 'synthesizer', memberTimeoutMs: 100 });
    const answer = settledOutcome(team.ask('p'));
    await clock.runAll();
    expect(await answer).toMatchObject({ ok: true, value: { confidence: 0.3 } });
    const [analyzer, optimizer, validator] = heard[0]!;
    expect(analyzer).toEqual({ agent: 'analyzer', ok: true, value: { by: 'analyzer', confidence: 0.9 }, durationMs: 10 });
    expect(optimizer).toMatchObject({ agent: 'optimizer', ok: false, durationMs: 100 });
    expect(codeOf(optimizer!.error)).toBe('E_TIMEOUT');
    expect(slow.signals[0]!.aborted).toBe(true);
    expect(validator).toMatchObject({ agent: 'validator', ok: false, durationMs: 5 });
    expect(codeOf(validator!.error)).toBe('E_AGENT_FAILED');
    expect((validator!.error as MezanError).cause).toBe(failure);
  });

  it("with onMemberFailure 'fail', fails the whole ask at the first failure and withdraws the other members' asks", async () => {
    const { engine, clock } = engineOnVirtualTime();
    const slow = member('analyzer', 100, 0.9);
    engine.spawnAgent({ name: 'analyzer', receive: slow.receive });
    engine.spawnAgent({ name: 'validator', receive: member('validator', 5, 0.7, new Error('broke')).receive });
    let synthesized = 0;
    engine.spawnAgent({ name: 'synthesizer', receive: () => ++synthesized });
    const team = engine.team({ name: 't', members: ['analyzer', 'validator'], synthesizer: 'synthesizer', onMemberFailure: 'fail' });
    const answer = settledOutcome(team.ask('p'));
    await clock.advanceBy(5);
    const outcome = await answer;
    expect(outcome.code).toBe('E_AGENT_FAILED');
    const cause = (outcome.error as MezanError).cause as MezanError;
    expect([cause.code, cause.details?.agent]).toEqual(['E_AGENT_FAILED', 'validator']);
    expect(slow.signals[0]!.aborted).toBe(true);
    await clock.runAll();
    expect(synthesized).toBe(0);
    expect(engine.agent('analyzer')!.stats()).toMatchObject({ received: 1, handled: 0, failed: 1 });
  });

  it('bounds the whole ask with timeoutMs, members and synthesizer together, and withdraws what is still out', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'analyzer', receive: member('analyzer', 30, 0.9).receive });
    const slowSynthesizer = member('synthesizer', 1_000, 1);
    engine.spawnAgent({ name: 'synthesizer', receive: slowSynthesizer.receive });
    const team = engine.team({ name: 't', members: ['analyzer'], synthesizer: 'synthesizer', timeoutMs: 80 });
    const answer = settledOutcome(team.ask('p'));
    await clock.runAll();
    const outcome = await answer;
    expect(outcome.code).toBe('E_AGENT_FAILED');
    expect(((outcome.error as MezanError).cause as MezanError).code).toBe('E_TIMEOUT');
    expect(slowSynthesizer.signals[0]!.aborted).toBe(true);
    expect(team.stats()).toMatchObject({ failed: 1, totalMs: 80 });
    // The next ask starts afresh.
    await engine.agent('synthesizer')!.stop();
    engine.spawnAgent({ name: 'synthesizer', receive: () => 'done' });
    const next = settledOutcome(team.ask('q'));
    await clock.runAll();
    expect(await next).toEqual({ ok: true, value: 'done' });
  });

  it("withdraws the members' asks when the team's own ask is abandoned", async () => {
    const { engine, clock } = engineOnVirtualTime();
    const slow = member('analyzer', 100, 0.9);
    engine.spawnAgent({ name: 'analyzer', receive: slow.receive });
    engine.spawnAgent({ name: 'synthesizer', receive: () => 'never' });
    const team = engine.team({ name: 't', members: ['analyzer'], synthesizer: 'synthesizer' });
    const answer = settledOutcome(team.ask('p', { timeoutMs: 10 }));
    await clock.runAll();
    expect((await answer).code).toBe('E_TIMEOUT');
    expect(slow.signals[0]!.aborted).toBe(true);
    expect(engine.agent('synthesizer')!.stats().received).toBe(0);
  });

  it('fails only that ask when the synthesizer throws, and settles it once', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'm', receive: async () => 1 });
    let calls = 0;
    engine.spawnAgent({
      name: 's',
      receive: () => {
        if (++calls === 1) throw new Error('synthesizer broke');
        return 'ok';
      },
    });
    const team = engine.team({ name: 't', members: ['m'], synthesizer: 's' });
    const first = settledOutcome(team.ask(1));
    const second = settledOutcome(team.ask(2));
    await clock.runAll();
    expect((await first).code).toBe('E_AGENT_FAILED');
    expect(await second).toEqual({ ok: true, value: 'ok' });
    expect(team.stats()).toMatchObject({ received: 2, handled: 1, failed: 1 });
  });

  it('finishes the asks it holds when shutdown drains, and stops with the engine', async () => {
    const { engine, clock } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'analyzer', receive: member('analyzer', 30, 0.75).receive });
    engine.spawnAgent({ name: 'synthesizer', receive: synthesize });
    const team = engine.team({ name: 't', members: ['analyzer'], synthesizer: 'synthesizer' });
    const answers = ['p', 'q'].map((problem) => settledOutcome(team.ask(problem)));
    await clock.advanceBy(10);
    const report = engine.shutdown({ graceMs: 1_000 });
    await clock.runAll();
    expect(await Promise.all(answers)).toEqual([
      { ok: true, value: { problem: 'p', from: ['analyzer'], confidence: 0.75 } },
      { ok: true, value: { problem: 'q', from: ['analyzer'], confidence: 0.75 } },
    ]);
    expect((await report).phases.map(({ phase, at }) => [phase, at])).toEqual([
      ['draining', 10],
      ['stopped', 60],
    ]);
    expect(team.status).toBe('stopped');
    expect(engine.agents()).toEqual([]);
  });

  it('refuses bad options with E_INVALID_OPTION naming the option', () => {
    const { engine } = engineOnVirtualTime();
    engine.spawnAgent({ name: 'a', receive: async () => 1 });
    const cases: [unknown, string][] = [
      [null, 'options'],
      [{ name: 't', synthesizer: 'a' }, 'members'],
      [{ name: 't', members: 'a', synthesizer: 'a' }, 'members'],
      [{ name: 't', members: ['a', 3], synthesizer: 'a' }, 'members[1]'],
      [{ name: 't', members: ['a'] }, 'synthesizer'],
      [{ name: 't', members: ['a', 't'], synthesizer: 'a' }, 'members[1]'],
      [{ name: 't', members: ['a'], synthesizer: 't' }, 'synthesizer'],
      [{ name: 't', members: ['a'], synthesizer: { name: 'a' } }, 'synthesizer'],
      [{ name: 't', members: ['a'], synthesizer: 'a', memberTimeoutMs: -1 }, 'memberTimeoutMs'],
      [{ name: 't', members: ['a'], synthesizer: 'a', timeoutMs: '5' }, 'timeoutMs'],
      [{ name: 't', members: ['a'], synthesizer: 'a', onMemberFailure: 'skip' }, 'onMemberFailure'],
      [{ name: 't', members: ['a'], synthesizer: 'a', memberTimeout: 5 }, 'memberTimeout'],
      [{ name: 't', members: ['a'], synthesizer: 'a', mailbox: { capacity: 0 } }, 'mailbox.capacity'],
      [{ name: 'a', members: ['b'], synthesizer: 'b' }, 'name'],
    ];
    for (const [options, option] of cases) {
      const error = thrownBy(() => engine.team(options as TeamOptions));
      expect([error.code, error.details.option]).toEqual(['E_INVALID_OPTION', option]);
    }
    expect(() => engine.team({ name: 't', members: ['a'], synthesizer: 'a', memberTimeout: 5 } as TeamOptions)).toThrow(
      /did you mean "memberTimeoutMs"/,
    );
  });
});
