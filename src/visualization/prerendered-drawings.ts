import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { layOutWithGraphviz } from './graphviz-layout';
import { toDot } from './machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES } from './machines';

/**
 * The file, beside the compiled `dot-to-svg` module, that holds the SVG drawings of mezan's own
 * machines, laid out by Graphviz when the package is built (`npm run build:dashboard` writes it), so
 * an installed mezan draws its machines without `@viz-js/viz` (5 MB of Graphviz in WebAssembly).
 */
export const PRERENDERED_DRAWINGS_FILE = 'machine-drawings.json';

/**
 * The key of a drawing in {@link PRERENDERED_DRAWINGS_FILE}: the SHA-256 of its DOT text, so a
 * drawing is found only for the very graph it was laid out from.
 *
 * @param dot - a Graphviz graph
 * @returns 64 hexadecimal digits
 */
export function drawingKey(dot: string): string {
  return createHash('sha256').update(dot).digest('hex');
}

const read = new Map<string, ReadonlyMap<string, string>>();

/**
 * The drawings laid out at build time in `directory`, read once and kept.
 *
 * @param directory - the folder that holds {@link PRERENDERED_DRAWINGS_FILE}
 * @returns SVG documents by {@link drawingKey} of their DOT text; empty when the file is not there (run from the sources)
 */
export function prerenderedDrawings(directory: string): ReadonlyMap<string, string> {
  let drawings = read.get(directory);
  if (drawings === undefined) {
    const file = path.join(directory, PRERENDERED_DRAWINGS_FILE);
    drawings = existsSync(file) ? new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)) : new Map();
    read.set(directory, drawings);
  }
  return drawings;
}

/**
 * Lays out every one of mezan's machines, as `toDot` draws it, with Graphviz: what the build writes
 * into {@link PRERENDERED_DRAWINGS_FILE}.
 *
 * @returns the file's text: SVG documents by {@link drawingKey} of their DOT text, in the order of the actor tree
 */
export async function layOutMachineDrawings(): Promise<string> {
  const drawings: Record<string, string> = {};
  for (const name of MACHINE_NAMES) {
    const dot = toDot(MEZAN_MACHINES[name]);
    drawings[drawingKey(dot)] = await layOutWithGraphviz(dot);
  }
  return `${JSON.stringify(drawings)}\n`;
}
