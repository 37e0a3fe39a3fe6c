import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createEngine, type Engine } from '../engine';
import { isMezanError, MezanError } from '../errors';
import { MAX_TIMER_MS } from '../internal/validate';
import { redactRedisUrl } from '../cluster/redact-redis-url';
import { loadModuleExports } from '../visualization/module-machines';
import { helpExamples } from './help-examples';
import { namedTasksOf } from './named-tasks-of';

/** The exit codes of `mezan node`. */
export const NODE_EXIT = Object.freeze({
  /** It drained and stopped after a signal. */
  ok: 0,
  /** A bad flag or tasks module, a Redis server that refused it, or none reached within `--join-timeout`: it never joined the cluster. */
  invalid: 2,
});

/** The flags of `mezan node`, as commander parses them. */
export interface NodeFlags {
  redis: string;
  name: string;
  tasks: string;
  node?: string;
  concurrency: number;
  threads?: number;
  lockDuration?: number;
  stalledInterval?: number;
  reconcileInterval?: number;
  deadlockAfter?: number;
  deadlockScan?: number;
  globalConcurrency?: number;
  rateLimit?: { limit: number; intervalMs: number };
  /** Serves the node's dashboard on this port of 127.0.0.1 (`0`: a free one). */
  dashboard?: number;
  /** How long it may take to join the cluster (ms) before the node gives up. @default {@link DEFAULT_JOIN_TIMEOUT_MS} */
  joinTimeout?: number;
}

/** How long `mezan node` waits to join its cluster by default: a Redis server not up by then is not coming. */
export const DEFAULT_JOIN_TIMEOUT_MS = 30_000;

/** Where `mezan node` writes; injected so tests can read it. */
export interface NodeIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Receives the exit code of a refusal. @default sets `process.exitCode` */
  readonly setExitCode?: (code: number) => void;
}

/**
 * The `mezan node --redis URL --name CLUSTER --tasks MODULE` command: joins a cluster as a node that
 * runs the named tasks the module exports (each exported function, by its export name), and drains
 * and stops on SIGTERM or SIGINT (a second signal hurries it).
 *
 * @param io - where it writes; the process's streams by default
 * @returns a commander command to add to the program
 * @example
 * ```ts
 * await createNodeCommand().parseAsync(['--redis', 'redis://127.0.0.1:6379', '--name', 'orders', '--tasks', './tasks.js'], { from: 'user' });
 * ```
 */
