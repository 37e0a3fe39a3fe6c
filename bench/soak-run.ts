// The soak itself: one engine in real time, a stream of chunks of mixed tasks (retries, cancels,
// crashes, deadlocks, awaits, dependencies), memory sampled as it goes, then a burst and a shutdown
// under load. Every choice comes from a seeded random source; the timing is the machine's own.
import { countsByStatus } from '../src/metrics/build-metrics-snapshot';
import { performance } from 'node:perf_hooks';
import winston from 'winston';
import {
  createEngine,
  isTerminalStatus,
  MezanError,
  seededRandom,
  type Engine,
  type EngineProgress,
  type ShutdownReport,
  type TaskContext,
  type TaskHandle,
} from '../src/index';
import { sampleMemory } from './memory.bench';
import { describeEnvironment } from './report';
import type { SoakConfig } from './soak-config';
import { pickKind, pickPositions, type SoakTaskKind } from './soak-mix';
import {
  emptyStatusCounts,
  judgeSoak,
  memoryGrowth,
  SOAK_STATUSES,
  type SettlementCheck,
  type SoakMemorySample,
  type SoakResult,
  type StatusCounts,
} from './soak-verdict';

/** A deadlock pair's member waits this long at most for its partner to take its first pool. */
const PAIR_BARRIER_MS = 100;
/** How long a stubborn task of the burst ignores its abort signal. */
const STUBBORN_MS = 1_500;
/** Stubborn tasks in the burst. */
const STUBBORN_TASKS = 2;
/** The engine's `shutdown.abandonAfterMs`: well under {@link STUBBORN_MS}. */
const ABANDON_AFTER_MS = 500;
/** Tasks submitted after `shutdown()` was called. */
const LATE_TASKS = 100;
/** How long the burst runs before the shutdown is requested. */
const BURST_HEAD_START_MS = 10;
/** Examples of failed checks kept per phase. */
const MAX_EXAMPLES = 5;

/** One handle and how its `result` settled. */
interface Tracked {
  readonly handle: TaskHandle<unknown>;
  calls: number;
  fulfilled: boolean;
  error: unknown;
}

/** A settlement tally under construction; see {@link SettlementCheck}. */
class Settlements {
  handles = 0;
  settledOnce = 0;
  neverSettled = 0;
  settledTwice = 0;
  inconsistent = 0;
  readonly byStatus = emptyStatusCounts();
  readonly byCode: Record<string, number> = {};
  readonly examples: string[] = [];

  /** Checks the handles of a chunk, once it has settled, and returns their counts by status. */
  check(tracked: readonly Tracked[]): StatusCounts {
    const counts = emptyStatusCounts();
    for (const entry of tracked) {
      this.handles++;
      const { handle } = entry;
      const status = handle.status;
      let problem: string | undefined;
      if (entry.calls === 0) {
        this.neverSettled++;
        problem = 'never settled';
      } else if (entry.calls > 1) {
        this.settledTwice++;
        problem = `settled ${entry.calls} times`;
      } else this.settledOnce++;
      if (isTerminalStatus(status)) {
        counts[status]++;
        this.byStatus[status]++;
      }
      if (entry.calls > 0) {
        const code = entry.error instanceof MezanError ? entry.error.code : undefined;
        if (!entry.fulfilled) this.byCode[code ?? 'not a MezanError'] = (this.byCode[code ?? 'not a MezanError'] ?? 0) + 1;
        const consistent = isTerminalStatus(status) && (entry.fulfilled ? status === 'completed' : status !== 'completed' && code !== undefined);
        if (!consistent) {
          this.inconsistent++;
          problem ??= `status ${status} but its result ${entry.fulfilled ? 'resolved' : `rejected with ${code ?? String(entry.error)}`}`;
        }
      }
      if (problem !== undefined && this.examples.length < MAX_EXAMPLES) this.examples.push(`${handle.id} (${status}): ${problem}`);
    }
    return counts;
  }

  freeze(): SettlementCheck {
    return {
      handles: this.handles,
      settledOnce: this.settledOnce,
      neverSettled: this.neverSettled,
      settledTwice: this.settledTwice,
      inconsistent: this.inconsistent,
      byStatus: { ...this.byStatus },
      byCode: { ...this.byCode },
      examples: [...this.examples],
    };
  }
}

