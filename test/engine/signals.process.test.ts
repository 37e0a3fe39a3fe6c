import { spawn } from 'node:child_process';
import path from 'node:path';
import type { EngineProgress, ShutdownReport } from '../../src';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CHILD_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/signal-child.ts');

/** What a child run produced: its exit, and what it wrote. */
interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: readonly string[];
  readonly stderr: string;
  /** The `report <JSON>` line, parsed; `undefined` when the child never wrote one. */
  readonly report: ShutdownReport | undefined;
  /** The `progress <JSON>` line, parsed; `undefined` when the child never wrote one. */
  readonly progress: EngineProgress | undefined;
}

function parsedLine<T>(lines: readonly string[], prefix: string): T | undefined {
  const line = lines.find((candidate) => candidate.startsWith(`${prefix} `));
  return line === undefined ? undefined : (JSON.parse(line.slice(prefix.length + 1)) as T);
}

/**
 * Runs the fixture script with a scenario in a real `node` process (TypeScript through tsx, from
 * src/, so no build can be stale) and sends it SIGTERM: once after it wrote `ready`, then once more
 * after each `signal SIGTERM` line it wrote, until `signals` have been sent. No timing is involved:
 * each signal waits for the child to say it is ready for it.
 */
function runChild(scenario: string, signals: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, scenario], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let partial = '';
    let sent = 0;
    const sendNext = (): void => {
      if (sent < signals) {
        sent++;
        child.kill('SIGTERM');
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line === 'ready' || line === 'signal SIGTERM') sendNext();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (partial !== '') lines.push(partial);
      resolve({
        code,
        signal,
        lines,
        stderr,
        report: parsedLine<ShutdownReport>(lines, 'report'),
        progress: parsedLine<EngineProgress>(lines, 'progress'),
      });
    });
  });
}

describe('a real child process with shutdown.signals: [SIGTERM] and exitOnSignal', () => {
  describe('sent SIGTERM once, mid-work', () => {
    let run: ChildRun;
    beforeAll(async () => {
      run = await runChild('drain', 1);
    }, 60_000);

    it('was signalled while it worked, and was not killed by the signal', () => {
      expect(run.stderr).toBe('');
      expect(run.lines.slice(0, 2)).toEqual(['ready', 'signal SIGTERM']);
      expect(run.signal).toBeNull();
    });

    it('drains: every task submitted before the signal completes', () => {
      expect(run.progress).toMatchObject({ total: 30, completed: 30, failed: 0, cancelled: 0, rejected: 0, running: 0, pending: 0 });
    });

    it('exits with code 0', () => {
      expect(run.code).toBe(0);
    });

    it('prints its report before exiting: all 30 completed, lost 0, phases draining then stopped', () => {
      expect(run.report).toBeDefined();
      expect(run.report).toMatchObject({ submitted: 30, completed: 30, failed: 0, cancelled: 0, rejected: 0, lost: 0 });
      expect(run.report!.phases.map(({ phase, cause }) => [phase, cause])).toEqual([
        ['draining', 'signal'],
        ['stopped', 'drained'],
      ]);
    });
  });

  describe('sent SIGTERM three times while its tasks never return', () => {
    let run: ChildRun;
    beforeAll(async () => {
      run = await runChild('deaf', 3);
    }, 60_000);

    it('received the three signals, and the third abandoned the functions at once: exit code 1', () => {
      expect(run.stderr).toBe('');
      expect(run.lines.slice(0, 4)).toEqual(['ready', 'signal SIGTERM', 'signal SIGTERM', 'signal SIGTERM']);
      expect(run.signal).toBeNull();
      expect(run.code).toBe(1);
    });

    it('reports the four running functions abandoned and every task ended, none lost', () => {
      expect(run.report).toMatchObject({ submitted: 8, completed: 0, cancelled: 8, lost: 0 });
      expect(run.report!.abandoned).toHaveLength(4);
      expect(run.report!.phases.map(({ phase }) => phase)).toEqual(['draining', 'terminating', 'stopped']);
    });
  });

  describe('sent SIGTERM twice while its tasks ignore their signal', () => {
    let run: ChildRun;
    beforeAll(async () => {
      run = await runChild('stubborn', 2);
    }, 60_000);

    it('received both signals and was not killed by either', () => {
      expect(run.stderr).toBe('');
      expect(run.lines.slice(0, 3)).toEqual(['ready', 'signal SIGTERM', 'signal SIGTERM']);
      expect(run.signal).toBeNull();
    });

    it('terminates: running tasks are aborted and queued ones cancelled, none lost', () => {
      expect(run.progress).toMatchObject({ total: 8, completed: 0, cancelled: 8, running: 0, pending: 0 });
    });

    it('exits with code 1', () => {
      expect(run.code).toBe(1);
    });

    it('prints its report before exiting: phases draining then terminating (second signal), lost 0', () => {
      expect(run.report).toBeDefined();
      expect(run.report).toMatchObject({ submitted: 8, completed: 0, cancelled: 8, lost: 0 });
      expect(run.report!.phases.map(({ phase, cause }) => [phase, cause])).toEqual([
        ['draining', 'signal'],
        ['terminating', 'signal'],
        ['stopped', 'drained'],
      ]);
    });
  });
});
