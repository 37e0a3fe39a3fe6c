import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src';
import { createNodeCommand, NODE_EXIT, runNode } from '../../src/cli/node-command';
import { memoryStream } from '../fixtures/memory-stream';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

const DIR = mkdtempSync(join(tmpdir(), 'mezan-node-command-'));
const TASKS = join(DIR, 'tasks.cjs');
writeFileSync(TASKS, 'module.exports = { resize: (ctx) => ctx.input };\n');
const NO_FUNCTION = join(DIR, 'constants.cjs');
writeFileSync(NO_FUNCTION, 'module.exports = { answer: 42 };\n');
// A function as the module's default export names no task: refused, even beside named tasks.
const DEFAULT_FUNCTIONS: ReadonlyArray<[string, string, string]> = [
  ['module.exports = fn', 'cjs', 'module.exports = function resize(ctx) { return ctx.input; };\n'],
  ['module.exports = fn, with named functions on it', 'cjs', 'module.exports = (ctx) => ctx.input;\nmodule.exports.crop = () => 1;\n'],
  [
    'exports.default = fn beside a named export (a transpiled ES module)',
    'cjs',
    'Object.defineProperty(exports, "__esModule", { value: true });\nexports.default = () => 1;\nexports.resize = () => 2;\n',
  ],
  ['export default function', 'mjs', 'export default function resize(ctx) { return ctx.input; }\n'],
  [
    'export default function beside a named export',
    'mjs',
    'export default function crop() { return 1; }\nexport function resize(ctx) { return ctx.input; }\n',
  ],
];
const defaultFunctionModule = (index: number): string => {
  const [, extension, text] = DEFAULT_FUNCTIONS[index]!;
  const file = join(DIR, `default-function-${index}.${extension}`);
  writeFileSync(file, text);
  return file;
};

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
    ...DEFAULT_FUNCTIONS.flatMap(([what, extension], index): Array<[string, string[], RegExp]> =>
      // Jest's module system cannot import an ES module: those are run in a process of their own, below.
      extension === 'mjs'
        ? []
        : [
            [
              `a tasks module whose default export is a function, ${what}`,
              ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', defaultFunctionModule(index)],
              /exports a function as its default export/,
            ],
          ],
    ),
    ['a URL that is not redis://', ['--redis', 'http://127.0.0.1:1', '--name', 'n', '--tasks', TASKS], /cluster\.redis/],
    ['a cluster name with a colon', ['--redis', 'redis://127.0.0.1:1', '--name', 'a:b', '--tasks', TASKS], /cluster\.name/],
    ['a node name with a space', ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', TASKS, '--node', 'worker 1'], /cluster\.node/],
  ])('%s: exit code 2 and the reason on stderr', async (_case, args, reason) => {
    const { code, stderr } = await refusal(args);
    expect(code).toBe(NODE_EXIT.invalid);
    expect(stderr).toMatch(reason);
  });
});

describe('mezan node: the cluster timing flags', () => {
  const base = ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', TASKS];
  const flags = [
    ['--lock-duration', 'cluster.lockDurationMs'],
    ['--stalled-interval', 'cluster.stalledIntervalMs'],
    ['--reconcile-interval', 'cluster.reconcileIntervalMs'],
    ['--deadlock-after', 'cluster.deadlockAfterMs'],
    ['--deadlock-scan', 'cluster.deadlockScanMs'],
  ];

  it.each(flags)('%s: a value that is not a positive integer exits 2 naming the flag', async (flag) => {
    for (const value of ['abc', '0', '1.5']) {
      const stderr = memoryStream();
      const parsing = createNodeCommand({ stdout: memoryStream(), stderr }).parseAsync([...base, flag, value], { from: 'user' });
      await expect(parsing).rejects.toMatchObject({ exitCode: NODE_EXIT.invalid, code: 'commander.invalidArgument' });
      expect(stderr.text).toContain(`'${flag} <ms>' argument '${value}' is invalid`);
    }
  });

  it.each(flags)('%s: a positive integer reaches the engine as %s (which refuses one past the longest timer)', async (flag, option) => {
    const { code, stderr } = await refusal([...base, flag, '2147483648']);
    expect(code).toBe(NODE_EXIT.invalid);
    expect(stderr).toContain(option);
  });
});

