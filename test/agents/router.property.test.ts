import fc from 'fast-check';
import { createEngine, seededRandom, VirtualClock, type BanditStrategy } from '../../src';
import { flush } from '../fixtures/flush';
import { settledOutcome, type SettledOutcome } from '../fixtures/settled-outcome';

interface Work {
  readonly work: number;
  readonly fails: boolean;
}

type Step =
  | { readonly kind: 'ask'; readonly message: Work; readonly timeoutMs: number | undefined }
  | { readonly kind: 'send'; readonly message: Work }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'crash'; readonly agent: string };

const workArbitrary: fc.Arbitrary<Work> = fc.record({ work: fc.integer({ min: 0, max: 8 }), fails: fc.boolean() });
const timeoutArbitrary = fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined });

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(workArbitrary, timeoutArbitrary).map(([message, timeoutMs]): Step => ({ kind: 'ask', message, timeoutMs })) },
  { weight: 2, arbitrary: workArbitrary.map((message): Step => ({ kind: 'send', message })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5 }).map((ms): Step => ({ kind: 'advance', ms })) },
  { weight: 1, arbitrary: fc.constantFrom('router', 'a', 'b', 'c').map((agent): Step => ({ kind: 'crash', agent })) },
);

const strategyArbitrary = fc.constantFrom<BanditStrategy>('ucb1', 'thompson', { type: 'epsilon-greedy', epsilon: 0.2 });

describe('a router, over random runs', () => {
  it('scores every message it handled exactly once, keeps its counts whole, and settles every ask once', async () => {
    await fc.assert(
      fc.asyncProperty(
        strategyArbitrary,
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        fc.array(stepArbitrary, { maxLength: 50 }),
        async (strategy, concurrency, seed, steps) => {
          const clock = new VirtualClock();
          const engine = createEngine({ clock, logger: false, random: seededRandom(seed) });
          const restart = { maxRestarts: 1_000, withinMs: 1 };
          for (const name of ['a', 'b', 'c'])
            engine.spawnAgent({
              name,
              restart,
              receive: async ({ work, fails }: Work, ctx) => {
                await ctx.sleep(work);
                if (fails) throw new Error('failed on purpose');
                return work;
              },
            });
          let rewards = 0;
          const router = engine.router({
            name: 'router',
            arms: ['a', 'b', 'c'],
            strategy,
            concurrency,
            restart,
            reward: (o) => (rewards++, o.ok ? 1 : 0),
          });
          let settled = 0;
          const asks: Array<Promise<SettledOutcome>> = [];
          for (const step of steps) {
            if (step.kind === 'advance') await clock.advanceBy(step.ms);
            else if (step.kind === 'crash') engine.inject({ type: 'agent.crash', agent: step.agent });
            else if (step.kind === 'send') router.send(step.message);
            else asks.push(settledOutcome(router.ask(step.message, { timeoutMs: step.timeoutMs })).finally(() => settled++));
          }
          await clock.runAll();
          await flush();
          expect(settled).toBe(asks.length);
          const stats = router.stats();
          const pulls = stats.arms.reduce((sum, arm) => sum + arm.pulls, 0);
          // One reward per pull: none lost, none twice (the bandit refuses a reward without a pull awaiting it).
          expect(rewards).toBe(pulls);
          // A pull for every message the router began, and those it began were handled or failed.
          expect(pulls).toBeLessThanOrEqual(stats.handled + stats.failed);
          expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
          for (const arm of stats.arms) expect(arm.meanReward).toBeGreaterThanOrEqual(0);
          for (const outcome of await Promise.all(asks))
            if (!outcome.ok) expect(['E_AGENT_FAILED', 'E_MAILBOX_FULL', 'E_TIMEOUT']).toContain(outcome.code);
          expect(router.status).toBe('idle');
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { seed: 1203, numRuns: 150 },
    );
  });
});
