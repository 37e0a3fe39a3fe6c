// `npm run bench:cluster`: named tasks through mezan cluster nodes against BullMQ's own Queue,
// Worker and QueueEvents on the same redis-server (started here, persistence off) with the same
// concurrency, through one node and through three (three engines, or three BullMQ Workers, in this
// process), in one process, alternating which side runs first. Each side submits its tasks in one
// turn, one call per task (`engine.submit`, `queue.add`), and hears each one's end through the
// queue's events. Besides tasks per wall second (the machine may be shared), each run's CPU time
// per task: this process's, and the redis-server's (its INFO). `--quick` for a smoke run;
// `--workload <id>` (repeatable) for some rows only, `--runs <n>` for more or fewer timed runs
// (`bench/cluster-bench-config.ts`).
import { performance } from 'node:perf_hooks';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createEngine, type Engine, type TaskFunction } from '../src/index';
import { killAll, startNode, taskLines, type NodeProcess } from '../test/fixtures/cluster/node-processes';
import { startRedisServer } from '../test/fixtures/redis-server';
import { alternateRuns, type Side } from './alternating-runs';
import { parseClusterBenchArgs, type ClusterWorkload } from './cluster-bench-config';
import { formatCount } from './format';
import { median, ratio, tasksPerSecond } from './stats';

const CONFIG = parseClusterBenchArgs(process.argv.slice(2));
/** Each node's concurrency (each BullMQ Worker's). */
const CONCURRENCY = 8;
const ROUNDS = { runs: CONFIG.runs, warmupRounds: CONFIG.warmupRounds };

let queueNumber = 0;

/** What one run measured: tasks per wall second, and microseconds of CPU per task, this process's and the redis-server's. */
interface Measured {
  readonly wall: number;
  readonly cpuUs: number;
  readonly redisUs: number;
}

/** The CPU seconds the redis-server has used so far (INFO cpu: user and system, its main thread's and others'). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (field: string): number => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return seconds('used_cpu_user') + seconds('used_cpu_sys');
}

/** Times `work` (which runs `tasks` tasks): wall time, this process's CPU time, the redis-server's. */
async function measure(monitor: Redis, tasks: number, work: () => Promise<void>): Promise<Measured> {
  const redisBefore = await redisCpuSeconds(monitor);
  const cpu = process.cpuUsage();
  const begun = performance.now();
  await work();
  const elapsedMs = performance.now() - begun;
  const used = process.cpuUsage(cpu);
  const redisUsed = (await redisCpuSeconds(monitor)) - redisBefore;
  return { wall: tasksPerSecond(tasks, elapsedMs), cpuUs: (used.user + used.system) / tasks, redisUs: (redisUsed * 1e6) / tasks };
}

/** One run of mezan: `nodes` engines that work and one that only submits, on a fresh cluster. */
async function runMezan(redis: string, monitor: Redis, workload: ClusterWorkload): Promise<Measured> {
  const name = `bench-mezan-${process.pid}-${++queueNumber}`;
  const task: TaskFunction = workload.taskMs === 0 ? () => null : (ctx) => ctx.sleep(workload.taskMs);
  const nodes: Engine[] = Array.from({ length: workload.nodes }, (_, index) =>
    createEngine({ logger: false, concurrency: CONCURRENCY, tasks: { task }, cluster: { redis, name, node: `node-${index}` } }),
  );
  const submitter = createEngine({ logger: false, cluster: { redis, name, node: 'submitter', concurrency: 0 } });
  await Promise.all([...nodes, submitter].map((engine) => engine.onClusterReady()));
  const measured = await measure(monitor, workload.tasks, async () => {
    const handles = Array.from({ length: workload.tasks }, () => submitter.submit('task'));
    await Promise.all(handles.map((handle) => handle.result));
  });
  await Promise.all([submitter, ...nodes].map((engine) => engine.shutdown()));
  return measured;
}

