import { clusterGraphElements } from '../../../src/dashboard/client/cluster-graph-elements';
import type { ClusterView, ClusterViewNode, ClusterViewPool } from '../../../src/cluster/cluster-view';
import type { DashboardDeadlock } from '../../../src/dashboard/dashboard-monitor';

const member = (node: string, self = false): ClusterViewNode => ({
  node,
  self,
  host: 'h',
  pid: 1,
  engineId: 'e',
  startedAt: 0,
  heartbeatAt: 0,
  deadlockPolicy: 'youngest',
  phase: 'running',
  concurrency: 1,
  workers: [],
  tasks: [],
  pools: [],
  running: 0,
  pending: 0,
  runningTasks: [],
});

const pool = (name: string, holders: ClusterViewPool['holders'], waiters: ClusterViewPool['waiters']): ClusterViewPool => ({
  name,
  capacity: 1,
  agreed: true,
  nodes: ['a', 'b'],
  held: holders.length,
  holders,
  waiters,
});

const share = (node: string, task: string, alive = true) => ({ node, task, units: 1, alive });

/** a's t1 holds db and waits for gpu; b's t2 holds gpu and waits for db; a's t3 holds cache alone; b's t4 awaits a's t1; a dead node's t9 holds cache. */
const VIEW: ClusterView = {
  cluster: 'c',
  node: 'a',
  at: 0,
  nodes: [member('a', true), member('b')],
  pools: [
    pool('cache', [share('a', 't3'), share('gone', 't9', false)], []),
    pool('db', [share('a', 't1')], [share('b', 't2')]),
    pool('gpu', [share('b', 't2')], [share('a', 't1')]),
    pool('solo', [share('a', 't3')], []),
  ],
  edges: [
    { node: 'b', kind: 'awaits', task: 'b/t4', awaited: 'a/t1' },
    { node: 'b', kind: 'awaits', task: 'b/t4', awaited: 'b/t2' },
    { node: 'b', kind: 'requests', task: 'b/t2', resource: 'db', units: 1 },
  ],
};

describe('clusterGraphElements', () => {
  it("draws each live node as a box holding its tasks, boxes first, and a dead node's task outside any, stale", () => {
    const { nodes } = clusterGraphElements(VIEW);
    const drawn = [...nodes.values()].map(({ data, classes }) => [data.id, data.kind, data.label, data.parent ?? null, classes.join(' ')]);
    expect(drawn).toEqual([
      ['node:a', 'node', 'a (this node)', null, 'self'],
      ['node:b', 'node', 'b', null, ''],
      ['pool:cache', 'resource', 'cache\n(1)', null, ''],
      ['task:a/t3', 'task', 't3', 'node:a', ''],
      ['task:gone/t9', 'task', 't9', null, 'stale'],
      ['pool:db', 'resource', 'db\n(1)', null, ''],
      ['task:a/t1', 'task', 't1', 'node:a', ''],
      ['task:b/t2', 'task', 't2', 'node:b', ''],
      ['pool:gpu', 'resource', 'gpu\n(1)', null, ''],
      ['pool:solo', 'resource', 'solo\n(1)', null, ''],
      ['task:b/t4', 'task', 't4', 'node:b', ''],
    ]);
  });

  it("draws holds from the pool, requests to it and the published awaits, marking those that link two nodes; a pool's own requests come from its waiters", () => {
    const { edges } = clusterGraphElements(VIEW);
    expect([...edges.values()].map(({ data, classes }) => `${data.id}${classes.length > 0 ? ` [${classes.join(' ')}]` : ''}`)).toEqual([
      'pool:cache -> task:a/t3 : holds [cross]',
      'pool:cache -> task:gone/t9 : holds [cross]',
      'pool:db -> task:a/t1 : holds [cross]',
      'task:b/t2 -> pool:db : requests [cross]',
      'pool:gpu -> task:b/t2 : holds [cross]',
      'task:a/t1 -> pool:gpu : requests [cross]',
      'pool:solo -> task:a/t3 : holds',
      'task:b/t4 -> task:a/t1 : awaits [cross]',
      'task:b/t4 -> task:b/t2 : awaits',
    ]);
  });
});

describe('clusterGraphElements with a deadlock across nodes', () => {
  /** a's t1 holds db and requests gpu, b's t2 holds gpu and requests db; b's t2 is the victim. */
  const twoNodes = (pools: ClusterViewPool[]): ClusterView => ({ ...VIEW, pools, edges: [] });
  const DEADLOCKED = twoNodes([pool('db', [share('a', 't1')], [share('b', 't2')]), pool('gpu', [share('b', 't2')], [share('a', 't1')])]);
  const deadlock = (cluster: ClusterView | undefined): DashboardDeadlock => ({
    at: 0,
    deadlocked: ['a/t1', 'b/t2'],
    cycle: ['a/t1', 'gpu', 'b/t2', 'db', 'a/t1'],
    graph: { nodes: [], edges: [] },
    resolution: 'victim',
    victim: 'b/t2',
    nodes: ['a', 'b'],
    cluster,
  });
  const marked = ({ nodes, edges }: ReturnType<typeof clusterGraphElements>): string[] =>
    [...nodes.values(), ...edges.values()]
      .filter(({ classes }) => classes.includes('cycle'))
      .map(({ data, classes }) => `${data.id} [${classes.join(' ')}]`);

  it('marks the cycle and the victim on the live graph when it still has them', () => {
    expect(marked(clusterGraphElements(DEADLOCKED, deadlock(undefined)))).toEqual([
      'pool:db [cycle]',
      'task:a/t1 [cycle]',
      'task:b/t2 [cycle victim]',
      'pool:gpu [cycle]',
      'pool:db -> task:a/t1 : holds [cross cycle]',
      'task:b/t2 -> pool:db : requests [cross cycle]',
      'pool:gpu -> task:b/t2 : holds [cross cycle]',
      'task:a/t1 -> pool:gpu : requests [cross cycle]',
    ]);
  });

  it('takes what the live graph lost (the victim gave gpu up, a took it) from the view read before, as stale', () => {
    const after = twoNodes([pool('db', [share('a', 't1')], []), pool('gpu', [share('a', 't1')], [])]);
    const elements = clusterGraphElements(after, deadlock(DEADLOCKED));
    expect(marked(elements)).toEqual([
      'pool:db [cycle]',
      'task:a/t1 [cycle]',
      'pool:gpu [cycle]',
      'task:b/t2 [stale cycle victim]',
      'pool:db -> task:a/t1 : holds [cycle]',
      'task:a/t1 -> pool:gpu : requests [cross stale cycle]',
      'pool:gpu -> task:b/t2 : holds [cross stale cycle]',
      'task:b/t2 -> pool:db : requests [cross stale cycle]',
    ]);
    // Its node is alive: the victim is drawn in its box.
    expect(elements.nodes.get('task:b/t2')!.data.parent).toBe('node:b');
    // A deadlock within one node (no `nodes`) is the engine's graph's, not this one's.
    const local = clusterGraphElements(DEADLOCKED, { ...deadlock(undefined), nodes: undefined });
    expect(marked(local)).toEqual([]);
  });
});
