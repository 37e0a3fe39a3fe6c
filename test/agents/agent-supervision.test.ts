import { createEngine, MezanError, VirtualClock } from '../../src';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';

function threeAgents(strategy: 'one-for-all' | 'rest-for-one', limit: { maxRestarts?: number; withinMs?: number } = {}) {
  const clock = new VirtualClock();
  const engine = createEngine({ clock, logger: false });
  const handlers = ['a', 'b', 'c'].map(() => manualHandler());
  const [a, b, c] = ['a', 'b', 'c'].map((name, index) => engine.spawnAgent({ name, receive: handlers[index]!.receive }));
  engine.supervise({ strategy, agents: [a!, 'b', c!], ...limit });
  return { clock, engine, agents: [a!, b!, c!] };
}

describe('engine.supervise', () => {
  it("one-for-all: a member's crash restarts every member; what they handled fails, their mailboxes are kept", async () => {
    const { clock, engine, agents } = threeAgents('one-for-all');
    const asks = agents.map((agent) => settledOutcome(agent.ask('work')));
    const waiting = settledOutcome(agents[0]!.ask('waits'));
    await flush();
    engine.inject({ type: 'agent.crash', agent: 'b' });
    expect(agents.map((agent) => agent.status)).toEqual(['restarting', 'restarting', 'restarting']);
    const outcomes = await Promise.all(asks);
    expect(outcomes.map((outcome) => outcome.code)).toEqual(['E_AGENT_FAILED', 'E_AGENT_FAILED', 'E_AGENT_FAILED']);
    expect(((outcomes[0]!.error as MezanError).cause as MezanError).message).toBe('Restarted with its group (one-for-all) after agent "b" crashed');
    await clock.advanceBy(0);
    expect(agents.map((agent) => agent.status)).toEqual(['busy', 'idle', 'idle']);
    expect(agents.map((agent) => agent.stats().restarts)).toEqual([1, 1, 1]);
    expect(agents[0]!.stats()).toMatchObject({ received: 2, failed: 1, mailboxDepth: 0 });
    void waiting;
  });

  it('rest-for-one: the crashed member and those after it restart, those before do not', async () => {
    const { clock, engine, agents } = threeAgents('rest-for-one');
    engine.inject({ type: 'agent.crash', agent: 'b' });
    expect(agents.map((agent) => agent.status)).toEqual(['idle', 'restarting', 'restarting']);
    await clock.advanceBy(0);
    expect(agents.map((agent) => agent.stats().restarts)).toEqual([0, 1, 1]);
    engine.inject({ type: 'agent.crash', agent: 'c' });
    await clock.advanceBy(0);
    expect(agents.map((agent) => agent.stats().restarts)).toEqual([0, 1, 2]);
  });

  it('past its limit within the window, the group stops every member; crashes older than the window are forgotten', async () => {
    const { clock, engine, agents } = threeAgents('one-for-all', { maxRestarts: 1, withinMs: 100 });
    engine.inject({ type: 'agent.crash', agent: 'a' });
    await clock.advanceBy(100);
    engine.inject({ type: 'agent.crash', agent: 'c' });
    await clock.advanceBy(50);
    expect(agents.map((agent) => agent.status)).toEqual(['idle', 'idle', 'idle']);
    const pending = settledOutcome(agents[1]!.ask('late'));
    await flush();
    engine.inject({ type: 'agent.crash', agent: 'b' });
    expect(agents.map((agent) => agent.status)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(engine.agents()).toEqual([]);
    await expect(pending).resolves.toMatchObject({ code: 'E_AGENT_FAILED' });
  });

  it('refuses bad options with E_INVALID_OPTION naming the option', () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    const a = engine.spawnAgent({ name: 'a', receive: () => 1 });
    engine.spawnAgent({ name: 'b', receive: () => 1 });
    const cases: Array<[unknown, string]> = [
      [undefined, 'options'],
      [{ strategy: 'one-for-one', agents: [a] }, 'strategy'],
      [{ strategy: 'one-for-all', agents: [] }, 'agents'],
      [{ strategy: 'one-for-all', agents: ['nobody'] }, 'agents[0]'],
      [{ strategy: 'one-for-all', agents: [a, 'a'] }, 'agents[1]'],
      [{ strategy: 'one-for-all', agents: [a], maxRestarts: -1 }, 'maxRestarts'],
      [{ strategy: 'one-for-all', agents: [a], withinMs: 0 }, 'withinMs'],
      [{ strategy: 'one-for-all', agents: [a], restarts: 1 }, 'restarts'],
    ];
    for (const [options, option] of cases)
      expect(() => engine.supervise(options as never)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option }) }),
      );
    engine.supervise({ strategy: 'one-for-all', agents: ['a'] });
    expect(() => engine.supervise({ strategy: 'rest-for-one', agents: ['b', 'a'] })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ option: 'agents[1]' }) }),
    );
  });
});
