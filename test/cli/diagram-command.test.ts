import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { createDiagramCommand, renderDiagrams } from '../../src/cli/diagram-command';
import { createProgram } from '../../src/cli/main';
import { renderMachine, toMermaid } from '../../src/visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES } from '../../src/visualization/machines';
import { memoryStream } from '../fixtures/memory-stream';

const ROOT = join(__dirname, '..', '..');

async function run(...args: string[]): Promise<string> {
  const stdout = memoryStream();
  await createDiagramCommand({ stdout }).parseAsync(args, { from: 'user' });
  return stdout.text;
}

describe('mezan diagram --format svg', () => {
  it('lays one machine out as a whole SVG document, its states in it, with no Graphviz installed', async () => {
    const svg = await run('shutdown', '--format', 'svg');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.match(/<svg[\s>]/g)).toHaveLength(1);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const state of ['running', 'draining', 'terminating', 'stopped']) expect(svg).toContain(`>${state}</text>`);
  });

  it('refuses all machines to stdout (several documents would be none) and writes one file each with --out', async () => {
    const command = createDiagramCommand({ stdout: memoryStream() })
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });
    await expect(command.parseAsync(['all', '--format', 'svg'], { from: 'user' })).rejects.toThrow(/--out DIR/);
    const directory = mkdtempSync(join(tmpdir(), 'mezan-svg-'));
    await run('all', '--format', 'svg', '--out', directory);
    expect(readdirSync(directory).sort()).toEqual(MACHINE_NAMES.map((name) => `${name}.svg`).sort());
    for (const name of MACHINE_NAMES) expect(readFileSync(join(directory, `${name}.svg`), 'utf8').match(/<svg[\s>]/g)).toHaveLength(1);
  });
});

describe('mezan diagram --out', () => {
  it('writes one whole document per machine, named after it, and prints the paths', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mezan-diagrams-'));
    const printed = await run('all', '--format', 'dot', '--out', join(directory, 'charts'));
    const files = MACHINE_NAMES.map((name) => join(directory, 'charts', `${name}.dot`));
    expect(printed).toBe(files.map((file) => `${file}\n`).join(''));
    for (const [index, name] of MACHINE_NAMES.entries()) {
      const text = readFileSync(files[index]!, 'utf8');
      expect(text).toBe(renderMachine(MEZAN_MACHINES[name], 'dot'));
      // One graph per file: a Graphviz tool reads each on its own.
      expect(text.match(/^digraph /gm)).toHaveLength(1);
    }
  });

  it('writes a single machine, as JSON, to a .json file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mezan-diagrams-'));
    await run('detector', '--format', 'json', '--out', directory);
    expect(readdirSync(directory)).toEqual(['detector.json']);
    expect(JSON.parse(readFileSync(join(directory, 'detector.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(MEZAN_MACHINES.detector.toJSON())));
  });
});

describe('mezan diagram', () => {
  it.each(MACHINE_NAMES.flatMap((name) => (['mermaid', 'dot', 'json'] as const).map((format) => [name, format] as const)))(
    'prints the %s machine as %s, drawn from its definition',
    async (name, format) => {
      expect(await run(name, '--format', format)).toBe(renderMachine(MEZAN_MACHINES[name], format));
    },
  );

  it('prints every machine as Mermaid by default, each headed by a comment naming it', async () => {
    const text = await run();
    expect(text).toBe(renderDiagrams('all', 'mermaid'));
    const headers = [...text.matchAll(/^%% (\w+): machines\/\1\.machine\.ts$/gm)].map((match) => match[1]);
    expect(headers).toEqual([...MACHINE_NAMES]);
    expect(text.match(/^stateDiagram-v2$/gm)).toHaveLength(MACHINE_NAMES.length);
    for (const name of MACHINE_NAMES) expect(text).toContain(toMermaid(MEZAN_MACHINES[name]));
  });

  it('prints every machine as DOT graphs one after the other', async () => {
    const text = await run('all', '--format', 'dot');
    expect([...text.matchAll(/^digraph "(\w+)" \{$/gm)].map((match) => match[1])).toEqual([...MACHINE_NAMES]);
    expect(text.match(/^\}$/gm)).toHaveLength(MACHINE_NAMES.length);
  });

  it("prints every machine's XState definition as one JSON object keyed by name", async () => {
    const definitions = JSON.parse(await run('all', '--format', 'json')) as Record<string, { id: string; states: object }>;
    expect(Object.keys(definitions)).toEqual([...MACHINE_NAMES]);
    for (const name of MACHINE_NAMES) {
      expect(definitions[name]).toEqual(JSON.parse(JSON.stringify(MEZAN_MACHINES[name].toJSON())));
      expect(definitions[name]!.id).toBe(name);
    }
  });

  it.each([
    ['an unknown machine', ['engine']],
    ['an unknown format', ['worker', '--format', 'png']],
  ])('refuses %s', async (_what, args) => {
    const command = createDiagramCommand({ stdout: memoryStream() })
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    const parsing = command.parseAsync(args, { from: 'user' });
    await expect(parsing).rejects.toBeInstanceOf(CommanderError);
    await expect(parsing).rejects.toMatchObject({ code: expect.stringMatching(/^commander\.invalid(Argument|OptionArgument)?$/) });
  });

  it('is a subcommand of the mezan program, with its defaults', () => {
    const diagram = createProgram().commands.find((command) => command.name() === 'diagram');
    expect(diagram).toBeDefined();
    expect(diagram!.opts()).toEqual({ format: 'mermaid' });
  });

  it('is what `npm run diagrams` runs', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.diagrams).toMatch(/\bdiagram all --format mermaid$/);
  });
});

describe('the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## State machines'), readme.indexOf('\n## ', readme.indexOf('## State machines') + 1));

  it('says how to regenerate the diagrams', () => {
    expect(readme).toContain('## State machines');
    expect(section).toContain('npx mezan diagram all --format mermaid');
  });

  // Fails when a machine changes and the README was not regenerated: run `npm run diagrams` and paste.
  it("shows each machine's current Mermaid diagram, as the command prints it", () => {
    const blocks = [...section.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks.join('\n')).toBe(renderDiagrams('all', 'mermaid'));
  });
});
