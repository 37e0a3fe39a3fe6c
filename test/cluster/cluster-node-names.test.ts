import os, { hostname } from 'node:os';
import { createEngine, type Engine } from '../../src';
import { recordingLogger } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { useAdminRedis, warningsAbout, type LogRecords } from '../fixtures/cluster-logged-nodes';
import { resolveClusterOptions } from '../../src/cluster/cluster-options';

// A node's name is its identity in the cluster (its membership record, its tasks' ids in the
// detection of deadlocks across nodes): the default is unique to each engine, and two live engines
// given one name are warned of it. On a real redis-server; the warnings come with the membership's
// heartbeats (every third of its 10 s time to live), waited for as they happen.

const bed = useClusterTestBed();
const admin = useAdminRedis(bed);

function node(cluster: string, name?: string): { engine: Engine; records: LogRecords } {
  const { logger, records } = recordingLogger();
  const engine = createEngine({ logger, tasks: { t: () => 1 }, cluster: { redis: bed.redis.url, name: cluster, node: name } });
  bed.engines.push(engine);
  return { engine, records };
}

const nameWarnings = (records: LogRecords): LogRecords => warningsAbout(records, 'cluster.node');

/** The `heartbeatAt` of node `name`'s membership record, `undefined` without one. */
async function heartbeatOf(cluster: string, name: string): Promise<number | undefined> {
  const stored = await admin().get(`mezan:${cluster}:members:node:${name}`);
  return stored === null ? undefined : (JSON.parse(stored.slice(stored.indexOf('\n') + 1)) as { heartbeatAt: number }).heartbeatAt;
}

describe("a cluster node's name", () => {
  it('is by default unique to each engine: two engines of one process are two nodes', async () => {
    const cluster = bed.freshCluster('names');
    const [a, b] = [node(cluster), node(cluster)];
    await Promise.all([a.engine.onClusterReady(), b.engine.onClusterReady()]);
    let names: string[] = [];
    await until(async () => {
      names = ((await a.engine.clusterView())?.nodes ?? []).map((member) => member.node);
      return names.length === 2;
    }, 'both nodes listed');
    const stem = `${hostname()}-${process.pid}-`;
    expect(names.every((name) => name.startsWith(stem) && /^[0-9a-f]{6}$/.test(name.slice(stem.length)))).toBe(true);
    expect(new Set(names).size).toBe(2);
    expect([...nameWarnings(a.records), ...nameWarnings(b.records)]).toEqual([]);
  });

  it('given to two live engines, warns each of them once, naming cluster.node and the other engine', async () => {
    const cluster = bed.freshCluster('same-name');
    const [a, b] = [node(cluster, 'same'), node(cluster, 'same')];
    await Promise.all([a.engine.onClusterReady(), b.engine.onClusterReady()]);
    await until(() => nameWarnings(a.records).length > 0 && nameWarnings(b.records).length > 0, 'both engines warned');
    expect(nameWarnings(a.records)).toEqual([expect.objectContaining({ node: 'same', engineId: a.engine.id, otherEngineId: b.engine.id })]);
    expect(nameWarnings(b.records)).toEqual([expect.objectContaining({ node: 'same', engineId: b.engine.id, otherEngineId: a.engine.id })]);
    // Their records go on overwriting each other, but each was warned once.
    const seen = await heartbeatOf(cluster, 'same');
    await until(async () => ((await heartbeatOf(cluster, 'same')) ?? 0) > seen!, 'another heartbeat');
    expect(nameWarnings(a.records)).toHaveLength(1);
    expect(nameWarnings(b.records)).toHaveLength(1);
  });

  it('does not warn a node that replaces the record of its name left by an engine that died', async () => {
    const cluster = bed.freshCluster('restarted');
    const { engine: first } = node(cluster, 'solo');
    await first.onClusterReady();
    await until(async () => (await heartbeatOf(cluster, 'solo')) !== undefined, 'the first engine’s record');
    const left = (await admin().get(`mezan:${cluster}:members:node:solo`))!;
    await first.shutdown();
    // As if the first engine had died: its record is still there, for its time to live.
    await admin().set(`mezan:${cluster}:members:node:solo`, left, 'PX', 60_000);
    await admin().sadd(`mezan:${cluster}:members:nodes`, 'solo');
    const second = node(cluster, 'solo');
    await second.engine.onClusterReady();
    await until(
      async () => ((await heartbeatOf(cluster, 'solo')) ?? 0) > JSON.parse(left.slice(left.indexOf('\n') + 1)).heartbeatAt,
      'the second engine’s record',
    );
    const joined = (await heartbeatOf(cluster, 'solo'))!;
    // A heartbeat after the join: its write is checked against what it replaces (its own record).
    await until(async () => ((await heartbeatOf(cluster, 'solo')) ?? 0) > joined, 'a heartbeat after the join');
    expect(nameWarnings(second.records)).toEqual([]);
  });
});

describe("a cluster node's name, as Redis names connections after it", () => {
  afterEach(() => jest.restoreAllMocks());

  it.each(['worker 1', 'tab\there', 'line\nbreak', 'nœud', '\u0000'])('refuses %j: E_INVALID_OPTION naming cluster.node', (node) => {
    expect(() => resolveClusterOptions({ redis: 'redis://127.0.0.1:1', name: 'n', node }, 1, true)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', details: expect.objectContaining({ option: 'cluster.node', received: node }) }),
    );
  });

  it('takes every visible ASCII character, ! to ~', () => {
    const node = Array.from({ length: 94 }, (_, index) => String.fromCharCode(33 + index)).join('');
    expect(resolveClusterOptions({ redis: 'redis://127.0.0.1:1', name: 'n', node }, 1, true).node).toBe(node);
  });

  it('makes a default Redis takes of a host name it would not: a space or beyond ASCII becomes _', () => {
    jest.spyOn(os, 'hostname').mockReturnValue('Jo’s laptop');
    const { node } = resolveClusterOptions({ redis: 'redis://127.0.0.1:1', name: 'n' }, 1, true);
    expect(node).toMatch(new RegExp(`^Jo_s_laptop-${process.pid}-[0-9a-f]{6}$`));
  });
});
