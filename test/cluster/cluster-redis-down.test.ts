import { createEngine, MezanError, type Engine } from '../../src';
import { recordingLogger } from '../fixtures/engine-harness';
import { startRedisServer } from '../fixtures/redis-server';

// A node whose Redis stops answering must still shut down: its last words to Redis (leases given
// back, records withdrawn, connections closed) are waited for `cluster.leaveTimeoutMs` at most.
// The suite starts a redis-server of its own, which it stops mid-test.

const LEAVE_MESSAGE = 'the node left its cluster without its last words';

describe('a node cut off from Redis', () => {
  it('ends its shutdown once cluster.leaveTimeoutMs has passed, saying why; with Redis up it says goodbye and nothing else', async () => {
    const server = await startRedisServer();
    const engines: Engine[] = [];
    try {
      const node = (name: string) => {
        const { logger, records } = recordingLogger();
        const engine = createEngine({
          logger,
          tasks: { answer: () => 42 },
          resources: { db: { capacity: 1, scope: 'cluster' } },
          cluster: { redis: server.url, name: 'down', node: name, leaveTimeoutMs: 200 },
        });
        engines.push(engine);
        return { engine, warnings: () => records.filter((record) => record['level'] === 'warn').map((record) => String(record['message'])) };
      };
      const upright = node('upright');
      const stranded = node('stranded');
      await Promise.all([upright.engine.onClusterReady(), stranded.engine.onClusterReady()]);
      await expect(stranded.engine.submit('answer', { resources: { db: 1 } }).result).resolves.toBe(42);
      await upright.engine.shutdown();
      expect(upright.warnings().filter((message) => message.includes(LEAVE_MESSAGE))).toEqual([]);
      await server.stop();
      const report = await stranded.engine.shutdown();
      expect(report.cluster).toMatchObject({ submitted: 1, completed: 1 });
      expect(stranded.warnings().filter((message) => message.includes(LEAVE_MESSAGE))).toHaveLength(1);
    } finally {
      await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
      await server.stop();
    }
  });
});

describe('a node that never reached its Redis', () => {
  // Nothing listens on port 1: its parts retry, and it never joins.
  it.each([
    ['a node that only submits, forced', 0, { force: true, graceMs: 0 }],
    ['a working node, drained (its worker closes as it drains)', 1, { graceMs: 0 }],
  ])('%s: onClusterReady() rejects E_SHUTDOWN once it shuts down, not with its connection’s error', async (_case, concurrency, shutdown) => {
    const engine = createEngine({
      logger: false,
      tasks: { answer: () => 42 },
      // The longest host timer, past jest's timeout: a shutdown that waited for it would time the test out.
      cluster: { redis: 'redis://127.0.0.1:1', name: 'never', node: 'n', concurrency, leaveTimeoutMs: 2 ** 31 - 1 },
    });
    const ready = engine.onClusterReady().then(
      () => 'joined',
      (error: unknown) => error,
    );
    await engine.shutdown(shutdown);
    const error = await ready;
    expect(error).toBeInstanceOf(MezanError);
    expect(error).toMatchObject({
      code: 'E_SHUTDOWN',
      message: 'The engine shut down before it joined cluster "never"',
      details: { cluster: 'never' },
    });
  });
  it('leaves at once once onClusterReady({ timeoutMs }) gave up and it shuts down: it has nothing to leave, and waits for no cluster.leaveTimeoutMs', async () => {
    // The longest host timer, past jest's timeout: a shutdown that waited for it would time the test out.
    const { logger, records } = recordingLogger();
    const engine = createEngine({
      logger,
      tasks: { answer: () => 42 },
      cluster: { redis: 'redis://127.0.0.1:1', name: 'never', node: 'n', leaveTimeoutMs: 2 ** 31 - 1 },
    });
    await expect(engine.onClusterReady({ timeoutMs: 100 })).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    await engine.shutdown({ force: true, graceMs: 0 });
    expect(records.filter((record) => String(record['message']).includes(LEAVE_MESSAGE))).toEqual([]);
  });
});
