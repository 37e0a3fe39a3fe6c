// `npm run soak`: a million tasks through one engine in real time, in chunks, with random cancels,
// retries, worker crashes, deadlocks, awaits and dependencies, then a burst of 50,000 tasks and a
// shutdown under load. Checks that every handle settled exactly once, that the handles' statuses
// agree with the engine's own counts and its shutdown report (`lost: 0`), and that the heap stays
// flat (memory sampled after global.gc() every 100,000 tasks). Prints the figures; exit code 1 when
// a check failed. Not part of `npm test`. Flags: --quick (100,000 tasks), --json, --seed <n>.
import { parseSoakArgs } from './soak-config';
import { formatSoakReport } from './soak-format';
import { runSoak } from './soak-run';

/** How long the process may take to exit once the report is out: only the engine's leftovers would hold it. */
const EXIT_GRACE_MS = 5_000;

async function main(): Promise<void> {
  const config = parseSoakArgs(process.argv.slice(2));
  // Progress goes to stderr so that stdout holds only the report (or the JSON).
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (typeof global.gc !== 'function') throw new Error('The soak samples memory after a full GC: run node with --expose-gc (npm run soak does)');
  const result = await runSoak(config, log);
  process.stdout.write(config.json ? `${JSON.stringify(result, null, 2)}\n` : `\n${formatSoakReport(result)}`);
  if (result.failures.length > 0) process.exitCode = 1;
  // The engine is stopped: nothing of it should keep the process alive (the stubborn tasks' own
  // timers end within seconds). Unref'd, so it never holds the process itself.
  setTimeout(() => {
    log(`soak: the process did not exit within ${EXIT_GRACE_MS} ms of the report: something still holds the event loop`);
    process.exit(1);
  }, EXIT_GRACE_MS).unref();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
