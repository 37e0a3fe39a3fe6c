import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as Esbuild from 'esbuild';

/** The folder, beside the dashboard's server modules, that holds the page's client: its TypeScript sources, or once built its bundle. */
export const DASHBOARD_CLIENT_DIRECTORY = 'client';
/** The client's entry point in {@link DASHBOARD_CLIENT_DIRECTORY}, in the sources. */
export const DASHBOARD_CLIENT_ENTRY = 'main.ts';
/** The bundle's file name in {@link DASHBOARD_CLIENT_DIRECTORY}, in the build (`dist/src/dashboard/client/dashboard.js`). */
export const DASHBOARD_CLIENT_BUNDLE = 'dashboard.js';

/**
 * Bundles the dashboard page's client (`src/dashboard/client/`, TypeScript with the DOM library)
 * and the browser libraries it imports (Cytoscape.js, Chart.js) into one minified script for the
 * browser, with esbuild. `npm run build:dashboard` writes it into `dist`; run from the sources (the
 * tests, `tsx`), the server bundles it on first request. esbuild is a devDependency: an installed
 * mezan never calls this, it reads the built file.
 *
 * @param sourceDirectory - the folder that holds the client's sources (`src/dashboard/client`)
 * @returns the script's text, ending with the licence of every package bundled in it
 */
export async function bundleDashboardClient(sourceDirectory: string): Promise<string> {
  // Loaded here, not at the top: only a build or a run from the sources has it installed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof Esbuild;
  const result = await esbuild.build({
    entryPoints: [path.join(sourceDirectory, DASHBOARD_CLIENT_ENTRY)],
    tsconfig: path.join(sourceDirectory, 'tsconfig.json'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'eof',
    write: false,
    metafile: true,
    absWorkingDir: sourceDirectory,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(sourceDirectory, input));
  return `${result.outputFiles[0]!.text}${licenceNotice(inputs)}`;
}

/**
 * One comment with the name, version and licence text of each package the bundle took code from:
 * their licences ask for the notice to go with the code, and esbuild keeps only the comments marked
 * `/*!` or `@license` (Cytoscape.js marks its notice otherwise).
 */
function licenceNotice(inputs: readonly string[]): string {
  const roots = new Set<string>();
  for (const input of inputs) {
    const match = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(input);
    if (match !== null) roots.add(match[1]!);
  }
  const notices = [...roots].sort().map((root) => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const file = readdirSync(root).find((name) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(name));
    const text = file === undefined ? '' : `\n\n${readFileSync(path.join(root, file), 'utf8').trim()}`;
    return `${manifest.name} ${manifest.version} (${manifest.license ?? 'no licence field'})${text}`;
  });
  if (notices.length === 0) return '';
  return `/*! Bundled packages:\n\n${notices.join('\n\n----\n\n').replaceAll('*/', '* /')}\n*/\n`;
}
