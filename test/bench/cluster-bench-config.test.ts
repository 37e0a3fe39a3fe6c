import { parseClusterBenchArgs } from '../../bench/cluster-bench-config';

describe('parseClusterBenchArgs', () => {
  it('runs every row, the failover too, at the full sizes by default', () => {
    const config = parseClusterBenchArgs([]);
    expect(config.workloads.map((workload) => workload.id)).toEqual(['no-op-1', '1ms-1', 'no-op-3', '1ms-3']);
    expect(config.workloads.map((workload) => [workload.nodes, workload.taskMs, workload.tasks])).toEqual([
      [1, 0, 4_000],
      [1, 1, 4_000],
      [3, 0, 4_000],
      [3, 1, 4_000],
    ]);
    expect(config).toMatchObject({ quick: false, failover: true, runs: 7, warmupRounds: 2 });
  });

  it('keeps --quick', () => {
    const config = parseClusterBenchArgs(['--quick']);
    expect(config).toMatchObject({ quick: true, failover: true, runs: 2, warmupRounds: 1 });
    expect(config.workloads.every((workload) => workload.tasks === 500)).toBe(true);
  });

  it('runs only the rows --workload names, in the table order, in either form', () => {
    const config = parseClusterBenchArgs(['--workload', 'no-op-3', '--workload=no-op-1']);
    expect(config.workloads.map((workload) => workload.label)).toEqual(['no-op, one node', 'no-op, 3 nodes']);
    expect(config.failover).toBe(false);
    const failover = parseClusterBenchArgs(['--workload', 'failover']);
    expect(failover).toMatchObject({ workloads: [], failover: true });
  });

  it('reads --runs in either form', () => {
    expect(parseClusterBenchArgs(['--runs', '20']).runs).toBe(20);
    expect(parseClusterBenchArgs(['--quick', '--runs=5']).runs).toBe(5);
  });

  it('refuses an unknown flag or row, a missing row, and runs that are not a positive integer', () => {
    expect(() => parseClusterBenchArgs(['--fast'])).toThrow(/Unknown option `--fast`/);
    expect(() => parseClusterBenchArgs(['--workload', 'no-op'])).toThrow(
      /Unknown workload `no-op`: expected one of no-op-1, 1ms-1, no-op-3, 1ms-3, failover/,
    );
    expect(() => parseClusterBenchArgs(['--workload'])).toThrow(/--workload needs a row's name/);
    for (const runs of [['--runs'], ['--runs', '0'], ['--runs=1.5'], ['--runs', '-2']]) {
      expect(() => parseClusterBenchArgs(runs)).toThrow(/--runs needs a positive integer/);
    }
  });
});
