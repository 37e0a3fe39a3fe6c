/**
 * Writes dist/scenario.schema.json, the JSON Schema of a scenario file that the package ships as
 * `mezan/scenario.schema.json` (for editors: `# yaml-language-server: $schema=…`). It is
 * SCENARIO_SCHEMA (src/simulation/scenario-schema.ts), the schema `parseScenario` checks files
 * against, written at build time so that the two never differ. Run with `npm run build:schema`
 * (`npm run build` runs it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCENARIO_SCHEMA } from '../src/simulation/scenario-schema';

/** Where the package keeps the schema, relative to its folder (`exports["./scenario.schema.json"]`). */
export const SCENARIO_SCHEMA_FILE = 'dist/scenario.schema.json';

/**
 * Writes the scenario schema as indented JSON into the package at `packageDir`.
 *
 * @param packageDir - the folder of package.json
 * @returns the file written
 */
export function writeScenarioSchema(packageDir: string): string {
  const file = join(packageDir, SCENARIO_SCHEMA_FILE);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(SCENARIO_SCHEMA, null, 2)}\n`);
  return file;
}

if (require.main === module) {
  writeScenarioSchema(join(__dirname, '..'));
  process.stdout.write(`${SCENARIO_SCHEMA_FILE}\n`);
}
