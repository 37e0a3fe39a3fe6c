import { spawn } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CHILD_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/default-logger-child.ts');

/** Runs the fixture in a real process, with the environment given (the suite's quiet setting left out). */
function runChild(argument: string, environment: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...environment };
    if (environment['MEZAN_LOG_LEVEL'] === undefined) delete env['MEZAN_LOG_LEVEL'];
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, argument], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the default logger', () => {
  it('writes warnings to stderr, so an unobserved failure shows without configuration', async () => {
    const run = await runChild('default', {});
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('done\n');
    expect(run.stderr).toMatch(/^mezan warn: a task failed and nobody awaited its result \{.*"code":"E_TASK_FAILED"/m);
  });

  it('is silent with logger: false', async () => {
    const run = await runChild('false', {});
    expect(run.stdout).toBe('done\n');
    expect(run.stderr).toBe('');
  });

  it('takes its level from MEZAN_LOG_LEVEL', async () => {
    const silent = await runChild('default', { MEZAN_LOG_LEVEL: 'silent' });
    expect(silent.stdout).toBe('done\n');
    expect(silent.stderr).toBe('');
    const errorsOnly = await runChild('default', { MEZAN_LOG_LEVEL: 'error' });
    expect(errorsOnly.stderr).toBe('');
  });
});
