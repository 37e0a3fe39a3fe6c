import { MezanError } from '../../errors';
import { describeThrown } from '../../internal/describe-thrown';
import { describeValue } from '../../internal/validate';

/** How one ask routed to an arm ended, as a router's `reward` function receives it. */
export interface RouterOutcome<Value = unknown> {
  /** `true` when the arm replied, `false` when it failed or timed out. */
  readonly ok: boolean;
  /** The reply, when `ok`. */
  readonly value?: Value;
  /** Why the ask failed, when not `ok` (a `MezanError` such as `E_TIMEOUT` or `E_AGENT_FAILED`). */
  readonly error?: unknown;
  /** How long the ask took, in the engine clock's milliseconds. */
  readonly durationMs: number;
}

/** A function that scores an outcome with a reward in [0, 1], higher for better. */
export type RewardFunction<Value = unknown> = (outcome: RouterOutcome<Value>) => number;

/** A reward as a bandit records it, and what was wrong with the one the reward function gave, if anything. */
export interface ContainedReward {
  /** The reward to record, always a number in [0, 1]. */
  readonly reward: number;
  /**
   * `E_INVALID_OPTION` (option `reward`) when the function threw (the thrown value is its `cause`) or
   * gave something other than a number in [0, 1] (in `details.received`); `undefined` when it was fine.
   * The router hands it on to be seen (it never throws it).
   */
  readonly problem: MezanError | undefined;
}

/**
 * The default reward of a router: 1 for a reply, 0 for an error or a timeout.
 *
 * @param outcome - how the ask ended
 * @returns 1 or 0
 */
export function defaultReward(outcome: RouterOutcome): number {
  return outcome.ok === true ? 1 : 0;
}

/**
 * Scores `outcome` with the user's `reward` function, whatever it does: the router must never fail
 * because of it, and the bandit must only ever see a reward in [0, 1].
 *
 * - A number above 1 counts as 1 and one below 0 as 0 (clamped, infinities too): the function still
 *   ranked the outcome, and clamping keeps its order at the ends, as when a score such as
 *   `1 - durationMs / budgetMs` runs past the budget.
 * - A throw, `NaN` or anything not a number counts as 0 (a promise too: the reward is needed at
 *   once, and a rejection of that promise is caught, never left unhandled): the function said nothing about the arm, and
 *   0 is what an error earns, so a scorer that breaks on some arm's replies never makes that arm look
 *   better than one it can score.
 *
 * @param reward - the user's reward function
 * @param outcome - how the ask ended
 * @returns the reward to record and, when it was contained, the problem to report
 */
export function containReward<Value>(reward: RewardFunction<Value>, outcome: RouterOutcome<Value>): ContainedReward {
  let received: unknown;
  try {
    received = reward(outcome);
  } catch (error) {
    const problem = new MezanError('E_INVALID_OPTION', `The option \`reward\` threw: ${describeThrown(error)}; the reward counts as 0`, {
      details: { option: 'reward', counted: 0 },
      cause: error,
    });
    return { reward: 0, problem };
  }
  if (typeof received === 'number' && received >= 0 && received <= 1) return { reward: received, problem: undefined };
  if (isThenable(received)) return { reward: 0, problem: settleAside(received) };
  const counted = typeof received === 'number' && !Number.isNaN(received) ? (received > 1 ? 1 : 0) : 0;
  const problem = new MezanError(
    'E_INVALID_OPTION',
    `Expected \`reward(outcome)\` to return a number in [0, 1], got ${describeValue(received)}; it counts as ${counted}`,
    { details: { option: 'reward', expected: 'a number in [0, 1]', received, counted } },
  );
  return { reward: counted, problem };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
  } catch {
    // A getter or a proxy trap threw: no thenable anyone can use.
    return false;
  }
}

/** The problem of an asynchronous reward function; its promise's rejection is caught so the process never sees it unhandled. */
function settleAside(promise: PromiseLike<unknown>): MezanError {
  try {
    Promise.resolve(promise).then(undefined, () => undefined);
  } catch {
    // `Promise.resolve` reads a promise's `constructor`, which a hostile one may make throw; nothing is pending then.
  }
  return new MezanError('E_INVALID_OPTION', 'Expected `reward(outcome)` to return a number in [0, 1], got a promise; it counts as 0', {
    details: { option: 'reward', expected: 'a number in [0, 1]', received: 'a promise', counted: 0 },
  });
}
