import { readPermit } from '../../actors/cluster-leases';
import { assembleClusterView, type ClusterMember, type ClusterViewParts } from '../../src/cluster/cluster-view';

const member = (node: string, pools: ClusterMember['pools']): ClusterMember => ({
  node,
  host: 'h',
  pid: 1,
  engineId: `engine-${node}`,
  startedAt: 0,
  heartbeatAt: 900,
  phase: 'running',
  concurrency: 2,
  deadlockPolicy: 'youngest',
  workers: [{ id: 'main', slots: 2, running: 1, state: 'busy' }],
  tasks: ['t'],
  pools,
  running: 1,
  pending: 0,
});

const parts = (overrides: Partial<ClusterViewParts>): ClusterViewParts => ({
  cluster: 'c',
  node: 'a',
  at: 10_000,
  members: [],
  edges: [],
  permits: new Map(),
  active: [],
  defaultLeaseMs: 1_000,
  ...overrides,
});

describe('assembleClusterView', () => {
  it('counts only the permits refreshed within their lease, by node and task, marking the holders of nodes no longer alive', () => {
    const view = assembleClusterView(
      parts({
        members: [member('a', [{ name: 'db', capacity: 3, leaseMs: 500 }])],
        permits: new Map([
          [
            'db',
            [
              { holder: { node: 'a', task: 't1' }, refreshedAt: 9_600 },
              { holder: { node: 'a', task: 't1' }, refreshedAt: 9_600 },
              // The permit of a node that died, not yet lapsed.
              { holder: { node: 'gone', task: 't9' }, refreshedAt: 9_500 },
              // Lapsed: older than the pool's 500 ms lease.
              { holder: { node: 'gone', task: 't8' }, refreshedAt: 9_499 },
              { holder: undefined, refreshedAt: 9_900 },
            ],
          ],
        ]),
      }),
    );
    expect(view.pools).toEqual([
      {
        name: 'db',
        capacity: 3,
        agreed: true,
        nodes: ['a'],
        held: 4,
        holders: [
          { node: '?', task: '?', units: 1, alive: false },
          { node: 'a', task: 't1', units: 2, alive: true },
          { node: 'gone', task: 't9', units: 1, alive: false },
        ],
        waiters: [],
      },
    ]);
  });

  it("takes a pool's capacity from the first node that declares it, says whether the others agree, and uses the default lease", () => {
    const view = assembleClusterView(
      parts({
        members: [
          member('a', [{ name: 'gpu', capacity: 2 }]),
          member('b', [
            { name: 'gpu', capacity: 4 },
            { name: 'db', capacity: 1 },
          ]),
        ],
        permits: new Map([['gpu', [{ holder: { node: 'b', task: 'x' }, refreshedAt: 8_999 }]]]),
      }),
    );
    expect(view.pools.map(({ name, capacity, agreed, nodes, held }) => ({ name, capacity, agreed, nodes, held }))).toEqual([
      { name: 'db', capacity: 1, agreed: true, nodes: ['b'], held: 0 },
      { name: 'gpu', capacity: 2, agreed: false, nodes: ['a', 'b'], held: 0 },
    ]);
  });

  it('gives each node its active jobs and marks the reading node; waiters and edges come from the published waits, not what a policy weighs', () => {
    const view = assembleClusterView(
      parts({
        members: [member('a', [{ name: 'db', capacity: 1 }]), member('b', [])],
        active: [
          { id: 'j1', name: 't', node: 'b', attempt: 2, startedAt: 5 },
          { id: 'j2', name: 't', node: undefined, attempt: 1, startedAt: undefined },
        ],
        edges: [
          {
            node: 'b',
            version: 3,
            edges: [
              { kind: 'requests', task: 'b/t2', resource: 'db', units: 1, capacity: 1, request: 'r1' },
              { kind: 'awaits', task: 'b/t2', awaited: 'a/t1' },
              { kind: 'runs', task: 'b/t2', priority: 0, startedAt: 5 },
            ],
          },
        ],
      }),
    );
    expect(view.nodes.map(({ node, self, runningTasks }) => ({ node, self, runningTasks }))).toEqual([
      { node: 'a', self: true, runningTasks: [] },
      { node: 'b', self: false, runningTasks: [{ id: 'j1', name: 't', attempt: 2, startedAt: 5 }] },
    ]);
    expect(view.pools[0]!.waiters).toEqual([{ node: 'b', task: 't2', units: 1, alive: true }]);
    expect(view.edges).toEqual([
      { node: 'b', kind: 'requests', task: 'b/t2', resource: 'db', units: 1, capacity: 1, request: 'r1' },
      { node: 'b', kind: 'awaits', task: 'b/t2', awaited: 'a/t1' },
    ]);
  });
});

describe('readPermit', () => {
  it.each([
    ['api-1:task-3:0b8a7c2e-64a4-4c41-9c7a-7f2f6a3b1d9e_0', { node: 'api-1', task: 'task-3' }],
    ['eu%3Aa:order%3A1:0b8a7c2e-64a4-4c41-9c7a-7f2f6a3b1d9e_12', { node: 'eu:a', task: 'order:1' }],
    ['api-1:task-3:not-a-uuid_0', undefined],
    ['api-1:task-3:0b8a7c2e-64a4-4c41-9c7a-7f2f6a3b1d9e', undefined],
    ['%E0%A4%A:t:0b8a7c2e-64a4-4c41-9c7a-7f2f6a3b1d9e_0', undefined],
  ])('reads %p as %p', (member, holder) => {
    expect(readPermit(member)).toEqual(holder);
  });
});
