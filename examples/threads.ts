// CPU-bound tasks on worker threads: the same 40 tasks (20 SHA-256 rounds over a megabyte each) run
// on the main thread, then on 2 threads, with priorities, a timeout and a pool held from the thread.
//
// Run it with `npx tsx examples/threads.ts`. In an application, import from 'mezan' rather than from
// the source, and name the module with `new URL('./hash-worker.mjs', import.meta.url)`.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEngine, inThread } from '../src/index';

const hashMany = inThread(path.join(__dirname, 'hash-worker.mjs'), { export: 'hashMany' });

/** Runs `tasks` hash tasks on an engine with `threads` threads (0: on the main thread); returns the milliseconds they took. */
async function run(threads: number, tasks: number): Promise<number> {
  const engine = createEngine({ threads, resources: { cpu: 2 }, logger: false });
  const begun = performance.now();
  const handles = Array.from({ length: tasks }, (_, n) =>
    engine.submit(hashMany, { input: { rounds: 20 }, priority: n % 3, timeoutMs: 60_000, name: `hash-${n}` }),
  );
  await Promise.all(handles.map((handle) => handle.result));
  const elapsed = performance.now() - begun;
  const report = await engine.shutdown();
  console.log(`threads: ${threads}  ${tasks} tasks in ${elapsed.toFixed(0)} ms  (completed ${report.completed}, lost ${report.lost})`);
  return elapsed;
}

async function main(): Promise<void> {
  await run(2, 4); // warm-up
  const onMain = await run(0, 40);
  const onThreads = await run(2, 40);
  console.log(`speedup of 2 threads over the main thread: ${(onMain / onThreads).toFixed(2)}×`);
}

void main();
