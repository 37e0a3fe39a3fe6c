/** One example of a command's use: the command line, and what it does. */
export type HelpExample = readonly [commandLine: string, what: string];

/**
 * The `Examples:` section a command's help ends with (for commander's `addHelpText('after', …)`):
 * one line per example, the descriptions aligned.
 *
 * @param examples - each command line, as typed, and what it does
 * @returns the section, starting with a blank line
 * @example
 * ```ts
 * new Command('demo').addHelpText('after', helpExamples([['mezan demo --seed 7', 'another mix']]));
 * ```
 */
export function helpExamples(examples: readonly HelpExample[]): string {
  const width = Math.max(...examples.map(([commandLine]) => commandLine.length));
  return ['', 'Examples:', ...examples.map(([commandLine, what]) => `  ${commandLine.padEnd(width)}  ${what}`)].join('\n');
}
