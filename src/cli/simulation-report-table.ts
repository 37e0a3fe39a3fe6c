import Table from 'cli-table3';
import type { SimulationReport } from '../simulation/simulate';
import type { TerminalTaskStatus } from '../task-status';

/** Options of {@link renderSimulationReport} and {@link renderSeedSweep}. */
export interface SimulationTableOptions {
  /** Colours the headings (for a terminal). @default false */
  color?: boolean;
  /** How many deadlocks are listed one by one; the rest are counted. @default 10 */
  maxDeadlocks?: number;
}

/** One seed of a sweep, as {@link renderSeedSweep} lists it. */
export interface SeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  /** The expectations that did not hold. */
  readonly failed: ReadonlyArray<{ readonly name: string; readonly expected: string; readonly actual: number }>;
  /** Set when the run itself threw. */
  readonly error?: string;
  readonly traceHash?: string;
}

const STATUSES: readonly TerminalTaskStatus[] = ['completed', 'failed', 'timeout', 'cancelled', 'deadlock', 'rejected'];
const MAX_CYCLE_ITEMS = 9;

/**
 * Renders a simulation report as text tables: the run, outcomes by status, error codes, the agents
 * and their asks (when the scenario has agents), deadlocks (cycle, resolution, victim), the
 * shutdown, and each expectation with its verdict.
 *
 * @param report - what `simulate` returned
 * @param options - see {@link SimulationTableOptions}
 * @returns the tables separated by blank lines, then a verdict line; no trailing newline
 * @example
 * ```ts
 * process.stdout.write(`${renderSimulationReport(await simulate(scenario, { seed: 7 }))}\n`);
 * ```
 */
export function renderSimulationReport(report: SimulationReport, options: SimulationTableOptions = {}): string {
  const style = styleOf(options);
  const maxDeadlocks = options.maxDeadlocks ?? 10;
  const parts: string[] = [];

  const run = new Table({ head: ['simulation', ''], colAligns: ['left', 'right'], style });
  run.push(
    ['scenario', report.scenario],
    ['seed', report.seed],
    ['makespan', `${report.makespanMs} ms`],
    ['max queue depth', report.maxQueueDepth],
    ['deadlocks', report.deadlocks.length],
    ['worker crashes / restarts', `${report.incidents.workerCrashes} / ${report.incidents.workerRestarts}`],
    ['retries', report.incidents.retries],
    ['lock-order violations', report.incidents.lockOrderViolations],
    ['escalations', report.incidents.escalations],
    ['events', report.events],
    ['trace sha256', report.traceHash],
  );
  parts.push(run.toString());

  const submitted = report.shutdown.submitted;
  const outcomes = new Table({ head: ['status', 'tasks', 'share'], colAligns: ['left', 'right', 'right'], style });
  for (const status of STATUSES) outcomes.push([status, report.byStatus[status], percent(report.byStatus[status], submitted)]);
  outcomes.push(['lost', report.shutdown.lost, percent(report.shutdown.lost, submitted)]);
  outcomes.push(['submitted', submitted, '']);
  parts.push(outcomes.toString());

  const codes = Object.entries(report.byCode).sort(([a], [b]) => a.localeCompare(b));
  if (codes.length > 0) {
    const table = new Table({ head: ['error code', 'tasks'], colAligns: ['left', 'right'], style });
    for (const [code, count] of codes) table.push([code, count]);
    parts.push(table.toString());
  }

  // Only for a scenario with agents: the tables of every other scenario stay as they were.
  const agents = Object.entries(report.agents ?? {});
  if (agents.length > 0) {
    const table = new Table({
      head: ['agent', 'received', 'handled', 'failed', 'dropped', 'restarts', 'max mailbox', 'mean'],
      colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      style,
    });
    for (const [name, stats] of agents) {
      table.push([
        name,
        stats.received,
        stats.handled,
        stats.failed,
        stats.dropped,
        stats.restarts,
        stats.maxMailboxDepth,
        `${Math.round(stats.meanMs * 10) / 10} ms`,
      ]);
    }
    parts.push(table.toString());
    const asks = new Table({ head: ['asks', 'count'], colAligns: ['left', 'right'], style });
    asks.push(['replied', report.asks.replied], ['failed', report.asks.failed]);
    for (const [code, count] of Object.entries(report.asks.byCode).sort(([a], [b]) => a.localeCompare(b))) asks.push([`  ${code}`, count]);
    parts.push(asks.toString());
  }

  if (report.deadlocks.length > 0) {
    const table = new Table({
      head: ['deadlock', 'at', 'resolution', 'victim', 'tasks', 'cycle'],
      colAligns: ['right', 'right', 'left', 'left', 'right', 'left'],
      style,
    });
    for (const [index, deadlock] of report.deadlocks.slice(0, maxDeadlocks).entries()) {
      table.push([
        index + 1,
        `${deadlock.at} ms`,
        deadlock.resolution ?? 'detected only',
        deadlock.victim ?? '-',
        deadlock.deadlocked.length,
        formatCycle(deadlock.cycle),
      ]);
    }
    const rest = report.deadlocks.length - maxDeadlocks;
    if (rest > 0) table.push([{ colSpan: 6, content: `… and ${rest} more` }]);
    parts.push(table.toString());
  }

  const shutdown = new Table({ head: ['shutdown', 'at', 'cause'], colAligns: ['left', 'right', 'left'], style });
  for (const phase of report.shutdown.phases) shutdown.push([phase.phase, `${phase.at} ms`, phase.cause]);
  shutdown.push(['took', `${report.shutdown.durationMs} ms`, '']);
  parts.push(shutdown.toString());

  if (report.expectations.length > 0) {
    const table = new Table({ head: ['expectation', 'expected', 'actual', 'ok'], colAligns: ['left', 'left', 'right', 'left'], style });
    for (const expectation of report.expectations) {
      table.push([expectation.name, expectation.expected, expectation.actual, expectation.ok ? 'ok' : 'FAILED']);
    }
    parts.push(table.toString());
  }

  parts.push(verdictOf(report));
  return parts.join('\n\n');
}

