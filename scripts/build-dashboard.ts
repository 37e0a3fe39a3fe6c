/**
 * Builds what the dashboard serves beside the compiled server: the page's client (src/dashboard/client,
 * with Cytoscape.js and Chart.js) bundled into dist/src/dashboard/client/dashboard.js, and the drawings
 * of mezan's machines laid out by Graphviz into dist/src/visualization/machine-drawings.json (which
 * `mezan diagram --format svg` reads too), so an installed mezan needs neither esbuild nor Graphviz.
 * Run with `npm run build:dashboard` (`npm run build` runs it after tsc).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { bundleDashboardClient, DASHBOARD_CLIENT_BUNDLE, DASHBOARD_CLIENT_DIRECTORY } from '../src/dashboard/bundle-dashboard-client';
import { layOutMachineDrawings, PRERENDERED_DRAWINGS_FILE } from '../src/visualization/prerendered-drawings';

const root = join(__dirname, '..');

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`${relative(root, file)}: ${Math.round(Buffer.byteLength(text) / 1024)} KiB\n`);
}

async function main(): Promise<void> {
  const client = await bundleDashboardClient(join(root, 'src', 'dashboard', DASHBOARD_CLIENT_DIRECTORY));
  write(join(root, 'dist', 'src', 'dashboard', DASHBOARD_CLIENT_DIRECTORY, DASHBOARD_CLIENT_BUNDLE), client);
  write(join(root, 'dist', 'src', 'visualization', PRERENDERED_DRAWINGS_FILE), await layOutMachineDrawings());
}

main().catch((error: unknown) => {
  process.stderr.write(`build:dashboard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
