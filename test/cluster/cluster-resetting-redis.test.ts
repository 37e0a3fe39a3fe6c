import { createEngine, type Engine, type EngineOptions } from '../../src';
import { recordingLogger } from '../fixtures/engine-harness';
import { startResettingServer, type ResettingServer } from '../fixtures/resetting-server';

// A "Redis" that resets every connection it accepts: the nodes never join, and each of their
// connections reconnects in a loop. Shut down, they must leave nothing open (the process could not
// end otherwise), and meanwhile their log must not grow by a line per attempt.

/** Connection attempts enough that every part of the nodes has failed again and again. */
const ATTEMPTS = 60;

let server: ResettingServer;
let engines: Engine[] = [];

afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
  engines = [];
  await server.stop();
});

/**
 * The nodes of every kind: working with a cluster pool (the cross-node detector part on the pools'
 * connection), working without one (the part on a connection of its own), and only submitting.
 */
function nodes(url: string): Array<ReturnType<typeof recordingLogger>> {
  const kinds: Array<{ node: string; concurrency: number; resources: EngineOptions['resources'] }> = [
    { node: 'pooled', concurrency: 1, resources: { db: { capacity: 1, scope: 'cluster' } } },
    { node: 'working', concurrency: 1, resources: {} },
    { node: 'submitting', concurrency: 0, resources: {} },
  ];
  return kinds.map(({ node, concurrency, resources }) => {
    const logged = recordingLogger();
    engines.push(
      createEngine({
        logger: logged.logger,
        tasks: { answer: () => 42 },
        resources,
        deadlock: { detect: 'immediate' },
        // Short: the nodes' last words would never reach this Redis anyway.
        cluster: { redis: url, name: 'resetting', node, concurrency, leaveTimeoutMs: 50 },
      }),
    );
    return logged;
  });
}

/** How many of each kind of handle (`TCPWRAP`, `Timeout`…) keep the event loop alive. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The kinds of handle of which more are open now than in `baseline`, with how many more. */
function openedSince(baseline: Map<string, number>): Array<[string, number]> {
  return [...activeResources()].map(([kind, count]): [string, number] => [kind, count - (baseline.get(kind) ?? 0)]).filter(([, more]) => more > 0);
}

describe('cluster nodes whose Redis resets every connection', () => {
  it('leave nothing open once a forced shutdown resolved: no socket, no reconnection timer, no lock renewal', async () => {
    server = await startResettingServer();
    const baseline = activeResources();
    nodes(server.url);
    await server.onAttempts(ATTEMPTS);
    expect(openedSince(baseline)).not.toEqual([]);
    await Promise.all(engines.map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
    // Dropped sockets close on a later turn of the event loop: looked at again each turn until none
    // is left (a connection that reconnects, or a timer that renews locks, never goes).
    while (openedSince(baseline).length > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(openedSince(baseline)).toEqual([]);
  });

  it('writes each part’s error once, not once per attempt', async () => {
    server = await startResettingServer();
    const logs = nodes(server.url);
    await server.onAttempts(ATTEMPTS);
    for (const { records } of logs) {
      const written = records
        .filter((record) => record['level'] === 'warn' && record['repeated'] === undefined)
        .map((record) => `${String(record['message'])}: ${String(record['error'])}`);
      // Each error of each part once (later, a line with how many times it was heard since).
      expect(written).toEqual([...new Set(written)]);
    }
    const parts = logs.flatMap(({ records }) => records.map((record) => String(record['message'])));
    expect(parts).toContain('cluster: the cluster deadlock detector’s Redis connection reported an error');
    expect(parts).toContain('cluster: the cluster membership’s Redis connection reported an error');
    expect(parts).toContain('cluster: the cluster pools’ Redis connection reported an error');
  });
});
