import fc from 'fast-check';
import { ChurnMap } from '../../src/internal/churn-map';

describe('ChurnMap', () => {
  it('behaves as a Map through any sequence of sets and deletes, renewals included', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 600 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 600 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 3_000 }), (operations) => {
        const churn = new ChurnMap<number, number>();
        const reference = new Map<number, number>();
        for (const step of operations) {
          if (step.kind === 'set') {
            expect(churn.set(step.key, step.value)).toBe(churn);
            reference.set(step.key, step.value);
          } else expect(churn.delete(step.key)).toBe(reference.delete(step.key));
          expect(churn.size).toBe(reference.size);
        }
        expect([...churn]).toEqual([...reference]);
        expect([...churn.entries()]).toEqual([...reference.entries()]);
        expect([...churn.keys()]).toEqual([...reference.keys()]);
        expect([...churn.values()]).toEqual([...reference.values()]);
        for (let key = 0; key <= 600; key++) {
          expect(churn.has(key)).toBe(reference.has(key));
          expect(churn.get(key)).toBe(reference.get(key));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the insertion order across many renewals', () => {
    const churn = new ChurnMap<string, number>();
    for (let round = 0; round < 10_000; round++) {
      churn.set(`k${round}`, round);
      if (round >= 3) churn.delete(`k${round - 3}`);
    }
    expect([...churn.keys()]).toEqual(['k9997', 'k9998', 'k9999']);
  });
});
