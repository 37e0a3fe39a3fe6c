import { Command, InvalidArgumentError } from 'commander';
import { demoScenario } from '../dashboard/demo-scenario';
import { ScenarioRun } from '../simulation/scenario-run';
import { serveDashboard } from '../dashboard/serve-dashboard';
import { VirtualClockPacer } from '../dashboard/virtual-clock-pacer';
import { isMezanError } from '../errors';
import { loadScenario } from '../simulation/load-scenario';
import type { Scenario } from '../simulation/scenario';
import { scenarioWarnings } from '../simulation/scenario-warnings';
import { helpExamples } from './help-examples';

/** The exit codes of `mezan dashboard`. */
export const DASHBOARD_EXIT = Object.freeze({
  /** The scenario ran and the dashboard was stopped. */
  ok: 0,
  /** A bad scenario file or flag, or the port was taken: nothing ran. */
  invalid: 2,
});

/** The port `mezan dashboard` listens on when `--port` is not given. */
export const DEFAULT_DASHBOARD_PORT = 7077;

/** Where `mezan dashboard` writes, and how it learns to stop; injected so tests can drive it. */
export interface DashboardIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Receives the exit code. @default sets `process.exitCode` */
  readonly setExitCode?: (code: number) => void;
  /**
   * Resolves when the user wants the dashboard to stop (it keeps serving the final state until then).
   * @default the first SIGINT or SIGTERM
   */
  readonly untilStopped?: (signal: AbortSignal) => Promise<void>;
  /** Called with the page's address once it is served; the run starts once what it returns settles (tests read the page first). */
  readonly onListening?: (url: string) => void | Promise<void>;
}

/** The flags of `mezan dashboard`, as commander parses them. */
export interface DashboardFlags {
  port: number;
  speed: number;
  seed: number;
  exit?: boolean;
}

/**
 * The `mezan dashboard [scenario] [--port N] [--speed X]` command: runs a scenario (a file, or a
 * built-in demo) in virtual time paced in real time, and serves the live dashboard on 127.0.0.1.
 *
 * @param io - where it writes; the process's streams and signals by default
 * @returns a commander command to add to the program
 * @example
 * ```ts
 * await createDashboardCommand().parseAsync(['examples/lock-order-inversion.yaml', '--speed', '0.01'], { from: 'user' });
 * ```
 */
export function createDashboardCommand(io: DashboardIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  return new Command('dashboard')
    .description('run a scenario in virtual time, paced for a person to watch, and serve a live dashboard on 127.0.0.1')
    .argument('[scenario]', 'the scenario file (YAML or JSON); a built-in demo of about 40 s when absent')
    .option('--port <n>', 'the port to serve the page on (0 picks a free one)', parsePort, DEFAULT_DASHBOARD_PORT)
    .option('--speed <x>', 'virtual milliseconds per real millisecond: 1 is real time, 0.01 a hundred times slower', parseSpeed, 1)
    .option('--seed <n>', 'the seed of every random draw, as `mezan simulate` takes it', parseSeed, 1)
    .option('--exit', 'stop serving once the scenario has run (by default the page stays up until Ctrl-C)')
    .addHelpText(
      'after',
      helpExamples([
        ['mezan dashboard', `the built-in demo, on http://127.0.0.1:${DEFAULT_DASHBOARD_PORT}`],
        ['mezan dashboard examples/lock-order-inversion.yaml --speed 0.01', 'a scenario, a hundred times slower than real time'],
        ['mezan dashboard examples/showcase.yaml --port 0 --exit', 'on a free port, no longer served once the run ends'],
        ['mezan dashboard examples/dining-philosophers.yaml --seed 7', 'another seed, as `mezan simulate --seed 7` runs it'],
      ]),
    )
    .action(async (file: string | undefined, flags: DashboardFlags) => {
      const setExitCode = io.setExitCode ?? ((code: number) => void (process.exitCode = code));
      setExitCode(await runDashboardCommand(file, flags, io));
    });
}

/**
 * What `mezan dashboard` does once its arguments are parsed.
 *
 * @param file - the scenario file; the built-in demo when absent
 * @param flags - see {@link DashboardFlags}
 * @param io - see {@link DashboardIo}
 * @returns the exit code, one of {@link DASHBOARD_EXIT}
 */
export async function runDashboardCommand(file: string | undefined, flags: DashboardFlags, io: DashboardIo): Promise<number> {
  let scenario: Scenario;
  try {
    scenario = file === undefined ? demoScenario() : loadScenario(file);
  } catch (error) {
    if (isMezanError(error, 'E_INVALID_SCENARIO')) {
      io.stderr.write(`${error.message}\n`);
      return DASHBOARD_EXIT.invalid;
    }
    throw error;
  }
  for (const warning of scenarioWarnings(scenario)) io.stderr.write(`${file}: warning: ${warning}\n`);
  const run = new ScenarioRun(scenario, { seed: flags.seed });
  const pacer = new VirtualClockPacer(run.clock, { speed: flags.speed });
  let dashboard;
  try {
    dashboard = await serveDashboard(run.engine, { port: flags.port, now: () => pacer.now() });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      io.stderr.write(`mezan dashboard: cannot listen on port ${flags.port} (${code}); try --port 0\n`);
      void run.finish();
      return DASHBOARD_EXIT.invalid;
    }
    throw error;
  }
  const stop = new AbortController();
  const stopped = (io.untilStopped ?? untilSignal)(stop.signal).then(() => stop.abort());
  try {
    const name = scenario.name ?? scenario.file ?? 'scenario';
    io.stdout.write(`mezan dashboard: ${dashboard.url}\n${name} at ${flags.speed}× (seed ${flags.seed}); Ctrl-C to stop\n`);
    await io.onListening?.(dashboard.url);
    await pacer.run({ step: () => run.step(), signal: stop.signal });
    const endedAt = run.clock.now();
    const summary = await run.finish();
    const counts = Object.entries(summary.byStatus)
      .filter(([, count]) => count > 0)
      .map(([status, count]) => `${count} ${status}`)
      .join(', ');
    io.stdout.write(`${stop.signal.aborted ? 'stopped' : 'finished'} at t = ${endedAt} ms: ${counts || 'no task'}\n`);
    if (flags.exit !== true && !stop.signal.aborted) {
      io.stdout.write('the page keeps the final state; Ctrl-C to stop\n');
      await stopped;
    }
  } finally {
    stop.abort();
    await dashboard.close();
  }
  return DASHBOARD_EXIT.ok;
}

/** Resolves on the first SIGINT or SIGTERM (or when `signal` aborts), and removes its listeners. */
function untilSignal(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return port;
}

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (text.trim() === '' || !Number.isFinite(speed) || speed <= 0) throw new InvalidArgumentError('expected a positive number');
  return speed;
}

function parseSeed(text: string): number {
  const seed = Number(text);
  if (!/^-?\d+$/.test(text) || seed < -(2 ** 31) || seed > 2 ** 31 - 1) throw new InvalidArgumentError('expected a 32-bit integer');
  return seed;
}
