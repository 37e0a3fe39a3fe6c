import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgram } from '../../src/cli/main';
import { packageVersion } from '../../src/cli/package-version';

const { version } = jest.requireActual<{ version: string }>('../../package.json');

describe('mezan --version', () => {
  it('prints the version of the package', async () => {
    let printed = '';
    const program = createProgram()
      .exitOverride()
      .configureOutput({ writeOut: (text) => void (printed += text) });
    await expect(program.parseAsync(['--version'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.version' });
    expect(printed).toBe(`${version}\n`);
  });
});

describe('packageVersion', () => {
  it('finds the nearest package.json named mezan above where it starts, skipping others', () => {
    const root = mkdtempSync(join(tmpdir(), 'mezan-version-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mezan', version: '9.8.7' }));
    const nested = join(root, 'node_modules', 'other', 'dist');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(root, 'node_modules', 'other', 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    expect(packageVersion(nested)).toBe('9.8.7');
  });

  it("says 'unknown' where there is none", () => {
    expect(packageVersion(mkdtempSync(join(tmpdir(), 'mezan-none-')))).toBe('unknown');
  });
});
