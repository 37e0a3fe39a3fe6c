/**
 * The agents of a scenario on a simulated engine: spawned at time 0, each with a handler that plays
 * its script for every message, the scenario's messages given to them at their times, and every
 * ask the scenario makes (a handler's, a task's, a message's) followed to its outcome.
 */
import type { Agent } from '../agents/agent';
import type { AgentContext } from '../agents/agent-context';
import { unknownAgentError } from '../agents/agent-options';
import { MezanError } from '../errors';
import type { AgentStats } from '../../actors/agent.actor';
import type { Clock } from '../clock';
import type { Engine } from '../engine';
import type { RandomSource } from '../random';
import type { Lease, TaskContext } from '../task-options';
import { releaseLast } from './release-last';
import { drawDuration } from './draw-duration';
import type { AgentStep, AskStep, Scenario, ScenarioAgent, ScenarioMessage, SendStep } from './scenario';

/** How the asks a scenario made ended: replied, or failed (by error code). */
export interface ScenarioAskCounts {
  /** Asks made; once the run is over, each has settled once: `replied + failed`. */
  readonly made: number;
  /** Asks that got their reply. */
  readonly replied: number;
  /** Asks that failed, whatever the code. */
  readonly failed: number;
  /** Failed asks by error code (`E_TIMEOUT`, `E_DEADLOCK`, `E_AGENT_FAILED`...). */
  readonly byCode: Readonly<Record<string, number>>;
}

/**
 * What the agents of a scenario did, for the trace: an ask of the scenario that settled
 * (`simulation.ask`; `from` is the asking agent or task id, none for a scenario message), or a
 * handler that ended (`simulation.handled`).
 */
export type ScenarioAgentEvent =
  | {
      readonly type: 'simulation.ask';
      readonly at: number;
      readonly from?: string;
      readonly to: string;
      readonly ok: boolean;
      readonly code?: string;
      readonly durationMs: number;
    }
  | {
      readonly type: 'simulation.handled';
      readonly at: number;
      readonly agent: string;
      readonly ok: boolean;
      readonly error?: unknown;
      readonly durationMs: number;
    };

/**
 * The agents of a {@link ScenarioRun}: made by it when the scenario declares agents, driven by its
 * clock, drawing from its workload's random stream.
 * @internal
 */
export class ScenarioAgents {
  readonly #engine: Engine;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #record: ((event: ScenarioAgentEvent) => void) | undefined;
  /** Every agent the scenario spawned, stopped ones too (a stopped agent's handle still answers `stats()`). */
  readonly #agents = new Map<string, Agent>();
  readonly #byCode: Record<string, number> = {};
  #made = 0;
  #replied = 0;
  #failed = 0;
  #pendingMessages = 0;
  /** The most messages the handlers' `ask` and `send` steps may make in a run, and how many they made. */
  readonly #maxHandlerMessages: number;
  #handlerMessages = 0;

