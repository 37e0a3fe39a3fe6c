import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createEngine, type Engine } from '../engine';
import type { EngineEvent } from '../engine-events';
import type { EngineProgress, ShutdownReport } from '../engine-snapshots';
import { MezanError } from '../errors';
import type { DeadlockReport } from '../internal/deadlock-resolver';
import { seededRandom, type RandomSource } from '../random';
import type { TaskHandle } from '../task-handle';
import type { Lease, TaskContext, TaskFunction, TaskOptions } from '../task-options';
import type { TerminalTaskStatus } from '../task-status';
import { VirtualClock } from '../virtual-clock';
import { drawDuration } from './draw-duration';
import { evaluateExpectations, type ExpectationResult } from './expectations';
import type { Fault, Scenario, ScenarioTask, Step, TaskGenerator, TaskTemplate } from './scenario';

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The seed of every random draw (durations, failures, arrivals, jitter). @default 1 */
  seed?: number;
  /** Writes the trace, JSON lines of engine events in virtual time, to this file. */
  trace?: string;
  /** Virtual time after which the run is shut down with `force`. @default 86_400_000 (a day) */
  maxVirtualMs?: number;
  /** Called now and then with the engine's progress (for a progress bar). */
  onProgress?: (progress: EngineProgress) => void;
}

/** What a simulation found. The same scenario and seed give the same report and the same trace. */
export interface SimulationReport {
  /** The scenario's name, or its file. */
  readonly scenario: string;
  readonly seed: number;
  /** `true` when every expectation held. */
  readonly ok: boolean;
  /** Virtual time from the start to the last task's end. */
  readonly makespanMs: number;
  /** Tasks by terminal status (children included). */
  readonly byStatus: Readonly<Record<TerminalTaskStatus, number>>;
  /** Tasks that did not complete, by error code. */
  readonly byCode: Readonly<Record<string, number>>;
  readonly deadlocks: readonly DeadlockReport[];
  /** Alerts raised during the run (none until the monitor exists). */
  readonly alerts: readonly unknown[];
  /** The most tasks queued at once. */
  readonly maxQueueDepth: number;
  /** SHA-256 of the trace, header included: equal hashes mean byte-for-byte equal traces. */
  readonly traceHash: string;
  readonly expectations: readonly ExpectationResult[];
  readonly shutdown: ShutdownReport;
  /** How many engine events the trace holds. */
  readonly events: number;
}

const TERMINAL_EVENTS: Readonly<Record<string, TerminalTaskStatus>> = Object.freeze({
  'task.completed': 'completed',
  'task.failed': 'failed',
  'task.cancelled': 'cancelled',
  'task.timeout': 'timeout',
  'task.deadlock': 'deadlock',
  'task.rejected': 'rejected',
});

const DEFAULT_WORKERS = 4;
const TRACE_CHUNK = 1 << 20;

/**
 * Runs a scenario on the real engine (the same machines and actors) in virtual time, with seeded
 * randomness: the same scenario and seed give the same report and the same trace, byte for byte.
 *
 * @example
 * ```ts
 * const report = await simulate(loadScenario('examples/dining-philosophers.yaml'), { seed: 7, trace: 'out.jsonl' });
 * console.log(report.ok, report.deadlocks.length, report.traceHash);
 * ```
 */
export async function simulate(scenario: Scenario, options: SimulateOptions = {}): Promise<SimulationReport> {
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed))
    throw new MezanError('E_INVALID_OPTION', `Expected \`seed\` to be an integer, got ${String(seed)}`, {
      details: { option: 'seed', received: seed },
    });
  const run = new SimulationRun(scenario, seed, options);
  return run.execute();
}

/** One run of a scenario: its clock, its random streams, its engine and its trace. */
class SimulationRun {
  readonly #scenario: Scenario;
  readonly #seed: number;
  readonly #options: SimulateOptions;
  readonly #clock = new VirtualClock({ settle: 'each-instant' });
  /** Durations, failures and arrivals. */
  readonly #workload: RandomSource;
  readonly #engine: Engine;
  readonly #handles = new Map<string, TaskHandle<unknown>>();
  readonly #hash = createHash('sha256');
  readonly #byStatus: Record<TerminalTaskStatus, number> = { completed: 0, failed: 0, cancelled: 0, timeout: 0, deadlock: 0, rejected: 0 };
  readonly #byCode: Record<string, number> = {};
  #events = 0;
  #makespanMs = 0;
  #pendingArrivals = 0;
  #pendingFaults = 0;
  #trace: { fd: number; buffer: string[]; size: number } | undefined;

