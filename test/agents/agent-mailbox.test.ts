import { createEngine, VirtualClock } from '../../src';
import { flush } from '../fixtures/flush';
import { manualHandler } from '../fixtures/manual-handler';
import { settledOutcome } from '../fixtures/settled-outcome';

function blockedAgent(overflow: 'reject' | 'drop-oldest' | 'wait') {
  const clock = new VirtualClock();
  const engine = createEngine({ clock, logger: false, concurrency: 1 });
  const { receive, calls } = manualHandler();
  const agent = engine.spawnAgent({ name: 'slow', receive, mailbox: { capacity: 2, overflow } });
  return { clock, engine, agent, calls };
}

describe('agent mailbox overflow', () => {
  it("'reject' refuses a message that finds the mailbox full with E_MAILBOX_FULL, and counts it dropped", async () => {
    const { agent, calls } = blockedAgent('reject');
    const asks = [1, 2, 3, 4].map((n) => settledOutcome(agent.ask(n)));
    agent.send(5);
    await flush();
    // 1 runs, 2 and 3 wait, 4 and 5 are refused.
    expect(calls.map((call) => call.message)).toEqual([1]);
    expect(agent.stats()).toMatchObject({ received: 5, dropped: 2, mailboxDepth: 2, maxMailboxDepth: 2 });
    await expect(asks[3]).resolves.toMatchObject({ ok: false, code: 'E_MAILBOX_FULL' });
    for (const expected of [1, 2, 3]) {
      await flush();
      calls[expected - 1]!.resolve(expected * 10);
    }
    expect((await Promise.all(asks)).map((result) => result.value ?? result.code)).toEqual([10, 20, 30, 'E_MAILBOX_FULL']);
    expect(agent.stats()).toMatchObject({ received: 5, handled: 3, failed: 0, dropped: 2, mailboxDepth: 0 });
  });

  it("'drop-oldest' drops the oldest waiting message (its ask fails with E_MAILBOX_FULL) to make room", async () => {
    const { agent, calls } = blockedAgent('drop-oldest');
    const asks = [1, 2, 3, 4, 5].map((n) => settledOutcome(agent.ask(n)));
    await flush();
    expect(agent.stats()).toMatchObject({ received: 5, dropped: 2, mailboxDepth: 2 });
    for (let index = 0; index < 3; index++) {
      await flush();
      calls[index]!.resolve(`reply ${String(calls[index]!.message)}`);
    }
    expect((await Promise.all(asks)).map((result) => result.value ?? result.code)).toEqual([
      'reply 1',
      'E_MAILBOX_FULL',
      'E_MAILBOX_FULL',
      'reply 4',
      'reply 5',
    ]);
    expect(calls.map((call) => call.message)).toEqual([1, 4, 5]);
  });

  it("'wait' keeps senders waiting until there is room, in order, and drops none", async () => {
    const { agent, calls } = blockedAgent('wait');
    const asks = [1, 2, 3, 4, 5].map((n) => settledOutcome(agent.ask(n)));
    await flush();
    expect(agent.stats()).toMatchObject({ received: 5, dropped: 0, mailboxDepth: 2, maxMailboxDepth: 2 });
    for (let index = 0; index < 5; index++) {
      await flush();
      calls[index]!.resolve(index + 1);
    }
    expect((await Promise.all(asks)).map((result) => result.value)).toEqual([1, 2, 3, 4, 5]);
    expect(agent.stats()).toMatchObject({ received: 5, handled: 5, dropped: 0, mailboxDepth: 0, maxMailboxDepth: 2 });
  });

  it("'wait' lets a waiting sender's ask time out, withdrawing its message", async () => {
    const { agent, calls, clock } = blockedAgent('wait');
    const first = settledOutcome(agent.ask(1));
    agent.send(2);
    agent.send(3);
    const waiting = settledOutcome(agent.ask(4, { timeoutMs: 100 }));
    await clock.advanceBy(100);
    await expect(waiting).resolves.toMatchObject({ ok: false, code: 'E_TIMEOUT' });
    expect(agent.stats()).toMatchObject({ received: 4, dropped: 1, mailboxDepth: 2 });
    for (let index = 0; index < 3; index++) {
      await flush();
      calls[index]!.resolve('done');
    }
    await expect(first).resolves.toMatchObject({ ok: true });
    await flush();
    expect(calls.map((call) => call.message)).toEqual([1, 2, 3]);
    expect(agent.stats()).toMatchObject({ received: 4, handled: 3, dropped: 1, mailboxDepth: 0 });
  });
});
