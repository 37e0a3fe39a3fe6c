import fc from 'fast-check';
import { MezanError, type EngineEvent, type TaskHandle } from '../../src';
import { startEngine } from '../fixtures/engine-harness';

/** One task of a random workload. */
interface TaskSpec {
  /** Clock time it is submitted at. */
  readonly at: number;
  readonly priority: number;
  readonly group: string | undefined;
  /** How long each attempt runs, in clock time. */
  readonly runMs: number;
  /** How many of its first attempts throw (it has that many retries, so it completes in the end). */
  readonly failures: number;
  readonly queueTimeoutMs: number | undefined;
  /** Clock time at which its caller cancels it, if ever. */
  readonly cancelAt: number | undefined;
}

interface Workload {
  readonly concurrency: number;
  readonly rateLimit: { readonly limit: number; readonly intervalMs: number; readonly per: 'engine' | 'group' } | undefined;
  readonly tasks: readonly TaskSpec[];
}

const taskSpec: fc.Arbitrary<TaskSpec> = fc.record({
  at: fc.integer({ min: 0, max: 60 }),
  priority: fc.integer({ min: 0, max: 3 }),
  group: fc.constantFrom(undefined, 'a', 'b'),
  runMs: fc.integer({ min: 0, max: 25 }),
  failures: fc.integer({ min: 0, max: 2 }),
  queueTimeoutMs: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  cancelAt: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
});

const workload: fc.Arbitrary<Workload> = fc.record({
  concurrency: fc.integer({ min: 1, max: 4 }),
  rateLimit: fc.option(
    fc.record({
      limit: fc.integer({ min: 1, max: 3 }),
      intervalMs: fc.integer({ min: 1, max: 30 }),
      per: fc.constantFrom('engine' as const, 'group' as const),
    }),
    { nil: undefined },
  ),
  tasks: fc.array(taskSpec, { maxLength: 30 }),
});

/** A task waiting for a slot, as the reference model tracks it from the events. */
interface Queued {
  readonly taskId: string;
  readonly priority: number;
  /** Order of arrival in the queue (a retry arrives anew). */
  readonly arrival: number;
}

/**
 * Replays the events against a reference model of the scheduler and returns every breach of its
 * rules: at each start, the task started is the best queued one (priority, then arrival) among those
 * whose rate limit allows a start; never more than `concurrency` running; the rate limit's window.
 */
function checkStarts(events: readonly EngineEvent[], work: Workload, groupOf: ReadonlyMap<string, string | undefined>): string[] {
  const breaches: string[] = [];
  const queued = new Map<string, Queued>();
  const running = new Set<string>();
  const startsByKey = new Map<string, number[]>();
  let arrivals = 0;
  const limitKey = (taskId: string): string | undefined => {
    if (work.rateLimit === undefined) return undefined;
    return work.rateLimit.per === 'engine' ? 'engine' : groupOf.get(taskId);
  };
  const allowedAt = (taskId: string, at: number): boolean => {
    const key = limitKey(taskId);
    if (key === undefined) return true;
    const starts = startsByKey.get(key) ?? [];
    return starts.filter((start) => start > at - work.rateLimit!.intervalMs).length < work.rateLimit!.limit;
  };
  for (const event of events) {
    switch (event.type) {
      case 'task.queued':
        queued.set(event.taskId, { taskId: event.taskId, priority: event.priority, arrival: arrivals++ });
        break;
      case 'task.started': {
        const self = queued.get(event.taskId);
        if (self === undefined) {
          breaches.push(`${event.taskId} started without being queued`);
          break;
        }
        for (const other of queued.values()) {
          const better = other.priority > self.priority || (other.priority === self.priority && other.arrival < self.arrival);
          if (better && allowedAt(other.taskId, event.at)) breaches.push(`${event.taskId} started at ${event.at} before the better ${other.taskId}`);
        }
        if (!allowedAt(event.taskId, event.at)) breaches.push(`${event.taskId} started at ${event.at} beyond its rate limit`);
        queued.delete(event.taskId);
        running.add(event.taskId);
        if (running.size > work.concurrency) breaches.push(`${running.size} running at ${event.at}, more than ${work.concurrency}`);
        const key = limitKey(event.taskId);
        if (key !== undefined) startsByKey.set(key, [...(startsByKey.get(key) ?? []), event.at]);
        break;
      }
      case 'task.retrying':
      case 'task.completed':
      case 'task.failed':
      case 'task.cancelled':
      case 'task.timeout':
      case 'task.deadlock':
        // A function that was cancelled or timed out may still hold its slot; the engine counts it
        // running until it returns, so the model frees it only when it settles or retries.
        running.delete(event.taskId);
        queued.delete(event.taskId);
        break;
    }
  }
  return breaches;
}

