import {
  CountingTasks,
  DagTracker,
  expectRuns,
  timeCountingTasks,
  timeOneAtATime,
  timeUntilIdle,
  type TimedRun,
  type WorkloadContender,
} from './workload-contender';

/**
 * p-queue's side of each workload: tasks go in with `queue.add`, and the run ends at `queue.onIdle()`.
 *
 * @returns the contender, once p-queue is loaded
 */
export async function loadPQueueContender(): Promise<WorkloadContender> {
  // p-queue 9 is ESM-only; module node16 keeps this import() as a real dynamic import in CommonJS output.
  const { default: PQueue } = await import('p-queue');
  type Queue = InstanceType<typeof PQueue>;

  /** p-queue's {@link TimedRun}: after the timer, it checks that the queue holds no task. */
  const timeQueue: TimedRun<Queue> = async (concurrency, tasks, calls, add) => {
    const queue = new PQueue({ concurrency });
    const elapsedMs = await timeUntilIdle(queue, add);
    if (calls !== undefined) expectRuns('p-queue', calls(), tasks);
    expectRuns('p-queue (size + pending left)', queue.size + queue.pending, 0);
    return elapsedMs;
  };

  return {
    async noops(tasks, concurrency, priorities) {
      return timeCountingTasks(timeQueue, 'noop', tasks, concurrency, (noop) => (queue) => {
        if (priorities === undefined) for (let i = 0; i < tasks; i++) void queue.add(noop);
        else for (let i = 0; i < tasks; i++) void queue.add(noop, { priority: priorities[i]! });
      });
    },

    async immediates(tasks, concurrency) {
      return timeCountingTasks(timeQueue, 'immediate', tasks, concurrency, (immediate) => (queue) => {
        for (let i = 0; i < tasks; i++) void queue.add(immediate);
      });
    },

    async sleeps(tasks, concurrency, sleepMs) {
      let calls = 0;
      const sleep = (): Promise<void> => {
        calls++;
        return new Promise((resolve) => setTimeout(resolve, sleepMs));
      };
      return timeQueue(
        concurrency,
        tasks,
        () => calls,
        (queue) => {
          for (let i = 0; i < tasks; i++) void queue.add(sleep);
        },
      );
    },

    async dag(dag, concurrency) {
      const tracker = new DagTracker(dag);
      // The topological release a p-queue user writes by hand: count each task's unfinished
      // dependencies, and add a task once its count reaches 0.
      const elapsedMs = await timeQueue(concurrency, dag.tasks, undefined, (queue) => {
        const unfinished = Int32Array.from(dag.dependencies, (dependencies) => dependencies.length);
        const release = (task: number): void => {
          void queue.add(async () => {
            tracker.run(task);
            for (const dependent of dag.dependents[task]!) if (--unfinished[dependent]! === 0) release(dependent);
          });
        };
        // The roots by their own list, not by `unfinished`: a root may run (and release others) inside `add`.
        for (let task = 0; task < dag.tasks; task++) if (dag.dependencies[task]!.length === 0) release(task);
      });
      tracker.check('p-queue');
      return elapsedMs;
    },

    latencyProbe(concurrency) {
      const queue = new PQueue({ concurrency });
      const counting = new CountingTasks();
      let submitted = 0;
      return {
        sample: (samples, warmup) => {
          submitted += warmup + samples;
          return timeOneAtATime(() => queue.add(counting.noop), samples, warmup);
        },
        close: async () => expectRuns('p-queue', counting.calls, submitted),
      };
    },
  };
}
