import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A browser script the page loads, served from the installed npm package (never from a CDN). */
export interface VendorAsset {
  /** The path the page requests it at, under `/vendor/`. */
  readonly route: string;
  /** The npm package it comes from. */
  readonly packageName: string;
  /** Finds the file on disk. */
  readonly resolve: () => string;
}

/**
 * The drawing libraries the page uses, each served from `node_modules` by `require.resolve`:
 * Mermaid (the machine diagrams), Cytoscape.js (the wait-for graph) and Chart.js (the charts).
 */
export const VENDOR_ASSETS: readonly VendorAsset[] = Object.freeze([
  { route: '/vendor/mermaid.min.js', packageName: 'mermaid', resolve: () => require.resolve('mermaid/dist/mermaid.min.js') },
  { route: '/vendor/cytoscape.min.js', packageName: 'cytoscape', resolve: () => require.resolve('cytoscape/dist/cytoscape.min.js') },
  // chart.js exports no subpath for its browser bundle: it sits beside the CommonJS entry.
  {
    route: '/vendor/chart.umd.min.js',
    packageName: 'chart.js',
    resolve: () => path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
  },
]);

const cache = new Map<string, Buffer>();

/**
 * The bytes of a vendor asset, read once and kept.
 *
 * @param route - the request path
 * @returns the file, or `undefined` when no asset has that route
 */
export function readVendorAsset(route: string): Buffer | undefined {
  const asset = VENDOR_ASSETS.find((candidate) => candidate.route === route);
  if (asset === undefined) return undefined;
  let bytes = cache.get(route);
  if (bytes === undefined) {
    bytes = readFileSync(asset.resolve());
    cache.set(route, bytes);
  }
  return bytes;
}
