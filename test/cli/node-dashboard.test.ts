import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { ClusterView } from '../../src/cluster/cluster-view';
import { createNodeCommand, NODE_EXIT, runNode } from '../../src/cli/node-command';
import { until, useClusterTestBed } from '../fixtures/cluster-test-bed';
import { memoryStream } from '../fixtures/memory-stream';

// `mezan node --dashboard`, run in this process against a real redis-server.

const DIR = mkdtempSync(join(tmpdir(), 'mezan-node-dashboard-'));
const TASKS = join(DIR, 'tasks.cjs');
writeFileSync(TASKS, 'module.exports = { resize: (ctx) => ctx.input };\n');

const bed = useClusterTestBed();

describe('mezan node --dashboard', () => {
  it("serves the node's dashboard, whose /cluster shows the node, and closes it once the node has stopped", async () => {
    const cluster = bed.freshCluster('node-dashboard');
    const stdout = memoryStream();
    const engine = await runNode(
      { redis: bed.redis.url, name: cluster, tasks: TASKS, node: 'cli-1', concurrency: 2, dashboard: 0 },
      { stdout, stderr: memoryStream(), setExitCode: () => undefined },
    );
    expect(engine).toBeDefined();
    bed.engines.push(engine!);
    const url = /mezan node: dashboard at (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stdout.text)?.[1];
    expect(url).toBeDefined();
    let view: ClusterView | undefined;
    await until(async () => {
      view = (await (await fetch(new URL('/cluster', url))).json()) as ClusterView;
      return view.nodes.length === 1;
    }, 'the node to be a member');
    expect(view!.nodes[0]).toMatchObject({ node: 'cli-1', self: true, tasks: ['resize'], concurrency: 2 });
    await engine!.shutdown();
    await until(
      () =>
        fetch(new URL('/state', url)).then(
          () => false,
          () => true,
        ),
      'the dashboard to close',
    );
  });

  it('refuses a port that is not one before joining, and leaves the cluster when the port is taken', async () => {
    const stderr = memoryStream();
    const parsing = createNodeCommand({ stdout: memoryStream(), stderr }).parseAsync(
      ['--redis', 'redis://127.0.0.1:1', '--name', 'n', '--tasks', TASKS, '--dashboard', '70000'],
      { from: 'user' },
    );
    await expect(parsing).rejects.toMatchObject({ exitCode: NODE_EXIT.invalid, code: 'commander.invalidArgument' });
    expect(stderr.text).toContain("'--dashboard <port>' argument '70000' is invalid");

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const admin = new Redis(bed.redis.url);
    try {
      const cluster = bed.freshCluster('node-dashboard-taken');
      const refused = memoryStream();
      let code: number | undefined;
      const port = (taken.address() as { port: number }).port;
      const engine = await runNode(
        { redis: bed.redis.url, name: cluster, tasks: TASKS, node: 'cli-2', concurrency: 1, dashboard: port },
        { stdout: memoryStream(), stderr: refused, setExitCode: (given) => (code = given) },
      );
      expect(engine).toBeUndefined();
      expect(code).toBe(NODE_EXIT.invalid);
      expect(refused.text).toContain(`the dashboard could not be served on port ${port}`);
      expect(refused.text).toContain('EADDRINUSE');
      // The node joined, then left: its membership record is gone.
      expect(await admin.smembers(`mezan:${cluster}:members:nodes`)).toEqual([]);
    } finally {
      admin.disconnect();
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