describe('mezan node: the cluster-wide limits', () => {
  const base = ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', TASKS];

  it.each([
    ['--global-concurrency', '<n>', ['abc', '0', '1.5']],
    ['--rate-limit', '<limit/ms>', ['abc', '5', '0/1000', '5/0', '1.5/10', '5/1000/2']],
  ] as const)('%s: a bad value exits 2 naming the flag', async (flag, value, bad) => {
    for (const text of bad) {
      const stderr = memoryStream();
      const parsing = createNodeCommand({ stdout: memoryStream(), stderr }).parseAsync([...base, flag, text], { from: 'user' });
      await expect(parsing).rejects.toMatchObject({ exitCode: NODE_EXIT.invalid, code: 'commander.invalidArgument' });
      expect(stderr.text).toContain(`'${flag} ${value}' argument '${text}' is invalid`);
    }
  });

  it('passes a rate limit to the engine as cluster.rateLimit (which refuses an interval past the longest timer)', async () => {
    const { code, stderr } = await refusal([...base, '--rate-limit', '5/2147483648']);
    expect(code).toBe(NODE_EXIT.invalid);
    expect(stderr).toContain('cluster.rateLimit.intervalMs');
  });
});

describe('mezan node: a cluster it cannot join (the command run in a process of its own)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer({ args: ['--requirepass', 'secret'] });
  });
  afterAll(() => redis.stop());

  /** Runs `mezan node` (the sources, through tsx) with `args` until it exits: its exit code and output. */
  async function mezanNode(args: string[], logLevel = 'error'): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'node', ...args], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, MEZAN_LOG_LEVEL: logLevel },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stdout, stderr };
  }

  it('exits 2 with the server’s reason when Redis refuses its password, never writing the password', async () => {
    const url = `redis://:not-the-secret@127.0.0.1:${redis.port}`;
    const { code, stdout, stderr } = await mezanNode(['--redis', url, '--name', 'n', '--tasks', TASKS, '--concurrency', '1']);
    expect({ code, stdout }).toEqual({ code: NODE_EXIT.invalid, stdout: '' });
    expect(stderr).toMatch(/^mezan node: Expected `cluster\.redis` .*WRONGPASS/m);
    expect(stderr).not.toContain('not-the-secret');
  });

  it.each(DEFAULT_FUNCTIONS.flatMap(([what, extension], index) => (extension === 'mjs' ? [[what, index] as const] : [])))(
    'exits 2 for an ES module whose default export is a function (%s), naming the module and what it must export',
    async (_what, index) => {
      const file = defaultFunctionModule(index);
      const { code, stdout, stderr } = await mezanNode(['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', file, '--join-timeout', '60000']);
      expect({ code, stdout }).toEqual({ code: NODE_EXIT.invalid, stdout: '' });
      expect(stderr).toContain(`mezan node: ${file}: exports a function as its default export`);
      expect(stderr).toContain('export each task under its name');
    },
  );

  it('exits 2 once --join-timeout has passed without reaching Redis (nothing listens on the port), at once: it has nothing to leave', async () => {
    const { code, stdout, stderr } = await mezanNode(
      ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', TASKS, '--join-timeout', '200'],
      'warn',
    );
    expect({ code, stdout }).toEqual({ code: NODE_EXIT.invalid, stdout: '' });
    expect(stderr).toMatch(/^mezan node: Did not join cluster "n" within 200 ms: redis:\/\/127\.0\.0\.1:1 was not reached.* \(--join-timeout\)$/m);
    // Its leaving did not wait cluster.leaveTimeoutMs for parts that never joined (then it warns so).
    expect(stderr).not.toContain('the node left its cluster without its last words');
  });

  it('retries a host the DNS does not know, as a server not up, and exits 2 once --join-timeout has passed, naming the server', async () => {
    // `.invalid` never resolves (RFC 2606): as a docker-compose service's name before the service is up.
    const { code, stdout, stderr } = await mezanNode([
      '--redis',
      'redis://no-such-host.invalid:6379',
      '--name',
      'n',
      '--tasks',
      TASKS,
      '--join-timeout',
      '3000',
    ]);
    expect({ code, stdout }).toEqual({ code: NODE_EXIT.invalid, stdout: '' });
    expect(stderr).toMatch(
      /^mezan node: Did not join cluster "n" within 3000 ms: redis:\/\/no-such-host\.invalid:6379 was not reached.* \(--join-timeout\)$/m,
    );
  });

  // Past 2^31 − 1 ms, Node fires a timer after 1 ms: the node would give up at once.
  it.each(['0', '1.5', '2147483648'])('--join-timeout %s: exits 2 naming the flag and the range', async (value) => {
    const stderr = memoryStream();
    const parsing = createNodeCommand({ stdout: memoryStream(), stderr }).parseAsync(
      ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', TASKS, '--join-timeout', value],
      { from: 'user' },
    );
    await expect(parsing).rejects.toMatchObject({ exitCode: NODE_EXIT.invalid, code: 'commander.invalidArgument' });
    expect(stderr.text).toContain(`'--join-timeout <ms>' argument '${value}' is invalid`);
    expect(stderr.text).toContain('from 1 to 2147483647');
  });
});