  /**
   * Spawns the scenario's agents and schedules its messages (their arrival times drawn now, in the
   * order of the file).
   *
   * @param maxHandlerMessages - the most messages the handlers may make (agents that message each
   *   other in a loop would otherwise go on for ever, within one instant when their work takes no time)
   */
  constructor(
    scenario: Scenario,
    engine: Engine,
    clock: Clock,
    random: RandomSource,
    maxHandlerMessages: number,
    record?: (event: ScenarioAgentEvent) => void,
  ) {
    this.#engine = engine;
    this.#maxHandlerMessages = maxHandlerMessages;
    this.#clock = clock;
    this.#random = random;
    this.#record = record;
    for (const agent of scenario.agents ?? []) {
      this.#agents.set(
        agent.name,
        engine.spawnAgent({
          name: agent.name,
          receive: this.#handler(agent),
          concurrency: agent.concurrency,
          mailbox: agent.mailbox,
          restart: agent.restart,
        }),
      );
    }
    this.#scheduleMessages(scenario.messages ?? []);
  }

  /** `true` while messages are still to come, or an agent handles, holds or restarts one. */
  get hasWork(): boolean {
    return this.#pendingMessages > 0 || this.busy;
  }

  /** `true` while an agent handles a message, has one waiting, or restarts. */
  get busy(): boolean {
    for (const agent of this.#agents.values()) if (agent.status === 'busy' || agent.status === 'restarting') return true;
    return false;
  }

  /** Each agent's statistics now, by name, in the order of the file. */
  stats(): Record<string, AgentStats> {
    const stats: Record<string, AgentStats> = {};
    for (const [name, agent] of this.#agents) stats[name] = agent.stats();
    return stats;
  }

  /** How the scenario's asks ended so far. */
  asks(): ScenarioAskCounts {
    return { made: this.#made, replied: this.#replied, failed: this.#failed, byCode: { ...this.#byCode } };
  }

  /** Crashes the agent named `name` if it still runs (a stopped one has nothing left to crash). */
  crash(name: string): void {
    if (this.#engine.agent(name) !== undefined) this.#engine.inject({ type: 'agent.crash', agent: name });
  }

  /**
   * A task's `ask` step, through the task's own `ctx.ask`: while it waits, the task waits for the
   * agent in the wait-for graph, and aborting the task withdraws the ask.
   * @returns a promise that rejects with the ask's error, or resolves on it with `onFailure: continue`
   */
  askFromTask(step: AskStep, ctx: TaskContext): Promise<unknown> {
    return this.#follow(
      ctx.id,
      step,
      attempt(() => ctx.ask(step.ask, step.message ?? null, { timeoutMs: step.timeoutMs })),
    );
  }

  /**
   * A task's `send` step.
   * @throws {MezanError} `E_AGENT_STOPPED` when the agent no longer runs
   */
  sendFromTask(step: SendStep): void {
    this.#agent(step.send).send(step.message ?? null);
  }

  /**
   * The running agent named `name`.
   * @throws {MezanError} `E_AGENT_STOPPED` when none runs (it stopped past its restart limit, or at shutdown)
   */
  #agent(name: string): Agent {
    const agent = this.#engine.agent(name);
    if (agent === undefined) throw unknownAgentError(name);
    return agent;
  }

  /** The handler of an agent: plays its script for each message, and the trace hears how it ended. */
  #handler(agent: ScenarioAgent): (message: unknown, ctx: AgentContext) => Promise<unknown> {
    return async (_message, ctx) => {
      const start = this.#clock.now();
      try {
        const reply = await this.#play(agent.steps, ctx);
        this.#record?.({ type: 'simulation.handled', at: this.#clock.now(), agent: agent.name, ok: true, durationMs: this.#clock.now() - start });
        return reply;
      } catch (error) {
        const at = this.#clock.now();
        this.#record?.({ type: 'simulation.handled', at, agent: agent.name, ok: false, error, durationMs: at - start });
        throw error;
      }
    };
  }

  async #play(steps: readonly AgentStep[], ctx: AgentContext): Promise<unknown> {
    // What the script holds, in the order taken; the engine gives back what is left when the handler ends.
    let leases: Lease[] | undefined;
    for (const step of steps) {
      if ('work' in step) await ctx.sleep(drawDuration(step.work, this.#random));
      else if ('acquire' in step) (leases ??= []).push(await ctx.acquire(step.acquire, step.units));
      else if ('release' in step) releaseLast(leases, step.release);
      else if ('fail' in step) {
        if (this.#random() < step.fail) throw new Error(step.message ?? 'injected failure');
      } else if ('reply' in step) return step.reply;
      else if (++this.#handlerMessages > this.#maxHandlerMessages) throw this.#tooManyMessages();
      else if ('ask' in step)
        await this.#follow(
          ctx.self.name,
          step,
          attempt(() => ctx.ask(step.ask, step.message ?? null, { timeoutMs: step.timeoutMs })),
        );
      else ctx.send(step.send, step.message ?? null);
    }
    return null;
  }

  #tooManyMessages(): MezanError {
    const limit = this.#maxHandlerMessages.toLocaleString('en-US');
    return new MezanError(
      'E_INVALID_SCENARIO',
      `The agents' handlers made more than ${limit} messages (do they message each other in a loop?); raise the limit with --max-tasks (or the maxTasks option)`,
      { details: { limit: this.#maxHandlerMessages } },
    );
  }

  /** Counts and traces how an ask ended; a failure goes on to the script unless it carries on (`onFailure: continue`). */
  async #follow(from: string | undefined, step: Pick<AskStep, 'ask' | 'onFailure'>, reply: Promise<unknown>): Promise<unknown> {
    const start = this.#clock.now();
    this.#made++;
    try {
      const value = await reply;
      this.#replied++;
      this.#record?.({ type: 'simulation.ask', at: this.#clock.now(), from, to: step.ask, ok: true, durationMs: this.#clock.now() - start });
      return value;
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      const at = this.#clock.now();
      this.#failed++;
      if (typeof code === 'string') this.#byCode[code] = (this.#byCode[code] ?? 0) + 1;
      this.#record?.({
        type: 'simulation.ask',
        at,
        from,
        to: step.ask,
        ok: false,
        code: typeof code === 'string' ? code : undefined,
        durationMs: at - start,
      });
      if (step.onFailure === 'continue') return undefined;
      throw error;
    }
  }

  /**
   * Gives each message to its agent at its time. The arrival times are drawn up front, in the order
   * of the file, and kept as numbers (the message's index and time), as the tasks' arrivals are.
   */
  #scheduleMessages(messages: readonly ScenarioMessage[]): void {
    const times: number[] = [];
    const sources: number[] = [];
    messages.forEach((message, index) => {
      const { at = 0, count = 1, rate, times: listed } = message;
      let time = at;
      for (let n = 0; n < (listed?.length ?? count); n++) {
        if (listed !== undefined) time = listed[n]!;
        else if (rate !== undefined && n > 0) time += Math.round((-1000 / rate) * Math.log(1 - this.#random()));
        times.push(time);
        sources.push(index);
      }
    });
    // Stable: equal times keep the file's order.
    const order = Uint32Array.from(times.keys()).sort((a, b) => times[a]! - times[b]! || a - b);
    this.#pendingMessages = order.length;
    let next = 0;
    const pump = (): void => {
      const now = this.#clock.now();
      while (next < order.length && times[order[next]!]! <= now) {
        this.#pendingMessages--;
        this.#deliver(messages[sources[order[next++]!]!]!);
      }
      if (next < order.length) this.#clock.setTimeout(pump, times[order[next]!]! - now);
    };
    if (order.length > 0) this.#clock.setTimeout(pump, times[order[0]!]!);
  }

  #deliver(message: ScenarioMessage): void {
    if ('send' in message) {
      // A stopped agent takes nothing: the message is lost, as one sent to it would be.
      this.#engine.agent(message.send)?.send(message.message ?? null);
      return;
    }
    const reply = attempt(() => this.#agent(message.ask).ask(message.message ?? null, { timeoutMs: message.timeoutMs }));
    // Nobody waits for a scenario message's reply: its outcome is counted and traced, never thrown.
    void this.#follow(undefined, { ask: message.ask, onFailure: 'continue' }, reply);
  }
}

/** What `ask` returns, or a promise rejected with what it threw: an ask's failure is always its promise's. */
function attempt(ask: () => Promise<unknown>): Promise<unknown> {
  try {
    return ask();
  } catch (error) {
    return Promise.reject(error);
  }
}