export function createNodeCommand(io: NodeIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  // A bad flag value is a refusal like a bad tasks module: exit code 2 (the CommanderError's), the
  // reason on stderr.
  const refuse = (error: CommanderError): never => {
    throw error.exitCode === 0 ? error : new CommanderError(NODE_EXIT.invalid, error.code, error.message);
  };
  return new Command('node')
    .description('join a cluster of mezan nodes on Redis and run the named tasks a module exports; SIGTERM drains it and stops it')
    .requiredOption('--redis <url>', 'the Redis server, as a redis:// URL')
    .requiredOption('--name <cluster>', "the cluster's name: nodes of the same name share one queue")
    .requiredOption(
      '--tasks <module>',
      'a module whose exported functions are the named tasks, each under its export name (.js, .cjs, .mjs, or .ts with tsx)',
    )
    .option(
      '--node <name>',
      "this node's name, unique in the cluster, of visible ASCII characters without spaces (default: <hostname>-<pid>-<6 random hex digits>)",
    )
    .option('--concurrency <n>', 'how many tasks this node runs at once', positiveInteger, 8)
    .option('--threads <n>', 'worker threads for the thread tasks (inThread) among them', nonNegativeInteger)
    .option(
      '--lock-duration <ms>',
      "how long a task's lease lasts without renewal: a node silent for longer has its tasks run elsewhere",
      positiveInteger,
    )
    .option('--stalled-interval <ms>', 'how often the node looks for tasks whose lease lapsed', positiveInteger)
    .option(
      '--reconcile-interval <ms>',
      'how often the node reads the jobs of its tasks pending that long, to settle those whose end it missed',
      positiveInteger,
    )
    .option('--deadlock-after <ms>', 'how long a deadlock across nodes must stay unchanged before it is broken', positiveInteger)
    .option('--deadlock-scan <ms>', "how often the cluster's deadlock detector scans the nodes' waits", positiveInteger)
    .option('--global-concurrency <n>', 'how many tasks the whole cluster runs at once, over all its nodes', positiveInteger)
    .option('--rate-limit <limit/ms>', 'at most <limit> task starts per <ms> milliseconds over the whole cluster, e.g. 100/1000', rateLimit)
    .option(
      '--join-timeout <ms>',
      'how long the node may take to join the cluster; a Redis server not reached by then exits with code 2',
      timerMs,
      DEFAULT_JOIN_TIMEOUT_MS,
    )
    .option('--dashboard <port>', "serve the node's dashboard, with the whole cluster in its Cluster panel, on 127.0.0.1 (0: a free port)", port)
    .configureOutput({ writeErr: (text) => void io.stderr.write(text) })
    .exitOverride(refuse)
    .addHelpText(
      'after',
      helpExamples([
        ['mezan node --redis redis://127.0.0.1:6379 --name orders --tasks examples/cluster-tasks.mjs', 'a node running 8 tasks at once'],
        ['mezan node --redis redis://127.0.0.1:6379 --name orders --tasks examples/cluster-tasks.mjs --node api-1', 'named in logs and on its jobs'],
        [
          'mezan node --redis redis://127.0.0.1:6379 --name orders --tasks examples/cluster-tasks.mjs --concurrency 16 --threads 2',
          '16 at once, thread tasks on 2 threads',
        ],
        [
          'mezan node --redis redis://127.0.0.1:6379 --name orders --tasks examples/cluster-tasks.mjs --lock-duration 5000',
          'its tasks run elsewhere 5 s after it dies',
        ],
        [
          'mezan node --redis redis://127.0.0.1:6379 --name orders --tasks examples/cluster-tasks.mjs --dashboard 7077',
          'the cluster on http://127.0.0.1:7077/',
        ],
      ]),
    )
    .action(async (flags: NodeFlags) => {
      await runNode(flags, io);
    });
}

/**
 * Runs one node until a signal has drained it. Resolves once it has joined the cluster, with the
 * engine (tests stop it themselves); the process exits when the engine has stopped after a signal.
 */
