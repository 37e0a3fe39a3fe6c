import { VirtualClock } from '../src/virtual-clock';

describe('VirtualClock', () => {
  it('starts at 0, or at the time given', () => {
    expect(new VirtualClock().now()).toBe(0);
    expect(new VirtualClock(1_000).now()).toBe(1_000);
  });

  it('does not move by itself, nor fire timers before it is advanced', async () => {
    const clock = new VirtualClock();
    const fired = jest.fn();
    clock.setTimeout(fired, 0);
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fired).not.toHaveBeenCalled();
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires timers in due order with now() equal to each due time', async () => {
    const clock = new VirtualClock();
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['c', clock.now()]), 70);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10);
    clock.setTimeout(() => seen.push(['b', clock.now()]), 30);
    await clock.advanceBy(100);
    expect(seen).toEqual([
      ['a', 10],
      ['b', 30],
      ['c', 70],
    ]);
    expect(clock.now()).toBe(100);
  });

  it('fires timers due at the same time in the order they were set', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    for (let index = 0; index < 20; index++) clock.setTimeout(() => seen.push(index), 5);
    await clock.advanceBy(5);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  it('fires only the timers due within the advance, the boundary included', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    for (const ms of [10, 20, 21]) clock.setTimeout(() => seen.push(ms), ms);
    await clock.advanceBy(20);
    expect(seen).toEqual([10, 20]);
    expect(clock.now()).toBe(20);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextDue).toBe(21);
    await clock.advanceBy(1);
    expect(seen).toEqual([10, 20, 21]);
  });

  it('fires a timer set by a timer in the same advance when it falls due within it', async () => {
    const clock = new VirtualClock();
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => {
      seen.push(['outer', clock.now()]);
      clock.setTimeout(() => seen.push(['inner', clock.now()]), 15);
      clock.setTimeout(() => seen.push(['late', clock.now()]), 100);
    }, 10);
    clock.setTimeout(() => seen.push(['other', clock.now()]), 20);
    await clock.advanceBy(50);
    expect(seen).toEqual([
      ['outer', 10],
      ['other', 20],
      ['inner', 25],
    ]);
    expect(clock.nextDue).toBe(110);
  });

  it('lets the promise chain a timer starts settle before the next timer fires', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.setTimeout(() => {
      void (async () => {
        for (let step = 0; step < 50; step++) await Promise.resolve();
        seen.push('chain of the first timer done');
      })();
    }, 10);
    // Due at the same instant: only the job queue, not time, separates the two.
    clock.setTimeout(() => seen.push('second timer'), 10);
    await clock.advanceBy(10);
    expect(seen).toEqual(['chain of the first timer done', 'second timer']);
  });

  it('lets promise jobs queued before the advance run first', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    void Promise.resolve().then(() => clock.setTimeout(() => seen.push('set by a promise job'), 0));
    await clock.advanceBy(0);
    expect(seen).toEqual(['set by a promise job']);
  });

  it('runs an async sleep loop at exact virtual times', async () => {
    const clock = new VirtualClock();
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
    const times: number[] = [];
    const done = (async () => {
      for (let index = 0; index < 5; index++) {
        await sleep(100);
        times.push(clock.now());
      }
    })();
    await clock.advanceBy(350);
    expect(times).toEqual([100, 200, 300]);
    await clock.runAll();
    await done;
    expect(times).toEqual([100, 200, 300, 400, 500]);
    expect(clock.now()).toBe(500);
  });

  it('clears a pending timer, and ignores ids it does not know', async () => {
    const clock = new VirtualClock();
    const cleared = jest.fn();
    const kept = jest.fn();
    const id = clock.setTimeout(cleared, 10);
    clock.setTimeout(kept, 10);
    clock.clearTimeout(id);
    clock.clearTimeout(id);
    clock.clearTimeout(12345);
    expect(clock.pendingTimers).toBe(1);
    await clock.advanceBy(10);
    expect(cleared).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
  });

  it('lets a timer clear another one due at the same time', async () => {
    const clock = new VirtualClock();
    const second = jest.fn();
    let secondId: number | undefined;
    clock.setTimeout(() => clock.clearTimeout(secondId!), 10);
    secondId = clock.setTimeout(second, 10);
    await clock.advanceBy(10);
    expect(second).not.toHaveBeenCalled();
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats negative and non-finite delays as 0', async () => {
    const clock = new VirtualClock(50);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), -10);
    clock.setTimeout(() => seen.push(clock.now()), NaN);
    clock.setTimeout(() => seen.push(clock.now()), Infinity);
    expect(clock.nextDue).toBe(50);
    await clock.advanceBy(0);
    expect(seen).toEqual([50, 50, 50]);
  });

  it('never moves time backwards', async () => {
    const clock = new VirtualClock();
    await clock.advanceTo(100);
    await clock.advanceTo(40);
    expect(clock.now()).toBe(100);
    const fired = jest.fn();
    clock.setTimeout(fired, 0);
    expect(clock.nextDue).toBe(100);
    await clock.advanceTo(40);
    expect(fired).not.toHaveBeenCalled();
    await clock.advanceBy(0);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(clock.now()).toBe(100);
  });

  it('advances to an absolute time with advanceTo', async () => {
    const clock = new VirtualClock(1_000);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 250);
    await clock.advanceTo(1_200);
    expect(seen).toEqual([]);
    await clock.advanceTo(1_250);
    expect(seen).toEqual([1_250]);
  });

  describe('runAll', () => {
    it('fires every timer, including those set meanwhile, and returns how many fired', async () => {
      const clock = new VirtualClock();
      const seen: number[] = [];
      clock.setTimeout(() => {
        seen.push(clock.now());
        clock.setTimeout(() => seen.push(clock.now()), 1_000);
      }, 10);
      clock.setTimeout(() => seen.push(clock.now()), 20);
      expect(await clock.runAll()).toBe(3);
      expect(seen).toEqual([10, 20, 1_010]);
      expect(clock.now()).toBe(1_010);
      expect(clock.pendingTimers).toBe(0);
      expect(clock.nextDue).toBeUndefined();
    });

    it('returns 0 and keeps the time when nothing is pending', async () => {
      const clock = new VirtualClock(7);
      expect(await clock.runAll()).toBe(0);
      expect(clock.now()).toBe(7);
    });

    it('fires exactly the bound without complaint', async () => {
      const clock = new VirtualClock();
      for (let index = 0; index < 5; index++) clock.setTimeout(() => undefined, index);
      expect(await clock.runAll(5)).toBe(5);
    });

    it('rejects once more timers than the bound would fire, and stops firing', async () => {
      const clock = new VirtualClock();
      let fired = 0;
      const rearm = (): void => {
        fired++;
        clock.setTimeout(rearm, 1);
      };
      clock.setTimeout(rearm, 1);
      await expect(clock.runAll(100)).rejects.toBeInstanceOf(Error);
      expect(fired).toBe(100);
      expect(clock.now()).toBe(100);
      expect(clock.pendingTimers).toBe(1);
    });
  });

  describe("with settle: 'each-instant', an instant is a turn of the event loop", () => {
    it('has no turns by default: setImmediate is absent, so callers fall back to promise jobs', () => {
      expect(new VirtualClock().setImmediate).toBeUndefined();
      expect(new VirtualClock().clearImmediate).toBeUndefined();
    });

    it('runs end-of-instant calls after the promise jobs of the instant, before time moves on, and the jobs they start too', async () => {
      const clock = new VirtualClock({ settle: 'each-instant' });
      const seen: string[] = [];
      clock.setTimeout(() => {
        seen.push(`timer a at ${clock.now()}`);
        clock.setImmediate!(() => {
          seen.push(`immediate 1 at ${clock.now()}`);
          void Promise.resolve().then(() => seen.push('job of immediate 1'));
          clock.setImmediate!(() => seen.push(`immediate 2 at ${clock.now()}`));
        });
        void Promise.resolve().then(() => seen.push('job of timer a'));
      }, 5);
      clock.setTimeout(() => seen.push(`timer b at ${clock.now()}`), 5);
      clock.setTimeout(() => seen.push(`timer c at ${clock.now()}`), 6);
      await clock.step();
      expect(seen).toEqual(['timer a at 5', 'timer b at 5', 'job of timer a', 'immediate 1 at 5', 'job of immediate 1', 'immediate 2 at 5']);
      await clock.step();
      expect(seen.at(-1)).toBe('timer c at 6');
    });

    it('runs atInstantEnd calls once no end-of-instant call is left, every round of them, in the same instant', async () => {
      expect(new VirtualClock().atInstantEnd).toBeUndefined();
      const clock = new VirtualClock({ settle: 'each-instant' });
      const seen: string[] = [];
      clock.setTimeout(() => {
        clock.atInstantEnd!(() => {
          seen.push(`instant end 1 at ${clock.now()}`);
          // What it starts plays out in the same instant, and may end in another such call.
          clock.setImmediate!(() => {
            seen.push('immediate after instant end 1');
            clock.atInstantEnd!(() => seen.push('instant end 2'));
          });
        });
        clock.setImmediate!(() => {
          seen.push('round 1');
          void Promise.resolve().then(() => clock.setImmediate!(() => seen.push('round 2')));
        });
      }, 4);
      clock.setTimeout(() => seen.push(`timer at ${clock.now()}`), 5);
      await clock.step();
      expect(seen).toEqual(['round 1', 'round 2', 'instant end 1 at 4', 'immediate after instant end 1', 'instant end 2']);
      await clock.step();
      expect(seen.at(-1)).toBe('timer at 5');
    });

    it('fires a timer a promise job sets with a zero delay in the same step, before the end-of-turn calls, once the jobs before it ran', async () => {
      const clock = new VirtualClock({ settle: 'each-instant' });
      const seen: string[] = [];
      clock.setTimeout(() => {
        clock.atInstantEnd!(() => seen.push(`instant end at ${clock.now()}`));
        clock.setImmediate!(() => seen.push(`immediate at ${clock.now()}`));
        void Promise.resolve().then(() => {
          seen.push('job of timer a');
          clock.setTimeout(() => {
            seen.push(`zero delay at ${clock.now()}`);
            void Promise.resolve().then(() => seen.push('job of the zero delay'));
            clock.setTimeout(() => seen.push(`zero delay of the zero delay at ${clock.now()}`), 0);
          }, 0);
        });
      }, 5);
      clock.setTimeout(() => seen.push(`timer b at ${clock.now()}`), 6);
      await clock.step();
      expect(seen).toEqual([
        'job of timer a',
        'zero delay at 5',
        'job of the zero delay',
        'zero delay of the zero delay at 5',
        'immediate at 5',
        'instant end at 5',
      ]);
      expect(clock.nextDue).toBe(6);
      await clock.step();
      expect(seen.at(-1)).toBe('timer b at 6');
    });

    it('counts the zero-delay timers runAll fired while settling', async () => {
      const clock = new VirtualClock({ settle: 'each-instant' });
      clock.setTimeout(() => clock.setTimeout(() => clock.setTimeout(() => undefined, 0), 0), 2);
      expect(await clock.runAll()).toBe(3);
      expect(clock.now()).toBe(2);
    });

    it('ends an instant held by a loop of zero-delay sleeps waiting for its end, at the same time, after 1,000 rounds of them', async () => {
      const clock = new VirtualClock({ settle: 'each-instant' });
      const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
      let ended = false;
      let polls = 0;
      let pollingDone = false;
      clock.setTimeout(() => {
        clock.atInstantEnd!(() => (ended = true));
        void (async () => {
          while (!ended) {
            polls++;
            await sleep(0);
          }
          pollingDone = true;
        })();
      }, 1);
      await clock.step();
      expect(ended).toBe(true);
      // The first poll, its sleep (due at once, in the step's own firing), and 1,000 rounds.
      expect(polls).toBe(1_002);
      expect(pollingDone).toBe(false);
      // The sleep left pending fires in the next step, at the same time, and the loop sees the end.
      expect(await clock.step()).toBe(true);
      expect(pollingDone).toBe(true);
      expect(polls).toBe(1_002);
      expect(clock.now()).toBe(1);
      expect(clock.pendingTimers).toBe(0);
    });

    it('cancels a call with clearImmediate, and runs the calls of advanceTo and runAll too', async () => {
      const clock = new VirtualClock({ settle: 'each-instant' });
      const seen: string[] = [];
      const dropped = clock.setImmediate!(() => seen.push('dropped'));
      clock.setImmediate!(() => seen.push('kept'));
      clock.clearImmediate!(dropped);
      clock.setTimeout(() => clock.setImmediate!(() => seen.push(`after timer at ${clock.now()}`)), 3);
      await clock.advanceTo(2);
      expect(seen).toEqual(['kept']);
      await clock.runAll();
      expect(seen).toEqual(['kept', 'after timer at 3']);
    });
  });
});