describe('the scheduler against a reference model, in virtual time', () => {
  it('starts the best allowed task each time, runs no task twice but for retries, settles every handle once, keeps deadlines', async () => {
    await fc.assert(
      fc.asyncProperty(workload, async (work) => {
        const { engine, clock, events } = startEngine({ concurrency: work.concurrency, rateLimit: work.rateLimit });
        const handles: Array<TaskHandle<unknown>> = [];
        const settles = new Map<string, number>();
        const calls = new Map<string, number>();
        const groupOf = new Map<string, string | undefined>();
        const specOf = new Map<string, TaskSpec>();
        const submittedAt = new Map<string, number>();
        const byTime = work.tasks.map((spec, index) => ({ spec, index })).sort((a, b) => a.spec.at - b.spec.at || a.index - b.index);
        const cancels = byTime
          .filter(({ spec }) => spec.cancelAt !== undefined)
          .map(({ spec, index }) => ({ at: Math.max(spec.cancelAt!, spec.at), index }))
          .sort((a, b) => a.at - b.at);
        const byIndex: Array<TaskHandle<unknown> | undefined> = [];
        let nextCancel = 0;
        const cancelDue = (time: number): void => {
          while (nextCancel < cancels.length && cancels[nextCancel]!.at <= time) {
            byIndex[cancels[nextCancel]!.index]?.cancel();
            nextCancel++;
          }
        };
        for (const { spec, index } of byTime) {
          for (; nextCancel < cancels.length && cancels[nextCancel]!.at < spec.at;) {
            await clock.advanceTo(cancels[nextCancel]!.at);
            cancelDue(clock.now());
          }
          await clock.advanceTo(spec.at);
          cancelDue(clock.now());
          const name = `t${index}`;
          const handle = engine.submit(
            async (ctx) => {
              calls.set(name, (calls.get(name) ?? 0) + 1);
              await ctx.sleep(spec.runMs);
              if (ctx.attempt <= spec.failures) throw new Error(`attempt ${ctx.attempt} fails`);
              return name;
            },
            { id: name, name, priority: spec.priority, group: spec.group, retries: spec.failures, queueTimeoutMs: spec.queueTimeoutMs },
          );
          handle.result.then(
            () => settles.set(name, (settles.get(name) ?? 0) + 1),
            () => settles.set(name, (settles.get(name) ?? 0) + 1),
          );
          handles.push(handle);
          byIndex[index] = handle;
          groupOf.set(name, spec.group);
          specOf.set(name, spec);
          submittedAt.set(name, spec.at);
        }
        while (nextCancel < cancels.length) {
          await clock.advanceTo(Math.max(clock.now(), cancels[nextCancel]!.at));
          cancelDue(clock.now());
        }
        await clock.runAll();
        await engine.onIdle();

        expect(checkStarts(events, work, groupOf)).toEqual([]);
        for (const handle of handles) {
          // Every handle settled, exactly once.
          expect(handle.isSettled).toBe(true);
          expect(settles.get(handle.id)).toBe(1);
          const spec = specOf.get(handle.id)!;
          // No task ran more often than its attempts allow.
          expect(calls.get(handle.id) ?? 0).toBeLessThanOrEqual(spec.failures + 1);
          const starts = events.filter((event) => event.type === 'task.started' && event.taskId === handle.id);
          expect(starts.length).toBe(calls.get(handle.id) ?? 0);
          if (spec.queueTimeoutMs !== undefined) {
            const deadline = submittedAt.get(handle.id)! + spec.queueTimeoutMs;
            if (starts.length > 0) expect(starts[0]!.at).toBeLessThanOrEqual(deadline);
            const expired = events.find((event) => event.type === 'task.timeout' && event.taskId === handle.id && event.code === 'E_QUEUE_TIMEOUT');
            if (expired !== undefined) {
              expect(starts).toEqual([]);
              expect(expired.at).toBe(deadline);
            } else if (starts.length === 0) {
              // Never started and not expired: it was cancelled in time.
              expect(handle.status).toBe('cancelled');
            }
          }
          if (handle.status === 'completed') expect(await handle.result).toBe(handle.id);
          else if (handle.status !== 'cancelled') {
            const error = await handle.result.catch((reason: unknown) => reason);
            expect(error).toBeInstanceOf(MezanError);
            expect(handle.status).toBe('timeout');
            expect((error as MezanError).code).toBe('E_QUEUE_TIMEOUT');
          }
        }
        expect(engine.progress().completed + engine.progress().cancelled + engine.progress().timedOut).toBe(handles.length);
      }),
      { seed: 42, numRuns: 120 },
    );
  });
});