export async function runNode(flags: NodeFlags, io: NodeIo): Promise<Engine | undefined> {
  const setExitCode = io.setExitCode ?? ((code: number) => void (process.exitCode = code));
  let engine: Engine | undefined;
  try {
    const tasks = namedTasksOf(await loadModuleExports(flags.tasks), flags.tasks);
    engine = createEngine({
      concurrency: flags.concurrency,
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      tasks,
      cluster: {
        redis: flags.redis,
        name: flags.name,
        ...(flags.node === undefined ? {} : { node: flags.node }),
        ...(flags.lockDuration === undefined ? {} : { lockDurationMs: flags.lockDuration }),
        ...(flags.stalledInterval === undefined ? {} : { stalledIntervalMs: flags.stalledInterval }),
        ...(flags.reconcileInterval === undefined ? {} : { reconcileIntervalMs: flags.reconcileInterval }),
        ...(flags.deadlockAfter === undefined ? {} : { deadlockAfterMs: flags.deadlockAfter }),
        ...(flags.deadlockScan === undefined ? {} : { deadlockScanMs: flags.deadlockScan }),
        ...(flags.globalConcurrency === undefined ? {} : { globalConcurrency: flags.globalConcurrency }),
        ...(flags.rateLimit === undefined ? {} : { rateLimit: flags.rateLimit }),
      },
      shutdown: { signals: ['SIGTERM', 'SIGINT'], exitOnSignal: true },
    });
    const joinTimeout = flags.joinTimeout ?? DEFAULT_JOIN_TIMEOUT_MS;
    await engine.onClusterReady({ timeoutMs: joinTimeout }).catch((error: unknown) => {
      // Not joined in time: the server, the last error heard (a host the DNS does not know), and the flag.
      throw isMezanError(error, 'E_TIMEOUT') ? new MezanError(error.code, `${error.message} (--join-timeout)`, { details: error.details }) : error;
    });
    const names = Object.keys(tasks);
    io.stdout.write(
      `mezan node: joined cluster "${flags.name}" at ${redactRedisUrl(flags.redis)}, running ${names.length} task(s): ${names.join(', ')}; concurrency ${flags.concurrency}\n`,
    );
  } catch (error) {
    io.stderr.write(`mezan node: ${isMezanError(error) ? error.message : error instanceof Error ? error.message : String(error)}\n`);
    setExitCode(NODE_EXIT.invalid);
    if (engine !== undefined) {
      // Made but never joined: it drops what it had of the cluster (connections retrying) at once,
      // and nothing of it is left to keep the process alive.
      await engine.shutdown({ force: true, graceMs: 0 });
    }
    return undefined;
  }
  if (flags.dashboard !== undefined && !(await serveNodeDashboard(engine, flags.dashboard, io))) {
    // The port could not be had: the node leaves the cluster it joined.
    await engine.shutdown({ force: true, graceMs: 0 });
    setExitCode(NODE_EXIT.invalid);
    return undefined;
  }
  // The engine's own listeners start the shutdown (option `shutdown.signals`); this one, a turn
  // later, only waits for its report, to write it before the engine exits the process.
  const onSignal = (signal: NodeJS.Signals): void => {
    io.stdout.write(`mezan node: ${signal}: draining (the node takes no more tasks; those it runs finish)\n`);
    setImmediate(() => {
      void engine.shutdown().then((report) => {
        // The cluster tasks its own tasks submitted (`ctx.submit(name)`), when there were any.
        const cluster = report.cluster;
        const submitted =
          cluster === undefined || cluster.submitted === 0
            ? ''
            : `; of the ${cluster.submitted} cluster task(s) it submitted: ${cluster.completed} completed, ${cluster.failed} failed, ${cluster.cancelled} cancelled`;
        io.stdout.write(
          `mezan node: stopped: ${report.completed} completed, ${report.failed} failed, ${report.cancelled} cancelled, ${report.lost} lost${submitted}\n`,
        );
      });
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return engine;
}

/**
 * Serves the node's dashboard on `port`, closed once the engine has stopped (its events end).
 * @returns whether it is served; when not, why is on stderr
 */
async function serveNodeDashboard(engine: Engine, port: number, io: NodeIo): Promise<boolean> {
  try {
    const dashboard = await engine.serveDashboard({ port });
    engine.events$.subscribe({ complete: () => void dashboard.close() });
    io.stdout.write(`mezan node: dashboard at ${dashboard.url}\n`);
    return true;
  } catch (error) {
    io.stderr.write(`mezan node: the dashboard could not be served on port ${port}: ${error instanceof Error ? error.message : String(error)}\n`);
    return false;
  }
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** A delay the node times itself (`--join-timeout`): 1 to 2^31 − 1 ms, the longest a host timer honours (Node fires a longer one at once). */
function timerMs(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_TIMER_MS)
    throw new InvalidArgumentError(`expected a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  return parsed;
}

/** `<limit>/<ms>`: two positive integers (the engine checks their range). */
function rateLimit(value: string): { limit: number; intervalMs: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  if (match === null || Number(match[1]) < 1 || Number(match[2]) < 1)
    throw new InvalidArgumentError('expected <limit>/<ms>, two positive integers, e.g. 100/1000');
  return { limit: Number(match[1]), intervalMs: Number(match[2]) };
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new InvalidArgumentError('expected a port, from 0 to 65535');
  return parsed;
}

function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return parsed;
}
