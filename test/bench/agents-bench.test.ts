import { formatAgentsReport, runAgentsBench, type AgentsBenchConfig } from '../../bench/agents.bench';

const TINY: AgentsBenchConfig = { asks: 50, runs: 2, warmupRounds: 1, messages: 3_000, senders: 16, messageRuns: 1 };

describe('the agents bench', () => {
  it('races asks against an async function and a bare XState pair, and checks that one agent handled every message of 16 senders', async () => {
    const lines: string[] = [];
    const result = await runAgentsBench(TINY, (line) => lines.push(line));
    expect(result.asks.map((race) => race.peer)).toEqual(['async function', 'XState request/reply']);
    for (const race of result.asks) {
      expect(race.runs.mezan).toHaveLength(TINY.runs);
      expect(race.runs.peer).toHaveLength(TINY.runs);
      expect(race.ratio).toBeCloseTo(race.mezanPerSecond / race.peerPerSecond, 10);
    }
    expect(result.mailbox.exact).toBe(true);
    // The final ask that marks the end is handled too.
    expect(result.mailbox.stats).toMatchObject({ received: TINY.messages + 1, handled: TINY.messages + 1, failed: 0, dropped: 0, mailboxDepth: 0 });
    // The senders outran the agent: messages waited in its mailbox, and none was lost.
    expect(result.mailbox.stats.maxMailboxDepth).toBeGreaterThan(1);
    expect(lines.filter((line) => line.startsWith('agents ask vs'))).toHaveLength(2 * 2 * TINY.runs);
    const report = formatAgentsReport(result);
    expect(report).toContain('3,000 sent from 16 concurrent tasks');
    expect(report).toContain('PASS: handled 3,000 of 3,000 sent, failed 0, dropped 0');
    expect(report).toContain('50 asks against a bare XState request/reply pair');
  });
});
