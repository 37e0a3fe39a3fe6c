import { Queue } from 'bullmq';
import { createEngine, type Engine, type NamedTaskFunctions } from '../../src';
import { deferred, rejectionOf, type Deferred } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A task that was cancelled (or timed out) but whose function never returns (it ignores
// `ctx.signal`) keeps its local slot: its node must not take from the queue a job for that slot,
// which would wait there, locked, while another node is free to run it.

const bed = useClusterTestBed();

/** An engine of `concurrency` slots (its node's too) that joins cluster `name` as node `node`. */
async function joinNode(name: string, node: string, concurrency: number, tasks: NamedTaskFunctions): Promise<Engine> {
  const engine = createEngine({ logger: false, concurrency, tasks, cluster: { redis: bed.redis.url, name, node } });
  bed.engines.push(engine);
  await engine.onClusterReady();
  return engine;
}

describe('a cluster node whose cancelled task never returns', () => {
  let queue: Queue | undefined;
  afterEach(() => queue?.close());

  it('takes no job its engine cannot start: another node runs it', async () => {
    const name = bed.freshCluster('zombie');
    queue = new Queue(name, { connection: { url: bed.redis.url }, prefix: 'mezan' });
    const jobs = queue;
    const hanging = deferred();
    const zombieReturns = deferred();
    const gates = [0, 1, 2, 3, 4].map(() => deferred());
    const started: { readonly node: string; readonly task: number }[] = [];
    const tasksOf = (node: string): NamedTaskFunctions => ({
      // Ignores its signal: it returns only when the test lets it.
      hang: () => {
        hanging.resolve();
        return zombieReturns.promise;
      },
      hold: async (ctx) => {
        const task = ctx.input as number;
        started.push({ node, task });
        await (gates[task] as Deferred<void>).promise;
      },
    });
    const a = await joinNode(name, 'a', 2, tasksOf('a'));
    const zombie = a.submit('hang');
    const holds = [a.submit('hold', { input: 0 })];
    await hanging.promise;
    await until(() => started.length === 1, 'node a to run its second task');
    // Node a's slots are full: these wait in the queue.
    holds.push(...[1, 2].map((task) => a.submit('hold', { input: task })));
    await until(async () => (await jobs.count()) === 2, 'two tasks to wait in the queue');
    zombie.cancel();
    expect((await rejectionOf(zombie)).code).toBe('E_CANCELLED');
    // Its node has heard the cancel: its job failed, its function still runs.
    await until(async () => (await jobs.getFailedCount()) === 1, 'the cancelled job to fail');
    await joinNode(name, 'b', 1, tasksOf('b'));
    await until(() => started.length === 2, 'node b to run a task');
    // Node b's task ends: its slot runs the third, which node a, its slots taken, left in the queue.
    gates[started[1]!.task]!.resolve();
    await until(() => started.length === 3, 'the third task to start');
    expect(started).toEqual([
      { node: 'a', task: 0 },
      { node: 'b', task: 1 },
      { node: 'b', task: 2 },
    ]);
    // Its function returns: node a takes as many jobs as before, once its running one ends.
    zombieReturns.resolve();
    gates[0]!.resolve();
    await holds[0]!.result;
    holds.push(...[3, 4].map((task) => a.submit('hold', { input: task })));
    await until(() => started.length === 5, 'node a to run two more tasks');
    expect(started.slice(3).map(({ node }) => node)).toEqual(['a', 'a']);
    for (const gate of gates) gate.resolve();
    await Promise.all(holds.map((handle) => handle.result));
  });
});
