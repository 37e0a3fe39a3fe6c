import { checkScenarioTaskCount, DEFAULT_MAX_SCENARIO_TASKS } from './scenario-limits';
import { checkScenarioThreads } from './scenario-threads';
import { createEngine, type Engine } from '../engine';
import type { EngineEvent } from '../engine-events';
import type { ShutdownReport } from '../engine-snapshots';
import type { EngineOptions } from '../engine-options';
import { MezanError } from '../errors';
import { seededRandom, type RandomSource } from '../random';
import { drawDuration } from './draw-duration';
import { releaseLast } from './release-last';
import { ScenarioAgents, type ScenarioAgentEvent, type ScenarioAskCounts } from './scenario-agents';
import type { AgentStats } from '../../actors/agent.actor';
import {
  SIMULATION_DEFAULT_CONCURRENCY,
  type Fault,
  type Scenario,
  type ScenarioTask,
  type Step,
  type TaskGenerator,
  type TaskTemplate,
} from './scenario';
import type { TaskHandle } from '../task-handle';
import type { Dependency, Lease, TaskContext, TaskFunction, TaskOptions } from '../task-options';
import type { TerminalTaskStatus } from '../task-status';
import { VirtualClock } from '../virtual-clock';

/** Options of a {@link ScenarioRun}. */
export interface ScenarioRunOptions {
  /** The seed of every random draw, as `simulate` takes it. @default 1 */
  readonly seed?: number;
  /** Virtual time after which the run stops taking steps and is shut down with `force`. @default 86_400_000 (a day) */
  readonly maxVirtualMs?: number;
  /** Called with each fault at its time, before it is injected (a simulation traces it). */
  readonly onFault?: (fault: Fault, at: number) => void;
  /**
   * The most top-level tasks the scenario may make (every arrival is prepared up front); the same
   * limit bounds its messages, and the messages its agents' handlers make. @default 1,000,000
   */
  readonly maxTasks?: number;
  /** Called with what the scenario's agents do (asks settled, handlers ended), as it happens (a simulation traces it). */
  readonly onAgentEvent?: (event: ScenarioAgentEvent) => void;
  /**
   * An XState inspection observer for the run's engine (as `createEngine`'s `inspect`): it sees
   * every actor, event and snapshot, in virtual time; tests count the messages between actors with it.
   */
  readonly inspect?: EngineOptions['inspect'];
}

/** How a {@link ScenarioRun} ended: the shutdown report and the tasks by terminal status. */
export interface ScenarioRunSummary {
  readonly shutdown: ShutdownReport;
  readonly byStatus: Readonly<Record<TerminalTaskStatus, number>>;
  /** Tasks that did not complete, by error code (see {@link codeOf}). */
  readonly byCode: Readonly<Record<string, number>>;
  /** Virtual time when the last task ended. */
  readonly makespanMs: number;
  /** Each agent's statistics at the end, by name (none when the scenario declares no agents). */
  readonly agents: Readonly<Record<string, AgentStats>>;
  /** How the asks of the scenario's steps and messages ended. */
  readonly asks: ScenarioAskCounts;
}

const TERMINAL_EVENTS: Readonly<Record<string, TerminalTaskStatus>> = Object.freeze({
  'task.completed': 'completed',
  'task.failed': 'failed',
  'task.cancelled': 'cancelled',
  'task.timeout': 'timeout',
  'task.deadlock': 'deadlock',
  'task.rejected': 'rejected',
});

/**
 * A scenario set up on a real engine and a {@link VirtualClock} that its caller drives: one
 * {@link ScenarioRun.step} at a time (tests), or paced in real time by `paceVirtualClock` (the
 * dashboard), or as fast as it goes by `simulate`, which adds the trace and the report: a seed
 * gives the same run whoever turns the clock.
 *
 * @example
 * ```ts
 * const run = new ScenarioRun(loadScenario('examples/lock-order-inversion.yaml'));
 * while (await run.step());
 * const { byStatus } = await run.finish();
 * ```
 */
