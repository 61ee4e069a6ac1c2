import type { Node } from '../node/Node.js';
import type { nodeMembers } from './brand.js';

/** Any function. */
export type AnyFunction = (...args: any[]) => any;

/**
 * `F` as an asynchronous call: same parameters, result wrapped in a promise (`Promise<Awaited<R>>`,
 * so a function that already returns a promise is not wrapped twice). For overloaded functions
 * TypeScript keeps the last signature.
 */
export type Promisified<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/**
 * The members a remote call can reach on an exported object: the factory's members for a
 * `defineNode` module, the subclass's own members for a {@link Node} instance, the object
 * itself otherwise.
 */
export type CallableMembersOf<T> = T extends Node
  ? Omit<T, keyof Node>
  : T extends { readonly [nodeMembers]?: infer M }
    ? unknown extends M
      ? T
      : M
    : T;

type FunctionKeys<T> = { [K in keyof T]: K extends string ? (T[K] extends AnyFunction ? K : never) : never }[keyof T];

/** The function members of `T` (see {@link CallableMembersOf}), each as a {@link Promisified} call. */
export type RemoteFunctions<T> = { [K in FunctionKeys<CallableMembersOf<T>>]: Promisified<CallableMembersOf<T>[K]> };

type IsCallableObject<V> = V extends AnyFunction
  ? false
  : V extends object
    ? [FunctionKeys<CallableMembersOf<V>>] extends [never]
      ? false
      : true
    : false;

/** The module's named exports as the proxy shows them: functions become calls, objects with function members become namespaces of calls. */
export type RemoteNamedExports<M> = {
  [
    K in keyof M as K extends string
      ? M[K] extends AnyFunction
        ? K
        : K extends 'default'
          ? never
          : IsCallableObject<M[K]> extends true
            ? K
            : never
      : never
  ]: M[K] extends AnyFunction ? Promisified<M[K]> : RemoteFunctions<M[K]>;
};

/** The members of an object `default` export, which the proxy shows at its top level. */
export type RemoteDefaultMembers<M> = M extends { readonly default: infer D }
  ? D extends AnyFunction
    ? Record<never, never>
    : D extends object
      ? RemoteFunctions<D>
      : Record<never, never>
  : Record<never, never>;

/** What every proxy from `spawnNode` has besides the module's functions (non-enumerable; a module's own export of that name wins). */
export interface RemoteNodeControls extends AsyncDisposable {
  /** Ends the thread or process at once (see `RemoteNodeHandle.kill`). */
  kill(reason?: unknown): Promise<void>;
  /** Lets calls in flight finish, then ends the thread or process (see `RemoteNodeHandle.close`). */
  close(): Promise<void>;
  /** Calls `close()`: `await using mailer = await spawnNode(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/**
 * The typed proxy `spawnNode<M>()` returns for a module whose type is `M`
 * (`typeof import('./mailer.node.js')`):
 * - every exported function becomes an async call with the same parameters, resolving with
 *   `Awaited<R>`;
 * - an exported object that has function members (a `defineNode` module, a `Node` instance, a
 *   plain object of functions) becomes a namespace of such calls (`proxy.mailer.send()`);
 * - the function members of an object `default` export are also at the top level
 *   (`proxy.send()`), unless a named export has the same name;
 * - other exports (constants, objects without functions) are left out, and so is a top-level
 *   `then` (it would make the proxy look like a promise to `await`);
 * - plus `kill()`, `close()` and `[Symbol.asyncDispose]()` where the module leaves those names free.
 */
export type RemoteNode<M> = Flatten<
  Omit<Omit<RemoteDefaultMembers<M>, keyof RemoteNamedExports<M>> & RemoteNamedExports<M>, 'then'>
> &
  Omit<RemoteNodeControls, keyof RemoteNamedExports<M> | keyof RemoteDefaultMembers<M>>;
