import { createEngine, MezanError, type TaskHandle } from '../../src';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// A node gives a task back, unrun, only when its own engine refused it something for its shutdown.
// An E_SHUTDOWN the task meets while its node accepts (another engine's, or its own making) is a
// failure like any other: given back, every node would run it again, for ever. Real Redis; the
// tests count runs and wait for the handle, never for a delay.

const bed = useClusterTestBed();

/** Settles with the handle's result, or once the task ran more than 20 times (it loops). */
async function endOrLoop(handle: TaskHandle<unknown>, runs: () => number): Promise<void> {
  let settled = false;
  handle.result.then(
    () => (settled = true),
    () => (settled = true),
  );
  await until(() => settled || runs() > 20, 'the task to end, or to run more than 20 times');
}

describe('a cluster task whose error carries E_SHUTDOWN while its node accepts', () => {
  it('fails once, E_TASK_FAILED, when it passes on the refusal of another engine that shut down', async () => {
    const other = createEngine({ logger: false });
    await other.shutdown();
    let runs = 0;
    const engine = createEngine({
      logger: false,
      tasks: {
        relay: async () => {
          runs++;
          return other.submit(async () => 1).result;
        },
      },
      cluster: { redis: bed.redis.url, name: bed.freshCluster('foreign-shutdown'), node: 'n1' },
    });
    bed.engines.push(engine);
    await engine.onClusterReady();
    const handle = engine.submit('relay');
    await endOrLoop(handle, () => runs);
    expect(runs).toBe(1);
    await expect(handle.result).rejects.toMatchObject({ code: 'E_TASK_FAILED' });
  });

  it('fails, and retries as any failure, a task that throws an E_SHUTDOWN of its own making', async () => {
    let runs = 0;
    const engine = createEngine({
      logger: false,
      tasks: {
        pay: () => {
          runs++;
          throw new MezanError('E_SHUTDOWN', 'the payment service is restarting');
        },
      },
      cluster: { redis: bed.redis.url, name: bed.freshCluster('own-shutdown'), node: 'n1' },
    });
    bed.engines.push(engine);
    await engine.onClusterReady();
    const handle = engine.submit('pay', { retries: { max: 1, delayMs: 1 } });
    await endOrLoop(handle, () => runs);
    expect(runs).toBe(2);
    expect(handle.status).toBe('failed');
  });
});
