import fc from 'fast-check';
import { RateLimiter } from '../../src/internal/rate-limiter';

/**
 * Starts as often as a limiter of `limit` per `intervalMs` allows, `gaps` apart, checking it at each
 * step against a count of the recorded starts in the window.
 */
function agreesWithCounting(limit: number, intervalMs: number, gaps: readonly number[]): void {
  const limiter = new RateLimiter(limit, intervalMs);
  const starts: number[] = [];
  let now = 0;
  for (const gap of gaps) {
    now += gap;
    const inWindow = starts.filter((at) => at > now - intervalMs);
    expect(limiter.available(now)).toBe(limit - inWindow.length);
    if (inWindow.length < limit) {
      limiter.record(now);
      starts.push(now);
    } else expect(limiter.nextStartAt(now)).toBe(inWindow[0]! + intervalMs);
  }
}

describe('RateLimiter', () => {
  it('allows `limit` starts, then the next one `intervalMs` after the oldest of them', () => {
    const limiter = new RateLimiter(2, 100);
    expect(limiter.available(0)).toBe(2);
    limiter.record(0);
    limiter.record(40);
    expect(limiter.available(40)).toBe(0);
    expect(limiter.nextStartAt(40)).toBe(100);
    expect(limiter.available(99)).toBe(0);
    expect(limiter.available(100)).toBe(1);
    limiter.record(100);
    expect(limiter.nextStartAt(100)).toBe(140);
    expect(limiter.available(240)).toBe(2);
    expect(limiter.nextStartAt(240)).toBe(240);
  });

  it('agrees with counting the recorded starts in the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 60 }),
        agreesWithCounting,
      ),
      { seed: 5, numRuns: 300 },
    );
  });

  it('grows its ring with the starts in the window, past its first size, and agrees with counting them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 200 }),
        agreesWithCounting,
      ),
      { seed: 6, numRuns: 300 },
    );
  });

  it('allocates nothing per unit of a huge limit: 2^32 and Number.MAX_SAFE_INTEGER work like any other', () => {
    for (const limit of [2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const limiter = new RateLimiter(limit, 1000);
      for (let at = 0; at < 100; at++) limiter.record(at);
      expect(limiter.available(99)).toBe(limit - 100);
      expect(limiter.nextStartAt(99)).toBe(99);
      expect(limiter.available(1050)).toBe(limit - 49);
      expect(limiter.available(5000)).toBe(limit);
    }
  });
});
