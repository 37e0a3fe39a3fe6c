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

/**
 * The `mezan diagram [machine|all] --format mermaid|dot|json` command.
 *
 * @param io - where it writes; the process's stdout by default
 * @returns a commander command to add to the program
 */
export function createDiagramCommand(io: DiagramIo = { stdout: process.stdout }): Command {
  return new Command('diagram')
    .description("draw mezan's state machines from their definitions, as Mermaid, Graphviz DOT, or XState's JSON")
    .addArgument(new Argument('[machine]', 'the machine to draw').choices([...MACHINE_NAMES, 'all']).default('all'))
    .addOption(new Option('--format <format>', 'the output format').choices(DIAGRAM_FORMATS).default('mermaid'))
    .action((machine: DiagramSelection, options: { format: DiagramFormat }) => {
      io.stdout.write(renderDiagrams(machine, options.format));
    });
}
