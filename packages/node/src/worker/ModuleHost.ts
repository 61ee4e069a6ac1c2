import { ProtocolError, serializeError, whyNotCloneable } from '@switchyard/core';
import { NodeFunctionNotFoundError, NodeModuleLoadError, NodeResultNotCloneableError } from '../errors/errors.js';
import type { CallPath, ModuleShape, NodeRequest, NodeResponse } from '../protocol/protocol.js';
import { PROTOCOL_VERSION } from '../protocol/protocol.js';

type ModuleNamespace = Record<string, unknown>;

/** The marker `Node.prototype` carries (see `Node`). */
const NODE_PROTOTYPE = Symbol.for('switchyard.node.prototype');

/**
 * The function members a remote call may reach on `object`: its own enumerable string-keyed
 * function properties, then the methods of its prototype chain up to (not including)
 * `Object.prototype`, `Function.prototype` and `Node.prototype` (of any copy of this package);
 * accessors are never read.
 */
export function callableMembers(object: object): string[] {
  const names = new Set<string>();
  for (const key of Object.keys(object)) {
    const descriptor = Object.getOwnPropertyDescriptor(object, key);
    if (descriptor !== undefined && 'value' in descriptor && typeof descriptor.value === 'function') names.add(key);
  }
  for (
    let proto = Object.getPrototypeOf(object) as object | null;
    proto !== null &&
    proto !== Object.prototype &&
    proto !== Function.prototype &&
    !Object.hasOwn(proto, NODE_PROTOTYPE);
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || names.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (descriptor !== undefined && 'value' in descriptor && typeof descriptor.value === 'function') names.add(key);
    }
  }
  return [...names];
}

function pathName(path: CallPath): string {
  return path.length === 1 ? `${path[0]}()` : `${path[0] === 'default' ? '' : `${path[0]}.`}${path[1]}()`;
}

/**
 * The worker side of a spawned node: loads the module once, describes what can be called and
 * runs calls, answering every request with a {@link NodeResponse} (errors serialized with core's
 * `serializeError`, so the main side rebuilds them as their own classes).
 * @internal
 */
export class ModuleHost {
  readonly #url: string;
  #module: Promise<ModuleNamespace> | undefined;
  #loaded: ModuleNamespace | undefined;
  /** The callable members of each exported object, listed once (and again on a miss). */
  readonly #members = new WeakMap<object, Set<string>>();

  constructor(url: string) {
    this.#url = url;
  }

  /** Answers one request; never rejects. */
  async handle(request: unknown): Promise<NodeResponse> {
    try {
      return { ok: true, value: await this.#dispatch(request) };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  }

  async #dispatch(request: unknown): Promise<unknown> {
    const message = request as Partial<NodeRequest> | null;
    if (typeof message !== 'object' || message === null || message.version !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        `Expected a request of protocol version ${PROTOCOL_VERSION}, got ${JSON.stringify(message?.version ?? null)}.`,
      );
    }
    switch (message.kind) {
      case 'describe':
        return this.#describe();
      case 'call':
        return this.#call(message.path!, message.args!);
      default:
        throw new ProtocolError(`Unknown request kind ${JSON.stringify(message.kind)}.`);
    }
  }

  #load(): Promise<ModuleNamespace> {
    this.#module ??= (import(this.#url) as Promise<ModuleNamespace>).then(
      (module) => (this.#loaded = module),
      (error: unknown) => {
        throw new NodeModuleLoadError(
          `Could not load the node module ${this.#url}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      },
    );
    return this.#module;
  }

  #isCallableMember(target: object, member: string): boolean {
    let members = this.#members.get(target);
    if (members?.has(member)) return true;
    members = new Set(callableMembers(target));
    this.#members.set(target, members);
    return members.has(member);
  }

  async #describe(): Promise<ModuleShape> {
    const module = await this.#load();
    const shape: ModuleShape = { functions: [], namespaces: [] };
    for (const name of Object.keys(module)) {
      const value = module[name];
      if (typeof value === 'function') shape.functions.push(name);
      else if (typeof value === 'object' && value !== null) {
        const members = callableMembers(value);
        if (members.length > 0) shape.namespaces.push([name, members]);
      }
    }
    return shape;
  }

  async #call(path: CallPath, args: unknown[]): Promise<unknown> {
    if (
      !Array.isArray(path) ||
      !Array.isArray(args) ||
      path.length < 1 ||
      path.length > 2 ||
      !path.every((part) => typeof part === 'string')
    ) {
      throw new ProtocolError('Expected a call request with a path of one or two names and an array of arguments.');
    }
    const module = this.#loaded ?? (await this.#load());
    const [exportName, member] = path;
    let target: unknown;
    let fn: unknown = module[exportName];
    if (member !== undefined) {
      target = fn;
      fn =
        typeof target === 'object' && target !== null && this.#isCallableMember(target, member)
          ? (target as Record<string, unknown>)[member]
          : undefined;
    }
    if (typeof fn !== 'function') {
      throw new NodeFunctionNotFoundError(
        `${pathName(path)} is not a function of the node module ${this.#url} (anymore).`,
      );
    }
    const result: unknown = await Reflect.apply(fn, target, args);
    const why = whyNotCloneable(result);
    if (why !== undefined) {
      throw new NodeResultNotCloneableError(
        `The result of ${pathName(path)} cannot be sent back from the node: ${why.replace(/^the value/, 'it')}. Return plain data (structured-cloneable values).`,
      );
    }
    return result;
  }
}
