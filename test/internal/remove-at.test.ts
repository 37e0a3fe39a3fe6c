import { removeAt } from '../../src/internal/remove-at';

describe('removeAt', () => {
  it.each([0, 1, 2, 3])('removes the item at %i as splice does, keeping the order', (index) => {
    const list = ['a', 'b', 'c', 'd'];
    const expected = [...list];
    expected.splice(index, 1);
    removeAt(list, index);
    expect(list).toEqual(expected);
  });

  it.each([-1, 4, 10])('changes nothing for the index %i, out of range', (index) => {
    const list = ['a', 'b', 'c', 'd'];
    removeAt(list, index);
    expect(list).toEqual(['a', 'b', 'c', 'd']);
  });
});
