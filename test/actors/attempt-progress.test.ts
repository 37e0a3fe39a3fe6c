import { AttemptProgress } from '../../actors/attempt-progress';
import { deferred, type Deferred } from '../fixtures/engine-harness';
import { flush } from '../fixtures/flush';

// One attempt's progress, written one value at a time, the latest only: its writes completed by
// hand, so that what is in flight when is the test's to say.

function recorded(): { progress: AttemptProgress; writes: { value: object; done: Deferred<void> }[] } {
  const writes: { value: object; done: Deferred<void> }[] = [];
  const progress = new AttemptProgress((value) => {
    const done = deferred();
    writes.push({ value, done });
    return done.promise;
  });
  return { progress, writes };
}

describe('AttemptProgress', () => {
  it('writes the first value at once, then only the latest once the write in flight completes', async () => {
    const { progress, writes } = recorded();
    for (let i = 1; i <= 1_000; i++) progress.report({ i });
    expect(writes.map(({ value }) => value)).toEqual([{ i: 1 }]);
    writes[0]!.done.resolve();
    await flush();
    expect(writes.map(({ value }) => value)).toEqual([{ i: 1 }, { i: 1_000 }]);
    writes[1]!.done.resolve();
    await flush();
    progress.report({ i: 1_001 });
    expect(writes).toHaveLength(3);
  });

  it('is flushed at once when nothing is being written, else once the values reported so far are, not those after', async () => {
    const { progress, writes } = recorded();
    expect(progress.flushed()).toBeUndefined();
    progress.report({ i: 1 });
    progress.report({ i: 2 });
    let flushed = false;
    void progress.flushed()!.then(() => (flushed = true));
    // A function that outlives its attempt goes on reporting: the flush waits for {i: 2}'s write only.
    writes[0]!.done.resolve();
    await flush();
    progress.report({ i: 3 });
    writes[1]!.done.resolve();
    await flush();
    expect(writes.map(({ value }) => value)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect(flushed).toBe(true);
    expect(progress.flushed()).toBeInstanceOf(Promise);
    writes[2]!.done.resolve();
    await flush();
    expect(progress.flushed()).toBeUndefined();
  });
});