/** One run of BullMQ alone: `nodes` Workers, a Queue and QueueEvents, on a fresh queue. */
async function runBullmq(redis: string, monitor: Redis, workload: ClusterWorkload): Promise<Measured> {
  const name = `bench-bullmq-${process.pid}-${++queueNumber}`;
  const connection = { url: redis };
  const processor = workload.taskMs === 0 ? async () => null : () => new Promise<null>((resolve) => setTimeout(() => resolve(null), workload.taskMs));
  const workers = Array.from({ length: workload.nodes }, () => new Worker(name, processor, { connection, concurrency: CONCURRENCY }));
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await Promise.all([...workers, queue, events].map((part) => part.waitUntilReady()));
  let completed = 0;
  const allDone = new Promise<void>((resolve) =>
    events.on('completed', () => {
      if (++completed === workload.tasks) resolve();
    }),
  );
  const measured = await measure(monitor, workload.tasks, async () => {
    await Promise.all(Array.from({ length: workload.tasks }, () => queue.add('task', {}, { removeOnComplete: { age: 3_600, count: 10_000 } })));
    await allDone;
  });
  await Promise.all([...workers, queue, events].map((part) => part.close()));
  return measured;
}

/** Prints one workload's medians and ratios (mezan's over BullMQ's: above 1, mezan does more per second), then every run. */
function report(workload: ClusterWorkload, measured: Record<Side, Measured[]>): void {
  const of = (side: Side, pick: (run: Measured) => number): number => median(measured[side].map(pick));
  const wall = { mezan: of('mezan', (run) => run.wall), peer: of('peer', (run) => run.wall) };
  const cpu = { mezan: of('mezan', (run) => run.cpuUs), peer: of('peer', (run) => run.cpuUs) };
  const redis = { mezan: of('mezan', (run) => run.redisUs), peer: of('peer', (run) => run.redisUs) };
  const both = { mezan: of('mezan', (run) => run.cpuUs + run.redisUs), peer: of('peer', (run) => run.cpuUs + run.redisUs) };
  const us = (value: number): string => value.toFixed(1);
  console.log(
    `${workload.label}, ${formatCount(workload.tasks)} tasks (medians of ${ROUNDS.runs}): ` +
      `per wall second mezan ${formatCount(wall.mezan)}, BullMQ ${formatCount(wall.peer)}, ratio ${ratio(wall.mezan, wall.peer).toFixed(2)}; ` +
      `CPU µs per task, this process: mezan ${us(cpu.mezan)}, BullMQ ${us(cpu.peer)}, ratio ${ratio(cpu.peer, cpu.mezan).toFixed(2)}; ` +
      `redis-server: mezan ${us(redis.mezan)}, BullMQ ${us(redis.peer)}; both: ratio ${ratio(both.peer, both.mezan).toFixed(2)}`,
  );
  const runs = (side: Side): string => measured[side].map((run) => `${formatCount(run.wall)}/s ${us(run.cpuUs)}+${us(run.redisUs)} µs`).join(', ');
  console.log(`  runs, mezan: ${runs('mezan')}`);
  console.log(`  runs, BullMQ: ${runs('peer')}`);
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
  const monitor = new Redis(server.url);
  try {
    console.log(
      `cluster bench: nodes of concurrency ${CONCURRENCY} and an engine that only submits, against as many BullMQ Workers of concurrency ${CONCURRENCY}, a Queue and QueueEvents; ` +
        `redis-server on ${server.url}. Ratios: mezan's tasks per second over BullMQ's (per wall second; per CPU second of this process; of this process and the redis-server)`,
    );
    for (const workload of CONFIG.workloads) {
      const measured = await alternateRuns(
        (side: Side) => (side === 'mezan' ? runMezan(server.url, monitor, workload) : runBullmq(server.url, monitor, workload)),
        ROUNDS,
      );
      report(workload, measured);
    }
    if (!CONFIG.failover) return;
    const failovers: number[] = [];
    for (let run = 0; run < (CONFIG.quick ? 1 : FAILOVER.runs); run++) failovers.push(await failoverOnce(server.url, run));
    console.log(
      `failover: from SIGKILL of a node to its task's start on another, lockDurationMs ${FAILOVER.lockDurationMs}, stalledIntervalMs ${FAILOVER.stalledIntervalMs}: ` +
        `median ${formatCount(median(failovers))} ms (runs ${failovers.map((ms) => formatCount(ms)).join(', ')})`,
    );
  } finally {
    monitor.disconnect();
    await server.stop();
  }
}

void main();
