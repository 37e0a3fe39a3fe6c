import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/main';
import { helpExamples } from '../../src/cli/help-examples';

const ROOT = path.join(__dirname, '..', '..');
const COMMANDS = ['simulate', 'diagram', 'dashboard', 'demo', 'node'] as const;

/** The subcommand `name` of a fresh program, throwing instead of exiting, writing nowhere. */
function quietCommand(name: string): { program: Command; command: Command; printed: () => string } {
  let printed = '';
  const program = createProgram();
  const command = program.commands.find((candidate) => candidate.name() === name)!;
  for (const each of [program, command]) {
    each.exitOverride().configureOutput({ writeOut: (text) => void (printed += text), writeErr: () => undefined });
  }
  return { program, command, printed: () => printed };
}

/** The examples of `mezan <name> --help`: the command lines under `Examples:`. */
async function examplesOf(name: string): Promise<string[]> {
  const { program, printed } = quietCommand(name);
  await expect(program.parseAsync([name, '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
  const section = printed().split('\nExamples:\n')[1] ?? '';
  const lines = section.split('\n').filter((line) => line.startsWith('  mezan '));
  return lines.map((line) => line.trim().split(/ {2,}/)[0]!);
}

describe.each(COMMANDS)('mezan %s --help', (name) => {
  it('ends with examples of the command', async () => {
    const examples = await examplesOf(name);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) expect(example.startsWith(`mezan ${name}`)).toBe(true);
  });

  it('shows only command lines the command accepts, naming files that exist', async () => {
    for (const example of await examplesOf(name)) {
      // What a shell would take away: a redirection and what follows.
      const args = example.split(' > ')[0]!.split(' ').slice(2);
      for (const file of args.filter((arg) => arg.startsWith('examples/'))) expect(existsSync(path.join(ROOT, file))).toBe(true);
      const { program, command } = quietCommand(name);
      let ran = false;
      command.action(() => void (ran = true));
      await program.parseAsync([name, ...args], { from: 'user' });
      expect({ example, ran }).toEqual({ example, ran: true });
    }
  });
});

describe('helpExamples', () => {
  it('aligns what each example does after the longest command line', () => {
    expect(
      helpExamples([
        ['mezan demo', 'the defaults'],
        ['mezan demo --seed 7', 'another mix'],
      ]),
    ).toBe(['', 'Examples:', '  mezan demo           the defaults', '  mezan demo --seed 7  another mix'].join('\n'));
  });
});
