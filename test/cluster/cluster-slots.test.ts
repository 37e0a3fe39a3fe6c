import { clusterSlotCapacity, queuedTaskNode } from '../../src/cluster/cluster-slots';

// The capacity of the cluster's job slots, from the live nodes' concurrency and the queue's global concurrency.

describe('clusterSlotCapacity', () => {
  it.each<[string, (number | undefined)[], number | undefined, number | undefined]>([
    ['the sum of the nodes’ concurrency', [1, 2, 0], undefined, 3],
    ['no node', [], undefined, 0],
    ['bounded by the global concurrency', [4, 4], 5, 5],
    ['not raised by a global concurrency above the sum', [1, 1], 8, 2],
    ['unknown when a node’s record is unreadable', [1, undefined], undefined, undefined],
    ['unknown for a concurrency that is no count', [1, -1], undefined, undefined],
    ['unknown for a global concurrency that is no number', [1, 1], Number.NaN, undefined],
  ])('%s', (_case, concurrencies, globalConcurrency, expected) => {
    expect(clusterSlotCapacity(concurrencies, globalConcurrency)).toBe(expected);
  });

  it('names a queued task apart from any pool, engine task or `<node>/<task>`', () => {
    expect(queuedTaskNode('job-1')).toBe('@queued:job-1');
  });
});
