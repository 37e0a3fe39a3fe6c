// The agents' costs (issue 10): ask round trips per second of a mezan agent against a plain async
// function call and against a bare XState request/reply pair, each race alternating its two sides in
// this process; then 100,000 messages sent from 16 concurrent tasks to one agent, checking that the
// agent handled exactly what was sent. Part of `npm run bench`; on its own:
// `node --expose-gc dist/bench/agents.bench.js [--quick]` after `npm run build`.
import { performance } from 'node:perf_hooks';
import Table from 'cli-table3';
import { createActor, createMachine, sendTo, type AnyActorRef } from 'xstate';
import { createEngine, type Agent, type AgentStats } from '../src/index';
import { alternateRuns, type Side } from './alternating-runs';
import { collectGarbage } from './collect-garbage';
import { formatCount } from './format';
import { median, ratio } from './stats';

/** Sizes of the agents' bench. */
export interface AgentsBenchConfig {
  /** Asks per timed run, one at a time, each awaited before the next. */
  readonly asks: number;
  /** Timed runs per side of each ask race, alternating which side goes first. */
  readonly runs: number;
  /** Untimed rounds (one run of each side) first, to warm the JIT. */
  readonly warmupRounds: number;
  /** Messages sent to the one agent per run of the mailbox row. */
  readonly messages: number;
  /** Tasks that send them, at once (the engine's concurrency). */
  readonly senders: number;
  /** Timed runs of the mailbox row. */
  readonly messageRuns: number;
}

/** The sizes issue 10 asks for, and a tenth of them for `--quick`. */
export function agentsBenchConfig(quick: boolean): AgentsBenchConfig {
  return quick
    ? { asks: 2_000, runs: 3, warmupRounds: 1, messages: 10_000, senders: 16, messageRuns: 1 }
    : { asks: 20_000, runs: 5, warmupRounds: 1, messages: 100_000, senders: 16, messageRuns: 3 };
}

/** What an ask is raced against. */
export type AskPeer = 'async function' | 'XState request/reply';

/** One ask race: round trips per second of each side, the median of their timed runs. */
export interface AskRace {
  readonly peer: AskPeer;
  readonly asks: number;
  /** Each side's round trips per second, run by run, in the order they ran. */
  readonly runs: Readonly<Record<Side, readonly number[]>>;
  readonly mezanPerSecond: number;
  readonly peerPerSecond: number;
  /** mezan's round trips per second over the peer's: below 1 when mezan is slower. */
  readonly ratio: number;
  /** Microseconds per round trip, each side's median. */
  readonly mezanUs: number;
  readonly peerUs: number;
}

/** The mailbox row: messages from concurrent tasks to one agent. */
export interface MailboxFlood {
  readonly messages: number;
  readonly senders: number;
  /** Messages per second handled, from the first send to the last message handled, run by run. */
  readonly runs: readonly number[];
  readonly medianPerSecond: number;
  /** The agent's stats after the last run (its final ask, which marks the end, included). */
  readonly stats: AgentStats;
  /** Whether, in every run, `handled` was exactly what was sent and nothing failed or was dropped. */
  readonly exact: boolean;
}

/** What the agents' bench measured. */
export interface AgentsBenchResult {
  readonly config: AgentsBenchConfig;
  readonly asks: readonly AskRace[];
  readonly mailbox: MailboxFlood;
}

type Log = (line: string) => void;

