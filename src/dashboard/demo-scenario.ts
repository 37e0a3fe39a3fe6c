import { parseScenario } from '../simulation/load-scenario';
import type { Scenario } from '../simulation/scenario';

/**
 * What `mezan dashboard` runs without a scenario file: about forty seconds at `--speed 1`, with a
 * bit of everything the page shows. A stream of jobs shares two database connections (some fail and
 * retry); two transfers take `accounts` and `ledger` in opposite orders and deadlock (a victim is
 * chosen); two pipelines each hold a worker slot while awaiting a stage; the worker, `main`, crashes
 * (the jobs running on it fail and retry) and is restarted; a SIGTERM drains the engine at the end.
 */
const DEMO_SCENARIO_YAML = `
name: dashboard demo
engine:
  concurrency: 4
  resources:
    db: 2
    accounts: { capacity: 1, rank: 1 }
    ledger: { capacity: 1, rank: 2 }
  deadlock: { detect: immediate, policy: youngest }
  lockOrder: warn
  shutdown: { graceMs: 5000, drain: run }
tasks:
  - generate:
      count: 40
      start: 500
      rate: 1.5
      name: job
      retries: { max: 2, delayMs: 500 }
      steps:
        - acquire: db
          timeoutMs: 6000
        - work: { exponential: { mean: 1000 } }
        - release: db
        - fail: 0.1
        - work: { uniform: [200, 800] }
  - id: transfer-ab
    at: 6000
    priority: 10
    steps:
      - acquire: accounts
      - work: 1500
      - acquire: ledger
      - work: 1000
  - id: transfer-ba
    at: 6500
    priority: 10
    steps:
      - acquire: ledger
      - work: 1500
      - acquire: accounts
      - work: 1000
  - generate:
      count: 2
      start: 16000
      name: pipeline
      priority: 5
      steps:
        - work: 500
        - spawn: { name: stage, steps: [{ work: 3000 }] }
          await: true
        - work: 500
faults:
  - at: 12000
    crash: main
  - at: 36000
    signal: SIGTERM
`;

/**
 * The built-in scenario of `mezan dashboard`, validated like a scenario file.
 *
 * @returns the scenario
 */
export function demoScenario(): Scenario {
  return parseScenario(DEMO_SCENARIO_YAML, '<built-in demo>');
}
