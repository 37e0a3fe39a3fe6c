import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EngineProgress } from '../engine-snapshots';
import { MezanError } from '../errors';
import { parseScenario } from '../simulation/load-scenario';
import type { Scenario } from '../simulation/scenario';
import { simulate, type SimulationReport } from '../simulation/simulate';

/** Options of {@link replayTrace}. */
export interface ReplayOptions {
  /** Keeps the rerun's trace in this file (for a diff); otherwise it goes to a temporary file. */
  trace?: string;
  /** Passed on to `simulate`. */
  onProgress?: (progress: EngineProgress) => void;
  /** Passed on to `simulate`: the most top-level tasks the scenario may make. */
  maxTasks?: number;
}

/** Where a replayed trace first departs from the recorded one. */
export interface TraceDifference {
  /** 1-based line number. */
  readonly line: number;
  /** The recorded line, `undefined` past the end of the file. */
  readonly recorded: string | undefined;
  /** The rerun's line, `undefined` past the end of its trace. */
  readonly replayed: string | undefined;
}

/** What {@link replayTrace} found. */
export interface ReplayResult {
  /** The trace file replayed. */
  readonly file: string;
  /** The seed read from its header. */
  readonly seed: number;
  /** The scenario read from its header. */
  readonly scenario: Scenario;
  /** `true` when the rerun's trace hash equals the recorded file's. */
  readonly ok: boolean;
  /** SHA-256 of the recorded file's bytes. */
  readonly recordedHash: string;
  /** SHA-256 of the rerun's trace. */
  readonly replayedHash: string;
  /** The first line that differs, when the hashes do. */
  readonly difference: TraceDifference | undefined;
  /** The rerun's report. */
  readonly report: SimulationReport;
}

const CHUNK = 1 << 16;

/**
 * Reruns the scenario and seed a trace's header (its first line, `simulation.start`) records, and
 * compares the rerun's trace hash with the SHA-256 of the file's bytes.
 *
 * @param file - a trace written by `simulate(…, { trace })`
 * @param options - see {@link ReplayOptions}
 * @returns the verdict, both hashes and, on a mismatch, the first differing line
 * @throws {MezanError} `E_INVALID_OPTION` when the file cannot be read or is not a trace;
 *   `E_INVALID_SCENARIO` when its header's scenario is not a valid scenario
 * @example
 * ```ts
 * const { ok, difference } = await replayTrace('out.jsonl');
 * ```
 */
export async function replayTrace(file: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const { header, hash: recordedHash } = readTrace(file);
  const { seed, scenario, maxVirtualMs } = parseHeader(file, header);
  const scratch = options.trace === undefined ? mkdtempSync(path.join(tmpdir(), 'mezan-replay-')) : undefined;
  const rerunTrace = options.trace ?? path.join(scratch!, 'replay.jsonl');
  try {
    // The header's scenario, as read, is what the recorded run serialized: running it as is gives the same header line.
    const report = await simulate(scenario, { seed, maxVirtualMs, trace: rerunTrace, onProgress: options.onProgress, maxTasks: options.maxTasks });
    const ok = report.traceHash === recordedHash;
    return {
      file,
      seed,
      scenario,
      ok,
      recordedHash,
      replayedHash: report.traceHash,
      difference: ok ? undefined : firstDifference(file, rerunTrace),
      report,
    };
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Hashes the file's bytes and keeps its first line. */
function readTrace(file: string): { header: string; hash: string } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw notATrace(file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headerDone = false;
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let read = readSync(fd, buffer, 0, CHUNK, null); read > 0; read = readSync(fd, buffer, 0, CHUNK, null)) {
      const chunk = buffer.subarray(0, read);
      hash.update(chunk);
      if (!headerDone) {
        const newline = chunk.indexOf(0x0a);
        head.push(Buffer.from(newline < 0 ? chunk : chunk.subarray(0, newline)));
        headerDone = newline >= 0;
      }
    }
  } catch (error) {
    throw notATrace(file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  } finally {
    closeSync(fd);
  }
  return { header: Buffer.concat(head).toString('utf8'), hash: hash.digest('hex') };
}

/** Checks the header line and returns its seed and scenario (validated). */
function parseHeader(file: string, header: string): { seed: number; scenario: Scenario; maxVirtualMs: number | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    throw notATrace(file, 'its first line is not JSON');
  }
  const record = (parsed ?? {}) as { type?: unknown; seed?: unknown; scenario?: unknown; maxVirtualMs?: unknown };
  if (typeof parsed !== 'object' || parsed === null || record.type !== 'simulation.start')
    throw notATrace(file, 'its first line is not a "simulation.start" header');
  if (typeof record.seed !== 'number' || !Number.isSafeInteger(record.seed)) throw notATrace(file, 'its header has no integer "seed"');
  if (typeof record.scenario !== 'object' || record.scenario === null || Array.isArray(record.scenario))
    throw notATrace(file, 'its header has no "scenario" object');
  const scenario = record.scenario as Scenario;
  // Validated like a file (the header could have been edited), but run as read: see replayTrace.
  const { file: origin, ...rest } = scenario;
  try {
    parseScenario(JSON.stringify(rest), `${file} (header scenario)`);
  } catch (error) {
    if (error instanceof MezanError) {
      const reason = String((error.details as { reason?: unknown } | undefined)?.reason ?? error.message);
      const at = String((error.details as { path?: unknown } | undefined)?.path ?? '');
      throw new MezanError(
        'E_INVALID_SCENARIO',
        `${file}:1: the header's scenario${origin === undefined ? '' : ` (from ${origin})`} is invalid: ${at === '' ? '' : `${at}: `}${reason}`,
        {
          cause: error,
          details: { file, line: 1, path: at, reason },
        },
      );
    }
    throw error;
  }
  return { seed: record.seed, scenario, maxVirtualMs: typeof record.maxVirtualMs === 'number' ? record.maxVirtualMs : undefined };
}

function notATrace(file: string, reason: string, cause?: unknown): MezanError {
  return new MezanError('E_INVALID_OPTION', `${file}: not a simulation trace: ${reason}`, {
    cause,
    details: { option: 'replay', file, reason },
  });
}

/** The first line where the two files differ (they are known to differ). */
function firstDifference(recordedFile: string, replayedFile: string): TraceDifference {
  const recorded = readFileSync(recordedFile, 'utf8');
  const replayed = readFileSync(replayedFile, 'utf8');
  let line = 1;
  let a = 0;
  let b = 0;
  for (;;) {
    const endA = lineEnd(recorded, a);
    const endB = lineEnd(replayed, b);
    const lineA = a < recorded.length ? recorded.slice(a, endA) : undefined;
    const lineB = b < replayed.length ? replayed.slice(b, endB) : undefined;
    // A last line without its newline differs from one with it, though they read the same.
    const sameEnding = endA < recorded.length === endB < replayed.length;
    if (lineA !== lineB || !sameEnding || (lineA === undefined && lineB === undefined)) return { line, recorded: lineA, replayed: lineB };
    a = endA + 1;
    b = endB + 1;
    line++;
  }
}

function lineEnd(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end < 0 ? text.length : end;
}
