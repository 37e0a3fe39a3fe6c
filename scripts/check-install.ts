/**
 * Installs mezan as a user would and checks what that brings: packs this repository (`npm pack`,
 * which builds it), installs the tarball into a fresh temporary project with
 * `npm install --omit=dev --engine-strict`, and fails if npm warns of an unsupported engine
 * (EBADENGINE), if node_modules is larger than the limit, or if the installed package cannot serve
 * its dashboard (the page's script and the machines' diagrams) or draw a machine as SVG with only its
 * runtime dependencies (Graphviz, an optional peer, is not installed: the drawings come from the build).
 *
 * Run with `npx tsx scripts/check-install.ts [--limit-mb 30] [--keep]`. It needs the npm registry.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const limitIndex = args.indexOf('--limit-mb');
const limitMb = limitIndex >= 0 ? Number(args[limitIndex + 1]) : 30;
const keep = args.includes('--keep');

/** Runs a command, echoing it; throws with its output when it fails. */
function run(command: string, commandArgs: readonly string[], cwd: string): { stdout: string; stderr: string } {
  process.stdout.write(`$ ${command} ${commandArgs.join(' ')}\n`);
  const result = spawnSync(command, commandArgs, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(`${command} ${commandArgs.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/** Uses the installed package from the temporary project: the core, the CLI, and the dashboard's two generated assets. */
const SMOKE = `
const { createEngine } = require('mezan');
const { serveDashboard } = require('mezan/dashboard');
(async () => {
  const engine = createEngine({ logger: false });
  const dashboard = await serveDashboard(engine);
  const script = await fetch(new URL('/dashboard.js', dashboard.url));
  const machines = await fetch(new URL('/machines', dashboard.url));
  const views = await machines.json();
  const lines = [
    '/dashboard.js: ' + script.status + ', ' + (await script.text()).length + ' characters',
    '/machines: ' + machines.status + ', ' + views.length + ' machines drawn as SVG: ' + views.every((view) => view.svg.includes('<svg')),
  ];
  await dashboard.close();
  await engine.shutdown();
  console.log(lines.join('\\n'));
  if (script.status !== 200 || machines.status !== 200 || !views.every((view) => view.svg.includes('<svg'))) process.exitCode = 1;
})();
`;

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'mezan-install-'));
  try {
    const packed = run('npm', ['pack', '--silent', '--pack-destination', work], root).stdout.trim().split('\n').at(-1)!;
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'mezan-install-check', version: '1.0.0', private: true }));
    const install = run('npm', ['install', '--omit=dev', '--engine-strict', '--no-audit', '--no-fund', join(work, packed)], app);
    const output = `${install.stdout}${install.stderr}`;
    const kilobytes = Number(run('du', ['-sk', 'node_modules'], app).stdout.split(/\s/)[0]);
    const megabytes = kilobytes / 1024;
    const packages = run('npm', ['ls', '--all', '--parseable', '--omit=dev'], app).stdout.trim().split('\n').length - 1;
    const largest = readdirSync(join(app, 'node_modules'))
      .flatMap((name) => (name.startsWith('@') ? readdirSync(join(app, 'node_modules', name)).map((inner) => `${name}/${inner}`) : [name]))
      .filter((name) => !name.startsWith('.'))
      .map((name) => [name, Number(run('du', ['-sk', join('node_modules', name)], app).stdout.split(/\s/)[0]) / 1024] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8);
    const smoke = run(process.execPath, ['-e', SMOKE], app).stdout;
    const cli = join('node_modules', 'mezan', 'dist', 'src', 'cli', 'main.js');
    const version = run(process.execPath, [cli, '--version'], app).stdout.trim();
    const svg = run(process.execPath, [cli, 'diagram', 'worker', '--format', 'svg'], app).stdout;
    if (!/^<\?xml[\s\S]*<\/svg>\s*$/.test(svg)) throw new Error(`mezan diagram worker --format svg printed no SVG document:\n${svg}`);
    process.stdout.write(
      [
        '',
        `${packed} on Node ${process.versions.node}: ${packages} packages, node_modules ${megabytes.toFixed(1)} MiB (du -sk: ${kilobytes} KiB; limit ${limitMb} MiB)`,
        `largest: ${largest.map(([name, size]) => `${name} ${size.toFixed(1)} MiB`).join(', ')}`,
        `mezan --version: ${version}; mezan diagram worker --format svg: ${svg.length} characters of SVG`,
        smoke.trim(),
        '',
      ].join('\n'),
    );
    const problems: string[] = [];
    if (/EBADENGINE/.test(output)) problems.push(`npm warned of an unsupported engine:\n${output}`);
    if (megabytes > limitMb) problems.push(`node_modules is ${megabytes.toFixed(1)} MiB, over the ${limitMb} MiB limit`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    process.stdout.write('the install is lean and works\n');
  } finally {
    if (keep) process.stdout.write(`kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`check-install: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
