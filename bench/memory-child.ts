// Entry point of a memory scenario's child process, started by runMemoryBench with --expose-gc:
// argv is [scenario, JSON config]; the result goes back over IPC.
import type { MemoryConfig } from './bench-config';
import { MEMORY_SCENARIOS, type MemoryScenario } from './memory.bench';

async function main(): Promise<void> {
  const [scenario, configJson] = process.argv.slice(2);
  if (scenario === undefined || !(scenario in MEMORY_SCENARIOS) || configJson === undefined) {
    throw new Error(
      `Expected a scenario (${Object.keys(MEMORY_SCENARIOS).join(', ')}) and a JSON config, got ${JSON.stringify(process.argv.slice(2))}`,
    );
  }
  if (process.send === undefined) throw new Error('memory-child must be started by runMemoryBench (it reports over IPC)');
  const config = JSON.parse(configJson) as MemoryConfig;
  const result = await MEMORY_SCENARIOS[scenario as MemoryScenario](config);
  // Once disconnected, nothing keeps the process alive but the engine: it exits only if shutdown
  // really stopped every actor and timer.
  process.send(result, () => process.disconnect());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
