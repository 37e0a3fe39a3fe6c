/**
 * Keeps docs/scenarios.md true: every ```yaml block in it is a whole, valid scenario (run with seed 1
 * when small, its `expect` holding), every ```yaml invalid block is refused with E_INVALID_SCENARIO
 * (with the message of the ```text block that follows it, if any), and every field the schema knows
 * is named in the page.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MezanError } from '../../src/errors';
import { parseScenario } from '../../src/simulation/load-scenario';
import type { Scenario } from '../../src/simulation/scenario';
import {
  ASK_ERROR_CODES,
  EXPECTATION_NAMES,
  SCENARIO_ERROR_CODES,
  SCENARIO_SCHEMA,
  UNREACHABLE_ERROR_CODES,
} from '../../src/simulation/scenario-schema';
import { simulate } from '../../src/simulation/simulate';

const DOC = path.join(__dirname, '..', '..', 'docs', 'scenarios.md');
/** The file name the invalid examples' messages are written for. */
const INVALID_FILE = 'scenario.yaml';
/** Blocks that make more top-level tasks than this are parsed, not run. */
const MAX_TASKS_TO_RUN = 1000;

/** A fenced block of the page: its info string (`yaml`, `yaml invalid`, `text`...), text and first line. */
interface Block {
  readonly info: string;
  readonly text: string;
  /** The 1-based line of the opening fence. */
  readonly line: number;
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open: { info: string; line: number; body: string[] } | undefined;
  markdown.split('\n').forEach((line, index) => {
    const fence = /^```(.*)$/.exec(line);
    if (open === undefined) {
      if (fence !== null) open = { info: fence[1]!.trim(), line: index + 1, body: [] };
      return;
    }
    if (fence !== null && fence[1]!.trim() === '') {
      blocks.push({ info: open.info, text: `${open.body.join('\n')}\n`, line: open.line });
      open = undefined;
      return;
    }
    open.body.push(line);
  });
  if (open !== undefined) throw new Error(`docs/scenarios.md:${open.line}: a fenced block is never closed`);
  return blocks;
}

function plannedTasks(scenario: Scenario): number {
  let planned = 0;
  for (const entry of scenario.tasks ?? []) planned += 'generate' in entry ? (entry.generate.times?.length ?? entry.generate.count ?? 0) : 1;
  return planned;
}

/** The error `parse` throws; fails the test when it throws nothing. */
function refusal(parse: () => unknown): MezanError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(MezanError);
    return error as MezanError;
  }
  throw new Error('expected the scenario to be refused, but it loaded');
}

/** Every property name of the schema, at any depth (step kinds, fault fields, engine options...). */
function schemaFieldNames(schema: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) schemaFieldNames(item, names);
  } else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties' && value !== null && typeof value === 'object') for (const name of Object.keys(value)) names.add(name);
      schemaFieldNames(value, names);
    }
  }
  return names;
}

const markdown = readFileSync(DOC, 'utf8');
const blocks = fencedBlocks(markdown);
const yamlBlocks = blocks.filter((block) => block.info === 'yaml' || block.info.startsWith('yaml '));
const valid = yamlBlocks.filter((block) => block.info === 'yaml');
const invalid = yamlBlocks.filter((block) => block.info === 'yaml invalid');
const label = (block: Block): string => `docs/scenarios.md:${block.line}`;

describe('docs/scenarios.md', () => {
  it('has yaml examples, each marked `yaml` or `yaml invalid`', () => {
    expect(valid.length).toBeGreaterThan(20);
    expect(invalid.length).toBeGreaterThan(0);
    expect(yamlBlocks.filter((block) => block.info !== 'yaml' && block.info !== 'yaml invalid').map(label)).toEqual([]);
  });

  describe('valid examples parse and, when small, run with their expectations holding (seed 1)', () => {
    it.each(valid.map((block) => [label(block), block] as const))('%s', async (_, block) => {
      const scenario = parseScenario(block.text, `${label(block)}.yaml`);
      if (plannedTasks(scenario) > MAX_TASKS_TO_RUN) return;
      const report = await simulate(scenario, { seed: 1 });
      if (scenario.expect !== undefined) expect(report.expectations.filter((expectation) => !expectation.ok)).toEqual([]);
      expect(report.ok).toBe(true);
    });
  });

  describe('invalid examples are refused with E_INVALID_SCENARIO, and the message shown after them', () => {
    it.each(invalid.map((block) => [label(block), block] as const))('%s', (_, block) => {
      const error = refusal(() => parseScenario(block.text, INVALID_FILE));
      expect(error.code).toBe('E_INVALID_SCENARIO');
      const next = blocks[blocks.indexOf(block) + 1];
      if (next?.info === 'text') expect(error.message).toBe(next.text.trim());
    });
  });

  it('names every field of the scenario schema', () => {
    // `code.<code>` and `asks.code.<code>` are named as such, with each code.
    const missing = [...schemaFieldNames(SCENARIO_SCHEMA)].filter((name) => !/^(asks\.)?code\./.test(name) && !markdown.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('names every expectation and every error code', () => {
    const plain = EXPECTATION_NAMES.filter((name) => !/^(asks\.)?code\./.test(name));
    expect(plain.filter((name) => !markdown.includes(`\`${name}\``))).toEqual([]);
    expect(SCENARIO_ERROR_CODES.filter((code) => !markdown.includes(`\`${code}\``))).toEqual([]);
    expect(ASK_ERROR_CODES.filter((code) => !markdown.includes(`\`${code}\``))).toEqual([]);
    expect(Object.keys(UNREACHABLE_ERROR_CODES).filter((code) => !markdown.includes(`\`code.${code}\``))).toEqual([]);
  });
});
