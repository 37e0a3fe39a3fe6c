import { createEngine, type Engine } from '../../src';
import { recordingLogger, rejectionOf } from '../fixtures/engine-harness';
import { until } from '../fixtures/cluster-test-bed';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

// A Redis server that asks for a password: a node given a wrong one, or none, is refused at once
// (no retry mends it), and one given the right one joins.

const PASSWORD = 'secret';
const WRONG = 'not-the-secret';

let redis: RedisServer;
let engines: Engine[] = [];

beforeAll(async () => {
  redis = await startRedisServer({ args: ['--requirepass', PASSWORD] });
});

afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
  engines = [];
});

afterAll(() => redis.stop());

// Nodes that only submit: a working node refused is run by `mezan node` (test/cli/node-command.test.ts).
function node(url: string, concurrency = 0): Engine {
  const engine = createEngine({ logger: false, tasks: { answer: () => 42 }, cluster: { redis: url, name: 'refusal', node: 'n', concurrency } });
  engines.push(engine);
  return engine;
}

const withPassword = (password: string): string => `redis://:${password}@127.0.0.1:${redis.port}`;

describe('a cluster node refused by its Redis server', () => {
  it.each([
    ['a wrong password', WRONG, /WRONGPASS/],
    ['no password', undefined, /NOAUTH/],
  ])(
    '%s: onClusterReady rejects E_INVALID_OPTION naming cluster.redis with the server’s reason, never the password',
    async (_case, password, reason) => {
      const engine = node(password === undefined ? `redis://127.0.0.1:${redis.port}` : withPassword(password));
      const error = await engine.onClusterReady().then(
        () => undefined,
        (thrown: unknown) => thrown as { code: string; message: string; details: { option: string; server: string; reason: string } },
      );
      expect(error?.code).toBe('E_INVALID_OPTION');
      expect(error?.details.option).toBe('cluster.redis');
      expect(error?.details.server).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(error?.details.reason).toMatch(reason);
      expect(error?.message).toMatch(/cluster\.redis/);
      expect(error?.message).toMatch(reason);
      expect(`${error?.message} ${JSON.stringify(error?.details)}`).not.toContain(WRONG);
    },
  );

  it('fails the cluster tasks submitted while it joined, and those submitted after, with the refusal; its shutdown ends', async () => {
    const engine = node(withPassword(WRONG));
    const early = engine.submit('answer');
    const refusal = await engine.onClusterReady().catch((thrown: unknown) => thrown);
    expect(await rejectionOf(early)).toBe(refusal);
    expect(early.status).toBe('failed');
    const late = engine.submit('answer');
    expect(await rejectionOf(late)).toBe(refusal);
    // A local task runs as ever.
    expect(await engine.submit(() => 'local').result).toBe('local');
    const report = await engine.shutdown();
    expect(report.cluster).toMatchObject({ submitted: 2, failed: 2, pending: 0 });
    expect(report.lost).toBe(0);
  });

  it('reading its cluster’s view writes nothing to the console: its connection’s errors go to the engine’s logger, counted', async () => {
    const consoleError = jest.spyOn(console, 'error');
    try {
      const { logger, records } = recordingLogger();
      const engine = createEngine({ logger, cluster: { redis: withPassword(WRONG), name: 'refusal', node: 'viewer', concurrency: 0 } });
      engines.push(engine);
      await engine.onClusterReady().catch(() => undefined);
      await engine.clusterView().catch(() => undefined);
      // The view's queue shares the membership's connection, which goes on failing: its errors are heard.
      const fromView = () => records.filter((record) => record['message'] === 'cluster: the cluster view reported an error');
      await until(() => fromView().length > 0, 'the view’s error in the log');
      expect(fromView()[0]).toMatchObject({ level: 'warn', error: expect.stringMatching(/WRONGPASS/) });
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });

  it('given the right password, it joins and runs its tasks', async () => {
    const engine = node(withPassword(PASSWORD), 1);
    await engine.onClusterReady();
    expect(await engine.submit('answer').result).toBe(42);
  });
});
