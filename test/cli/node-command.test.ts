import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeCommand, NODE_EXIT } from '../../src/cli/node-command';
import { memoryStream } from '../fixtures/memory-stream';

const DIR = mkdtempSync(join(tmpdir(), 'mezan-node-command-'));
const TASKS = join(DIR, 'tasks.cjs');
writeFileSync(TASKS, 'module.exports = { resize: (ctx) => ctx.input };\n');
const NO_FUNCTION = join(DIR, 'constants.cjs');
writeFileSync(NO_FUNCTION, 'module.exports = { answer: 42 };\n');

/** Runs `mezan node` with `args`; every case here is refused before any connection is made. */
async function refusal(args: string[]): Promise<{ code: number | undefined; stderr: string }> {
  const stdout = memoryStream();
  const stderr = memoryStream();
  let code: number | undefined;
  await createNodeCommand({ stdout, stderr, setExitCode: (given) => (code = given) }).parseAsync(args, { from: 'user' });
  expect(stdout.text).toBe('');
  return { code, stderr: stderr.text };
}

describe('mezan node: what it refuses before joining', () => {
  it.each<[string, string[], RegExp]>([
    ['a tasks module that does not exist', ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', 'no/such/tasks.js'], /no such file/],
    ['a tasks module that exports no function', ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', NO_FUNCTION], /exports no function/],
    ['a URL that is not redis://', ['--redis', 'http://127.0.0.1:1', '--name', 'n', '--tasks', TASKS], /cluster\.redis/],
    ['a cluster name with a colon', ['--redis', 'redis://127.0.0.1:1', '--name', 'a:b', '--tasks', TASKS], /cluster\.name/],
  ])('%s: exit code 2 and the reason on stderr', async (_case, args, reason) => {
    const { code, stderr } = await refusal(args);
    expect(code).toBe(NODE_EXIT.invalid);
    expect(stderr).toMatch(reason);
  });
});
