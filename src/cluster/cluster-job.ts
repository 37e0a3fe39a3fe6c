import { MezanError, type MezanErrorCode } from '../errors';
import { resolveRetryPolicy } from '../internal/retry-policy';
import { expectFiniteNumber, expectKnownKeys, expectNonEmptyString, fail, isOptionsObject } from '../internal/validate';
import { TASK_OPTION_KEYS, type TaskOptions } from '../task-options';
import type { TaskStatus } from '../task-status';
import type { TravellingOutcome } from './cluster-dependencies';
import type { GatePlace } from '../../actors/cluster-gates';

/**
 * What travels with a named task through the cluster's queue, as the BullMQ job's data (JSON):
 * the options the running node applies. The job's name is the task's name. @internal
 */
export interface ClusterJobData {
  /** The task's display name (its `name` option), when it differs from the task's. */
  readonly name?: string;
  readonly input?: unknown;
  readonly meta?: unknown;
  readonly timeoutMs?: number;
  readonly resources?: Readonly<Record<string, number>>;
  /** The retry policy's delays, which the nodes compute as a local engine does (`retryDelay`). */
  readonly retry?: {
    readonly delayMs: number;
    readonly backoff: 'fixed' | 'exponential';
    readonly maxDelayMs: number | null;
    readonly jitter: number;
  };
  /** How its dependencies that had ended when it was submitted ended, for `ctx.dependencies`. */
  readonly dependencies?: readonly TravellingOutcome[];
  /** Its dependencies not ended when it was submitted: the gates its job waits for (a BullMQ flow's children). */
  readonly gates?: readonly GatePlace[];
  /** The node that submitted it. */
  readonly from: string;
  /**
   * Which submission of its id this job is, when the id is the caller's (one the node made is used
   * once: it is its own token): a withdrawn mark names the submission it withdrew, not the id, since
   * a caller may submit an id again once its task was cancelled.
   */
  readonly submission?: string;
}

/** Which submission of its id job `id` (of data `data`) is: what its withdrawn mark holds. @internal */
export function submissionOf(id: string, data: ClusterJobData): string {
  return data.submission ?? id;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A cluster submission, checked: the job to add and what the handle shows. @internal */
export interface ClusterSubmission {
  /** The job id: the caller's `id`, or a fresh one. The task's stable id, `ctx.id` on every attempt. */
  readonly id: string | undefined;
  readonly displayName: string;
  readonly data: ClusterJobData;
  /** BullMQ's priority (1 runs first). */
  readonly priority: number;
  /** BullMQ's attempts: the first and each retry. */
  readonly attempts: number;
  readonly signal: AbortSignal | undefined;
  readonly meta: unknown;
  /** The `dependsOn` option as given: the submitting node resolves it against its own tasks. */
  readonly dependsOn: unknown;
}

/** The options a named task cannot take across the cluster yet, and why. */
const LOCAL_ONLY: ReadonlyArray<readonly [keyof TaskOptions, string]> = Object.freeze([
  ['queueTimeoutMs', 'absent on a cluster task (not supported across nodes yet)'],
  ['group', 'absent on a cluster task (the per-group rate limit is a local engine’s)'],
  ['transfer', 'absent on a cluster task (its input travels as JSON)'],
] as const);

/**
 * mezan's priorities (higher first, any finite number, 0 by default) on BullMQ's (1 first, up to
 * 2^21 − 1, every job given one so that they all share its one ordered set): 0 is BullMQ's 2^20, and
 * each step up is one step nearer 1. Rounded, and clamped to what BullMQ takes (it refuses 2^21).
 * @internal
 */
export function toQueuePriority(priority: number): number {
  return Math.min(Math.max(PRIORITY_ZERO - Math.round(priority), 1), PRIORITY_ZERO * 2 - 1);
}

/**
 * A job's priority in mezan's terms, back from BullMQ's ({@link toQueuePriority}'s inverse, so as
 * rounded and clamped): 0 for a job without one.
 * @internal
 */
export function fromQueuePriority(queuePriority: number | undefined): number {
  return queuePriority === undefined || queuePriority === 0 ? 0 : PRIORITY_ZERO - queuePriority;
}

const PRIORITY_ZERO = 2 ** 20;

/**
 * Checks the options of a cluster submission of task `task` and makes its job.
 * @throws {MezanError} `E_INVALID_OPTION` naming the option: a bad value, a function `retryIf`
 *   (code cannot travel), an option only a local engine has, or an `input`/`meta` JSON cannot carry
 * @internal
 */
export function readClusterSubmission(task: string, options: TaskOptions, from: string): ClusterSubmission {
  if (!isOptionsObject(options)) fail('options', 'an object', options);
  expectKnownKeys('', options, TASK_OPTION_KEYS);
  for (const [option, why] of LOCAL_ONLY) {
    const value = options[option];
    if (value !== undefined) fail(option, why, value);
  }
  const { id, name, priority = 0, timeoutMs, retries, signal, meta, input, resources, dependsOn } = options;
  if (id !== undefined) {
    expectNonEmptyString('id', id);
    // BullMQ takes a whole number as its own job numbering.
    if (/^\d+$/.test(id) || id.includes(':')) fail('id', 'an id that is not a whole number and has no colon (a cluster job id)', id);
  }
  if (name !== undefined) expectNonEmptyString('name', name);
  expectFiniteNumber('priority', priority);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs === Infinity))
    fail('timeoutMs', 'a positive finite number of milliseconds', timeoutMs);
  const policy = resolveRetryPolicy(retries);
  if (policy.retryIf !== undefined) fail('retries.retryIf', 'absent on a cluster task (a function cannot travel to another node)', policy.retryIf);
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('signal', 'an AbortSignal', signal);
  if (resources !== undefined) {
    if (!isOptionsObject(resources)) fail('resources', 'an object of resource names and units', resources);
    for (const [pool, units] of Object.entries(resources)) {
      if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) fail(`resources.${pool}`, 'a positive integer', units);
    }
  }
  // What was checked is what travels: a caller changing its object after `submit` changes nothing.
  const sentInput = asSent('input', input);
  const sentMeta = asSent('meta', meta);
  // Only the options given: every job's data is stored and read back as JSON.
  const data: Mutable<ClusterJobData> = { from };
  if (name !== undefined && name !== task) data.name = name;
  if (sentInput !== undefined) data.input = sentInput;
  if (sentMeta !== undefined) data.meta = sentMeta;
  if (timeoutMs !== undefined) data.timeoutMs = timeoutMs;
  if (resources !== undefined) data.resources = { ...resources };
  if (policy.max > 0) {
    data.retry = {
      delayMs: policy.delayMs,
      backoff: policy.backoff,
      maxDelayMs: policy.maxDelayMs === Infinity ? null : policy.maxDelayMs,
      jitter: policy.jitter,
    };
  }
  return { id, displayName: name ?? task, data, priority: toQueuePriority(priority), attempts: policy.max + 1, signal, meta: sentMeta, dependsOn };
}

