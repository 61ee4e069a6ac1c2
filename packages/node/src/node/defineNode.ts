import { InvalidArgumentError } from '@switchyard/core';
import type { nodeMembers } from '../types/brand.js';
import { Node } from './Node.js';

/**
 * What a module made by {@link defineNode} has besides its own members. The three are
 * non-enumerable, and only added when the factory's object does not define a member of that
 * name itself: a module may export its own `close`. `nodeOf(module)` always reaches them.
 */
export interface NodeControls extends AsyncDisposable {
  /** Ends the node's workers at once (see {@link Node.kill}). */
  kill(reason?: unknown): void;
  /** Lets the node's workers finish their tasks, then ends them (see {@link Node.close}). */
  close(): Promise<void>;
  /** Calls `close()`: `await using m = defineNode(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The module object {@link defineNode} returns: the factory's object `T` unchanged, plus the
 * {@link NodeControls} whose names `T` leaves free.
 *
 * @typeParam T - What the factory returned.
 */
export type NodeModule<T extends object> = T &
  Omit<NodeControls, keyof T> & {
    /** Type-only marker (never set at runtime) so that `spawnNode`'s types can tell `T`'s members from the controls. */
    readonly [nodeMembers]?: T;
  };

/** The function {@link defineNode} calls once, with the node, to build the module object. */
export type NodeFactory<T extends object> = (node: Node) => T;

const nodes = new WeakMap<object, Node>();

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') return 'a promise';
  return typeof value;
}

/**
 * Builds a node module: `factory` receives a fresh {@link Node}, creates its workers with
 * `node.workers(n)`, wraps functions with `worker.function(fn)` (each call then runs on that
 * worker, after the calls queued before it) and returns the module's members. Wrapped functions
 * keep their parameter types and return `Promise<Awaited<R>>`; other members pass through as
 * they are.
 *
 * The returned object is the factory's object itself, given non-enumerable `kill()`, `close()`
 * and `[Symbol.asyncDispose]()` (see {@link NodeControls}); `nodeOf(module)` returns the node.
 * If the factory throws, the workers it created are killed and the error is rethrown.
 *
 * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) when `factory` is not a function, or
 * does not return an extensible object that is not already a node module (a promise is
 * refused: the factory is synchronous).
 *
 * @example
 * ```ts
 * const math = defineNode((node) => {
 *   const [w] = node.workers(1);
 *   return { add: w.function((a: number, b: number) => a + b), version: 1 };
 * });
 * await math.add(10, 5); // 15, ran on w
 * math.version;          // 1
 * math.kill();
 * ```
 */
export function defineNode<T extends object>(factory: NodeFactory<T>): NodeModule<T> {
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(`Expected \`factory\` to be a function, got ${describeValue(factory)}.`);
  }
  const node = new Node();
  let members: T;
  try {
    members = factory(node);
  } catch (error) {
    node.kill(error);
    throw error;
  }
  const invalid =
    members === null || typeof members !== 'object' || typeof (members as { then?: unknown }).then === 'function'
      ? `got ${describeValue(members)}`
      : !Object.isExtensible(members)
        ? 'got a frozen, sealed or non-extensible object'
        : nodes.has(members)
          ? 'got an object that is already a node module'
          : undefined;
  if (invalid !== undefined) {
    node.kill();
    throw new InvalidArgumentError(
      `Expected \`factory\` to return an extensible object of the module's members, ${invalid}.`,
    );
  }
  const controls: Array<[PropertyKey, (...args: any[]) => unknown]> = [
    ['kill', (reason?: unknown): void => node.kill(reason)],
    ['close', (): Promise<void> => node.close()],
    [Symbol.asyncDispose, (): Promise<void> => node.close()],
  ];
  for (const [key, value] of controls) {
    if (!Object.hasOwn(members, key)) {
      Object.defineProperty(members, key, { value, enumerable: false, writable: true, configurable: true });
    }
  }
  nodes.set(members, node);
  return members as NodeModule<T>;
}

/**
 * The {@link Node} behind a module made by {@link defineNode} (or the node itself when given a
 * `Node` instance): its workers, `kill()`, `close()`, `signal`, `stats()`.
 *
 * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) when `module` is neither.
 */
export function nodeOf(module: object): Node {
  if (module instanceof Node) return module;
  const node = typeof module === 'object' && module !== null ? nodes.get(module) : undefined;
  if (node === undefined) {
    throw new InvalidArgumentError(
      `Expected \`module\` to be a module made by defineNode() or a Node, got ${describeValue(module)}.`,
    );
  }
  return node;
}
