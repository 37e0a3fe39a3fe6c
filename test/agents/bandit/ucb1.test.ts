import type { ArmTally } from '../../../src/agents/bandit/bandit-policy';
import { ucb1Policy } from '../../../src/agents/bandit/ucb1';

const tally = (pulls: number, rewardSum: number, rewarded = pulls): ArmTally => ({ pulls, rewarded, rewardSum });

describe('ucb1Policy', () => {
  it('plays each arm once, in order, before it compares them', () => {
    const policy = ucb1Policy();
    expect(policy.choose([tally(0, 0), tally(0, 0), tally(0, 0)])).toBe(0);
    expect(policy.choose([tally(1, 1), tally(0, 0), tally(0, 0)])).toBe(1);
    expect(policy.choose([tally(1, 1), tally(1, 1), tally(0, 0)])).toBe(2);
  });

  it('chooses the arm with the highest mean plus sqrt(2 ln n / nᵢ)', () => {
    // n = 20. Arm 0: 0.9 + sqrt(2 ln 20 / 10) = 1.674; arm 1: 0.5 + sqrt(2 ln 20 / 2) = 2.231; arm 2: 0.25 + sqrt(2 ln 20 / 8) = 1.116.
    expect(ucb1Policy().choose([tally(10, 9), tally(2, 1), tally(8, 2)])).toBe(1);
    // n = 300. Arm 0: 0.9 + sqrt(2 ln 300 / 200) = 1.139; arm 1: 0.5 + sqrt(2 ln 300 / 20) = 1.255; arm 2: 0.4 + sqrt(2 ln 300 / 80) = 0.778.
    expect(ucb1Policy().choose([tally(200, 180), tally(20, 10), tally(80, 32)])).toBe(1);
    // n = 1,300. Arm 0: 0.9 + sqrt(2 ln 1300 / 1000) = 1.020; arm 1: 0.5 + sqrt(2 ln 1300 / 100) = 0.879.
    expect(ucb1Policy().choose([tally(1000, 900), tally(100, 50), tally(200, 80)])).toBe(0);
  });

  it('breaks ties by the lowest index', () => {
    expect(ucb1Policy().choose([tally(5, 2), tally(5, 4), tally(5, 4)])).toBe(1);
    expect(ucb1Policy().choose([tally(3, 3), tally(3, 3)])).toBe(0);
  });

  it('counts a pull awaiting its reward, and values an arm with none recorded at 1', () => {
    // Arm 1 has a pull in flight and no reward: 1 + sqrt(2 ln 11 / 1) = 3.19 beats arm 0's 1 + sqrt(2 ln 11 / 10) = 1.69.
    expect(ucb1Policy().choose([tally(10, 10), tally(1, 0, 0)])).toBe(1);
    // Pending pulls shrink the bonus: with 30 in flight, arm 1's 1 + sqrt(2 ln 50 / 30) = 1.51 beats arm 0's
    // 0.8 + sqrt(2 ln 50 / 20) = 1.43; with 200 in flight, its 1 + sqrt(2 ln 220 / 200) = 1.23 loses to 1.53.
    expect(ucb1Policy().choose([tally(20, 16), tally(30, 0, 0)])).toBe(1);
    expect(ucb1Policy().choose([tally(20, 16), tally(200, 0, 0)])).toBe(0);
  });
});
