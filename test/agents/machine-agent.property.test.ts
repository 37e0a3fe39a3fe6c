import fc from 'fast-check';
import { assign, raise, setup } from 'xstate';
import { createEngine, reply, VirtualClock, type MailboxOverflow } from '../../src';
import { settledOutcome, type SettledOutcome } from '../fixtures/settled-outcome';

/** What a job makes the machine do: reply after its work, end it silently, throw, or reach its final state. */
type Ending = 'reply' | 'silent' | 'throw' | 'final';

type Job = { type: 'job'; key: number; ms: number; ending: Ending };
type JobEvent = Job | { type: 'finish'; key: number };

/** Each job waits `ms` on a delayed event of its own, then replies to its own message (named with `to`), or not. */
const jobs = setup({
  types: { context: {} as { requests: Record<number, Job> }, events: {} as JobEvent },
  actions: {
    explode: () => {
      throw new Error('thrown on purpose');
    },
  },
}).createMachine({
  context: { requests: {} },
  initial: 'working',
  states: {
    working: {
      on: {
        job: [
          { guard: ({ event }) => event.ending === 'throw', actions: 'explode' },
          { guard: ({ event }) => event.ending === 'final', target: 'ended' },
          {
            actions: [
              assign({ requests: ({ context, event }) => ({ ...context.requests, [event.key]: event }) }),
              raise(({ event }) => ({ type: 'finish' as const, key: event.key }), { delay: ({ event }) => event.ms }),
            ],
          },
        ],
        finish: {
          guard: ({ context, event }) => context.requests[event.key]?.ending === 'reply',
          actions: reply(({ event }) => event.key, { to: ({ context, event }) => context.requests[event.key] }),
        },
      },
    },
    ended: { type: 'final' },
  },
});

type Step =
  | { readonly kind: 'send' | 'ask'; readonly ms: number; readonly ending: Ending; readonly timeoutMs: number | undefined }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'crash' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('send' as const, 'ask' as const),
      ms: fc.integer({ min: 0, max: 8 }),
      ending: fc.constantFrom<Ending>('reply', 'reply', 'reply', 'silent', 'silent', 'throw', 'final'),
      timeoutMs: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const) }) },
);

describe('machine agents, over random runs', () => {
  it('count every message once, settle every ask once, and answer each ask with its own reply', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<MailboxOverflow>('reject', 'drop-oldest', 'wait'),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(stepArbitrary, { maxLength: 60 }),
        async (overflow, concurrency, capacity, steps) => {
          const clock = new VirtualClock();
          const engine = createEngine({ clock, logger: false });
          const agent = engine.spawnAgent<JobEvent>({
            name: 'jobs',
            machine: jobs,
            concurrency,
            mailbox: { capacity, overflow },
            restart: { maxRestarts: 1_000, withinMs: 1 },
          });
          let sent = 0;
          const asks: Array<{ readonly ending: Ending; readonly key: number; readonly outcome: Promise<SettledOutcome> }> = [];
          for (const step of steps) {
            if (step.kind === 'advance') await clock.advanceBy(step.ms);
            else if (step.kind === 'crash') engine.inject({ type: 'agent.crash', agent: 'jobs' });
            else {
              const key = sent++;
              const message: JobEvent = { type: 'job', key, ms: step.ms, ending: step.ending };
              if (step.kind === 'send') agent.send(message);
              else asks.push({ ending: step.ending, key, outcome: settledOutcome(agent.ask(message, { timeoutMs: step.timeoutMs })) });
            }
          }
          await clock.runAll();
          const stats = agent.stats();
          expect(stats.received).toBe(sent);
          expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
          expect(stats.mailboxDepth).toBe(0);
          for (const { ending, key, outcome } of asks) {
            const settled = await outcome;
            if (settled.ok) {
              // A machine that throws or ends never answers: that step is a crash.
              expect(['reply', 'silent']).toContain(ending);
              expect(settled.value).toBe(ending === 'reply' ? key : undefined);
            } else expect(['E_AGENT_FAILED', 'E_MAILBOX_FULL', 'E_TIMEOUT']).toContain(settled.code);
          }
          expect(agent.status).toBe('idle');
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { seed: 1203, numRuns: 200 },
    );
  });
});
