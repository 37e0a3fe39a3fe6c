/**
 * Bundles the dashboard page's client (src/dashboard/client, with Cytoscape.js and Chart.js) into
 * dist/src/dashboard/client/dashboard.js, beside the compiled server that serves it as /dashboard.js.
 * Run with `npm run build:dashboard` (`npm run build` runs it after tsc).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleDashboardClient, DASHBOARD_CLIENT_BUNDLE, DASHBOARD_CLIENT_DIRECTORY } from '../src/dashboard/bundle-dashboard-client';

const root = join(__dirname, '..');

async function main(): Promise<void> {
  const script = await bundleDashboardClient(join(root, 'src', 'dashboard', DASHBOARD_CLIENT_DIRECTORY));
  const directory = join(root, 'dist', 'src', 'dashboard', DASHBOARD_CLIENT_DIRECTORY);
  mkdirSync(directory, { recursive: true });
  const file = join(directory, DASHBOARD_CLIENT_BUNDLE);
  writeFileSync(file, script);
  process.stdout.write(`${relative(root, file)}: ${Math.round(Buffer.byteLength(script) / 1024)} KiB\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`build:dashboard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
