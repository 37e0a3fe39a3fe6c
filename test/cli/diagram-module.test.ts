import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createMachine, setup, StateMachine, type AnyStateMachine } from 'xstate';
import { createDiagramCommand, DIAGRAM_INVALID_MODULE_EXIT, type DiagramIo } from '../../src/cli/diagram-command';
import { isMezanError } from '../../src/errors';
import { renderMachine } from '../../src/visualization/machine-diagram';
import { isStateMachine, loadModuleMachines, type ModuleMachinesProblem } from '../../src/visualization/module-machines';
import { memoryStream } from '../fixtures/memory-stream';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures', 'diagram-modules');
const LIGHT_AND_DOOR = join(FIXTURES, 'light-and-door.cjs');
const COUNTER = join(FIXTURES, 'counter.js');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lightAndDoor = require(LIGHT_AND_DOOR) as { light: AnyStateMachine; door: AnyStateMachine };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const counter = require(COUNTER) as AnyStateMachine;

interface DiagramRun {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mezan diagram <args>` in this process. */
async function diagram(...args: string[]): Promise<DiagramRun> {
  const stdout = memoryStream();
  const stderr = memoryStream();
  let code: number | undefined;
  const io: DiagramIo = {
    stdout,
    stderr,
    setExitCode: (value) => (code = value),
    exit: (value) => {
      // Called once, after the exit code was set, with the same code.
      if (exits.length > 0 || value !== code) throw new Error(`exit(${value}) after exit code ${String(code)} and ${exits.length} exits`);
      exits.push(value);
    },
  };
  const exits: number[] = [];
  await createDiagramCommand(io)
    .exitOverride()
    .configureOutput({ writeErr: (text) => stderr.write(text), writeOut: (text) => stdout.write(text) })
    .parseAsync(args, { from: 'user' });
  if (args.includes('--module')) expect(exits).toEqual([code]);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Writes a module into a fresh folder outside the repository and returns its path. */
function writeModule(name: string, source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mezan-diagram-module-')), name);
  writeFileSync(file, source);
  return file;
}

describe('mezan diagram --module: the machines a module exports', () => {
  it.each(['mermaid', 'dot'] as const)(
    'draws every machine export as %s, each headed by its export name and file, and nothing else it exports',
    async (format) => {
      const { code, stdout } = await diagram('--module', LIGHT_AND_DOOR, '--format', format);
      expect(code).toBe(0);
      const comment = format === 'mermaid' ? '%%' : '//';
      expect(stdout).toBe(
        [
          `${comment} light: ${LIGHT_AND_DOOR}\n${renderMachine(lightAndDoor.light, format)}`,
          `${comment} door: ${LIGHT_AND_DOOR}\n${renderMachine(lightAndDoor.door, format)}`,
        ].join('\n'),
      );
      expect(stdout).not.toContain('not-a-machine');
      expect(stdout).not.toContain('made-later');
    },
  );

  it("gives XState's JSON of every machine in one object keyed by export name", async () => {
    const { stdout } = await diagram('--module', LIGHT_AND_DOOR, '--format', 'json');
    expect(JSON.parse(stdout)).toEqual({
      light: JSON.parse(JSON.stringify(lightAndDoor.light.toJSON())),
      door: JSON.parse(JSON.stringify(lightAndDoor.door.toJSON())),
    });
  });

  it.each(['mermaid', 'dot', 'json'] as const)(
    'draws one export, named, as %s: the diagram alone, as for one of mezan’s machines',
    async (format) => {
      const { code, stdout } = await diagram('door', '--module', LIGHT_AND_DOOR, '--format', format);
      expect(code).toBe(0);
      expect(stdout).toBe(renderMachine(lightAndDoor.door, format));
      expect(stdout).toContain('isLocked');
    },
  );

  it('names a module that is one machine (module.exports = machine) `default`', async () => {
    expect((await diagram('--module', COUNTER)).stdout).toBe(`%% default: ${COUNTER}\n${renderMachine(counter, 'mermaid')}`);
    expect((await diagram('default', '--module', COUNTER, '--format', 'dot')).stdout).toBe(renderMachine(counter, 'dot'));
  });

  it('writes one file per machine export with --out, named after the export, and prints the paths', async () => {
    const directory = join(mkdtempSync(join(tmpdir(), 'mezan-diagram-module-')), 'charts');
    const { stdout } = await diagram('--module', LIGHT_AND_DOOR, '--format', 'dot', '--out', directory);
    expect(stdout).toBe(`${join(directory, 'light.dot')}\n${join(directory, 'door.dot')}\n`);
    expect(readdirSync(directory).sort()).toEqual(['door.dot', 'light.dot']);
    expect(readFileSync(join(directory, 'door.dot'), 'utf8')).toBe(renderMachine(lightAndDoor.door, 'dot'));
  });

  it('lays a machine export out as one SVG document; a module of one machine needs no name', async () => {
    const door = await diagram('door', '--module', LIGHT_AND_DOOR, '--format', 'svg');
    expect(door.stdout.match(/<svg[\s>]/g)).toHaveLength(1);
    for (const state of ['closed', 'open']) expect(door.stdout).toContain(`>${state}</text>`);
    const single = await diagram('--module', COUNTER, '--format', 'svg');
    expect(single.stdout.match(/<svg[\s>]/g)).toHaveLength(1);
    expect(single.stdout).toContain('>counting</text>');
  });

  it('refuses several machines as SVG to stdout, as for mezan’s own', async () => {
    await expect(diagram('--module', LIGHT_AND_DOOR, '--format', 'svg')).rejects.toThrow(/--out DIR/);
  });
});

describe('mezan diagram --module: a module it cannot draw from exits 2 with a message saying why', () => {
  async function refused(args: string[], message: RegExp): Promise<string> {
    const { code, stdout, stderr } = await diagram(...args);
    expect(code).toBe(DIAGRAM_INVALID_MODULE_EXIT);
    expect(DIAGRAM_INVALID_MODULE_EXIT).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    return stderr;
  }

  it('a missing file', async () => {
    const missing = join(tmpdir(), 'mezan-no-such-module', 'agents.js');
    await refused(['--module', missing], new RegExp(`^mezan diagram: ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no such file\\n$`));
  });

  it('a folder, or a file that is not a module', async () => {
    await refused(['--module', FIXTURES], /: no such file\n$/);
    await refused(['--module', join(ROOT, 'package.json')], /package\.json: not a module: expected a \.js, \.cjs, \.mjs, \.ts, \.cts, \.mts file\n$/);
  });

  it('a module that throws while it loads: its error and its stack are shown', async () => {
    const file = writeModule('boom.cjs', "throw new Error('boom while loading');\n");
    const stderr = await refused(['--module', file], /the module failed to load: Error: boom while loading\n/);
    expect(stderr).toContain(`${file}:1`);
  });

  it('a module with a syntax error: the line is shown', async () => {
    const file = writeModule('broken.js', 'const answer = ;\n');
    const stderr = await refused(['--module', file], /the module failed to load: SyntaxError: /);
    expect(stderr).toContain('const answer = ;');
  });

  it('a module that throws something other than an error, or whose export throws when read', async () => {
    // (Jest's own loader cannot take a thrown null; a real process can: the null is named likewise.)
    await refused(['--module', writeModule('string.cjs', "throw 'not an error';\n")], /the module failed to load: a thrown string: not an error\n$/);
    const getter = writeModule(
      'getter.cjs',
      "Object.defineProperty(exports, 'machine', { enumerable: true, get() { throw new Error('no reading me'); } });\n",
    );
    await refused(['--module', getter], /the module failed to load: Error: no reading me\n/);
  });

  it('a module with no machine export', async () => {
    const file = writeModule('plain.cjs', "exports.config = { id: 'light', states: {} };\nexports.answer = 42;\n");
    await refused(['--module', file], /plain\.cjs: exports no XState machine/);
  });

  it('a name no machine is exported under, listing the machines there are', async () => {
    await refused(['lamp', '--module', LIGHT_AND_DOOR], /no machine is exported as "lamp"; its machines: light, door\n$/);
    await refused(['config', '--module', LIGHT_AND_DOOR], /no machine is exported as "config"/);
  });
});

describe('loadModuleMachines', () => {
  async function problemOf(loading: Promise<unknown>): Promise<ModuleMachinesProblem> {
    const error: unknown = await loading.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (!isMezanError(error, 'E_INVALID_OPTION')) throw new Error(`expected E_INVALID_OPTION, got ${String(error)}`);
    expect(error.details.option).toBe('module');
    return error.details.problem as ModuleMachinesProblem;
  }

  it('returns the machine exports in the order the module lists them, by export name', async () => {
    const machines = await loadModuleMachines(LIGHT_AND_DOOR);
    expect(machines).toEqual([
      { exportName: 'light', machine: lightAndDoor.light },
      { exportName: 'door', machine: lightAndDoor.door },
    ]);
  });

  it('says what was wrong in the error’s details, the module’s own error as its cause', async () => {
    expect(await problemOf(loadModuleMachines(join(FIXTURES, 'nothing-here.js')))).toBe('not-found');
    expect(await problemOf(loadModuleMachines(join(ROOT, 'README.md')))).toBe('not-a-module');
    expect(await problemOf(loadModuleMachines(writeModule('plain.cjs', 'exports.a = 1;\n')))).toBe('no-machine');
    const boom = await loadModuleMachines(writeModule('boom.cjs', "throw new RangeError('out of range');\n")).catch((error: unknown) => error);
    expect(boom).toMatchObject({ code: 'E_INVALID_OPTION', details: { problem: 'load-failed' } });
    expect((boom as Error).cause).toBeInstanceOf(RangeError);
  });

  it('refuses a TypeScript module when nothing in the process can load it, saying what to install', async () => {
    const loading = loadModuleMachines(join(FIXTURES, 'solver.ts'), { typeScript: () => ({ tsxApi: undefined, native: false }) });
    expect(await problemOf(loading)).toBe('needs-typescript-loader');
    await expect(loadModuleMachines(join(FIXTURES, 'solver.ts'), { typeScript: () => ({ tsxApi: undefined, native: false }) })).rejects.toThrow(
      /solver\.ts: loading a TypeScript module needs tsx, which is not installed \(npm install --save-dev tsx\)/,
    );
  });
});

describe('isStateMachine', () => {
  it("takes XState's machines, from createMachine and from setup()", () => {
    expect(isStateMachine(createMachine({ id: 'a' }))).toBe(true);
    expect(isStateMachine(setup({}).createMachine({ id: 'b', initial: 'x', states: { x: {} } }))).toBe(true);
  });

  it('takes a machine made by another copy of XState, by the marker XState puts on machines', () => {
    // XState's development build is a second copy of its classes, as a user's own node_modules would hold.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const otherCopy = require(join(dirname(require.resolve('xstate')), 'xstate.development.cjs.js')) as typeof import('xstate');
    const machine = otherCopy.createMachine({ id: 'elsewhere' });
    expect(machine).not.toBeInstanceOf(StateMachine);
    expect(isStateMachine(machine)).toBe(true);
  });

  it('leaves out what is not a machine: a state node, a configuration, an actor logic, a function, nothing', () => {
    const machine = createMachine({ id: 'c', initial: 'x', states: { x: {} } });
    for (const value of [machine.root, machine.config, { __xstatenode: true }, () => machine, null, undefined, 42, 'machine']) {
      expect(isStateMachine(value)).toBe(false);
    }
  });
});

describe('mezan diagram --module, run as a user runs it', () => {
  /** Runs the command line from the sources in a fresh Node process (through tsx), where modules are imported for real. */
  async function mezan(args: readonly string[]): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('imports an ES module (.mjs): its default export is `default`, its named ones by name', async () => {
    const { code, stdout } = await mezan(['diagram', '--module', 'test/cli/fixtures/diagram-modules/ping-pong.mjs', '--format', 'json']);
    expect(code).toBe(0);
    const definitions = JSON.parse(stdout) as Record<string, { id: string }>;
    expect(Object.keys(definitions)).toEqual(['default', 'ping']);
    expect(definitions.default!.id).toBe('pong');
    expect(definitions.ping!.id).toBe('ping');
  });

  it('loads a TypeScript module', async () => {
    const { code, stdout } = await mezan(['diagram', 'solver', '--module', 'test/cli/fixtures/diagram-modules/solver.ts']);
    expect(code).toBe(0);
    expect(stdout).toContain('solver_ready --> solver_solving : solve');
  });

  it('exits 2 for a module it cannot draw from: an ES module with no machine export, or one that throws null', async () => {
    const file = writeModule('empty.mjs', 'export const answer = 42;\n');
    const { code, stdout, stderr } = await mezan(['diagram', '--module', file]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(`mezan diagram: ${file}: exports no XState machine (an export made by createMachine() or setup({...}).createMachine())\n`);
    const thrower = writeModule('null.mjs', 'throw null;\n');
    expect(await mezan(['diagram', '--module', thrower])).toEqual({
      code: 2,
      stdout: '',
      stderr: `mezan diagram: ${thrower}: the module failed to load: a thrown null: null\n`,
    });
  });

  it('ends once it drew the machines of a module that left a timer running', async () => {
    const { code, stdout } = await mezan(['diagram', '--module', 'test/cli/fixtures/diagram-modules/keeps-running.cjs']);
    expect(code).toBe(0);
    expect(stdout).toContain('heartbeat_beating --> heartbeat_stopped : STOP');
  });

  it("loads a TypeScript module through tsx's API when the process has no TypeScript loader of its own", async () => {
    const script = `
      const { findTypeScriptSupport, loadModuleMachines } = require('./src/visualization/module-machines.ts');
      const withoutLoader = (file) => ({ ...findTypeScriptSupport(file), native: false });
      loadModuleMachines('test/cli/fixtures/diagram-modules/solver.ts', { typeScript: withoutLoader })
        .then((machines) => console.log(JSON.stringify(machines.map(({ exportName, machine }) => [exportName, machine.id]))));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual([['solver', 'solver']]);
  });
});
