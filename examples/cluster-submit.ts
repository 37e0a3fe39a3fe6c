// The second terminal of the README's cluster example: an engine that joins cluster "orders" only
// to submit (`concurrency: 0`: it runs nothing itself), sends 12 thumbnails and a charge, and
// prints which node ran each. Start one node or more first, in other terminals:
//
//   npx tsx src/cli/main.ts node --redis redis://127.0.0.1:6379 --name orders --tasks examples/cluster-tasks.mjs
//
// then run `npx tsx examples/cluster-submit.ts`. In an application, import from 'mezan'.
import { createEngine } from '../src/index';

async function main(): Promise<void> {
  const redis = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const engine = createEngine({ cluster: { redis, name: 'orders', node: 'submitter', concurrency: 0 }, logger: false });
  const thumbnails = Array.from({ length: 12 }, (_, id) => engine.submit('thumbnail', { input: { id }, priority: id % 3, retries: 2 }));
  const charge = engine.submit('charge', { id: `charge-order-${Date.now()}`, input: { order: 7 } });
  for (const handle of thumbnails) console.log(JSON.stringify(await handle.result));
  console.log(JSON.stringify(await charge.result));
  const report = await engine.shutdown();
  console.log(`submitted ${thumbnails.length + 1}, lost ${report.lost}`);
}

void main();
