import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { subset, validRange } from 'semver';

// What `npm install mezan --omit=dev` brings, read from package.json and package-lock.json: every
// package must run on the Node versions mezan says it runs on, and none may be there only for the
// browser (the dashboard's libraries are bundled into dist at build time). scripts/check-install.ts
// measures the real install of the packed tarball.

const ROOT = path.join(__dirname, '..', '..');

interface Manifest {
  readonly engines?: { readonly node?: string };
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

interface LockEntry {
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string } | readonly string[];
}

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** The package name of a lockfile key (`node_modules/a/node_modules/@b/c` → `@b/c`). */
function lockName(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Every package an install without devDependencies brings, by lockfile key (npm marks the others `dev`). */
const runtimePackages = Object.entries(lock.packages).filter(([key, entry]) => key !== '' && entry.dev !== true);

/** The package each bare import or require of a file names (`chart.js`, `@viz-js/viz`, `xstate` for `xstate/lib`). */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

/** The TypeScript files under a folder of the repository, `except` a subfolder. */
function sourceFiles(folder: string, except?: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => except === undefined || !file.startsWith(path.join(ROOT, except) + path.sep));
}

const CLIENT = path.join('src', 'dashboard', 'client');
const clientImports = new Set(sourceFiles(CLIENT).flatMap(importedPackages));
const nodeImports = new Set([...sourceFiles('src', CLIENT), ...sourceFiles('actors'), ...sourceFiles('machines')].flatMap(importedPackages));

describe('the runtime install', () => {
  it('says which Node versions mezan runs on', () => {
    expect(validRange(manifest.engines?.node)).not.toBeNull();
  });

  it('finds the runtime packages in the lockfile: every dependency, and more than them', () => {
    const names = new Set(runtimePackages.map(([key]) => lockName(key)));
    for (const name of Object.keys(manifest.dependencies ?? {})) expect([name, names.has(name)]).toEqual([name, true]);
    expect(names.size).toBeGreaterThan(Object.keys(manifest.dependencies ?? {}).length);
  });

  // A package without `engines.node` says it runs anywhere.
  const declared = runtimePackages.flatMap(([key, entry]) => {
    const range = Array.isArray(entry.engines) ? undefined : (entry.engines as { readonly node?: string } | undefined)?.node;
    return range === undefined ? [] : [[key, range] as const];
  });

  it.each(declared)('%s (engines.node %s) runs on every Node version mezan runs on', (_key, range) => {
    // mezan's `>=20` must lie inside the package's own range: `>=22.12.0` (mermaid 12, commander 15) does not.
    expect(subset(manifest.engines!.node!, range)).toBe(true);
  });

  it('has no browser library among its packages: what the dashboard page imports is a devDependency, bundled at build time', () => {
    expect([...clientImports].sort()).toEqual(['chart.js', 'cytoscape']);
    const runtimeNames = new Set(runtimePackages.map(([key]) => lockName(key)));
    for (const name of clientImports) {
      expect(manifest.devDependencies).toHaveProperty([name]);
      expect({ name, runtime: runtimeNames.has(name) }).toEqual({ name, runtime: false });
    }
    expect(runtimeNames.has('mermaid')).toBe(false);
  });

  it('lays out no graph at runtime: mezan draws its own machines at build time, and Graphviz is an optional peer for any other', () => {
    const runtimeNames = new Set(runtimePackages.map(([key]) => lockName(key)));
    expect(runtimeNames.has('@viz-js/viz')).toBe(false);
    expect(manifest.peerDependencies).toHaveProperty(['@viz-js/viz']);
    expect(manifest.peerDependenciesMeta?.['@viz-js/viz']?.optional).toBe(true);
    expect(manifest.devDependencies).toHaveProperty(['@viz-js/viz']);
  });

  it('has only dependencies that the code running in Node imports', () => {
    const unused = Object.keys(manifest.dependencies ?? {}).filter((name) => !nodeImports.has(name));
    expect(unused).toEqual([]);
  });
});