  constructor(scenario: Scenario, seed: number, options: SimulateOptions) {
    this.#scenario = scenario;
    this.#seed = seed;
    this.#options = options;
    this.#workload = seededRandom(seed);
    const settings = scenario.engine ?? {};
    this.#engine = createEngine({
      workers: settings.workers ?? DEFAULT_WORKERS,
      clock: this.#clock,
      // A stream of its own, so that the engine's draws (jitter, ids) never shift the workload's.
      random: seededRandom(seed ^ 0x5bd1e995),
      resources: settings.resources,
      deadlock: settings.deadlock,
      lockOrder: settings.lockOrder,
      supervision: settings.supervision,
      shutdown: settings.shutdown,
      // Every outcome is read from the events; none is unobserved.
      onUnhandledError: () => undefined,
    });
  }

  async execute(): Promise<SimulationReport> {
    this.#openTrace();
    this.#record({ type: 'simulation.start', at: 0, seed: this.#seed, maxVirtualMs: this.#options.maxVirtualMs, scenario: this.#scenario });
    this.#engine.events$.subscribe((event) => this.#onEvent(event));
    this.#scheduleArrivals();
    this.#scheduleFaults();
    const maxVirtualMs = this.#options.maxVirtualMs ?? 86_400_000;
    let steps = 0;
    while (
      this.#engine.isAccepting &&
      (this.#pendingArrivals > 0 || this.#pendingFaults > 0 || !this.#engine.isIdle) &&
      this.#clock.now() <= maxVirtualMs
    ) {
      if (!(await this.#clock.step())) break;
      if (++steps % 1024 === 0) this.#options.onProgress?.(this.#engine.progress());
    }
    const stuck = this.#clock.now() > maxVirtualMs || (!this.#engine.isIdle && this.#clock.pendingTimers === 0);
    const shutdown = this.#engine.shutdown({ force: stuck });
    let report: ShutdownReport | undefined;
    void shutdown.then((value) => (report = value));
    while (report === undefined && (await this.#clock.step()));
    report ??= await shutdown;
    this.#options.onProgress?.(this.#engine.progress());
    return this.#finish(report);
  }

  #finish(shutdown: ShutdownReport): SimulationReport {
    const deadlocks = this.#engine.deadlocks();
    const maxQueueDepth = this.#engine.progress().peakQueued;
    const measured = {
      ...this.#byStatus,
      deadlocks: deadlocks.length,
      lost: shutdown.lost,
      maxQueueDepth,
      makespanMs: this.#makespanMs,
      byCode: this.#byCode,
    };
    const expectations = evaluateExpectations(this.#scenario.expect ?? {}, measured);
    const summary = { type: 'simulation.end', at: this.#clock.now(), shutdown, expectations };
    this.#record(summary);
    this.#closeTrace();
    return {
      scenario: this.#scenario.name ?? this.#scenario.file ?? '<inline>',
      seed: this.#seed,
      ok: expectations.every((expectation) => expectation.ok),
      makespanMs: this.#makespanMs,
      byStatus: { ...this.#byStatus },
      byCode: { ...this.#byCode },
      deadlocks,
      alerts: [],
      maxQueueDepth,
      traceHash: this.#hash.digest('hex'),
      expectations,
      shutdown,
      events: this.#events,
    };
  }

  #onEvent(event: EngineEvent): void {
    this.#events++;
    const status = TERMINAL_EVENTS[event.type];
    if (status !== undefined) {
      this.#byStatus[status]++;
      if ('at' in event && event.at > this.#makespanMs) this.#makespanMs = event.at;
      const code = codeOf(event);
      if (code !== undefined) this.#byCode[code] = (this.#byCode[code] ?? 0) + 1;
    }
    this.#record(event);
  }

  /** Submits the explicit tasks at their times and the generated ones at their arrivals. */
  #scheduleArrivals(): void {
    const arrivals: Array<{ readonly at: number; readonly submit: () => void }> = [];
    for (const [index, entry] of (this.#scenario.tasks ?? []).entries()) {
      if ('generate' in entry) arrivals.push(...this.#generated(entry, index));
      else arrivals.push({ at: entry.at ?? 0, submit: () => this.#submitExplicit(entry) });
    }
    // Stable: equal times keep the file's order.
    arrivals.sort((a, b) => a.at - b.at);
    this.#pendingArrivals = arrivals.length;
    let next = 0;
    const pump = (): void => {
      const now = this.#clock.now();
      while (next < arrivals.length && arrivals[next]!.at <= now) {
        this.#pendingArrivals--;
        arrivals[next++]!.submit();
      }
      if (next < arrivals.length) this.#clock.setTimeout(pump, arrivals[next]!.at - now);
    };
    if (arrivals.length > 0) this.#clock.setTimeout(pump, arrivals[0]!.at);
  }

  #generated(entry: TaskGenerator, index: number): Array<{ readonly at: number; readonly submit: () => void }> {
    const { count, rate, start = 0, times, ...template } = entry.generate;
    const arrivals: Array<{ at: number; submit: () => void }> = [];
    let at = start;
    for (let n = 0; n < (times?.length ?? count ?? 0); n++) {
      if (times !== undefined) at = times[n]!;
      else if (rate !== undefined && n > 0) at += Math.round((-1000 / rate) * Math.log(1 - this.#workload()));
      const name = template.name ?? `gen${index}`;
      arrivals.push({
        at,
        submit: () => void this.#engine.submit(this.#taskFunction(template.steps), this.#taskOptions(template, `${name}-${n + 1}`)),
      });
    }
    return arrivals;
  }

  #submitExplicit(task: ScenarioTask): void {
    const dependsOn = (task.dependsOn ?? [])
      .map((id) => this.#handles.get(id))
      .filter((handle): handle is TaskHandle<unknown> => handle !== undefined);
    const options: TaskOptions = { ...this.#taskOptions(task, task.name ?? task.id), dependsOn };
    const handle = this.#engine.submit(this.#taskFunction(task.steps), task.id === undefined ? options : { ...options, id: task.id });
    if (task.id !== undefined) this.#handles.set(task.id, handle);
  }

  #taskOptions(template: TaskTemplate, name: string | undefined): TaskOptions {
    return {
      name,
      priority: template.priority,
      timeoutMs: template.timeoutMs,
      retries: template.retries,
      resources: template.resources,
    };
  }

  /** A task function that plays a script of steps. */
  #taskFunction(steps: readonly Step[]): TaskFunction {
    return async (ctx: TaskContext) => {
      const leases = new Map<string, Lease[]>();
      try {
        for (const step of steps) await this.#play(step, ctx, leases);
      } finally {
        for (const held of leases.values()) for (const lease of held) lease.release();
      }
    };
  }

  async #play(step: Step, ctx: TaskContext, leases: Map<string, Lease[]>): Promise<void> {
    if ('work' in step) {
      await ctx.sleep(drawDuration(step.work, this.#workload));
    } else if ('acquire' in step) {
      const lease = await ctx.acquire(step.acquire, { units: step.units, timeoutMs: step.timeoutMs });
      const held = leases.get(step.acquire) ?? [];
      held.push(lease);
      leases.set(step.acquire, held);
    } else if ('release' in step) {
      leases.get(step.release)?.pop()?.release();
    } else if ('spawn' in step) {
      const child = ctx.submit(this.#taskFunction(step.spawn.steps), this.#taskOptions(step.spawn, step.spawn.name));
      if (step.await === true) await ctx.await(child);
    } else if ('fail' in step) {
      if (this.#workload() < step.fail) throw new Error(step.message ?? 'injected failure');
    } else {
      ctx.progress(step.progress, step.message);
    }
  }

  #scheduleFaults(): void {
    const faults = this.#scenario.faults ?? [];
    this.#pendingFaults = faults.length;
    for (const fault of faults) {
      this.#clock.setTimeout(() => {
        this.#pendingFaults--;
        this.#inject(fault);
      }, fault.at);
    }
  }

  #inject(fault: Fault): void {
    // Every fault is in the trace, whether or not it changes anything.
    this.#record({ type: 'simulation.fault', at: this.#clock.now(), fault });
    if (!this.#engine.isAccepting && !('signal' in fault)) return;
    if ('signal' in fault) this.#engine.inject({ type: 'signal', signal: fault.signal });
    else if ('crash' in fault) this.#engine.inject({ type: 'worker.crash', workerId: fault.crash });
    else if ('cancel' in fault) this.#handles.get(fault.cancel)?.cancel('cancelled by the scenario');
    else if ('capacity' in fault)
      this.#engine.inject({ type: 'resource.capacity', resource: fault.capacity.resource, capacity: fault.capacity.units });
    else this.#engine.inject({ type: 'worker.slow', workerId: fault.slow.worker, factor: fault.slow.factor, forMs: fault.slow.forMs });
  }

  #openTrace(): void {
    if (this.#options.trace === undefined) return;
    this.#trace = { fd: openSync(this.#options.trace, 'w'), buffer: [], size: 0 };
  }

  #record(entry: object): void {
    const line = `${JSON.stringify(entry, traceValue)}\n`;
    this.#hash.update(line);
    const trace = this.#trace;
    if (trace === undefined) return;
    trace.buffer.push(line);
    trace.size += line.length;
    if (trace.size >= TRACE_CHUNK) this.#flushTrace();
  }

  #flushTrace(): void {
    const trace = this.#trace!;
    writeSync(trace.fd, trace.buffer.join(''));
    trace.buffer = [];
    trace.size = 0;
  }

  #closeTrace(): void {
    if (this.#trace === undefined) return;
    this.#flushTrace();
    closeSync(this.#trace.fd);
    this.#trace = undefined;
  }
}

/**
 * The code a task ended with. A function that failed by rethrowing a `MezanError` (an acquire that
 * timed out, a refused lock order) is counted under that error's own code, not `E_TASK_FAILED`.
 */
function codeOf(event: EngineEvent): string | undefined {
  const code = (event as { code?: string }).code;
  if (event.type === 'task.failed' && code === 'E_TASK_FAILED') {
    const thrown = (event.error as { code?: unknown } | undefined)?.code;
    if (typeof thrown === 'string') return thrown;
  }
  return code;
}

/** Errors become plain data in the trace: their name, message and code. */
function traceValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { name: value.name, message: value.message } : { name: value.name, message: value.message, code };
  }
  return value;
}
