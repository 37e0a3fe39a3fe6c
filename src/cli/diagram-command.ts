import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { dotToSvg } from '../visualization/dot-to-svg';
import { DIAGRAM_FORMATS, renderMachine, type DiagramFormat } from '../visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES, type MachineName } from '../visualization/machines';
import { helpExamples } from './help-examples';

/** What `mezan diagram` draws: one machine by name, or all of them. */
export type DiagramSelection = MachineName | 'all';

/** Where `mezan diagram` writes; injected so tests can read it. */
export interface DiagramIo {
  readonly stdout: NodeJS.WritableStream;
}

/**
 * Draws mezan's own machines from their definitions.
 *
 * One machine gives its diagram alone. `all` gives every machine in the order of the actor tree:
 * Mermaid and DOT diagrams one after the other, each headed by a comment naming the machine (a
 * Graphviz file may hold several graphs); JSON as one object keyed by machine name.
 *
 * @param selection - a machine's name, or `'all'`
 * @param format - `'mermaid'`, `'dot'` or `'json'`
 * @returns the text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(renderDiagrams('shutdown', 'mermaid'));
 * ```
 */
export function renderDiagrams(selection: DiagramSelection, format: DiagramFormat): string {
  if (selection !== 'all') return renderMachine(MEZAN_MACHINES[selection], format);
  if (format === 'json') {
    const definitions = Object.fromEntries(MACHINE_NAMES.map((name) => [name, MEZAN_MACHINES[name].toJSON()]));
    return `${JSON.stringify(definitions, null, 2)}\n`;
  }
  const comment = format === 'mermaid' ? '%%' : '//';
  return MACHINE_NAMES.map((name) => `${comment} ${name}: machines/${name}.machine.ts\n${renderMachine(MEZAN_MACHINES[name], format)}`).join('\n');
}

/** What `mezan diagram` can write: the diagram formats, and SVG laid out from DOT. */
export type DiagramOutputFormat = DiagramFormat | 'svg';

/** The file extension of each format. */
const EXTENSIONS: Readonly<Record<DiagramOutputFormat, string>> = { mermaid: 'mmd', dot: 'dot', json: 'json', svg: 'svg' };

/** One machine's whole document in `format`. */
async function renderDocument(name: MachineName, format: DiagramOutputFormat): Promise<string> {
  const machine = MEZAN_MACHINES[name];
  if (format === 'svg') return dotToSvg(renderMachine(machine, 'dot'));
  return format === 'json' ? `${JSON.stringify(machine.toJSON(), null, 2)}\n` : renderMachine(machine, format);
}

/**
 * Writes each selected machine's diagram to a file of its own in `directory` (made if missing):
 * `<machine>.mmd`, `.dot`, `.json` or `.svg`, each a whole document (one Graphviz graph per file).
 *
 * @returns the paths written, in the order of the actor tree
 */
export async function writeDiagrams(selection: DiagramSelection, format: DiagramOutputFormat, directory: string): Promise<string[]> {
  mkdirSync(directory, { recursive: true });
  const files: string[] = [];
  for (const name of selection === 'all' ? MACHINE_NAMES : [selection]) {
    const file = join(directory, `${name}.${EXTENSIONS[format]}`);
    writeFileSync(file, await renderDocument(name, format));
    files.push(file);
  }
  return files;
}

/**
 * The `mezan diagram [machine|all] --format mermaid|dot|json [--out DIR]` command.
 *
 * @param io - where it writes; the process's stdout by default
 * @returns a commander command to add to the program
 */
export function createDiagramCommand(io: DiagramIo = { stdout: process.stdout }): Command {
  return new Command('diagram')
    .description("draw mezan's state machines from their definitions, as Mermaid, Graphviz DOT, or XState's JSON")
    .addArgument(new Argument('[machine]', 'the machine to draw').choices([...MACHINE_NAMES, 'all']).default('all'))
    .addOption(
      new Option('--format <format>', 'the output format (svg: laid out by Graphviz in WebAssembly, no install needed)')
        .choices([...DIAGRAM_FORMATS, 'svg'])
        .default('mermaid'),
    )
    .addOption(new Option('--out <dir>', 'write one file per machine into this directory (printing their paths) instead of all to stdout'))
    .addHelpText(
      'after',
      helpExamples([
        ['mezan diagram shutdown', 'the shutdown machine, as Mermaid'],
        ['mezan diagram all --format dot --out charts', 'charts/supervisor.dot, charts/executor.dot, …'],
        ['mezan diagram worker --format svg > w.svg', 'one machine as SVG (all of them: --out DIR)'],
        ['mezan diagram resource --format json', "XState's JSON of one machine"],
      ]),
    )
    .action(async function (this: Command, machine: DiagramSelection, options: { format: DiagramOutputFormat; out?: string }) {
      const { format, out } = options;
      if (out !== undefined) {
        for (const file of await writeDiagrams(machine, format, out)) io.stdout.write(`${file}\n`);
        return;
      }
      if (format !== 'svg') {
        io.stdout.write(renderDiagrams(machine, format));
        return;
      }
      // Several SVG documents in a row would be no SVG document at all.
      if (machine === 'all')
        this.error('mezan diagram: --format svg draws one machine per document: name one machine, or write them all with --out DIR');
      io.stdout.write(await renderDocument(machine, 'svg'));
    });
}
