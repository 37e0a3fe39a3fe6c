import fc from 'fast-check';
import { isMezanError } from '../../src/errors';
import { chooseVictim, DEADLOCK_POLICY_NAMES, type DeadlockCandidate, type DeadlockPolicy } from '../../src/detection/deadlock-policy';

const candidate = (taskId: string, fields: Partial<Omit<DeadlockCandidate, 'taskId'>> = {}): DeadlockCandidate => ({
  taskId,
  submittedSeq: 0,
  priority: 0,
  workMs: 0,
  resourcesHeld: 1,
  ...fields,
});

function expectInvalid(action: () => unknown): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(isMezanError(thrown, 'E_INVALID_OPTION')).toBe(true);
}

describe('chooseVictim', () => {
  const candidates = [
    candidate('old-busy', { submittedSeq: 1, priority: 5, workMs: 900, resourcesHeld: 4 }),
    candidate('young-idle', { submittedSeq: 9, priority: 3, workMs: 40, resourcesHeld: 2 }),
    candidate('mid-low', { submittedSeq: 5, priority: -2, workMs: 300, resourcesHeld: 3 }),
    candidate('mid-light', { submittedSeq: 4, priority: 8, workMs: 10, resourcesHeld: 1 }),
  ];

  it.each([
    ['youngest', 'young-idle'],
    ['lowest-priority', 'mid-low'],
    ['least-work', 'mid-light'],
    ['fewest-resources', 'mid-light'],
  ] as const)('%s picks %s', (policy, victim) => {
    expect(chooseVictim(policy, candidates)).toBe(victim);
    expect(chooseVictim(policy, [...candidates].reverse())).toBe(victim);
  });

  it.each(['lowest-priority', 'least-work', 'fewest-resources'] as const)('%s breaks ties by the youngest, then the smallest task id', (policy) => {
    const tied = [
      candidate('b', { submittedSeq: 3 }),
      candidate('older', { submittedSeq: 2 }),
      candidate('a', { submittedSeq: 3 }),
      candidate('c', { submittedSeq: 3 }),
    ];
    expect(chooseVictim(policy, tied)).toBe('a');
    expect(chooseVictim(policy, tied.slice(1).reverse())).toBe('a');
    expect(chooseVictim(policy, [tied[1]!, tied[0]!])).toBe('b');
  });

  it('youngest breaks a tie of submission order by the smallest task id', () => {
    expect(chooseVictim('youngest', [candidate('z', { submittedSeq: 7 }), candidate('y', { submittedSeq: 7 })])).toBe('y');
  });

  it('returns the only candidate', () => {
    for (const policy of DEADLOCK_POLICY_NAMES) expect(chooseVictim(policy, [candidate('only')])).toBe('only');
  });

  it('passes a policy function the candidates sorted by task id and frozen', () => {
    let seen: readonly DeadlockCandidate[] = [];
    const victim = chooseVictim((all) => {
      seen = all;
      return all[all.length - 1]!.taskId;
    }, candidates);
    expect(victim).toBe('young-idle');
    expect(seen.map((c) => c.taskId)).toEqual(['mid-light', 'mid-low', 'old-busy', 'young-idle']);
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen(seen[0])).toBe(true);
  });

  it('refuses a policy function that returns an id outside the candidates', () => {
    expectInvalid(() => chooseVictim(() => 'someone-else', candidates));
    expectInvalid(() => chooseVictim((() => undefined) as unknown as DeadlockPolicy, candidates));
  });

  it('lets an error thrown by a policy function through', () => {
    const failure = new Error('policy failed');
    expect(() =>
      chooseVictim(() => {
        throw failure;
      }, candidates),
    ).toThrow(failure);
  });

  it.each([
    ['an unknown policy name', () => chooseVictim('oldest' as DeadlockPolicy, candidates)],
    ['a policy of the wrong type', () => chooseVictim(3 as unknown as DeadlockPolicy, candidates)],
    ['no candidates', () => chooseVictim('youngest', [])],
  ])('refuses %s with E_INVALID_OPTION', (_, action) => {
    expectInvalid(action);
  });

  it('picks, for every named policy, a candidate that no other beats on (key, younger, smaller id), whatever the order', () => {
    const keyOf: Record<(typeof DEADLOCK_POLICY_NAMES)[number], (c: DeadlockCandidate) => number> = {
      youngest: () => 0,
      'lowest-priority': (c) => c.priority,
      'least-work': (c) => c.workMs,
      'fewest-resources': (c) => c.resourcesHeld,
    };
    const arbitraryCandidates = fc.uniqueArray(
      fc.record({
        taskId: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'),
        submittedSeq: fc.integer({ min: 0, max: 4 }),
        priority: fc.integer({ min: -2, max: 2 }),
        workMs: fc.integer({ min: 0, max: 3 }),
        resourcesHeld: fc.integer({ min: 0, max: 3 }),
      }),
      { selector: (c) => c.taskId, minLength: 1, maxLength: 7 },
    );
    fc.assert(
      fc.property(arbitraryCandidates, fc.constantFrom(...DEADLOCK_POLICY_NAMES), (all, policy) => {
        const rank = (c: DeadlockCandidate) => [keyOf[policy](c), -c.submittedSeq] as const;
        const expected = [...all].sort((x, y) => {
          const [kx, sx] = rank(x);
          const [ky, sy] = rank(y);
          return kx - ky || sx - sy || (x.taskId < y.taskId ? -1 : 1);
        })[0]!.taskId;
        expect(chooseVictim(policy, all)).toBe(expected);
        expect(chooseVictim(policy, [...all].reverse())).toBe(expected);
      }),
      { seed: 11, numRuns: 500 },
    );
  });
});