/** Where the handles' counts of a phase disagree with the engine's own, described; `undefined` when they agree. */
function compareBooks(label: string, handles: StatusCounts, handleCount: number, before: EngineProgress, after: EngineProgress): string | undefined {
  const engineBefore = countsByStatus(before);
  const engineAfter = countsByStatus(after);
  const differences: string[] = [];
  for (const status of SOAK_STATUSES) {
    const delta = engineAfter[status] - engineBefore[status];
    if (delta !== handles[status]) differences.push(`${status}: engine ${delta}, handles ${handles[status]}`);
  }
  const submitted = after.total - before.total;
  if (submitted !== handleCount) differences.push(`submitted: engine ${submitted}, handles ${handleCount}`);
  if (after.running !== 0 || after.pending !== 0) differences.push(`still running ${after.running}, pending ${after.pending}`);
  return differences.length === 0 ? undefined : `${label}: ${differences.join('; ')}`;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `promise` does, `signal` aborts, or `ms` pass, whichever comes first; leaves no timer behind. */
function barrier(promise: Promise<void>, signal: AbortSignal, ms: number): Promise<'met' | 'timeout' | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const done = (how: 'met' | 'timeout' | 'aborted'): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(how);
    };
    const onAbort = (): void => done('aborted');
    timer = setTimeout(() => done('timeout'), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => done('met'));
  });
}

/** Resolves `true` with `promise`, or `false` after `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A winston logger that writes nothing and counts its warnings and errors, by level and message
 * (numbers in the message replaced by `#`, so that "4566 tasks queued" and "4571 tasks queued" count
 * as one line). Its format sees every level: winston filters levels in the transports, after it.
 */
