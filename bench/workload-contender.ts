import { performance } from 'node:perf_hooks';
import { collectGarbage } from './collect-garbage';
import type { TaskDag } from './dag-workload';

/**
 * What a contender (mezan, or its peer p-queue) runs for each workload of the table. Every method
 * but {@link WorkloadContender.latencyProbe} starts from a fresh engine or queue; each collects
 * garbage just before its timer starts, and throws unless every task ran exactly once.
 */
export interface WorkloadContender {
  /** `tasks` no-op async tasks, task `i` with priority `priorities[i]` when given; returns the wall time in ms. */
  noops(tasks: number, concurrency: number, priorities?: readonly number[]): Promise<number>;
  /** `tasks` tasks that each await a `setImmediate`; returns the wall time in ms. */
  immediates(tasks: number, concurrency: number): Promise<number>;
  /** `tasks` tasks that each sleep `sleepMs` on real timers; returns the makespan in ms. */
  sleeps(tasks: number, concurrency: number, sleepMs: number): Promise<number>;
  /** The DAG's no-op tasks, each started only after its dependencies finished; returns the wall time in ms. */
  dag(dag: TaskDag, concurrency: number): Promise<number>;
  /**
   * An idle engine or queue of `concurrency`, kept for every run of the latency race (as an
   * application keeps its engine), to time one no-op task at a time on it.
   */
  latencyProbe(concurrency: number): LatencyProbe;
}

/** One engine or queue, idle between tasks, timed from a task's submission to its awaited result. */
export interface LatencyProbe {
  /**
   * `warmup` tasks untimed, a garbage collection, then `samples` timed, one at a time.
   * @returns each timed sample's latency in µs, in order
   */
  sample(samples: number, warmup: number): Promise<number[]>;
  /** Shuts the engine down; throws unless every task ran exactly once. */
  close(): Promise<void>;
}

/** Times `samples` calls of `run` one after another, after `warmup` untimed calls and a garbage collection: µs each. */
export async function timeOneAtATime(run: () => Promise<unknown>, samples: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  collectGarbage();
  const latenciesUs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await run();
    latenciesUs.push((performance.now() - start) * 1000);
  }
  return latenciesUs;
}

/** Tasks that count their calls; both contenders run these same functions, so the count costs them alike. */
export class CountingTasks {
  calls = 0;

  readonly noop = async (): Promise<void> => {
    this.calls++;
  };

  readonly immediate = async (): Promise<void> => {
    this.calls++;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

/** Which of the {@link CountingTasks} a run submits. */
export type CountingKind = 'noop' | 'immediate';

/**
 * A contender's timed run: on a fresh engine or queue of `concurrency`, `submit` runs under the
 * timer until the engine or queue is idle; after the timer, `calls()` (when given) must be `tasks`.
 *
 * @returns the run's wall time in ms
 * @throws {Error} unless the tasks ran once each
 */
export type TimedRun<Runner> = (
  concurrency: number,
  tasks: number,
  calls: (() => number) | undefined,
  submit: (runner: Runner) => void,
) => Promise<number>;

/**
 * Times `tasks` tasks of one kind from a fresh {@link CountingTasks}, and checks that each ran once.
 *
 * @param time - the contender's {@link TimedRun}
 * @param submitAll - given the task, returns what submits it `tasks` times to the engine or queue:
 *   the timed region, called as is
 * @returns the run's wall time in ms
 */
export function timeCountingTasks<Runner>(
  time: TimedRun<Runner>,
  kind: CountingKind,
  tasks: number,
  concurrency: number,
  submitAll: (task: () => Promise<void>) => (runner: Runner) => void,
): Promise<number> {
  const counting = new CountingTasks();
  return time(concurrency, tasks, () => counting.calls, submitAll(counting[kind]));
}

/**
 * Collects garbage, then times `submit` on a fresh engine or queue until it is idle.
 *
 * @returns the wall time in ms
 */
export async function timeUntilIdle<Runner extends { onIdle(): Promise<unknown> }>(
  runner: Runner,
  submit: (runner: Runner) => void,
): Promise<number> {
  collectGarbage();
  const start = performance.now();
  submit(runner);
  await runner.onIdle();
  return performance.now() - start;
}

/**
 * Runs the tasks of a {@link TaskDag} by number, counting each run and whether its dependencies had
 * all finished before it started.
 */
export class DagTracker {
  readonly #dag: TaskDag;
  readonly #runs: Uint32Array;
  readonly #finished: Uint8Array;
  #early = 0;

  constructor(dag: TaskDag) {
    this.#dag = dag;
    this.#runs = new Uint32Array(dag.tasks);
    this.#finished = new Uint8Array(dag.tasks);
  }

  /** The body of task `task`. */
  run(task: number): void {
    this.#runs[task]!++;
    for (const dependency of this.#dag.dependencies[task]!) if (this.#finished[dependency] === 0) this.#early++;
    this.#finished[task] = 1;
  }

  /**
   * @param contender - named in the error
   * @throws {Error} unless every task ran exactly once, after all of its dependencies
   */
  check(contender: string): void {
    const wrong = this.#runs.reduce((count, runs) => (runs === 1 ? count : count + 1), 0);
    if (wrong > 0 || this.#early > 0) {
      throw new Error(`${contender} ran ${wrong} of ${this.#dag.tasks} DAG tasks other than once, and ${this.#early} before a dependency finished`);
    }
  }
}

/**
 * @param contender - named in the error, with what it ran
 * @throws {Error} when `ran` is not `expected`
 */
export function expectRuns(contender: string, ran: number, expected: number): void {
  if (ran !== expected) throw new Error(`${contender} ran ${ran} of ${expected} tasks`);
}
