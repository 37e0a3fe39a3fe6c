import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readDashboardClientScript } from '../../src/dashboard/dashboard-client-script';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'mezan-client-'));
});

afterEach(() => rmSync(directory, { recursive: true, force: true }));

describe('readDashboardClientScript', () => {
  it('reads the bundle the build wrote beside the server, once', async () => {
    mkdirSync(path.join(directory, 'client'));
    writeFileSync(path.join(directory, 'client', 'dashboard.js'), 'built();');
    expect(await readDashboardClientScript(directory)).toBe('built();');
    writeFileSync(path.join(directory, 'client', 'dashboard.js'), 'rebuilt();');
    expect(await readDashboardClientScript(directory)).toBe('built();');
  });

  it('bundles the client from its sources when there is no build', async () => {
    const script = await readDashboardClientScript(path.join(__dirname, '..', '..', 'src', 'dashboard'));
    expect(script).toContain('mezanDashboard');
    expect(script).not.toMatch(/^\s*import\s/m);
  });

  it('names the build when there is neither, and tries again on the next request', async () => {
    await expect(readDashboardClientScript(directory)).rejects.toThrow(/npm run build/);
    mkdirSync(path.join(directory, 'client'));
    writeFileSync(path.join(directory, 'client', 'dashboard.js'), 'late();');
    expect(await readDashboardClientScript(directory)).toBe('late();');
  });
});
