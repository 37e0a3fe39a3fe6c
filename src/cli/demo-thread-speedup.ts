import path from 'node:path';
import { realClock } from '../clock';
import { createEngine, type Engine } from '../engine';
import { inThread } from '../threads/in-thread';
import { hashRounds } from './demo-hash-task.cjs';

/** What {@link measureThreadSpeedup} measured: the same CPU-bound tasks on the main thread and on worker threads. */
export interface ThreadSpeedup {
  /** How many worker threads ran them. */
  readonly threads: number;
  /** How many tasks each side ran. */
  readonly tasks: number;
  /** SHA-256 rounds over a megabyte per task. */
  readonly rounds: number;
  /** Real milliseconds the tasks took on the main thread, one at a time. */
  readonly mainThreadMs: number;
  /** Real milliseconds they took on the threads. */
  readonly threadsMs: number;
  /** `mainThreadMs / threadsMs`: how many times faster the threads were. */
  readonly speedup: number;
}

/** The module the threads load: plain CommonJS beside this file, in the sources as in dist/. */
const HASH_TASK = path.join(__dirname, 'demo-hash-task.cjs');

/**
 * Runs the same CPU-bound tasks (SHA-256 rounds over a megabyte) through an engine on the main
 * thread and through an engine with `threads` worker threads, in real time whatever clock the rest
 * of the demo runs on (a speedup is a matter of real time), and returns both times. Each engine runs
 * a warm-up round first, so that starting threads and loading the module are not timed.
 *
 * @param threads - how many worker threads (at least 1)
 * @param tasks - how many tasks each side runs
 * @param rounds - SHA-256 rounds over a megabyte per task
 */
export async function measureThreadSpeedup(threads: number, tasks = 4 * threads, rounds = 16): Promise<ThreadSpeedup> {
  const onThread = inThread<string>(HASH_TASK, { export: 'hashTask' });
  const mainThread = createEngine({ threads: 0, concurrency: 1, logger: false });
  const threaded = createEngine({ threads, logger: false });
  try {
    const mainThreadMs = await timeRounds(mainThread, threads, tasks, (engine) => engine.submit(() => hashRounds(rounds)).result);
    const threadsMs = await timeRounds(threaded, threads, tasks, (engine) => engine.submit(onThread, { input: rounds }).result);
    return { threads, tasks, rounds, mainThreadMs, threadsMs, speedup: threadsMs > 0 ? mainThreadMs / threadsMs : 0 };
  } finally {
    await Promise.all([mainThread.shutdown(), threaded.shutdown()]);
  }
}

/** Runs `warmUp` tasks untimed, then `tasks` at once; returns how many real milliseconds those took. */
async function timeRounds(engine: Engine, warmUp: number, tasks: number, submit: (engine: Engine) => Promise<unknown>): Promise<number> {
  await Promise.all(Array.from({ length: warmUp }, () => submit(engine)));
  const startedAt = realClock.now();
  await Promise.all(Array.from({ length: tasks }, () => submit(engine)));
  return realClock.now() - startedAt;
}