function countingLogger(counts: Record<string, number>): winston.Logger {
  const count = winston.format((info) => {
    if (info.level === 'warn' || info.level === 'error') {
      const key = `${info.level}: ${String(info.message).replace(/\d+/g, '#')}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return false;
  });
  return winston.createLogger({ level: 'warn', format: count(), transports: [new winston.transports.Console()] });
}

/** The pools of deadlock pair `k`. */
const pairPools = (k: number): readonly [string, string] => [`pair-${k}-a`, `pair-${k}-b`];

/**
 * Runs the soak.
 *
 * @param config - sizes and limits; see {@link SoakConfig}
 * @param log - receives progress lines
 * @throws {Error} when node was not started with `--expose-gc`
 */
export async function runSoak(config: SoakConfig, log: (line: string) => void = () => {}): Promise<SoakResult> {
  const start = performance.now();
  const random = seededRandom(config.seed);
  const logged: Record<string, number> = {};
  const resources: Record<string, number> = {};
  for (let k = 0; k < config.deadlockPairsPerChunk; k++) for (const pool of pairPools(k)) resources[pool] = 1;
  const engine: Engine = createEngine({
    concurrency: config.concurrency,
    random: seededRandom(config.seed + 1),
    logger: countingLogger(logged),
    resources,
    supervision: { maxRestarts: 1_000, withinMs: 1_000 },
    deadlock: { detect: 'immediate', policy: 'youngest' },
    shutdown: { abandonAfterMs: ABANDON_AFTER_MS },
    metrics: { timings: 'off' },
  });

  const counters = { retries: 0, cancelCalls: 0, cancelsAccepted: 0, crashesInjected: 0, deadlockPairs: 0, pairBarrierTimeouts: 0, children: 0 };
  /** The handles of the chunk (or burst) under way: `ctx.submit` adds children to it. */
  let current: Tracked[] = [];

  const track = (handle: TaskHandle<unknown>): TaskHandle<unknown> => {
    const entry: Tracked = { handle, calls: 0, fulfilled: false, error: undefined };
    handle.result.then(
      () => {
        entry.calls++;
        entry.fulfilled = true;
      },
      (error: unknown) => {
        entry.calls++;
        entry.error = error;
      },
    );
    current.push(entry);
    return handle;
  };
  const cancel = (handle: TaskHandle<unknown>, reason: string): void => {
    counters.cancelCalls++;
    if (handle.cancel(reason)) counters.cancelsAccepted++;
  };
  const attempt = (ctx: TaskContext): void => {
    if (ctx.attempt > 1) counters.retries++;
  };

  /**
   * Submits `size` tasks: `pairs` deadlock pairs at random places, the rest drawn from the mix.
   * @returns promises of the timers it started (cancels after a delay), and the tasks to cancel
   *   once the whole chunk is in
   */
  const submitChunk = (size: number, pairs: number): { timers: Promise<void>[]; cancelQueued: TaskHandle<unknown>[] } => {
    const timers: Promise<void>[] = [];
    const cancelQueued: TaskHandle<unknown>[] = [];
    /** Top-level tasks of this chunk, for awaits and dependencies. */
    const tops: TaskHandle<unknown>[] = [];
    const slots = size - pairs;
    const pairSlots = pickPositions(random, slots, pairs);
    let nextPair = 0;
    for (let slot = 0; slot < slots; slot++) {
      if (pairSlots[nextPair] === slot) {
        submitPair(nextPair++);
        continue;
      }
      const handle = submitOne(pickKind(random), tops, timers, cancelQueued);
      tops.push(handle);
    }
    return { timers, cancelQueued };
  };

  const submitPair = (k: number): void => {
    counters.deadlockPairs++;
    const [a, b] = pairPools(k);
    const held = [deferred(), deferred()] as const;
    const member =
      (me: 0 | 1, first: string, second: string) =>
      async (ctx: TaskContext): Promise<number> => {
        attempt(ctx);
        await ctx.acquire(first);
        if (ctx.attempt === 1) {
          // Both take their first pool before either asks for its second: a deadlock, for sure.
          held[me].resolve();
          const how = await barrier(held[me === 0 ? 1 : 0].promise, ctx.signal, PAIR_BARRIER_MS);
          if (how === 'timeout') counters.pairBarrierTimeouts++;
        }
        await ctx.acquire(second);
        return 1;
      };
    track(engine.submit(member(0, a, b), { retries: { max: 3 } }));
    track(engine.submit(member(1, b, a), { retries: { max: 3 } }));
  };

  const pickEarlier = (tops: readonly TaskHandle<unknown>[]): TaskHandle<unknown> | undefined =>
    tops.length === 0 ? undefined : tops[Math.floor(random() * tops.length)];

  const submitOne = (
    kind: SoakTaskKind,
    tops: readonly TaskHandle<unknown>[],
    timers: Promise<void>[],
    cancelQueued: TaskHandle<unknown>[],
  ): TaskHandle<unknown> => {
    switch (kind) {
      case 'sync':
        return track(
          engine.submit((ctx) => {
            attempt(ctx);
            return 0;
          }),
        );
      case 'async':
        return track(
          engine.submit(async (ctx) => {
            attempt(ctx);
            await immediate();
            return 0;
          }),
        );
      case 'flaky': {
        const failures = random() < 0.5 ? 1 : 2;
        const delayMs = random() < 0.5 ? 0 : 1;
        return track(
          engine.submit(
            (ctx) => {
              attempt(ctx);
              if (ctx.attempt <= failures) throw new Error(`flaky: attempt ${ctx.attempt} of ${failures + 1}`);
              return ctx.attempt;
            },
            { retries: { max: 3, delayMs } },
          ),
        );
      }
      case 'failing':
        return track(
          engine.submit(
            (ctx) => {
              attempt(ctx);
              throw new Error('always fails');
            },
            { retries: 1 },
          ),
        );
      case 'cancel-now': {
        const handle = track(
          engine.submit(async (ctx) => {
            attempt(ctx);
            await immediate();
          }),
        );
        cancel(handle, 'soak: at once');
        return handle;
      }
      case 'cancel-queued': {
        const handle = track(
          engine.submit(async (ctx) => {
            attempt(ctx);
            await immediate();
          }),
        );
        cancelQueued.push(handle);
        return handle;
      }
      case 'cancel-later': {
        const handle = track(
          engine.submit(async (ctx) => {
            attempt(ctx);
            await ctx.sleep(2);
          }),
        );
        timers.push(delay(Math.floor(random() * 4)).then(() => cancel(handle, 'soak: later')));
        return handle;
      }
      case 'cancel-running': {
        let self: TaskHandle<unknown> | undefined;
        const handle = track(
          engine.submit(async (ctx) => {
            attempt(ctx);
            setImmediate(() => self !== undefined && cancel(self, 'soak: while running'));
            await ctx.sleep(1_000);
          }),
        );
        self = handle;
        return handle;
      }
      case 'await-sibling': {
        const target = pickEarlier(tops);
        return track(
          engine.submit(
            async (ctx) => {
              attempt(ctx);
              if (target === undefined) return 0;
              try {
                await ctx.await(target);
              } catch (error) {
                // The sibling's failure is its own; this task's own deadlock or abort is not.
                if (ctx.signal.aborted || (error instanceof MezanError && error.code === 'E_DEADLOCK')) throw error;
              }
              return 1;
            },
            { retries: { max: 2 } },
          ),
        );
      }
      case 'await-child':
        return track(
          engine.submit(
            async (ctx) => {
              attempt(ctx);
              counters.children++;
              const child = track(
                // Ahead of the queue: behind a chunk of queued tasks, parents awaiting their
                // children would take every slot (a starvation the engine resolves, slowly).
                ctx.submit(
                  async (childCtx) => {
                    attempt(childCtx);
                    await immediate();
                    return 21;
                  },
                  { priority: 1 },
                ),
              );
              return 2 * (await ctx.await(child as TaskHandle<number>));
            },
            { retries: { max: 2 } },
          ),
        );
      case 'depends': {
        const target = pickEarlier(tops);
        const settled = random() < 0.5;
        const dependsOn = target === undefined ? [] : [settled ? { task: target, allow: 'settled' as const } : target];
        return track(
          engine.submit(
            (ctx) => {
              attempt(ctx);
              return ctx.dependencies.length;
            },
            { dependsOn },
          ),
        );
      }
      case 'timeout':
        return track(
          engine.submit(
            async (ctx) => {
              attempt(ctx);
              await ctx.sleep(50);
            },
            { timeoutMs: 2 },
          ),
        );
    }
  };

  /** Describes the engine when something did not settle in time. */
  const describeStall = (what: string, tracked: readonly Tracked[]): string => {
    const progress = engine.progress();
    const unsettled = tracked.filter((entry) => !entry.handle.isSettled);
    const graph = engine.waitForGraph();
    const actors = engine
      .actors()
      .map((actor) => `${actor.id}=${actor.state}`)
      .join(' ');
    return (
      `${what} did not settle within ${config.chunkTimeoutMs} ms: running ${progress.running}, pending ${progress.pending}; ` +
      `${unsettled.length} handles unsettled (${unsettled
        .slice(0, MAX_EXAMPLES)
        .map((entry) => `${entry.handle.id}: ${entry.handle.status}`)
        .join(', ')}); wait-for graph ${graph.nodes.length} nodes, ${graph.edges.length} edges; actors ${actors}`
    );
  };

  // The stream.
  const streamSettlements = new Settlements();
  const streamMismatches: string[] = [];
  const samples: SoakMemorySample[] = [];
  const sample = (tasks: number): SoakMemorySample => {
    const { rss, heapUsed, heapTotal, external } = sampleMemory();
    return { tasks, atMs: performance.now() - start, rss, heapUsed, heapTotal, external };
  };
  const baseline = sample(0);
  const chunkMs: number[] = [];
  const chunkSizes: number[] = [];
  let stall: string | undefined;
  let streamed = 0;
  const streamStart = performance.now();
  while (streamed < config.tasks && stall === undefined) {
    const size = Math.min(config.chunk, config.tasks - streamed);
    const pairs = Math.min(config.deadlockPairsPerChunk, Math.floor(size / 2));
    const chunkStart = performance.now();
    const before = engine.progress();
    current = [];
    const { timers, cancelQueued } = submitChunk(size, pairs);
    for (const handle of cancelQueued) cancel(handle, 'soak: queued');
    if (random() < config.crashChance) {
      counters.crashesInjected++;
      timers.push(delay(Math.floor(random() * 5)).then(() => engine.inject({ type: 'worker.crash', workerId: 'main' })));
    }
    await Promise.all(timers);
    if (!(await within(engine.onIdle(), config.chunkTimeoutMs))) {
      stall = describeStall(`chunk ${chunkMs.length + 1} (tasks ${streamed + 1}–${streamed + size})`, current);
      break;
    }
    // The result callbacks of the last settlements.
    await immediate();
    const counts = streamSettlements.check(current);
    const mismatch = compareBooks(`chunk ${chunkMs.length + 1}`, counts, current.length, before, engine.progress());
    if (mismatch !== undefined && streamMismatches.length < MAX_EXAMPLES) streamMismatches.push(mismatch);
    current = [];
    chunkMs.push(performance.now() - chunkStart);
    chunkSizes.push(size);
    const previous = streamed;
    streamed += size;
    if (Math.floor(streamed / config.sampleEvery) > Math.floor(previous / config.sampleEvery) || streamed === config.tasks) {
      const taken = sample(streamed);
      samples.push(taken);
      const elapsed = (performance.now() - streamStart) / 1000;
      log(
        `soak: ${streamed.toLocaleString('en-US')} tasks in ${elapsed.toFixed(1)} s, ` +
          `RSS ${(taken.rss / 1048576).toFixed(1)} MiB, heap ${(taken.heapUsed / 1048576).toFixed(1)} MiB`,
      );
    }
  }
  const streamWallMs = performance.now() - streamStart;
  const streamChildren = counters.children;
  const rate = (from: number, to: number): number => {
    let tasks = 0;
    let ms = 0;
    for (let i = from; i < to; i++) {
      tasks += chunkSizes[i]!;
      ms += chunkMs[i]!;
    }
    return ms > 0 ? (tasks / ms) * 1000 : Number.NaN;
  };
  const tenth = Math.max(1, Math.floor(chunkMs.length / 10));
  const metricsBefore = engine.metrics();

  // The burst, and the shutdown under load.
  const burstSettlements = new Settlements();
  const burstMismatches: string[] = [];
  let report: ShutdownReport | undefined;
  let shutdownMs = 0;
  const stubborn: string[] = [];
  let burstTasks = 0;
  let late = 0;
  if (stall === undefined) {
    log(`soak: a burst of ${config.burst.toLocaleString('en-US')} tasks, and shutdown({ graceMs: ${config.shutdownGraceMs} }) while they run`);
    const before = engine.progress();
    current = [];
    for (let i = 0; i < STUBBORN_TASKS; i++) {
      const handle = track(
        engine.submit(
          async (ctx) => {
            attempt(ctx);
            await delay(STUBBORN_MS); // deaf to ctx.signal: to be abandoned
          },
          { priority: 10, name: `stubborn-${i + 1}` },
        ),
      );
      stubborn.push(handle.id);
    }
    const size = Math.max(0, config.burst - STUBBORN_TASKS);
    const { timers, cancelQueued } = submitChunk(size, Math.min(config.deadlockPairsPerChunk, Math.floor(size / 2)));
    for (const handle of cancelQueued) cancel(handle, 'soak: queued');
    burstTasks = STUBBORN_TASKS + size;
    await delay(BURST_HEAD_START_MS);
    const shutdownStart = performance.now();
    const shutdown = engine.shutdown({ graceMs: config.shutdownGraceMs });
    for (let i = 0; i < LATE_TASKS; i++) {
      track(engine.submit(() => 0));
      late++;
    }
    const resolved = await within(
      shutdown.then((value) => (report = value)),
      config.chunkTimeoutMs,
    );
    shutdownMs = performance.now() - shutdownStart;
    await Promise.all(timers);
    await immediate();
    if (!resolved) stall = describeStall('the shutdown under load', current);
    else {
      const counts = burstSettlements.check(current);
      const mismatch = compareBooks('burst', counts, current.length, before, engine.progress());
      if (mismatch !== undefined) burstMismatches.push(mismatch);
    }
    current = [];
  }
  if (report === undefined) {
    // A stall: stop what can be stopped, so that the process can exit with the verdict.
    await within(engine.shutdown({ force: true }), config.chunkTimeoutMs);
  }
  const metrics = report === undefined ? metricsBefore : engine.metrics();
  log('soak: done');

  const partial: Omit<SoakResult, 'failures'> = {
    config,
    environment: describeEnvironment(),
    stream: {
      tasks: streamed,
      children: streamChildren,
      chunks: chunkMs.length,
      wallMs: streamWallMs,
      tasksPerSecond: streamWallMs > 0 ? (streamed / streamWallMs) * 1000 : Number.NaN,
      firstTenthTasksPerSecond: rate(0, tenth),
      lastTenthTasksPerSecond: rate(chunkMs.length - tenth, chunkMs.length),
      slowestChunkMs: chunkMs.length === 0 ? 0 : Math.max(...chunkMs),
      settlement: streamSettlements.freeze(),
      bookMismatches: streamMismatches,
    },
    burst: {
      tasks: burstTasks,
      children: counters.children - streamChildren,
      submittedAfterShutdown: late,
      stubborn,
      shutdownMs,
      settlement: burstSettlements.freeze(),
      bookMismatches: burstMismatches,
      report:
        report === undefined ? undefined : { ...report, abandoned: [...report.abandoned], phases: report.phases.map((phase) => ({ ...phase })) },
    },
    engine: {
      deadlocksDetected: metrics.deadlocks.detected,
      deadlocksResolved: metrics.deadlocks.resolved,
      resolvedByVictim: metrics.deadlocks.resolvedByVictim,
      resolvedByCompensation: metrics.deadlocks.resolvedByCompensation,
      deadlockPairs: counters.deadlockPairs,
      pairBarrierTimeouts: counters.pairBarrierTimeouts,
      crashesInjected: counters.crashesInjected,
      crashes: metrics.workers.crashes,
      restarts: metrics.workers.restarts,
      escalations: metrics.workers.escalations,
      retries: counters.retries,
      cancelCalls: counters.cancelCalls,
      cancelsAccepted: counters.cancelsAccepted,
      logged: { ...logged },
    },
    memory: { baseline, samples, growth: memoryGrowth(samples) },
    stall: stall ?? null,
    totalMs: performance.now() - start,
  };
  const submissions = partial.stream.settlement.handles + partial.burst.settlement.handles;
  return { ...partial, failures: judgeSoak(partial, submissions) };
}
