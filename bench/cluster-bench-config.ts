/** One row of `bench:cluster`: how many tasks, how long each takes (0: a no-op), through how many nodes. */
export interface ClusterWorkload {
  /** What `--workload` calls it: `no-op-1`, `1ms-1`, `no-op-3`, `1ms-3`. */
  readonly id: string;
  readonly label: string;
  readonly nodes: number;
  readonly tasks: number;
  readonly taskMs: number;
}

/** What `bench/cluster.bench.ts` runs. */
export interface ClusterBenchConfig {
  /** `true` for the smoke-test sizes of `--quick`. */
  readonly quick: boolean;
  /** The rows to run, in the table's order. */
  readonly workloads: readonly ClusterWorkload[];
  /** Whether the failover row runs. */
  readonly failover: boolean;
  /** Timed runs per side of each row (the median is reported), and untimed rounds first. */
  readonly runs: number;
  readonly warmupRounds: number;
}

/** What `--workload` calls the failover row. */
export const FAILOVER_ROW = 'failover';

/** The rows, in the table's order: no-op and 1 ms tasks through one node, then through three. */
export function clusterWorkloads(tasks: number): ClusterWorkload[] {
  return [1, 3].flatMap((nodes) =>
    [0, 1].map((taskMs) => ({
      id: `${taskMs === 0 ? 'no-op' : `${taskMs}ms`}-${nodes}`,
      label: `${taskMs === 0 ? 'no-op' : `${taskMs} ms`}, ${nodes === 1 ? 'one node' : `${nodes} nodes`}`,
      nodes,
      tasks,
      taskMs,
    })),
  );
}

export const CLUSTER_BENCH_USAGE = 'Usage: tsx bench/cluster.bench.ts [--quick] [--workload <no-op-1|1ms-1|no-op-3|1ms-3|failover>]... [--runs <n>]';

/**
 * Reads `bench/cluster.bench.ts`'s flags: `--quick`; `--workload <id>` (or `--workload=<id>`),
 * repeatable, to run only those rows (the failover row is `failover`; without the flag every row
 * runs); `--runs <n>` timed runs per side instead of the default (7, or 2 with `--quick`).
 *
 * @param argv - the arguments after the script, e.g. `process.argv.slice(2)`
 * @throws {Error} naming the first argument it does not understand
 */
export function parseClusterBenchArgs(argv: readonly string[]): ClusterBenchConfig {
  let quick = false;
  const named: string[] = [];
  let runs: number | undefined;
  const valueOf = (flag: string, i: number): [string | undefined, number] => {
    const arg = argv[i]!;
    return arg === flag ? [argv[i + 1], i + 1] : [arg.slice(flag.length + 1), i];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--workload' || arg.startsWith('--workload=')) {
      const [text, next] = valueOf('--workload', i);
      i = next;
      if (text === undefined) throw new Error(`--workload needs a row's name. ${CLUSTER_BENCH_USAGE}`);
      named.push(text);
    } else if (arg === '--runs' || arg.startsWith('--runs=')) {
      const [text, next] = valueOf('--runs', i);
      i = next;
      if (text === undefined || !/^[1-9]\d*$/.test(text))
        throw new Error(`--runs needs a positive integer, got ${JSON.stringify(text)}. ${CLUSTER_BENCH_USAGE}`);
      runs = Number(text);
    } else throw new Error(`Unknown option \`${arg}\`. ${CLUSTER_BENCH_USAGE}`);
  }
  const all = clusterWorkloads(quick ? 500 : 4_000);
  const known = [...all.map((workload) => workload.id), FAILOVER_ROW];
  const unknown = named.find((id) => !known.includes(id));
  if (unknown !== undefined) throw new Error(`Unknown workload \`${unknown}\`: expected one of ${known.join(', ')}. ${CLUSTER_BENCH_USAGE}`);
  const chosen = (id: string): boolean => named.length === 0 || named.includes(id);
  return {
    quick,
    workloads: all.filter((workload) => chosen(workload.id)),
    failover: chosen(FAILOVER_ROW),
    runs: runs ?? (quick ? 2 : 7),
    warmupRounds: quick ? 1 : 2,
  };
}
