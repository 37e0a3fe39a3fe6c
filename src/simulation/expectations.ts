import type { AgentStats } from '../../actors/agent.actor';
import { MezanError } from '../errors';
import type { Expectation } from './scenario';

/** One assertion of a scenario's `expect`, checked against the report. */
export interface ExpectationResult {
  /** The measure, such as `completed`, `deadlocks` or `code.E_TIMEOUT`. */
  readonly name: string;
  /** As written, normalized: `>= 990`, `== 1`. */
  readonly expected: string;
  /** What the run measured. */
  readonly actual: number;
  /** Whether the expectation held. */
  readonly ok: boolean;
}

/** What a run measured, for the expectations to read. @internal */
export interface Measured {
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly timeout: number;
  readonly deadlock: number;
  readonly rejected: number;
  readonly deadlocks: number;
  readonly lost: number;
  readonly maxQueueDepth: number;
  readonly makespanMs: number;
  readonly byCode: Readonly<Record<string, number>>;
  /** The asks of the scenario's steps and messages; none when absent. */
  readonly asks?: {
    readonly replied: number;
    readonly failed: number;
    readonly byCode: Readonly<Record<string, number>>;
  };
  /** Each agent's statistics, by name; none when absent. */
  readonly agents?: Readonly<Record<string, AgentStats>>;
}

/** The measures an expectation may name, besides `code.E_…`. */
export const EXPECTATION_NAMES = Object.freeze([
  'completed',
  'failed',
  'cancelled',
  'timeout',
  'deadlock',
  'rejected',
  'deadlocks',
  'lost',
  'maxQueueDepth',
  'makespanMs',
] as const);

/**
 * What an expectation written as a string looks like: an operator, optional spaces, and a number
 * (`">= 990"`, `"<1200"`, `"== -0.5"`): the one pattern the scenario schema checks and
 * {@link parseExpectation} reads.
 */
export const EXPECTATION_PATTERN = /^(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)$/;

type Operator = '==' | '!=' | '>=' | '<=' | '>' | '<';

const HOLDS: Readonly<Record<Operator, (actual: number, bound: number) => boolean>> = Object.freeze({
  '==': (actual, bound) => actual === bound,
  '!=': (actual, bound) => actual !== bound,
  '>=': (actual, bound) => actual >= bound,
  '<=': (actual, bound) => actual <= bound,
  '>': (actual, bound) => actual > bound,
  '<': (actual, bound) => actual < bound,
});

/**
 * Parses an expectation: a number means `== number`; a string is an operator and a number.
 * @throws {MezanError} `E_INVALID_SCENARIO` for anything else
 * @internal
 */
export function parseExpectation(expectation: Expectation): { readonly operator: Operator; readonly bound: number } {
  if (typeof expectation === 'number' && Number.isFinite(expectation)) return { operator: '==', bound: expectation };
  const match = typeof expectation === 'string' ? EXPECTATION_PATTERN.exec(expectation) : null;
  if (match === null) {
    throw new MezanError('E_INVALID_SCENARIO', `Expected an expectation such as ">= 990" or a number, got ${JSON.stringify(expectation)}`, {
      details: { received: expectation },
    });
  }
  return { operator: match[1] as Operator, bound: Number(match[2]) };
}

/**
 * Checks every expectation against what was measured, in the order written.
 * @internal
 */
export function evaluateExpectations(expect: Readonly<Record<string, Expectation>>, measured: Measured): ExpectationResult[] {
  return Object.entries(expect).map(([name, expectation]) => {
    const { operator, bound } = parseExpectation(expectation);
    const actual = measure(name, measured);
    return { name, expected: `${operator} ${bound}`, actual, ok: HOLDS[operator](actual, bound) };
  });
}

/** What `name` measured: a count by code is 0 when nothing ended with it; a name nothing measured is `NaN`, which no comparison holds. */
function measure(name: string, measured: Measured): number {
  if (name.startsWith('code.')) return measured.byCode[name.slice('code.'.length)] ?? 0;
  if (name.startsWith('asks.code.')) return measured.asks?.byCode[name.slice('asks.code.'.length)] ?? 0;
  if (name === 'asks.replied') return measured.asks?.replied ?? 0;
  if (name === 'asks.failed') return measured.asks?.failed ?? 0;
  if (name.startsWith('agent.')) {
    // `agent.<name>.<statistic>`: the statistic is the last part, as the name may hold dots.
    const last = name.lastIndexOf('.');
    const value: unknown = measured.agents?.[name.slice('agent.'.length, last)]?.[name.slice(last + 1) as keyof AgentStats];
    return typeof value === 'number' ? value : Number.NaN;
  }
  const plain = measured[name as keyof Omit<Measured, 'byCode' | 'asks' | 'agents'>];
  return typeof plain === 'number' ? plain : Number.NaN;
}
