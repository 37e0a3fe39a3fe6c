#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { createDashboardCommand } from './dashboard-command';
import { createDemoCommand } from './demo-command';
import { createDiagramCommand } from './diagram-command';
import { createNodeCommand } from './node-command';
import { packageVersion } from './package-version';
import { createSimulateCommand } from './simulate-command';

/**
 * Builds the `mezan` program. Each subcommand lives in its own file and is added here.
 *
 * @returns the commander program, ready to `parseAsync`
 * @example
 * ```ts
 * await createProgram().parseAsync(['node', 'mezan', 'demo', '--tasks', '2000']);
 * ```
 */
export function createProgram(): Command {
  return new Command('mezan')
    .description('mezan: an actor-model orchestration engine for Node.js on XState v5')
    .version(packageVersion(), '-V, --version', "prints mezan's version")
    .showHelpAfterError()
    .addCommand(createDemoCommand())
    .addCommand(createSimulateCommand())
    .addCommand(createDiagramCommand())
    .addCommand(createDashboardCommand())
    .addCommand(createNodeCommand());
}

/**
 * Runs the `mezan` command line with `argv` (as `process.argv`: node, script, then arguments).
 * An unexpected error is written to stderr and sets a non-zero exit code.
 */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync([...argv]);
  } catch (error) {
    // A command that overrides commander's exit (mezan node) has already written its reason.
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`mezan: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
