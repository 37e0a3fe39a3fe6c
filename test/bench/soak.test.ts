import { DEFAULT_SOAK_SEED, parseSoakArgs, SOAK_FULL, SOAK_QUICK } from '../../bench/soak-config';
import { pickKind, pickPositions, SOAK_MIX, type SoakTaskKind } from '../../bench/soak-mix';
import {
  checkShutdownReport,
  emptyStatusCounts,
  judgeSoak,
  memoryGrowth,
  type SettlementCheck,
  type SoakMemorySample,
  type SoakResult,
  type SoakShutdownReport,
} from '../../bench/soak-verdict';
import { seededRandom } from '../../src/random';

const MIB = 1024 * 1024;

describe('parseSoakArgs', () => {
  it('defaults to the full sizes, tables and the default seed', () => {
    const config = parseSoakArgs([]);
    expect(config).toMatchObject({ quick: false, json: false, seed: DEFAULT_SOAK_SEED, tasks: 1_000_000, burst: 50_000 });
    expect(config.tasks).toBe(SOAK_FULL.tasks);
  });

  it('reads --quick, --json and --seed in either form', () => {
    expect(parseSoakArgs(['--quick', '--json'])).toMatchObject({ quick: true, json: true, tasks: SOAK_QUICK.tasks });
    expect(parseSoakArgs(['--seed', '42']).seed).toBe(42);
    expect(parseSoakArgs(['--seed=-3']).seed).toBe(-3);
  });

  it('refuses an unknown flag or a seed that is not an integer', () => {
    expect(() => parseSoakArgs(['--fast'])).toThrow(/Unknown option `--fast`/);
    expect(() => parseSoakArgs(['--seed'])).toThrow(/--seed needs an integer/);
    expect(() => parseSoakArgs(['--seed=1.5'])).toThrow(/--seed needs an integer/);
  });
});

