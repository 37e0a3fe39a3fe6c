import { layOutWithGraphviz } from './graphviz-layout';
import { drawingKey, prerenderedDrawings } from './prerendered-drawings';

/**
 * Lays out a Graphviz DOT graph as an SVG document. mezan's own machines, as `toDot` draws them,
 * were laid out when the package was built (it holds their drawings); any other graph is laid out
 * by Graphviz compiled to WebAssembly, `@viz-js/viz`, an optional peer dependency: install it to
 * draw your own machines (no Graphviz needs to be installed).
 *
 * @param dot - one graph, as `renderMachine(machine, 'dot')` draws it
 * @returns a whole SVG document
 * @throws Error saying to install `@viz-js/viz` when the graph is not one of mezan's own machines and it is missing (the promise rejects)
 */
export async function dotToSvg(dot: string): Promise<string> {
  return prerenderedDrawings(__dirname).get(drawingKey(dot)) ?? layOutWithGraphviz(dot);
}
