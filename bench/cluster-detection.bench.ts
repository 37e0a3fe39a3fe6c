// Part of `npm run bench:cluster`: what detecting deadlocks across the nodes of a cluster costs per
// blocking event. Two nodes in this process share a cluster pool of one unit; every task takes the
// unit for a moment, so every request but the first of a run blocks. The same runs are made with
// the nodes' `deadlock.detect` on (`immediate`, the default) and `off` (they publish no waits and
// take no scan), alternating which goes first; the difference, divided by the blocking events, is
// the cost: this process's CPU time, Redis's commands, and the wall time of the run.
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createEngine, type Engine } from '../src/index';
import { startRedisServer } from '../test/fixtures/redis-server';
import { alternateRuns, type Side } from './alternating-runs';
import { formatCount } from './format';
import { median } from './stats';

const TASKS = 100;
const HOLD_MS = 2;
const ROUNDS = { runs: 3, warmupRounds: 1 };

/** What one run cost. */
interface RunCost {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly redisCommands: number;
}

let clusterNumber = 0;

/** Redis's count of the commands it has processed since it started. */
async function commandsProcessed(admin: Redis): Promise<number> {
  const info = await admin.info('stats');
  const match = /total_commands_processed:(\d+)/.exec(info);
  if (match === null) throw new Error('redis-server did not report total_commands_processed');
  return Number(match[1]);
}

/** One run: two fresh nodes, `TASKS` tasks that each hold the cluster pool's one unit for `HOLD_MS`. */
async function run(redis: string, admin: Redis, detect: 'immediate' | 'off'): Promise<RunCost> {
  const name = `bench-detection-${process.pid}-${++clusterNumber}`;
  const node = (id: string): Engine =>
    createEngine({
      logger: false,
      concurrency: 8,
      tasks: { hold: (ctx) => ctx.sleep(HOLD_MS) },
      resources: { db: { capacity: 1, scope: 'cluster' } },
      deadlock: { detect },
      cluster: { redis, name, node: id },
    });
  const nodes = [node('a'), node('b')];
  await Promise.all(nodes.map((engine) => engine.onClusterReady()));
  const commands = await commandsProcessed(admin);
  const cpu = process.cpuUsage();
  const begun = performance.now();
  const handles = Array.from({ length: TASKS }, () => nodes[0]!.submit('hold', { resources: { db: 1 } }));
  await Promise.all(handles.map((handle) => handle.result));
  const wallMs = performance.now() - begun;
  const used = process.cpuUsage(cpu);
  // The admin's own INFO counts once on each side: the same for both settings.
  const redisCommands = (await commandsProcessed(admin)) - commands;
  await Promise.all(nodes.map((engine) => engine.shutdown()));
  return { wallMs, cpuMs: (used.user + used.system) / 1_000, redisCommands };
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  try {
    const blocking = TASKS - 1;
    console.log(
      `cluster detection bench: two nodes, a cluster pool of 1 unit, ${TASKS} tasks holding it ${HOLD_MS} ms each (${blocking} blocking events per run); deadlock.detect 'immediate' against 'off'`,
    );
    const measured = await alternateRuns((side: Side) => run(server.url, admin, side === 'mezan' ? 'immediate' : 'off'), ROUNDS);
    const rows: Array<[string, keyof RunCost, number]> = [
      ['CPU of this process', 'cpuMs', 1_000],
      ['Redis commands', 'redisCommands', 1],
      ['wall time', 'wallMs', 1_000],
    ];
    for (const [label, key, scale] of rows) {
      const on = median(measured.mezan.map((cost) => cost[key]));
      const off = median(measured.peer.map((cost) => cost[key]));
      const unit = scale === 1 ? '' : ' µs';
      const runs = (side: Side): string => measured[side].map((cost) => formatCount(cost[key], key === 'redisCommands' ? 0 : 1)).join(', ');
      const perEvent = ((on - off) * scale) / blocking;
      console.log(
        `${label}, detection on minus off, per blocking event: ${perEvent >= 0 ? '+' : ''}${formatCount(perEvent, 1)}${unit} ` +
          `(run medians: on ${formatCount(on, 1)}, off ${formatCount(off, 1)}${key === 'redisCommands' ? '' : ' ms'}; on ${runs('mezan')}; off ${runs('peer')})`,
      );
    }
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

void main();
