import { VirtualClockPacer } from '../../src/dashboard/virtual-clock-pacer';
import { isMezanError } from '../../src/errors';
import { VirtualClock } from '../../src/virtual-clock';

/** A real clock that moves only when the pacer sleeps on it. */
function fakeRealTime(): { now: () => number; sleep: (ms: number) => Promise<void>; readonly sleeps: number[] } {
  let now = 1000;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe('VirtualClockPacer', () => {
  it('fires each timer when real time reaches its due time divided by the speed', async () => {
    const clock = new VirtualClock();
    const real = fakeRealTime();
    const fired: Array<{ virtual: number; real: number }> = [];
    for (const due of [0, 50, 50, 300]) clock.setTimeout(() => fired.push({ virtual: clock.now(), real: real.now() }), due);
    const pacer = new VirtualClockPacer(clock, { speed: 0.5, realNow: real.now, sleep: real.sleep });
    await pacer.run({ step: () => clock.step() });
    // At half speed, virtual 50 ms take 100 real ms, and virtual 300 ms take 600 (waits are cut into slices of at most 100).
    expect(fired).toEqual([
      { virtual: 0, real: 1000 },
      { virtual: 50, real: 1100 },
      { virtual: 50, real: 1100 },
      { virtual: 300, real: 1600 },
    ]);
    expect(Math.max(...real.sleeps)).toBeLessThanOrEqual(100);
    expect(clock.pendingTimers).toBe(0);
  });

  it('shows virtual time running on between timers, never past the next one', async () => {
    const clock = new VirtualClock();
    const real = fakeRealTime();
    const seen: number[] = [];
    const pacer = new VirtualClockPacer(clock, {
      speed: 2,
      realNow: real.now,
      sleep: async (ms) => {
        await real.sleep(ms);
        seen.push(pacer.now());
      },
    });
    clock.setTimeout(() => undefined, 500);
    expect(pacer.now()).toBe(0);
    await pacer.run({ step: () => clock.step() });
    // Twice real time: 100 real ms per slice are 200 virtual ms, capped at the timer's 500.
    expect(seen).toEqual([200, 400, 500]);
    expect(pacer.now()).toBe(500);
  });

  it('stops when its signal aborts, leaving the clock and its timers as they were', async () => {
    const clock = new VirtualClock();
    const real = fakeRealTime();
    const controller = new AbortController();
    let fired = 0;
    clock.setTimeout(() => fired++, 10);
    clock.setTimeout(() => controller.abort(), 20);
    clock.setTimeout(() => fired++, 30);
    await new VirtualClockPacer(clock, { speed: 1, realNow: real.now, sleep: real.sleep }).run({
      step: () => clock.step(),
      signal: controller.signal,
    });
    expect(fired).toBe(1);
    expect(clock.now()).toBe(20);
    expect(clock.pendingTimers).toBe(1);
  });

  it('changes speed without a jump in the virtual time it shows', async () => {
    const clock = new VirtualClock();
    const real = fakeRealTime();
    const shown: number[] = [];
    const pacer = new VirtualClockPacer(clock, {
      speed: 1,
      realNow: real.now,
      sleep: async (ms) => {
        await real.sleep(ms);
        shown.push(pacer.now());
        if (shown.length === 1) pacer.speed = 0.5;
      },
    });
    clock.setTimeout(() => undefined, 200);
    await pacer.run({ step: () => clock.step() });
    expect(shown).toEqual([100, 150, 200]);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses the speed %p with E_INVALID_OPTION', (speed) => {
    const clock = new VirtualClock();
    expect(() => new VirtualClockPacer(clock, { speed })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    const pacer = new VirtualClockPacer(clock);
    let error: unknown;
    try {
      pacer.speed = speed;
    } catch (caught) {
      error = caught;
    }
    expect(isMezanError(error, 'E_INVALID_OPTION')).toBe(true);
  });
});
