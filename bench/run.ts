// `npm run bench`: mezan against p-queue on a table of workloads, deadlock detection's costs (deadlock
// detection's overhead on the no-op workload, the detector on a graph of waiting tasks, engines where
// thousands of tasks block), then mezan's memory with a deep queue and after a long stream, then the
// speed of a simulation, the bandits, and the agents (asks against an async call and a bare XState pair; a
// flooded mailbox). Figures are measured and printed, never asserted: the exit code is 0 unless
// something crashed. Flags: --quick (smaller sizes, a smoke test), --json (machine-readable output).
import { performance } from 'node:perf_hooks';
import { parseBenchArgs } from './bench-config';
import { deadlockBenchSizes } from './deadlock-config';
import { runDeadlockBench } from './deadlock.bench';
import { runMemoryBench } from './memory.bench';
import { runSimulationBench } from './simulation.bench';
import { runBanditBench } from './bandit.bench';
import { agentsBenchConfig, formatAgentsReport, runAgentsBench } from './agents.bench';
import { formatThreadsReport, runThreadsBench, threadsBenchConfig } from './threads.bench';
import { describeEnvironment, formatReport, type BenchResults } from './report';
import { runWorkloadsBench } from './workloads.bench';

async function main(): Promise<void> {
  const config = parseBenchArgs(process.argv.slice(2));
  // Progress goes to stderr so that stdout holds only the report (or the JSON).
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (typeof global.gc !== 'function') log('note: node was started without --expose-gc; timed runs will not collect garbage first');
  const start = performance.now();
  const workloads = await runWorkloadsBench(config.workloads, log);
  const deadlock = await runDeadlockBench(deadlockBenchSizes(config.quick), log);
  const memory = await runMemoryBench(config.memory, log);
  const simulation = await runSimulationBench(config.quick, log);
  const bandits = runBanditBench(config.quick, log);
  const agents = await runAgentsBench(agentsBenchConfig(config.quick), log);
  const threads = await runThreadsBench(threadsBenchConfig(config.quick), log);
  const results: BenchResults = {
    quick: config.quick,
    environment: describeEnvironment(),
    totalMs: performance.now() - start,
    workloads,
    deadlock,
    memory,
    simulation,
    bandits,
  };
  process.stdout.write(
    config.json
      ? `${JSON.stringify({ ...results, agents, threads }, null, 2)}\n`
      : `\n${formatReport(results)}\n${formatAgentsReport(agents)}\n\n${formatThreadsReport(threads)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
