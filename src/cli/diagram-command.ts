import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { DIAGRAM_FORMATS, renderMachine, type DiagramFormat } from '../visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES, type MachineName } from '../visualization/machines';

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

/** The file extension of each format. */
const EXTENSIONS: Readonly<Record<DiagramFormat, string>> = { mermaid: 'mmd', dot: 'dot', json: 'json' };

/**
 * Writes each selected machine's diagram to a file of its own in `directory` (made if missing):
 * `<machine>.mmd`, `.dot` or `.json`, each a whole document (one Graphviz graph per file).
 *
 * @returns the paths written, in the order of the actor tree
 */
export function writeDiagrams(selection: DiagramSelection, format: DiagramFormat, directory: string): string[] {
  mkdirSync(directory, { recursive: true });
  const names = selection === 'all' ? MACHINE_NAMES : [selection];
  return names.map((name) => {
    const file = join(directory, `${name}.${EXTENSIONS[format]}`);
    writeFileSync(
      file,
      format === 'json' ? `${JSON.stringify(MEZAN_MACHINES[name].toJSON(), null, 2)}\n` : renderMachine(MEZAN_MACHINES[name], format),
    );
    return file;
  });
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
    .addOption(new Option('--format <format>', 'the output format').choices(DIAGRAM_FORMATS).default('mermaid'))
    .addOption(new Option('--out <dir>', 'write one file per machine into this directory (printing their paths) instead of all to stdout'))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  mezan diagram shutdown                       the shutdown machine, as Mermaid',
        '  mezan diagram all --format dot --out charts  charts/supervisor.dot, charts/executor.dot, …',
        "  mezan diagram resource --format json         XState's JSON of one machine",
      ].join('\n'),
    )
    .action((machine: DiagramSelection, options: { format: DiagramFormat; out?: string }) => {
      if (options.out === undefined) io.stdout.write(renderDiagrams(machine, options.format));
      else for (const file of writeDiagrams(machine, options.format, options.out)) io.stdout.write(`${file}\n`);
    });
}
