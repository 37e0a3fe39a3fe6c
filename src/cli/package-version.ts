import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The version in mezan's own `package.json`, found by walking up from this file: it sits two levels
 * up from the sources (`src/cli`) and three from the build (`dist/src/cli`).
 *
 * @param from - where to start looking (this file's directory by default)
 * @returns the version, or `'unknown'` when no `package.json` named `mezan` is found
 */
export function packageVersion(from: string = __dirname): string {
  for (let directory = from; ; directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'mezan' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No manifest here (or not one that can be read): look further up.
    }
    if (dirname(directory) === directory) return 'unknown';
  }
}
