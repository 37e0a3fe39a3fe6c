import { createEngine, type ClusterTaskCounts, type Engine, type EngineEvent, type NamedTaskFunctions } from '../../src';
import { joinBed, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { deferred, rejectionOf } from '../fixtures/engine-harness';

// The engine that submits cluster tasks counts them, apart from its own tasks, in progress(),
// stats() and its shutdown report. Real Redis, real time: the tests wait for events and results,
// never for a delay.

const bed = useClusterTestBed();

const COUNTED = ['submitted', 'pending', 'running', 'completed', 'failed', 'cancelled', 'timedOut', 'deadlocked', 'rejected'] as const;

/** The counts, 0 but for `changes`. */
function counts(changes: Partial<ClusterTaskCounts>): ClusterTaskCounts {
  return { ...(Object.fromEntries(COUNTED.map((key) => [key, 0])) as Record<(typeof COUNTED)[number], number>), ...changes };
}

function join(name: string, node: string, tasks: NamedTaskFunctions, concurrency?: number): Promise<Engine> {
  return joinBed(bed, name, node, tasks, concurrency);
}

/** Resolves with the first of `engine`'s events that `matches` (subscribed now). */
function nextEvent(engine: Engine, matches: (event: EngineEvent) => boolean): Promise<EngineEvent> {
  return new Promise((resolve) => {
    const subscription = engine.events$.subscribe((event) => {
      if (!matches(event)) return;
      subscription.unsubscribe();
      resolve(event);
    });
  });
}

describe('a submitter counts the cluster tasks it submitted', () => {
  it('in progress() and stats(): pending, running and how each ended, apart from its own counts', async () => {
    const name = bed.freshCluster('counts');
    const release = deferred();
    const submitter = await join(name, 'submitter', {}, 0);
    const ok = submitter.submit('ok');
    const boom = submitter.submit('boom');
    const held = submitter.submit('held');
    const dropped = submitter.submit('ok');
    expect(dropped.cancel('not wanted')).toBe(true);
    // No node works yet: three wait in the queue.
    expect(submitter.progress().cluster).toEqual(counts({ submitted: 4, pending: 3, cancelled: 1 }));
    const heldStarted = nextEvent(submitter, (event) => event.type === 'task.started' && event.taskId === held.id);
    await join(name, 'worker', {
      ok: () => 'fine',
      boom: () => {
        throw new Error('boom');
      },
      held: () => release.promise,
    });
    await expect(ok.result).resolves.toBe('fine');
    expect((await rejectionOf(boom)).code).toBe('E_TASK_FAILED');
    await heldStarted;
    const during = counts({ submitted: 4, running: 1, completed: 1, failed: 1, cancelled: 1 });
    expect(submitter.progress().cluster).toEqual(during);
    expect(submitter.stats().cluster).toEqual(during);
    release.resolve();
    await held.result;
    expect(submitter.progress().cluster).toEqual(counts({ submitted: 4, completed: 2, failed: 1, cancelled: 1 }));
    // Its own counts are its local tasks': none here.
    expect(submitter.progress()).toMatchObject({ total: 0, completed: 0, failed: 0, cancelled: 0, running: 0, pending: 0 });
    expect(submitter.stats().totals.attempts).toBe(0);
  });

  it('counts a retried task once: completed at the end, nothing left running or pending', async () => {
    const name = bed.freshCluster('counts');
    let attempts = 0;
    const submitter = await join(name, 'submitter', {}, 0);
    await join(name, 'worker', {
      flaky: () => {
        if (++attempts === 1) throw new Error('first attempt fails');
        return 'second time';
      },
    });
    await expect(submitter.submit('flaky', { retries: 1 }).result).resolves.toBe('second time');
    expect(submitter.progress().cluster).toEqual(counts({ submitted: 1, completed: 1 }));
  });

  it('counts a task the submitting node runs itself twice, apart: once as its own task, once as its cluster task', async () => {
    const name = bed.freshCluster('counts');
    const only = await join(name, 'only', { echo: (ctx) => ctx.input });
    await expect(only.submit('echo', { input: 7 }).result).resolves.toBe(7);
    expect(only.progress().cluster).toEqual(counts({ submitted: 1, completed: 1 }));
    expect(only.progress()).toMatchObject({ total: 1, completed: 1 });
    expect(only.stats().totals.tasksCompleted).toBe(1);
  });

  it('in the shutdown report: how each ended, those refused once shutdown began as rejected, and none left pending', async () => {
    const name = bed.freshCluster('counts');
    const release = deferred();
    const submitter = await join(name, 'submitter', {}, 0);
    await join(name, 'worker', { ok: () => 'fine', held: () => release.promise });
    await submitter.submit('ok').result;
    const started = nextEvent(submitter, (event) => event.type === 'task.started');
    const held = submitter.submit('held');
    await started;
    // Draining waits for the held task: a submission meanwhile is refused.
    const report = submitter.shutdown({ graceMs: 60_000 });
    expect(submitter.submit('ok').status).toBe('rejected');
    expect(submitter.progress().cluster).toEqual(counts({ submitted: 3, running: 1, completed: 1, rejected: 1 }));
    release.resolve();
    await held.result;
    expect((await report).cluster).toEqual(counts({ submitted: 3, completed: 2, rejected: 1 }));
  });

  it('in the shutdown report: a task still in the cluster when the grace ends counts as cancelled, not pending', async () => {
    const name = bed.freshCluster('counts');
    const submitter = await join(name, 'submitter', {}, 0);
    // No node ever takes it.
    const handle = submitter.submit('nobody-runs-this');
    const report = await submitter.shutdown({ force: true });
    expect(handle.status).toBe('cancelled');
    expect(report.cluster).toEqual(counts({ submitted: 1, cancelled: 1 }));
    expect(report).toMatchObject({ submitted: 0, cancelled: 0, lost: 0 });
  });

  it('is left out of an engine without the cluster option', async () => {
    const engine = createEngine({ logger: false });
    await engine.submit(() => 1).result;
    expect(engine.progress().cluster).toBeUndefined();
    expect(engine.stats().cluster).toBeUndefined();
    expect((await engine.shutdown()).cluster).toBeUndefined();
  });
});
