import Table from 'cli-table3';
import { formatBytes, formatCount } from './format';
import { SOAK_STATUSES, type SettlementCheck, type SoakResult } from './soak-verdict';

// No colours and no lines between rows, as in the bench report: it is pasted into issues.
const TABLE_STYLE = { head: [], border: [] };
const TABLE_CHARS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

function table(head: string[], colAligns: Array<'left' | 'right'>): Table.Table {
  return new Table({ head, colAligns, style: TABLE_STYLE, chars: TABLE_CHARS });
}

const seconds = (ms: number): string => `${formatCount(ms / 1000, 1)} s`;

function settledLine(check: SettlementCheck): string {
  return (
    `${formatCount(check.settledOnce)} of ${formatCount(check.handles)} handles settled exactly once` +
    (check.neverSettled + check.settledTwice + check.inconsistent === 0
      ? ''
      : ` (never: ${check.neverSettled}, more than once: ${check.settledTwice}, inconsistent: ${check.inconsistent})`)
  );
}

/**
 * Renders a soak's result as plain tables.
 *
 * @returns the report, ending with a newline
 */
export function formatSoakReport(result: SoakResult): string {
  const { config, stream, burst, engine, memory } = result;
  const env = result.environment;
  const lines: string[] = [
    `mezan soak${config.quick ? ' (--quick: a smoke run)' : ''}: seed ${config.seed}, concurrency ${config.concurrency}, chunks of ${formatCount(config.chunk)}`,
    `node ${env.node}, ${env.platform}, ${env.cpu}, ${env.cpus} CPUs`,
    '',
  ];

  const statuses = table(['status', 'stream', 'burst + shutdown', 'engine report'], ['left', 'right', 'right', 'right']);
  const report = burst.report;
  const fromReport: Record<string, number | undefined> = {
    completed: report?.completed,
    failed: report?.failed,
    cancelled: report?.cancelled,
    timeout: report?.timedOut,
    deadlock: report?.deadlocked,
    rejected: report?.rejected,
  };
  for (const status of SOAK_STATUSES) {
    const reported = fromReport[status];
    statuses.push([
      status,
      formatCount(stream.settlement.byStatus[status]),
      formatCount(burst.settlement.byStatus[status]),
      reported === undefined ? '—' : formatCount(reported),
    ]);
  }
  statuses.push([
    'handles (tasks, children, refused)',
    formatCount(stream.settlement.handles),
    formatCount(burst.settlement.handles),
    report === undefined ? '—' : `${formatCount(report.submitted)} submitted, lost ${report.lost}`,
  ]);
  lines.push('Tasks by status', statuses.toString());

  const codes = new Set([...Object.keys(stream.settlement.byCode), ...Object.keys(burst.settlement.byCode)]);
  const byCode = table(['rejected with', 'stream', 'burst + shutdown'], ['left', 'right', 'right']);
  for (const code of [...codes].sort())
    byCode.push([code, formatCount(stream.settlement.byCode[code] ?? 0), formatCount(burst.settlement.byCode[code] ?? 0)]);
  lines.push('', 'Rejections by error code', byCode.toString());

  const figures = table(['measure', 'value'], ['left', 'right']);
  figures.push(
    ['tasks streamed (top level)', formatCount(stream.tasks)],
    ['children (ctx.submit)', formatCount(stream.children + burst.children)],
    ['stream wall time', seconds(stream.wallMs)],
    ['tasks/s (stream)', formatCount(stream.tasksPerSecond)],
    [
      'tasks/s, first tenth → last tenth of chunks',
      `${formatCount(stream.firstTenthTasksPerSecond)} → ${formatCount(stream.lastTenthTasksPerSecond)}`,
    ],
    ['slowest chunk', `${formatCount(stream.slowestChunkMs)} ms`],
    ['retries (attempts after the first)', formatCount(engine.retries)],
    [
      'deadlock pairs submitted (members that gave up waiting for their partner)',
      `${formatCount(engine.deadlockPairs)} (${formatCount(engine.pairBarrierTimeouts)})`,
    ],
    ['deadlocks detected / resolved', `${formatCount(engine.deadlocksDetected)} / ${formatCount(engine.deadlocksResolved)}`],
    ['  resolved by victim / by compensation', `${formatCount(engine.resolvedByVictim)} / ${formatCount(engine.resolvedByCompensation)}`],
    [
      'worker crashes injected / seen / restarts',
      `${formatCount(engine.crashesInjected)} / ${formatCount(engine.crashes)} / ${formatCount(engine.restarts)}`,
    ],
    ['escalations', formatCount(engine.escalations)],
    ['cancel() calls / accepted', `${formatCount(engine.cancelCalls)} / ${formatCount(engine.cancelsAccepted)}`],
    ['burst: tasks / submitted after shutdown()', `${formatCount(burst.tasks)} / ${formatCount(burst.submittedAfterShutdown)}`],
    ['burst: shutdown() resolved after', `${formatCount(burst.shutdownMs)} ms`],
    ['burst: phases', report === undefined ? '—' : report.phases.map((phase) => `${phase.phase} (${phase.cause})`).join(' → ')],
    [
      'burst: abandoned (expected: the stubborn tasks)',
      report === undefined ? '—' : `${report.abandoned.join(', ') || 'none'} (${burst.stubborn.join(', ')})`,
    ],
    ['total wall time', seconds(result.totalMs)],
  );
  lines.push('', 'Figures', figures.toString());
  lines.push('', `Stream: ${settledLine(stream.settlement)}`, `Burst:  ${settledLine(burst.settlement)}`);

  const mem = table(['tasks', 'at', 'RSS', 'heapUsed', 'heapUsed vs first sample'], ['right', 'right', 'right', 'right', 'right']);
  const first = memory.samples[0];
  mem.push(['0 (engine created)', seconds(memory.baseline.atMs), formatBytes(memory.baseline.rss), formatBytes(memory.baseline.heapUsed), '']);
  for (const sample of memory.samples) {
    mem.push([
      formatCount(sample.tasks),
      seconds(sample.atMs),
      formatBytes(sample.rss),
      formatBytes(sample.heapUsed),
      first === undefined ? '' : formatBytes(sample.heapUsed - first.heapUsed, true),
    ]);
  }
  lines.push('', 'Memory after global.gc() (the first sample after 0 ends the warm-up)', mem.toString());
  const growth = memory.growth;
  if (growth !== undefined) {
    lines.push(
      `Growth ${formatCount(growth.fromTasks)} → ${formatCount(growth.toTasks)} tasks: heapUsed ${formatBytes(growth.heapUsed, true)} ` +
        `(${formatBytes(growth.heapPerThousandTasks, true)} per 1,000 tasks; limit ${formatBytes(config.maxHeapGrowthBytes)}), RSS ${formatBytes(growth.rss, true)}`,
    );
  }

  const logged = Object.entries(engine.logged).sort(([, a], [, b]) => b - a);
  if (logged.length > 0) {
    const log = table(['engine log (warn and error)', 'times'], ['left', 'right']);
    for (const [line, times] of logged) log.push([line, formatCount(times)]);
    lines.push('', log.toString());
  }

  for (const [phase, check, mismatches] of [
    ['stream', stream.settlement, stream.bookMismatches],
    ['burst', burst.settlement, burst.bookMismatches],
  ] as const) {
    for (const example of check.examples) lines.push(`${phase}: ${example}`);
    for (const mismatch of mismatches) lines.push(`${phase}: ${mismatch}`);
  }
  lines.push('');
  if (result.failures.length === 0) lines.push('PASS: every handle settled exactly once, the books agree, lost 0, heap flat.');
  else lines.push(`FAIL (${result.failures.length}):`, ...result.failures.map((failure) => `  - ${failure}`));
  return `${lines.join('\n')}\n`;
}
