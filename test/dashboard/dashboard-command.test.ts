import path from 'node:path';
import { createDashboardCommand, DASHBOARD_EXIT, type DashboardIo } from '../../src/cli/dashboard-command';
import { createProgram } from '../../src/cli/main';
import type { DashboardState } from '../../src/dashboard/dashboard-monitor';

const examples = path.join(__dirname, '..', '..', 'examples');

interface Captured {
  readonly io: DashboardIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly code: () => number | undefined;
}

function capture(extra: Partial<DashboardIo> = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  let code: number | undefined;
  const stream = (chunks: string[]) => ({ write: (chunk: unknown) => chunks.push(String(chunk)) > 0 }) as unknown as NodeJS.WritableStream;
  return {
    io: { stdout: stream(out), stderr: stream(err), setExitCode: (value) => (code = value), ...extra },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    code: () => code,
  };
}

async function dashboard(args: readonly string[], extra: Partial<DashboardIo> = {}): Promise<Captured> {
  const captured = capture(extra);
  await createDashboardCommand(captured.io)
    .exitOverride()
    .configureOutput({ writeOut: (text) => captured.io.stdout.write(text), writeErr: (text) => captured.io.stderr.write(text) })
    .parseAsync([...args], { from: 'user' });
  return captured;
}

describe('mezan dashboard', () => {
  it('is a command of the mezan program', () => {
    expect(createProgram().commands.map((command) => command.name())).toContain('dashboard');
  });

  it('runs a scenario file paced in real time, serves the page meanwhile, and stops after it with --exit', async () => {
    let state: Promise<DashboardState> | undefined;
    const run = await dashboard([path.join(examples, 'lock-order-inversion.yaml'), '--port', '0', '--speed', '0.5', '--exit'], {
      // The run waits for the page: how long a first fetch takes to connect is no part of the test.
      onListening: async (url) => {
        state = fetch(new URL('/state', url)).then((response) => response.json() as Promise<DashboardState>);
        await state;
      },
    });
    expect(run.code()).toBe(DASHBOARD_EXIT.ok);
    expect(run.stdout()).toMatch(/^mezan dashboard: http:\/\/127\.0\.0\.1:\d+\/\nlock-order inversion at 0\.5× \(seed 1\)/);
    expect(run.stdout()).toContain('finished at t = 21 ms: 1 completed, 1 deadlock\n');
    // The page was served while the command ran.
    expect((await state!).actors.map((actor) => actor.id)).toContain('resource:ledger');
  });

  it('runs the built-in demo when no file is given, and stops it early when asked', async () => {
    let asked = false;
    const run = await dashboard(['--port', '0'], {
      untilStopped: async () => {
        asked = true;
      },
    });
    expect(asked).toBe(true);
    expect(run.code()).toBe(DASHBOARD_EXIT.ok);
    expect(run.stdout()).toContain('dashboard demo at 1× (seed 1)');
    // Stopped before its first arrival: the engine shut down with nothing run.
    expect(run.stdout()).toContain('stopped at t = 0 ms: no task\n');
    expect(run.stdout()).not.toContain('keeps the final state');
  });

  it('exits with 2 and a message for a scenario file it cannot use', async () => {
    const run = await dashboard([path.join(examples, 'no-such-file.yaml'), '--port', '0', '--exit']);
    expect(run.code()).toBe(DASHBOARD_EXIT.invalid);
    expect(run.stderr()).toContain('no-such-file.yaml');
    expect(run.stdout()).toBe('');
  });

  it.each([
    ['--speed', '0'],
    ['--speed', 'fast'],
    ['--port', '-1'],
    ['--port', '70000'],
    ['--seed', '1.5'],
  ])('refuses %s %s', async (flag, value) => {
    await expect(dashboard([flag, value, '--exit'])).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });
});
