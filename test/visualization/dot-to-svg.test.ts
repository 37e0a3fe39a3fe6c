import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dotToSvg } from '../../src/visualization/dot-to-svg';
import { toDot } from '../../src/visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES } from '../../src/visualization/machines';
import { drawingKey, layOutMachineDrawings, prerenderedDrawings, PRERENDERED_DRAWINGS_FILE } from '../../src/visualization/prerendered-drawings';

const GRAPH = 'digraph g { a -> b; }\n';

describe('dotToSvg', () => {
  it('lays out any graph with Graphviz when run from the sources (no drawings built)', async () => {
    const svg = await dotToSvg(GRAPH);
    expect(svg.match(/<svg[\s>]/g)).toHaveLength(1);
    expect(svg).toMatch(/<title>a&#45;&gt;b<\/title>/);
  });

  it("takes a machine's drawing from the build when there is one, without loading Graphviz", async () => {
    const dot = toDot(MEZAN_MACHINES.worker);
    const svg = await jestIsolated(async () => {
      jest.doMock('../../src/visualization/prerendered-drawings', () => ({
        ...jest.requireActual('../../src/visualization/prerendered-drawings'),
        prerenderedDrawings: () => new Map([[drawingKey(dot), '<svg>built</svg>']]),
      }));
      jest.doMock('../../src/visualization/graphviz-layout', () => ({
        layOutWithGraphviz: () => Promise.reject(new Error('Graphviz was loaded')),
      }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy, from the isolated registry the mocks apply to
      const isolated = require('../../src/visualization/dot-to-svg') as typeof import('../../src/visualization/dot-to-svg');
      return isolated.dotToSvg(dot);
    });
    expect(svg).toBe('<svg>built</svg>');
  });

  it('says to install @viz-js/viz when it is missing and the graph is not one of the built drawings', async () => {
    const failure = await jestIsolated(async () => {
      jest.doMock('@viz-js/viz', () => {
        throw Object.assign(new Error("Cannot find module '@viz-js/viz'"), { code: 'MODULE_NOT_FOUND' });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy, from the isolated registry the mocks apply to
      const isolated = require('../../src/visualization/dot-to-svg') as typeof import('../../src/visualization/dot-to-svg');
      return isolated.dotToSvg(GRAPH).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/npm install @viz-js\/viz/);
    expect((failure as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });
});

describe('layOutMachineDrawings', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'mezan-drawings-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('lays out every machine, keyed by its DOT text, and the build reads them back', async () => {
    writeFileSync(path.join(directory, PRERENDERED_DRAWINGS_FILE), await layOutMachineDrawings());
    const drawings = prerenderedDrawings(directory);
    expect(drawings.size).toBe(MACHINE_NAMES.length);
    for (const name of MACHINE_NAMES) {
      const dot = toDot(MEZAN_MACHINES[name]);
      const svg = drawings.get(drawingKey(dot));
      expect([name, svg?.includes(`<title>${MEZAN_MACHINES[name].id}</title>`)]).toEqual([name, true]);
      expect(svg).toBe(await dotToSvg(dot));
    }
  });

  it('finds nothing where nothing was built, and no drawing for another graph', () => {
    expect(prerenderedDrawings(path.join(directory, 'nowhere')).size).toBe(0);
    expect(prerenderedDrawings(directory).get(drawingKey(GRAPH))).toBeUndefined();
  });
});

/** Runs `body` with a fresh module registry, so that `jest.doMock` applies to what it requires. */
async function jestIsolated<T>(body: () => Promise<T>): Promise<T> {
  let result!: Promise<T>;
  jest.isolateModules(() => {
    result = body();
  });
  try {
    return await result;
  } finally {
    jest.dontMock('../../src/visualization/prerendered-drawings');
    jest.dontMock('../../src/visualization/graphviz-layout');
    jest.dontMock('@viz-js/viz');
  }
}
