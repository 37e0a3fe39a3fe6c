import { performance } from 'node:perf_hooks';
import { createEngine, seededRandom, VirtualClock, type TaskContext } from '../src/index';
import { collectGarbage } from './collect-garbage';
import { attachDetectionMeter } from './detection-meter';

/** How the tasks of a {@link runBlockedEngine} block. */
export type BlockingScenario = 'acquire' | 'await';

/** Detection as the engine option `deadlock.detect` sets it. */
export type DetectMode = 'immediate' | 'off';

/** One run of {@link runBlockedEngine}. */
export interface BlockedEngineRun {
  readonly scenario: BlockingScenario;
  readonly detect: DetectMode;
  /** Requests and awaits in the engine's wait-for graph once every task blocked: one blocking event each. */
  readonly blockingEvents: number;
  /** From the first waiting task's submission until every task is blocked (and the detector told). */
  readonly blockMs: number;
  /** `blockMs` plus the time for the holders to let go and every task to finish. */
  readonly totalMs: number;
  /** Time inside the detector (`detectFrom`, `detect`) during the run, and its calls. */
  readonly detectorMs: number;
  readonly detectorCalls: number;
}

/** Pools filled by holders that run until every task is blocked; waiters draw a pool by weight. */
const POOLS: ReadonlyArray<{ readonly name: string; readonly holders: number; readonly unitsEach: number; readonly weight: number }> = [
  { name: 'db', holders: 4, unitsEach: 1, weight: 0.35 },
  { name: 'gpu', holders: 1, unitsEach: 1, weight: 0.15 },
  { name: 'cache', holders: 4, unitsEach: 2, weight: 0.2 },
  { name: 'net', holders: 16, unitsEach: 1, weight: 0.2 },
  { name: 'disk', holders: 2, unitsEach: 1, weight: 0.1 },
];
const HOLDERS = POOLS.reduce((sum, pool) => sum + pool.holders, 0);

/**
 * Runs an engine in virtual time where `waitingTasks` tasks block on resources filled by running
 * holders, then lets the holders go and waits until every task finished:
 * - `acquire`: every task blocks on `ctx.acquire` (one unit, or 1 to 4 of the 8-unit `cache`);
 * - `await`: half the tasks submit a child and `ctx.await` it; the children block on `ctx.acquire`.
 *
 * The engine has a worker for every task that holds one while it waits, so the slots never run
 * out. It is not shut down: stopping an actor with thousands of children costs XState time
 * quadratic in their number, and would dwarf what is measured here.
 *
 * @throws when the engine did not block or finish every task as expected
 */
export async function runBlockedEngine(
  scenario: BlockingScenario,
  waitingTasks: number,
  detect: DetectMode,
  seed: number,
): Promise<BlockedEngineRun> {
  const clock = new VirtualClock();
  const parents = scenario === 'await' ? Math.floor(waitingTasks / 2) : 0;
  const blockers = waitingTasks - parents;
  const engine = createEngine({
    clock,
    random: seededRandom(seed),
    concurrency: HOLDERS + waitingTasks + 64,
    resources: Object.fromEntries(POOLS.map((pool) => [pool.name, pool.holders * pool.unitsEach])),
    deadlock: { detect },
  });

  let openGate: () => void = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  let holding = 0;
  for (const pool of POOLS) {
    for (let i = 0; i < pool.holders; i++) {
      engine.submit(async (ctx) => {
        const lease = await ctx.acquire(pool.name, { units: pool.unitsEach });
        holding++;
        await gate;
        lease.release();
      });
    }
  }
  await until(() => holding === HOLDERS, 'the holders to take every unit');

  const draw = seededRandom(seed + 1);
  const requests = Array.from({ length: blockers }, () => drawRequest(draw));
  let blocked = 0;
  const block = async (ctx: TaskContext, request: { readonly pool: string; readonly units: number }): Promise<void> => {
    blocked++;
    const lease = await ctx.acquire(request.pool, { units: request.units });
    lease.release();
  };

  collectGarbage();
  const meter = attachDetectionMeter();
  try {
    const start = performance.now();
    for (const request of requests) {
      if (scenario === 'acquire') engine.submit((ctx) => block(ctx, request));
      else engine.submit((ctx) => ctx.await(ctx.submit((child) => block(child, request))));
    }
    await until(() => blocked === blockers, `${blockers} tasks to block`);
    const blockMs = performance.now() - start;

    const edges = engine.waitForGraph().edges;
    const waits = edges.filter((edge) => (edge.kind === 'requests' && edge.to !== '@workers') || edge.kind === 'awaits').length;
    if (waits !== waitingTasks) throw new Error(`${scenario}: expected ${waitingTasks} waits in the wait-for graph, found ${waits}`);

    const drainStart = performance.now();
    openGate();
    await clock.runAll();
    await engine.onIdle();
    const totalMs = blockMs + performance.now() - drainStart;
    const detector = meter.read();

    const progress = engine.progress();
    const expected = HOLDERS + blockers + parents;
    if (progress.completed !== expected || engine.deadlocks().length !== 0) {
      throw new Error(`${scenario}: ${progress.completed} of ${expected} tasks completed, ${engine.deadlocks().length} deadlocks resolved`);
    }
    return { scenario, detect, blockingEvents: waits, blockMs, totalMs, detectorMs: detector.ms, detectorCalls: detector.calls };
  } finally {
    meter.detach();
  }
}

function drawRequest(random: () => number): { readonly pool: string; readonly units: number } {
  let draw = random();
  for (const pool of POOLS) {
    draw -= pool.weight;
    if (draw < 0) return { pool: pool.name, units: pool.name === 'cache' ? 1 + Math.floor(random() * 4) : 1 };
  }
  return { pool: 'db', units: 1 };
}

const PATIENCE_MS = 120_000;

/**
 * Lets the event loop turn until `done()`, then once more: the detector handles a notice in the
 * turn it is sent, so that turn sees it applied.
 * @throws when `done()` stays false for {@link PATIENCE_MS} (a bug, not slowness: the bench would hang)
 */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + PATIENCE_MS;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await nextTurn();
  }
  await nextTurn();
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
