import { InvalidArgumentError } from '@switchyard/core';
import { Queue } from './Queue.js';
import { validateLimit } from './validateLimit.js';

const queues = new Map<string, Queue<unknown>>();

/**
 * Returns the queue called `name`, creating it on the first call: unbounded without `limit`,
 * bounded to `limit` values with one. Later calls with the same name return the original queue
 * and ignore their `limit` (it is still validated). Names are per thread: to send from another
 * thread, use `queue.producer()` and `connect()`.
 *
 * @throws {InvalidLimitError} when `limit` is given and is not a positive integer.
 * @example
 * ```ts
 * const queue = define<string>('emails', 1000);
 * await queue.send('hello');
 * const batch = await queue.recvMany(128);
 * ```
 */
export function define<T>(name: string, limit?: number): Queue<T> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(
      `Expected \`name\` to be a non-empty string, got ${typeof name === 'string' ? 'an empty string' : typeof name}.`,
    );
  }
  if (limit !== undefined) validateLimit(limit, 'limit');
  let queue = queues.get(name);
  if (queue === undefined) {
    queue = new Queue<unknown>(name, limit);
    queues.set(name, queue);
  }
  return queue as Queue<T>;
}

/**
 * Closes the queue called `name` (see `queue.close()`) and forgets it, so that the next
 * {@link define} creates a new one. For tests and hot reload. Returns whether it existed.
 */
export function undefine(name: string): boolean {
  const queue = queues.get(name);
  if (queue === undefined) return false;
  queues.delete(name);
  queue.close();
  return true;
}
