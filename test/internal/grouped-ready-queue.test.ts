import { GroupedReadyQueue, type GroupedReadyItem } from '../../src/internal/grouped-ready-queue';

interface Item extends GroupedReadyItem {
  readonly name: string;
}

const item = (name: string, priority: number, group?: string): Item => ({ name, priority, group, queueTicket: -1 });

function names(queue: GroupedReadyQueue<Item>, allowed?: (group: string | undefined) => boolean): string[] {
  const popped: string[] = [];
  for (let next = queue.pop(allowed); next !== undefined; next = queue.pop(allowed)) popped.push(next.name);
  return popped;
}

describe('GroupedReadyQueue', () => {
  it('pops across groups by priority, then by arrival', () => {
    const queue = new GroupedReadyQueue<Item>();
    for (const each of [item('a', 0, 'x'), item('b', 0, 'y'), item('c', 1), item('d', 0, 'x'), item('e', 1, 'y')]) queue.push(each);
    expect(queue.size).toBe(5);
    expect(names(queue)).toEqual(['c', 'e', 'a', 'b', 'd']);
    expect(queue.size).toBe(0);
  });

  it('passes over the groups that may not start, and leaves their items in', () => {
    const queue = new GroupedReadyQueue<Item>();
    for (const each of [item('x1', 5, 'x'), item('y1', 1, 'y'), item('n1', 0), item('x2', 5, 'x')]) queue.push(each);
    expect(names(queue, (group) => group !== 'x')).toEqual(['y1', 'n1']);
    expect(queue.size).toBe(2);
    expect(queue.pop(() => false)).toBeUndefined();
    expect(names(queue)).toEqual(['x1', 'x2']);
  });

  it('removes an item from its group once', () => {
    const queue = new GroupedReadyQueue<Item>();
    const [a, b] = [item('a', 0, 'x'), item('b', 0, 'x')];
    queue.push(a);
    queue.push(b);
    expect(queue.remove(a)).toBe(true);
    expect(queue.remove(a)).toBe(false);
    expect(names(queue)).toEqual(['b']);
    expect(queue.remove(b)).toBe(false);
  });
});
