/**
 * Measures what loading mezan's core costs, as docs/modules.md reports it: in fresh Node processes,
 * taken in turn, the wall and CPU milliseconds of `require('xstate')`, `require('mezan')` and
 * `import('mezan')`, in a project where the packed package is installed (built and packed here, as
 * test/package/package.test.ts does). Prints the median and the minimum of each.
 * Run with `npm run measure:import [rounds]` (default 21 rounds).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packPackage } from '../test/package/packed-package';

/** Loads what it is told in the way it is told, and prints the wall and CPU milliseconds it took. */
const PROBE = `
import { createRequire } from 'node:module';
const [how, what] = process.argv.slice(2);
const cpu = process.cpuUsage();
const start = process.hrtime.bigint();
if (how === 'require') createRequire(import.meta.url)(what);
else await import(what);
const wall = Number(process.hrtime.bigint() - start) / 1e6;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify([wall, (used.user + used.system) / 1000]));
`;

const PROBES = [
  ['require', 'xstate'],
  ['require', 'mezan'],
  ['import', 'mezan'],
] as const;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

function main(rounds: number): void {
  const packed = packPackage();
  try {
    const probe = join(packed.consumer, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const samples = PROBES.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
    for (let round = 0; round < rounds; round += 1) {
      PROBES.forEach(([how, what], index) => {
        const [wall, cpu] = JSON.parse(execFileSync(process.execPath, [probe, how, what], { cwd: packed.consumer, encoding: 'utf8' })) as [
          number,
          number,
        ];
        samples[index]?.wall.push(wall);
        samples[index]?.cpu.push(cpu);
      });
    }
    PROBES.forEach(([how, what], index) => {
      const { wall, cpu } = samples[index] as { wall: number[]; cpu: number[] };
      const line = `${how}('${what}')`.padEnd(18);
      process.stdout.write(
        `${line} wall median ${median(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)}), CPU median ${median(cpu).toFixed(1)} ms (min ${Math.min(...cpu).toFixed(1)}), ${rounds} processes\n`,
      );
    });
  } finally {
    rmSync(packed.root, { recursive: true, force: true });
  }
}

main(Number(process.argv[2] ?? 21));
