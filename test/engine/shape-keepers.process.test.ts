import { spawn } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CHILD_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/shape-keepers-child.ts');

/** Runs the fixture in a process with V8's natives syntax and `gc()`, and parses what it writes. */
function runChild(): Promise<{ code: number | null; result: unknown; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', CHILD_SCRIPT], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, result: stdout === '' ? undefined : JSON.parse(stdout), stderr }));
  });
}

describe('the objects kept for their shapes', () => {
  // A full collection that finds no task's objects alive would drop their maps, and the optimized
  // code of the task path with them, unless the keepers have those very maps.
  it('have the maps of the records, handles and attempts of tasks made after a full collection', async () => {
    const run = await runChild();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const same = { handle: true, record: true };
    expect(run.result).toEqual({
      checks: {
        plain: same,
        'named, with a timeout and a priority': same,
        fractional: same,
        'plain, after a fractional priority': same,
        'with meta and input': same,
        'failing, retried': same,
        'with a dependency': same,
      },
      attempt: true,
    });
  });
});
