/**
 * Keeps the TypeScript of the README, docs/scenarios.md and docs/agents.md true: every ```ts block
 * in them is type-checked, under `strict`, as an ES module of its own that imports mezan as a user would
 * (`mezan`, `mezan/simulation`, ...), with those imports mapped to the sources (`src/index.ts`,
 * `src/entries/*.ts`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..');
/** The pages whose examples are checked, relative to the root. */
const PAGES = ['README.md', 'docs/scenarios.md', 'docs/agents.md'];
/** Where the blocks are put, as files no one writes: only this test's compiler host knows them. */
const VIRTUAL = path.join(ROOT, 'readme-examples');

/**
 * The reader's own code that the examples call (`download(url)`, `query()`...), and the `engine` an
 * example goes on with when an earlier one made it. An example that makes its own shadows it.
 */
const STAND_INS = `
import type { Engine } from 'mezan';
declare global {
  const engine: Engine;
  const url: string;
  const urls: readonly string[];
  function download(url: string): Promise<string>;
  function parseIt(): Promise<unknown>;
  function save(): Promise<void>;
  function query(): Promise<unknown>;
  function render(): Promise<unknown>;
  function resizeImage(image: { id: number }): Promise<string>;
  const payments: { charge(order: { order: number }): Promise<string> };
}
`;

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
  baseUrl: ROOT,
  paths: { mezan: ['src/index.ts'], 'mezan/*': ['src/entries/*.ts'] },
};

/** A fenced ```ts block: its page, its code, and the line of the page its first line of code is on. */
interface Block {
  readonly page: string;
  readonly firstLine: number;
  readonly code: string;
}

function typeScriptBlocks(page: string): Block[] {
  const markdown = readFileSync(path.join(ROOT, page), 'utf8');
  const blocks: Block[] = [];
  let open: { firstLine: number; lines: string[] } | undefined;
  markdown.split('\n').forEach((line, index) => {
    if (open === undefined) {
      if (/^```(ts|typescript)\s*$/.test(line)) open = { firstLine: index + 2, lines: [] };
      return;
    }
    if (/^```\s*$/.test(line)) {
      blocks.push({ page, firstLine: open.firstLine, code: open.lines.join('\n') });
      open = undefined;
      return;
    }
    open.lines.push(line);
  });
  return blocks;
}

const blocks = PAGES.flatMap(typeScriptBlocks);
const where = (block: Block): string => `${block.page}:${block.firstLine}`;
const fileOf = (block: Block): string => path.join(VIRTUAL, block.page.replace(/\W/g, '-'), `line-${block.firstLine}.ts`);

/** Type-checks every block in one program; returns each block's problems as `page:line:column: message`. */
function checkBlocks(): Map<Block, string[]> {
  // `export {}` makes a block a module (top-level await, its own scope) without moving its lines.
  const virtual = new Map<string, string>([
    [path.join(VIRTUAL, 'stand-ins.d.ts'), `${STAND_INS}\nexport {};\n`],
    ...blocks.map((block): [string, string] => [fileOf(block), `${block.code}\nexport {};\n`]),
  ]);
  const host = ts.createCompilerHost(OPTIONS, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(path.resolve(file)) ?? readFile.call(host, file);
  host.getSourceFile = (file, languageVersion, ...rest) => {
    const text = virtual.get(path.resolve(file));
    return text === undefined ? getSourceFile.call(host, file, languageVersion, ...rest) : ts.createSourceFile(file, text, languageVersion, true);
  };
  const program = ts.createProgram([...virtual.keys()], OPTIONS, host);
  const problems = new Map<Block, string[]>();
  for (const block of blocks) {
    const source = program.getSourceFile(fileOf(block))!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    problems.set(
      block,
      diagnostics.map((diagnostic) => {
        const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        return `${block.page}:${block.firstLine + line}:${character + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      }),
    );
  }
  return problems;
}

describe('the TypeScript examples of the README and docs/scenarios.md', () => {
  let problems: Map<Block, string[]>;
  beforeAll(() => {
    problems = checkBlocks();
  });

  it('are there to check, on every page', () => {
    for (const page of PAGES) expect(blocks.filter((block) => block.page === page).length).toBeGreaterThan(0);
  });

  it.each(blocks.map((block) => [where(block), block] as const))('%s compiles under strict', (_, block) => {
    expect(problems.get(block)).toEqual([]);
  });
});
