// `npm run bench:cluster`: named tasks through a cluster node against BullMQ's own Queue, Worker and
// QueueEvents on the same redis-server (started here, persistence off) with the same concurrency,
// in one process, alternating which side runs first. Each side adds its tasks one by one (as
// `engine.submit` does) and waits for every one's end through the queue's events.
import { performance } from 'node:perf_hooks';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { createEngine, type TaskFunction } from '../src/index';
import { killAll, startNode, taskLines, type NodeProcess } from '../test/fixtures/cluster/node-processes';
import { startRedisServer } from '../test/fixtures/redis-server';
import { alternateRuns, type Side } from './alternating-runs';
import { formatCount } from './format';
import { median, ratio, tasksPerSecond } from './stats';

/** One workload: how many tasks, and how long each takes (0: a no-op). */
interface Workload {
  readonly label: string;
  readonly tasks: number;
  readonly taskMs: number;
}

const CONCURRENCY = 8;
const WORKLOADS: readonly Workload[] = [
  { label: 'no-op', tasks: 2_000, taskMs: 0 },
  { label: '1 ms', tasks: 2_000, taskMs: 1 },
];
const ROUNDS = { runs: 5, warmupRounds: 1 };

let queueNumber = 0;

/** What one run measured: tasks per wall second, and per CPU second of this process (Redis's own CPU apart). */
interface Measured {
  readonly wall: number;
  readonly cpu: number;
}

/** Tasks per wall second and per CPU second of this process since `begun` and `cpu`. */
function measuredSince(tasks: number, begun: number, cpu: NodeJS.CpuUsage): Measured {
  const used = process.cpuUsage(cpu);
  return { wall: tasksPerSecond(tasks, performance.now() - begun), cpu: tasksPerSecond(tasks, (used.user + used.system) / 1_000) };
}

/** One run of mezan: a node (the worker) and an engine that only submits, on a fresh cluster. */
async function runMezan(redis: string, workload: Workload): Promise<Measured> {
  const name = `bench-mezan-${process.pid}-${++queueNumber}`;
  const task: TaskFunction = workload.taskMs === 0 ? () => null : (ctx) => ctx.sleep(workload.taskMs);
  const node = createEngine({ logger: false, concurrency: CONCURRENCY, tasks: { task }, cluster: { redis, name, node: 'node' } });
  const submitter = createEngine({ logger: false, cluster: { redis, name, node: 'submitter', concurrency: 0 } });
  await Promise.all([node.onClusterReady(), submitter.onClusterReady()]);
  const cpu = process.cpuUsage();
  const begun = performance.now();
  const handles = Array.from({ length: workload.tasks }, () => submitter.submit('task'));
  await Promise.all(handles.map((handle) => handle.result));
  const measured = measuredSince(workload.tasks, begun, cpu);
  await Promise.all([submitter.shutdown(), node.shutdown()]);
  return measured;
}

/** One run of BullMQ alone: a Worker, a Queue and QueueEvents, on a fresh queue. */
async function runBullmq(redis: string, workload: Workload): Promise<Measured> {
  const name = `bench-bullmq-${process.pid}-${++queueNumber}`;
  const connection = { url: redis };
  const processor = workload.taskMs === 0 ? async () => null : () => new Promise<null>((resolve) => setTimeout(() => resolve(null), workload.taskMs));
  const worker = new Worker(name, processor, { connection, concurrency: CONCURRENCY });
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await Promise.all([worker.waitUntilReady(), queue.waitUntilReady(), events.waitUntilReady()]);
  let completed = 0;
  const allDone = new Promise<void>((resolve) =>
    events.on('completed', () => {
      if (++completed === workload.tasks) resolve();
    }),
  );
  const cpu = process.cpuUsage();
  const begun = performance.now();
  await Promise.all(Array.from({ length: workload.tasks }, () => queue.add('task', {}, { removeOnComplete: { age: 3_600, count: 10_000 } })));
  await allDone;
  const measured = measuredSince(workload.tasks, begun, cpu);
  await Promise.all([worker.close(), queue.close(), events.close()]);
  return measured;
}

/** The leases of the failover runs: those of the process tests. */
const FAILOVER = { lockDurationMs: 1_000, stalledIntervalMs: 300, runs: 5 };

/**
 * One failover: two `mezan node` processes, a task held at its gate on one of them, that node
 * killed with SIGKILL; the milliseconds from the kill to the task's start on the other node.
 */
async function failoverOnce(redis: string, run: number): Promise<number> {
  const cluster = `bench-failover-${process.pid}-${run}`;
  const nodes: NodeProcess[] = await Promise.all(['a', 'b'].map((name) => startNode({ redisUrl: redis, cluster, name, ...FAILOVER })));
  const submitter = createEngine({ logger: false, cluster: { redis, name: cluster, node: 'submitter', concurrency: 0 } });
  try {
    await submitter.onClusterReady();
    const handle = submitter.submit('gated', { id: `failover-${run}`, input: { gate: `failover-${run}` } });
    const holder = await Promise.race(nodes.map((node) => node.line((line) => line.startsWith('task-started ')).then(() => node)));
    const other = nodes.find((node) => node !== holder)!;
    const killedAt = performance.now();
    holder.child.kill('SIGKILL');
    await other.line((line) => line.startsWith(`task-started failover-${run} 2 `));
    const elapsed = performance.now() - killedAt;
    if (taskLines(other, 'started').length !== 1) throw new Error('the task started on the other node more than once');
    handle.cancel('measured');
    return elapsed;
  } finally {
    await killAll(nodes);
    await submitter.shutdown();
  }
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  try {
    console.log(
      `cluster bench: one node of concurrency ${CONCURRENCY} and a submitter, against BullMQ's Worker, Queue and QueueEvents; redis-server on ${server.url}`,
    );
    for (const workload of WORKLOADS) {
      const measured = await alternateRuns(
        (side: Side) => (side === 'mezan' ? runMezan(server.url, workload) : runBullmq(server.url, workload)),
        ROUNDS,
      );
      for (const unit of ['wall', 'cpu'] as const) {
        const mezan = median(measured.mezan.map((run) => run[unit]));
        const bullmq = median(measured.peer.map((run) => run[unit]));
        const runs = (side: Side): string => measured[side].map((run) => formatCount(run[unit])).join(', ');
        console.log(
          `${workload.label.padEnd(6)} ${formatCount(workload.tasks)} tasks, per ${unit === 'wall' ? 'wall' : 'CPU'} second: mezan ${formatCount(mezan)}, BullMQ ${formatCount(bullmq)}, ratio ${ratio(mezan, bullmq).toFixed(2)} ` +
            `(medians of ${ROUNDS.runs}; mezan ${runs('mezan')}; BullMQ ${runs('peer')})`,
        );
      }
    }
    const failovers: number[] = [];
    for (let run = 0; run < FAILOVER.runs; run++) failovers.push(await failoverOnce(server.url, run));
    console.log(
      `failover: from SIGKILL of a node to its task's start on another, lockDurationMs ${FAILOVER.lockDurationMs}, stalledIntervalMs ${FAILOVER.stalledIntervalMs}: ` +
        `median ${formatCount(median(failovers))} ms (runs ${failovers.map((ms) => formatCount(ms)).join(', ')})`,
    );
  } finally {
    await server.stop();
  }
}

void main();
