/** A task an {@link TaskIndex} can hold: its id, and its number when the engine made the id. */
export interface IndexedTask {
  readonly id: string;
  /** `n` for an id the engine made (`task-<n>`); `undefined` (or negative) for a caller's id. */
  readonly autoNumber?: number;
}

/** The prefix of the ids the engine makes. */
export const AUTO_ID_PREFIX = 'task-';

const ZERO = 48;

/** Above this many empty slots at its head, and half its length, the window is compacted. */
const COMPACT_AFTER = 1024;

/**
 * Unfinished tasks by id. Tasks the engine named (`task-<n>`, numbered in submission order) sit in
 * a sliding window of an array indexed by number: adding and removing one is an array store, not
 * a hash-table insert and delete, and the window holds only the span from the oldest unfinished
 * task to the newest. Tasks the caller named, and the rare engine-named task that arrives behind
 * the window, go in a `Map`.
 *
 * @internal
 */
export class TaskIndex<T extends IndexedTask> {
  /** The window: `#slots[i]` holds the task numbered `#base + i - #head`, or `undefined`. */
  #slots: Array<T | undefined> = [];
  #head = 0;
  #base = 0;
  readonly #named = new Map<string, T>();
  #size = 0;

  /** How many tasks it holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds a task; its id must not be in already. */
  add(task: T): void {
    this.#size++;
    const number = task.autoNumber;
    if (number !== undefined && number >= 0 && this.#slots.length === this.#head) {
      // An empty window starts at this task, at the end of the slots so far: an idle engine opens one
      // for every task, and a new list each time would cost more than the rest of the index's work.
      this.#head = this.#slots.length;
      this.#base = number;
    } else if (number === undefined || number < this.#base) {
      this.#named.set(task.id, task);
      return;
    }
    const index = this.#head + (number - this.#base);
    while (this.#slots.length < index) this.#slots.push(undefined);
    this.#slots[index] = task;
  }

  /** Removes a task. @returns `false` when it was not in */
  delete(task: T): boolean {
    const number = task.autoNumber;
    if (number !== undefined && number >= this.#base && this.#slots[this.#head + (number - this.#base)] === task) {
      const index = this.#head + (number - this.#base);
      this.#slots[index] = undefined;
      this.#size--;
      this.#advance();
      return true;
    }
    if (this.#named.get(task.id) !== task) return false;
    this.#named.delete(task.id);
    this.#size--;
    return true;
  }

  /** The task with this id, if it is in. */
  get(id: string): T | undefined {
    const number = autoNumberOf(id);
    if (number !== undefined && number >= this.#base) {
      const task = this.#slots[this.#head + (number - this.#base)];
      if (task !== undefined && task.id === id) return task;
    }
    return this.#named.size === 0 ? undefined : this.#named.get(id);
  }

  /**
   * Whether a task the caller named holds the id the engine would make for `number` (`task-<number>`):
   * the string is made only while the caller's ids are in.
   */
  hasNamedAuto(number: number): boolean {
    return this.#named.size > 0 && this.#named.has(`${AUTO_ID_PREFIX}${number}`);
  }

  /** Whether a task with this id is in. */
  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Every task it holds, window first. */
  *values(): IterableIterator<T> {
    for (let i = this.#head; i < this.#slots.length; i++) {
      const task = this.#slots[i];
      if (task !== undefined) yield task;
    }
    yield* this.#named.values();
  }

  #advance(): void {
    const slots = this.#slots;
    let head = this.#head;
    while (head < slots.length && slots[head] === undefined) head++;
    this.#base += head - this.#head;
    this.#head = head;
    if (head === slots.length) {
      // Empty: the slots are kept for the next window unless they have grown long.
      if (head > COMPACT_AFTER) {
        this.#slots = [];
        this.#head = 0;
      }
    } else if (head > COMPACT_AFTER && head * 2 > slots.length) {
      this.#slots = slots.slice(head);
      this.#head = 0;
    }
  }
}

/**
 * The number of an id the engine made, `task-<n>` with `n` written as the engine writes it; `undefined` for any other id.
 * @internal
 */
export function autoNumberOf(id: string): number | undefined {
  const start = AUTO_ID_PREFIX.length;
  const length = id.length;
  // Up to 15 digits: every such number is a safe integer. Read by hand: this runs for every task.
  if (length <= start || length > start + 15 || !id.startsWith(AUTO_ID_PREFIX)) return undefined;
  if (id.charCodeAt(start) === ZERO && length > start + 1) return undefined;
  let number = 0;
  for (let i = start; i < length; i++) {
    const digit = id.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return undefined;
    number = number * 10 + digit;
  }
  return number;
}
