import { describeThrown } from './describe-thrown';
import { MezanError } from '../errors';
import type { RandomSource } from '../random';
import { NO_RETRIES, RETRY_OPTION_KEYS, type ResolvedRetryPolicy, type RetryOptions } from '../task-options';
import { expectFunction, expectKnownKeys, expectNonNegativeInteger, expectNonNegativeNumber, expectOneOf, fail, orDefault } from './validate';
import { containRandom } from '../agents/bandit/contained-random';

/**
 * Validates the `retries` option and fills in its defaults.
 * @throws {MezanError} `E_INVALID_OPTION` naming the field and the value received
 * @internal
 */
export function resolveRetryPolicy(retries: number | RetryOptions | undefined, option = 'retries'): ResolvedRetryPolicy {
  if (retries === undefined) return NO_RETRIES;
  if (typeof retries === 'number') {
    expectNonNegativeInteger(option, retries);
    return retries === 0 ? NO_RETRIES : Object.freeze({ ...NO_RETRIES, max: retries });
  }
  if (typeof retries !== 'object' || retries === null || Array.isArray(retries))
    fail(option, 'a non-negative integer or a retry options object', retries);
  expectKnownKeys(option, retries, RETRY_OPTION_KEYS);
  const max = orDefault(retries.max, NO_RETRIES.max);
  expectNonNegativeInteger(`${option}.max`, max);
  const delayMs = orDefault(retries.delayMs, NO_RETRIES.delayMs);
  expectNonNegativeNumber(`${option}.delayMs`, delayMs);
  const maxDelayMs = orDefault(retries.maxDelayMs, NO_RETRIES.maxDelayMs);
  if (typeof maxDelayMs !== 'number' || Number.isNaN(maxDelayMs) || maxDelayMs < 0) {
    fail(`${option}.maxDelayMs`, 'a non-negative number', maxDelayMs);
  }
  const backoff = orDefault(retries.backoff, NO_RETRIES.backoff);
  expectOneOf(`${option}.backoff`, backoff, ['fixed', 'exponential'] as const);
  const jitter = resolveJitter(retries.jitter, `${option}.jitter`);
  const { retryIf } = retries;
  if (retryIf !== undefined) expectFunction(`${option}.retryIf`, retryIf);
  const last = lastPolicy;
  if (
    last.max === max &&
    last.delayMs === delayMs &&
    last.backoff === backoff &&
    last.maxDelayMs === maxDelayMs &&
    last.jitter === jitter &&
    last.retryIf === retryIf
  )
    return last;
  lastPolicy = Object.freeze({ max, delayMs, backoff, maxDelayMs, jitter, retryIf });
  return lastPolicy;
}

// Policies are frozen values: tasks submitted with equal retry options (a scenario's generated
// tasks, a loop of submits) share the last one made rather than each keep its own in a deep queue.
let lastPolicy: ResolvedRetryPolicy = NO_RETRIES;

function resolveJitter(jitter: boolean | number | undefined, option: string): number {
  if (jitter === undefined || jitter === false) return 0;
  if (jitter === true) return 1;
  if (typeof jitter !== 'number' || !(jitter > 0 && jitter <= 1)) fail(option, 'a boolean or a number in (0, 1]', jitter);
  return jitter;
}

/**
 * Whether a failed attempt earns another one under `policy`.
 * @param failedAttempt - the attempt that just failed, starting at 1
 * @internal
 */
export function shouldRetry(policy: ResolvedRetryPolicy, error: unknown, failedAttempt: number): boolean {
  if (failedAttempt > policy.max) return false;
  return policy.retryIf === undefined || policy.retryIf(error, failedAttempt) === true;
}

/**
 * The delay before the attempt after `failedAttempt`: `delayMs`, doubled per earlier retry under
 * exponential backoff, capped at `maxDelayMs`, then jittered.
 * @internal
 */
export function retryDelay(policy: ResolvedRetryPolicy, failedAttempt: number, random: RandomSource): number {
  const growth = policy.backoff === 'exponential' ? 2 ** (failedAttempt - 1) : 1;
  const delay = Math.min(policy.delayMs * growth, policy.maxDelayMs);
  if (policy.jitter === 0 || delay === 0) return delay;
  // The random source is user code: a draw that throws, or gives a value out of [0, 1) after the
  // checked draws of the engine's start, counts as 0 (no jitter) rather than a failure.
  return delay * (1 - policy.jitter * containRandom(random)());
}

/** Wraps what a task function threw into the `E_TASK_FAILED` its caller receives. @internal */
export function taskFailedError(taskId: string, name: string, attempts: number, cause: unknown): MezanError {
  const reason = describeThrown(cause);
  return new MezanError('E_TASK_FAILED', `Task "${name}" failed after ${attempts} attempt(s): ${reason}`, {
    cause,
    details: { taskId, attempts },
  });
}