/** Asks one side answers: `asks` round trips, one at a time; the run's wall time in ms. */
interface AskSide {
  run(asks: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Runs the agents' bench: the two ask races, then the mailbox row.
 *
 * @param config - sizes; {@link agentsBenchConfig} gives the issue's, or `--quick`'s
 * @param log - receives one line per timed run
 * @throws Error when an ask is answered wrongly
 */
export async function runAgentsBench(config: AgentsBenchConfig, log: Log = () => {}): Promise<AgentsBenchResult> {
  const asks: AskRace[] = [];
  for (const peer of ['async function', 'XState request/reply'] as const) asks.push(await askRace(config, peer, log));
  const mailbox = await mailboxFlood(config, log);
  return { config, asks, mailbox };
}

async function askRace(config: AgentsBenchConfig, peer: AskPeer, log: Log): Promise<AskRace> {
  const sides: Record<Side, AskSide> = { mezan: mezanAsks(), peer: peer === 'async function' ? functionCalls() : xstatePair() };
  try {
    const measured = await alternateRuns(
      (side) => sides[side].run(config.asks),
      config,
      (index, side, ms) =>
        log(
          `agents ask vs ${peer} run ${index + 1}/${config.runs} ${side === 'mezan' ? 'mezan' : 'peer '} ${formatCount(perSecond(config.asks, ms))} asks/s`,
        ),
    );
    const runs = { mezan: measured.mezan.map((ms) => perSecond(config.asks, ms)), peer: measured.peer.map((ms) => perSecond(config.asks, ms)) };
    const mezanPerSecond = median(runs.mezan);
    const peerPerSecond = median(runs.peer);
    return {
      peer,
      asks: config.asks,
      runs,
      mezanPerSecond,
      peerPerSecond,
      ratio: ratio(mezanPerSecond, peerPerSecond),
      mezanUs: 1e6 / mezanPerSecond,
      peerUs: 1e6 / peerPerSecond,
    };
  } finally {
    await sides.mezan.close();
    await sides.peer.close();
  }
}

/** The handler every side runs: it answers a number with the next one. */
async function answer(question: number): Promise<number> {
  return question + 1;
}

/** Times `asks` round trips, one after the other, checking every answer; garbage is collected first. */
async function timeAsks(asks: number, ask: (question: number) => Promise<number>): Promise<number> {
  collectGarbage();
  const start = performance.now();
  for (let question = 0; question < asks; question++) {
    const reply = await ask(question);
    if (reply !== question + 1) throw new Error(`ask ${question} was answered ${String(reply)}`);
  }
  return performance.now() - start;
}

/** mezan's side: one agent of the defaults on one engine, asked from outside. */
function mezanAsks(): AskSide {
  const engine = createEngine({ logger: false });
  const agent: Agent<number, number> = engine.spawnAgent<number, number>({ name: 'answerer', receive: answer });
  return {
    run: (asks) => timeAsks(asks, (question) => agent.ask(question)),
    async close() {
      await engine.shutdown();
    },
  };
}

/** A plain async function call: what an ask costs at the least. */
function functionCalls(): AskSide {
  return { run: (asks) => timeAsks(asks, answer), close: async () => {} };
}

/**
 * Two bare XState actors: the client sends the server a `request` carrying itself as `replyTo`, and
 * the server replies to it; the client's `reply` resolves the awaited promise.
 */
function xstatePair(): AskSide {
  type Request = { type: 'request'; question: number; replyTo: AnyActorRef };
  let pending: ((value: number) => void) | undefined;
  const server = createActor(
    createMachine({
      types: {} as { events: Request },
      on: {
        request: {
          actions: sendTo(
            ({ event }) => event.replyTo,
            ({ event }) => ({ type: 'reply', answer: event.question + 1 }),
          ),
        },
      },
    }),
  ).start();
  const client = createActor(
    createMachine({
      types: {} as { events: { type: 'ask'; question: number } | { type: 'reply'; answer: number } },
      on: {
        ask: {
          actions: sendTo(server, ({ event, self }) => ({
            type: 'request' as const,
            question: (event as { question: number }).question,
            replyTo: self,
          })),
        },
        reply: { actions: ({ event }) => pending?.((event as { answer: number }).answer) },
      },
    }),
  ).start();
  return {
    run: (asks) =>
      timeAsks(
        asks,
        (question) =>
          new Promise<number>((resolve) => {
            pending = resolve;
            client.send({ type: 'ask', question });
          }),
      ),
    async close() {
      client.stop();
      server.stop();
    },
  };
}

/**
 * `senders` tasks at once each send their share of `messages` to one agent, whose mailbox holds them
 * all (overflow `'reject'`: a message it could not take would count in `dropped`; `'wait'` bounds its
 * waiting senders by the capacity too), then an ask marks the end (the mailbox is first in, first
 * out). Checks that the handler saw every message once and that `handled` is what was sent.
 */
async function mailboxFlood(config: AgentsBenchConfig, log: Log): Promise<MailboxFlood> {
  const { messages, senders, messageRuns } = config;
  const runs: number[] = [];
  let stats: AgentStats | undefined;
  let exact = true;
  for (let run = 0; run < messageRuns + 1; run++) {
    const engine = createEngine({ concurrency: senders, logger: false });
    let seen = 0;
    const agent = engine.spawnAgent<number | 'done', number>({
      name: 'sink',
      mailbox: { capacity: messages, overflow: 'reject' },
      receive: (message) => {
        if (message !== 'done') seen++;
        return seen;
      },
    });
    collectGarbage();
    const start = performance.now();
    const tasks = Array.from({ length: senders }, (_, sender) =>
      engine.submit(() => {
        for (let message = sender; message < messages; message += senders) agent.send(message);
      }),
    );
    await Promise.all(tasks.map((task) => task.result));
    const handledBeforeDone = await agent.ask('done');
    const elapsedMs = performance.now() - start;
    const after = agent.stats();
    await engine.shutdown();
    const runExact =
      handledBeforeDone === messages && seen === messages && after.handled === messages + 1 && after.failed === 0 && after.dropped === 0;
    // The first run warms the JIT; it is checked, not timed.
    if (run > 0) {
      runs.push(perSecond(messages, elapsedMs));
      log(
        `agents mailbox run ${run}/${messageRuns} ${formatCount(perSecond(messages, elapsedMs))} msgs/s, handled ${formatCount(after.handled - 1)} of ${formatCount(messages)}`,
      );
    }
    exact &&= runExact;
    stats = after;
  }
  return { messages, senders, runs, medianPerSecond: median(runs), stats: stats!, exact };
}

function perSecond(count: number, ms: number): number {
  return ratio(count * 1000, ms);
}

// No colours and no lines between rows: the report is pasted into issues and READMEs.
const TABLE_STYLE = { head: [], border: [] };
const TABLE_CHARS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/**
 * The agents' section of the bench report: the ask races as ratios, then the mailbox row with its check.
 *
 * @returns the lines, without a trailing newline
 */
export function formatAgentsReport(result: AgentsBenchResult): string {
  const asks = new Table({
    head: ['ask round trips, one at a time', 'mezan agent', 'peer', 'ratio (mezan/peer)'],
    colAligns: ['left', 'right', 'right', 'right'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  for (const race of result.asks) {
    asks.push([
      `${formatCount(race.asks)} asks against a ${race.peer === 'async function' ? 'plain async function call' : 'bare XState request/reply pair'}`,
      `${formatCount(race.mezanPerSecond)} asks/s (${race.mezanUs.toFixed(2)} µs)`,
      `${formatCount(race.peerPerSecond)} /s (${race.peerUs.toFixed(2)} µs)`,
      `${race.ratio.toFixed(3)}×`,
    ]);
  }
  const { mailbox } = result;
  const flood = new Table({
    head: ['messages to one agent', 'handled per second', 'check'],
    colAligns: ['left', 'right', 'left'],
    style: TABLE_STYLE,
    chars: TABLE_CHARS,
  });
  flood.push([
    `${formatCount(mailbox.messages)} sent from ${mailbox.senders} concurrent tasks (mailbox capacity ${formatCount(mailbox.messages)})`,
    `${formatCount(mailbox.medianPerSecond)} msgs/s`,
    `${mailbox.exact ? 'PASS' : 'FAIL'}: handled ${formatCount(mailbox.stats.handled - 1)} of ${formatCount(mailbox.messages)} sent, failed ${mailbox.stats.failed}, dropped ${mailbox.stats.dropped}`,
  ]);
  const runs = (values: readonly number[]): string => values.map((value) => formatCount(value)).join(', ');
  return [
    `Agents (median of ${result.config.runs} alternating runs per side; ${formatCount(result.config.asks)} asks each)`,
    asks.toString(),
    ...result.asks.map((race) => `  runs vs ${race.peer}: mezan ${runs(race.runs.mezan)}; peer ${runs(race.runs.peer)}`),
    flood.toString(),
    `  runs: ${runs(mailbox.runs)} msgs/s`,
  ].join('\n');
}

if (require.main === module) {
  runAgentsBench(agentsBenchConfig(process.argv.includes('--quick')), (line) => void process.stderr.write(`${line}\n`))
    .then((result) => {
      process.stdout.write(`${formatAgentsReport(result)}\n`);
      if (!result.mailbox.exact) process.exitCode = 1;
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
