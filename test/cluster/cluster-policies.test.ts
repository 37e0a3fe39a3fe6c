import { createEngine, type Engine } from '../../src';
import { recordingLogger } from '../fixtures/engine-harness';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';

// Whichever node scans for deadlocks across the cluster chooses victims by its own deadlock.policy:
// a node that joins a cluster whose nodes choose otherwise says so.

const bed = useClusterTestBed();

const MISMATCH = 'do not share one deadlock.policy';
const COMPARED = 'compared the deadlock policies';

/** A node of cluster `name` with `deadlock`, its log kept. */
function node(name: string, id: string, deadlock: object) {
  const { logger, records } = recordingLogger();
  const engine: Engine = createEngine({ logger, deadlock, cluster: { redis: bed.redis.url, name, node: id, concurrency: 0 } });
  bed.engines.push(engine);
  const messages = (): string[] => records.map((record) => String(record['message']));
  return { engine, messages, records };
}

describe('the deadlock policies of a cluster’s nodes', () => {
  it('warns on a node that joins nodes choosing victims otherwise, naming each; says nothing among nodes that agree', async () => {
    const name = bed.freshCluster('policies');
    const first = node(name, 'a', { policy: 'youngest' });
    await until(() => first.messages().some((message) => message.includes(COMPARED)), 'a to compare');
    const agreeing = node(name, 'b', { policy: 'youngest' });
    await until(() => agreeing.messages().some((message) => message.includes(COMPARED)), 'b to compare');
    const unlike = node(name, 'c', { policy: 'lowest-priority' });
    await until(() => unlike.messages().some((message) => message.includes(COMPARED)), 'c to compare');
    const silent = node(name, 'd', { detect: 'off' });
    await until(() => silent.messages().some((message) => message.includes(COMPARED)), 'd to compare');

    expect(first.messages().filter((message) => message.includes(MISMATCH))).toEqual([]);
    expect(agreeing.messages().filter((message) => message.includes(MISMATCH))).toEqual([]);
    const [warning, ...more] = unlike.records.filter((record) => String(record['message']).includes(MISMATCH));
    expect(more).toEqual([]);
    expect(String(warning!['message'])).toContain(`this node's is "lowest-priority", node "a"'s "youngest", node "b"'s "youngest"`);
    expect(warning!['policies']).toEqual({ c: 'lowest-priority', a: 'youngest', b: 'youngest' });
    // A node whose detection is off takes no scan: it has no policy to disagree with.
    expect(silent.messages().filter((message) => message.includes(MISMATCH))).toEqual([]);
  });
});
