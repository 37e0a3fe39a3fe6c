import { MezanError } from '../errors';
import type { Problem } from './scenario-problem';

/**
 * Why a simulation refuses worker threads: a thread task runs in real time, on another thread,
 * where the virtual clock that makes a run deterministic and replayable does not reach.
 */
const THREADS_REFUSED =
  'simulations run main-thread tasks only: a thread task runs in real time, out of reach of the virtual clock, so a scenario cannot ask for threads; remove engine.threads';

/**
 * The problem of a scenario document whose `engine` asks for worker threads (`engine.threads`, any
 * value), checked before the schema so that the message says why rather than "unknown property".
 * @internal
 */
export function threadsProblem(data: unknown): Problem | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const engine = (data as { engine?: unknown }).engine;
  if (typeof engine !== 'object' || engine === null || !Object.hasOwn(engine, 'threads')) return undefined;
  return { segments: ['engine', 'threads'], reason: THREADS_REFUSED, atKey: true };
}

/**
 * Refuses a scenario made in code whose `engine` asks for worker threads, as `parseScenario` refuses
 * such a file.
 *
 * @throws MezanError `E_INVALID_SCENARIO` naming `engine.threads`
 * @internal
 */
export function checkScenarioThreads(scenario: unknown): void {
  const problem = threadsProblem(scenario);
  if (problem === undefined) return;
  const name = (scenario as { file?: unknown; name?: unknown }).file ?? (scenario as { name?: unknown }).name ?? 'the scenario';
  throw new MezanError('E_INVALID_SCENARIO', `${String(name)}: engine.threads: ${problem.reason}`, {
    details: { file: (scenario as { file?: unknown }).file, path: 'engine.threads', reason: problem.reason },
  });
}
