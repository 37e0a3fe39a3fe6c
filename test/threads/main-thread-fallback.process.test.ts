import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Runs engines in a fresh process (the sources, through tsx, whose dynamic `import()` of a thread
 * task's module works where Jest's module system does not) and prints what they did: a thread task
 * on an engine with `threads: 0`, which runs on the main thread, and whether Piscina was loaded by
 * then; then the same task on an engine with threads.
 */
const SCRIPT = `
const { pathToFileURL } = require('node:url');
const { createEngine, inThread } = require('./src/index.ts');
const piscinaLoaded = () => Object.keys(require.cache).some((file) => file.includes('/piscina/'));
const task = inThread(pathToFileURL('test/fixtures/threads/tasks.mjs'), { export: 'double' });
const run = async (threads) => {
  const engine = createEngine({ threads, logger: false });
  const workers = [];
  engine.events$.subscribe((event) => event.type === 'task.started' && workers.push(event.workerId));
  const untouched = await engine.submit(() => 1).result;
  const loadedBefore = piscinaLoaded();
  const value = await engine.submit(task, { input: 21 }).result;
  await engine.shutdown();
  return { untouched, loadedBefore, value, workers, loadedAfter: piscinaLoaded() };
};
(async () => {
  const none = await run(0);
  const two = await run(2);
  console.log(JSON.stringify({ none, two }));
})();
`;

describe('an engine without threads', () => {
  it('runs a thread task on the main thread with threads: 0, and loads Piscina only with its first thread task', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', SCRIPT], { cwd: REPO_ROOT });
    expect(JSON.parse(stdout)).toEqual({
      none: { untouched: 1, loadedBefore: false, value: 42, workers: ['main', 'main'], loadedAfter: false },
      two: { untouched: 1, loadedBefore: false, value: 42, workers: ['main', 'thread'], loadedAfter: true },
    });
  });
});
