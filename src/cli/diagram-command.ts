import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import type { AnyStateMachine } from 'xstate';
import { isMezanError, MezanError } from '../errors';
import { dotToSvg } from '../visualization/dot-to-svg';
import { DIAGRAM_FORMATS, renderMachine, type DiagramFormat } from '../visualization/machine-diagram';
import { isMachineName, MACHINE_NAMES, MEZAN_MACHINES, type MachineName } from '../visualization/machines';
import { isAnyError, loadModuleMachines } from '../visualization/module-machines';
import { helpExamples } from './help-examples';

/** What `mezan diagram` draws: one machine by name, or all of them. */
export type DiagramSelection = MachineName | 'all';

/** Where `mezan diagram` writes; injected so tests can read it. */
export interface DiagramIo {
  readonly stdout: NodeJS.WritableStream;
  /** Error messages (a module that cannot be drawn); the process's stderr by default. */
  readonly stderr?: NodeJS.WritableStream;
  /** Receives the exit code of `--module`: 0, or that of a module that cannot be drawn. @default sets `process.exitCode` */
  readonly setExitCode?: (code: number) => void;
  /**
   * Called with the exit code once a module's machines are drawn (or refused), to end the process:
   * what the module started when it loaded (a timer, a server) would keep it alive. The command
   * line's ends the process once stdout and stderr are flushed; none by default elsewhere.
   */
  readonly exit?: (code: number) => void;
}

/** The exit code of `mezan diagram --module` for a module it cannot draw from: missing, failing to load, or with no machine. */
export const DIAGRAM_INVALID_MODULE_EXIT = 2;

/** One machine to draw: the name it is drawn under, where it is defined, and the machine. */
interface Drawable {
  readonly name: string;
  readonly source: string;
  readonly machine: AnyStateMachine;
}

/** mezan's own machines, selected by name (or all of them, in the order of the actor tree). */
function mezanDrawables(selection: DiagramSelection): Drawable[] {
  return (selection === 'all' ? MACHINE_NAMES : [selection]).map((name) => ({
    name,
    source: `machines/${name}.machine.ts`,
    machine: MEZAN_MACHINES[name],
  }));
}

/** Several machines in one text: Mermaid and DOT one after the other, each headed by a comment; JSON as one object keyed by name. */
function renderAll(drawables: readonly Drawable[], format: DiagramFormat): string {
  if (format === 'json') {
    const definitions = Object.fromEntries(drawables.map(({ name, machine }) => [name, machine.toJSON()]));
    return `${JSON.stringify(definitions, null, 2)}\n`;
  }
  const comment = format === 'mermaid' ? '%%' : '//';
  return drawables.map(({ name, source, machine }) => `${comment} ${name}: ${source}\n${renderMachine(machine, format)}`).join('\n');
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
  return renderAll(mezanDrawables('all'), format);
}

/** What `mezan diagram` can write: the diagram formats, and SVG laid out from DOT. */
export type DiagramOutputFormat = DiagramFormat | 'svg';

/** The file extension of each format. */
const EXTENSIONS: Readonly<Record<DiagramOutputFormat, string>> = { mermaid: 'mmd', dot: 'dot', json: 'json', svg: 'svg' };

/** One machine's whole document in `format`. */
async function renderDocument(machine: AnyStateMachine, format: DiagramOutputFormat): Promise<string> {
  if (format === 'svg') return dotToSvg(renderMachine(machine, 'dot'));
  return format === 'json' ? `${JSON.stringify(machine.toJSON(), null, 2)}\n` : renderMachine(machine, format);
}

async function writeDocuments(drawables: readonly Drawable[], format: DiagramOutputFormat, directory: string): Promise<string[]> {
  mkdirSync(directory, { recursive: true });
  const files: string[] = [];
  for (const { name, machine } of drawables) {
    const file = join(directory, `${name}.${EXTENSIONS[format]}`);
    writeFileSync(file, await renderDocument(machine, format));
    files.push(file);
  }
  return files;
}

/**
 * Writes each selected machine's diagram to a file of its own in `directory` (made if missing):
 * `<machine>.mmd`, `.dot`, `.json` or `.svg`, each a whole document (one Graphviz graph per file).
 *
 * @returns the paths written, in the order of the actor tree
 */
export async function writeDiagrams(selection: DiagramSelection, format: DiagramOutputFormat, directory: string): Promise<string[]> {
  return writeDocuments(mezanDrawables(selection), format, directory);
}

/**
 * The machines a user's module exports, selected by export name (or all of them), to draw as
 * mezan's own are drawn.
 *
 * @param file - the module (`.js`, `.cjs`, `.mjs`; `.ts`, `.cts`, `.mts` with tsx installed)
 * @param selection - an export's name, or `'all'`
 * @throws MezanError `E_INVALID_OPTION` for a missing file, a module that fails to load, a module
 * with no machine export, or no machine exported under `selection` (the promise rejects)
 */
async function moduleDrawables(file: string, selection: string): Promise<Drawable[]> {
  const machines = await loadModuleMachines(file);
  const drawables = machines.map(({ exportName, machine }) => ({ name: exportName, source: file, machine }));
  if (selection === 'all') return drawables;
  const chosen = drawables.filter(({ name }) => name === selection);
  if (chosen.length === 0) {
    throw new MezanError(
      'E_INVALID_OPTION',
      `${file}: no machine is exported as ${JSON.stringify(selection)}; its machines: ${drawables.map(({ name }) => name).join(', ')}`,
      { details: { option: 'module', file, problem: 'no-such-export', export: selection } },
    );
  }
  return chosen;
}

