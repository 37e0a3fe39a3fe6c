import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleDashboardClient, DASHBOARD_CLIENT_BUNDLE, DASHBOARD_CLIENT_DIRECTORY, DASHBOARD_CLIENT_ENTRY } from './bundle-dashboard-client';

const scripts = new Map<string, Promise<string>>();

/**
 * The page's script, `/dashboard.js`: the bundle `npm run build:dashboard` wrote beside the compiled
 * server (`<directory>/client/dashboard.js`), or, run from the sources where there is none, the
 * client bundled from `<directory>/client/main.ts` with esbuild. Read or bundled once per directory
 * and kept; a failure is not kept, so the next request tries again.
 *
 * @param directory - the folder of the dashboard's server modules (`__dirname` of the server)
 * @returns the script's text
 * @throws Error naming `npm run build` when there is neither a bundle nor the sources (the promise rejects)
 * @internal
 */
export function readDashboardClientScript(directory: string): Promise<string> {
  let script = scripts.get(directory);
  if (script === undefined) {
    script = loadScript(path.join(directory, DASHBOARD_CLIENT_DIRECTORY));
    scripts.set(directory, script);
    script.catch(() => scripts.delete(directory));
  }
  return script;
}

async function loadScript(clientDirectory: string): Promise<string> {
  const bundle = path.join(clientDirectory, DASHBOARD_CLIENT_BUNDLE);
  if (existsSync(bundle)) return readFile(bundle, 'utf8');
  if (existsSync(path.join(clientDirectory, DASHBOARD_CLIENT_ENTRY))) return bundleDashboardClient(clientDirectory);
  throw new Error(`the dashboard's script is missing: ${bundle} was not built (npm run build writes it)`);
}
