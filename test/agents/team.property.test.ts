import fc from 'fast-check';
import { createEngine, VirtualClock, type MemberFailureMode, type TeamSynthesis } from '../../src';
import { flush } from '../fixtures/flush';
import { settledOutcome, type SettledOutcome } from '../fixtures/settled-outcome';

const MEMBERS = ['analyzer', 'optimizer', 'validator'] as const;

/** What each member does with one problem: how long it works and whether it fails. */
type Plan = readonly (readonly [work: number, fails: boolean])[];

interface Ask {
  readonly atMs: number;
  readonly plan: Plan;
  readonly timeoutMs: number | undefined;
}

const planArbitrary: fc.Arbitrary<Plan> = fc.tuple(
  ...MEMBERS.map(() =>
    fc.tuple(
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    ),
  ),
);
const askArbitrary: fc.Arbitrary<Ask> = fc.record({
  atMs: fc.integer({ min: 0, max: 30 }),
  plan: planArbitrary,
  timeoutMs: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
});
const limitArbitrary = fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined });

describe('a team, over random runs', () => {
  it('settles every ask once, hears every member once per synthesis in member order, and leaves nothing running', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<MemberFailureMode>('placeholder', 'fail'),
        limitArbitrary,
        limitArbitrary,
        fc.integer({ min: 1, max: 3 }),
        fc.array(askArbitrary, { maxLength: 12 }),
        async (onMemberFailure, memberTimeoutMs, timeoutMs, concurrency, asks) => {
          const clock = new VirtualClock();
          const engine = createEngine({ clock, logger: false });
          MEMBERS.forEach((name, index) =>
            engine.spawnAgent({
              name,
              concurrency: 3,
              receive: async (plan: Plan, ctx) => {
                const [work, fails] = plan[index]!;
                await ctx.sleep(work);
                if (fails) throw new Error(`${name} failed on purpose`);
                return work;
              },
            }),
          );
          const syntheses: TeamSynthesis<Plan, number>[] = [];
          engine.spawnAgent({
            name: 'synthesizer',
            receive: (synthesis: TeamSynthesis<Plan, number>) => (syntheses.push(synthesis), synthesis.results.length),
          });
          const team = engine.team({
            name: 'deep-think',
            members: [...MEMBERS],
            synthesizer: 'synthesizer',
            memberTimeoutMs,
            timeoutMs,
            onMemberFailure,
            concurrency,
          });
          let settled = 0;
          const outcomes: Array<Promise<SettledOutcome>> = [];
          for (const ask of [...asks].sort((x, y) => x.atMs - y.atMs)) {
            await clock.advanceTo(ask.atMs);
            outcomes.push(settledOutcome(team.ask(ask.plan, { timeoutMs: ask.timeoutMs })).finally(() => settled++));
          }
          await clock.runAll();
          await flush();
          expect(settled).toBe(asks.length);
          for (const synthesis of syntheses) {
            expect(synthesis.results.map((result) => result.agent)).toEqual([...MEMBERS]);
            for (const [index, result] of synthesis.results.entries()) {
              const [work, fails] = synthesis.message[index]!;
              if (result.ok) {
                expect([result.value, fails]).toEqual([work, false]);
                if (memberTimeoutMs !== undefined) expect(result.durationMs).toBeLessThanOrEqual(memberTimeoutMs);
              } else {
                // A placeholder is a member that failed or ran late; under 'fail' none reaches the synthesizer.
                expect(onMemberFailure).toBe('placeholder');
                expect(fails || (memberTimeoutMs !== undefined && result.durationMs === memberTimeoutMs)).toBe(true);
              }
            }
          }
          const replies = (await Promise.all(outcomes)).filter((outcome) => outcome.ok);
          expect(replies.length).toBeLessThanOrEqual(syntheses.length);
          for (const reply of replies) expect(reply.value).toBe(MEMBERS.length);
          const stats = team.stats();
          expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
          for (const agent of engine.agents()) expect(agent.status).toBe('idle');
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { seed: 1203, numRuns: 150 },
    );
  });
});
