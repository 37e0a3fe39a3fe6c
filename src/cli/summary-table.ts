import Table from 'cli-table3';
import type { TerminalTaskStatus } from '../task-status';
import type { DemoSummary } from './demo-command';

/** Options of {@link renderSummaryTable}. */
export interface SummaryTableOptions {
  /** Colours the headings (for a terminal). @default false */
  color?: boolean;
}

/**
 * Renders a demo run as text tables: the workload's mix, outcomes by terminal status, the run's
 * rates, the worker's statistics (its slots and attempts: one row for `main`, which runs
 * `concurrency` tasks at once), the shutdown report and, when measured, the thread speedup (the same
 * CPU-bound tasks on the main thread and on worker threads).
 *
 * @param summary - what `runDemo` returned
 * @param options - see {@link SummaryTableOptions}
 * @returns the tables, separated by blank lines, without a trailing newline
 * @example
 * ```ts
 * process.stdout.write(`${renderSummaryTable(await runDemo({}, io))}\n`);
 * ```
 */
export function renderSummaryTable(summary: DemoSummary, options: SummaryTableOptions = {}): string {
  const style = { head: options.color === true ? ['cyan'] : [], border: [] as string[], compact: true };
  const { mix, report, stats } = summary;

  const workload = new Table({ head: ['workload', 'tasks'], colAligns: ['left', 'right'], style });
  workload.push(
    ['steady', mix.steady],
    ['flaky (retried, exponential backoff)', mix.flaky],
    ['with a deadline', mix.deadline],
    ['cancelled by the operator once queued', mix.cancelQueued],
    ['cancelled by the operator once started', mix.cancelRunning],
    [`steps of ${mix.chains} dependency chains`, mix.chained],
  );

  const outcomes = new Table({ head: ['status', 'tasks', 'share'], colAligns: ['left', 'right', 'right'], style });
  for (const status of Object.keys(summary.byStatus) as TerminalTaskStatus[]) {
    outcomes.push([status, summary.byStatus[status], percent(summary.byStatus[status], summary.submitted)]);
  }
  outcomes.push(['total', summary.submitted, percent(summary.submitted, summary.submitted)]);

  const run = new Table({ head: ['run', ''], colAligns: ['left', 'right'], style });
  run.push(
    ['concurrency', summary.concurrency],
    ['seed', summary.seed],
    ['success rate', `${(summary.successRate * 100).toFixed(1)}%`],
    ['throughput', `${summary.throughput.toFixed(0)} tasks/s`],
    ['elapsed', formatMs(summary.elapsedMs)],
    ['retries', summary.retries],
    ['cancelled before starting', summary.cancelledBeforeStart],
    ['cancelled while running', summary.cancelledWhileRunning],
    ['failed by a dependency', summary.dependencyFailures],
  );

  const workers = new Table({
    // A worker counts attempts, not tasks: a task retried three times failed three attempts.
    // `busy` adds up the run times of the functions, so with several slots it can exceed the elapsed time.
    head: ['worker', 'slots', 'attempts', 'completed', 'failed', 'cancelled', 'busy', 'avg run'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style,
  });
  for (const worker of stats.workers) {
    workers.push([
      worker.id,
      worker.slots,
      worker.attempts,
      worker.tasksCompleted,
      worker.tasksFailed,
      worker.tasksCancelled,
      formatMs(worker.busyMs),
      formatMs(worker.attempts === 0 ? 0 : worker.busyMs / worker.attempts),
    ]);
  }
  const { totals } = stats;
  workers.push([
    'all',
    stats.workers.reduce((sum, worker) => sum + worker.slots, 0),
    totals.attempts,
    totals.tasksCompleted,
    totals.tasksFailed,
    totals.tasksCancelled,
    formatMs(totals.busyMs),
    formatMs(stats.avgRunMs),
  ]);

  const shutdown = new Table({
    head: ['shutdown', 'submitted', 'completed', 'failed', 'timeout', 'cancelled', 'deadlock', 'rejected', 'lost', 'took'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style,
  });
  shutdown.push([
    'report',
    report.submitted,
    report.completed,
    report.failed,
    report.timedOut,
    report.cancelled,
    report.deadlocked,
    report.rejected,
    report.lost,
    formatMs(report.durationMs),
  ]);

  const tables = [workload, outcomes, run, workers, shutdown];
  const speedup = summary.threadSpeedup;
  if (speedup !== undefined) {
    const threads = new Table({ head: ['worker threads', ''], colAligns: ['left', 'right'], style });
    threads.push(
      [`CPU tasks (${speedup.rounds} × SHA-256 of 1 MB each)`, speedup.tasks],
      ['on the main thread', formatMs(speedup.mainThreadMs)],
      [`on ${speedup.threads} thread${speedup.threads === 1 ? '' : 's'}`, formatMs(speedup.threadsMs)],
      ['speedup', `${speedup.speedup.toFixed(2)}×`],
    );
    tables.push(threads);
  }
  return tables.map((table) => table.toString()).join('\n\n');
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((part / whole) * 100).toFixed(1)}%`;
}

function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
}
