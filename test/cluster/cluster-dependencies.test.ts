import { createEngine, MezanError, type DependencyOutcome, type Engine, type NamedTaskFunctions } from '../../src';
import { deferred, rejectionOf, thrownBy } from '../fixtures/engine-harness';
import { useClusterTestBed } from '../fixtures/cluster-test-bed';

// Dependencies between cluster tasks: the submitting node gates the dependant (its job is added
// once its dependencies allow it, with their outcomes), with a local engine's semantics. Real time
// on a real redis-server: the tests wait for events (deferreds), never for a delay.

const bed = useClusterTestBed();

async function joinCluster(tasks: NamedTaskFunctions, concurrency = 4): Promise<{ submitter: Engine; worker: Engine }> {
  const name = bed.freshCluster('deps');
  const submitter = createEngine({ logger: false, cluster: { redis: bed.redis.url, name, node: 'submitter', concurrency: 0 } });
  const worker = createEngine({ logger: false, concurrency, tasks, cluster: { redis: bed.redis.url, name, node: 'worker' } });
  bed.engines.push(submitter, worker);
  await Promise.all([submitter.onClusterReady(), worker.onClusterReady()]);
  return { submitter, worker };
}

describe('dependencies between cluster tasks', () => {
  it('runs the dependant once its dependencies completed, with their outcomes in ctx.dependencies', async () => {
    const release = deferred();
    const seen: Array<readonly DependencyOutcome[]> = [];
    const ran: string[] = [];
    const { submitter } = await joinCluster({
      fetch: async (ctx) => {
        await release.promise;
        ran.push(`fetch ${String(ctx.input)}`);
        return { rows: ctx.input };
      },
      report: (ctx) => {
        ran.push('report');
        seen.push(ctx.dependencies);
        return ctx.dependencies.length;
      },
    });
    const a = submitter.submit('fetch', { id: 'fetch-a', input: 1 });
    submitter.submit('fetch', { id: 'fetch-b', input: 2 });
    const report = submitter.submit('report', { dependsOn: [a, 'fetch-b'] });
    expect(report.status).toBe('waiting');
    release.resolve();
    await expect(report.result).resolves.toBe(2);
    expect(ran.slice(-1)).toEqual(['report']);
    expect(ran.slice(0, 2).sort()).toEqual(['fetch 1', 'fetch 2']);
    expect(seen).toEqual([
      [
        { id: 'fetch-a', name: 'fetch', status: 'completed', value: { rows: 1 } },
        { id: 'fetch-b', name: 'fetch', status: 'completed', value: { rows: 2 } },
      ],
    ]);
  });

  it('fails the dependant E_DEPENDENCY_FAILED when a dependency fails, unless it allows a settled one', async () => {
    let reports = 0;
    const seen: Array<readonly DependencyOutcome[]> = [];
    const { submitter } = await joinCluster({
      charge: () => {
        throw new Error('card declined');
      },
      report: () => ++reports,
      cleanup: (ctx) => {
        seen.push(ctx.dependencies);
        return 'cleaned';
      },
    });
    const charge = submitter.submit('charge', { id: 'charge-1' });
    const report = submitter.submit('report', { dependsOn: [charge] });
    const cleanup = submitter.submit('cleanup', { dependsOn: [{ task: charge, allow: 'settled' }] });
    const error = await rejectionOf(report);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details).toMatchObject({ dependency: 'charge-1', dependencyStatus: 'failed' });
    expect(report.status).toBe('failed');
    await expect(cleanup.result).resolves.toBe('cleaned');
    expect(reports).toBe(0);
    const [outcome] = seen[0]!;
    expect(outcome).toMatchObject({ id: 'charge-1', name: 'charge', status: 'failed' });
    expect(outcome!.error).toBeInstanceOf(MezanError);
    expect(outcome!.error!.code).toBe('E_TASK_FAILED');
    expect(outcome!.error!.message).toContain('card declined');
  });

  it('never sends a dependant cancelled while it waits; a cancelled dependency fails its dependants', async () => {
    const release = deferred();
    const ran: string[] = [];
    const { submitter } = await joinCluster({
      slow: async () => {
        await release.promise;
        ran.push('slow');
      },
      after: () => void ran.push('after'),
    });
    const slow = submitter.submit('slow');
    const cancelled = submitter.submit('after', { dependsOn: [slow] });
    expect(cancelled.cancel()).toBe(true);
    const runs = submitter.submit('after', { dependsOn: [slow] });
    const doomed = submitter.submit('slow', { id: 'to-cancel' });
    const orphan = submitter.submit('after', { dependsOn: ['to-cancel'] });
    expect(thrownBy(() => submitter.submit('after', { dependsOn: ['to-cancel', 'no-such-id'] })).details['option']).toBe('dependsOn[1]');
    doomed.cancel();
    const error = await rejectionOf(orphan);
    expect(error.code).toBe('E_DEPENDENCY_FAILED');
    expect(error.details['dependencyStatus']).toBe('cancelled');
    release.resolve();
    await expect(runs.result).resolves.toBeNull();
    expect((await rejectionOf(cancelled)).code).toBe('E_CANCELLED');
    expect(ran.filter((name) => name === 'after')).toHaveLength(1);
  });

  it('takes a settled handle of any task, and refuses an unfinished local task, saying why', async () => {
    const { submitter } = await joinCluster({ echo: (ctx) => ctx.dependencies.map((outcome) => outcome.value) });
    const local = submitter.submit(async () => 'local value');
    const error = thrownBy(() => submitter.submit('echo', { dependsOn: [local] }));
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details['option']).toBe('dependsOn[0]');
    expect(error.message).toContain('an unfinished local task cannot be a cluster task’s dependency');
    await local.result;
    await expect(submitter.submit('echo', { dependsOn: [local] }).result).resolves.toEqual(['local value']);
    const unclonable = submitter.submit(async () => BigInt(1));
    await unclonable.result;
    expect(thrownBy(() => submitter.submit('echo', { dependsOn: [unclonable] })).details['option']).toBe('dependsOn[0]');
  });
});
