import fc from 'fast-check';
import { createEngine, VirtualClock, type MailboxOverflow } from '../../src';
import { settledOutcome, type SettledOutcome } from '../fixtures/settled-outcome';

type Step =
  | { readonly kind: 'send' | 'ask'; readonly work: number; readonly fails: boolean; readonly timeoutMs: number | undefined }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'crash' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('send' as const, 'ask' as const),
      work: fc.integer({ min: 0, max: 8 }),
      fails: fc.boolean(),
      timeoutMs: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const) }) },
);

describe('agent statistics, over random runs', () => {
  it('count every message once: received is what was sent, and at rest sums to handled + failed + dropped; every ask settles once, as counted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<MailboxOverflow>('reject', 'drop-oldest', 'wait'),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(stepArbitrary, { maxLength: 60 }),
        async (overflow, concurrency, capacity, steps) => {
          const clock = new VirtualClock();
          const engine = createEngine({ clock, logger: false });
          let started = 0;
          const agent = engine.spawnAgent({
            name: 'a',
            concurrency,
            mailbox: { capacity, overflow },
            restart: { maxRestarts: 1_000, withinMs: 1 },
            receive: async ({ work, fails }: { work: number; fails: boolean }, ctx) => {
              started++;
              await ctx.sleep(work);
              if (fails) throw new Error('failed on purpose');
              return work;
            },
          });
          let sent = 0;
          const asks: Array<Promise<SettledOutcome>> = [];
          for (const step of steps) {
            if (step.kind === 'advance') await clock.advanceBy(step.ms);
            else if (step.kind === 'crash') engine.inject({ type: 'agent.crash', agent: 'a' });
            else {
              sent++;
              const message = { work: step.work, fails: step.fails };
              if (step.kind === 'send') agent.send(message);
              else asks.push(settledOutcome(agent.ask(message, { timeoutMs: step.timeoutMs })));
            }
          }
          await clock.runAll();
          const outcomes = await Promise.all(asks);
          const stats = agent.stats();
          expect(stats.received).toBe(sent);
          expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
          expect(stats.mailboxDepth).toBe(0);
          expect(stats.maxMailboxDepth).toBeLessThanOrEqual(capacity);
          // A handler started for every message handled or failed but those a crash caught before their start job ran.
          expect(stats.handled).toBeLessThanOrEqual(started);
          // Under 'wait', a message is refused only once the mailbox and the line of senders waiting for room (each of `capacity`) are full.
          if (overflow === 'wait' && sent <= concurrency + 2 * capacity)
            expect(outcomes.filter((outcome) => outcome.code === 'E_MAILBOX_FULL')).toEqual([]);
          // Every ask settled with a reply or one of the codes an ask can end with.
          for (const outcome of outcomes) {
            if (!outcome.ok) expect(['E_AGENT_FAILED', 'E_MAILBOX_FULL', 'E_TIMEOUT']).toContain(outcome.code);
          }
          expect(agent.status).toBe('idle');
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { seed: 1203, numRuns: 200 },
    );
  });
});
