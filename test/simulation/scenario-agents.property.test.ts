/**
 * Random scenarios with agents (handler scripts, messages, task asks and sends, crashes, cycles of
 * asks and a pool with detection on or off): every run ends, loses nothing, settles each ask once, counts each
 * message an agent received once, and replays exactly by seed.
 */
import fc from 'fast-check';
import { parseScenario } from '../../src/simulation/load-scenario';
import { simulate } from '../../src/simulation/simulate';

const AGENTS = ['a0', 'a1', 'a2'] as const;

const target = fc.constantFrom(...AGENTS);
const askOptions = fc.record({
  timeoutMs: fc.constantFrom(undefined, 5, 40),
  onFailure: fc.constantFrom(undefined, 'fail' as const, 'continue' as const),
});

/** A step as YAML flow text. */
const handlerStep = fc.oneof(
  fc.integer({ min: 0, max: 10 }).map((max) => `{ work: { uniform: [0, ${max}] } }`),
  fc.constantFrom(0, 0.3, 1).map((p) => `{ fail: ${p} }`),
  fc.tuple(target, askOptions).map(([to, options]) => askText(to, options)),
  target.map((to) => `{ send: ${to} }`),
  // Held until the handling ends: a pool in a cycle with asks.
  fc.constant('{ acquire: db }'),
);

function askText(to: string, options: { timeoutMs: number | undefined; onFailure: string | undefined }): string {
  const timeout = options.timeoutMs === undefined ? '' : `, timeoutMs: ${options.timeoutMs}`;
  const onFailure = options.onFailure === undefined ? '' : `, onFailure: ${options.onFailure}`;
  return `{ ask: ${to}${timeout}${onFailure} }`;
}

const agent = fc
  .record({
    concurrency: fc.integer({ min: 1, max: 2 }),
    capacity: fc.integer({ min: 1, max: 4 }),
    overflow: fc.constantFrom('reject', 'drop-oldest', 'wait'),
    maxRestarts: fc.integer({ min: 0, max: 2 }),
    steps: fc.array(handlerStep, { maxLength: 4 }),
    reply: fc.boolean(),
  })
  .map(
    (spec) =>
      `{ concurrency: ${spec.concurrency}, mailbox: { capacity: ${spec.capacity}, overflow: ${spec.overflow} }, ` +
      `restart: { maxRestarts: ${spec.maxRestarts}, withinMs: 1000 }, steps: [${[...spec.steps, ...(spec.reply ? ['{ reply: done }'] : [])].join(', ')}] }`,
  );

const message = fc
  .record({
    kind: fc.constantFrom('send', 'ask'),
    to: target,
    at: fc.integer({ min: 0, max: 30 }),
    count: fc.integer({ min: 1, max: 4 }),
    timeoutMs: fc.constantFrom(undefined, 20),
  })
  .map(
    ({ kind, to, at, count, timeoutMs }) =>
      `  - { ${kind}: ${to}, at: ${at}, count: ${count}${kind === 'ask' && timeoutMs !== undefined ? `, timeoutMs: ${timeoutMs}` : ''} }`,
  );

const task = fc
  .tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.constantFrom('', '{ acquire: db }, '),
    fc.oneof(
      fc.tuple(target, askOptions).map(([to, options]) => askText(to, options)),
      target.map((to) => `{ send: ${to} }`),
    ),
  )
  .map(([count, hold, step]) => `  - generate: { count: ${count}, rate: 100, retries: 1, steps: [${hold}{ work: 2 }, ${step}] }`);

const crash = fc.tuple(fc.integer({ min: 0, max: 40 }), target).map(([at, to]) => `  - { at: ${at}, crash: { agent: ${to} } }`);

const scenarioText = fc
  .record({
    detect: fc.constantFrom('immediate', 'off'),
    agents: fc.tuple(agent, agent, agent),
    messages: fc.array(message, { minLength: 1, maxLength: 3 }),
    tasks: fc.array(task, { maxLength: 2 }),
    faults: fc.array(crash, { maxLength: 2 }),
  })
  .map((spec) =>
    [
      'engine:',
      `  deadlock: { detect: ${spec.detect} }`,
      '  resources: { db: 1 }',
      'agents:',
      ...spec.agents.map((text, index) => `  - { name: ${AGENTS[index]}, ${text.slice(2)}`),
      'messages:',
      ...spec.messages,
      ...(spec.tasks.length > 0 ? ['tasks:', ...spec.tasks] : []),
      ...(spec.faults.length > 0 ? ['faults:', ...spec.faults] : []),
      '',
    ].join('\n'),
  );

describe('scenario agents, over random scenarios', () => {
  it('end with nothing lost, every ask settled once, every message received counted once, and replay by seed', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioText, fc.integer({ min: 1, max: 1000 }), async (text, seed) => {
        const scenario = parseScenario(text, 'random.yaml');
        // A loop of messages between agents is cut at this many (see the limits of docs/scenarios.md).
        const report = await simulate(scenario, { seed, maxTasks: 500 });
        expect(report.shutdown.lost).toBe(0);
        expect(report.asks.replied + report.asks.failed).toBe(report.asks.made);
        expect(Object.values(report.asks.byCode).reduce((sum, count) => sum + count, 0)).toBe(report.asks.failed);
        for (const stats of Object.values(report.agents)) expect(stats.received).toBe(stats.handled + stats.failed + stats.dropped);
        const again = await simulate(scenario, { seed, maxTasks: 500 });
        expect(again.traceHash).toBe(report.traceHash);
      }),
      { numRuns: 60, seed: 20261203 },
    );
  });
});
