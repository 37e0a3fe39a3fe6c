import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEsmEntries } from '../../scripts/write-esm-entries';
import { writeScenarioSchema } from '../../scripts/write-scenario-schema';

const REPO_ROOT = join(__dirname, '..', '..');
const REPO_MODULES = join(REPO_ROOT, 'node_modules');

/** mezan built, packed and installed in a consumer project, all in a temporary folder. */
export interface PackedPackage {
  /** The temporary folder holding everything below; remove it when done. */
  readonly root: string;
  /** The consumer project: mezan in its node_modules as npm would install it from the tarball. */
  readonly consumer: string;
  /** The files in the tarball, relative to the package. */
  readonly files: readonly string[];
}

/**
 * Builds the package from the sources as `npm run build` does (tsc, without type-checking them again, and the CommonJS files beside,
 * then the ES module entries and the scenario schema; not the dashboard's browser bundle, which no test here serves), packs it
 * with `npm pack` (so `files` decides what ships), and unpacks the tarball into a consumer
 * project's node_modules. The consumer reaches mezan's dependencies through links to the
 * repository's own node_modules. Needs no earlier build.
 */
export function packPackage(): PackedPackage {
  const root = mkdtempSync(join(tmpdir(), 'mezan-package-'));
  const source = join(root, 'package');
  const config = join(root, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: join(source, 'dist'), sourceMap: false, typeRoots: [join(REPO_MODULES, '@types')] },
      include: ['src', 'actors', 'machines'].map((folder) => join(REPO_ROOT, folder)),
    }),
  );
  // `--noCheck`: `npm run typecheck` checks these sources; unchecked, tsc emits the same JavaScript
  // and the same declarations (but for the order of some unions' members) in half the time.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config, '--noCheck'], { stdio: 'pipe' });
  // The CommonJS files tsc does not emit, copied as `npm run build:threads` does: the CLI requires them.
  for (const file of ['src/threads/thread-entry.cjs', 'src/cli/demo-hash-task.cjs']) cpSync(join(REPO_ROOT, file), join(source, 'dist', file));
  for (const file of ['package.json', 'LICENSE']) copyFileSync(join(REPO_ROOT, file), join(source, file));
  // The ES module entries are written from the names the CommonJS build exports, read by loading it.
  symlinkSync(REPO_MODULES, join(source, 'node_modules'), 'junction');
  writeEsmEntries(source);
  writeScenarioSchema(source);

  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: source, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const [tarball] = packed;
  if (tarball === undefined) throw new Error('npm pack made no tarball');

  const consumer = join(root, 'consumer');
  const installed = join(consumer, 'node_modules', 'mezan');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(root, tarball.filename), '-C', installed, '--strip-components=1']);
  for (const name of readdirSync(REPO_MODULES)) {
    if (name.startsWith('.')) continue;
    symlinkSync(join(REPO_MODULES, name), join(consumer, 'node_modules', name), 'junction');
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  return { root, consumer, files: tarball.files.map((file) => file.path) };
}
