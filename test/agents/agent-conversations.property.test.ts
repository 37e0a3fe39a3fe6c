import fc from 'fast-check';
import { createEngine, VirtualClock, type AgentContext, type MezanError, type TaskContext } from '../../src';
import { flush } from '../fixtures/flush';
import { settledOutcome } from '../fixtures/settled-outcome';

/** One step of a handler's or a task's script. */
type Step =
  | { readonly kind: 'ask'; readonly agent: number; readonly timeoutMs: number | undefined }
  | { readonly kind: 'acquire'; readonly units: number }
  | { readonly kind: 'sleep'; readonly ms: number }
  | { readonly kind: 'task' };

const AGENTS = 3;

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ask' as const),
      agent: fc.integer({ min: 0, max: AGENTS - 1 }),
      timeoutMs: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('acquire' as const), units: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('task' as const) }) },
);

/** A script never deeper than this many nested asks, so that every run ends. */
const MAX_DEPTH = 3;

describe('conversations mixing agents, pools and tasks, over random runs', () => {
  it('every ask settles exactly once, every pool unit comes back, and nothing is left waiting in the graph', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 2 }), { minLength: AGENTS, maxLength: AGENTS }),
        fc.array(fc.array(stepArbitrary, { maxLength: 3 }), { minLength: AGENTS, maxLength: AGENTS }),
        fc.array(fc.array(stepArbitrary, { maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom<'immediate' | 'off'>('immediate', 'off'),
        async (concurrencies, scripts, taskScripts, detect) => {
          const clock = new VirtualClock();
          const engine = createEngine({ clock, logger: false, concurrency: 2, resources: { db: 2 }, deadlock: { detect } });
          let asked = 0;
          let settled = 0;
          const errors = new Set<string>();
          const run = async (
            steps: readonly Step[],
            depth: number,
            ask: (agent: number, depth: number, timeoutMs: number | undefined) => Promise<unknown>,
            ctx: AgentContext | TaskContext,
          ): Promise<string> => {
            const leases: Array<{ release(): void }> = [];
            try {
              for (const step of steps) {
                if (step.kind === 'ask' && depth < MAX_DEPTH) {
                  asked++;
                  await ask(step.agent, depth + 1, step.timeoutMs)
                    .catch((error: MezanError) => errors.add(error.code))
                    .finally(() => settled++);
                } else if (step.kind === 'acquire') {
                  const lease = 'release' in ctx ? await ctx.acquire('db', step.units) : await ctx.acquire('db', { units: step.units });
                  leases.push(lease);
                } else if (step.kind === 'sleep') await ctx.sleep(step.ms);
                else if (step.kind === 'task') await ctx.await(ctx.submit(async (task) => task.sleep(1)));
              }
              return 'done';
            } finally {
              for (const lease of leases) lease.release();
            }
          };
          for (let index = 0; index < AGENTS; index++) {
            engine.spawnAgent({
              name: `a${index}`,
              concurrency: concurrencies[index]!,
              // Without detection a deadlock only ends with a timeout: every ask then has one.
              receive: (depth: number, ctx: AgentContext) =>
                run(
                  scripts[index]!,
                  depth,
                  (agent, next, timeoutMs) => ctx.ask(`a${agent}`, next, { timeoutMs: timeoutMs ?? (detect === 'off' ? 50 : undefined) }),
                  ctx,
                ),
            });
          }
          const tasks = taskScripts.map((steps) =>
            engine.submit(
              (ctx) =>
                run(
                  steps,
                  0,
                  (agent, next, timeoutMs) => ctx.ask(`a${agent}`, next, { timeoutMs: timeoutMs ?? (detect === 'off' ? 50 : undefined) }),
                  ctx,
                ),
              {
                timeoutMs: detect === 'off' ? 1_000 : undefined,
              },
            ),
          );
          const results = tasks.map((task) => settledOutcome(task.result));
          for (let round = 0; round < 3; round++) {
            await clock.runAll();
            await flush();
          }
          await Promise.all(results);
          expect(settled).toBe(asked);
          for (const code of errors) expect(['E_AGENT_FAILED', 'E_DEADLOCK', 'E_TIMEOUT', 'E_CANCELLED']).toContain(code);
          for (const agent of engine.agents()) {
            const stats = agent.stats();
            expect(agent.status).toBe('idle');
            expect(stats.handled + stats.failed + stats.dropped).toBe(stats.received);
          }
          expect(engine.waitForGraph().edges).toEqual([]);
          // Every unit of the pool is free again: a task takes both at once.
          const check = engine.submit(async (ctx) => (await ctx.acquire('db', { units: 2, timeoutMs: 1 })).units);
          await clock.runAll();
          await expect(check.result).resolves.toBe(2);
          if (detect === 'off') expect(engine.deadlocks()).toEqual([]);
        },
      ),
      { seed: 4242, numRuns: 100 },
    );
  });
});
