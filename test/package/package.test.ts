import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { SCENARIO_SCHEMA } from '../../src/simulation/scenario-schema';
import { CJS_CONSUMER, CJS_CORE_LOADS, ESM_CONSUMER, ESM_CORE_LOADS, MIXED_CONSUMER, TYPESCRIPT_CONSUMER } from './consumer-sources';
import { packPackage, type PackedPackage } from './packed-package';
import { createEngine, type Engine } from '../../src';
import { killAll, startNode, type NodeProcess } from '../fixtures/cluster/node-processes';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server';

let packed: PackedPackage;

beforeAll(() => {
  packed = packPackage();
}, 120_000);

afterAll(() => {
  if (packed !== undefined) rmSync(packed.root, { recursive: true, force: true });
});

/** Writes `source` into the consumer project as `file` and runs it with Node, returning what it printed as JSON. */
function runConsumer(file: string, source: string): unknown {
  writeFileSync(join(packed.consumer, file), source);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: packed.consumer, encoding: 'utf8' }));
}

/** The TypeScript settings a consumer may have, each with the files its consumer is compiled as. */
const RESOLUTIONS = {
  node16: { options: { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }, files: ['consumer.mts', 'consumer.cts'] },
  nodenext: {
    options: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    files: ['consumer.mts', 'consumer.cts'],
  },
  bundler: { options: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }, files: ['consumer.ts'] },
  // What `module: commonjs` implies: no `exports`; `types` and `typesVersions` lead to the CommonJS declarations.
  node10: { options: { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }, files: ['consumer.ts'] },
} as const;

/**
 * The declarations each compilation reads (TypeScript's library, Node's types, XState's, RxJS's,
 * mezan's), parsed once for all of them: a file parses the same under every setting but its module
 * format, which is part of the key.
 */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** A compiler host that shares {@link parsed} between compilations. */
function cachingHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const parse = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersionOrOptions, ...rest) => {
    const format = typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions.impliedNodeFormat : undefined;
    const key = `${fileName}\0${format}`;
    if (!parsed.has(key)) parsed.set(key, parse(fileName, languageVersionOrOptions, ...rest));
    return parsed.get(key);
  };
  return host;
}

/** Type-checks the TypeScript consumer under `resolution`, mezan's declarations included (no skipLibCheck), and returns the errors. */
function compileConsumer(resolution: keyof typeof RESOLUTIONS, esModuleInterop: boolean): string[] {
  const folder = join(packed.consumer, `ts-${resolution}-${esModuleInterop ? 'interop' : 'plain'}`);
  mkdirSync(folder, { recursive: true });
  const { options, files } = RESOLUTIONS[resolution];
  const paths = files.map((file) => join(folder, file));
  for (const path of paths) writeFileSync(path, TYPESCRIPT_CONSUMER);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    strict: true,
    esModuleInterop,
    skipLibCheck: false,
    noEmit: true,
    types: ['node'],
    typeRoots: [join(packed.consumer, 'node_modules', '@types')],
  };
  const program = ts.createProgram(paths, compilerOptions, cachingHost(compilerOptions));
  // The consumer's files and mezan's declarations (as skipLibCheck: false would check them), not the
  // whole of the dependencies' declarations: theirs are theirs to answer for, and checking them all
  // would take most of the time.
  const checked = program
    .getSourceFiles()
    .filter((file) => !/node_modules[\\/](?!mezan[\\/])/.test(file.fileName) && !program.isSourceFileDefaultLibrary(file));
  const mine = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...checked.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
  return mine.map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined) return message;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    return `${relative(packed.consumer, diagnostic.file.fileName)}(${line + 1},${character + 1}): ${message}`;
  });
}

/** What a JavaScript consumer reports when every entry did its part (see `exercise` in consumer-sources.ts). */
const EXERCISED = { answer: 42, refused: 'E_INVALID_OPTION', simulated: true, drawn: true, dashboard: 'function', prometheus: true };

