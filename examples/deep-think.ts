// The two agent systems mezan re-imagines, on one engine: a deep-think team (an Analyzer, an
// Optimizer and a Validator work on each problem at once, each under its own time limit; one of them
// sometimes fails and is replaced by a placeholder; a Synthesizer combines what they found), and a
// router that balances three solvers of different quality and latency with Thompson sampling.
//
// Run it with `npm run example:agents`. In an application, import from 'mezan' rather than from the
// source.
import { createEngine, seededRandom, type AgentContext, type Clock, type RandomSource, type TeamSynthesis } from '../src/index';

/** What a member of the team finds. */
export interface Finding {
  readonly by: string;
  readonly confidence: number;
}

/** What the synthesizer makes of a problem. */
export interface Conclusion {
  readonly problem: string;
  /** The mean of the members' confidences, a placeholder counting 0. */
  readonly confidence: number;
  /** The members that failed or ran late. */
  readonly placeholders: readonly string[];
}

/** What a run of the example saw. */
export interface DeepThinkRun {
  readonly conclusions: readonly Conclusion[];
  /** Each agent's statistics, by name. */
  readonly stats: Readonly<Record<string, { readonly handled: number; readonly failed: number; readonly meanMs: number }>>;
  /** The router's arms: how often each solver was chosen, and its mean reward. */
  readonly arms: ReadonlyArray<{ readonly name: string; readonly pulls: number; readonly meanReward: number }>;
}

/**
 * Runs the example: `problems` asks to the team, then `routedAsks` asks to the router.
 * @param options - the engine's clock (a VirtualClock in tests) and seed, and how much to ask
 */
export async function runDeepThink(options: {
  readonly clock?: Clock;
  readonly seed?: number;
  readonly problems?: number;
  readonly routedAsks?: number;
  /** Lets time pass while an ask is out (a virtual clock's `runAll`); real time passes by itself. */
  readonly waitFor?: <T>(pending: Promise<T>) => Promise<T>;
}): Promise<DeepThinkRun> {
  const seed = options.seed ?? 7;
  const engine = createEngine({ clock: options.clock, random: seededRandom(seed), logger: false });
  const waitFor = options.waitFor ?? (<T>(pending: Promise<T>) => pending);
  // The members' own randomness, apart from the engine's, so that the bandit's draws do not shift them.
  const chance: RandomSource = seededRandom(seed + 1);

  const member =
    (by: string, workMs: number, confidence: number, failureRate: number) =>
    async (_problem: string, ctx: AgentContext): Promise<Finding> => {
      await ctx.sleep(workMs);
      if (chance() < failureRate) throw new Error(`${by} could not make sense of it`);
      return { by, confidence };
    };
  engine.spawnAgent({ name: 'analyzer', receive: member('analyzer', 30, 0.9, 0) });
  engine.spawnAgent({ name: 'optimizer', receive: member('optimizer', 50, 0.7, 0.3) });
  engine.spawnAgent({ name: 'validator', receive: member('validator', 20, 0.8, 0) });
  engine.spawnAgent({
    name: 'synthesizer',
    receive: ({ message, results }: TeamSynthesis<string, Finding>): Conclusion => ({
      problem: message,
      confidence: results.reduce((sum, result) => sum + (result.ok ? result.value!.confidence : 0), 0) / results.length,
      placeholders: results.filter((result) => !result.ok).map((result) => result.agent),
    }),
  });
  const deepThink = engine.team<string, Conclusion>({
    name: 'deep-think',
    members: ['analyzer', 'optimizer', 'validator'],
    synthesizer: 'synthesizer',
    memberTimeoutMs: 100,
    timeoutMs: 1_000,
    onMemberFailure: 'placeholder',
  });

  // Three solvers: the quick one is often wrong, the thorough one slow, the steady one best overall.
  const solver = (name: string, workMs: number, errorRate: number) => async (problem: string, ctx: AgentContext) => {
    await ctx.sleep(workMs);
    if (chance() < errorRate) throw new Error(`${name} got it wrong`);
    return `${name}: ${problem}`;
  };
  engine.spawnAgent({ name: 'quick', receive: solver('quick', 5, 0.6) });
  engine.spawnAgent({ name: 'steady', receive: solver('steady', 20, 0.05) });
  engine.spawnAgent({ name: 'thorough', receive: solver('thorough', 80, 0.02) });
  const router = engine.router<string, string>({
    name: 'solver',
    arms: ['quick', 'steady', 'thorough'],
    strategy: 'thompson',
    // A right answer is worth more the sooner it comes.
    reward: (outcome) => (outcome.ok ? Math.max(0, 1 - outcome.durationMs / 100) : 0),
  });

  const conclusions: Conclusion[] = [];
  for (let problem = 1; problem <= (options.problems ?? 5); problem++) {
    conclusions.push(await waitFor(deepThink.ask(`problem ${problem}`)));
  }
  for (let ask = 1; ask <= (options.routedAsks ?? 200); ask++) {
    // A wrong answer fails the ask; the router has already scored it.
    await waitFor(router.ask(`question ${ask}`).catch(() => undefined));
  }

  const stats: Record<string, { handled: number; failed: number; meanMs: number }> = {};
  for (const agent of engine.agents()) {
    const { handled, failed, meanMs } = agent.stats();
    stats[agent.name] = { handled, failed, meanMs };
  }
  const arms = router.stats().arms;
  await waitFor(engine.shutdown());
  return { conclusions, stats, arms };
}

async function main(): Promise<void> {
  const run = await runDeepThink({});
  console.log('Deep-think conclusions:');
  for (const { problem, confidence, placeholders } of run.conclusions) {
    const note = placeholders.length === 0 ? '' : ` (placeholder for ${placeholders.join(', ')})`;
    console.log(`  ${problem}: confidence ${confidence.toFixed(2)}${note}`);
  }
  console.log('Agents (handled / failed / mean ms):');
  for (const [name, { handled, failed, meanMs }] of Object.entries(run.stats)) {
    console.log(`  ${name.padEnd(12)} ${handled} / ${failed} / ${meanMs.toFixed(1)}`);
  }
  console.log('Router pulls (mean reward):');
  for (const { name, pulls, meanReward } of run.arms) console.log(`  ${name.padEnd(9)} ${pulls} (${meanReward.toFixed(2)})`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
