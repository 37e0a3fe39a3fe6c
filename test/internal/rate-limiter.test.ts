import fc from 'fast-check';
import { RateLimiter } from '../../src/internal/rate-limiter';

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
        (limit, intervalMs, gaps) => {
          const limiter = new RateLimiter(limit, intervalMs);
          const starts: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const inWindow = starts.filter((at) => at > now - intervalMs).length;
            expect(limiter.available(now)).toBe(limit - inWindow);
            if (inWindow < limit) {
              limiter.record(now);
              starts.push(now);
            } else {
              const oldest = starts.filter((at) => at > now - intervalMs)[0]!;
              expect(limiter.nextStartAt(now)).toBe(oldest + intervalMs);
            }
          }
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });
});
