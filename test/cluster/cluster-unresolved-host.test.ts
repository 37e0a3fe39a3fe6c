import { createEngine, type Engine } from '../../src';
import { recordingLogger, rejectionOf } from '../fixtures/engine-harness';
import { until } from '../fixtures/cluster-test-bed';

// A Redis host the DNS does not know (yet: in docker-compose or Kubernetes a service's name may
// resolve only once it is up) is no refusal: the node retries as for a server not up, and
// `onClusterReady({ timeoutMs })` bounds the wait, naming the server and the last error heard.
// `.invalid` never resolves (RFC 2606); where no DNS answers at all, the error is EAI_AGAIN.

const UNRESOLVED = /ENOTFOUND|EAI_AGAIN/;

let engines: Engine[] = [];

afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
  engines = [];
});

function node(redis: string, logger = recordingLogger()): { engine: Engine; records: Array<Record<string, unknown>> } {
  const engine = createEngine({
    logger: logger.logger,
    tasks: { answer: () => 42 },
    // Never connected, it has no last words to wait for as it stops.
    cluster: { redis, name: 'unresolved', node: 'n', concurrency: 1, leaveTimeoutMs: 100 },
  });
  engines.push(engine);
  return { engine, records: logger.records };
}

describe('a cluster node whose Redis host does not resolve', () => {
  it('retries as for a server not up: onClusterReady waits, and given timeoutMs rejects E_TIMEOUT naming the server and the DNS’s answer', async () => {
    const { engine, records } = node('redis://:hunter2@no-such-host.invalid:6379');
    let joining = 'waiting';
    engine.onClusterReady().then(
      () => (joining = 'joined'),
      (error: { code: string }) => (joining = error.code),
    );
    const task = engine.submit('answer');
    await until(() => records.some((record) => UNRESOLVED.test(String(record['error']))), 'the DNS’s answer in the log');
    const late = await engine.onClusterReady({ timeoutMs: 1 }).then(
      () => undefined,
      (error: unknown) => error as { code: string; message: string; details: Record<string, unknown> },
    );
    expect(late).toMatchObject({
      code: 'E_TIMEOUT',
      details: { cluster: 'unresolved', server: 'redis://no-such-host.invalid:6379', timeoutMs: 1, reason: expect.stringMatching(UNRESOLVED) },
    });
    expect(late?.message).toContain('Did not join cluster "unresolved" within 1 ms: redis://no-such-host.invalid:6379 was not reached');
    expect(`${late?.message} ${JSON.stringify(late?.details)}`).not.toContain('hunter2');
    // Neither refused nor given up: the node goes on retrying, its task waits.
    expect(joining).toBe('waiting');
    expect(task.isSettled).toBe(false);
    await engine.shutdown({ force: true, graceMs: 0 });
    await until(() => joining !== 'waiting', 'the joining to end');
    expect(joining).toBe('E_SHUTDOWN');
    expect((await rejectionOf(task)).code).toBe('E_SHUTDOWN');
  });

  it('onClusterReady({ timeoutMs }) rejects E_TIMEOUT for a server not up too, and resolves at once for an engine that is no cluster node', async () => {
    // Nothing listens on port 1 of the loopback: refused connections, a server not up.
    const { engine } = node('redis://127.0.0.1:1');
    await expect(engine.onClusterReady({ timeoutMs: 1 })).rejects.toMatchObject({
      code: 'E_TIMEOUT',
      details: { cluster: 'unresolved', server: 'redis://127.0.0.1:1', timeoutMs: 1 },
    });
    const local = createEngine({ logger: false });
    engines.push(local);
    await expect(local.onClusterReady({ timeoutMs: 1 })).resolves.toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['zero', { timeoutMs: 0 }],
    ['a fraction', { timeoutMs: 1.5 }],
    ['a string', { timeoutMs: '100' }],
    ['null', { timeoutMs: null }],
    ['an unknown key', { timeout: 100 }],
    ['no object', 100],
  ])('onClusterReady refuses %s, rejecting E_INVALID_OPTION', async (_case, options) => {
    const { engine } = node('redis://127.0.0.1:1');
    await expect(engine.onClusterReady(options as { timeoutMs: number })).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
  });
});
