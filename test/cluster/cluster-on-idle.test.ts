import { deferred } from '../fixtures/engine-harness';
import { joinBed, useClusterTestBed } from '../fixtures/cluster-test-bed';

// `onIdle()` of a cluster node resolves once every task it submitted has settled: its local tasks
// and its cluster tasks alike, whichever side ends last. Real Redis, real time: each waiter records
// what the engine said when it resolved, so nothing waits for a delay.

const bed = useClusterTestBed();

describe('onIdle() of a node with cluster tasks and local tasks', () => {
  it('resolves only once its cluster task has settled too, not when its local tasks are done', async () => {
    const name = bed.freshCluster('on-idle');
    const submitter = await joinBed(bed, name, 'submitter', {}, 0);
    // No node works yet: the cluster task waits in the queue.
    const clusterTask = submitter.submit('later', { id: 'later-1' });
    const release = deferred<void>();
    const local = submitter.submit(async () => {
      await release.promise;
      return 'local';
    });
    const idle = submitter.onIdle().then(() => ({ clusterTask: clusterTask.status, isIdle: submitter.isIdle }));
    release.resolve();
    await expect(local.result).resolves.toBe('local');

    await joinBed(bed, name, 'worker', { later: () => 'ran' });
    await expect(clusterTask.result).resolves.toBe('ran');
    expect(await idle).toEqual({ clusterTask: 'completed', isIdle: true });
  });

  it('resolves only once its local tasks are done too, not when its last cluster task settles', async () => {
    const name = bed.freshCluster('on-idle');
    const submitter = await joinBed(bed, name, 'submitter', {}, 0);
    const release = deferred<void>();
    const local = submitter.submit(async () => {
      await release.promise;
      return 'local';
    });
    const clusterTask = submitter.submit('now', { id: 'now-1' });
    const idle = submitter.onIdle().then(() => ({ local: local.status, isIdle: submitter.isIdle }));
    await joinBed(bed, name, 'worker', { now: () => 'ran' });
    await expect(clusterTask.result).resolves.toBe('ran');

    release.resolve();
    await expect(local.result).resolves.toBe('local');
    expect(await idle).toEqual({ local: 'completed', isIdle: true });
  });
});
