/**
 * A double-ended queue on a growable ring buffer: O(1) push, shift and pop at any size
 * (an `Array.shift` is O(n) once V8 leaves its fast path), O(n) removal in the middle.
 * @internal
 */
export class Deque<T> {
  #items: Array<T | undefined>;
  #head = 0;
  #length = 0;
  #mask: number;

  constructor(initialCapacity = 16) {
    let capacity = 2;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = new Array<T | undefined>(capacity);
    this.#mask = capacity - 1;
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return item;
  }

  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    const index = (this.#head + this.#length - 1) & this.#mask;
    const item = this.#items[index];
    this.#items[index] = undefined;
    this.#length--;
    return item;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & this.#mask];
  }

  /** Removes and returns the item at `index` (0 is the oldest), shifting the later ones. */
  removeAt(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    if (index === this.#length - 1) return this.pop();
    if (index === 0) return this.shift();
    const item = this.at(index);
    for (let i = index; i < this.#length - 1; i++) {
      this.#items[(this.#head + i) & this.#mask] = this.#items[(this.#head + i + 1) & this.#mask];
    }
    this.#items[(this.#head + this.#length - 1) & this.#mask] = undefined;
    this.#length--;
    return item;
  }

  /** Removes every item and returns them, oldest first. */
  drain(): T[] {
    const out = this.toArray();
    this.#items = new Array<T | undefined>(16);
    this.#mask = 15;
    this.#head = 0;
    this.#length = 0;
    return out;
  }

  toArray(): T[] {
    const out = new Array<T>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#items[(this.#head + i) & this.#mask] as T;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & this.#mask] as T;
  }

  #grow(): void {
    const items = this.toArray() as Array<T | undefined>;
    const capacity = this.#items.length * 2;
    items.length = capacity;
    this.#items = items;
    this.#head = 0;
    this.#mask = capacity - 1;
  }
}