/**
 * Renders a seed sweep: one row per failing seed with what did not hold, then a summary line that
 * names the failing seeds and how to rerun one alone.
 *
 * @param outcomes - one per seed, in order
 * @param rerun - the command that reruns one seed, with `{seed}` where the seed goes
 * @param options - see {@link SimulationTableOptions}
 * @returns the table (when a seed failed) and the summary; no trailing newline
 */
export function renderSeedSweep(outcomes: readonly SeedOutcome[], rerun: string, options: SimulationTableOptions = {}): string {
  const failing = outcomes.filter((outcome) => !outcome.ok);
  const first = outcomes[0]?.seed;
  const last = outcomes[outcomes.length - 1]?.seed;
  const range = first === undefined ? 'no seeds' : first === last ? `seed ${first}` : `seeds ${first}..${last}`;
  if (failing.length === 0) return `ok: every expectation holds for all ${outcomes.length} runs (${range})`;
  const table = new Table({
    head: ['seed', 'expectation', 'expected', 'actual'],
    colAligns: ['right', 'left', 'left', 'right'],
    style: styleOf(options),
  });
  for (const outcome of failing) {
    if (outcome.error !== undefined) table.push([outcome.seed, { colSpan: 3, content: `error: ${outcome.error}` }]);
    for (const expectation of outcome.failed) table.push([outcome.seed, expectation.name, expectation.expected, expectation.actual]);
  }
  const seeds = failing.map((outcome) => outcome.seed).join(', ');
  return [
    table.toString(),
    `FAILED: ${failing.length} of ${outcomes.length} runs (${range}) broke an expectation; failing seeds: ${seeds}`,
    `rerun one alone: ${rerun.replace('{seed}', String(failing[0]!.seed))}`,
  ].join('\n\n');
}

function verdictOf(report: SimulationReport): string {
  const total = report.expectations.length;
  if (total === 0) return 'ok: the scenario has no expectations';
  const failed = report.expectations.filter((expectation) => !expectation.ok).length;
  return failed === 0 ? `ok: all ${total} expectations hold` : `FAILED: ${failed} of ${total} expectations do not hold`;
}

function styleOf(options: SimulationTableOptions): { head: string[]; border: string[]; compact: boolean } {
  return { head: options.color === true ? ['cyan'] : [], border: [], compact: true };
}

/** `p5 → fork-1 → p1 → …`, cut short past nine entries. */
function formatCycle(cycle: readonly string[]): string {
  if (cycle.length <= MAX_CYCLE_ITEMS) return cycle.join(' → ');
  return `${cycle.slice(0, MAX_CYCLE_ITEMS - 1).join(' → ')} → … (${cycle.length} in all)`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((part / whole) * 100).toFixed(1)}%`;
}
