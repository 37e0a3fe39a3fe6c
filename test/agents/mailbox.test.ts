import fc from 'fast-check';
import { Mailbox } from '../../src/agents/mailbox';

interface Item {
  readonly id: number;
}

type Operation =
  { readonly kind: 'push' } | { readonly kind: 'shift' } | { readonly kind: 'remove'; readonly pick: number } | { readonly kind: 'drain' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { arbitrary: fc.constant<Operation>({ kind: 'push' }), weight: 6 },
  { arbitrary: fc.constant<Operation>({ kind: 'shift' }), weight: 3 },
  { arbitrary: fc.nat(1_000).map((pick): Operation => ({ kind: 'remove', pick })), weight: 3 },
  { arbitrary: fc.constant<Operation>({ kind: 'drain' }), weight: 1 },
);

describe('Mailbox', () => {
  it('behaves as a FIFO list with removal by id, under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(operation, { maxLength: 400 }), (capacity, operations) => {
        const mailbox = new Mailbox<Item>(capacity);
        const model: Item[] = [];
        let nextId = 1;
        for (const op of operations) {
          switch (op.kind) {
            case 'push':
              if (model.length >= capacity) {
                expect(mailbox.isFull).toBe(true);
                break;
              }
              expect(mailbox.isFull).toBe(false);
              model.push({ id: nextId });
              mailbox.push(model[model.length - 1]!);
              nextId++;
              break;
            case 'shift':
              expect(mailbox.shift()).toBe(model.shift());
              break;
            case 'remove': {
              // Ids from 1 to one past the last: waiting, already taken, or never pushed.
              const id = (op.pick % nextId) + 1;
              const index = model.findIndex((item) => item.id === id);
              const expected = index === -1 ? undefined : model.splice(index, 1)[0];
              expect(mailbox.remove(id)).toBe(expected);
              break;
            }
            case 'drain':
              expect(mailbox.drain()).toEqual(model.splice(0));
              break;
          }
          expect(mailbox.size).toBe(model.length);
        }
        expect(mailbox.drain()).toEqual(model);
        expect(mailbox.size).toBe(0);
        expect(mailbox.shift()).toBeUndefined();
      }),
      { seed: 0x6d6278, numRuns: 300 },
    );
  });

  it('keeps order over 100,000 items with every third withdrawn, and is empty and reusable after', () => {
    const mailbox = new Mailbox<Item>(100_000);
    for (let id = 1; id <= 100_000; id++) mailbox.push({ id });
    for (let id = 3; id <= 100_000; id += 3) expect(mailbox.remove(id)?.id).toBe(id);
    const taken: number[] = [];
    for (let item = mailbox.shift(); item !== undefined; item = mailbox.shift()) taken.push(item.id);
    expect(taken).toHaveLength(100_000 - 33_333);
    expect(taken.every((id, index) => id % 3 !== 0 && (index === 0 || id > taken[index - 1]!))).toBe(true);
    mailbox.push({ id: 200_001 });
    expect(mailbox.size).toBe(1);
    expect(mailbox.shift()?.id).toBe(200_001);
  });

  it('answers nothing for an id withdrawn twice, or taken already', () => {
    const mailbox = new Mailbox<Item>(4);
    mailbox.push({ id: 1 });
    mailbox.push({ id: 2 });
    expect(mailbox.remove(2)?.id).toBe(2);
    expect(mailbox.remove(2)).toBeUndefined();
    expect(mailbox.shift()?.id).toBe(1);
    expect(mailbox.remove(1)).toBeUndefined();
    expect(mailbox.shift()).toBeUndefined();
  });
});
