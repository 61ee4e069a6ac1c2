/**
 * The messages between `spawnNode` (main side) and the node's thread or process (worker side).
 * Both sides import this file; the thread topology carries requests as piscina tasks, the process
 * topology as IPC messages with the `id` below.
 * @internal
 */
import type { SerializedError } from '@switchyard/core';

/** Bumped whenever a message shape changes; both sides of one install always agree. */
export const PROTOCOL_VERSION = 1;

/**
 * Where a function lives in the module: `[exportName]` for an exported function,
 * `[exportName, member]` for a function member of an exported object (`'default'` included).
 */
export type CallPath = readonly [exportName: string] | readonly [exportName: string, member: string];

/** Asks the worker side to load the module and list what can be called. */
export interface DescribeRequest {
  kind: 'describe';
  version: number;
}

/** Calls one function of the module. */
export interface CallRequest {
  kind: 'call';
  version: number;
  path: CallPath;
  args: unknown[];
}

export type NodeRequest = DescribeRequest | CallRequest;

/** What can be called in the module, as found by the worker side. */
export interface ModuleShape {
  /** Exported functions (including a function `default` export). */
  functions: string[];
  /** Exported objects with function members (including an object `default` export), and those members. */
  namespaces: Array<[exportName: string, members: string[]]>;
}

/** The answer to any request. */
export type NodeResponse<T = unknown> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** A request as it travels over process IPC: the process topology matches answers by `id`. */
export interface IpcRequest {
  id: number;
  request: NodeRequest;
}

/** An answer as it travels over process IPC. */
export interface IpcResponse {
  id: number;
  response: NodeResponse;
}

/** What the thread is started with (piscina's `workerData`). */
export interface ThreadWorkerData {
  /** The module's `file:` URL. */
  url: string;
}

/** True when `value` looks like an {@link IpcRequest}. */
export function isIpcRequest(value: unknown): value is IpcRequest {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as IpcRequest).id === 'number' &&
    typeof (value as IpcRequest).request === 'object'
  );
}

/** True when `value` looks like an {@link IpcResponse}. */
export function isIpcResponse(value: unknown): value is IpcResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as IpcResponse).id === 'number' &&
    typeof (value as IpcResponse).response === 'object'
  );
}
