import type { Viz } from '@viz-js/viz' with { 'resolution-mode': 'import' };

let graphviz: Promise<Viz> | undefined;

/**
 * Lays out a Graphviz DOT graph as an SVG document with Graphviz compiled to WebAssembly
 * (`@viz-js/viz`, a devDependency of mezan and an optional peer dependency of the package), whose
 * module loads on first use.
 *
 * @param dot - one graph
 * @returns a whole SVG document
 * @throws Error saying to install `@viz-js/viz` when it is missing (the promise rejects)
 * @internal
 */
export async function layOutWithGraphviz(dot: string): Promise<string> {
  graphviz ??= loadGraphviz();
  return (await graphviz).renderString(dot, { format: 'svg' });
}

function loadGraphviz(): Promise<Viz> {
  let viz: { instance(): Promise<Viz> };
  try {
    // The package's CommonJS build (its types are written for its ES module, which TypeScript will not
    // let a CommonJS file import), required on first use: it is an optional peer dependency.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    viz = require('@viz-js/viz') as { instance(): Promise<Viz> };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error("laying out a graph other than mezan's own machines needs @viz-js/viz, which is not installed: npm install @viz-js/viz", {
      cause: error,
    });
  }
  return viz.instance();
}
