import { fork } from 'node:child_process';
import path from 'node:path';
import { createEngine } from '../src/index';
import type { MemoryConfig } from './bench-config';
import { collectGarbage } from './collect-garbage';

/** Process memory after a full garbage collection, in bytes. */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

/** Memory with tasks waiting in the queue behind blocked workers. */
export interface QueuedMemoryResult {
  readonly tasks: number;
  readonly workers: number;
  /** `engine.progress().running` while measured: the blocking tasks. */
  readonly running: number;
  /** `engine.progress().pending` while measured: should equal `tasks`. */
  readonly pending: number;
  /** The engine with its workers blocked and an empty queue. */
  readonly baseline: MemorySample;
  /** The same engine with `tasks` more tasks queued. */
  readonly queued: MemorySample;
}

/** Memory sampled while tasks stream through an engine. */
export interface StreamedMemoryResult {
  readonly tasks: number;
  readonly chunk: number;
  readonly workers: number;
  /** The idle engine before any task. */
  readonly baseline: MemorySample;
  /** A sample after every `sampleEvery` streamed tasks, in order. */
  readonly samples: ReadonlyArray<MemorySample & { readonly streamed: number }>;
}

/** What {@link runMemoryBench} measured; each scenario ran in a fresh process. */
export interface MemoryResult {
  readonly config: MemoryConfig;
  readonly queued: QueuedMemoryResult;
  readonly streamed: StreamedMemoryResult;
}

/** The memory scenarios, by the name the child process is given. */
export const MEMORY_SCENARIOS = {
  queued: measureQueuedMemory,
  streamed: measureStreamedMemory,
} as const;

/** A name of {@link MEMORY_SCENARIOS}. */
export type MemoryScenario = keyof typeof MEMORY_SCENARIOS;

const CHILD_TIMEOUT_MS = 120_000;

/**
 * Runs each memory scenario in its own child process (started with `--expose-gc`), so neither
 * inherits the other's heap, nor the throughput runs' high-water mark.
 *
 * @param config - sizes; see {@link MemoryConfig}
 * @param log - receives one line per scenario
 * @throws when a child process fails, times out or exits without a result
 */
export async function runMemoryBench(config: MemoryConfig, log: (line: string) => void = () => {}): Promise<MemoryResult> {
  log(`memory: ${config.queuedTasks.toLocaleString('en-US')} tasks queued behind ${config.workers} blocked workers`);
  const queued = (await runInChild('queued', config)) as QueuedMemoryResult;
  log(`memory: ${config.streamedTasks.toLocaleString('en-US')} tasks streamed in chunks of ${config.chunk.toLocaleString('en-US')}`);
  const streamed = (await runInChild('streamed', config)) as StreamedMemoryResult;
  return { config, queued, streamed };
}

function runInChild(scenario: MemoryScenario, config: MemoryConfig): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'memory-child.js'), [scenario, JSON.stringify(config)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: { value: unknown } | undefined;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`memory scenario "${scenario}" did not finish within ${CHILD_TIMEOUT_MS} ms`));
    }, CHILD_TIMEOUT_MS);
    child.on('message', (message) => {
      result = { value: message };
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && result !== undefined) resolve(result.value);
      else
        reject(
          new Error(`memory scenario "${scenario}" exited with ${signal ?? `code ${String(code)}`}${result === undefined ? ' and no result' : ''}`),
        );
    });
  });
}

/**
 * Collects garbage, then samples the process's memory.
 *
 * @throws {Error} when node was not started with `--expose-gc`: the figures would be noise
 */
export function sampleMemory(): MemorySample {
  if (!collectGarbage()) throw new Error('Memory figures need a full GC: run node with --expose-gc');
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

const noop = async (): Promise<void> => {};

/** Lets the engine's microtask flush and the executor's dispatch happen. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Blocks every worker with a task that waits on a gate, queues `config.queuedTasks` no-op tasks
 * behind them, and samples memory before and after queueing.
 */
export async function measureQueuedMemory(config: MemoryConfig): Promise<QueuedMemoryResult> {
  const engine = createEngine({ concurrency: config.workers });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  for (let i = 0; i < config.workers; i++) engine.submit(() => gate);
  await nextTurn();
  const baseline = sampleMemory();
  for (let i = 0; i < config.queuedTasks; i++) engine.submit(noop);
  await nextTurn();
  const { running, pending } = engine.progress();
  const queued = sampleMemory();
  open();
  await engine.onIdle();
  const report = await engine.shutdown();
  const expected = config.workers + config.queuedTasks;
  if (report.completed !== expected) throw new Error(`the queued scenario completed ${report.completed} of ${expected} tasks`);
  return { tasks: config.queuedTasks, workers: config.workers, running, pending, baseline, queued };
}

/**
 * Streams `config.streamedTasks` no-op tasks through one engine, `config.chunk` at a time, waiting
 * for the engine to go idle between chunks, and samples memory every `config.sampleEvery` tasks.
 */
export async function measureStreamedMemory(config: MemoryConfig): Promise<StreamedMemoryResult> {
  const engine = createEngine({ concurrency: config.workers });
  const baseline = sampleMemory();
  const samples: Array<MemorySample & { streamed: number }> = [];
  let streamed = 0;
  while (streamed < config.streamedTasks) {
    const size = Math.min(config.chunk, config.streamedTasks - streamed);
    for (let i = 0; i < size; i++) engine.submit(noop);
    await engine.onIdle();
    const before = streamed;
    streamed += size;
    if (Math.floor(streamed / config.sampleEvery) > Math.floor(before / config.sampleEvery) || streamed === config.streamedTasks) {
      samples.push({ streamed, ...sampleMemory() });
    }
  }
  const report = await engine.shutdown();
  if (report.completed !== config.streamedTasks) {
    throw new Error(`the streamed scenario completed ${report.completed} of ${config.streamedTasks} tasks`);
  }
  return { tasks: config.streamedTasks, chunk: config.chunk, workers: config.workers, baseline, samples };
}
