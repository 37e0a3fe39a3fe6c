import fc from 'fast-check';
import { MezanError, type EngineOptions, type TaskOptions } from '../../src';
import { startEngine } from '../fixtures/engine-harness';
import { submitEach } from '../fixtures/submit-each';

/** The clock time each task started at, by name, from the `task.started` events. */
function startTimes(events: ReadonlyArray<{ type: string; at: number; name?: string }>): Array<[string, number]> {
  return events.filter((event) => event.type === 'task.started').map((event) => [event.name!, event.at]);
}

/** The starts of {@link startTimes} in one line, `name@at` each, in start order: `'a@0 b@100'`. */
const startLog = (events: ReadonlyArray<{ type: string; at: number; name?: string }>): string =>
  startTimes(events)
    .map(([name, at]) => `${name}@${at}`)
    .join(' ');

describe('rateLimit', () => {
  // [title, engine options, the tasks submitted at once (by id, which is also the name), the starts]
  it.each<[string, EngineOptions, Record<string, Omit<TaskOptions, 'id'>>, string]>([
    [
      'starts at most `limit` tasks in any window of `intervalMs`, in priority order',
      { concurrency: 8, rateLimit: { limit: 2, intervalMs: 100 } },
      { a: { priority: 0 }, b: { priority: 0 }, c: { priority: 5 }, d: { priority: 0 }, e: { priority: 9 } },
      'e@0 c@0 a@100 b@100 d@200',
    ],
    [
      "per: 'group' limits each group on its own, and tasks without a group not at all",
      { concurrency: 8, rateLimit: { limit: 1, intervalMs: 100, per: 'group' } },
      { 'api-1': { group: 'api' }, 'api-2': { group: 'api' }, 'mail-1': { group: 'mail' }, 'free-1': {}, 'free-2': {}, 'mail-2': { group: 'mail' } },
      'api-1@0 mail-1@0 free-1@0 free-2@0 api-2@100 mail-2@100',
    ],
    [
      // One slot: after a1, group a is blocked until 100, so b2 (priority 5) goes, then c1 (b is
      // blocked too), then a2 at 100, then b1 at 100 once b's window has passed.
      "per: 'group' passes over a blocked group to the best task of the others, by priority then submission",
      { concurrency: 1, rateLimit: { limit: 1, intervalMs: 100, per: 'group' } },
      {
        a1: { group: 'a', priority: 9 },
        a2: { group: 'a', priority: 9 },
        b1: { group: 'b', priority: 1 },
        c1: { group: 'c', priority: 1 },
        b2: { group: 'b', priority: 5 },
      },
      'a1@0 b2@0 c1@0 a2@100 b1@100',
    ],
  ])('%s', async (_title, options, tasks, starts) => {
    const { engine, clock, events } = startEngine(options);
    submitEach(engine, tasks);
    await clock.runAll();
    expect(startLog(events)).toBe(starts);
    expect(engine.progress().completed).toBe(Object.keys(tasks).length);
  });

  it('is a sliding window: a start becomes possible exactly `intervalMs` after the one it replaces', async () => {
    const { engine, clock, events } = startEngine({ concurrency: 4, rateLimit: { limit: 2, intervalMs: 100 } });
    submitEach(engine, { first: {} });
    await clock.advanceBy(30);
    submitEach(engine, { second: {}, third: {}, fourth: {} });
    await clock.runAll();
    expect(startLog(events)).toBe('first@0 second@30 third@100 fourth@130');
  });

  it('counts the start of a retry', async () => {
    const { engine, clock, events } = startEngine({ concurrency: 2, rateLimit: { limit: 1, intervalMs: 50 } });
    let calls = 0;
    engine.submit(
      () => {
        calls++;
        if (calls === 1) throw new Error('once');
      },
      { name: 'flaky', retries: 1 },
    );
    submitEach(engine, { other: {} });
    await clock.runAll();
    expect(startLog(events)).toBe('flaky@0 other@50 flaky@100');
  });

  it('leaves cancellations and shutdown to their usual paths: a task held back by the limit settles when cancelled', async () => {
    const { engine, clock } = startEngine({ concurrency: 4, rateLimit: { limit: 1, intervalMs: 1000 } });
    engine.submit(() => 'runs', { name: 'runs' });
    const held = engine.submit(() => 'held', { name: 'held' });
    await clock.advanceBy(10);
    expect(held.status).toBe('queued');
    expect(held.cancel()).toBe(true);
    await expect(held.result).rejects.toMatchObject({ code: 'E_CANCELLED' });
    const report = engine.shutdown();
    await clock.runAll();
    expect((await report).lost).toBe(0);
  });

  it.each([
    [{ limit: 0, intervalMs: 10 }, 'rateLimit.limit'],
    [{ limit: 1.5, intervalMs: 10 }, 'rateLimit.limit'],
    [{ limit: 1, intervalMs: 0 }, 'rateLimit.intervalMs'],
    [{ limit: 1, intervalMs: Infinity }, 'rateLimit.intervalMs'],
    [{ limit: 1, intervalMs: 10, per: 'task' }, 'rateLimit.per'],
    ['fast', 'rateLimit'],
  ])('refuses rateLimit %p with E_INVALID_OPTION naming %s', (rateLimit, option) => {
    const attempt = (): unknown => startEngine({ rateLimit: rateLimit as never });
    expect(attempt).toThrow(MezanError);
    try {
      attempt();
    } catch (error) {
      expect((error as MezanError).code).toBe('E_INVALID_OPTION');
      expect((error as MezanError).message).toContain(option);
    }
  });

  it('refuses an empty group with E_INVALID_OPTION', () => {
    const { engine } = startEngine();
    expect(() => engine.submit(() => 0, { group: '' })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
  });

  it('never starts more than `limit` in any window, for the engine or for any group, over random workloads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          limit: fc.integer({ min: 1, max: 4 }),
          intervalMs: fc.integer({ min: 1, max: 50 }),
          concurrency: fc.integer({ min: 1, max: 6 }),
          perGroup: fc.boolean(),
          tasks: fc.array(
            fc.record({
              at: fc.integer({ min: 0, max: 100 }),
              priority: fc.integer({ min: 0, max: 2 }),
              group: fc.constantFrom(undefined, 'x', 'y'),
              runMs: fc.integer({ min: 0, max: 30 }),
            }),
            { maxLength: 25 },
          ),
        }),
        async ({ limit, intervalMs, concurrency, perGroup, tasks }) => {
          const { engine, clock, events } = startEngine({ concurrency, rateLimit: { limit, intervalMs, per: perGroup ? 'group' : 'engine' } });
          const groupOf = new Map<string, string | undefined>();
          const sorted = tasks.map((task, index) => ({ ...task, name: `t${index}` })).sort((a, b) => a.at - b.at);
          for (const task of sorted) {
            await clock.advanceTo(task.at);
            groupOf.set(task.name, task.group);
            engine.submit((ctx) => ctx.sleep(task.runMs), { name: task.name, priority: task.priority, group: task.group });
          }
          await clock.runAll();
          expect(engine.progress().completed).toBe(tasks.length);
          const starts = startTimes(events);
          // The window: no key (the engine, or a group) has more than `limit` starts in any (t - interval, t].
          const keyOf = (name: string): string | undefined => (perGroup ? groupOf.get(name) : 'engine');
          for (const [name, at] of starts) {
            const key = keyOf(name);
            if (key === undefined) continue;
            const inWindow = starts.filter(([other, otherAt]) => keyOf(other) === key && otherAt > at - intervalMs && otherAt <= at);
            expect(inWindow.length).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { seed: 21, numRuns: 60 },
    );
  });
});
