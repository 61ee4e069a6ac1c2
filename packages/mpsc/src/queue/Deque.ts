/**
 * A FIFO of values on a growable power-of-two ring buffer: `push` and `shift` are O(1) and never
 * move the other elements (unlike `Array.prototype.shift` on a large array).
 *
 * @internal
 */
export class Deque<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;

  constructor(initialCapacity = 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = new Array<T | undefined>(capacity);
    this.#mask = capacity - 1;
  }

  /** The number of values held. */
  get length(): number {
    return this.#length;
  }

  /** Appends `value` at the back. */
  push(value: T): void {
    if (this.#length > this.#mask) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  /** Removes and returns the front value, `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const index = this.#head;
    const value = this.#items[index];
    this.#items[index] = undefined;
    this.#head = (index + 1) & this.#mask;
    this.#length--;
    return value;
  }

  /** The front value without removing it, `undefined` when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Moves up to `max` values from the front into `out` (appended), returns how many moved. */
  drainInto(out: T[], max: number): number {
    const count = Math.min(max, this.#length);
    const items = this.#items;
    const mask = this.#mask;
    let index = this.#head;
    for (let i = 0; i < count; i++) {
      out.push(items[index] as T);
      items[index] = undefined;
      index = (index + 1) & mask;
    }
    this.#head = index;
    this.#length -= count;
    return count;
  }

  /** Removes every value. */
  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const old = this.#items;
    const capacity = old.length * 2;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