/** The flags of `mezan diagram`, as commander parses them. */
interface DiagramFlags {
  format: DiagramOutputFormat;
  out?: string;
  module?: string;
}

/**
 * The `mezan diagram [machine|all] --format mermaid|dot|json|svg [--out DIR] [--module FILE]` command.
 *
 * @param io - where it writes; the process's streams by default
 * @returns a commander command to add to the program
 */
export function createDiagramCommand(io: DiagramIo = { stdout: process.stdout, exit: exitWhenFlushed }): Command {
  return new Command('diagram')
    .description(
      "draw mezan's state machines from their definitions, or those a module of yours exports (--module), as Mermaid, Graphviz DOT, XState's JSON or SVG",
    )
    .addArgument(
      new Argument(
        '[machine]',
        `the machine to draw: ${[...MACHINE_NAMES, 'all'].join(', ')}; with --module, the name a machine is exported under, or all`,
      ).default('all'),
    )
    .addOption(
      new Option('--format <format>', 'the output format (svg: laid out by Graphviz in WebAssembly, no install needed)')
        .choices([...DIAGRAM_FORMATS, 'svg'])
        .default('mermaid'),
    )
    .addOption(new Option('--out <dir>', 'write one file per machine into this directory (printing their paths) instead of all to stdout'))
    .addOption(
      new Option(
        '--module <file>',
        "draw the XState machines this module exports (.js, .cjs, .mjs; .ts, .cts, .mts with tsx installed) instead of mezan's own",
      ),
    )
    .addHelpText(
      'after',
      helpExamples([
        ['mezan diagram shutdown', 'the shutdown machine, as Mermaid'],
        ['mezan diagram all --format dot --out charts', 'charts/supervisor.dot, charts/executor.dot, …'],
        ['mezan diagram worker --format svg > w.svg', 'one machine as SVG (all of them: --out DIR)'],
        ['mezan diagram resource --format json', "XState's JSON of one machine"],
        ['mezan diagram --module dist/agents.js', 'every machine the module exports, as Mermaid'],
        ['mezan diagram solver --module src/agents.ts --format svg', 'its export `solver`, as SVG (a .ts module needs tsx)'],
      ]),
    )
    .addHelpText('after', '\nExit codes: 0 drawn; 2 a --module file that is missing, fails to load, or exports no such machine.')
    .action(async function (this: Command, machine: string, flags: DiagramFlags) {
      if (flags.module !== undefined) {
        const code = await drawModule(this, io, flags.module, machine, flags);
        (io.setExitCode ?? ((value: number) => void (process.exitCode = value)))(code);
        io.exit?.(code);
        return;
      }
      if (machine !== 'all' && !isMachineName(machine)) {
        this.error(
          `error: command-argument value '${machine}' is invalid for argument 'machine'. Allowed choices are ${[...MACHINE_NAMES, 'all'].join(', ')}.`,
          {
            code: 'commander.invalidArgument',
          },
        );
      }
      await draw(this, io, mezanDrawables(machine as DiagramSelection), flags, machine === 'all');
    });
}

/**
 * Draws a module's machines, and says how that went: 0 drawn, {@link DIAGRAM_INVALID_MODULE_EXIT}
 * for a module it cannot draw from, 1 for anything else that went wrong (a message on stderr each).
 */
async function drawModule(command: Command, io: DiagramIo, file: string, selection: string, flags: DiagramFlags): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  try {
    await draw(command, io, await moduleDrawables(file, selection), flags, selection === 'all');
    return 0;
  } catch (error) {
    // Commander's own errors (a usage error) are commander's to report.
    if (error instanceof CommanderError) throw error;
    if (!isMezanError(error, 'E_INVALID_OPTION')) {
      stderr.write(`mezan diagram: ${isAnyError(error) ? (error.stack ?? error.message) : String(error)}\n`);
      return 1;
    }
    stderr.write(`mezan diagram: ${error.message}\n`);
    // A module that threw: its own stack says where (a syntax error's shows the line).
    if (error.details.problem === 'load-failed' && isAnyError(error.cause) && error.cause.stack !== undefined) stderr.write(`${error.cause.stack}\n`);
    return DIAGRAM_INVALID_MODULE_EXIT;
  }
}

/**
 * Ends the process with `code` once what was written to stdout and stderr is flushed: a user's
 * module may have left timers or sockets behind that would keep it alive after its machines are drawn.
 */
function exitWhenFlushed(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/** Writes the drawables: one file each with `--out`; else to stdout, several in one text (but one SVG document at most). */
async function draw(command: Command, io: DiagramIo, drawables: readonly Drawable[], { format, out }: DiagramFlags, all: boolean): Promise<void> {
  if (out !== undefined) {
    for (const file of await writeDocuments(drawables, format, out)) io.stdout.write(`${file}\n`);
    return;
  }
  if (format !== 'svg') {
    io.stdout.write(all ? renderAll(drawables, format) : renderMachine(drawables[0]!.machine, format));
    return;
  }
  // Several SVG documents in a row would be no SVG document at all.
  if (drawables.length > 1)
    command.error('mezan diagram: --format svg draws one machine per document: name one machine, or write them all with --out DIR');
  io.stdout.write(await renderDocument(drawables[0]!.machine, 'svg'));
}
