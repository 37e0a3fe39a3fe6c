import { ScratchList } from '../../src/internal/scratch-list';

describe('ScratchList', () => {
  it('holds what was pushed, in order, until cleared, and can be filled again', () => {
    const list = new ScratchList<string>();
    for (let round = 0; round < 3; round++) {
      expect(list.length).toBe(0);
      for (const item of ['a', 'b', 'c']) list.push(`${item}${round}`);
      expect(list.length).toBe(3);
      expect([list.at(0), list.at(1), list.at(2)]).toEqual([`a${round}`, `b${round}`, `c${round}`]);
      expect(list.toArray()).toEqual([`a${round}`, `b${round}`, `c${round}`]);
      expect(list.indexOf(`b${round}`)).toBe(1);
      list.set(1, 'x');
      expect(list.toArray()).toEqual([`a${round}`, 'x', `c${round}`]);
      list.clear();
      expect(list.toArray()).toEqual([]);
    }
  });

  it('finds nothing past its length, even in the storage it kept', () => {
    const list = new ScratchList<number>();
    list.push(1);
    list.push(2);
    list.clear();
    list.push(3);
    expect(list.indexOf(2)).toBe(-1);
    expect(list.indexOf(3)).toBe(0);
    expect(list.toArray()).toEqual([3]);
  });
});
