import type { Viz } from '@viz-js/viz' with { 'resolution-mode': 'import' };

// The package's CommonJS build (its types are written for its ES module, which TypeScript will not
// let a CommonJS file import).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { instance } = require('@viz-js/viz') as { instance(): Promise<Viz> };

let graphviz: Promise<Viz> | undefined;

/**
 * Lays out a Graphviz DOT graph as an SVG document, with Graphviz compiled to WebAssembly
 * (`@viz-js/viz`): no Graphviz needs to be installed. The WebAssembly module loads on first use.
 *
 * @param dot - one graph, as `renderMachine(machine, 'dot')` draws it
 * @returns a whole SVG document
 */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= instance();
  return (await graphviz).renderString(dot, { format: 'svg' });
}