describe('mezan node: a cluster it joins (run in this process)', () => {
  const PASSWORD = 'hunter2-secret';
  let redis: RedisServer;
  const engines: Engine[] = [];
  beforeAll(async () => {
    redis = await startRedisServer({ args: ['--requirepass', PASSWORD] });
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.shutdown({ force: true, graceMs: 0 })));
  });
  afterAll(() => redis.stop());

  /** Runs `mezan node` in this process until it has joined cluster `name`: its engine and output. */
  async function joined(name: string, tasks: string, joinTimeout?: number): Promise<{ engine: Engine; stdout: string; stderr: string }> {
    const stdout = memoryStream();
    const stderr = memoryStream();
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    const flags = { redis: url, name, tasks, node: `${name}-node`, concurrency: 1, joinTimeout };
    const engine = await runNode(flags, { stdout, stderr, setExitCode: () => undefined });
    expect(stderr.text).toBe('');
    engines.push(engine!);
    return { engine: engine!, stdout: stdout.text, stderr: stderr.text };
  }

  it('says where it joined without the password of --redis', async () => {
    const { stdout } = await joined('password', TASKS);
    expect(stdout).toContain(`joined cluster "password" at redis://:***@127.0.0.1:${redis.port}, running 1 task(s): resize`);
    expect(stdout).not.toContain(PASSWORD);
  });

  it('joins, given a join timeout past the longest host timer (as runNode may be), rather than giving up at once', async () => {
    const { stdout } = await joined('long-join-timeout', TASKS, 2 ** 31);
    expect(stdout).toContain('joined cluster "long-join-timeout"');
  });

  it('runs every function the module exports, whatever its name: toString, constructor, __proto__ too', async () => {
    const tasks = join(DIR, 'prototype-names.cjs');
    writeFileSync(
      tasks,
      'module.exports = { toString: () => "a", constructor: () => "b", valueOf: () => "c", hasOwnProperty: () => "d", ["__proto__"]: () => "e", resize: () => "f" };\n',
    );
    const { stdout } = await joined('prototype-names', tasks);
    expect(stdout).toContain('running 6 task(s): toString, constructor, valueOf, hasOwnProperty, __proto__, resize;');
    const submitter = createEngine({
      logger: false,
      cluster: { redis: `redis://:${PASSWORD}@127.0.0.1:${redis.port}`, name: 'prototype-names', node: 'submitter', concurrency: 0 },
    });
    engines.push(submitter);
    await expect(Promise.all(['constructor', '__proto__'].map((task) => submitter.submit(task).result))).resolves.toEqual(['b', 'e']);
  });
});