describe('the packed package', () => {
  it('ships both builds of every entry, the scenario schema and the license, and no source maps or benchmarks', () => {
    const { files } = packed;
    for (const entry of ['index', 'simulation', 'dashboard', 'metrics', 'diagrams']) {
      expect(files).toContain(`dist/esm/${entry}.mjs`);
      expect(files).toContain(`dist/esm/${entry}.d.mts`);
      const commonJs = entry === 'index' ? 'dist/src/index' : `dist/src/entries/${entry}`;
      expect(files).toContain(`${commonJs}.js`);
      expect(files).toContain(`${commonJs}.d.ts`);
    }
    expect(files).toEqual(expect.arrayContaining(['dist/scenario.schema.json', 'LICENSE', 'package.json', 'dist/src/cli/main.js']));
    expect(files.filter((file) => file.endsWith('.map') || file.startsWith('dist/bench') || file.startsWith('src/'))).toEqual([]);
  });

  it('ships the scenario schema that parseScenario checks files against', () => {
    const shipped: unknown = JSON.parse(readFileSync(join(packed.consumer, 'node_modules/mezan/dist/scenario.schema.json'), 'utf8'));
    expect(shipped).toEqual(SCENARIO_SCHEMA);
  });

  it.each([
    ['node16', true],
    ['node16', false],
    ['nodenext', true],
    ['nodenext', false],
    ['bundler', true],
    ['bundler', false],
    ['node10', true],
    ['node10', false],
  ] as const)('compiles a strict TypeScript consumer under %s resolution (esModuleInterop: %s)', (resolution, interop) => {
    expect(compileConsumer(resolution, interop)).toEqual([]);
  });

  it('runs as an ES module: every entry imported by name', () => {
    expect(runConsumer('esm.mjs', ESM_CONSUMER)).toEqual({ named: true, ...EXERCISED });
  });

  it('runs as CommonJS: every entry required, and the scenario schema', () => {
    expect(runConsumer('cjs.cjs', CJS_CONSUMER)).toEqual({ named: true, schema: 'http://json-schema.org/draft-07/schema#', ...EXERCISED });
  });

  it('is one module for a program that both imports and requires it: one MezanError, instanceof agreeing both ways', () => {
    expect(runConsumer('mixed.mjs', MIXED_CONSUMER)).toEqual({
      sameClass: true,
      sameEngine: true,
      sameSimulate: true,
      requiredIsImported: true,
      importedIsRequired: true,
      guards: [true, true],
      sameNames: { mezan: true, 'mezan/simulation': true, 'mezan/dashboard': true, 'mezan/metrics': true, 'mezan/diagrams': true },
    });
  });

  it('loads only XState and pure-rand with the core entry, imported or required (RxJS waits for events$)', () => {
    const core = ['pure-rand', 'xstate'];
    expect(runConsumer('core-loads.cjs', CJS_CORE_LOADS)).toEqual(core);
    expect(runConsumer('core-loads.mjs', ESM_CORE_LOADS)).toEqual(core);
  });
});

/** A TypeScript tasks module of the consumer's that talks to Redis itself, through BullMQ's and ioredis's own imports. */
const REDIS_TASKS = `import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export async function ping(): Promise<string> {
  const redis = new Redis(process.env.REDIS_URL!);
  try {
    return \`\${typeof Queue} \${await redis.ping()}\`;
  } finally {
    redis.disconnect();
  }
}
`;

describe('the installed CLI: mezan node', () => {
  let redis: RedisServer;
  let node: NodeProcess | undefined;
  let submitter: Engine | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterAll(async () => {
    if (node !== undefined) await killAll([node]);
    await submitter?.shutdown({ force: true, graceMs: 0 });
    await redis?.stop();
  });

  it("runs a TypeScript tasks module that imports bullmq and ioredis (one copy of each, its own and the node's), and exits 0 on SIGTERM", async () => {
    writeFileSync(join(packed.consumer, 'redis-tasks.ts'), REDIS_TASKS);
    node = await startNode({
      redisUrl: redis.url,
      cluster: 'installed',
      name: 'ts-node',
      tasks: 'redis-tasks.ts',
      mezan: [join(packed.consumer, 'node_modules/mezan/dist/src/cli/main.js')],
      cwd: packed.consumer,
    });
    submitter = createEngine({ logger: false, cluster: { redis: redis.url, name: 'installed', node: 'submitter', concurrency: 0 } });
    expect(await submitter.submit('ping').result).toBe('function PONG');
    node.child.kill('SIGTERM');
    expect(await node.exited).toEqual({ code: 0, signal: null });
    expect(node.stdout).toContain('mezan node: stopped: 1 completed, 0 failed, 0 cancelled, 0 lost');
    expect(node.stderr.filter((line) => line !== '')).toEqual([]);
  });
});
