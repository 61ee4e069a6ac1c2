import { InvalidArgumentError } from '@switchyard/core';
import { Node } from './Node.js';

/** The type of a method `@onWorker` accepts and returns: one that already returns a promise. */
export type OnWorkerMethod<This, A extends unknown[], R> = (this: This, ...args: A) => Promise<R>;

/**
 * A standard (TC39) method decorator: every call of the decorated method is enqueued on the
 * node's worker `index` (see {@link Node.worker}), so calls to methods on the same worker run
 * one at a time, in call order, and the method resolves with what the body returned.
 *
 * The class must extend {@link Node}. The worker is created on first use when the node does not
 * have it yet. Once the node is killed or closed, calls reject with `WorkerKilledError`
 * (`ERR_WORKER_KILLED`).
 *
 * Declare decorated methods `async` (or with a `Promise` return type): a decorator cannot change
 * the type TypeScript gives a method, and a method that runs on a worker answers later, so the
 * compiler rejects `@onWorker` on a method whose declared return type is not a promise.
 *
 * Uses TypeScript 5 standard decorators: do not enable `experimentalDecorators`.
 *
 * @param index - The node's worker to run on, an integer >= 0.
 * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) when `index` is not an integer >= 0,
 * when it decorates something else than an instance method, and (at construction) when the
 * class does not extend `Node`.
 *
 * @example
 * ```ts
 * class Counter extends Node {
 *   #count = 0;
 *
 *   @onWorker(0)
 *   async increment(by: number): Promise<number> {
 *     return (this.#count += by);
 *   }
 * }
 * const counter = new Counter();
 * await Promise.all([counter.increment(1), counter.increment(2)]); // [1, 3]
 * counter.kill();
 * ```
 */
export function onWorker(index: number) {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new InvalidArgumentError(
      `Expected \`index\` to be an integer >= 0, got ${typeof index === 'number' ? String(index) : typeof index}.`,
    );
  }
  return function onWorkerDecorator<This extends Node, A extends unknown[], R>(
    method: OnWorkerMethod<This, A, R>,
    context: ClassMethodDecoratorContext<This, OnWorkerMethod<This, A, R>>,
  ): OnWorkerMethod<This, A, R> {
    const name = String(context.name);
    // Checked at runtime too, for JavaScript callers and casts.
    if ((context.kind as string) !== 'method' || context.static) {
      throw new InvalidArgumentError(
        `Expected @onWorker(${index}) to decorate an instance method, got ${context.static ? 'a static ' : 'a '}${context.kind as string} (${name}).`,
      );
    }
    // Each instance gets the method bound to it once, at construction, instead of a closure per call.
    const bound = new WeakMap<This, OnWorkerMethod<This, A, R>>();
    context.addInitializer(function (this: This) {
      if (!(this instanceof Node)) {
        throw new InvalidArgumentError(
          `@onWorker(${index}) decorates ${name}() of a class that does not extend Node; extend Node to give it workers.`,
        );
      }
      bound.set(this, method.bind(this) as OnWorkerMethod<This, A, R>);
    });
    const onWorkerMethod = function (this: This, ...args: A): Promise<R> {
      try {
        const run = bound.get(this) ?? (method.bind(this) as OnWorkerMethod<This, A, R>);
        return this.worker(index).enqueue(run, ...args) as Promise<R>;
      } catch (error) {
        return Promise.reject(error);
      }
    };
    Object.defineProperty(onWorkerMethod, 'name', { value: name, configurable: true });
    return onWorkerMethod;
  };
}
