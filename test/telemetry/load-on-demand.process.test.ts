import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Runs an engine in a fresh process (the sources, through tsx) and prints how many modules of
 * OpenTelemetry that process has loaded: once after a task ran without telemetry, once after an
 * engine with it was made.
 */
const SCRIPT = `
const { createEngine } = require('./src/index.ts');
const loaded = () => Object.keys(require.cache).filter((file) => file.includes('@opentelemetry')).length;
(async () => {
  const plain = createEngine({ logger: false });
  const value = await plain.submit(() => 42).result;
  await plain.shutdown();
  const before = loaded();
  const traced = createEngine({ logger: false, telemetry: true });
  await traced.submit(() => 42).result;
  await traced.shutdown();
  console.log(JSON.stringify({ value, before, after: loaded() }));
})();
`;

describe('telemetry is loaded on demand', () => {
  it('an engine without the option loads nothing of OpenTelemetry; one with it loads @opentelemetry/api', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', SCRIPT], { cwd: REPO_ROOT });
    const { value, before, after } = JSON.parse(stdout) as { value: number; before: number; after: number };
    expect(value).toBe(42);
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });
});
