import { containRandom } from '../../../src/agents/bandit/contained-random';

describe('containRandom', () => {
  it('passes draws in [0, 1) through', () => {
    const values = [0, 0.25, 0.999];
    let index = 0;
    const random = containRandom(() => values[index++]!);
    expect([random(), random(), random()]).toEqual(values);
  });

  it.each<[string, () => number]>([
    [
      'a throw',
      () => {
        throw new Error('broken');
      },
    ],
    ['1', () => 1],
    ['a negative number', () => -0.5],
    ['NaN', () => NaN],
    ['a string', () => '0.5' as never],
    ['undefined', () => undefined as never],
  ])('counts %s as 0', (_name, broken) => {
    expect(containRandom(broken)()).toBe(0);
  });
});
