import { performance } from 'node:perf_hooks';
import { createEngine, type Engine, type TaskContext, type TaskHandle } from '../src/index';
import { collectGarbage } from './collect-garbage';
import {
  CountingTasks,
  DagTracker,
  expectRuns,
  timeCountingTasks,
  timeOneAtATime,
  timeUntilIdle,
  type WorkloadContender,
} from './workload-contender';

/**
 * The engine of every workload: `concurrency` tasks run at once.
 *
 * @param concurrency - how many tasks run at once
 */
export function mezanEngine(concurrency: number): Engine {
  return createEngine({ concurrency });
}

/** mezan's side of each workload: tasks go in with `engine.submit`, and the run ends at `engine.onIdle()`. */
export const mezanContender: WorkloadContender = {
  async noops(tasks, concurrency, priorities) {
    return timeCountingTasks(timeEngine, 'noop', tasks, concurrency, (noop) => (engine) => {
      if (priorities === undefined) for (let i = 0; i < tasks; i++) engine.submit(noop);
      else for (let i = 0; i < tasks; i++) engine.submit(noop, { priority: priorities[i]! });
    });
  },

  async immediates(tasks, concurrency) {
    return timeCountingTasks(timeEngine, 'immediate', tasks, concurrency, (immediate) => (engine) => {
      for (let i = 0; i < tasks; i++) engine.submit(immediate);
    });
  },

  async sleeps(tasks, concurrency, sleepMs) {
    let calls = 0;
    const sleep = (ctx: TaskContext): Promise<void> => {
      calls++;
      return ctx.sleep(sleepMs);
    };
    return timeEngine(
      concurrency,
      tasks,
      () => calls,
      (engine) => {
        for (let i = 0; i < tasks; i++) engine.submit(sleep);
      },
    );
  },

  async dag(dag, concurrency) {
    const tracker = new DagTracker(dag);
    const elapsedMs = await timeEngine(concurrency, dag.tasks, undefined, (engine) => {
      const handles: TaskHandle<void>[] = new Array(dag.tasks);
      for (let task = 0; task < dag.tasks; task++) {
        const run = async (): Promise<void> => tracker.run(task);
        const dependencies = dag.dependencies[task]!;
        handles[task] =
          dependencies.length === 0 ? engine.submit(run) : engine.submit(run, { dependsOn: dependencies.map((dependency) => handles[dependency]!) });
      }
    });
    tracker.check('mezan');
    return elapsedMs;
  },

  latencyProbe(concurrency) {
    const engine = mezanEngine(concurrency);
    const counting = new CountingTasks();
    let submitted = 0;
    return {
      sample: (samples, warmup) => {
        submitted += warmup + samples;
        return timeOneAtATime(() => engine.submit(counting.noop).result, samples, warmup);
      },
      close: () => shutDown(engine, submitted, counting.calls),
    };
  },
};

/**
 * Shuts down an idle engine of `concurrency` after it ran `tasks` tasks one after another.
 *
 * @returns how long `await engine.shutdown()` took, in ms
 * @throws {Error} unless the tasks ran once each and the report counts them completed
 */
export async function timeIdleShutdown(concurrency: number, tasks: number): Promise<number> {
  const engine = mezanEngine(concurrency);
  const counting = new CountingTasks();
  for (let i = 0; i < tasks; i++) await engine.submit(counting.noop).result;
  collectGarbage();
  const start = performance.now();
  const report = await engine.shutdown();
  const elapsedMs = performance.now() - start;
  expectRuns('mezan', counting.calls, tasks);
  expectRuns('mezan (report.completed)', report.completed, tasks);
  return elapsedMs;
}

/** mezan's `TimedRun` (see workload-contender): after the timer, it shuts the engine down and checks the tasks by its report too. */
async function timeEngine(concurrency: number, tasks: number, calls: (() => number) | undefined, submit: (engine: Engine) => void): Promise<number> {
  const engine = mezanEngine(concurrency);
  const elapsedMs = await timeUntilIdle(engine, submit);
  await shutDown(engine, tasks, calls?.());
  return elapsedMs;
}

async function shutDown(engine: Engine, tasks: number, calls: number | undefined): Promise<void> {
  const report = await engine.shutdown();
  if (calls !== undefined) expectRuns('mezan', calls, tasks);
  expectRuns('mezan (report.completed)', report.completed, tasks);
}
