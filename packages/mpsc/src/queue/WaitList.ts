/** One entry of a {@link WaitList}; keep it to remove the entry in O(1). @internal */
export interface WaitNode<T> {
  readonly value: T;
  prev: WaitNode<T> | undefined;
  next: WaitNode<T> | undefined;
  linked: boolean;
}

/**
 * A FIFO of waiters (senders waiting for room) that can drop any entry in O(1), so that a waiter
 * whose timeout fires or whose signal aborts leaves no trace.
 *
 * @internal
 */
export class WaitList<T> {
  #first: WaitNode<T> | undefined;
  #last: WaitNode<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The oldest waiter, `undefined` when there is none. */
  get first(): T | undefined {
    return this.#first?.value;
  }

  push(value: T): WaitNode<T> {
    const node: WaitNode<T> = { value, prev: this.#last, next: undefined, linked: true };
    if (this.#last === undefined) this.#first = node;
    else this.#last.next = node;
    this.#last = node;
    this.#size++;
    return node;
  }

  shift(): T | undefined {
    const node = this.#first;
    if (node === undefined) return undefined;
    this.remove(node);
    return node.value;
  }

  /** Unlinks `node`; a no-op when it was already removed. */
  remove(node: WaitNode<T>): void {
    if (!node.linked) return;
    node.linked = false;
    if (node.prev === undefined) this.#first = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#last = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
  }
}