/**
 * The value as the node that runs the task gets it: what JSON makes of it now (BullMQ stores a job's
 * data as JSON, a turn later). Refuses a value JSON cannot carry.
 */
function asSent(option: string, value: unknown): unknown {
  // What JSON always carries as itself is not encoded here (BullMQ encodes the job's data again).
  if (value === undefined || value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    fail(option, 'a value JSON can carry (a cluster task’s data travels as JSON)', value);
  }
  if (text === undefined) fail(option, 'a value JSON can carry (a cluster task’s data travels as JSON)', value);
  return JSON.parse(text) as unknown;
}

/** The codes whose failure no retry can mend: the nodes fail the job at once. @internal */
export const FINAL_CODES: ReadonlySet<MezanErrorCode> = new Set<MezanErrorCode>([
  'E_TIMEOUT',
  'E_CANCELLED',
  'E_INVALID_OPTION',
  'E_UNKNOWN_TASK',
  'E_QUEUE_TIMEOUT',
]);

/** What starts the line of a failure's details in a job's `failedReason`. */
const DETAILS_LINE = '\ndetails: ';

/**
 * A failure as a job's `failedReason`: `E_CODE: message`, readable in any BullMQ dashboard, then
 * its `details` as a line of JSON (those JSON can carry; none if it cannot carry them), read back
 * by {@link readFailure} on the submitting node.
 * @internal
 */
export function writeFailure(code: MezanErrorCode, message: string, details?: Readonly<Record<string, unknown>>): string {
  let json: string | undefined;
  if (details !== undefined && Object.keys(details).length > 0) {
    try {
      json = JSON.stringify(details);
    } catch {
      json = undefined;
    }
  }
  return json === undefined ? `${code}: ${message}` : `${code}: ${message}${DETAILS_LINE}${json}`;
}

/** A failure's message and its details, split where {@link writeFailure} joined them. */
function splitDetails(text: string): { readonly message: string; readonly details: Record<string, unknown> } {
  const at = text.lastIndexOf(DETAILS_LINE);
  if (at >= 0) {
    try {
      const details: unknown = JSON.parse(text.slice(at + DETAILS_LINE.length));
      if (typeof details === 'object' && details !== null && !Array.isArray(details))
        return { message: text.slice(0, at), details: details as Record<string, unknown> };
    } catch {
      // Not details after all: part of the message.
    }
  }
  return { message: text, details: {} };
}

/**
 * The `MezanError` (its details as they travelled, `taskId` the cluster's) and the handle's terminal
 * status of a job's `failedReason`. A reason that is not
 * one of mezan's (BullMQ's own, such as a task that lost its lease too often) is `E_WORKER_CRASHED`
 * when its node died, `E_TASK_FAILED` otherwise.
 * @internal
 */
export function readFailure(
  reason: string,
  taskId: string,
): { readonly status: Exclude<TaskStatus, 'waiting' | 'queued' | 'running'>; readonly error: MezanError } {
  const match = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  let code: MezanErrorCode;
  let message: string;
  let details: Record<string, unknown> = {};
  if (match !== null) [code, { message, details }] = [match[1] as MezanErrorCode, splitDetails(match[2]!)];
  else if (/stalled/i.test(reason)) [code, message] = ['E_WORKER_CRASHED', `Task ${taskId} lost its node too many times: ${reason}`];
  else [code, message] = ['E_TASK_FAILED', `Task ${taskId} failed: ${reason}`];
  // The task's id is the cluster's: the one its running node gave its attempt stays there.
  const error = new MezanError(code, message, { details: { ...details, taskId } });
  return { status: STATUS_OF_CODE[code] ?? 'failed', error };
}

const STATUS_OF_CODE: Partial<Record<MezanErrorCode, 'timeout' | 'cancelled' | 'deadlock'>> = {
  E_TIMEOUT: 'timeout',
  E_QUEUE_TIMEOUT: 'timeout',
  E_CANCELLED: 'cancelled',
  E_DEADLOCK: 'deadlock',
};
