/**
 * Rewrites the Mermaid blocks of README.md's "State machines" section from the machines' real
 * definitions (one block per machine, in the order `mezan diagram all` prints them).
 * Run with `npm run diagrams:readme`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDiagrams } from '../src/cli/diagram-command';
import { MACHINE_NAMES } from '../src/visualization/machines';

const file = join(__dirname, '..', 'README.md');
const readme = readFileSync(file, 'utf8');
const start = readme.indexOf('## State machines');
const end = readme.indexOf('\n## ', start + 1);
let section = readme.slice(start, end);
let index = 0;
section = section.replace(/```mermaid\n[\s\S]*?```/g, () => {
  const name = MACHINE_NAMES[index++];
  if (name === undefined) throw new Error('README has more Mermaid blocks than there are machines');
  const text = renderDiagrams(name, 'mermaid');
  // `all` prefixes each diagram with a comment naming its file; the README blocks carry it too.
  return '```mermaid\n' + `%% ${name}: machines/${name}.machine.ts\n` + text + '```';
});
if (index !== MACHINE_NAMES.length) throw new Error(`README has ${index} Mermaid blocks for ${MACHINE_NAMES.length} machines`);
writeFileSync(file, readme.slice(0, start) + section + readme.slice(end));
