import type { Job } from 'bullmq';
import { ClusterTaskContext, type ProgressReporter } from '../../src/cluster/cluster-task-context';
import { createEngine, type Engine } from '../../src/engine';
import type { DependencyOutcome, TaskContext } from '../../src/task-options';
import { threadTargetOf, withContextView, type ContextView } from '../../src/threads/in-thread';
import { errorOf, threadTask } from '../fixtures/thread-task-fixtures';

// withContextView: a task whose attempts run with a ctx made of theirs (a cluster node's tasks, with
// the cluster's identity). A thread task stays one and runs on a thread, whose ctx is the view's:
// its plain data, and what its calls reach. Real threads: every wait is on a handle.

let engine: Engine;

afterEach(async () => {
  await engine.shutdown({ graceMs: 1000 });
});

/** Progress reported through the views' contexts. */
const reported: Array<[string, number, string | undefined]> = [];
const reporter: ProgressReporter = { reportProgress: (job, _attempt, fraction, message) => void reported.push([job.id!, fraction, message]) };

/** A view that names the task `id` and counts its attempts from `attempt`, with `dependencies`. */
const viewAs =
  (id: string, attempt: number, dependencies: readonly DependencyOutcome[] = []): ContextView =>
  (ctx: TaskContext) =>
    new ClusterTaskContext(ctx, { id } as Job, attempt, dependencies, reporter);

beforeEach(() => {
  reported.length = 0;
});

describe('withContextView', () => {
  test('a thread task stays one: it runs on a thread, with the view’s id, attempt and dependencies in its ctx there', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const viewed = withContextView(threadTask('describeContext'), viewAs('job-7', 3, [{ id: 'dep', name: 'dep', status: 'completed', value: 1 }]));
    expect(threadTargetOf(viewed)).toEqual(threadTargetOf(threadTask('describeContext')));
    await expect(engine.submit(viewed, { name: 'described', input: 'in', meta: { m: 1 } }).result).resolves.toEqual({
      id: 'job-7',
      name: 'described',
      attempt: 3,
      input: 'in',
      meta: { m: 1 },
      dependencies: [{ id: 'dep', name: 'dep', status: 'completed', value: 1 }],
      frozen: true,
    });
    await expect(engine.submit(withContextView(threadTask('where'), viewAs('job-8', 1))).result).resolves.toEqual({ isMainThread: false });
    expect(engine.stats().workers.find((worker) => worker.id === 'thread')?.tasksCompleted).toBe(2);
  });

  test('what the thread’s ctx does reaches the view: its progress, and a crash names the view’s task', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const progress: number[] = [];
    engine.events$.subscribe((event) => event.type === 'task.progress' && progress.push(event.fraction));
    await expect(engine.submit(withContextView(threadTask('reports'), viewAs('job-9', 1))).result).resolves.toBe('reported');
    expect(reported).toEqual([
      ['job-9', 0.5, 'half'],
      ['job-9', 1, undefined],
    ]);
    // The attempt's own progress too, as ClusterTaskContext passes it on.
    expect(progress).toEqual([0.5, 1]);
    const crashed = await errorOf(engine.submit(withContextView(threadTask('exitNow'), viewAs('job-10', 1))).result);
    expect(crashed.code).toBe('E_WORKER_CRASHED');
    expect(crashed.details).toMatchObject({ taskId: 'job-10', workerId: 'thread' });
  });

  test('views compose, the outer first; a function that is not a thread task gets its view too', async () => {
    engine = createEngine({ threads: 1, logger: false });
    const inner: ContextView = (ctx) => new ClusterTaskContext(ctx, { id: `${ctx.id}/inner` } as Job, ctx.attempt + 1, ctx.dependencies, reporter);
    const twice = withContextView(withContextView(threadTask('describeContext'), inner), viewAs('outer', 5));
    await expect(engine.submit(twice).result).resolves.toMatchObject({ id: 'outer/inner', attempt: 6 });
    const plain = withContextView((ctx) => `${ctx.id} ${ctx.attempt}`, viewAs('plain', 4));
    expect(threadTargetOf(plain)).toBeUndefined();
    await expect(engine.submit(plain).result).resolves.toBe('plain 4');
  });
});