export class ScenarioRun {
  readonly scenario: Scenario;
  readonly seed: number;
  /** The clock the engine runs on; nothing moves it but {@link ScenarioRun.step} and its caller. */
  readonly clock = new VirtualClock({ settle: 'each-instant' });
  readonly engine: Engine;
  readonly #maxVirtualMs: number;
  /** Durations, failures and arrivals. */
  readonly #workload: RandomSource;
  readonly #handles = new Map<string, TaskHandle<unknown>>();
  /** The explicit tasks with an id, by id. */
  readonly #explicit = new Map<string, ScenarioTask>();
  readonly #players = new WeakMap<readonly Step[], TaskFunction>();
  readonly #byStatus: Record<TerminalTaskStatus, number> = { completed: 0, failed: 0, cancelled: 0, timeout: 0, deadlock: 0, rejected: 0 };
  readonly #byCode: Record<string, number> = {};
  readonly #onFault: ((fault: Fault, at: number) => void) | undefined;
  /** The scenario's agents and messages; none for a scenario without agents, which then runs as it always did. */
  readonly #agents: ScenarioAgents | undefined;
  #makespanMs = 0;
  #pendingArrivals = 0;
  #pendingFaults = 0;
  #finished: Promise<ScenarioRunSummary> | undefined;

  /**
   * Creates the engine and schedules the scenario's arrivals and faults on the clock; nothing runs
   * until the clock moves.
   *
   * @throws {MezanError} `E_INVALID_OPTION` for a seed that is not an integer (or a bad engine setting)
   */
  constructor(scenario: Scenario, options: ScenarioRunOptions = {}) {
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed))
      throw new MezanError('E_INVALID_OPTION', `Expected \`seed\` to be an integer, got ${String(seed)}`, {
        details: { option: 'seed', received: seed },
      });
    checkScenarioThreads(scenario);
    checkScenarioTaskCount(scenario, options.maxTasks);
    this.scenario = scenario;
    this.seed = seed;
    this.#maxVirtualMs = options.maxVirtualMs ?? 86_400_000;
    this.#onFault = options.onFault;
    this.#workload = seededRandom(seed);
    const settings = scenario.engine ?? {};
    this.engine = createEngine({
      concurrency: settings.concurrency ?? settings.workers ?? SIMULATION_DEFAULT_CONCURRENCY,
      // Main-thread tasks only: a thread would run in real time.
      threads: 0,
      clock: this.clock,
      // The same separate stream as `simulate`'s, so the workload's draws match a simulation's.
      random: seededRandom(seed ^ 0x5bd1e995),
      rateLimit: settings.rateLimit,
      resources: settings.resources,
      deadlock: settings.deadlock,
      lockOrder: settings.lockOrder,
      supervision: settings.supervision,
      shutdown: settings.shutdown,
      // Outcomes are read from the events; none is unobserved.
      onUnhandledError: () => undefined,
      // What the default logger would write (deadlocks, alerts, crashes) is in the report and the trace.
      logger: false,
      inspect: options.inspect,
    });
    this.engine.events$.subscribe((event) => this.#onEvent(event));
    this.#scheduleArrivals();
    // After the tasks' arrivals, so that a scenario's draws for them stay what they were before it had agents.
    this.#agents =
      scenario.agents === undefined && scenario.messages === undefined
        ? undefined
        : new ScenarioAgents(scenario, this.engine, this.clock, this.#workload, options.maxTasks ?? DEFAULT_MAX_SCENARIO_TASKS, options.onAgentEvent);
    this.#scheduleFaults();
  }

  /** `true` while the scenario has something left to do: arrivals, faults, or unfinished tasks. */
  get hasWork(): boolean {
    return (
      this.#finished === undefined &&
      this.engine.isAccepting &&
      (this.#pendingArrivals > 0 || this.#pendingFaults > 0 || !this.engine.isIdle || this.#agents?.hasWork === true) &&
      this.clock.now() <= this.#maxVirtualMs &&
      this.clock.pendingTimers > 0
    );
  }

  /**
   * Fires the timers of the next virtual instant, while the scenario {@link ScenarioRun.hasWork}.
   * @returns `false` when there was nothing left to do
   */
  async step(): Promise<boolean> {
    if (!this.hasWork) return false;
    return this.clock.step();
  }

  /**
   * Shuts the engine down (with `force` when the run is stuck or ran past `maxVirtualMs`) and turns
   * the clock until it has stopped. Calling it again returns the same summary.
   */
  finish(): Promise<ScenarioRunSummary> {
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<ScenarioRunSummary> {
    const stuck = this.clock.now() > this.#maxVirtualMs || ((!this.engine.isIdle || this.#agents?.busy === true) && this.clock.pendingTimers === 0);
    const shutdown = this.engine.shutdown({ force: stuck });
    let report: ShutdownReport | undefined;
    void shutdown.then((value) => (report = value));
    // The aborts of a forced shutdown play out at this instant first: stepping at once would fire
    // the next timer (the abandonment's, `abandonAfterMs` away) before the aborted functions return.
    await this.clock.advanceBy(0);
    while (report === undefined && (await this.clock.step()));
    report ??= await shutdown;
    return {
      shutdown: report,
      byStatus: { ...this.#byStatus },
      byCode: { ...this.#byCode },
      makespanMs: this.#makespanMs,
      agents: this.#agents?.stats() ?? {},
      asks: this.#agents?.asks() ?? { made: 0, replied: 0, failed: 0, byCode: {} },
    };
  }

  #onEvent(event: EngineEvent): void {
    const status = TERMINAL_EVENTS[event.type];
    if (status === undefined) return;
    this.#byStatus[status]++;
    if (event.at > this.#makespanMs) this.#makespanMs = event.at;
    const code = codeOf(event);
    if (code !== undefined) this.#byCode[code] = (this.#byCode[code] ?? 0) + 1;
  }

  /**
   * Submits the explicit tasks at their times and the generated ones at their arrivals. The arrival
   * times are drawn up front (in the order of the file, so a seed gives the same ones), but each is
   * kept as three numbers, not an object and a closure: a scenario's queue of a million arrivals
   * would otherwise be most of its heap.
   */
  #scheduleArrivals(): void {
    const entries = this.scenario.tasks ?? [];
    const times: number[] = [];
    const sources: number[] = [];
    const ordinals: number[] = [];
    entries.forEach((entry, index) => {
      if ('generate' in entry) {
        this.#drawArrivals(entry, (at, ordinal) => {
          times.push(at);
          sources.push(index);
          ordinals.push(ordinal);
        });
        return;
      }
      if (entry.id !== undefined) this.#explicit.set(entry.id, entry);
      times.push(entry.at ?? 0);
      sources.push(index);
      ordinals.push(0);
    });
    // Stable: equal times keep the file's order.
    const order = Uint32Array.from(times.keys()).sort((a, b) => times[a]! - times[b]! || a - b);
    this.#pendingArrivals = order.length;
    let next = 0;
    const pump = (): void => {
      const now = this.clock.now();
      while (next < order.length && times[order[next]!]! <= now) {
        const arrival = order[next++]!;
        this.#pendingArrivals--;
        const entry = entries[sources[arrival]!]!;
        if ('generate' in entry) this.#submitGenerated(entry, sources[arrival]!, ordinals[arrival]!);
        else this.#submitExplicit(entry);
      }
      if (next < order.length) this.clock.setTimeout(pump, times[order[next]!]! - now);
    };
    if (order.length > 0) this.clock.setTimeout(pump, times[order[0]!]!);
  }

  /** Draws the arrival times of a generator, in order: the listed `times`, or a Poisson process at `rate`. */
  #drawArrivals(entry: TaskGenerator, arrive: (at: number, ordinal: number) => void): void {
    const { count, rate, start = 0, times } = entry.generate;
    let at = start;
    for (let n = 0; n < (times?.length ?? count ?? 0); n++) {
      if (times !== undefined) at = times[n]!;
      else if (rate !== undefined && n > 0) at += Math.round((-1000 / rate) * Math.log(1 - this.#workload()));
      arrive(at, n + 1);
    }
  }

  #submitGenerated(entry: TaskGenerator, index: number, ordinal: number): void {
    const template = entry.generate;
    const name = template.name ?? `gen${index}`;
    void this.engine.submit(this.#taskFunction(template.steps), this.#taskOptions(template, `${name}-${ordinal}`));
  }

  #submitExplicit(task: ScenarioTask): void {
    // Already submitted, ahead of its arrival, by a dependant arriving at the same instant.
    if (task.id !== undefined && this.#handles.has(task.id)) return;
    // A dependency arriving at the same instant, later in the file, goes first (the loader refuses cycles).
    for (const entry of task.dependsOn ?? []) {
      const id = typeof entry === 'string' ? entry : entry.task;
      const dependency = this.#explicit.get(id);
      if (dependency !== undefined && !this.#handles.has(id) && (dependency.at ?? 0) === (task.at ?? 0)) this.#submitExplicit(dependency);
    }
    const dependsOn = (task.dependsOn ?? []).flatMap((entry): Dependency[] => {
      const handle = this.#handles.get(typeof entry === 'string' ? entry : entry.task);
      if (handle === undefined) return [];
      return typeof entry === 'string' || entry.allow === undefined ? [handle] : [{ task: handle, allow: entry.allow }];
    });
    const options: TaskOptions = { ...this.#taskOptions(task, task.name ?? task.id), dependsOn };
    const handle = this.engine.submit(this.#taskFunction(task.steps), task.id === undefined ? options : { ...options, id: task.id });
    if (task.id !== undefined) this.#handles.set(task.id, handle);
  }

  #taskOptions(template: TaskTemplate, name: string | undefined): TaskOptions {
    return {
      name,
      priority: template.priority,
      timeoutMs: template.timeoutMs,
      retries: template.retries,
      resources: template.resources,
      group: template.group,
      queueTimeoutMs: template.queueTimeoutMs,
    };
  }

  /** The task function that plays a script of steps: one per script, shared by the tasks that play it. */
  #taskFunction(steps: readonly Step[]): TaskFunction {
    let play = this.#players.get(steps);
    if (play === undefined) {
      play = this.#player(steps);
      this.#players.set(steps, play);
    }
    return play;
  }

  #player(steps: readonly Step[]): TaskFunction {
    // Each acquire's options, made once per script rather than once per task.
    const acquireOptions = steps.map((step) => ('acquire' in step ? { units: step.units, timeoutMs: step.timeoutMs } : undefined));
    return async (ctx: TaskContext) => {
      // Leases in the order taken, made only for a script that acquires (an array: a task holds few).
      let leases: Lease[] | undefined;
      try {
        // Indexed: this runs for every task, and a for-of allocated an iterator result per step.
        for (let index = 0; index < steps.length; index++) {
          const step = steps[index]!;
          if ('acquire' in step) {
            const lease = await ctx.acquire(step.acquire, acquireOptions[index]);
            if (leases === undefined) leases = [lease];
            else leases.push(lease);
            continue;
          }
          // The other steps wait for at most one promise: no async frame of their own.
          const waiting = this.#play(step, ctx, leases);
          if (waiting !== undefined) await waiting;
        }
      } finally {
        if (leases !== undefined) for (const lease of leases) lease.release();
      }
    };
  }

  /** Plays a step other than `acquire`; returns what the task must wait for, if anything. */
  #play(step: Exclude<Step, { acquire: string }>, ctx: TaskContext, leases: Lease[] | undefined): Promise<unknown> | undefined {
    if ('work' in step) return ctx.sleep(drawDuration(step.work, this.#workload));
    if ('release' in step) {
      releaseLast(leases, step.release);
      return undefined;
    }
    if ('spawn' in step) {
      const child = ctx.submit(this.#taskFunction(step.spawn.steps), this.#taskOptions(step.spawn, step.spawn.name));
      return step.await === true ? ctx.await(child) : undefined;
    }
    if ('fail' in step) {
      if (this.#workload() < step.fail) throw new Error(step.message ?? 'injected failure');
      return undefined;
    }
    // The loader lets a task ask or send only to agents the scenario declares, so there are some.
    if ('ask' in step) return this.#agents!.askFromTask(step, ctx);
    if ('send' in step) {
      this.#agents!.sendFromTask(step);
      return undefined;
    }
    ctx.progress(step.progress, step.message);
    return undefined;
  }

  #scheduleFaults(): void {
    const faults = this.scenario.faults ?? [];
    this.#pendingFaults = faults.length;
    for (const fault of faults) {
      this.clock.setTimeout(() => {
        this.#pendingFaults--;
        this.#inject(fault);
      }, fault.at);
    }
  }

  #inject(fault: Fault): void {
    this.#onFault?.(fault, this.clock.now());
    if (!this.engine.isAccepting && !('signal' in fault)) return;
    if ('signal' in fault) this.engine.inject({ type: 'signal', signal: fault.signal });
    else if ('crash' in fault) {
      if (typeof fault.crash === 'string') this.engine.inject({ type: 'worker.crash', workerId: fault.crash });
      else this.#agents?.crash(fault.crash.agent);
    } else if ('cancel' in fault) this.#handles.get(fault.cancel)?.cancel('cancelled by the scenario');
    else if ('capacity' in fault)
      this.engine.inject({ type: 'resource.capacity', resource: fault.capacity.resource, capacity: fault.capacity.units });
    else this.engine.inject({ type: 'worker.slow', workerId: fault.slow.worker, factor: fault.slow.factor, forMs: fault.slow.forMs });
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
