import { LocalPoolWaits } from '../../src/cluster/local-pool-waits';
import type { GraphPoolChangesEvent, ResourceGraphEvent } from '../../src/internal/resource-protocol';
import { ClusterWaitsRelay, type ClusterWaitsEvent } from '../../actors/cluster-waits-relay';

// A node's local pools as its detector hears them, kept for the cluster's wait-for graph.

const holds = (taskId: string, units: number): ResourceGraphEvent => ({ type: 'graph.holds', resource: 'db', taskId, units });
const requests = (taskId: string, units: number): ResourceGraphEvent => ({ type: 'graph.requests', resource: 'db', taskId, units });
const changes = (contended: boolean, ...list: ResourceGraphEvent[]): GraphPoolChangesEvent => ({
  type: 'graph.pool-changes',
  resource: 'db',
  capacity: 2,
  contended,
  changes: list,
});

describe('LocalPoolWaits', () => {
  it('keeps a contended pool’s holders and waits, each wait with an id of its own that stays while it waits', () => {
    const waits = new LocalPoolWaits('w-');
    expect(waits.contended).toBe(false);
    waits.apply(changes(true, requests('t3', 1), holds('t1', 1), holds('t2', 1)));
    waits.apply(changes(true, requests('t4', 2)));
    // t3's wait grows: the same wait.
    waits.apply(changes(true, requests('t3', 2)));
    expect(waits.contended).toBe(true);
    expect([...waits.pools()]).toEqual([
      [
        'db',
        {
          capacity: 2,
          holdings: [
            { taskId: 't1', units: 1 },
            { taskId: 't2', units: 1 },
          ],
          waiting: [
            { taskId: 't3', units: 2, requestId: 'w-1' },
            { taskId: 't4', units: 2, requestId: 'w-2' },
          ],
        },
      ],
    ]);
    expect(waits.isWaiting('t3', 'w-1')).toBe(true);
    expect(waits.isWaiting('t3', 'w-2')).toBe(false);
  });

  it('ends a wait once its request is gone (a later wait of the same task is another), and forgets the pool once nothing waits', () => {
    const waits = new LocalPoolWaits('w-');
    waits.apply(changes(true, requests('t2', 1), holds('t1', 2)));
    waits.apply(changes(true, requests('t2', 0), holds('t1', 1), holds('t2', 1), requests('t2', 1)));
    expect(waits.isWaiting('t2', 'w-1')).toBe(false);
    expect(waits.isWaiting('t2', 'w-2')).toBe(true);
    waits.apply(changes(false, requests('t2', 0), holds('t2', 2)));
    expect(waits.contended).toBe(false);
    expect([...waits.pools()]).toEqual([]);
    expect(waits.isWaiting('t2', 'w-2')).toBe(false);
  });

  it('replays what it knows as changes that tell it whole to one that knows nothing', () => {
    const waits = new LocalPoolWaits('w-');
    waits.apply(changes(true, requests('t3', 1), holds('t1', 1), holds('t2', 1)));
    const copy = new LocalPoolWaits('w-');
    for (const change of waits.replay()) copy.apply(change);
    expect([...copy.pools()]).toEqual([...waits.pools()]);
  });
});

describe('ClusterWaitsRelay and local pools', () => {
  it('sends each change on, and tells a part connected later the local pools’ waits so far', () => {
    const relay = new ClusterWaitsRelay();
    const first: ClusterWaitsEvent[] = [];
    relay.connect({ send: (event) => first.push(event) });
    relay.localPoolChanged(changes(true, requests('t2', 1), holds('t1', 2)));
    expect(first).toEqual([{ type: 'cluster-waits.local-pool', change: changes(true, requests('t2', 1), holds('t1', 2)) }]);
    // The part is replaced: its successor hears where the pools stand.
    const second: ClusterWaitsEvent[] = [];
    relay.connect({ send: (event) => second.push(event) });
    const heard = new LocalPoolWaits('w-');
    for (const event of second) if (event.type === 'cluster-waits.local-pool') heard.apply(event.change);
    expect([...heard.pools()]).toEqual([
      ['db', { capacity: 2, holdings: [{ taskId: 't1', units: 2 }], waiting: [{ taskId: 't2', units: 1, requestId: 'w-1' }] }],
    ]);
    // Once nothing waits, there is nothing to tell.
    relay.localPoolChanged(changes(false, requests('t2', 0), holds('t1', 0), holds('t2', 1)));
    const third: ClusterWaitsEvent[] = [];
    relay.connect({ send: (event) => third.push(event) });
    expect(third).toEqual([]);
  });
});