describe('pickKind', () => {
  it('has weights that add up to 1000 per mille', () => {
    expect(Object.values(SOAK_MIX).reduce((sum, weight) => sum + weight, 0)).toBe(1000);
  });

  it('replays the same kinds from the same seed', () => {
    const draw = (seed: number): SoakTaskKind[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 200 }, () => pickKind(random));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('draws each kind about as often as its weight says', () => {
    const random = seededRandom(1);
    const draws = 200_000;
    const counts = new Map<SoakTaskKind, number>();
    for (let i = 0; i < draws; i++) {
      const kind = pickKind(random);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    for (const [kind, weight] of Object.entries(SOAK_MIX) as Array<[SoakTaskKind, number]>) {
      expect(Math.abs((counts.get(kind) ?? 0) / draws - weight / 1000)).toBeLessThan(0.005);
    }
  });

  it('maps the ends of [0, 1) to the first and the last kind', () => {
    expect(pickKind(() => 0)).toBe('sync');
    expect(pickKind(() => 0.999_999_999)).toBe('timeout');
  });
});

describe('pickPositions', () => {
  it('draws distinct sorted positions inside the range', () => {
    const positions = pickPositions(seededRandom(3), 100, 10);
    expect(positions).toHaveLength(10);
    expect(new Set(positions).size).toBe(10);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const position of positions) expect(position >= 0 && position < 100).toBe(true);
  });

  it('gives at most `size` positions, and none for a count of 0', () => {
    expect(pickPositions(seededRandom(3), 4, 10)).toEqual([0, 1, 2, 3]);
    expect(pickPositions(seededRandom(3), 4, 0)).toEqual([]);
  });
});

const sample = (tasks: number, heapUsed: number, rss = 100 * MIB): SoakMemorySample => ({
  tasks,
  atMs: tasks / 100,
  rss,
  heapUsed,
  heapTotal: 2 * heapUsed,
  external: 0,
});

describe('memoryGrowth', () => {
  it('measures from the first sample (the end of the warm-up) to the last', () => {
    const growth = memoryGrowth([sample(100_000, 10 * MIB, 100 * MIB), sample(200_000, 30 * MIB), sample(1_000_000, 11 * MIB, 120 * MIB)]);
    expect(growth).toEqual({
      fromTasks: 100_000,
      toTasks: 1_000_000,
      rss: 20 * MIB,
      heapUsed: MIB,
      heapPerThousandTasks: (MIB / 900_000) * 1000,
    });
  });

  it('is undefined with fewer than two samples', () => {
    expect(memoryGrowth([])).toBeUndefined();
    expect(memoryGrowth([sample(100_000, MIB)])).toBeUndefined();
  });
});

const cleanReport = (): SoakShutdownReport => ({
  submitted: 10,
  completed: 5,
  failed: 1,
  cancelled: 2,
  timedOut: 1,
  deadlocked: 0,
  rejected: 1,
  lost: 0,
  abandoned: ['stubborn-1'],
  durationMs: 100,
  phases: [],
});

const handlesOf = (report: SoakShutdownReport) => ({
  ...emptyStatusCounts(),
  completed: report.completed,
  failed: report.failed,
  cancelled: report.cancelled,
  timeout: report.timedOut,
  deadlock: report.deadlocked,
  rejected: report.rejected,
});

describe('checkShutdownReport', () => {
  it('finds nothing when the report, the handles and the submissions agree', () => {
    const report = cleanReport();
    expect(checkShutdownReport(report, handlesOf(report), 10)).toEqual([]);
  });

  it('names lost tasks, counts that do not add up, and disagreements with the handles', () => {
    const report = { ...cleanReport(), lost: 1, completed: 4 };
    const handles = { ...handlesOf(cleanReport()) };
    expect(checkShutdownReport(report, handles, 11)).toEqual([
      'report.lost is 1, not 0',
      "the report's statuses add up to 9, but it counts 10 submitted",
      'the report counts 10 submitted, the soak submitted 11',
      'the report counts 4 completed, the handles 5',
    ]);
  });
});

describe('judgeSoak', () => {
  const settlement = (byStatus: SettlementCheck['byStatus'], overrides: Partial<SettlementCheck> = {}): SettlementCheck => {
    const handles = Object.values(byStatus).reduce((sum, count) => sum + count, 0);
    return { handles, settledOnce: handles, neverSettled: 0, settledTwice: 0, inconsistent: 0, byStatus, byCode: {}, examples: [], ...overrides };
  };
  const passing = (): Omit<SoakResult, 'failures'> => {
    const report = cleanReport();
    const config = parseSoakArgs(['--quick']);
    return {
      config,
      environment: { node: 'v20', platform: 'linux-x64', cpu: 'cpu', cpus: 2 },
      stream: {
        tasks: 6,
        children: 0,
        chunks: 1,
        wallMs: 1,
        tasksPerSecond: 6000,
        firstTenthTasksPerSecond: 6000,
        lastTenthTasksPerSecond: 6000,
        slowestChunkMs: 1,
        settlement: settlement({ ...emptyStatusCounts(), completed: 4, failed: 1, timeout: 1 }),
        bookMismatches: [],
      },
      burst: {
        tasks: 3,
        children: 0,
        submittedAfterShutdown: 1,
        stubborn: ['stubborn-1'],
        shutdownMs: 5,
        settlement: settlement({ ...emptyStatusCounts(), completed: 1, cancelled: 2, rejected: 1 }),
        bookMismatches: [],
        report,
      },
      engine: {
        deadlocksDetected: 1,
        deadlocksResolved: 1,
        resolvedByVictim: 1,
        resolvedByCompensation: 0,
        deadlockPairs: 1,
        pairBarrierTimeouts: 0,
        crashesInjected: 1,
        crashes: 1,
        restarts: 1,
        escalations: 0,
        retries: 3,
        cancelCalls: 2,
        cancelsAccepted: 2,
        logged: {},
      },
      memory: {
        baseline: sample(0, MIB),
        samples: [sample(10_000, 10 * MIB), sample(100_000, 12 * MIB)],
        growth: memoryGrowth([sample(10_000, 10 * MIB), sample(100_000, 12 * MIB)]),
      },
      stall: null,
      totalMs: 10,
    };
  };

  it('passes a soak where everything settled once and added up', () => {
    expect(judgeSoak(passing(), 10)).toEqual([]);
  });

  it('fails on a handle that never settled, a book mismatch, heap growth, an escalation and a stranger abandoned', () => {
    const result = passing();
    const failing: Omit<SoakResult, 'failures'> = {
      ...result,
      stream: {
        ...result.stream,
        settlement: { ...result.stream.settlement, settledOnce: result.stream.settlement.handles - 1, neverSettled: 1 },
        bookMismatches: ['chunk 3: completed: engine 9, handles 10'],
      },
      burst: { ...result.burst, report: { ...result.burst.report!, abandoned: ['stubborn-1', 'task-7'] } },
      engine: { ...result.engine, escalations: 1 },
      memory: { ...result.memory, growth: { fromTasks: 10_000, toTasks: 100_000, rss: 0, heapUsed: 51 * MIB, heapPerThousandTasks: 0 } },
    };
    const failures = judgeSoak(failing, 10);
    expect(failures).toEqual([
      'stream: 1 of 6 handles never settled',
      'stream: 5 of 6 handles settled exactly once',
      'stream: chunk 3: completed: engine 9, handles 10',
      'shutdown: abandoned tasks that respect their signal: task-7',
      'the engine escalated 1 times (supervision limits exceeded)',
      `heapUsed grew by ${51 * MIB} bytes from 10000 to 100000 tasks (limit ${50 * MIB})`,
    ]);
  });

  it('fails when a task deaf to its signal was not reported abandoned', () => {
    const result = passing();
    const failures = judgeSoak({ ...result, burst: { ...result.burst, report: { ...result.burst.report!, abandoned: [] } } }, 10);
    expect(failures).toEqual(['shutdown: tasks deaf to their signal, not reported abandoned: stubborn-1']);
  });

  it('fails when the shutdown never resolved or a chunk stalled', () => {
    const result = passing();
    const failures = judgeSoak({ ...result, stall: 'chunk 7 did not settle', burst: { ...result.burst, report: undefined } }, 10);
    expect(failures).toEqual(['stalled: chunk 7 did not settle', 'the shutdown never resolved']);
  });
});
